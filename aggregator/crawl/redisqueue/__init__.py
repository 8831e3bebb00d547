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

The package: :mod:`~aggregator.crawl.redisqueue.connection` (connecting, the start-up
check), :mod:`~aggregator.crawl.redisqueue.shared` (the queue in Redis: generations,
in-flight hashes, heartbeats, as Lua scripts; no Scrapy),
:mod:`~aggregator.crawl.redisqueue.scheduler` (the Scrapy scheduler and queue over it) and
:mod:`~aggregator.crawl.redisqueue.addon` (the switch in the settings).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from aggregator.crawl.redisqueue.addon import RedisQueueAddon

if TYPE_CHECKING:
    from aggregator.crawl.redisqueue.connection import RedisUnavailable, check_redis, connect
    from aggregator.crawl.redisqueue.scheduler import RedisScheduler
    from aggregator.crawl.redisqueue.shared import SharedQueue

#: Loaded when first used: every crawl loads the add-on, most never use Redis (the client
#: and scrapy-redis take ~6 MB of a crawl process)
_LAZY = {
    "RedisUnavailable": "connection",
    "check_redis": "connection",
    "connect": "connection",
    "RedisScheduler": "scheduler",
    "SharedQueue": "shared",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)


__all__ = [
    "RedisQueueAddon",
    "RedisScheduler",
    "RedisUnavailable",
    "SharedQueue",
    "check_redis",
    "connect",
]
