"""Retries that follow the server: ``Retry-After`` on 429 and 503.

Scrapy's :class:`~scrapy.downloadermiddlewares.retry.RetryMiddleware` retries at once.
A server that answers 429 (too many requests) or 503 (unavailable) with ``Retry-After``
(seconds, or an HTTP date) says when to come back; this middleware waits that long
before the retry, and holds the site's other requests back as long (its download slot:
with a download delay, the slot's next request waits too). A wait longer than
``AGGREGATOR_RETRY_AFTER_MAX`` seconds (default 120) is not waited for: that request
is given up (the server is counted as refusing) rather than holding the crawl.

Counted in the crawl stats, and so in the crawl record and ``aggregator status``:
``retry/count`` (Scrapy's: every retry), ``retry/max_reached`` (given up),
``aggregator/retries/recovered`` (a retried request that then succeeded),
``aggregator/retries/waited`` and ``aggregator/retries/waited_seconds`` (Retry-After
honoured), ``aggregator/retries/too_long`` (Retry-After over the bound).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.utils.asyncio import sleep
from scrapy.utils.response import response_status_message

__all__ = ["DEFAULT_MAX_WAIT", "RetryAfterMiddleware", "retry_after_seconds"]

logger = logging.getLogger(__name__)

#: Longest Retry-After waited for, in seconds (``AGGREGATOR_RETRY_AFTER_MAX``).
DEFAULT_MAX_WAIT = 120.0
#: Statuses whose Retry-After is honoured.
RETRY_AFTER_STATUSES = frozenset({429, 503})


def retry_after_seconds(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP date);
    None when absent or unreadable. A date in the past is 0."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retry middleware, waiting as a 429 / 503 ``Retry-After`` asks."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("AGGREGATOR_RETRY_AFTER_MAX", DEFAULT_MAX_WAIT)

    def _count(self, key: str, n: Any = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, n)

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if request.meta.get("dont_retry", False):
            return response
        if response.status not in self.retry_http_codes:
            if request.meta.get("retry_times"):
                self._count("aggregator/retries/recovered")
            return response
        wait = None
        if response.status in RETRY_AFTER_STATUSES:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is not None and wait > self.max_wait:
            self._count("aggregator/retries/too_long")
            logger.warning(
                "%s asks to come back in %.0f s (Retry-After), over the %.0f s bound: not "
                "retried in this crawl",
                request.url,
                wait,
                self.max_wait,
            )
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        if wait:
            self._hold_slot(request, wait)
            self._count("aggregator/retries/waited")
            self._count("aggregator/retries/waited_seconds", round(wait, 3))
            await sleep(wait)
        return retry

    def _hold_slot(self, request: Request, wait: float) -> None:
        """Hold the site's other requests back as long (effective with a download
        delay: the slot's next request waits its delay after ``lastseen``)."""
        engine = self.crawler.engine
        downloader = getattr(engine, "downloader", None)
        if downloader is None:
            return
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is not None:
            slot.lastseen = max(slot.lastseen, time.monotonic() + wait)
