"""The worker pool: the same articles as in-process, and a worker that dies or hangs is
replaced, its page failed with WorkerLost, the other pages unharmed."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

from aggregator.extract.model import ExtractionError
from aggregator.process import pool as pool_module
from aggregator.process.chain import Chain, Page, SeenURLs, prepare
from aggregator.process.pool import PageCrashed, WorkerLost, WorkerPool, WritingPool
from aggregator.sites.definition import SiteDefinition, load_sites
from aggregator.store import SQLiteStore

BODY = " ".join(
    f"Đoạn {n}: tỉnh tổ chức hội nghị tổng kết công tác năm với nhiều kết quả nổi bật."
    for n in range(12)
)


def _page(n: int) -> Page:
    html = (
        f"<html><head><title>Bài {n}</title></head><body><article><h1>Tin số {n} của tỉnh</h1>"
        f"<p>{BODY}</p><p>{BODY}</p></article></body></html>"
    )
    return Page(
        f"https://example.vn/tin/bai-{n}.html",
        html.encode(),
        None,
        datetime(2026, 1, 1, tzinfo=UTC),
        content_type="text/html; charset=utf-8",
    )


@pytest.fixture(scope="module")
def site() -> SiteDefinition:
    return next(iter(load_sites([])))


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    """Two workers; one that takes 5 s on a page is taken for hung (a loaded machine is
    far quicker than that on these pages)."""
    pool = WorkerPool(2, timeout=5)
    yield pool
    pool.close()


def _workers() -> list[int]:
    """The pids of this process's pool workers (children of its fork server)."""
    me = str(os.getpid())
    parents: dict[str, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[stat.parent.name] = fields[1]
    servers = {pid for pid, parent in parents.items() if parent == me}
    return sorted(int(pid) for pid, parent in parents.items() if parent in servers)


def _dies_on_a_page(conn: Connection) -> None:
    """A worker target that says it is ready, then dies on the first page it is handed."""
    conn.send(("ready", pool_module.__file__))
    conn.recv()
    os._exit(3)


def _runs_another_copy(conn: Connection) -> None:
    """A worker target running aggregator from elsewhere (an editable install, say)."""
    conn.send(("ready", "/elsewhere/aggregator/process/pool.py"))
    with contextlib.suppress(EOFError, OSError):
        conn.recv()


def _outcome(future: object) -> object:
    try:
        return future.result(timeout=30)  # type: ignore[attr-defined]
    except Exception as exc:
        return type(exc)


def test_workers_give_the_articles_prepare_gives(pool: WorkerPool, site: SiteDefinition) -> None:
    pages = [_page(n) for n in range(6)]
    futures = [pool.submit(p, site) for p in pages]
    for page, future in zip(pages, futures, strict=True):
        assert future.result(timeout=30) == prepare(page, site)
    bad = Page("https://example.vn/tin/trong.html", b"<html></html>", None, pages[0].fetched_at)
    with pytest.raises(ExtractionError):
        prepare(bad, site)
    with pytest.raises(ExtractionError):
        pool.submit(bad, site).result(timeout=30)


def test_a_hung_worker_is_replaced_and_only_its_page_fails(
    pool: WorkerPool, site: SiteDefinition
) -> None:
    for future in [pool.submit(_page(n), site) for n in range(4)]:
        future.result(timeout=30)  # both workers started
    workers = _workers()
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGSTOP)  # hangs on the next page it is given
    outcomes = [_outcome(pool.submit(_page(n), site)) for n in range(20)]
    assert outcomes.count(WorkerLost) == 1
    assert sum(1 for o in outcomes if o is not WorkerLost and not isinstance(o, type)) == 19
    assert pool.lost == 1
    assert workers[0] not in _workers() and len(_workers()) == 2


def test_a_worker_killed_on_a_page_fails_that_page_only(
    pool: WorkerPool, site: SiteDefinition
) -> None:
    for future in [pool.submit(_page(n), site) for n in range(4)]:
        future.result(timeout=30)
    victim = _workers()[0]
    os.kill(victim, signal.SIGSTOP)
    futures = [pool.submit(_page(n), site) for n in range(20)]
    time.sleep(0.5)  # the stopped worker was handed a page and holds it
    os.kill(victim, signal.SIGKILL)
    outcomes = [_outcome(f) for f in futures]
    assert outcomes.count(WorkerLost) == 1
    lost = next(f for f in futures if _outcome(f) is WorkerLost)
    with pytest.raises(WorkerLost, match="killed by signal 9"):
        lost.result()
    assert pool.lost == 1


def test_a_worker_killed_between_pages_loses_nothing(
    pool: WorkerPool, site: SiteDefinition
) -> None:
    for future in [pool.submit(_page(n), site) for n in range(4)]:
        future.result(timeout=30)
    victim = _workers()[0]
    os.kill(victim, signal.SIGKILL)
    while victim in _workers():  # reaped by the fork server
        time.sleep(0.01)
    outcomes = [_outcome(pool.submit(_page(n), site)) for n in range(10)]
    assert WorkerLost not in outcomes
    assert pool.lost == 1


def test_closing_stops_every_worker(site: SiteDefinition) -> None:
    pool = WorkerPool(2)
    pool.submit(_page(1), site).result(timeout=30)
    assert _workers()
    pool.close()
    assert _workers() == []


def test_where_no_worker_can_start_pages_are_prepared_in_process(
    site: SiteDefinition, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that exits before it is ready (here: one that runs none of our code), three
    times in a row: the pool says so once and prepares the pages itself, losing none."""

    class Stillborn(pool_module._Worker):
        def __init__(self, context: Any) -> None:
            self.conn, child = context.Pipe()
            self.process = context.Process(target=os._exit, args=(3,), daemon=True)
            self.process.start()
            child.close()
            self.sites: set[str] = set()

    monkeypatch.setattr(pool_module, "_Worker", Stillborn)
    pool = WorkerPool(1, timeout=5)
    try:
        pages = [_page(n) for n in range(3)]
        for page, future in [(p, pool.submit(p, site)) for p in pages]:
            assert future.result(timeout=60) == prepare(page, site)
        assert pool.broken and pool.lost == 0
    finally:
        pool.close()


@pytest.mark.parametrize(
    ("target", "why"),
    [
        (_dies_on_a_page, "the last one was lost on its page (the worker died)"),
        (_runs_another_copy, "the last one ran /elsewhere/aggregator/process/pool.py"),
    ],
)
def test_where_workers_cannot_run_our_code_no_page_is_lost(
    site: SiteDefinition,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    target: object,
    why: str,
) -> None:
    """Workers that start but die on their first page, or run another copy of aggregator
    (as a fork server that found the source tree instead of Scrapyd's egg): no page is lost
    with them, the pool says so in one line and prepares every page itself."""
    monkeypatch.setattr(pool_module, "_work", target)  # pickled by name: workers run it
    pool = WorkerPool(2, timeout=5)
    try:
        pages = [_page(n) for n in range(6)]
        with caplog.at_level(logging.ERROR, logger=pool_module.__name__):
            futures = [(p, pool.submit(p, site)) for p in pages]
            for page, future in futures:
                assert future.result(timeout=120) == prepare(page, site)
        assert pool.broken and pool.lost == 0 and pool.in_process == len(pages)
        lines = [r.getMessage() for r in caplog.records]
        assert len(lines) == 1 and "extracting in this process" in lines[0], lines
        assert why in lines[0]
    finally:
        pool.close()


def test_pages_and_answers_larger_than_a_pipe_never_deadlock(site: SiteDefinition) -> None:
    """A page and its answer each far over a pipe's buffer (64 KiB), many queued: the
    driver never blocks sending a page to a worker that is blocked sending it an answer."""
    paragraphs = "".join(f"<p>{n}. {BODY}</p>" for n in range(400))  # ~400 KB each way
    html = f"<html><body><article><h1>Tin dài của tỉnh</h1>{paragraphs}</article></body></html>"
    pages = [
        Page(f"https://example.vn/tin/dai-{n}.html", html.encode(), None,
             datetime(2026, 1, 1, tzinfo=UTC), content_type="text/html; charset=utf-8")
        for n in range(12)
    ]  # fmt: skip
    pool = WorkerPool(2, timeout=60)
    try:
        futures = [pool.submit(page, site) for page in pages]
        # a deadlocked pool answers nothing: the wait is a bound, not a measurement
        titles = [future.result(timeout=120).title for future in futures]
    finally:
        pool.close()
    assert titles == ["Tin dài của tỉnh"] * len(pages)


@pytest.mark.parametrize("max_pages", [3, 0])
def test_a_worker_is_replaced_after_max_pages_losing_nothing(
    site: SiteDefinition, max_pages: int
) -> None:
    """A worker handed ``max_pages`` pages is stopped once it answered them and a new one
    takes its place: every page answered as in-process, none lost or failed; 0: never."""
    pages = [_page(n) for n in range(12)]
    pool = WorkerPool(2, timeout=30, max_pages=max_pages)
    try:
        futures = [pool.submit(page, site) for page in pages]
        for page, future in zip(pages, futures, strict=True):
            assert future.result(timeout=60) == prepare(page, site)
        seen = set(_workers())
        for page, future in [(p, pool.submit(p, site)) for p in pages]:
            assert future.result(timeout=60) == prepare(page, site)
            seen.update(_workers())
    finally:
        pool.close()
    assert pool.lost == 0 and not pool.broken and pool.in_process == 0
    if max_pages:
        # 24 pages, at most 3 a worker, at most 2 workers left holding fewer than 3
        assert pool.retired >= (24 - 2 * 2) // 3
        assert len(seen) > 2
    else:
        assert pool.retired == 0
        assert len(seen) == 2


# -- the writing mode ------------------------------------------------------------------------


def _hangs_on_treo(conn: Connection, store: Any, progress: Any) -> None:
    """A writing worker that hangs on a page whose URL says "treo"."""
    real = pool_module.prepare

    def prepare(page: Page, site: SiteDefinition) -> Any:
        if "/treo-" in page.url:
            time.sleep(600)
        return real(page, site)

    pool_module.prepare = prepare
    pool_module._write_work(conn, store, progress)


def test_writing_workers_write_in_order_and_a_hung_page_is_lost_alone(
    tmp_path: Path, site: SiteDefinition, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three chunks of four pages through two writing workers: one page hangs (its worker
    is killed after the timeout; the rest of its chunk goes to the next worker), one URL
    comes again in a later chunk (skipped), every other page is stored, its answer small."""
    monkeypatch.setattr(pool_module, "_write_work", _hangs_on_treo)
    db = tmp_path / "s.db"
    with SQLiteStore(db):
        pass  # the schema, made here
    pages = [_page(n) for n in range(12)]
    pages[5] = replace(pages[5], url="https://example.vn/tin/treo-5.html")
    pages[9] = pages[1]
    pool = WritingPool(2, SQLiteStore(db), SeenURLs(), timeout=3)
    try:
        chunks = [pages[i : i + 4] for i in range(0, 12, 4)]
        futures = [pool.submit_chunk([(p, site, "crawl-1") for p in c]) for c in chunks]
        answers = [a for f in futures for a in f.result(timeout=120)]
    finally:
        pool.close()
    assert answers[5][0] == "lost" and "no answer after 3 s" in str(answers[5][1])
    assert answers[5][2] is None  # no article, nothing for the crawl to count
    assert answers[9][:2] == ("same_url", pages[1].url)
    # what a crawl counts of each article comes with its answer
    assert {"duplicates/url", "layers/title/generic"} <= set(answers[9][2] or ())
    assert [a[0] for i, a in enumerate(answers) if i not in (5, 9)] == ["inserted"] * 10
    assert pool.lost == 1
    with SQLiteStore(db) as store:
        stories = sorted((a.url, a.duplicate_of) for a in store.articles())
    # written in order: the stories of one process taking the pages in order
    with SQLiteStore(":memory:") as store:
        chain = Chain(store)
        for n in (0, 1, 2, 3, 4, 6, 7, 8, 10, 11):
            chain.admit(prepare(pages[n], site), site)
        assert stories == sorted((a.url, a.duplicate_of) for a in store.articles())
    assert len(stories) == 10


def test_a_chunk_that_cannot_be_sent_fails_and_the_next_ones_are_written(
    tmp_path: Path, site: SiteDefinition
) -> None:
    db = tmp_path / "s.db"
    with SQLiteStore(db):
        pass
    bad = replace(_page(99), warc={"file": lambda: None})  # type: ignore[dict-item]  # not picklable
    pool = WritingPool(2, SQLiteStore(db), SeenURLs())
    try:
        futures = [
            pool.submit_chunk([(p, site, "crawl-1") for p in chunk])
            for chunk in ([_page(0)], [_page(1), bad], [_page(2)])
        ]
        outcomes = [_outcome(f) for f in futures]
    finally:
        pool.close()
    assert outcomes[1] is PageCrashed
    first, last = outcomes[0], outcomes[2]
    assert isinstance(first, list) and isinstance(last, list)
    assert [first[0][0], last[0][0]] == ["inserted", "inserted"]  # (the second: a copy)


def test_the_fork_server_loads_our_modules_only_where_it_finds_this_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fork server preloads aggregator's own modules (shared by every worker) where a fresh
    interpreter imports this very copy; where it finds another one first (as beside a Scrapyd
    egg), only the third-party modules, so its workers still run this copy."""
    pool_module.preload.cache_clear()
    try:
        assert pool_module.preload() == [*pool_module.PRELOAD, *pool_module.OWN]
        other = tmp_path / "aggregator"
        other.mkdir()
        (other / "__init__.py").write_text("", encoding="utf-8")
        monkeypatch.chdir(tmp_path)  # the fork server's first place to look: its directory
        pool_module.preload.cache_clear()
        assert pool_module.preload() == pool_module.PRELOAD
    finally:
        pool_module.preload.cache_clear()
