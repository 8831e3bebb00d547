"""The one generic spider: every newspaper is a site definition, not a spider.

``scrapy crawl news -a site=ID``. It follows the definition's listing pages (with
bounded pagination), RSS/Atom feeds and sitemaps, stays inside the site's domains,
and yields an :class:`~aggregator.items.Article` for each article page. A page that
fails extraction is logged with its URL and reason, counted, and skipped.
"""

from __future__ import annotations

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

from aggregator.extract.article import ExtractionError, Hints, extract_article, section_from_url
from aggregator.extract.listings import anchor_texts, date_near, links
from aggregator.items import Article
from aggregator.sites.definition import SiteDefinition, load_sites, split_dirs
from aggregator.sites.links import link_shape
from aggregator.store import open_store

__all__ = ["NewsSpider", "failure_class"]


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
    declared = (_header(response, b"Content-Type") or "").split(";")[0].strip().lower()
    if not declared or declared.startswith("text/") or "html" in declared:
        return not isinstance(response, JsonResponse)
    return declared in ("application/octet-stream", "application/xml")


def _stored_article_urls(db: str, site_id: str) -> set[str]:
    """The URLs of a site that gave a stored article, for a crawl resuming one that was
    killed (``AGGREGATOR_RESUME``, ``aggregator crawl --resume``): every listing is read
    again, but what the killed crawl stored is not fetched again. The one place where the
    spider reads the store: it needs the set before the first request."""
    with open_store(db) as store:
        return store.known_article_urls(site_id)


def load_site_for(crawler: Crawler, site_id: str) -> SiteDefinition:
    """The definition of ``site_id`` from bundled + configured folders."""
    dirs = split_dirs(crawler.settings.get("AGGREGATOR_SITES_DIRS") or "")
    return load_sites(dirs).get(site_id)


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
        #: canonical URLs of the listings' links: to articles, and matching no pattern
        self.article_urls: set[str] = set()
        self.unmatched_urls: set[str] = set()
        #: links naming the site's host out of its scope (``file:``, another port)
        self.refused_urls: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = cast(NewsSpider, super().from_crawler(crawler, *args, **kwargs))
        site = spider._given_site or load_site_for(crawler, spider.site_id)
        spider.site_def = site
        spider.allowed_domains = list(site.allowed_domains)
        settings = crawler.settings
        settings.set("DOWNLOAD_DELAY", site.politeness.delay, priority="spider")
        settings.set(
            "CONCURRENT_REQUESTS_PER_DOMAIN", site.politeness.concurrency, priority="spider"
        )
        settings.set("AUTOTHROTTLE_ENABLED", site.politeness.autothrottle, priority="spider")
        settings.set("AUTOTHROTTLE_START_DELAY", max(site.politeness.delay, 0.1), "spider")
        if settings.getbool("AGGREGATOR_RESUME"):
            spider.stored_urls = _stored_article_urls(settings.get("AGGREGATOR_DB"), site.id)
        # a redirect loop is an error (redirects off the site: aggregator.crawl.scope)
        crawler.signals.connect(spider._count_redirect_loop, signal=signals.request_dropped)
        return spider

    def _count_redirect_loop(self, request: scrapy.Request) -> None:
        """A redirect back to a URL of its own chain is dropped by the dupefilter: count it."""
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
        section = section_from_url(response.url, self.site_def.base_url)
        site = self.site_def
        seen: set[str] = set()
        root = response.selector.root
        refused: set[str] = set()
        found = list(links(root, response.url, site, refused)) if isinstance(root, _Element) else []
        for url in refused:
            self._refused(url, response.url)
        texts = anchor_texts(found)
        for url, anchor in found:
            if url in seen:
                continue
            seen.add(url)
            if site.is_article(url):
                if url not in self.article_urls:
                    self.article_urls.add(url)
                    self._count("aggregator/links/article")
                if self._stored(url):
                    continue
                hints = Hints(
                    section=section, listing_date=date_near(anchor), anchor_text=texts.get(url)
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
        for item in sel.xpath("//item | //entry"):
            link = item.xpath("link/@href").get() or item.xpath("link/text()").get() or ""
            url = urldefrag(urljoin(response.url, link.strip()))[0]
            if not url or not self.site_def.in_scope(url):
                self._refused(url, response.url)
                continue
            if not self.site_def.is_article(url):
                continue
            url = self.site_def.link_url(url)
            if self._stored(url):
                continue
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
        for entry in sitemap:
            loc = (entry.get("loc") or "").strip()
            # only URLs in the site's scope: an entity left unexpanded gives an empty loc
            if not self.site_def.in_scope(loc):
                self._refused(loc, response.url)
                continue
            if sitemap.type == "sitemapindex":
                yield scrapy.Request(loc, callback=self.parse_sitemap, errback=self.on_error)
            elif self.site_def.is_article(loc) and not self._stored(loc):
                hints = Hints(feed_date=entry.get("lastmod"))
                yield scrapy.Request(
                    self.site_def.link_url(loc),
                    callback=self.parse_article,
                    errback=self.on_error,
                    cb_kwargs={"hints": hints},
                )

    # -- articles -------------------------------------------------------------------

    def parse_article(self, response: Response, hints: Hints) -> Iterator[Article]:
        """Extract one article; a failure is logged with URL and reason and counted."""
        if response.status == 304:  # a conditional re-check: the page did not change
            self._count("aggregator/not_modified")
            return
        if not isinstance(response, TextResponse) or not _html_declared(response):
            self.logger.warning("not an HTML page: %s", response.url)
            self._count("aggregator/errors/not_html")
            return
        try:
            found = extract_article(response.url, response.text, self.site_def, hints)
        except ExtractionError as exc:
            self.logger.warning("extraction failed for %s: %s", response.url, exc)
            self._count("aggregator/errors/extraction")
            return
        except Exception as exc:  # a broken page must never stop the crawl
            self.logger.exception("extraction crashed on %s: %s", response.url, exc)
            self._count("aggregator/errors/extraction")
            return
        yield found.to_article(
            self.site_def,
            # the archived record's WARC-Date, so that re-extracting it gives the same article
            fetched_at=response.meta.get("warc_date") or datetime.now(UTC),
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            warc=response.meta.get("warc"),
        )

    def on_error(self, failure: Failure) -> None:
        """A request that failed (HTTP error status, timeout, refused): log and count."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        kind = failure_class(failure)
        if failure.check(HttpError):
            self.logger.warning("HTTP %s for %s", failure.value.response.status, url)
        else:
            message = failure.getErrorMessage() or (failure.type.__name__ if failure.type else "")
            self.logger.warning("fetch failed (%s) for %s: %s", kind, url, message)
        self._count(f"aggregator/errors/{kind}")

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)
