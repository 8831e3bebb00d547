"""Hand the C allocator's free memory back to the system while crawls run (glibc only),
after a full pass of Python's cyclic garbage collector.

A crawl process allocates each response's body, the page sent to a worker and the answer
from it (tens of KB each) between long-lived allocations (SQLite's page cache, the
frontier's requests). glibc keeps the freed gaps between them, a third of the heap in a
20,000-page crawl; ``malloc_trim(0)`` returns their whole pages (well under a millisecond).
The crawl collects its young objects seldom (:func:`aggregator.crawl.runner.collect_less`), so
cycles that lived through a few responses (requests, deferreds, failures holding bodies) wait
in the oldest generation; a full pass first (tens of milliseconds: what was loaded before the
crawls is frozen out of it) frees them every :data:`INTERVAL` seconds, not once in a while.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable
from typing import ClassVar

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

__all__ = ["INTERVAL", "TrimMemory", "malloc_trim"]

#: Seconds between two trims.
INTERVAL = 5.0


def malloc_trim() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)``; None with another C library."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)


class TrimMemory:
    """Scrapy extension: the process's free heap memory back to the system every
    :data:`INTERVAL` seconds while any of its crawlers runs (one timer a process)."""

    running: ClassVar[int] = 0
    loop: ClassVar[task.LoopingCall | None] = None

    def __init__(self, trim: Callable[[], object]) -> None:
        self.trim = trim

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TrimMemory:
        trim = malloc_trim()
        if trim is None:
            raise NotConfigured("not glibc: no malloc_trim")
        extension = cls(trim)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        TrimMemory.running += 1
        if TrimMemory.loop is None:
            TrimMemory.loop = task.LoopingCall(self.collect)
            TrimMemory.loop.start(INTERVAL, now=False)

    def collect(self) -> None:
        """A full collection, then the free heap back to the system."""
        gc.collect()
        self.trim()

    def spider_closed(self) -> None:
        TrimMemory.running -= 1
        if TrimMemory.running == 0 and TrimMemory.loop is not None:
            if TrimMemory.loop.running:
                TrimMemory.loop.stop()
            TrimMemory.loop = None
