"""Connecting to the shared queue's Redis: a client that fails fast, and the start-up check
that names the URL (password masked) in a one-line error.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from aggregator.normalize.urls import mask_password


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
