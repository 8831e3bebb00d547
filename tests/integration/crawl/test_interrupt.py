"""Ctrl-C (or SIGTERM) in the middle of a crawl: a clean stop that says how to continue, a crawl record
and a status that say ``interrupted``, and a plain crawl after it that still reaches every
article (what the interrupted crawl stored must not hide the pages it never reached)."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aggregator.store import SQLiteStore
from tests.support.cli import DEFAULT_FEEDS, run_cli
from tests.support.crawls import Crawl
from tests.support.env import REPO

SITE = "tamdao"


def _stored(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
    except sqlite3.Error:  # not created yet
        return 0


def _titles(db: Path) -> set[str]:
    with SQLiteStore(db) as store:
        return {a.title for a in store.articles() if a.site == SITE}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopped_mid_crawl_then_a_plain_crawl_completes(
    crawled: Crawl, tmp_path: Path, sig: signal.Signals
) -> None:
    sites, db = tmp_path / "sites", tmp_path / "a.db"
    sites.mkdir()
    normal = (crawled.web.sites_dir / f"{SITE}.toml").read_text(encoding="utf-8")
    # slow enough to be stopped half-way: one request at a time, 0.2 s apart
    slow = re.sub(r"(?ms)^\[politeness\].*?(?=^\[|\Z)", "", normal)
    slow += "\n[politeness]\ndelay = 0.2\nconcurrency = 1\nautothrottle = false\n"
    (sites / f"{SITE}.toml").write_text(slow, encoding="utf-8")
    env = {**os.environ, "AGGREGATOR_SITES_DIRS": "", "AGGREGATOR_FEEDS_DIR": str(DEFAULT_FEEDS)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aggregator.app.cli", "crawl", SITE, "--db", str(db),
         "--sites-dir", str(sites)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while _stored(db) < 8:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the crawl stored nothing"
            time.sleep(0.1)
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-3000:]
    assert f"interrupted; `aggregator crawl {SITE} --resume` continues" in err
    assert "crawl failed" not in err and "Traceback" not in err
    partial = _titles(db)
    reference = _titles(crawled.db)
    assert 0 < len(partial) < len(reference), "the crawl was not stopped half-way"

    with SQLiteStore(db) as store:
        assert store.last_crawls()[SITE]["stats"]["finish_reason"] == "interrupted"
    status = run_cli("status", SITE, "--json", "--db", str(db), "--sites-dir", str(sites))
    (health,) = json.loads(status.stdout)["sites"]
    assert health["verdict"] == "interrupted"

    (sites / f"{SITE}.toml").write_text(normal, encoding="utf-8")
    again = run_cli("crawl", SITE, "--db", str(db), "--sites-dir", str(sites))
    assert "Traceback" not in again.stderr
    assert _titles(db) >= reference  # every article of the full crawl
    status = run_cli("status", SITE, "--json", "--db", str(db), "--sites-dir", str(sites))
    assert json.loads(status.stdout)["sites"][0]["verdict"] != "interrupted"
