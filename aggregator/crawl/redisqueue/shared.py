"""One site's shared crawl queue in Redis: generations, a priority queue and a dupefilter per
generation, in-flight hashes per worker, heartbeats and the reaping of dead workers, each
operation one atomic Lua script. Knows nothing of Scrapy (members are opaque bytes behind
a fingerprint), so that the tests drive it directly.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import redis

#: Score given to requests moved back to a queue (a dead worker's, a crashed run's): a
#: scrapy-redis priority queue pops the lowest score first, so they come before the rest.
REQUEUE_BOOST = 1_000_000
FP_LEN = 40  # scrapy-redis fingerprints: SHA-1, hex


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
