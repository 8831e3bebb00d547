"""Crawls with worker processes: the same store whatever the number of workers, a worker
killed mid-crawl costs that one page, counted, and fetched again by the next crawl, and
workers that cannot run at all cost none."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from aggregator.process import pool as pool_module
from aggregator.store import SQLiteStore
from tests.support.cli import run_cli
from tests.support.crawls import Crawl
from tests.support.env import REPO
from tests.support.storestate import article_count, store_state


def _crawl(crawled: Crawl, db: Path, *extra: str) -> list[str]:
    web = crawled.web
    return ["crawl", *web.site_ids, "--db", str(db), "--sites-dir", str(web.sites_dir), *extra]


@pytest.mark.parametrize("jobs", [0, 1, 2])
def test_every_number_of_workers_stores_the_same(crawled: Crawl, tmp_path: Path, jobs: int) -> None:
    """Against the session's crawl (as many workers as cores): the same articles, stories,
    dedup keys and pages, whichever worker finished first."""
    db = tmp_path / f"jobs{jobs}.db"
    run_cli(*_crawl(crawled, db, "--jobs", str(jobs)))
    assert store_state(db) == store_state(crawled.db)


def _grandchildren(pid: int) -> list[int]:
    """The pool workers of crawl process ``pid`` (children of its fork server)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    children = {p for p, parent in parents.items() if parent == pid}
    return sorted(p for p, parent in parents.items() if parent in children)


def _computing(pid: int) -> bool:
    """Whether process ``pid`` uses CPU time in the next 30 ms (a worker preparing or
    writing, not one waiting)."""

    def ticks() -> int:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return -1
        return int(fields[11]) + int(fields[12])

    before = ticks()
    time.sleep(0.03)
    return 0 <= before < ticks()


def test_workers_killed_mid_crawl_cost_the_page_in_hand_fetched_again_next_time(
    crawled: Crawl, tmp_path: Path
) -> None:
    """A worker killed while it prepares a page loses that page: counted, not recorded, and
    fetched again by the next crawl. Killed waiting for its chunk's turn or writing it, it
    loses nothing (another worker prepares, or writes again, the chunk): workers are killed
    one after another until one has lost a page."""
    reference = store_state(crawled.db)
    total = len(reference["articles"])
    db = tmp_path / "killed.db"
    env = {**os.environ, "AGGREGATOR_SITES_DIRS": "", "AGGREGATOR_FEEDS_DIR": str(tmp_path)}
    command = [
        sys.executable,
        "-m",
        "aggregator.app.cli",
        *_crawl(crawled, db, "--jobs", "2", "-q"),
    ]
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    lines: list[str] = []
    stderr = proc.stderr
    assert stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(stderr.readline, "")))
    reader.start()
    deadline = time.monotonic() + 120
    while article_count(db) < total // 5 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    kills = 0
    while proc.poll() is None and kills < 30 and not any("extraction lost" in x for x in lines):
        busy = [pid for pid in _grandchildren(proc.pid) if _computing(pid)]
        if not busy:
            continue
        # stopped, it holds what it was doing (well within the 60 s a worker may take);
        # then it dies with it
        os.kill(busy[0], signal.SIGSTOP)
        time.sleep(0.3)
        os.kill(busy[0], signal.SIGKILL)
        kills += 1
        time.sleep(0.3)
    proc.wait(timeout=300)
    reader.join()
    err = "".join(lines)
    assert proc.returncode == 0, err[-3000:]
    lost = re.findall(r"extraction lost for (\S+): the worker was killed by signal 9", err)
    assert lost, err[-3000:]
    with SQLiteStore(db) as store:
        stats = [v["stats"] for v in store.last_crawls().values()]
        # counted where the operator looks: the crawl record (aggregator status)
        counted = sum(s["error_detail"].get("aggregator/errors/worker_lost", 0) for s in stats)
        assert counted == len(lost)
        assert all(s["finish_reason"] == "finished" for s in stats)
        # not recorded as failed pages: the next crawl fetches them again
        assert all(store.page(url) is None for url in lost)
        stored = {a.canonical_url for a in store.articles()}
    # every other article is stored (a lost page's article is missing, unless another URL
    # of the same page gave it)
    assert not stored & set(lost) and stored <= set(reference["articles"])
    assert len(stored) >= total - len(lost)
    log = crawled.web.access_log

    def fetched() -> list[int]:
        text = log.read_text(encoding="utf-8")
        return [text.count(url.split("/", 3)[3]) for url in lost]

    before = fetched()
    run_cli(*_crawl(crawled, db, "--resume"))
    assert store_state(db) == reference
    assert all(after > n for after, n in zip(fetched(), before, strict=True))


def dies_on_a_page(conn: Connection, *_: object) -> None:
    """A worker target (extracting, or writing too) that says it is ready, then dies on the
    first page (chunk) it is handed."""
    conn.send(("ready", pool_module.__file__))
    conn.recv()
    os._exit(3)


#: the CLI, with workers that die on their first page (the target is pickled by name)
BROKEN_WORKERS = f"""\
import sys
from aggregator.app.cli import main
from aggregator.process import pool
from {__name__} import dies_on_a_page
pool._work = pool._write_work = dies_on_a_page
sys.exit(main(sys.argv[1:]))
"""


def test_workers_that_die_on_every_page_lose_no_page(crawled: Crawl, tmp_path: Path) -> None:
    """Not every page lost and exit 0: the crawl says so once and extracts in its own
    process, storing what a crawl with working workers stores."""
    db = tmp_path / "broken.db"
    env = {**os.environ, "AGGREGATOR_SITES_DIRS": "", "AGGREGATOR_FEEDS_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", BROKEN_WORKERS, *_crawl(crawled, db, "--jobs", "2", "-v")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    err = result.stderr
    assert result.returncode == 0, err[-3000:]
    assert "extraction lost" not in err, err[-3000:]
    alarms = re.findall(r"ERROR: (extraction workers cannot run here.*)", err)
    assert len(alarms) == 1, err[-3000:]
    assert "the last one was lost on its page (the worker died)" in alarms[0]
    assert store_state(db) == store_state(crawled.db)
    in_process = [int(n) for n in re.findall(r"'aggregator/pool/in_process': (\d+)", err)]
    assert in_process and sum(in_process) >= len(store_state(db)["articles"])


def test_workers_replaced_every_few_pages_store_the_same(crawled: Crawl, tmp_path: Path) -> None:
    """Workers replaced after 5 pages each: no page lost or failed, the same store. (A
    worker takes a chunk of pages whole: chunks of 5 pages at most.)"""
    db = tmp_path / "retired.db"
    result = run_cli(*_crawl(crawled, db, "--jobs", "2", "-v"), "-s",
                     "AGGREGATOR_WORKER_MAX_PAGES=5", "-s", "AGGREGATOR_BATCH_SIZE=5")  # fmt: skip
    err = result.stderr
    assert "extraction lost" not in err and "cannot run here" not in err, err[-3000:]
    assert store_state(db) == store_state(crawled.db)
    retired = [int(n) for n in re.findall(r"'aggregator/pool/retired': (\d+)", err)]
    # each site's crawl counts the workers retired while it ran (the pool is shared)
    assert sum(retired) >= len(store_state(db)["articles"]) // 5 - 2, err[-3000:]
