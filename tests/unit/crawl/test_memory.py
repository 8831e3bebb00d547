"""Free heap memory handed back to the system while crawls run."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
from scrapy.utils.test import get_crawler

from aggregator.crawl import memory
from aggregator.crawl.memory import INTERVAL, TrimMemory, malloc_trim
from aggregator.settings import EXTENSIONS

trim = malloc_trim()
pytestmark = pytest.mark.skipif(
    trim is None,
    reason="malloc_trim is glibc's: this C library has none (the extension is off here)",
)


def _rss_anon_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise AssertionError("no RssAnon")


def test_the_gaps_left_between_kept_allocations_go_back_to_the_system() -> None:
    """Bodies of tens of KB freed between small allocations that stay (a crawl's pattern):
    glibc keeps the gaps until trimmed."""
    assert trim is not None
    rng = random.Random(8)
    kept, passing = [], []
    for _ in range(1500):
        kept.append(bytearray(rng.randint(600, 2000)))
        passing.append(bytearray(rng.randint(20_000, 60_000)))
    del passing
    before = _rss_anon_kb()
    trim()
    assert before - _rss_anon_kb() > 30_000  # ~60 MB of bodies freed: most was held
    assert len(kept) == 1500


class _Loop:
    """twisted's LoopingCall without the reactor (a unit test installs none)."""

    made: ClassVar[list[_Loop]] = []

    def __init__(self, call: Callable[[], object]) -> None:
        self.call, self.running, self.interval = call, False, 0.0
        _Loop.made.append(self)

    def start(self, interval: float, now: bool = True) -> None:
        self.running, self.interval = True, interval

    def stop(self) -> None:
        self.running = False


def test_one_timer_runs_while_any_crawler_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Crawlers of one process share a timer, stopped when the last one closes."""
    assert "aggregator.crawl.memory.TrimMemory" in EXTENSIONS
    assert isinstance(TrimMemory.from_crawler(get_crawler()), TrimMemory)
    monkeypatch.setattr(memory.task, "LoopingCall", _Loop)
    trims: list[int] = []
    extensions = [TrimMemory(lambda: trims.append(1)) for _ in range(2)]
    for extension in extensions:
        extension.spider_opened()
    [loop] = _Loop.made
    assert loop.running and loop.interval == INTERVAL
    loop.call()
    assert trims == [1]
    extensions[0].spider_closed()
    assert loop.running  # one crawler left
    extensions[1].spider_closed()
    assert not loop.running and TrimMemory.loop is None and TrimMemory.running == 0
