"""Run the news spider for several sites in one process and collect their figures.

Also what every way of running crawls shares: the lock that keeps two runs off one
store, which sites are due, and when a site's crawl counts as failed.
"""

from __future__ import annotations

import fcntl
import gc
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings

from aggregator.crawl.logformatter import one_line_errors
from aggregator.crawl.pipelines import crawl_summary
from aggregator.crawl.spider import NewsSpider
from aggregator.sites.definition import SiteDefinition
from aggregator.sites.links import unmatched_reason
from aggregator.store import SQLStore, StoreUnavailable, is_postgres

__all__ = [
    "StoreBusy",
    "collect_less",
    "crawl_sites",
    "due_sites",
    "project_settings",
    "results_table",
    "site_failed",
    "site_interrupted",
    "store_lock",
]


class StoreBusy(RuntimeError):
    """Another crawl or scheduler holds the store."""


@contextmanager
def store_lock(db: str | Path, *, shared: bool = False) -> Iterator[None]:
    """Hold ``<db>.lock`` for the duration; raise :class:`StoreBusy` if it is taken.

    An advisory ``flock``: released by the kernel if the process dies, so a killed
    crawl never leaves a stale lock behind. ``shared``: crawls sharing a Redis queue
    (``crawl --redis``) run side by side and take it shared; they keep out, and are kept
    out by, a crawl or scheduler of one process, which takes it exclusively.

    A PostgreSQL store takes no lock: it is the store that several crawler processes
    and machines share (a file lock could not span machines anyway), and its writers
    need none: each write is a transaction under the store's own write lock
    (:class:`~aggregator.store.base.PostgresStore`). Two crawls of one site at once waste
    requests but store each article once.
    """
    if is_postgres(db):
        yield
        return
    path = Path(f"{db}.lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # a read-only or full file system: no crawl can write there
        raise StoreUnavailable(
            f"cannot use the store {db}: cannot create its lock file {path}: {exc.strerror or exc}"
        ) from None
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreBusy(
                f"another aggregator crawl or run is using {db} (lock {path})"
                + ("; only crawls sharing a Redis queue (--redis) run side by side")
            ) from None
        if not shared:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


#: Tracked objects allocated (net) between two young collections while crawls run
#: (Python's default: 700, at which a crawl collected about once every 3 responses,
#: requests, deferreds and articles back from the workers living a response long).
YOUNG_THRESHOLD = 10_000


@contextmanager
def collect_less() -> Iterator[None]:
    """Cyclic garbage collection cheap enough for the crawl process's one thread: what
    is loaded before the crawls (modules, settings, site definitions: ~100,000 objects)
    is frozen out of every collection, and the young generation is collected every
    :data:`YOUNG_THRESHOLD` allocations. Everything is restored afterwards (a caller's
    process, such as a test run, keeps its own)."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def project_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """The project's Scrapy settings plus command-line overrides."""
    settings = Settings()
    settings.setmodule("aggregator.settings", priority="project")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def due_sites(
    sites: Iterable[SiteDefinition], store: SQLStore, now: datetime | None = None
) -> list[str]:
    """Sites whose interval has elapsed since their last crawl (never crawled: due)."""
    now = now or datetime.now(UTC)
    last = store.last_crawls()
    due = []
    for site in sites:
        record = last.get(site.id)
        finished = record and record.get("finished_at")
        if not finished or now - datetime.fromisoformat(finished) >= timedelta(
            minutes=site.interval
        ):
            due.append(site.id)
    return due


def site_interrupted(summary: Mapping[str, Any]) -> bool:
    """A crawl stopped by SIGINT / SIGTERM (``--resume`` continues it)."""
    return summary.get("finish_reason") == "interrupted"


def site_failed(summary: Mapping[str, Any], *, shared: bool = False) -> bool:
    """A crawl that got no page at all, stopped abnormally, or mostly failed.

    ``shared``: one of several processes sharing a Redis queue; if it made no request,
    the others took the work, and that is no failure."""
    if shared and summary.get("requests", 0) == 0:
        return summary.get("finish_reason") not in (None, "finished")
    if summary.get("pages", 0) == 0:
        return True
    if summary.get("finish_reason") not in (None, "finished"):
        return True
    return int(summary.get("errors", 0)) > int(summary.get("pages", 0)) // 2


def crawl_sites(
    site_ids: Sequence[str],
    overrides: Mapping[str, Any] | None = None,
    *,
    progress: bool = False,
) -> dict[str, dict[str, Any]]:
    """Crawl each site (one crawler per site, all in this process); figures per site.

    Blocks until every crawl has finished. The Twisted reactor can run only once per
    process, so call this once. ``progress`` shows a live table on the terminal.
    """
    settings = project_settings(overrides)
    process = CrawlerProcess(settings)
    one_line_errors(verbose=settings.get("LOG_LEVEL") == "DEBUG")
    crawlers: dict[str, Crawler] = {}
    for site_id in site_ids:
        crawler = process.create_crawler(NewsSpider)
        crawlers[site_id] = crawler
        process.crawl(crawler, site=site_id)
    display = None
    if progress:
        from aggregator.crawl.progress import Progress  # rich loads only for a terminal

        display = Progress(crawlers)
        display.start()
    try:
        with collect_less():
            process.start()
    finally:
        if display is not None:
            display.stop()
    return {
        site_id: crawl_summary(crawler.stats.get_stats() if crawler.stats else {})
        for site_id, crawler in crawlers.items()
    }


def results_table(results: dict[str, dict[str, Any]]) -> str:
    """The crawl summaries of ``results`` (by site id) as a table for the terminal."""
    header = f"{'site':<12} {'pages':>6} {'articles':>9} {'new':>5} {'updated':>8} "
    header += f"{'duplicates':>11} {'errors':>7} {'unmatched':>10}"
    lines = [header, "-" * len(header)]
    shapes = []
    for site_id, r in results.items():
        articles = r["inserted"] + r["updated"] + r["unchanged"]
        lines.append(
            f"{site_id:<12} {r['pages']:>6} {articles:>9} {r['inserted']:>5} {r['updated']:>8} "
            f"{r['duplicates']:>11} {r['errors']:>7} {r.get('unmatched', 0):>10}"
        )
        if reason := unmatched_reason(r):
            shapes.append(f"{site_id}: {reason}")
        if capped := r.get("capped"):
            shapes.append(
                f"{site_id}: bounds hit: " + ", ".join(f"{k} {n}" for k, n in capped.items())
            )
    # links that look like articles or listing pages and match no pattern: a wrong
    # links.article or links.listing loses articles with no error
    return "\n".join(lines + shapes)
