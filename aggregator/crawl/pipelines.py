"""Item pipelines: the processing chain's steps after the spider's :func:`prepare
<aggregator.process.chain.prepare>` (extract, normalize, fingerprint) — validate →
deduplicate → store, :mod:`aggregator.process.chain` — as Scrapy components, one step
each, for a crawl without workers that write (``--jobs 0``, a store in memory, workers
that cannot run; with them, :mod:`aggregator.crawl.writing`). The store pipeline writes
articles in batches, one transaction each (``AGGREGATOR_BATCH_SIZE`` articles or
``AGGREGATOR_BATCH_MS``).

They add only what belongs to Scrapy: counts in the crawl stats under
``aggregator/...`` (and, at the end of a crawl, in the store's crawl record), a
``DropItem`` for an article the chain rejects, and the store's lifetime (opened in
``open_spider``, closed in ``close_spider``; per process, one connection on the reactor and
one on the writer thread, which dedups and writes the batches).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any, ClassVar, NoReturn

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from aggregator.crawl.order import FETCH_ORDER
from aggregator.crawl.spider import ARTICLE_MISSED
from aggregator.crawl.storeloss import stop_for_lost_store, store_is_lost
from aggregator.items import Article
from aggregator.process.chain import Chain, Rejected, marks, validate
from aggregator.process.writer import Results, writer_for
from aggregator.sites.definition import SiteDefinition
from aggregator.store import SQLStore, StoreUnavailable, acquire_store, release_store
from aggregator.store.records import UpsertResult

__all__ = [
    "DedupPipeline",
    "StorePipeline",
    "ValidatePipeline",
    "crawl_summary",
    "top_shapes",
]

logger = logging.getLogger(__name__)


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


class ValidatePipeline(_Component):
    """Drop items that are not articles: no title, no body or no URL.

    Also records what the crawl counts of every article (:func:`~aggregator.process.chain.marks`:
    for the health view, which layer gave each field, ``missing`` when none did; the bounds
    of its size it hit; a date only its first sighting gave): counted here, into the crawl
    stats when the spider closes (a stats call per key and article less on the crawl's one
    thread).
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.marks: Counter[str] = Counter()

    def close_spider(self) -> None:
        for key, n in self.marks.items():
            self.count(f"aggregator/{key}", n)
        self.marks.clear()

    def process_item(self, item: Article) -> Article:
        try:
            validate(item)
        except Rejected as exc:
            self.marks.update(marks(item, valid=False))
            self.count(f"aggregator/errors/{exc.reason}")
            raise DropItem(str(exc)) from None
        self.marks.update(marks(item, valid=True))
        return item


class DedupPipeline(_Component):
    """One story, one original: by canonical URL, exact text and near-duplicate text,
    in the order the pages were fetched (:class:`FetchOrder`).

    The same canonical URL twice in a crawl is dropped here (across crawls the store
    updates the row). Exact and near copies (see :mod:`aggregator.dedup`) are kept
    with ``duplicate_of`` set to the earliest published copy of the story, found
    through the keys in the store, so across runs and sites alike: decided on the
    store's writer thread (:class:`BatchWriter`), in this order, so that the reactor
    never reads the store per article.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.chain: Chain | None = None
        self.store: SQLStore | None = None
        # an article dropped or failed before this step gives its turn up
        crawler.signals.connect(FETCH_ORDER.settle_article, signal=signals.item_dropped)
        crawler.signals.connect(FETCH_ORDER.settle_article, signal=signals.item_error)

    def open_spider(self) -> None:
        self.store = self.open_store()
        self.chain = Chain(self.store)

    def close_spider(self) -> None:
        if self.store is not None:
            release_store(self.store)
            self.store, self.chain = None, None

    async def process_item(self, item: Article) -> Article:
        await FETCH_ORDER.turn(item)
        try:
            return self._dedup(item)
        except BaseException:
            FETCH_ORDER.settle_article(item)
            raise

    def _dedup(self, item: Article) -> Article:
        assert self.chain is not None, "store not open"
        try:
            self.chain.first_time(item)
        except Rejected as exc:
            self.count("aggregator/duplicates/url")
            raise DropItem(str(exc), log_level="INFO") from None
        if self.store_is_lost():
            self.store_lost()
        return item  # its story is decided on the writer thread, before its batch


_Pending = tuple[Article, SiteDefinition | None, "asyncio.Future[UpsertResult | Exception]"]


class BatchWriter:
    """The articles waiting for the store's next transaction, for every crawl of this
    process that writes to one store (the store keeps them in the order they came).

    A batch is deduplicated and written on the store's writer thread
    (:class:`~aggregator.process.writer.StoreWriter`, its own connection): the reactor
    only hands it over, and each item's future is settled back on the loop."""

    _shared: ClassVar[dict[int, tuple[BatchWriter, int]]] = {}

    def __init__(self, store: SQLStore, size: int, seconds: float) -> None:
        self.key = id(store)
        self.thread = writer_for(store)
        self.size, self.seconds = size, seconds
        self.pending: list[_Pending] = []
        self.timer: asyncio.TimerHandle | None = None

    @classmethod
    def acquire(cls, store: SQLStore, size: int, seconds: float) -> BatchWriter:
        writer, users = cls._shared.get(id(store), (None, 0))
        if writer is None:
            writer = cls(store, size, seconds)
        cls._shared[id(store)] = (writer, users + 1)
        return writer

    def release(self) -> None:
        self.flush()
        writer, users = self._shared[self.key]
        if users > 1:
            self._shared[self.key] = (writer, users - 1)
        else:
            del self._shared[self.key]
            self.thread.close()

    def add(self, article: Article, site: SiteDefinition | None) -> asyncio.Future[Any]:
        """The article's place in the next batch: its store result (or the exception
        that lost it), once the batch is committed."""
        loop = asyncio.get_running_loop()
        written: asyncio.Future[UpsertResult | Exception] = loop.create_future()
        self.pending.append((article, site, written))
        if len(self.pending) >= self.size or not self.seconds:
            self.flush()
        elif self.timer is None:
            self.timer = loop.call_later(self.seconds, self.flush)
        return written

    def flush(self) -> None:
        """Hand the pending articles to the writer thread, one transaction; each item
        goes on once it is committed. Blocks while the thread has a batch waiting
        already (back-pressure)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if not batch:
            return
        loop = batch[0][2].get_loop()
        done = self.thread.submit([(article, site) for article, site, _ in batch])
        done.add_done_callback(lambda f: loop.call_soon_threadsafe(_settle, batch, f))


def _settle(batch: list[_Pending], done: Future[Results]) -> None:
    results: list[UpsertResult | Exception]
    try:
        results = done.result()
    except Exception as exc:  # the store's: every item of the batch meets it
        results = [exc] * len(batch)
    for (_, _, written), result in zip(batch, results, strict=True):
        if not written.done():
            written.set_result(result)


class StorePipeline(_Component):
    """Upsert articles into the store (``AGGREGATOR_DB``), a batch per transaction: up to
    ``AGGREGATOR_BATCH_SIZE`` articles, the first waiting at most ``AGGREGATOR_BATCH_MS``.
    An item goes on once its batch is committed, so a killed crawl loses only the batch
    in hand, which ``--resume`` fetches again. Counts each article's final story
    (decided again in the batch when the batch touched it)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.store: SQLStore | None = None
        self.started_at = datetime.now(UTC)
        settings = crawler.settings
        self.batch_size = max(1, settings.getint("AGGREGATOR_BATCH_SIZE", 1))
        self.batch_seconds = max(0.0, settings.getfloat("AGGREGATOR_BATCH_MS", 0) / 1000)
        self.writer: BatchWriter | None = None
        # article URLs fetched without an article (URL -> when): recorded with the crawl
        self.misses: dict[str, float] = {}
        crawler.signals.connect(self.article_missed, signal=ARTICLE_MISSED)
        # recorded when the crawl is over, so that the stats are complete
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        # an exception in any pipeline loses that item: count it as an error
        crawler.signals.connect(self.item_error, signal=signals.item_error)

    def item_error(self) -> None:
        self.count("aggregator/errors/pipeline")

    def article_missed(self, url: str) -> None:
        site = getattr(self.crawler.spider, "site_def", None)
        now = datetime.now(UTC).timestamp()
        for form in {url, site.canonical_url(url) if site else url}:
            self.misses.setdefault(form, now)

    def open_spider(self) -> None:
        self.store = self.open_store()
        self.writer = BatchWriter.acquire(self.store, self.batch_size, self.batch_seconds)
        self.started_at = datetime.now(UTC)

    def close_spider(self) -> None:
        if self.writer is not None:
            self.writer.release()
            self.writer = None

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
            store = self.store

            def record() -> None:
                store.record_misses(site, self.misses)
                store.record_crawl(site, self.started_at, datetime.now(UTC), summary)

            try:
                store.transaction(record)
            except StoreUnavailable as exc:
                logger.error("crawl of %s not recorded: %s", site, exc)
        release_store(self.store)
        self.store = None

    async def process_item(self, item: Article) -> Article:
        assert self.writer is not None, "store not open"
        if self.store_is_lost():
            FETCH_ORDER.settle_article(item)
            self.store_lost()
        written = self.writer.add(item, getattr(self.crawler.spider, "site_def", None))
        FETCH_ORDER.settle_article(item)
        result = await written
        if isinstance(result, StoreUnavailable):
            self.store_lost(result)
        if isinstance(result, Exception):
            raise result
        self.count(f"aggregator/articles/{result}")
        if item.story is not None and item.story.kind is not None:
            self.count(f"aggregator/duplicates/{item.story.kind}")
        return item


#: unmatched link shapes a crawl summary keeps
TOP_SHAPES = 5


def top_shapes(counts: dict[str, int]) -> dict[str, int]:
    """The :data:`TOP_SHAPES` most frequent shapes, most frequent first."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return dict(ranked[:TOP_SHAPES])


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
    unmatched = {
        k: int(stats.get(f"aggregator/links/unmatched_{k}", 0)) for k in ("article", "page")
    }
    start, finish = stats.get("start_time"), stats.get("finish_time")
    reason = stats.get("finish_reason")
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
        # bounds the crawl hit (``aggregator/capped/<bound>``): articles cut short
        # (``body_text``, ``body_html``), links left out (``listing_links``, ``queue``),
        # a robots.txt read in part (``robots_txt``)
        "capped": under("aggregator/capped/"),
        # links, feed items, sitemap entries and meta refreshes naming the site's host
        # but out of its scope (``file:``, another port): not followed
        "refused": under("aggregator/refused/"),
        "layers": layers,
        # known articles met by an incremental crawl (skipped, re-checked, 304)
        "incremental": under("aggregator/incremental/"),
        "date_first_seen": int(stats.get("aggregator/date_first_seen", 0)),
        # links of the listing pages (distinct): to articles, and matching no pattern;
        # ``unmatched`` those of them that look like articles or listing pages, with
        # their most frequent shapes ("article /kinh-te/<n>/<slug>-<id>/": how many)
        "links_article": int(stats.get("aggregator/links/article", 0)),
        "links_unmatched": int(stats.get("aggregator/links/unmatched", 0)),
        "unmatched": unmatched["article"] + unmatched["page"],
        "unmatched_detail": unmatched,
        "unmatched_shapes": top_shapes(under("aggregator/links/unmatched_shapes/")),
        # retries (every one, given up, then succeeded) and Retry-After honoured
        "retries": {
            "count": int(stats.get("retry/count", 0)),
            "gave_up": int(stats.get("retry/max_reached", 0)),
            **under("aggregator/retries/"),
        },
        "duration_s": duration,
        # Scrapy's "shutdown": stopped by SIGINT / SIGTERM (or `aggregator run` stopping)
        "finish_reason": _FINISH_REASONS.get(reason, reason) if reason else reason,
    }


_FINISH_REASONS = {"shutdown": "interrupted"}
