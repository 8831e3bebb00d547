"""PostgreSQL as the store of the command line: a crawl gives what it gives in SQLite,
and a server out of reach is one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from aggregator.store import open_store
from tests.support.cli import DEFAULT_FEEDS, run_cli
from tests.support.crawls import SampleWebProcess
from tests.support.env import REPO
from tests.support.exportcheck import validate
from tests.support.pgserver import PgServer


def exported(db: str, *args: str) -> list[dict[str, Any]]:
    result = run_cli("export", "--db", db, *args)
    lines = [validate(line) for line in result.stdout.splitlines()]
    assert lines, result.stderr
    return lines


def test_a_crawl_into_postgresql_exports_what_sqlite_does(
    sample_web: SampleWebProcess, pg_url: str, tmp_path: Path
) -> None:
    """A crawl of the sample web into PostgreSQL, archived as WARC, then the same crawl
    replayed into SQLite (``reextract``: the same pages in the same order, so the same
    copy of each story comes first): the exports are identical, field for field.
    (Two live crawls may fetch pages in different orders, and which URL of an article
    came first shows in the export.)"""
    sites, warc = str(sample_web.sites_dir), tmp_path / "warc"
    # a password (the test server trusts 127.0.0.1 and ignores it) never shows, even in
    # Scrapy's INFO log
    with_password = pg_url.replace("//postgres@", "//postgres:pw-s3cr3t@")
    crawl = run_cli("crawl", *sample_web.site_ids, "--db", with_password, "--sites-dir", sites,
                    "--warc", str(warc), "-v")  # fmt: skip
    assert "pw-s3cr3t" not in crawl.stdout + crawl.stderr
    sqlite_db = str(tmp_path / "store.db")
    files = sorted(str(p) for p in warc.glob("*.warc.gz"))
    run_cli("reextract", "--warc", *files, "--db", sqlite_db, "--sites-dir", sites)
    in_postgres, in_sqlite = exported(pg_url), exported(sqlite_db)
    assert len(in_postgres) == len(in_sqlite) > 150
    # the same lines in the same order (newest first, ties by id)
    assert in_postgres == in_sqlite
    # and the same stream of versions
    stream = [(r["id"], r["version"], r["cursor"]) for r in exported(pg_url, "--since", "0")]
    assert stream == [
        (r["id"], r["version"], r["cursor"]) for r in exported(sqlite_db, "--since", "0")
    ]
    # status reads the crawl records and articles of the PostgreSQL store
    status = run_cli("status", "--json", "--db", pg_url, "--sites-dir", sites,
                     "--feeds-dir", str(tmp_path / "feeds"))  # fmt: skip
    verdicts = {s["site"]: s["verdict"] for s in json.loads(status.stdout)["sites"]}
    assert {verdicts[site] for site in sample_web.site_ids} == {"ok"}, verdicts


def test_an_unreachable_server_is_one_line_and_exit_2() -> None:
    url = "postgresql://news:s3cr3t@127.0.0.1:9/aggregator"  # port 9: discard, closed
    for args in (
        ["export", "--db", url],
        ["crawl", "--all", "--db", url],
        ["feeds", "--db", url],
        ["status", "--db", url],
    ):
        result = run_cli(*args, check=False)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(
            "aggregator: error: cannot connect to the store "
            "postgresql://news:***@127.0.0.1:9/aggregator: "
        ), lines[0]
        assert "s3cr3t" not in result.stderr


def test_aggregator_db_names_the_store_too(pg_url: str) -> None:
    """``AGGREGATOR_DB`` is read by every command, a URL as well as a path."""
    env = {**os.environ, "AGGREGATOR_DB": pg_url, "AGGREGATOR_SITES_DIRS": ""}
    result = subprocess.run(
        [sys.executable, "-m", "aggregator.app.cli", "export"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "0 articles exported; last cursor: 0"


def test_a_store_lost_during_a_crawl_stops_it_and_keeps_what_was_stored(
    sample_web: SampleWebProcess, pg_server: PgServer, pg_url: str
) -> None:
    """The database stops taking connections mid-crawl: the crawl retries for its bound
    (1 s here), stops with one error line and no traceback, and every article stored
    before is whole (its categories, dedup keys and version are there)."""
    name = pg_url.rsplit("/", 1)[1]
    env = {**os.environ, "AGGREGATOR_SITES_DIRS": "", "AGGREGATOR_FEEDS_DIR": str(DEFAULT_FEEDS)}
    crawl = subprocess.Popen(
        [sys.executable, "-m", "aggregator.app.cli", "crawl", "tamdao", "--db", pg_url,
         "--sites-dir", str(sample_web.sites_dir), "-s", "DOWNLOAD_DELAY=0.1",
         "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "AGGREGATOR_DB_RETRY_SECONDS=1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while stored(pg_url) < 5:
            assert crawl.poll() is None and time.monotonic() < deadline, "crawl ended early"
            time.sleep(0.1)
        pg_server.admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        pg_server.admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid != pg_backend_pid()"
        )
        _, err = crawl.communicate(timeout=120)
    finally:
        crawl.kill()
        crawl.wait()
        pg_server.admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert crawl.returncode == 2, err
    assert "Traceback" not in err, err
    assert "lost the store postgresql://postgres@127.0.0.1" in err
    assert "stopping the crawl" in err
    assert err.splitlines()[-1].startswith("aggregator: error: cannot connect to the store ")
    with open_store(pg_url) as store:
        count = store.count()
        assert 5 <= count < 45  # stopped: the site has about fifty
        whole = store.execute(
            "SELECT COUNT(*) FROM articles a WHERE "
            "EXISTS (SELECT 1 FROM article_versions v WHERE v.article_id = a.id) AND "
            "EXISTS (SELECT 1 FROM fingerprints f WHERE f.article_id = a.id) AND "
            "EXISTS (SELECT 1 FROM article_categories c WHERE c.article_id = a.id)"
        ).fetchone()[0]
        assert whole == count


def stored(url: str) -> int:
    """How many articles a crawl stored so far (0 before its store is created)."""
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            row = conn.execute("SELECT COUNT(*) FROM articles").fetchone()
        except psycopg.errors.UndefinedTable:
            return 0
        return int(row[0]) if row is not None else 0
