"""Item pipelines: normalize → validate → deduplicate → store, one concern each.

They are plain Scrapy components built by ``from_crawler``; the store is opened in
``open_spider`` and closed in ``close_spider``. Counts go to the crawl stats under
``aggregator/...`` and, at the end of a crawl, into the store's crawl record.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import urlsplit

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from aggregator.dedup.fingerprints import fingerprint
from aggregator.items import Article, article_id
from aggregator.normalize.dates import to_vn
from aggregator.normalize.rules import split_source_tag
from aggregator.normalize.text import clean_text, looks_garbled
from aggregator.normalize.urls import canonicalize_url
from aggregator.sites.definition import SiteDefinition
from aggregator.store.base import (
    PageRecord,
    SQLStore,
    Store,
    StoreUnavailable,
    acquire_store,
    release_store,
)

__all__ = [
    "DedupPipeline",
    "NormalizePipeline",
    "StorePipeline",
    "ValidatePipeline",
    "assign_story",
    "normalize_article",
    "stop_for_lost_store",
    "store_is_lost",
]

logger = logging.getLogger(__name__)

#: A publication time further in the future than this is not believed.
FUTURE_TOLERANCE = timedelta(hours=1)


class _Component:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    def count(self, key: str, n: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, n)

    def open_store(self) -> SQLStore:
        """The crawl's store (``AGGREGATOR_DB``), opened; a lost PostgreSQL connection is
        retried for ``AGGREGATOR_DB_RETRY_SECONDS``."""
        settings = self.crawler.settings
        return acquire_store(
            settings.get("AGGREGATOR_DB"),
            retry_seconds=settings.getfloat("AGGREGATOR_DB_RETRY_SECONDS", 60.0),
        )

    def store_lost(self, exc: StoreUnavailable | None = None) -> NoReturn:
        """The store stayed out of reach: stop the crawl, drop the item in hand."""
        stop_for_lost_store(self.crawler, exc)
        # counted and logged once as an error already: one line per item would be noise
        raise DropItem(f"not stored: {exc or 'the store is unavailable'}", log_level="INFO")

    def store_is_lost(self) -> bool:
        """True once the store was given up: later items are dropped at once."""
        return store_is_lost(self.crawler)


_STORE_LOST = "aggregator/errors/store_unavailable"


def store_is_lost(crawler: Crawler) -> bool:
    return bool(crawler.stats and crawler.stats.get_value(_STORE_LOST))


def stop_for_lost_store(crawler: Crawler, exc: StoreUnavailable | None) -> None:
    """The store stayed out of reach beyond its retry bound: stop the crawl (reason
    ``store_unavailable``), once. What was stored stays, whole: each article is one
    transaction, never half-written; the ones in hand are not stored."""
    first = not store_is_lost(crawler)
    if crawler.stats is not None:
        crawler.stats.inc_value(_STORE_LOST)
    if first and exc is not None and crawler.engine is not None:
        logger.error("%s: stopping the crawl", exc)
        deferred_from_coro(crawler.engine.close_spider_async(reason="store_unavailable"))


def normalize_article(article: Article, site: SiteDefinition | None = None) -> Article:
    """Clean texts, split the source tag, map categories, set canonical URL and id."""
    article.title = clean_text(article.title)
    lead, tag = split_source_tag(clean_text(article.lead))
    article.lead, article.source_tag = lead, tag
    article.body_text = clean_text(article.body_text, multiline=True)
    article.authors = [clean_text(a) for a in article.authors if clean_text(a)]
    if article.section:
        article.section = clean_text(article.section)
    article.categories = list(site.categories_for(article.section)) if site else []
    article.category = article.categories[0] if article.categories else None
    for image in article.images:
        for key in ("caption", "credit"):
            image[key] = clean_text(image.get(key, ""))
    text = " ".join((article.title, article.lead, article.body_text))
    if "\ufffd" in text:
        article.flags.append("encoding_errors")
    if looks_garbled(text):
        article.flags.append("encoding_garbled")
    fetched = article.fetched_at or datetime.now(UTC)
    article.fetched_at = fetched
    if article.published is not None:
        if article.published > fetched + FUTURE_TOLERANCE:
            article.flags.append("date_in_future")
            article.published = None
        else:
            article.published = to_vn(article.published)
    if article.published is None:
        # the store dates it by the first time it was seen
        article.flags.append("date_first_seen")
    if article.updated is not None:
        article.updated = to_vn(article.updated)
    canonical = site.canonical_url(article.url) if site else canonicalize_url(article.url)
    if article.canonical_url:
        # rel=canonical counts only when it points to a web page of the same site
        candidate = (
            site.canonical_url(article.canonical_url)
            if site
            else canonicalize_url(article.canonical_url)
        )
        parts = urlsplit(candidate)
        if parts.scheme in ("http", "https") and parts.hostname == urlsplit(canonical).hostname:
            canonical = candidate
    article.canonical_url = canonical
    article.id = article_id(canonical)
    article.flags = list(dict.fromkeys(article.flags))
    return article


class NormalizePipeline(_Component):
    """Vietnamese text, dates, categories, canonical URL and id."""

    def process_item(self, item: Article) -> Article:
        return normalize_article(item, getattr(self.crawler.spider, "site_def", None))


#: Fields whose extraction layer is recorded for the health view.
HEALTH_FIELDS = ("title", "lead", "body", "published", "authors", "section", "image")


class ValidatePipeline(_Component):
    """Drop items that are not articles: no title, no body or no URL.

    Also records, for the health view, which layer gave each field of every page
    (``aggregator/layers/<field>/<layer>``, ``missing`` when none did).
    """

    def process_item(self, item: Article) -> Article:
        for name in HEALTH_FIELDS:
            self.count(f"aggregator/layers/{name}/{item.layers.get(name, 'missing')}")
        adapter = ItemAdapter(item)
        missing = [
            f for f in ("url", "title", "body_text") if not str(adapter.get(f) or "").strip()
        ]
        if missing:
            self.count(f"aggregator/errors/empty_{missing[0]}")
            raise DropItem(f"invalid article {item.url}: empty {', '.join(missing)}")
        if "date_first_seen" in item.flags:
            self.count("aggregator/date_first_seen")
        return item


class DedupPipeline(_Component):
    """One story, one original: by canonical URL, exact text and near-duplicate text.

    The same canonical URL twice in a crawl is dropped (across crawls the store
    updates the row). Exact and near copies (see :mod:`aggregator.dedup.fingerprints`) are kept
    with ``duplicate_of`` set to the earliest published copy of the story, found
    through the keys in the store, so across runs and sites alike.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.seen: set[str] = set()
        self.store: SQLStore | None = None

    def open_spider(self) -> None:
        self.store = self.open_store()

    def close_spider(self) -> None:
        if self.store is not None:
            release_store(self.store)
            self.store = None

    def process_item(self, item: Article) -> Article:
        if item.canonical_url in self.seen:
            self.count("aggregator/duplicates/url")
            # expected (an old URL with rel=canonical, a tracking link): not a warning
            raise DropItem(f"duplicate URL {item.canonical_url}", log_level="INFO")
        self.seen.add(item.canonical_url)
        assert self.store is not None, "store not open"
        if self.store_is_lost():
            self.store_lost()
        try:
            kind = assign_story(self.store, item)
        except StoreUnavailable as exc:
            self.store_lost(exc)
        if kind is not None:
            self.count(f"aggregator/duplicates/{kind}")
        return item


def _page_urls(article: Article, site: SiteDefinition | None) -> set[str]:
    fetched = site.canonical_url(article.url) if site else canonicalize_url(article.url)
    return {fetched, article.canonical_url}


def assign_story(store: Store, article: Article) -> str | None:
    """Fingerprint ``article`` and find its story among the stored articles.

    Sets ``fingerprint``, ``duplicate_of`` (the earliest published copy, or None when
    this is the earliest) and ``merge_roots`` (stories this one turns out to predate).
    Returns "exact" or "near" for a copy, None for a new story.
    """
    article.fingerprint = fp = fingerprint(article.body_text)
    copies = store.find_copies(fp, exclude_id=article.id)
    article.duplicate_of, article.merge_roots = None, []
    if not copies:
        return None
    roots = {c.root for c in copies} - {article.id}
    times = store.published_ts(sorted(roots))
    own = (article.published or article.fetched_at or datetime.now(UTC)).timestamp()
    earliest = min([(own, article.id), *((times[r], r) for r in roots if r in times)])[1]
    if earliest != article.id:
        article.duplicate_of = earliest
    article.merge_roots = sorted(roots - {earliest})
    return "exact" if any(c.kind == "exact" for c in copies) else "near"


class StorePipeline(_Component):
    """Upsert articles into the store (``AGGREGATOR_DB``)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.store: SQLStore | None = None
        self.started_at = datetime.now(UTC)
        # recorded when the crawl is over, so that the stats are complete
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        # an exception in any pipeline loses that item: count it as an error
        crawler.signals.connect(self.item_error, signal=signals.item_error)

    def item_error(self) -> None:
        self.count("aggregator/errors/pipeline")

    def _record_pages(self, item: Article) -> None:
        """Remember the article's URLs with their HTTP validators (incremental crawls)."""
        assert self.store is not None
        site = getattr(self.crawler.spider, "site_def", None)
        published = item.published.timestamp() if item.published else None
        checked = (item.fetched_at or datetime.now(UTC)).isoformat()
        self.store.record_pages([
            PageRecord(url, item.site, item.id, "article", item.etag, item.last_modified,
                       published, checked)
            for url in sorted(_page_urls(item, site))
        ])  # fmt: skip

    def open_spider(self) -> None:
        self.store = self.open_store()
        self.started_at = datetime.now(UTC)

    def spider_closed(self) -> None:
        if self.store is None:
            return
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        site = getattr(self.crawler.spider, "site_id", "?")
        summary = crawl_summary(stats)
        # sharing a Redis queue, a process that got no request of this site (the others
        # took them all) took no part in its crawl: no record, which would read "broken"
        idle_share = bool(self.crawler.settings.get("AGGREGATOR_REDIS_URL")) and (
            summary["requests"] == 0 and summary["finish_reason"] in (None, "finished")
        )
        if not self.store_is_lost() and not idle_share:
            try:
                self.store.record_crawl(site, self.started_at, datetime.now(UTC), summary)
            except StoreUnavailable as exc:
                logger.error("crawl of %s not recorded: %s", site, exc)
        release_store(self.store)
        self.store = None

    def process_item(self, item: Article) -> Article:
        store = self.store
        assert store is not None, "store not open"
        if self.store_is_lost():
            self.store_lost()

        def work() -> str:
            # one commit for the article, its page records and its story
            result = store.upsert(item, item.fingerprint)
            self._record_pages(item)
            if item.merge_roots:
                store.merge_stories(item.duplicate_of or item.id, item.merge_roots)
            return result

        try:
            result = store.transaction(work)
        except StoreUnavailable as exc:
            self.store_lost(exc)
        self.count(f"aggregator/articles/{result}")
        return item


def crawl_summary(stats: dict[str, Any]) -> dict[str, Any]:
    """The figures an operator reads per site: requests, responses by status, articles
    new / updated / duplicate / dropped (with reasons), the layer of each field, errors,
    duration."""

    def total(prefix: str) -> int:
        return sum(v for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int))

    def under(prefix: str) -> dict[str, int]:
        return {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}

    layers: dict[str, dict[str, int]] = {}
    for key, value in under("aggregator/layers/").items():
        name, _, layer = key.partition("/")
        layers.setdefault(name, {})[layer] = value
    start, finish = stats.get("start_time"), stats.get("finish_time")
    duration = (finish - start).total_seconds() if start and finish else None
    return {
        "requests": int(stats.get("downloader/request_count", 0)),
        "pages": int(stats.get("downloader/response_count", 0)),
        "statuses": {int(k): v for k, v in under("downloader/response_status_count/").items()},
        "not_modified": int(stats.get("aggregator/not_modified", 0)),
        "listing_pages": int(stats.get("aggregator/listing_pages", 0)),
        "inserted": int(stats.get("aggregator/articles/inserted", 0)),
        "updated": int(stats.get("aggregator/articles/updated", 0)),
        "unchanged": int(stats.get("aggregator/articles/unchanged", 0)),
        "duplicates": total("aggregator/duplicates/"),
        "duplicate_detail": under("aggregator/duplicates/"),
        # failed fetches (after retries), pages that failed extraction, dropped items
        "errors": total("aggregator/errors/"),
        "error_detail": {k: v for k, v in stats.items() if k.startswith("aggregator/errors/")},
        "layers": layers,
        # known articles met by an incremental crawl (skipped, re-checked, 304)
        "incremental": under("aggregator/incremental/"),
        "date_first_seen": int(stats.get("aggregator/date_first_seen", 0)),
        "duration_s": duration,
        "finish_reason": stats.get("finish_reason"),
    }
