"""The store's writer thread: batches of articles deduplicated and written through the
:class:`~aggregator.process.chain.Chain` on one thread that owns its own store connection,
so that the thread handing them over (a crawl's reactor, a re-extraction's main loop)
goes on fetching and extracting while a batch is written.

sqlite3 and psycopg release the GIL while a statement runs, so the store's work overlaps
the caller's. The thread looks each article's story up first, outside the write lock
(the slow part), then writes the batch in one transaction, where a story gone stale
since (another writer's, or this batch's own articles) is decided again.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Protocol

from aggregator.items import Article
from aggregator.process.chain import Chain, ChainStore
from aggregator.sites.definition import SiteDefinition
from aggregator.store.base import StoreUnavailable
from aggregator.store.records import UpsertResult

__all__ = [
    "Batch",
    "InlineWriter",
    "Results",
    "StoreWriter",
    "TwinStore",
    "WriterStore",
    "writer_for",
]

Batch = Sequence[tuple[Article, SiteDefinition | None]]
#: each article's store result, or the error that lost it
Results = list[UpsertResult | Exception]


class WriterStore(ChainStore, Protocol):
    """A store the writer opens and closes on its own thread."""

    def open(self) -> None: ...
    def close(self) -> None: ...


class TwinStore(ChainStore, Protocol):
    """A store that can make another of itself for another thread."""

    def twin(self) -> WriterStore | None: ...


class StoreWriter:
    """One thread writing batches, in the order they were handed over, to a store it
    opens itself (a second connection: a sqlite3 connection belongs to its thread).

    :meth:`submit` blocks while ``depth`` batches already wait (one more is being
    written): the caller's back-pressure. :meth:`close` writes what waits, then closes
    the store. Once the store is unavailable (after its own retries), every later batch
    fails with that error at once: a crawl stopping for it is not held up."""

    def __init__(self, make_store: Callable[[], WriterStore | None], depth: int = 1) -> None:
        self._make_store = make_store
        self._jobs: queue.Queue[tuple[list[tuple[Article, SiteDefinition | None]],
                                      Future[Results]] | None] = queue.Queue(depth)  # fmt: skip
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    def submit(self, batch: Batch) -> Future[Results]:
        """The batch's results once its transaction is committed (in order); the future
        fails only with an error of the store itself (unreachable, lost)."""
        future: Future[Results] = Future()
        self._jobs.put((list(batch), future))
        return future

    def close(self) -> None:
        """Write the batches handed over, then stop the thread and close its store."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()

    def _run(self) -> None:
        store: WriterStore | None = None
        chain: Chain | None = None
        lost: StoreUnavailable | None = None  # for good: the batches after it are not tried
        try:
            while (job := self._jobs.get()) is not None:
                batch, future = job
                if lost is not None:
                    future.set_exception(lost)
                    continue
                try:
                    if chain is None:
                        store = self._make_store()
                        if store is None:
                            raise ValueError("this store has no second connection to write with")
                        store.open()
                        chain = Chain(store)
                    results = _write(chain, batch)
                except BaseException as exc:  # the store's: every article of the batch meets it
                    if isinstance(exc, StoreUnavailable):
                        lost = exc  # retried for its bound already: the caller stops
                    future.set_exception(exc)
                else:
                    future.set_result(results)
        finally:
            if store is not None:
                store.close()


class InlineWriter:
    """:class:`StoreWriter`'s interface, writing on the caller's thread through the
    caller's connection: for a store no second connection sees (SQLite in memory)."""

    def __init__(self, store: ChainStore) -> None:
        self._chain = Chain(store)

    def submit(self, batch: Batch) -> Future[Results]:
        future: Future[Results] = Future()
        try:
            future.set_result(_write(self._chain, batch))
        except Exception as exc:  # the store's: every article of the batch meets it
            future.set_exception(exc)
        return future

    def close(self) -> None:
        """Nothing waits: every batch was written when it was handed over."""


def writer_for(store: TwinStore) -> StoreWriter | InlineWriter:
    """A writer thread with its own connection to ``store``; the caller's thread when no
    second connection would see the same data."""
    if store.twin() is None:
        return InlineWriter(store)
    return StoreWriter(store.twin)


def _write(chain: Chain, batch: Batch) -> Results:
    for article, _ in batch:
        if article.story is None:
            try:
                chain.dedup(article)
            except StoreUnavailable:
                raise
            except Exception:  # decided again in the transaction, where its error is
                continue  # this article's alone
    return chain.store_batch(batch)
