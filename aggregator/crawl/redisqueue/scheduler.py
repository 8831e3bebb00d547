"""A shared crawl queue in Redis (scrapy-redis): several ``aggregator crawl`` processes, on
one machine or many, share each site's requests and fetch no URL twice.

``aggregator crawl --redis redis://host:6379/0`` (or the setting ``AGGREGATOR_REDIS_URL``)
switches the scheduler to :class:`RedisScheduler`, a scrapy-redis scheduler with a
scrapy-redis priority queue and dupefilter, plus what a crawl of many processes needs:

- **Keys per site.** The spider is one generic spider run per site, so every key is under
  ``<AGGREGATOR_REDIS_PREFIX>:<site>:`` (prefix ``aggregator``): processes crawling the
  same site share one queue, and another site's crawl never sees it.
- **Generations.** A crawl is a generation ``N``: its queue (``<site>:N:queue``, a sorted
  set of scrapy-redis priorities) and its dupefilter (``<site>:N:seen``) belong to it. A
  process joins the current generation while a live worker is in it; the first process of
  a new run (no live worker left) starts generation ``N+1`` with an empty dupefilter, so a
  scheduled crawl reads its listings again. If the old generation still holds requests (a
  crashed run), they are carried into the new one first (ahead of every other request,
  their fingerprints into the new dupefilter). The last worker to leave a drained
  generation deletes its keys; ``SCHEDULER_PERSIST`` plays no part (scrapy-redis would
  delete the shared keys when the *first* process closes).
- **Seeding once.** In this mode the shared dupefilter applies to every request,
  ``dont_filter`` ones included (start URLs, incremental re-checks), except Scrapy's
  retries: N processes enqueue each start URL once per generation, the first one wins.
  The incremental middleware keeps working: each process holds the section listings back
  in memory, and whichever process reads the home page releases its copy of them once.
- **Reliable queue.** A pop moves the request, in one Lua script, into the worker's
  in-flight hash (``<site>:N:inflight:<worker>``). It leaves that hash when Scrapy is done
  with it: the response handled by the callback, its items stored and its new requests
  queued, or the failure handled by the errback, or a retry/redirect queued in its place.
  (The scheduler compares what it handed out with the engine's set of requests in
  progress, the one exact "done" Scrapy has.) Each worker renews a heartbeat key with a
  TTL (``AGGREGATOR_REDIS_HEARTBEAT``, 10 s); workers that see a worker whose heartbeat
  expired (SIGKILL, a lost machine) move its in-flight requests back to the head of the
  queue, bypassing the dupefilter. A killed process's in-flight requests are thus fetched
  a second time, by another process: the only URLs ever fetched twice.
- **Spreading the work.** Scrapy takes requests from the scheduler while its downloader
  holds fewer than ``CONCURRENT_REQUESTS``, even if the per-domain slot makes them wait; at
  the default 16 one process would drain the queue into its memory. In redis mode a
  process holds at most the site's ``concurrency`` (``CONCURRENT_REQUESTS_PER_DOMAIN``),
  unless ``-s CONCURRENT_REQUESTS`` says otherwise, and polls the queue twice a second.
- **Closing.** A process closes when the shared queue and every in-flight hash of its
  generation have been empty for ``AGGREGATOR_REDIS_IDLE_SECONDS`` (``--idle``, 10 s).
- **Stats** stay per process (Scrapy's collector) and in the store's crawl records, one
  row per process and site; scrapy-redis's ``RedisStatsCollector`` is not used (it fails
  on close with Scrapy 2.19).
- **Redis lost.** Unreachable at start: :func:`check_redis` gives a one-line error naming
  the URL (password masked), and the CLI exits 2. Lost during a crawl: each operation is
  tried again with doubling pauses (new requests wait in memory, completions are
  remembered); after ``AGGREGATOR_REDIS_LOST_SECONDS`` (60) without Redis the spider
  closes with reason ``redis_lost``. Items are stored by the pipelines as they come, never
  half-way; what was queued or in flight stays in Redis for the next run.

Limits: one Redis server (no Cluster: the scripts compute key names). "Done" is read from
Scrapy's private ``engine._slot.inprogress`` and the poll interval set through
``engine._SLOT_HEARTBEAT_INTERVAL`` (Scrapy is pinned below 2.20); without them requests
are acknowledged only when the process closes. A process started while the last worker of
a finished crawl is still waiting out its idle time joins that generation and finds
nothing to do. Politeness is per process: N processes crawl a site N times as hard.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.settings import BaseSettings
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler as _ScrapyRedisScheduler
from twisted.internet.task import LoopingCall

from aggregator.normalize.urls import mask_password

__all__ = [
    "RedisQueueAddon",
    "RedisScheduler",
    "RedisUnavailable",
    "SharedQueue",
    "check_redis",
    "connect",
]

logger = logging.getLogger(__name__)

#: Score given to requests moved back to a queue (a dead worker's, a crashed run's): a
#: scrapy-redis priority queue pops the lowest score first, so they come before the rest.
REQUEUE_BOOST = 1_000_000
FP_LEN = 40  # scrapy-redis fingerprints: SHA-1, hex


class RedisUnavailable(RuntimeError):
    """Redis cannot be reached (at start)."""


def connect(url: str, timeout: float = 5.0) -> redis.Redis:
    """A client for ``url`` that fails fast: no retries inside redis-py (we retry with our
    own backoff), short socket timeouts (a call blocks the Twisted reactor)."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        retry_on_timeout=False,
        health_check_interval=0,
    )


def check_redis(url: str, timeout: float = 5.0) -> None:
    """Raise :class:`RedisUnavailable` with a one-line message unless ``url`` answers PING."""
    try:
        client = connect(url, timeout)
    except ValueError as exc:  # a malformed URL
        raise RedisUnavailable(f"bad Redis URL {mask_password(url)}: {exc}") from None
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RedisUnavailable(f"cannot reach Redis at {mask_password(url)}: {reason}") from None
    finally:
        client.close()


# -- the queue's operations in Redis (atomic Lua scripts) ---------------------------------

# Common part: workers whose heartbeat expired are dead; their in-flight requests move to
# the head of generation `gen`'s queue, their fingerprints into its dupefilter.
_REAP = """
local function live_workers(p)
  local live = 0
  local workers = redis.call('HKEYS', p .. ':workers')
  for _, w in ipairs(workers) do
    if redis.call('EXISTS', p .. ':hb:' .. w) == 1 then live = live + 1 end
  end
  return live
end
local function reap(p, gen)
  local moved = {}
  local workers = redis.call('HGETALL', p .. ':workers')
  for i = 1, #workers, 2 do
    local w, g = workers[i], workers[i + 1]
    if redis.call('EXISTS', p .. ':hb:' .. w) == 0 then
      local inflight = p .. ':' .. g .. ':inflight:' .. w
      for _, member in ipairs(redis.call('HVALS', inflight)) do
        redis.call('ZADD', p .. ':' .. gen .. ':queue', -BOOST, member)
        redis.call('SADD', p .. ':' .. gen .. ':seen', string.sub(member, 1, FPLEN))
        table.insert(moved, member)
      end
      redis.call('DEL', inflight)
      redis.call('HDEL', p .. ':workers', w)
    end
  end
  return moved
end
"""

# ARGV: prefix, worker, heartbeat ms. Returns {generation, carried, {requeued members}}.
_JOIN = (
    _REAP
    + """
local p, me, ttl = ARGV[1], ARGV[2], ARGV[3]
local gen = redis.call('GET', p .. ':gen')
local carried = 0
if (not gen) or live_workers(p) == 0 then
  local new = tostring(redis.call('INCR', p .. ':generations'))
  if gen then  -- a run that did not finish: its requests go first in the new one
    local q = p .. ':' .. gen .. ':queue'
    local left = redis.call('ZRANGE', q, 0, -1, 'WITHSCORES')
    for i = 1, #left, 2 do
      local score = tonumber(left[i + 1])
      if score > -BOOST / 2 then score = score - BOOST end
      redis.call('ZADD', p .. ':' .. new .. ':queue', score, left[i])
      redis.call('SADD', p .. ':' .. new .. ':seen', string.sub(left[i], 1, FPLEN))
      carried = carried + 1
    end
    redis.call('DEL', q, p .. ':' .. gen .. ':seen')
  end
  gen = new
  redis.call('SET', p .. ':gen', gen)
end
local moved = reap(p, gen)
redis.call('HSET', p .. ':workers', me, gen)
redis.call('SET', p .. ':hb:' .. me, gen, 'PX', ttl)
return {gen, carried, moved}
"""
)

# ARGV: prefix, generation, worker. Returns {token, member} or nil.
_POP = """
local p, gen, me = ARGV[1], ARGV[2], ARGV[3]
local q = p .. ':' .. gen .. ':queue'
local top = redis.call('ZRANGE', q, 0, 0)
if #top == 0 then return nil end
redis.call('ZREM', q, top[1])
local token = redis.call('INCR', p .. ':tokens')
redis.call('HSET', p .. ':' .. gen .. ':inflight:' .. me, token, top[1])
return {token, top[1]}
"""

# ARGV: prefix, generation, member, score, filter (1/0). Returns 1 if queued.
_PUSH = """
local p, gen, member, score, filter = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local added = redis.call('SADD', p .. ':' .. gen .. ':seen', string.sub(member, 1, FPLEN))
if filter == '1' and added == 0 then return 0 end
redis.call('ZADD', p .. ':' .. gen .. ':queue', score, member)
return 1
"""

# ARGV: prefix, generation, worker, heartbeat ms. Reaps the dead, renews our heartbeat.
# Returns {queued, in flight (every worker of the generation), live workers, {requeued}}.
_STATUS = (
    _REAP
    + """
local p, gen, me, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('SET', p .. ':hb:' .. me, gen, 'PX', ttl)
redis.call('HSET', p .. ':workers', me, gen)
local moved = reap(p, gen)
local live = live_workers(p)
local inflight = 0
local workers = redis.call('HGETALL', p .. ':workers')
for i = 1, #workers, 2 do
  inflight = inflight + redis.call('HLEN', p .. ':' .. workers[i + 1] .. ':inflight:' .. workers[i])
end
return {redis.call('ZCARD', p .. ':' .. gen .. ':queue'), inflight, live, moved}
"""
)

# ARGV: prefix, generation, worker. Returns 1 when the generation ended (and was deleted).
_LEAVE = (
    _REAP
    + """
local p, gen, me = ARGV[1], ARGV[2], ARGV[3]
local mine = p .. ':' .. gen .. ':inflight:' .. me
for _, member in ipairs(redis.call('HVALS', mine)) do
  redis.call('ZADD', p .. ':' .. gen .. ':queue', -BOOST, member)
end
redis.call('DEL', mine, p .. ':hb:' .. me)
redis.call('HDEL', p .. ':workers', me)
reap(p, gen)
if live_workers(p) > 0 or redis.call('ZCARD', p .. ':' .. gen .. ':queue') > 0 then return 0 end
if redis.call('GET', p .. ':gen') == gen then redis.call('DEL', p .. ':gen') end
redis.call('DEL', p .. ':' .. gen .. ':queue', p .. ':' .. gen .. ':seen')
return 1
"""
)


def _lua(source: str) -> str:
    return source.replace("BOOST", str(REQUEUE_BOOST)).replace("FPLEN", str(FP_LEN))


@dataclass
class QueueStatus:
    queued: int
    in_flight: int
    live_workers: int
    requeued: list[bytes]  # members moved back from dead workers

    @property
    def drained(self) -> bool:
        return self.queued == 0 and self.in_flight == 0


class SharedQueue:
    """One site's shared queue in Redis, seen by one worker: join a generation, push,
    pop into the in-flight hash, acknowledge, reap dead workers, leave.

    Members are ``fingerprint (40 hex) + payload`` bytes; this class knows nothing of
    Scrapy, so that the tests can drive the queue logic directly.
    """

    def __init__(
        self,
        client: redis.Redis,
        site: str,
        *,
        prefix: str = "aggregator",
        worker: str | None = None,
        heartbeat: float = 10.0,
    ) -> None:
        self.client = client
        self.key = f"{prefix}:{site}"
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.heartbeat_ms = max(int(heartbeat * 1000), 100)
        self.generation: str | None = None
        self._join = client.register_script(_lua(_JOIN))
        self._pop = client.register_script(_lua(_POP))
        self._push = client.register_script(_lua(_PUSH))
        self._status = client.register_script(_lua(_STATUS))
        self._leave = client.register_script(_lua(_LEAVE))

    def _gen(self) -> str:
        if self.generation is None:
            raise RuntimeError("join() first")
        return self.generation

    def _k(self, name: str) -> str:
        return f"{self.key}:{self._gen()}:{name}"

    @property
    def queue_key(self) -> str:
        return self._k("queue")

    @property
    def seen_key(self) -> str:
        return self._k("seen")

    @property
    def inflight_key(self) -> str:
        return self._k(f"inflight:{self.worker}")

    def join(self) -> tuple[int, list[bytes]]:
        """Join the current generation, or start one; the number of requests carried over
        from an unfinished run, and the members requeued from dead workers."""
        gen, carried, moved = cast(
            list[Any], self._join(args=[self.key, self.worker, self.heartbeat_ms])
        )
        self.generation = gen.decode() if isinstance(gen, bytes) else str(gen)
        return int(carried), [bytes(m) for m in moved]

    def push(self, member: bytes, score: float, *, filter: bool = True) -> bool:
        """Queue ``member`` unless ``filter`` and its fingerprint was seen in this
        generation; True when queued."""
        args: list[str | bytes] = [
            self.key,
            self._gen(),
            member,
            repr(float(score)),
            "1" if filter else "0",
        ]
        return bool(self._push(args=args))

    def pop(self) -> tuple[int, bytes] | None:
        """(token, member) of the first request, now in this worker's in-flight hash."""
        found = self._pop(args=[self.key, self._gen(), self.worker])
        if not found:
            return None
        token, member = cast(list[Any], found)
        return int(token), bytes(member)

    def ack(self, tokens: Iterable[int]) -> None:
        """These requests are done: out of the in-flight hash."""
        tokens = list(tokens)
        if tokens:
            self.client.hdel(self.inflight_key, *[str(t) for t in tokens])

    def status(self) -> QueueStatus:
        """Renew the heartbeat, requeue dead workers' requests, count what is left."""
        queued, in_flight, live, moved = cast(
            list[Any], self._status(args=[self.key, self._gen(), self.worker, self.heartbeat_ms])
        )
        return QueueStatus(int(queued), int(in_flight), int(live), [bytes(m) for m in moved])

    def leave(self) -> bool:
        """Unregister (unfinished in-flight requests go back to the queue); True when this
        was the last worker of a drained generation, whose keys are now deleted."""
        return bool(self._leave(args=[self.key, self._gen(), self.worker]))

    def __len__(self) -> int:
        return int(cast(int, self.client.zcard(self.queue_key)))


# -- Scrapy components ----------------------------------------------------------------------


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
    """The scheduler of a crawl sharing its queue (see the module docstring)."""

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


class RedisQueueAddon:
    """Switches a crawl to the shared queue when ``AGGREGATOR_REDIS_URL`` is set (a Scrapy
    add-on: it runs after the spider set its per-site politeness, before the settings
    freeze)."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not settings.get("AGGREGATOR_REDIS_URL"):
            return
        settings.set("SCHEDULER", "aggregator.crawl.redisqueue.RedisScheduler", priority="spider")
        per_domain = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 2)
        # hold no more than the site's concurrency, so that the other processes get work
        settings.set("CONCURRENT_REQUESTS", max(per_domain, 1), priority="spider")
