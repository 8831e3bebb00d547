"""A crawl whose worker processes run the whole chain: each takes a chunk of consecutive
article pages, prepares it, then deduplicates and writes it in one transaction over its own
store connection, in the order the pages were fetched
(:class:`~aggregator.process.pool.WritingPool`). The crawl's process only fetches, hands
the pages over and counts the small answer each page gets: no article crosses back, and
no store write or dedup lookup shares its one core with the reactor.

A chunk is sent once it holds ``AGGREGATOR_BATCH_SIZE`` pages or its first page has
waited ``AGGREGATOR_BATCH_MS``; it is committed whole or not at all, so a killed crawl
loses at most the chunks in hand, which ``--resume`` fetches again (a page's callback
returns once its chunk is committed). The crawls of one process that write to one store
share one pool (:meth:`ChunkWriter.acquire`).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Any, ClassVar

from aggregator.process.chain import Page, SeenURLs
from aggregator.process.pool import Answer, WritingPool
from aggregator.sites.definition import SiteDefinition
from aggregator.store import SQLStore

__all__ = ["ChunkWriter"]

_Waiting = list["asyncio.Future[Answer]"]


class ChunkWriter:
    """The pages waiting for the next chunk, for every crawl of this process writing to
    one store; each page's future is settled with its
    :data:`~aggregator.process.pool.Answer` (or the chunk's error: the store's,
    :class:`~aggregator.process.pool.NotWritten`) on the loop."""

    _shared: ClassVar[dict[int, tuple[ChunkWriter, int]]] = {}

    def __init__(self, pool: WritingPool, size: int, seconds: float) -> None:
        self.pool = pool
        self.size, self.seconds = size, seconds
        self.chunk: list[tuple[Page, SiteDefinition, str]] = []
        self.waiting: _Waiting = []
        self.timer: asyncio.TimerHandle | None = None

    @classmethod
    def acquire(
        cls, store: SQLStore, jobs: int, *, size: int, seconds: float, **pool: Any
    ) -> ChunkWriter | None:
        """This process's writer for ``store`` (made by the first caller, with its
        arguments; ``pool``: :class:`WritingPool`'s); None when no second connection
        would see the store's data (SQLite in memory)."""
        writer, users = cls._shared.get(id(store), (None, 0))
        if writer is None:
            twin = store.twin()
            if twin is None:
                return None
            writer = cls(WritingPool(jobs, twin, SeenURLs(), **pool), size, seconds)
        cls._shared[id(store)] = (writer, users + 1)
        return writer

    def release(self, store: SQLStore, run: str) -> None:
        """``run`` is over (every page of it answered); the last user stops the workers,
        once they wrote what they hold."""
        self.flush()
        self.pool.seen.forget(run)
        writer, users = self._shared[id(store)]
        if users > 1:
            self._shared[id(store)] = (writer, users - 1)
            return
        del self._shared[id(store)]
        self.pool.close()

    def add(self, page: Page, site: SiteDefinition, run: str) -> asyncio.Future[Answer]:
        """The page's place in the next chunk: its answer once the chunk is committed.
        ``run``: the crawl's name for "the same URL twice"."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Answer] = loop.create_future()
        self.chunk.append((page, site, run))
        self.waiting.append(answer)
        if len(self.chunk) >= self.size or not self.seconds:
            self.flush()
        elif self.timer is None:
            self.timer = loop.call_later(self.seconds, self.flush)
        return answer

    def flush(self) -> None:
        """Hand the pages waiting to the workers, one chunk."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        chunk, waiting = self.chunk, self.waiting
        self.chunk, self.waiting = [], []
        if not chunk:
            return
        loop = waiting[0].get_loop()
        done = self.pool.submit_chunk(chunk)
        done.add_done_callback(lambda f: loop.call_soon_threadsafe(_settle, waiting, f))


def _settle(waiting: _Waiting, done: Future[list[Answer]]) -> None:
    try:
        answers: list[Answer] | None = done.result()
    except Exception as exc:  # the chunk's: every page of it meets it
        for answer in waiting:
            if not answer.done():
                answer.set_exception(exc)
        return
    assert answers is not None
    for answer, given in zip(waiting, answers, strict=True):
        if not answer.done():
            answer.set_result(given)
