"""A crawl's store given up: once it stayed out of reach beyond its retry bound, the crawl
stops (reason ``store_unavailable``) and every later item is dropped at once."""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from aggregator.store import StoreUnavailable

__all__ = ["stop_for_lost_store", "store_is_lost"]

logger = logging.getLogger(__name__)

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
