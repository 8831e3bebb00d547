"""Re-extraction: today's extraction, normalization and dedup over archived pages.

``aggregator reextract --warc FILE...`` reads the response records of WARC files
written by a crawl (:mod:`aggregator.archive.warc`), picks the article pages of known
sites (a 2xx response whose URL is in a site's domains and matches its article regex; the
crawl's own site first, then the site whose base URL the URL starts with) and runs
them through what the crawl runs: :func:`~aggregator.process.chain.prepare` (extract
with the hints the crawler had, normalize, fingerprint), then the rest of the chain
(validate, the same URL again, dedup, and one write transaction per batch of
:data:`BATCH` articles). ``fetched_at`` is the record's ``WARC-Date``, so a rebuilt store
equals the one the crawl wrote, and an unchanged article makes no new version.

With ``jobs`` worker processes the workers do all of it
(:class:`~aggregator.process.pool.WritingPool`): this process reads the records, cuts
the pages into chunks of :data:`BATCH` consecutive ones and counts each page's small
answer; each worker prepares its chunk, then writes it over its own store connection once
the chunk before is written, so the store takes the pages in WARC order, as with no worker.
With no worker, a store no second connection sees (SQLite in memory), or workers that
cannot run, pages are prepared here (or in the pool's workers) and written by the store's
writer thread (:mod:`aggregator.process.writer`), in the same order.

The crawl's own limits apply (its settings, :mod:`aggregator.settings`): a body that is
or inflates to more than DOWNLOAD_MAXSIZE is not inflated further (``too_large``: a gzip
bomb the crawl rejected stays in the WARC as received), a page declared as something else
than HTML is not extracted (``not_html``), and a page over a bound of
:class:`~aggregator.extract.limits.PageLimits` is abandoned (``too_complex``).

Records of several files are replayed in ``WARC-Date`` order (files are merged, not
read one after the other), as the crawl saw them; the "same URL twice" check is per
crawl, as in the crawl. No network request is made.
"""

from __future__ import annotations

import heapq
import logging
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scrapy.http import Headers, JsonResponse, Response, TextResponse
from scrapy.responsetypes import responsetypes
from scrapy.settings import Settings

from aggregator.archive.warc import ArchivedResponse, read_warc
from aggregator.extract.article import ExtractionError, Hints, PageLimits, TooComplex
from aggregator.extract.limits import declares_html
from aggregator.items import Article
from aggregator.process.chain import Chain, Page, Rejected, prepare, validate
from aggregator.process.pool import (
    DEFAULT_MAX_PAGES,
    Answer,
    NotWritten,
    PageCrashed,
    WorkerLost,
    WorkerPool,
    WritingPool,
)
from aggregator.process.writer import InlineWriter, Results, StoreWriter, writer_for
from aggregator.sites.definition import SiteDefinition, SiteRegistry
from aggregator.store import SQLStore

__all__ = [
    "CrawlLimits",
    "ReextractReport",
    "hints_of",
    "reextract",
    "response_of",
    "site_for",
]

logger = logging.getLogger(__name__)

_HINT_FIELDS = ("section", "listing_date", "feed_date", "feed_section", "anchor_text")


@dataclass
class ReextractReport:
    """What a re-extraction read and did."""

    files: int = 0
    responses: int = 0  # response records read
    pages: int = 0  # article pages of known sites among them
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0  # copies of a story (exact or near)
    same_url: int = 0  # the same canonical URL again in one crawl: skipped, as in the crawl
    failed: int = 0  # not an article (extraction failed, empty title or body)
    lost: int = 0  # of them: the worker died or hung on the page
    #: of the ``failed``, those rejected as the crawl rejects them: over DOWNLOAD_MAXSIZE
    #: (as received or inflated), not HTML, over a page bound
    too_large: int = 0
    not_html: int = 0
    too_complex: int = 0
    by_site: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def rate(self) -> float:
        """Article pages per second so far."""
        return self.pages / max(time.monotonic() - self.started, 1e-9)

    def progress(self) -> str:
        """A progress line: pages so far and their rate."""
        return f"{self.pages} article pages, {self.rate():.0f} pages/s"

    def summary(self) -> str:
        """One line for the terminal."""
        line = (
            f"{self.pages} article pages in {self.responses} responses from {self.files} "
            f"WARC files: {self.inserted} new, {self.updated} updated, {self.unchanged} "
            f"unchanged, {self.duplicates} duplicates, {self.same_url} same URL again, "
            f"{self.failed} not articles"
        )
        rejected = {"too large": self.too_large, "not HTML": self.not_html,
                    "too complex": self.too_complex, "lost by a worker": self.lost}  # fmt: skip
        if any(rejected.values()):
            line += " (" + ", ".join(f"{n} {k}" for k, n in rejected.items() if n) + ")"
        return line + f"; {self.rate():.0f} pages/s"


@dataclass(frozen=True)
class CrawlLimits:
    """The limits a crawl applies to what it fetched, applied again on replay."""

    max_body: int  # DOWNLOAD_MAXSIZE: bytes of a body, as received or inflated
    page: PageLimits
    #: AGGREGATOR_WORKER_MAX_PAGES: pages a worker process extracts before it is replaced
    worker_pages: int = DEFAULT_MAX_PAGES

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> CrawlLimits:
        """The limits of a crawl with ``settings`` (default: the project's)."""
        if settings is None:
            settings = Settings()
            settings.setmodule("aggregator.settings", priority="project")
        return cls(
            settings.getint("DOWNLOAD_MAXSIZE"),
            PageLimits.from_settings(settings),
            settings.getint("AGGREGATOR_WORKER_MAX_PAGES", DEFAULT_MAX_PAGES),
        )


def site_for(
    url: str, sites: Sequence[SiteDefinition], crawl_site: str | None = None
) -> SiteDefinition | None:
    """The site an archived URL is an article of, if any.

    Among the sites whose domains and article regex match: the site the crawl was of,
    else the one whose base URL is the longest prefix of the URL, else the first.
    """
    for site in sites:  # the crawl's own site first: one test, not one per site
        if site.id == crawl_site and site.in_scope(url) and site.is_article(url):
            return site
    candidates = [s for s in sites if s.in_scope(url) and s.is_article(url)]
    if not candidates:
        return None
    prefixed = [s for s in candidates if _under(url, s.base_url)]
    if prefixed:
        return max(prefixed, key=lambda s: len(s.base_url))
    return candidates[0]


class _InScope:
    """The sites whose scope holds a URL, remembered per origin (scheme and host with its
    port, all that scope looks at): each record asks one or two sites, not every one."""

    def __init__(self, sites: Sequence[SiteDefinition]) -> None:
        self.sites = sites
        self.seen: dict[tuple[str, str], list[SiteDefinition]] = {}

    def __call__(self, url: str) -> Sequence[SiteDefinition]:
        try:
            origin = urlsplit(url)[:2]
        except ValueError:
            return self.sites
        found = self.seen.get(origin)
        if found is None:
            if len(self.seen) >= 10_000:  # a bound, whatever the archive holds
                self.seen.clear()
            found = self.seen[origin] = [s for s in self.sites if s.in_scope(url)]
        return found


def _under(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return a.netloc.lower() == b.netloc.lower() and a.path.startswith(b.path)


#: the headers Scrapy picks a response class by (their last value, as ``Headers`` gives)
_TYPE_HEADERS = {
    name.lower().decode(): name
    for name in (b"Content-Type", b"Content-Encoding", b"Content-Disposition")
}


def response_of(archived: ArchivedResponse) -> Response:
    """The Scrapy response the spider would have got (same class, same decoding)."""
    headers = Headers()
    for name, value in archived.headers:
        headers.appendlist(name, value.encode("latin-1", "replace"))
    cls = responsetypes.from_args(headers=headers, url=archived.url, body=archived.body)
    return cls(url=archived.url, status=archived.status, headers=headers, body=archived.body)


def hints_of(archived: ArchivedResponse) -> Hints:
    values = {k: archived.hints.get(k) for k in _HINT_FIELDS}
    return Hints(**{k: str(v) for k, v in values.items() if v is not None})


def _page(archived: ArchivedResponse, limits: PageLimits, report: ReextractReport) -> Page | None:
    """The archived page as the spider hands it on (None: not an HTML page, counted).
    What :func:`response_of` would give, without building the response: its class (by
    the headers Scrapy looks at, the URL, the body) and its last Content-Type."""
    last: dict[bytes, bytes] = {}
    for name, value in archived.headers:
        key = _TYPE_HEADERS.get(name.lower())
        if key is not None:
            last[key] = value.encode("latin-1", "replace")
    cls = responsetypes.from_args(headers=last, url=archived.url, body=archived.body)
    content_type = archived.header("Content-Type")
    if not issubclass(cls, TextResponse) or not declares_html(
        content_type, json=issubclass(cls, JsonResponse)
    ):
        logger.info("not an HTML page: %s", archived.url)
        report.not_html += 1
        return None
    declared = last.get(b"Content-Type")
    return Page(
        archived.url,
        archived.body,  # decoded by the worker, as the spider's response decodes it
        hints_of(archived),
        fetched_at=archived.date,
        etag=archived.header("ETag"),
        last_modified=archived.header("Last-Modified"),
        warc={"file": archived.file, "record_id": archived.record_id},
        limits=limits,
        content_type=declared.decode("latin-1") if declared else None,
    )


def _prepared(page: Page, site: SiteDefinition) -> Future[Article]:
    """:func:`prepare` in this process, as a settled future."""
    future: Future[Article] = Future()
    try:
        future.set_result(prepare(page, site))
    except Exception as exc:
        future.set_exception(exc)
    return future


def _responses(
    paths: Sequence[str | os.PathLike[str]], warn: Callable[[str], None] | None, max_body: int
) -> Iterator[ArchivedResponse]:
    """The response records of every file, merged in WARC-Date order."""
    streams = [read_warc(p, warn=warn, max_body=max_body) for p in paths]
    return heapq.merge(*streams, key=lambda r: r.date)


#: Articles written per transaction.
BATCH = 50


def reextract(
    paths: Iterable[str | os.PathLike[str]],
    store: SQLStore,
    registry: SiteRegistry,
    *,
    sites: Sequence[str] = (),
    warn: Callable[[str], None] | None = None,
    jobs: int = 0,
    progress: Callable[[ReextractReport], None] | None = None,
    limits: CrawlLimits | None = None,
) -> ReextractReport:
    """Re-extract the article pages archived in ``paths`` into ``store``.

    ``sites`` limits it to those site ids (default: every known site). Truncated files
    are read up to their last whole record (``warn`` is told). ``jobs`` worker processes
    extract (0: this process); ``progress`` is called after each page. ``limits``: the
    crawl's (default: those of the project's settings).
    """
    files = list(paths)
    known = [registry.get(s) for s in sites] if sites else list(registry)
    in_scope = _InScope(known)
    run = _Run(Chain(store), ReextractReport(files=len(files)), writer_for(store))
    limits = limits or CrawlLimits.from_settings()
    twin = store.twin() if jobs else None
    writing: _Chunks | None = None
    pool: WorkerPool | None = None
    if twin is not None:  # workers that write, each over its own connection
        writing = _Chunks(WritingPool(jobs, twin, run.chain.seen, max_pages=limits.worker_pages))
        pool = writing.pool
    elif jobs:  # a store no other connection sees: written here, prepared in workers
        pool = WorkerPool(jobs, max_pages=limits.worker_pages)
    # pages handed to the workers ahead of the one the chain takes next, in WARC order
    ahead: deque[tuple[str, str, SiteDefinition, Future[Article]]] = deque()
    try:
        for archived in _responses(files, warn, limits.max_body):
            run.report.responses += 1
            if not 200 <= archived.status < 300:
                continue
            site = site_for(archived.url, in_scope(archived.url), archived.site)
            if site is None:
                continue
            run.report.pages += 1
            run.report.by_site[site.id] += 1
            if archived.too_large:
                logger.warning("over %d bytes, not inflated: %s", limits.max_body, archived.url)
                run.report.too_large += 1
                run.report.failed += 1
                continue
            page = _page(archived, limits.page, run.report)
            if page is None:
                run.report.failed += 1
                continue
            if writing is not None and writing.add(page, site, archived.crawl, run, 2 * jobs):
                if progress:
                    progress(run.report)
                continue
            future = pool.submit(page, site) if pool and not writing else _prepared(page, site)
            ahead.append((archived.url, archived.crawl, site, future))
            while len(ahead) > 4 * jobs:
                run.take(*ahead.popleft())
                if progress:
                    progress(run.report)
        if writing is not None:
            writing.finish(run)
        while ahead:
            run.take(*ahead.popleft())
        run.flush()
        run.count(wait=True)
    finally:
        run.writer.close()
        if pool is not None:
            pool.close()
    return run.report


@dataclass
class _Chunks:
    """The pages handed to workers that write: chunks of :data:`BATCH` consecutive pages,
    each prepared, deduplicated and written by one worker in the chunks' order, their
    answers counted in order. Once workers cannot run, the chunks come back
    (:class:`~aggregator.process.pool.NotWritten`) and every page from the first of them
    on takes the in-process path."""

    pool: WritingPool
    chunk: list[tuple[Page, SiteDefinition, str]] = field(default_factory=list)
    sent: deque[tuple[list[tuple[Page, SiteDefinition, str]], Future[list[Answer]]]] = field(
        default_factory=deque
    )
    broken: bool = False

    def add(self, page: Page, site: SiteDefinition, crawl: str, run: _Run, ahead: int) -> bool:
        """Hand the page on (False: once workers cannot run, the caller takes it); with
        more than ``ahead`` chunks handed on, count the oldest one's answers first."""
        if self.broken:
            return False
        self.chunk.append((page, site, crawl))
        if len(self.chunk) >= BATCH:
            self._send()
        while len(self.sent) > ahead or (self.broken and self.sent):
            self._count(run)  # once broken: every page handed on, before the next one
        return True

    def finish(self, run: _Run) -> None:
        """Count every chunk's answers."""
        if not self.broken:
            self._send()
        while self.sent:
            self._count(run)

    def _send(self) -> None:
        chunk, self.chunk = self.chunk, []
        if chunk:
            self.sent.append((chunk, self.pool.submit_chunk(chunk)))

    def _count(self, run: _Run) -> None:
        chunk, future = self.sent.popleft()
        try:
            answers = future.result()
        except NotWritten:
            if not self.broken:
                self.broken = True
                if self.chunk:  # the pages not sent yet, last, the same way
                    self.sent.append((self.chunk, future))
                    self.chunk = []
            for page, site, crawl in chunk:
                run.take(page.url, crawl, site, _prepared(page, site))
            return
        except WorkerLost as exc:  # the pool stopped
            answers = [("lost", str(exc), None)] * len(chunk)
        except PageCrashed as exc:  # the chunk could not be handed to a worker
            answers = [("crash", str(exc), None)] * len(chunk)
        for (page, _, _), (status, detail, _) in zip(chunk, answers, strict=True):
            run.count_answer(page.url, status, detail)


@dataclass
class _Run:
    """The chain's side of a re-extraction: prepared articles in, batches handed to the
    store's writer thread (deduplicated and written there, in order, while this thread
    reads on)."""

    chain: Chain
    report: ReextractReport
    writer: StoreWriter | InlineWriter
    batch: list[tuple[Article, SiteDefinition]] = field(default_factory=list)
    written: deque[tuple[list[tuple[Article, SiteDefinition]], Future[Results]]] = field(
        default_factory=deque
    )

    def take(self, url: str, crawl: str, site: SiteDefinition, future: Future[Article]) -> None:
        try:
            article = future.result()
        except TooComplex as exc:
            self.count_answer(url, "too_complex", str(exc))
            return
        except ExtractionError as exc:
            self.count_answer(url, "extraction", str(exc))
            return
        except WorkerLost as exc:
            self.count_answer(url, "lost", str(exc))
            return
        except Exception as exc:  # a broken page must never stop the run
            self.count_answer(url, "crash", str(exc))
            return
        try:
            self.chain.first_time(validate(article), run=crawl)
        except Rejected as exc:
            if exc.reason == "same_url":
                self.report.same_url += 1
            else:
                self.report.failed += 1
            return
        self.batch.append((article, site))
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        if batch:
            self.written.append((batch, self.writer.submit(batch)))
        self.count()

    def count(self, wait: bool = False) -> None:
        """Count the batches written (``wait``: every batch handed over)."""
        while self.written and (wait or self.written[0][1].done()):
            batch, done = self.written.popleft()
            for (article, _), result in zip(batch, done.result(), strict=True):
                if isinstance(result, Exception):
                    raise result
                self.count_answer(
                    article.url, result, article.story.kind if article.story else None
                )

    def count_answer(self, url: str, status: str, detail: str | None) -> None:
        """Count what became of a page (see :data:`~aggregator.process.pool.Answer`)."""
        report = self.report
        if status in ("inserted", "updated", "unchanged"):
            setattr(report, status, getattr(report, status) + 1)
            report.duplicates += detail is not None
        elif status == "same_url":
            report.same_url += 1
        elif status == "error":  # the store's, on this article alone
            raise RuntimeError(f"cannot store {url}: {detail}")
        else:
            report.failed += 1
            if status == "too_complex":
                logger.warning("page abandoned, %s: %s", detail, url)
                report.too_complex += 1
            elif status == "extraction":
                logger.info("not an article: %s: %s", url, detail)
            elif status == "lost":
                logger.warning("extraction lost for %s: %s", url, detail)
                report.lost += 1
            elif status == "crash":
                logger.warning("extraction crashed on %s: %s", url, detail)
