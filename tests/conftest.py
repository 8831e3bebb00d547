"""Shared fixtures: the sample web in a subprocess (port 0), one real crawl of it, and the
PostgreSQL and Redis servers of the session (a fresh database per test, an empty Redis).

The markers come from the folder: a test under tests/unit/ is ``unit`` (in-process and
fast: ``make test-fast`` runs them), one under tests/integration/ is ``integration``.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.support.backends import ON_POSTGRESQL, store_tests_only
from tests.support.cli import run_cli
from tests.support.crawls import Archived, Crawl, SampleWebProcess
from tests.support.env import REPO, unavailable
from tests.support.pgserver import PgServer, find_bindir
from tests.support.redisserver import RedisServer

TESTS = Path(__file__).resolve().parent
KINDS = ("unit", "integration")
#: fixtures that start a server or a crawl: an integration test's, never a unit test's
SERVER_FIXTURES = frozenset(
    {"sample_web", "crawled", "archived", "pg_server", "pg_url", "redis_server", "redis_url"}
)


# -- markers by folder ----------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``unit`` or ``integration`` by the folder under tests/. A test elsewhere in tests/,
    or a unit test that asks for a server, is an error: ``-m unit`` must miss nothing and
    run nothing slow."""
    for item in items:
        path = item.path.resolve()
        if not path.is_relative_to(TESTS):
            continue
        kind = path.relative_to(TESTS).parts[0]
        if kind not in KINDS:
            raise pytest.UsageError(
                f"{item.nodeid}: a test belongs under tests/unit/ or tests/integration/"
            )
        if kind == "unit" and (
            servers := SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        ):
            raise pytest.UsageError(
                f"{item.nodeid} uses {', '.join(sorted(servers))}: "
                "a test that needs a server belongs under tests/integration/"
            )
        item.add_marker(kind)


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Collector, name: str, obj: object
) -> Generator[None, object, object]:
    """In a module that runs unit tests again on PostgreSQL (tests/support/backends.py),
    only the tests that use the store."""
    result = yield
    if getattr(getattr(collector, "module", None), ON_POSTGRESQL, None):
        return store_tests_only(result)
    return result


# -- the sample web and crawls of it ----------------------------------------------------------


@pytest.fixture(scope="session")
def sample_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleWebProcess]:
    """``python -m sampleweb --port 0``; its URL is the first line it prints."""
    folder = tmp_path_factory.mktemp("sampleweb")
    sites_dir, log = folder / "sites", folder / "access.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sampleweb", "--port", "0",
         "--write-sites", str(sites_dir), "--access-log", str(log)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), f"unexpected first line {url!r}"
        site_ids = sorted(p.stem for p in sites_dir.glob("*.toml"))
        yield SampleWebProcess(url, sites_dir, log, site_ids)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def crawled(sample_web: SampleWebProcess, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    """One full crawl of every sample newspaper into a fresh SQLite file."""
    db = tmp_path_factory.mktemp("store") / "aggregator.db"
    result = run_cli(
        "crawl", *sample_web.site_ids, "--db", str(db), "--sites-dir", str(sample_web.sites_dir)
    )
    return Crawl(sample_web, db, result.stdout, result.stderr)


@pytest.fixture(scope="session")
def archived(sample_web: SampleWebProcess, tmp_path_factory: pytest.TempPathFactory) -> Archived:
    """A crawl of the whole sample web with WARC capture."""
    folder = tmp_path_factory.mktemp("archived")
    db, warc_dir = folder / "crawled.db", folder / "warc"
    run_cli("crawl", *sample_web.site_ids, "--db", str(db),
            "--sites-dir", str(sample_web.sites_dir), "--warc", str(warc_dir))  # fmt: skip
    return Archived(db, warc_dir, sample_web)


# -- PostgreSQL: a real server of the session, a fresh database per test ------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server (see tests/support/pgserver.py). Without its
    binaries the PostgreSQL tests skip, but fail in CI (``$CI`` set), where they must run."""
    bindir = find_bindir()
    if bindir is None:
        unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
    server = PgServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a fresh database, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = pg_server.create_database(name)
    try:
        yield url
    finally:
        pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store's ``--db``: a SQLite file, then a PostgreSQL database. (Unit tests
    get the SQLite file only: tests/unit/conftest.py.)"""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    return str(request.getfixturevalue("pg_url"))


# -- the shared crawl queue: a real redis-server -----------------------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One ``redis-server`` for the session (skipped without the binary, failed on CI)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    with server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The session's Redis, empty at the start of each test."""
    client = redis_server.client()
    client.flushall()
    yield redis_server.url
    client.flushall()
    client.close()
