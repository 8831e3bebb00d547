"""Shared fixtures: the sample web in a subprocess (port 0), one real crawl of it, and a
PostgreSQL server of the session with a fresh database per test."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pgserver import PgServer, find_bindir
from tests.redisserver import RedisServer

REPO = Path(__file__).resolve().parents[1]
ATOM_RNG = REPO.parent / "shared" / "schemas" / "atom.rng"


@dataclass
class SampleWebProcess:
    url: str
    sites_dir: Path
    access_log: Path
    site_ids: list[str]


#: Feeds written by commands that do not name a folder land here, not in the checkout.
DEFAULT_FEEDS = Path(tempfile.mkdtemp(prefix="aggregator-test-feeds-"))


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``aggregator`` in a subprocess (the Twisted reactor runs once per process)."""
    env = {**os.environ, "AGGREGATOR_SITES_DIRS": "", "AGGREGATOR_FEEDS_DIR": str(DEFAULT_FEEDS)}
    result = subprocess.run(
        [sys.executable, "-m", "aggregator.app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"aggregator {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-5000:]}"
        )
    return result


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


@dataclass
class Crawl:
    web: SampleWebProcess
    db: Path
    output: str
    log: str


@pytest.fixture(scope="session")
def crawled(sample_web: SampleWebProcess, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    """One full crawl of every sample newspaper into a fresh SQLite file."""
    db = tmp_path_factory.mktemp("store") / "aggregator.db"
    result = run_cli(
        "crawl", *sample_web.site_ids, "--db", str(db), "--sites-dir", str(sample_web.sites_dir)
    )
    return Crawl(sample_web, db, result.stdout, result.stderr)


@dataclass
class Archived:
    db: Path
    warc_dir: Path
    web: SampleWebProcess

    @property
    def files(self) -> list[str]:
        return sorted(str(p) for p in self.warc_dir.glob("*.warc.gz"))


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
    """The session's PostgreSQL server (see tests/pgserver.py). Without its binaries the
    PostgreSQL tests skip, but fail in CI (``$CI`` set), where they must run."""
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) not found"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the PostgreSQL tests")
        pytest.skip(message)
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
    """A fresh store's ``--db``: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    return str(request.getfixturevalue("pg_url"))


# -- the shared crawl queue (issue 7): a real redis-server -----------------------------------


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
