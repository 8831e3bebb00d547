"""The shared crawl queue: several ``aggregator crawl --redis`` processes share
the sample web's crawl through a real ``redis-server``.

Unit-level tests drive :class:`~aggregator.crawl.redisqueue.SharedQueue` (the Lua scripts) on
the real server; the acceptance tests run three real crawl processes against the sample
web, read the real store and count requests at the server.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from aggregator.crawl.redisqueue import RedisUnavailable, SharedQueue, check_redis
from aggregator.normalize.urls import mask_password
from aggregator.store import open_store
from tests.support.cli import run_cli
from tests.support.crawls import Crawl, SampleWebProcess
from tests.support.env import REPO
from tests.support.redisserver import RedisServer
from tests.support.sampletruth import article_urls, evaluate_store, sample_truth

# -- unit level: the queue's scripts on a real Redis --------------------------------------


def member(n: int) -> bytes:
    """A queue member: a 40-character fingerprint, then the payload."""
    return f"{n:040x}".encode() + f"request {n}".encode()


def worker(url: str, name: str, heartbeat: float = 10.0) -> SharedQueue:
    return SharedQueue(redis.Redis.from_url(url), "tamdao", worker=name, heartbeat=heartbeat)


def test_start_requests_are_queued_once_per_generation(redis_url: str) -> None:
    """Three processes join one generation and each enqueues the same start URLs: the
    shared dupefilter lets one copy of each through."""
    workers = [worker(redis_url, f"w{i}") for i in range(3)]
    for w in workers:
        w.join()
    assert {w.generation for w in workers} == {"1"}
    queued = [w.push(member(n), 0) for w in workers for n in range(5)]
    assert sum(queued) == 5
    assert queued[:5] == [True] * 5  # the first process seeds, the others are filtered
    assert len(workers[0]) == 5
    popped = [w.pop() for w in workers for _ in range(2)]
    got = [p[1] for p in popped if p is not None]
    assert sorted(got) == [member(n) for n in range(5)]  # each handed out once
    assert workers[0].pop() is None


def test_a_dead_workers_requests_are_requeued_ahead_of_the_rest(redis_url: str) -> None:
    """A worker that stops renewing its heartbeat (SIGKILL) is dead: what it had popped
    and not acknowledged goes back to the head of the queue, past the dupefilter."""
    alive, doomed = worker(redis_url, "alive"), worker(redis_url, "doomed", heartbeat=0.3)
    alive.join(), doomed.join()
    for n in range(6):
        alive.push(member(n), 0)
    held = [doomed.pop() for _ in range(3)]
    assert all(h is not None for h in held)
    token0 = held[0][0]  # type: ignore[index]
    doomed.ack([token0])  # done with the first one
    assert alive.status().in_flight == 2
    assert alive.status().requeued == []  # still alive
    time.sleep(0.5)  # no heartbeat: dead
    status = alive.status()
    assert sorted(status.requeued) == [member(1), member(2)]
    assert status.in_flight == 0 and status.live_workers == 1
    # requeued requests come first, though their fingerprints are in the dupefilter
    assert [alive.pop()[1] for _ in range(2)] == [member(1), member(2)]  # type: ignore[index]
    assert alive.push(member(1), 0) is False  # a new request for the same URL: filtered
    assert alive.pop()[1] == member(3)  # type: ignore[index]


def test_a_generation_ends_when_drained_and_the_next_crawl_starts_afresh(redis_url: str) -> None:
    """The last worker leaving a drained generation deletes it: the next crawl starts a
    new generation whose dupefilter has forgotten the listings, so it reads them again."""
    a, b = worker(redis_url, "a"), worker(redis_url, "b")
    a.join(), b.join()
    a.push(member(1), 0)
    token, _ = a.pop()  # type: ignore[misc]
    a.ack([token])
    assert a.leave() is False  # b is still alive: the generation goes on
    client = redis.Redis.from_url(redis_url)
    assert client.get("aggregator:tamdao:gen") == b"1"
    assert b.leave() is True  # the last one out, nothing left: generation 1 is over
    assert client.get("aggregator:tamdao:gen") is None
    assert not client.exists("aggregator:tamdao:1:queue", "aggregator:tamdao:1:seen")
    c = worker(redis_url, "c")
    c.join()
    assert c.generation == "2"
    assert c.push(member(1), 0) is True  # a listing of the last crawl: read again


def test_a_crashed_runs_requests_are_carried_into_the_next_one_first(redis_url: str) -> None:
    """Every worker of a run died: the next run starts a new generation (its listings
    are read again) but takes the old queue and in-flight requests first."""
    dead = worker(redis_url, "dead", heartbeat=0.2)
    dead.join()
    for n in range(4):
        dead.push(member(n), 0)
    dead.pop()  # member(0) is in flight when the process dies
    time.sleep(0.4)
    nxt = worker(redis_url, "next")
    carried, requeued = nxt.join()
    assert nxt.generation == "2"
    assert (carried, requeued) == (3, [member(0)])
    assert nxt.push(member(9), 0) is True  # a start request of the new run
    assert nxt.push(member(2), 0) is False  # already carried over: not twice
    order = [nxt.pop()[1] for _ in range(5)]  # type: ignore[index]
    assert set(order[:4]) == {member(n) for n in range(4)} and order[4] == member(9)
    client = redis.Redis.from_url(redis_url)
    assert not client.exists("aggregator:tamdao:1:queue", "aggregator:tamdao:1:seen")


def test_unreachable_redis_is_one_clear_line_with_the_password_masked() -> None:
    assert mask_password("redis://:s3cret@host:6380/1") == "redis://:***@host:6380/1"
    assert mask_password("redis://user:s3cret@host/0") == "redis://user:***@host/0"
    assert mask_password("redis://host:6379/0") == "redis://host:6379/0"
    port = _closed_port()
    with pytest.raises(RedisUnavailable) as info:
        check_redis(f"redis://:s3cret@127.0.0.1:{port}/0", timeout=2)
    message = str(info.value)
    assert f"cannot reach Redis at redis://:***@127.0.0.1:{port}/0" in message
    assert "s3cret" not in message and "\n" not in message


def test_crawl_with_redis_unreachable_at_start_exits_2(tmp_path: Path) -> None:
    port = _closed_port()
    db = tmp_path / "a.db"
    result = run_cli("crawl", "tayninh", "--db", str(db), "--redis",
                     f"redis://:s3cret@127.0.0.1:{port}/0", check=False)  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"aggregator: error: cannot reach Redis at redis://:***@127.0.0.1:{port}/0: "
        + lines[0].split(": ", 3)[-1]
    ], result.stderr
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr
    assert not db.exists()  # nothing was crawled


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the with block ends


# -- acceptance: three crawl processes, one Redis, one store ------------------------------


CRAWLED = re.compile(r"Crawled \((\d+)\) <GET ([^>]+)>")
REQUEUED = re.compile(r"requeued from a dead worker: (\S+)")


@dataclass
class Worker:
    proc: subprocess.Popen[str]
    log: Path
    out: Path

    def fetched(self) -> list[str]:
        """URLs this process got a response for (its DEBUG log)."""
        return [m.group(2) for m in CRAWLED.finditer(self.log.read_text(errors="replace"))]


class Fleet:
    """N ``aggregator crawl --redis`` processes over the sample web, logs in files."""

    def __init__(self, web: SampleWebProcess, db: str, url: str, folder: Path) -> None:
        self.web, self.db, self.url, self.folder = web, db, url, folder
        self.workers: list[Worker] = []
        self.log_offset = web.access_log.stat().st_size if web.access_log.exists() else 0

    def start(self, n: int, *settings: str, idle: float = 2.0) -> None:
        env = {**os.environ, "AGGREGATOR_SITES_DIRS": "",
               "AGGREGATOR_FEEDS_DIR": str(self.folder / "feeds")}  # fmt: skip
        for i in range(n):
            log, out = self.folder / f"crawl{i}.log", self.folder / f"crawl{i}.out"
            command = [sys.executable, "-m", "aggregator.app.cli", "crawl", *self.web.site_ids,
                       "--db", self.db, "--sites-dir", str(self.web.sites_dir),
                       "--redis", self.url, "--idle", str(idle), "-s", "LOG_LEVEL=DEBUG",
                       *[a for s in settings for a in ("-s", s)]]  # fmt: skip
            with log.open("w") as err, out.open("w") as stdout:
                proc = subprocess.Popen(command, stdout=stdout, stderr=err, text=True,
                                        env=env, cwd=REPO)  # fmt: skip
            self.workers.append(Worker(proc, log, out))

    def wait(self, workers: list[Worker], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        for w in workers:
            try:
                w.proc.wait(timeout=max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                self.kill()
                raise
            log = w.log.read_text(errors="replace")
            assert w.proc.returncode == 0, f"exit {w.proc.returncode}:\n{log[-4000:]}"
            assert "Traceback" not in log, log[-4000:]

    def kill(self) -> None:
        for w in self.workers:
            if w.proc.poll() is None:
                w.proc.kill()
                w.proc.wait(timeout=10)

    def server_requests(self) -> Counter[str]:
        """Paths (with query) the sample web served since the fleet was made."""
        with self.web.access_log.open("rb") as f:
            f.seek(self.log_offset)
            text = f.read().decode("utf-8", errors="replace")
        return Counter(m.group(1) for m in re.finditer(r'"GET (\S+) HTTP/[\d.]+"', text))


@pytest.fixture
def fleet(
    sample_web: SampleWebProcess, store_target: str, redis_url: str, tmp_path: Path
) -> Iterator[Fleet]:
    """Crawlers sharing ``redis_url``, storing into ``store_target`` (conftest: a SQLite
    file, then a PostgreSQL database)."""
    f = Fleet(sample_web, store_target, redis_url, tmp_path)
    try:
        yield f
    finally:
        f.kill()


def _article_urls(web: SampleWebProcess) -> set[str]:
    return {url for a in sample_truth(web.site_ids) for url in article_urls(web.url, a)}


def _check_store_complete(fleet: Fleet, crawled: Crawl) -> None:
    """Every ground-truth article stored exactly once, the same articles as the
    session's single-process crawl."""
    web = fleet.web
    ev, stored = evaluate_store(web.url, web.site_ids, fleet.db)
    assert ev.missing == [] and ev.extra == [], ev.summary()
    assert ev.found == ev.expected >= 4 * 40
    urls = [a.canonical_url for a in stored]
    assert len(urls) == len(set(urls))
    with open_store(str(crawled.db)) as store:
        reference = {a.canonical_url: a.duplicate_of is None for a in store.articles()}
    assert {a.canonical_url: a.duplicate_of is None for a in stored} == reference


def test_three_processes_share_the_crawl_and_fetch_no_url_twice(
    fleet: Fleet, crawled: Crawl
) -> None:
    """Three crawlers, one Redis, one store: every article stored once, each process
    fetched part of the articles, and the sample web served no URL twice (robots.txt
    aside: each process reads it for each site, outside the queue)."""
    # a small delay keeps the crawl long enough (~3 s) for all three to be up when it starts
    fleet.start(3, "DOWNLOAD_DELAY=0.05")
    fleet.wait(fleet.workers)
    _check_store_complete(fleet, crawled)
    articles = _article_urls(fleet.web)
    shares = [len([u for u in w.fetched() if u in articles]) for w in fleet.workers]
    assert all(n > 0 for n in shares), shares
    served = fleet.server_requests()
    twice = {path: n for path, n in served.items() if n > 1 and path != "/robots.txt"}
    assert twice == {}
    assert served["/robots.txt"] == 3 * len(fleet.web.site_ids)
    assert sum(shares) == len([p for p in served if fleet.web.url.rstrip("/") + p in articles])
    # each process recorded its own crawl of each site in the store
    for w in fleet.workers:
        table = w.out.read_text()
        assert all(re.search(rf"^{site}\s+\d+", table, re.M) for site in fleet.web.site_ids)
    # the last one out deleted the generation: only the counters remain
    client = redis.Redis.from_url(fleet.url, decode_responses=True)
    assert client.keys("*:queue") + client.keys("*:seen") + client.keys("*:gen") == []

    # the next scheduled crawl is a new generation: the home pages are read again (a
    # persistent dupefilter would filter them), incrementally, and nothing is added
    again = Fleet(fleet.web, fleet.db, fleet.url, fleet.folder / "again")
    again.folder.mkdir()
    again.start(3)
    again.wait(again.workers)
    assert all("generation 2" in w.log.read_text() for w in again.workers)
    served = again.server_requests()
    for site in fleet.web.site_ids:
        assert served[f"/{site}/"] == 1, served  # each latest page once, by one of the three
    assert max(n for p, n in served.items() if p != "/robots.txt") == 1
    new = [
        int(m.group(1))
        for w in again.workers
        for m in re.finditer(r"^\S+\s+\d+\s+\d+\s+(\d+)", w.out.read_text(), re.M)
    ]
    assert len(new) == 3 * len(fleet.web.site_ids) and sum(new) == 0


def test_a_process_killed_mid_crawl_loses_nothing(fleet: Fleet, crawled: Crawl) -> None:
    """SIGKILL one of three crawlers after it fetched a few articles: the other two take
    over what it held (its heartbeat expires after 2 s) and finish; the store is complete.

    The exact rule for double fetches: a URL may be served twice only if it was in the
    killed process's in-flight hash (popped from the queue, not finished) when it died.
    Those, and only those, are requeued past the dupefilter; the survivors log each
    ("requeued from a dead worker: URL"). So: served twice => requeued, never three times.
    """
    fleet.start(3, "DOWNLOAD_DELAY=0.25", "AGGREGATOR_REDIS_HEARTBEAT=2", idle=3)
    victim, survivors = fleet.workers[0], fleet.workers[1:]
    articles = _article_urls(fleet.web)
    deadline = time.monotonic() + 60
    while len([u for u in victim.fetched() if u in articles]) < 5:
        assert victim.proc.poll() is None, "the crawl ended before the kill"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(timeout=10)
    fleet.wait(survivors)
    _check_store_complete(fleet, crawled)
    served = fleet.server_requests()
    base = fleet.web.url.rstrip("/")
    twice = {base + p for p, n in served.items() if n > 1 and p != "/robots.txt"}
    requeued = {
        m.group(1) for w in survivors for m in REQUEUED.finditer(w.log.read_text(errors="replace"))
    }
    assert requeued, "the killed process held nothing in flight?"
    assert twice <= requeued, twice - requeued
    assert max(n for p, n in served.items() if p != "/robots.txt") <= 2
    assert all(len([u for u in w.fetched() if u in articles]) > 0 for w in survivors)


def test_redis_lost_mid_crawl_stops_cleanly_and_the_next_run_finishes(
    sample_web: SampleWebProcess, crawled: Crawl, tmp_path: Path
) -> None:
    """Redis goes away (SHUTDOWN SAVE) mid-crawl: the crawler retries with backoff, then
    closes with reason redis_lost (exit 1, no traceback), every article it stored whole.
    Redis comes back with what it held: the next run picks the requests up and the store
    ends complete."""
    server = RedisServer(tmp_path / "redis").start()
    try:
        f = Fleet(sample_web, str(tmp_path / "lost.db"), server.url, tmp_path)
        f.start(1, "DOWNLOAD_DELAY=0.2", "AGGREGATOR_REDIS_LOST_SECONDS=3",
                "AGGREGATOR_REDIS_HEARTBEAT=1")  # fmt: skip
        w = f.workers[0]
        deadline = time.monotonic() + 60
        while len(w.fetched()) < 30:
            assert w.proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        server.stop(save=True)
        lost_at = time.monotonic()
        w.proc.wait(timeout=60)
        took = time.monotonic() - lost_at
        log = w.log.read_text(errors="replace")
        assert w.proc.returncode == 1, log[-3000:]
        assert "Traceback" not in log, log[-3000:]
        assert "Spider closed (redis_lost)" in log
        assert "aggregator: lost the Redis queue at" in log
        assert took < 30
        with open_store(f.db) as store:
            first = store.count()
            stored = {a.canonical_url for a in store.articles()}
        # what the process says it stored is in the store, whole
        table = w.out.read_text()
        inserted = sum(
            int(m.group(1)) for m in re.finditer(r"^\S+\s+\d+\s+\d+\s+(\d+)", table, re.M)
        )
        assert inserted == first > 0
        truth_total = len(sample_truth(sample_web.site_ids))
        assert first < truth_total

        server.start()  # back, with the queue it held
        again = Fleet(sample_web, f.db, server.url, tmp_path / "again")
        (tmp_path / "again").mkdir()
        again.start(1)
        again.wait(again.workers)
        log2 = again.workers[0].log.read_text(errors="replace")
        carried = [int(n) for n in re.findall(r"(\d+) carried over", log2)]
        assert sum(carried) > 0, "the next run did not pick up what was left"
        _check_store_complete(again, crawled)
        with open_store(f.db) as store:
            assert stored <= {a.canonical_url for a in store.articles()}
    finally:
        server.stop()


def test_run_refuses_a_redis_url(tmp_path: Path) -> None:
    """``aggregator run`` keeps its own queue: with AGGREGATOR_REDIS_URL set it says what
    to run instead, exit 2."""
    env = {**os.environ, "AGGREGATOR_SITES_DIRS": "", "AGGREGATOR_REDIS_URL": "redis://x:1/0"}
    result = subprocess.run(
        [sys.executable, "-m", "aggregator.app.cli", "run", "--db", str(tmp_path / "a.db")],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "crawl --due --redis" in result.stderr and "Traceback" not in result.stderr
