"""Incremental crawling: touch only what changed since the last crawl of a site.

A spider middleware, so that the spider itself knows nothing of the store. Once a
site has pages in the store:

- the crawl starts from the site's ``latest`` pages (the home page by default)
  instead of its section listings; only when a latest page shows an unknown article
  are the section listings fetched;
- a listing page whose articles are all known ends that listing's pagination;
- a known article is not fetched again, unless it is recent (published within
  ``AGGREGATOR_RECHECK_HOURS``, default 48): then it is re-checked with
  ``If-None-Match`` / ``If-Modified-Since`` from the store, and a 304 costs nothing;
- a URL that gave no article (dead link, error page) is retried only after the same
  age.

After a crawl of the site that did not finish (interrupted, stopped on an error),
every listing and all of its pagination is read again, still skipping the known
articles: what the unfinished crawl stored must not hide the pages it never reached.

``AGGREGATOR_FULL_CRAWL`` (``aggregator crawl --full``) switches all of this off.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from aggregator.crawl.spider import GAVE_ARTICLE, LOST, REPEATED
from aggregator.crawl.storeloss import stop_for_lost_store, store_is_lost
from aggregator.items import Article
from aggregator.store import (
    PageRecord,
    SQLStore,
    StoreUnavailable,
    acquire_store,
    release_store,
)

__all__ = ["IncrementalMiddleware"]


def _now() -> datetime:
    return datetime.now(UTC)


class IncrementalMiddleware:
    """Spider middleware applying the incremental policy above."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.recheck = timedelta(hours=settings.getfloat("AGGREGATOR_RECHECK_HOURS", 48))
        self.db = settings.get("AGGREGATOR_DB")
        self.store: SQLStore | None = None
        self.active = False
        self.exhaustive = False  # the last crawl did not finish: every listing, all pages
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalMiddleware:
        if crawler.settings.getbool("AGGREGATOR_FULL_CRAWL"):
            raise NotConfigured  # no message: Scrapy logs a message as a warning
        return cls(crawler)

    def spider_opened(self) -> None:
        retry = self.crawler.settings.getfloat("AGGREGATOR_DB_RETRY_SECONDS", 60.0)
        self.store = acquire_store(self.db, retry_seconds=retry)
        site_id = self._site().id
        self.active = self.store.site_known(site_id)
        if self.active:
            last = self.store.crawl_history(site_id, 1)
            reason = last[0].stats.get("finish_reason") if last else "finished"
            self.exhaustive = reason not in (None, "finished")
            if self.exhaustive:
                self._count("after_unfinished")

    def spider_closed(self) -> None:
        if self.store is not None:
            release_store(self.store)
            self.store = None

    def _site(self) -> Any:
        return self.crawler.spider.site_def  # type: ignore[union-attr]

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"aggregator/incremental/{key}")

    # -- start: latest pages instead of every listing -------------------------------------

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        spider = self.crawler.spider
        listing_starts = []
        async for request in start:
            held = self.active and not self.exhaustive
            if held and isinstance(request, Request) and _is_listing(request, spider):
                listing_starts.append(request)
                continue
            yield request
        if not self.active:
            return
        # the section listings wait until a latest page shows something new
        self.pending_listings = listing_starts
        for url in self._site().start_urls["latest"]:
            yield Request(
                url,
                callback=spider.parse_listing,  # type: ignore[union-attr]
                errback=spider.on_error,  # type: ignore[union-attr]
                cb_kwargs={"source": url},
                meta={"aggregator_latest": True},
                dont_filter=True,
            )

    # -- output of every page ----------------------------------------------------------

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        """A page's output, filtered (Scrapy calls this one for a callback's list or
        generator, :meth:`process_spider_output_async` for an asynchronous generator)."""
        return self._filter(response, list(result))

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        for o in self._filter(response, [o async for o in result]):
            yield o

    def _filter(self, response: Response, out: list[Any]) -> list[Any]:
        spider = self.crawler.spider
        if self.store is None:
            return out
        request = response.request
        if request is not None and request.callback == getattr(spider, "parse_article", None):
            self._record_article_page(response, out)
            return out
        if not self.active:
            return out
        unknown = 0
        kept: list[Any] = []
        later: list[Request] = []
        for o in out:
            if isinstance(o, Request) and o.callback == getattr(spider, "parse_article", None):
                checked = self._check_article(o)
                if checked is not None:
                    unknown += checked is o
                    kept.append(checked)
            elif isinstance(o, Request) and _is_listing(o, spider):
                later.append(o)  # pagination: only past a page with something new
            else:
                kept.append(o)
        if not unknown and not self.exhaustive:  # links requested already count as they are
            unknown = any(self._unknown(url) for url in response.meta.get(REPEATED, ()))
        if unknown or self.exhaustive:
            kept.extend(later)
            if response.meta.get("aggregator_latest"):
                kept.extend(getattr(self, "pending_listings", []))
                self.pending_listings = []
        else:
            self._count("listing_all_known")
        return kept

    def _check_article(self, request: Request) -> Request | None:
        """The request to make for an article link: as is, conditional, or none."""
        readable, page = self._lookup(request.url)
        if not readable:
            return None
        if page is None:
            return request
        now = _now()
        if page.status == "failed":
            if now - datetime.fromisoformat(page.checked_at) < self.recheck:
                self._count("skipped_failed")
                return None
            return request
        recent = page.published_ts is not None and (
            now - datetime.fromtimestamp(page.published_ts, UTC) < self.recheck
        )
        if not recent:
            self._count("skipped_known")
            return None
        conditional = request.replace(
            meta={**request.meta, "handle_httpstatus_list": [304]}, dont_filter=True
        )
        if page.etag:
            conditional.headers["If-None-Match"] = page.etag
        if page.last_modified:
            conditional.headers["If-Modified-Since"] = page.last_modified
        self._count("conditional")
        return conditional

    def _unknown(self, url: str) -> bool:
        """Whether an article link is one :meth:`_check_article` requests as it is: no
        record of its page, or a failed page due for another try."""
        readable, page = self._lookup(url)
        if not readable or page is None:
            return readable
        checked = datetime.fromisoformat(page.checked_at)
        return page.status == "failed" and _now() - checked >= self.recheck

    def _lookup(self, url: str) -> tuple[bool, PageRecord | None]:
        """(False, None) when the store is lost, else (True, its record of the link's page)."""
        assert self.store is not None
        if store_is_lost(self.crawler):
            return False, None
        try:
            return True, self.store.page(self._site().canonical_url(url))
        except StoreUnavailable as exc:
            stop_for_lost_store(self.crawler, exc)
            return False, None

    def _record_article_page(self, response: Response, out: list[Any]) -> None:
        """Remember what an article URL gave: an article (the store records its validators
        with it), nothing (a failed page), or 304 (only the check time changes); not a
        page whose extraction worker was lost, which the next crawl fetches again."""
        assert self.store is not None
        site = self._site()
        url = site.canonical_url(response.url)
        now = _now().isoformat()
        if store_is_lost(self.crawler) or response.meta.get(LOST):
            return
        try:
            if response.status == 304:
                self.store.touch_page(url, now)
            elif not response.meta.get(GAVE_ARTICLE) and not any(
                isinstance(o, Article) for o in out
            ):
                failed = PageRecord(url, site.id, None, "failed", None, None, None, now)
                self.store.record_page(failed)
        except StoreUnavailable as exc:
            stop_for_lost_store(self.crawler, exc)


def _is_listing(request: Request, spider: Any) -> bool:
    return request.callback == getattr(spider, "parse_listing", None)
