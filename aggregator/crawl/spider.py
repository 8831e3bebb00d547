"""The one generic spider: every newspaper is a site definition, not a spider.

``scrapy crawl news -a site=ID``. It follows the definition's listing pages (with
bounded pagination), RSS/Atom feeds and sitemaps, stays inside the site's domains,
and yields an :class:`~aggregator.items.Article` for each article page. A page that
fails extraction is logged with its URL and reason, counted, and skipped.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urldefrag, urljoin

import scrapy
from lxml.etree import _Element
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import JsonResponse, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.python.failure import Failure

from aggregator.crawl.order import FETCH_ORDER, TICKET
from aggregator.crawl.storeloss import stop_for_lost_store, store_is_lost
from aggregator.crawl.writing import ChunkWriter
from aggregator.extract.article import (
    ExtractionError,
    Hints,
    PageLimits,
    TooComplex,
    section_from_url,
)
from aggregator.extract.limits import check_size, check_tree, declares_html, page_budget
from aggregator.extract.listings import anchor_texts, date_near, links
from aggregator.items import Article
from aggregator.process.chain import Page, prepare
from aggregator.process.pool import (
    DEFAULT_MAX_PAGES,
    Answer,
    NotWritten,
    PageCrashed,
    WorkerLost,
    WorkerPool,
    acquire_pool,
    default_jobs,
    release_pool,
)
from aggregator.sites.definition import SiteDefinition, load_sites, split_dirs
from aggregator.sites.links import link_shape
from aggregator.store import SQLStore, StoreUnavailable, acquire_store, open_store, release_store

__all__ = [
    "ARTICLE_MISSED",
    "GAVE_ARTICLE",
    "LOST",
    "REPEATED",
    "NewsSpider",
    "failure_class",
    "jobs_of",
]

#: ``response.meta`` key of an article page whose worker was lost: no page record, so that
#: the next crawl fetches it again
LOST = "aggregator_worker_lost"

#: ``response.meta`` key of an article page whose article the workers took on (stored, or
#: dropped as a duplicate or invalid): not a failed page
GAVE_ARTICLE = "aggregator_gave_article"

#: ``response.meta`` key of a listing page's article links not requested again: this crawl
#: requested them already (from another listing, a feed or a sitemap)
REPEATED = "aggregator_repeated_links"

#: Signal: an article URL was fetched and gave no article (an error, a lost worker, not
#: an article); sent with ``url``, the URL as fetched
ARTICLE_MISSED = object()


#: The exception a page's answer with no article stands for.
_FAILURES: dict[str, type[Exception]] = {
    "too_complex": TooComplex,
    "extraction": ExtractionError,
    "lost": WorkerLost,
    "crash": PageCrashed,
}


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


_CONNECTION_FAILURES = ("DownloadFailedError", "ResponseFailed", "ResponseNeverReceived")


def failure_class(failure: Failure) -> str:
    """What kind of failure a failed request met, as the crawl record and ``aggregator
    status`` name it (``aggregator/errors/<class>``): ``http_<status>``, ``timeout``,
    ``truncated`` (fewer bytes than announced), ``too_large`` (over DOWNLOAD_MAXSIZE, a
    decompression bomb), ``redirect_loop``, ``offsite_redirect`` and ``out_of_scope``
    (refused by the site's scope), ``internal_address`` (a host of the site resolving to
    an internal address), ``robots``, ``dns``, ``connection`` (refused, reset, lost), else
    the exception's name."""
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(DownloadTimeoutError):
        return "timeout"
    if failure.check(ResponseDataLossError):
        return "truncated"
    if failure.check(DownloadCancelledError):  # Scrapy cancels a download at DOWNLOAD_MAXSIZE
        return "too_large"
    if failure.check(IgnoreRequest):
        message = str(failure.value).lower()
        for needle, name in (
            ("redirection", "redirect_loop"),
            ("maxsize", "too_large"),
            ("robots.txt", "robots"),
            ("redirect off the site (internal address", "internal_address"),
            ("redirect off the site", "offsite_redirect"),
            ("off the site (internal address", "internal_address"),
            ("off the site", "out_of_scope"),
        ):
            if needle in message:
                return name
        return "ignored"
    if failure.check(CannotResolveHostError):
        return "dns"
    name = failure.type.__name__ if failure.type else "fetch"
    if "Connection" in name or name in _CONNECTION_FAILURES:
        return "connection"
    return name


def _html_declared(response: TextResponse) -> bool:
    """False when the Content-Type says the page is something else than HTML (a PDF or an
    image on an article URL: Scrapy picks the response class from the URL's ``.htm`` too)."""
    content_type = _header(response, b"Content-Type")
    return declares_html(content_type, json=isinstance(response, JsonResponse))


def _stored_article_urls(db: str, site_id: str) -> set[str]:
    """The URLs of a site that gave a stored article, for a crawl resuming one that was
    killed (``AGGREGATOR_RESUME``, ``aggregator crawl --resume``): every listing is read
    again, but what the killed crawl stored is not fetched again. The one place where the
    spider reads the store: it needs the set before the first request."""
    with open_store(db) as store:
        return store.known_article_urls(site_id)


def jobs_of(value: object) -> int:
    """``AGGREGATOR_JOBS`` as a number of workers: empty for the number of cores, 0 for none
    (extraction in the crawl's own process)."""
    if value is None or value == "":
        return default_jobs()
    jobs = int(str(value))
    if jobs < 0:
        raise ValueError(f"AGGREGATOR_JOBS={value}: expected a number of processes (>= 0)")
    return jobs


def load_site_for(crawler: Crawler, site_id: str) -> SiteDefinition:
    """The definition of ``site_id`` from bundled + configured folders."""
    dirs = split_dirs(crawler.settings.get("AGGREGATOR_SITES_DIRS") or "")
    return load_sites(dirs, strict=False).get(site_id)


#: :attr:`NewsSpider.article_urls` flags: an article URL linked from a listing page, requested
_LISTED, _REQUESTED = 1, 2


class NewsSpider(scrapy.Spider):
    """Generic news spider driven by a site definition."""

    name = "news"
    site_def: SiteDefinition
    allowed_domains: list[str]

    def __init__(
        self, site: str | None = None, site_def: SiteDefinition | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if site_def is not None:  # the scheduler passes the definition it validated
            site = site_def.id
        if not site:
            raise ValueError("the news spider needs a site: scrapy crawl news -a site=ID")
        self.site_id = site
        self._given_site = site_def
        self.listing_pages: dict[str, int] = {}
        #: ``aggregator crawl --resume``: canonical URLs whose article the store has already
        self.stored_urls: set[str] = set()
        #: article URLs of this crawl: seen on a listing (:data:`_LISTED`), requested
        #: (:data:`_REQUESTED`); and the listings' links matching no pattern
        self.article_urls: dict[str, int] = {}
        self.unmatched_urls: set[str] = set()
        self.limits = PageLimits()
        #: article links taken from one listing page or feed, requests the site may queue
        self.max_links = 500
        self.max_queued = 20_000
        #: the worker processes extracting article pages (None: in this process)
        self.pool: WorkerPool | None = None
        #: the worker processes that also deduplicate and write them (None: the pipelines
        #: do, in this process), over ``store``
        self.chunks: ChunkWriter | None = None
        self.store: SQLStore | None = None
        #: what the workers' answers tell the crawl stats, counted when the crawl closes
        self.marks: Counter[str] = Counter()
        self.jobs = 0
        self._in_process_before = self._retired_before = self._in_process = 0
        #: links naming the site's host out of its scope (``file:``, another port)
        self.refused_urls: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = cast(NewsSpider, super().from_crawler(crawler, *args, **kwargs))
        site = spider._given_site or load_site_for(crawler, spider.site_id)
        spider.site_def = site
        spider.allowed_domains = list(site.allowed_domains)
        settings = crawler.settings
        spider.limits = PageLimits.from_settings(settings)
        spider.max_links = settings.getint("AGGREGATOR_LISTING_MAX_LINKS", spider.max_links)
        spider.max_queued = settings.getint("AGGREGATOR_SITE_MAX_QUEUED", spider.max_queued)
        if settings.get("AGGREGATOR_REDIS_URL"):
            # a shared queue is filled and emptied by every process: this one's counts
            # do not tell its length (the per-page link cap still applies)
            spider.max_queued = 0
        settings.set("DOWNLOAD_DELAY", site.politeness.delay, priority="spider")
        settings.set(
            "CONCURRENT_REQUESTS_PER_DOMAIN", site.politeness.concurrency, priority="spider"
        )
        settings.set("AUTOTHROTTLE_ENABLED", site.politeness.autothrottle, priority="spider")
        settings.set("AUTOTHROTTLE_START_DELAY", max(site.politeness.delay, 0.1), "spider")
        if settings.getbool("AGGREGATOR_RESUME"):
            spider.stored_urls = _stored_article_urls(settings.get("AGGREGATOR_DB"), site.id)
        spider.jobs = jobs_of(settings.get("AGGREGATOR_JOBS"))
        crawler.signals.connect(spider._open_pool, signal=signals.spider_opened)
        crawler.signals.connect(spider._close_pool, signal=signals.spider_closed)
        # a redirect loop is an error (redirects off the site: aggregator.crawl.scope)
        crawler.signals.connect(spider._count_redirect_loop, signal=signals.request_dropped)
        return spider

    def _open_pool(self) -> None:
        if not self.jobs:
            return
        settings = self.crawler.settings
        timeout = settings.getfloat("AGGREGATOR_WORKER_TIMEOUT", 60.0)
        max_pages = settings.getint("AGGREGATOR_WORKER_MAX_PAGES", DEFAULT_MAX_PAGES)
        # opened by the store pipeline already: the shared connection
        self.store = acquire_store(
            settings.get("AGGREGATOR_DB"),
            retry_seconds=settings.getfloat("AGGREGATOR_DB_RETRY_SECONDS", 60.0),
        )
        self.chunks = ChunkWriter.acquire(
            self.store,
            self.jobs,
            size=max(1, settings.getint("AGGREGATOR_BATCH_SIZE", 1)),
            seconds=max(0.0, settings.getfloat("AGGREGATOR_BATCH_MS", 0) / 1000),
            timeout=timeout,
            max_pages=max_pages,
        )
        if self.chunks is None:  # no second connection: workers prepare, the pipelines write
            release_store(self.store)
            self.store = None
            self.pool = acquire_pool(self.jobs, timeout, max_pages)
        pool = self.chunks.pool if self.chunks is not None else self.pool
        assert pool is not None
        self._in_process_before = pool.in_process
        self._retired_before = pool.retired

    def _close_pool(self) -> None:
        pool = self.chunks.pool if self.chunks is not None else self.pool
        if pool is None:
            return
        stats = self.crawler.stats
        if stats is not None:
            for key, n in self.marks.items():
                stats.inc_value(f"aggregator/{key}", n)
            # workers could not run here (logged once by the pool): say so in the stats
            # (pages here: a writing pool counts the chunks it gave back)
            in_process = self._in_process or pool.in_process - self._in_process_before
            if in_process:
                stats.set_value("aggregator/pool/in_process", in_process)
            # workers replaced after AGGREGATOR_WORKER_MAX_PAGES pages (the pool's, shared)
            retired = pool.retired - self._retired_before
            if retired:
                stats.set_value("aggregator/pool/retired", retired)
        self.marks.clear()
        self._in_process = 0
        if self.chunks is not None:
            assert self.store is not None
            self.chunks.release(self.store, self._run)
            release_store(self.store)
            self.chunks, self.store = None, None
        if self.pool is not None:
            release_pool(self.pool)
            self.pool = None

    @property
    def _run(self) -> str:
        """This crawl's name for "the same URL twice in a run"."""
        return f"{self.site_id}#{id(self)}"

    def _count_redirect_loop(self, request: scrapy.Request) -> None:
        """A redirect back to a URL of its own chain is dropped by the dupefilter: count it."""
        FETCH_ORDER.settle(request.meta.pop(TICKET, None))  # a page never to be fetched
        chain = request.meta.get("redirect_urls") or []
        if request.url in chain:
            self.logger.warning("redirect loop: %s", " -> ".join([*chain, request.url]))
            self._count("aggregator/errors/redirect_loop")

    # -- entry points ---------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        site = self.site_def
        for url in site.start_urls["listings"]:
            yield scrapy.Request(
                url,
                callback=self.parse_listing,
                errback=self.on_error,
                cb_kwargs={"source": url},
                dont_filter=True,
            )
        for url in site.start_urls["feeds"]:
            yield scrapy.Request(
                url, callback=self.parse_feed, errback=self.on_error, dont_filter=True
            )
        for url in site.start_urls["sitemaps"]:
            yield scrapy.Request(
                url, callback=self.parse_sitemap, errback=self.on_error, dont_filter=True
            )

    # -- listings -------------------------------------------------------------------

    def parse_listing(self, response: Response, source: str) -> Iterator[Any]:
        """Queue the article links of a listing page and follow its pagination."""
        if not isinstance(response, TextResponse):
            self._count("aggregator/skipped/not_text")
            return
        self.listing_pages[source] = self.listing_pages.get(source, 0) + 1
        self._count("aggregator/listing_pages")
        try:
            with page_budget(self.limits.cpu_seconds):  # read whole, then handed over
                requests = list(self._listing_requests(response, source))
        except TooComplex as exc:
            self.logger.warning("listing page abandoned, %s: %s", exc, response.url)
            self._count("aggregator/errors/too_complex")
            return
        yield from requests

    def _listing_requests(self, response: TextResponse, source: str) -> Iterator[Any]:
        """The requests of a listing page, within the page's bounds (:class:`PageLimits`,
        ``max_links`` article links) and the site's (``max_queued``)."""
        section = section_from_url(response.url, self.site_def.base_url)
        site = self.site_def
        seen: set[str] = set()
        check_size(response.text, self.limits)
        root = response.selector.root
        if isinstance(root, _Element):
            check_tree(root, self.limits)
        refused: set[str] = set()
        found = list(links(root, response.url, site, refused)) if isinstance(root, _Element) else []
        for url in refused:
            self._refused(url, response.url)
        texts = anchor_texts(found)
        dates: dict[_Element, str | None] = {}
        repeated: list[str] = []
        room = self._room(response.url)
        for url, anchor in found:
            if url in seen:
                continue
            seen.add(url)
            if site.is_article(url):
                known = self.article_urls.get(url, 0)
                if not known & _LISTED:
                    self.article_urls[url] = known | _LISTED
                    self._count("aggregator/links/article")
                if known & _REQUESTED:
                    repeated.append(url)
                    continue
                if self._stored(url) or not next(room):
                    continue
                self._requesting(url)
                hints = Hints(
                    section=section,
                    listing_date=date_near(anchor, dates),
                    anchor_text=texts.get(url),
                )
                yield scrapy.Request(
                    url,
                    encoding=response.encoding,
                    callback=self.parse_article,
                    errback=self.on_error,
                    cb_kwargs={"hints": hints},
                )
            elif site.is_listing(url):
                if not self._same_source(url, source):
                    continue
                if self.listing_pages[source] < site.links.max_listing_pages:
                    yield scrapy.Request(
                        url,
                        encoding=response.encoding,
                        callback=self.parse_listing,
                        errback=self.on_error,
                        cb_kwargs={"source": source},
                    )
                else:
                    self._count("aggregator/listing_pages_capped")
            elif not site.is_excluded(url):
                self._unmatched(url)
        if repeated:
            response.meta[REPEATED] = repeated

    def _room(self, page_url: str, max_links: int | None = None) -> Iterator[bool]:
        """For each article link of a page in turn: is there room for its request? Not
        past ``max_links`` links of the page (default ``AGGREGATOR_LISTING_MAX_LINKS``)
        nor when the site's queue holds ``AGGREGATOR_SITE_MAX_QUEUED`` requests. A cap hit
        is logged and counted once per page (``aggregator/capped/listing_links``,
        ``aggregator/capped/queue``); the page's other links (its pagination) are kept."""
        limit = self.max_links if max_links is None else max_links
        taken = 0
        while True:
            if limit and taken >= limit:
                break
            # the page's requests are scheduled once it is read (the incremental
            # middleware sees them all first): those before it, plus those it gave
            if self.max_queued and self._queued() + taken >= self.max_queued:
                self.logger.warning(
                    "the queue holds %d requests: links of %s dropped", self.max_queued, page_url
                )
                self._count("aggregator/capped/queue")
                while True:
                    yield False
            taken += 1
            yield True
        self.logger.warning("over %d article links on %s: the rest dropped", limit, page_url)
        self._count("aggregator/capped/listing_links")
        while True:
            yield False

    def _queued(self) -> int:
        """Requests in the site's queue (the scheduler's own counts)."""
        stats = self.crawler.stats
        if stats is None:
            return 0
        enqueued = int(stats.get_value("scheduler/enqueued", 0))
        return enqueued - int(stats.get_value("scheduler/dequeued", 0))

    def _unmatched(self, url: str) -> None:
        """A link of a listing page that matches neither pattern (nor an exclusion):
        counted once per crawl; when it looks like an article or a listing's page, its
        shape too (``aggregator/links/unmatched_shapes/<kind> <shape>``). Many of one
        shape mean a pattern that misses the site's articles or pagination."""
        if url in self.unmatched_urls:
            return
        self.unmatched_urls.add(url)
        self._count("aggregator/links/unmatched")
        shape, kind = link_shape(url)
        if kind is not None:
            self._count(f"aggregator/links/unmatched_{kind}")
            self._count(f"aggregator/links/unmatched_shapes/{kind} {shape}")

    def _refused(self, url: str, page: str) -> None:
        """A link, feed item or sitemap entry naming one of the site's hosts, out of its
        scope all the same (``file:``, another port): not followed, logged and counted
        once per crawl."""
        why = self.site_def.scope.refusal(url)
        if why is None or not self.site_def.scope.own_host(url) or url in self.refused_urls:
            return
        self.refused_urls.add(url)
        self.logger.warning("link off the site not followed (%s): %s on %s", why, url, page)
        self._count("aggregator/refused/link")

    def _requested(self, url: str) -> bool:
        """True when this crawl requested ``url``'s article already: a second request
        would only be dropped by the scheduler's duplicate filter, after going through
        every spider middleware (a listing links most articles more than once)."""
        return bool(self.article_urls.get(url, 0) & _REQUESTED)

    def _requesting(self, url: str) -> None:
        self.article_urls[url] = self.article_urls.get(url, 0) | _REQUESTED

    def _stored(self, url: str) -> bool:
        """True when resuming and the store holds this URL's article already."""
        if self.stored_urls and self.site_def.canonical_url(url) in self.stored_urls:
            self._count("aggregator/resume/skipped")
            return True
        return False

    def _same_source(self, url: str, source: str) -> bool:
        """Pagination of a source stays in its section (first path segment)."""
        base = self.site_def.base_url
        return section_from_url(url, base) == section_from_url(source, base)

    # -- feeds and sitemaps ---------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[Any]:
        """RSS 2.0 / Atom: queue the article links with their dates and sections."""
        self._count("aggregator/feeds")
        if not isinstance(response, TextResponse):
            self._count("aggregator/errors/feed")
            return
        sel = scrapy.Selector(response=response, type="xml")
        sel.remove_namespaces()
        room = self._room(response.url)
        for item in sel.xpath("//item | //entry"):
            link = item.xpath("link/@href").get() or item.xpath("link/text()").get() or ""
            url = urldefrag(urljoin(response.url, link.strip()))[0]
            if not url or not self.site_def.in_scope(url):
                self._refused(url, response.url)
                continue
            if not self.site_def.is_article(url):
                continue
            url = self.site_def.link_url(url)
            if self._requested(url) or self._stored(url) or not next(room):
                continue
            self._requesting(url)
            hints = Hints(
                feed_date=(item.xpath("pubDate/text() | published/text()").get() or "").strip()
                or None,
                feed_section=(item.xpath("category/text() | category/@term").get() or "").strip()
                or None,
                anchor_text=(item.xpath("title/text()").get() or "").strip() or None,
            )
            yield scrapy.Request(
                url, callback=self.parse_article, errback=self.on_error, cb_kwargs={"hints": hints}
            )

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        """Sitemaps and sitemap indexes (robots.txt ``Sitemap:`` lines too)."""
        if response.url.endswith("/robots.txt"):
            for url in sitemap_urls_from_robots(response.text, base_url=response.url):
                yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.on_error)
            return
        try:
            sitemap = Sitemap(response.body)
        except Exception as exc:  # lxml raises XMLSyntaxError and friends
            self.logger.warning("bad sitemap %s: %s", response.url, exc)
            self._count("aggregator/errors/sitemap")
            return
        room = self._room(response.url, max_links=0)  # 50,000 URLs a sitemap, by its spec
        for entry in sitemap:
            loc = (entry.get("loc") or "").strip()
            # only URLs in the site's scope: an entity left unexpanded gives an empty loc
            if not self.site_def.in_scope(loc):
                self._refused(loc, response.url)
                continue
            if sitemap.type == "sitemapindex":
                yield scrapy.Request(loc, callback=self.parse_sitemap, errback=self.on_error)
            elif (
                self.site_def.is_article(loc)
                and not self._requested(url := self.site_def.link_url(loc))
                and not self._stored(loc)
                and next(room)
            ):
                self._requesting(url)
                hints = Hints(feed_date=entry.get("lastmod"))
                yield scrapy.Request(
                    url,
                    callback=self.parse_article,
                    errback=self.on_error,
                    cb_kwargs={"hints": hints},
                )

    # -- articles -------------------------------------------------------------------

    async def parse_article(self, response: Response, hints: Hints) -> list[Article]:
        """Extract one article (in a worker process when there are any); a failure is
        logged with URL and reason and counted. A coroutine returning a list, not an
        asynchronous generator: Scrapy passes a list through its spider middlewares'
        plain methods, an asynchronous generator through a generator per middleware.

        With workers that write (:mod:`aggregator.crawl.writing`), the page goes to them
        whole, and this returns, with nothing, once its chunk is committed."""
        ticket = response.meta.pop(TICKET, None)
        if ticket is None:
            ticket = FETCH_ORDER.take()
        try:
            page = self._page(response, hints)
            if page is not None and self.chunks is not None:
                answer = await self._hand_over(page, ticket)
                article = await self._answered(page, answer, response.meta)
            else:
                article = await self._prepare(page, response.meta) if page else None
        except BaseException:
            FETCH_ORDER.settle(ticket)
            raise
        if article is not None:
            FETCH_ORDER.own(article, ticket)
            return [article]
        FETCH_ORDER.settle(ticket)
        if response.status != 304 and not response.meta.get(GAVE_ARTICLE):
            self._missed(response.url)
        return []

    def _page(self, response: Response, hints: Hints) -> Page | None:
        """The article page to extract, or None (counted)."""
        if response.status == 304:  # a conditional re-check: the page did not change
            self._count("aggregator/not_modified")
            return None
        if not isinstance(response, TextResponse) or not _html_declared(response):
            self.logger.warning("not an HTML page: %s", response.url)
            self._count("aggregator/errors/not_html")
            return None
        return Page(
            response.url,
            response.body,  # decoded where it is extracted (a worker process)
            hints,
            # the archived record's WARC-Date, so that re-extracting it gives the same article
            fetched_at=response.meta.get("warc_date") or datetime.now(UTC),
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            warc=response.meta.get("warc"),
            limits=self.limits,
            content_type=_header(response, b"Content-Type"),
        )

    async def _prepare(self, page: Page, meta: dict[str, Any]) -> Article | None:
        """The article of ``page``, or None (logged and counted)."""
        try:
            if self.pool is None:
                article = prepare(page, self.site_def)
            else:
                article = await asyncio.wrap_future(self.pool.submit(page, self.site_def))
        except Exception as exc:
            self._failed(page, exc, meta)
            return None
        return article  # what the crawl counts of it: ValidatePipeline

    def _failed(self, page: Page, exc: Exception, meta: dict[str, Any]) -> None:
        """Log and count a page that gave no article."""
        if isinstance(exc, TooComplex):
            self.logger.warning("page abandoned, %s: %s", exc, page.url)
            self._count("aggregator/errors/too_complex")
        elif isinstance(exc, ExtractionError):
            self.logger.warning("extraction failed for %s: %s", page.url, exc)
            self._count("aggregator/errors/extraction")
        elif isinstance(exc, WorkerLost):  # not a verdict on the page: fetched again next time
            self.logger.error("extraction lost for %s: %s", page.url, exc)
            self._count("aggregator/errors/worker_lost")
            meta[LOST] = True
        else:  # a broken page must never stop the crawl
            self.logger.error("extraction crashed on %s: %s", page.url, exc)
            self._count("aggregator/errors/extraction")

    async def _hand_over(self, page: Page, ticket: int) -> Answer | Exception:
        """The workers' answer for ``page``, handed over in its turn (``ticket``): or the
        exception that lost its chunk."""
        assert self.chunks is not None
        await FETCH_ORDER.turn_of(ticket)
        if store_is_lost(self.crawler):  # the crawl stops: not handed over
            FETCH_ORDER.settle(ticket)
            return StoreUnavailable("the store is unavailable")
        answer = self.chunks.add(page, self.site_def, self._run)
        FETCH_ORDER.settle(ticket)
        try:
            return await answer
        except Exception as exc:
            return exc

    async def _answered(
        self, page: Page, answer: Answer | Exception, meta: dict[str, Any]
    ) -> Article | None:
        """Count what the workers did with ``page``; an article only when they could not
        take it (:class:`NotWritten`: prepared here, for the pipelines)."""
        if isinstance(answer, NotWritten):
            self._in_process += 1
            return await self._prepare(page, meta)
        if isinstance(answer, StoreUnavailable):
            stop_for_lost_store(self.crawler, answer)
            meta[GAVE_ARTICLE] = True  # not a failed page, nor a missed one
            return None
        if isinstance(answer, Exception):  # the pool stopped, the chunk could not be sent
            self._failed(page, answer, meta)
            return None
        status, detail, marks = answer
        if marks is None:
            self._failed(page, _FAILURES[status](detail), meta)
            return None
        meta[GAVE_ARTICLE] = True
        self.marks.update(marks)
        if status == "rejected":
            self.logger.warning("Dropped: %s", detail)
        elif status == "same_url":  # expected (an old URL with rel=canonical): not a warning
            self.logger.info("Dropped: duplicate URL %s", detail)
        elif status == "error":  # the store's, on this article alone
            self.logger.error("Error processing %s: %s", page.url, detail)
            self._count("aggregator/errors/pipeline")
        else:
            self._count(f"aggregator/articles/{status}")
            if detail is not None:
                self._count(f"aggregator/duplicates/{detail}")
        return None

    def on_error(self, failure: Failure) -> None:
        """A request that failed (HTTP error status, timeout, refused): log and count."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if request is not None:  # an article page that failed gives its turn up
            FETCH_ORDER.settle(request.meta.pop(TICKET, None))
            if request.callback == self.parse_article:
                self._missed(url)
        kind = failure_class(failure)
        if failure.check(HttpError):
            self.logger.warning("HTTP %s for %s", failure.value.response.status, url)
        else:
            message = failure.getErrorMessage() or (failure.type.__name__ if failure.type else "")
            self.logger.warning("fetch failed (%s) for %s: %s", kind, url, message)
        self._count(f"aggregator/errors/{kind}")

    def _missed(self, url: str) -> None:
        self.crawler.signals.send_catch_log(ARTICLE_MISSED, url=url)

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)
