"""Free heap memory handed back to the system while crawls run."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from aggregator.crawl.memory import TrimMemory, malloc_trim
from aggregator.settings import EXTENSIONS

trim = malloc_trim()
pytestmark = pytest.mark.skipif(trim is None, reason="not glibc")


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


def test_one_timer_runs_while_any_crawler_runs() -> None:
    """Crawlers of one process share a timer, stopped when the last one closes."""
    assert "aggregator.crawl.memory.TrimMemory" in EXTENSIONS
    extensions = [TrimMemory.from_crawler(get_crawler()) for _ in range(2)]
    for extension in extensions:
        extension.spider_opened()
    assert TrimMemory.loop is not None and TrimMemory.loop.running
    extensions[0].spider_closed()
    assert TrimMemory.loop is not None and TrimMemory.loop.running
    extensions[1].spider_closed()
    assert TrimMemory.loop is None and TrimMemory.running == 0
