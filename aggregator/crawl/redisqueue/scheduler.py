"""The Scrapy side of the shared queue: a scrapy-redis scheduler and priority queue over
:class:`~aggregator.crawl.redisqueue.shared.SharedQueue` that seed once per generation,
acknowledge what the engine has finished, keep the heartbeat, retry Redis with backoff and
close once the whole generation is drained.
"""

from __future__ import annotations

import logging
import time
from typing import Any, cast

import redis
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler as _ScrapyRedisScheduler
from twisted.internet.task import LoopingCall

from aggregator.crawl.redisqueue.connection import connect
from aggregator.crawl.redisqueue.shared import FP_LEN, QueueStatus, SharedQueue
from aggregator.normalize.urls import mask_password

# the package's logger, as before the split: log lines name the shared queue
# (``[aggregator.crawl.redisqueue]``), whichever module of it writes them
logger = logging.getLogger("aggregator.crawl.redisqueue")


class GenerationQueue(PriorityQueue):
    """scrapy-redis's priority queue, its members prefixed with the request fingerprint,
    popped into the worker's in-flight hash (through :class:`SharedQueue`)."""

    def __init__(self, shared: SharedQueue, spider: Any, dupefilter: RFPDupeFilter) -> None:
        super().__init__(shared.client, spider, shared.key)
        self.shared = shared
        self.dupefilter = dupefilter

    def encode(self, request: Request) -> bytes:
        fp = str(self.dupefilter.request_fingerprint(request)).encode()
        return fp + cast(bytes, self._encode_request(request))

    def decode(self, member: bytes) -> Request:
        return cast(Request, self._decode_request(member[FP_LEN:]))

    def __len__(self) -> int:
        return len(self.shared)

    def push(self, request: Request, *, filter: bool = True) -> bool:
        return self.shared.push(self.encode(request), -request.priority, filter=filter)

    def pop(self, timeout: int = 0) -> tuple[int, Request] | None:
        found = self.shared.pop()
        if found is None:
            return None
        token, member = found
        return token, self.decode(member)

    def clear(self) -> None:  # the last worker of a generation deletes it (leave)
        pass


class _Lost(Exception):
    """Redis is unreachable and the next try is not due yet."""


class RedisScheduler(_ScrapyRedisScheduler):
    """The scheduler of a crawl sharing its queue (see :mod:`aggregator.crawl.redisqueue`)."""

    def __init__(self, crawler: Crawler, url: str) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.url = url
        self.prefix = settings.get("AGGREGATOR_REDIS_PREFIX") or "aggregator"
        self.idle_seconds = settings.getfloat("AGGREGATOR_REDIS_IDLE_SECONDS", 10.0)
        self.heartbeat = settings.getfloat("AGGREGATOR_REDIS_HEARTBEAT", 10.0)
        self.lost_bound = settings.getfloat("AGGREGATOR_REDIS_LOST_SECONDS", 60.0)
        self.poll = settings.getfloat("AGGREGATOR_REDIS_POLL_SECONDS", 0.5)
        server = connect(url, timeout=settings.getfloat("AGGREGATOR_REDIS_TIMEOUT", 5.0))
        super().__init__(server, persist=True, idle_before_close=0)
        self.stats = crawler.stats
        self.shared: SharedQueue | None = None
        self.rqueue: GenerationQueue | None = None
        self._held: dict[int, Request] = {}  # token -> the request handed to the engine
        self._done: set[int] = set()  # tokens done, not yet acknowledged (Redis away)
        self._unsent: list[tuple[Request, bool]] = []  # new requests, Redis away
        self._lost_since: float | None = None
        self._next_try = 0.0
        self._backoff = 0.25
        self._closing = False
        self._idle_since: float | None = None
        self._beat: LoopingCall | None = None
        crawler.signals.connect(self._spider_idle, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        url = crawler.settings.get("AGGREGATOR_REDIS_URL")
        if not url:
            raise ValueError("RedisScheduler needs AGGREGATOR_REDIS_URL")
        return cls(crawler, url)

    # -- Redis calls with backoff -------------------------------------------------------

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        now = time.monotonic()
        if self._lost_since is not None and now < self._next_try:
            raise _Lost(what)
        try:
            result = fn(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self._lost(what, exc)
            raise _Lost(what) from None
        if self._lost_since is not None:
            logger.warning(
                "Redis at %s is back after %.1f s", mask_password(self.url), now - self._lost_since
            )
            self._lost_since, self._backoff = None, 0.25
        return result

    def _lost(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        if self._lost_since is None:
            self._lost_since = now
            logger.warning(
                "Redis at %s lost (%s: %s); retrying for up to %.0f s",
                mask_password(self.url), what, exc, self.lost_bound,
            )  # fmt: skip
        self._next_try = now + self._backoff
        self._backoff = min(self._backoff * 2, 5.0)
        if now - self._lost_since >= self.lost_bound and not self._closing:
            self._closing = True
            logger.error(
                "Redis at %s unreachable for %.0f s: closing the spider; the requests left "
                "in Redis are for the next run",
                mask_password(self.url), now - self._lost_since,
            )  # fmt: skip
            engine = self.crawler.engine
            if engine is not None:
                deferred_from_coro(engine.close_spider_async(reason="redis_lost"))

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None and count:
            self.stats.inc_value(f"aggregator/redis/{key}", count)

    # -- Scrapy's scheduler interface ---------------------------------------------------

    def open(self, spider: Any) -> None:
        self.spider = spider
        site = getattr(spider, "site_id", spider.name)
        self.shared = SharedQueue(self.server, site, prefix=self.prefix, heartbeat=self.heartbeat)
        carried, requeued = self.shared.join()  # at start a failure is an error
        self.df = RFPDupeFilter(self.server, self.shared.seen_key)
        self.rqueue = GenerationQueue(self.shared, spider, self.df)
        self.queue = self.rqueue
        logger.info(
            "shared queue %s, generation %s, worker %s (%d requests waiting, %d carried over"
            " from an unfinished run)",
            self.shared.key, self.shared.generation, self.shared.worker, len(self.shared),
            carried,
        )  # fmt: skip
        self._inc("carried_over", carried)
        self._requeued(requeued)
        engine = self.crawler.engine
        if engine is not None:  # wake up twice a second: work may come from other processes
            engine._SLOT_HEARTBEAT_INTERVAL = self.poll
        # the heartbeat has its own timer: the engine stops asking for requests while its
        # downloader is full, and slow downloads must not make this worker look dead
        self._beat = LoopingCall(self._heartbeat)
        self._beat.start(min(self.heartbeat / 3, 1.0), now=False)

    def close(self, reason: str) -> None:
        if self._beat is not None and self._beat.running:
            self._beat.stop()
        self._settle(final=True)
        if self.shared is None:
            return
        try:
            self._flush_unsent()
            self._ack_done()
            ended = self._call("leave", self.shared.leave)
        except _Lost:
            logger.warning(
                "closing without Redis: %d new requests not queued; the in-flight ones "
                "stay in Redis for the next run", len(self._unsent),
            )  # fmt: skip
            return
        if ended:
            logger.info("generation %s of %s is complete", self.shared.generation, self.shared.key)

    def flush(self) -> None:  # never delete the shared keys on behalf of other processes
        pass

    def enqueue_request(self, request: Request) -> bool:
        # every request passes the shared dupefilter (dont_filter ones too: each process
        # makes the same start requests), except retries of a request already fetched
        filtered = not request.meta.get("retry_times")
        try:
            self._flush_unsent()
            queued = self._push(request, filtered)
        except _Lost:
            self._unsent.append((request, filtered))
            return True
        if not queued:
            self.df.log(request, self.spider)
        return queued

    def _push(self, request: Request, filtered: bool) -> bool:
        assert self.rqueue is not None
        queued = bool(self._call("push", self.rqueue.push, request, filter=filtered))
        if queued:
            self._inc("enqueued")
        return queued

    def _flush_unsent(self) -> None:
        while self._unsent:
            request, filtered = self._unsent[0]
            self._push(request, filtered)
            self._unsent.pop(0)

    def next_request(self) -> Request | None:
        if self._closing:
            return None
        self._settle()
        try:
            self._flush_unsent()
            self._ack_done()
            assert self.rqueue is not None
            found = self._call("pop", self.rqueue.pop)
        except _Lost:
            return None
        if found is None:
            return None
        token, request = found
        self._held[token] = request
        self._inc("dequeued")
        return cast(Request, request)

    def has_pending_requests(self) -> bool:
        if self._unsent:
            return True
        try:
            return bool(self._call("len", len, self.rqueue))
        except _Lost:
            return False

    def __len__(self) -> int:
        return int(self.has_pending_requests())

    # -- completion, heartbeat, idle ----------------------------------------------------

    def _settle(self, final: bool = False) -> None:
        """Requests handed out that the engine no longer holds are done."""
        in_progress = _in_progress(self.crawler)
        for token, request in list(self._held.items()):
            if final or (in_progress is not None and request not in in_progress):
                del self._held[token]
                self._done.add(token)

    def _ack_done(self) -> None:
        if self._done and self.shared is not None:
            done = sorted(self._done)
            self._call("ack", self.shared.ack, done)
            self._done.difference_update(done)

    def _heartbeat(self) -> None:
        """About three times per TTL: renew the heartbeat, reap dead workers, and
        acknowledge what is done."""
        if self._closing:
            return
        try:
            self._settle()
            self._flush_unsent()
            self._ack_done()
            self._status()
        except _Lost:
            pass
        except Exception:  # the timer must go on
            logger.exception("shared queue heartbeat failed")

    def _status(self) -> QueueStatus:
        assert self.shared is not None
        status = cast(QueueStatus, self._call("status", self.shared.status))
        self._requeued(status.requeued)
        return status

    def _requeued(self, members: list[bytes]) -> None:
        """Log each request a dead worker held that went back to the queue."""
        if not members or self.rqueue is None:
            return
        for member in members:
            try:
                url = self.rqueue.decode(member).url
            except Exception:  # another version's pickle: still requeued
                url = "?"
            logger.warning("requeued from a dead worker: %s", url)
        self._inc("requeued", len(members))

    def _spider_idle(self) -> None:
        """Stay open until the whole generation has been drained for the idle time."""
        if self._closing:
            return
        self._settle()
        try:
            self._flush_unsent()
            self._ack_done()
            status = self._status()
        except _Lost:
            self._idle_since = None
            raise DontCloseSpider from None
        now = time.monotonic()
        if not status.drained or self._held:
            self._idle_since = None
            raise DontCloseSpider
        if self._idle_since is None:
            self._idle_since = now
        if now - self._idle_since < self.idle_seconds:
            raise DontCloseSpider


def _in_progress(crawler: Crawler) -> set[Request] | None:
    """The engine's requests in progress: a request leaves this set once its response or
    failure has been handled, its items processed and the requests it produced (or its
    retry) queued. Scrapy has no public signal for that moment."""
    slot = getattr(crawler.engine, "_slot", None)
    return cast("set[Request] | None", getattr(slot, "inprogress", None))
