"""`aggregator run`: repeated crawls per site, never overlapping, clean exit on SIGTERM."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from aggregator.store import SQLiteStore
from tests.support.cli import run_cli
from tests.support.crawls import SampleWebProcess
from tests.support.env import REPO


def _crawls(db: Path) -> dict[str, list[tuple[datetime, datetime]]]:
    if not db.exists():
        return {}
    with SQLiteStore(db) as store:
        rows = store.conn.execute(
            "SELECT site, started_at, finished_at FROM crawls ORDER BY id"
        ).fetchall()
    out: dict[str, list[tuple[datetime, datetime]]] = {}
    for site, started, finished in rows:
        out.setdefault(site, []).append(
            (datetime.fromisoformat(started), datetime.fromisoformat(finished))
        )
    return out


def test_run_crawls_each_site_repeatedly_and_stops_on_sigterm(
    sample_web: SampleWebProcess, tmp_path: Path
) -> None:
    db, feeds = tmp_path / "run.db", tmp_path / "feeds"
    sites = ["tamdao", "caonguyen"]
    only = tmp_path / "sites"
    only.mkdir()
    for site in sites:  # this run schedules two of the sample newspapers
        (only / f"{site}.toml").write_text(
            (sample_web.sites_dir / f"{site}.toml").read_text(encoding="utf-8"), encoding="utf-8"
        )
    proc = subprocess.Popen(
        [sys.executable, "-m", "aggregator.app.cli", "run", "--interval", "1", "--db", str(db),
         "--sites-dir", str(only), "--feeds-dir", str(feeds)],
        cwd=REPO, env={**os.environ, "AGGREGATOR_SITES_DIRS": ""},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            crawls = _crawls(db)
            if all(len(crawls.get(s, [])) >= 3 for s in sites):
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.5)
        else:
            raise AssertionError(f"not enough crawls: {_crawls(db)}")
        # a second scheduler (or crawl) on the same store is refused
        again = run_cli("run", "--db", str(db), "--sites-dir", str(only), check=False)
        assert again.returncode == 2 and "another aggregator" in again.stderr
        busy = run_cli("crawl", "tamdao", "--db", str(db), "--sites-dir", str(only), check=False)
        assert busy.returncode == 2
        # a definition broken while running: the last good ones stay, the error is logged
        seen = len(_crawls(db)["tamdao"])
        (only / "tamdao.toml").write_text('id = "tamdao"\n[links]\narticle = "(("\n')
        deadline = time.monotonic() + 60
        while len(_crawls(db)["tamdao"]) < seen + 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(_crawls(db)["tamdao"]) >= seen + 2, "crawls stopped after a bad edit"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    crawls = _crawls(db)
    assert set(crawls) == set(sites)
    for site, runs in crawls.items():
        # one site never twice at once: each crawl starts after the previous finished
        for (_, finished), (started, _) in itertools.pairwise(runs):
            assert started >= finished, (site, runs)
    with SQLiteStore(db) as store:
        assert store.count() > 0
    assert list((feeds / "category").glob("*.atom")), "feeds were not rebuilt"
    assert "tamdao" in out  # one line per finished crawl
    assert "keeping the last good definition" in err and "links.article: bad regex" in err


def test_run_carries_on_past_a_deeply_nested_definition(
    sample_web: SampleWebProcess, tmp_path: Path
) -> None:
    """A definition that makes the TOML parser recurse too deep is one line, at start and
    when it appears later; the loop goes on crawling the others."""
    db, only = tmp_path / "run.db", tmp_path / "sites"
    only.mkdir()
    (only / "tamdao.toml").write_text(
        (sample_web.sites_dir / "tamdao.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    nested = "a = " + "[" * 5000 + "]" * 5000 + "\n"
    (only / "sau.toml").write_text(nested, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "aggregator.app.cli", "run", "--interval", "1s", "--max-crawls",
         "3", "--db", str(db), "--sites-dir", str(only), "--feeds-dir", str(tmp_path / "f")],
        cwd=REPO, env={**os.environ, "AGGREGATOR_SITES_DIRS": ""},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not _crawls(db).get("tamdao") and time.monotonic() < deadline:
            time.sleep(0.2)
        (only / "later.toml").write_text(nested, encoding="utf-8")  # appears while running
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err and "RecursionError" not in err
    assert err.count("sau.toml: (file): invalid TOML: nested too deeply") == 1, err[-3000:]
    assert err.count("later.toml: (file): invalid TOML: nested too deeply") == 1, err[-3000:]
    assert len(_crawls(db)["tamdao"]) == 3
