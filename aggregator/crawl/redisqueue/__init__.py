"""The shared crawl queue in Redis (moved into a package; see
:mod:`aggregator.crawl.redisqueue.scheduler`)."""

from aggregator.crawl.redisqueue.scheduler import (
    RedisQueueAddon,
    RedisScheduler,
    RedisUnavailable,
    SharedQueue,
    check_redis,
    connect,
)

__all__ = [
    "RedisQueueAddon",
    "RedisScheduler",
    "RedisUnavailable",
    "SharedQueue",
    "check_redis",
    "connect",
]
