"""The store's writer thread: batches written in order on their own thread and connection,
the caller going on meanwhile; stories decided there; a bounded queue; the store's errors
on the batch's future."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar

import pytest

from aggregator.process.writer import InlineWriter, StoreWriter, writer_for
from aggregator.store import SQLiteStore, StoreUnavailable
from tests.support.factory import STORY_TEXT, make_article


class _Gated(SQLiteStore):
    """A store whose write transactions wait for ``gate`` and note their thread."""

    gate: ClassVar[threading.Event] = threading.Event()
    threads: ClassVar[list[int]] = []

    def _begin_write(self) -> None:
        assert self.gate.wait(30)
        self.threads.append(threading.get_ident())
        super()._begin_write()


@pytest.fixture
def gated(tmp_path: Path) -> type[_Gated]:
    with SQLiteStore(tmp_path / "s.db"):
        pass  # its schema made: the gated store's first transaction is a batch
    _Gated.gate = threading.Event()
    _Gated.threads = []
    return _Gated


def test_batches_are_written_in_order_on_the_writer_thread(
    tmp_path: Path, gated: type[_Gated]
) -> None:
    """The caller's thread hands two batches over and goes on while the store is held
    (a synchronous write would block it); once the store is free both are written, in
    order, by one other thread; two copies of one story, one in each batch, merge."""
    with gated(tmp_path / "s.db") as store:
        writer = StoreWriter(store.twin)
        first = [(make_article(f"https://tamdao.vn/a-{i}.html", body_text=f"Bài {i}."), None)
                 for i in range(3)]  # fmt: skip
        copy = make_article("https://tamdao.vn/story.html", body_text=STORY_TEXT)
        again = make_article("https://tamdao.vn/story-copy.html", body_text=STORY_TEXT)
        written = [writer.submit([*first, (copy, None)]), writer.submit([(again, None)])]
        assert not any(f.done() for f in written)  # the caller was not kept waiting
        gated.gate.set()
        assert [f.result(timeout=30) for f in written] == [["inserted"] * 4, ["inserted"]]
        writer.close()
        assert set(gated.threads) == {gated.threads[0]} != {threading.get_ident()}
        assert again.duplicate_of == copy.id and again.story is not None
        assert store.get(again.id).duplicate_of == copy.id  # type: ignore[union-attr]
        assert store.count() == 5


def test_the_queue_is_bounded(tmp_path: Path, gated: type[_Gated]) -> None:
    """With a batch being written and ``depth`` waiting, the next hand-over waits."""
    with gated(tmp_path / "s.db") as store:
        writer = StoreWriter(store.twin, depth=1)
        urls = iter(f"https://tamdao.vn/b-{i}.html" for i in range(10))
        writer.submit([(make_article(next(urls)), None)])  # taken by the thread
        while not gated.threads and writer._jobs.qsize():  # until the thread holds it
            threading.Event().wait(0.01)
        writer.submit([(make_article(next(urls)), None)])  # waits in the queue
        third = threading.Thread(target=writer.submit, args=([(make_article(next(urls)), None)],))
        third.start()
        third.join(0.5)
        assert third.is_alive()  # blocked: the queue is full
        gated.gate.set()
        third.join(30)
        assert not third.is_alive()
        writer.close()
        assert store.count() == 3


def test_a_store_lost_for_good_fails_the_batches_after_it_at_once(tmp_path: Path) -> None:
    """The store gave up (its retries are its own): the batch meets the error, and so do
    the batches after it, without the store being tried again."""
    tried: list[int] = []

    def make() -> SQLiteStore:
        tried.append(1)
        raise StoreUnavailable("lost the store")

    writer = StoreWriter(make)
    batches = [writer.submit([(make_article(f"https://tamdao.vn/c-{i}.html"), None)])
               for i in range(3)]  # fmt: skip
    for batch in batches:
        with pytest.raises(StoreUnavailable, match="lost the store"):
            batch.result(timeout=30)
    writer.close()
    assert tried == [1]


def test_a_store_in_memory_is_written_on_the_callers_thread() -> None:
    """No second connection sees an in-memory SQLite store: its batches are written at
    once through the caller's connection, and read back through it."""
    with SQLiteStore(":memory:") as store:
        writer = writer_for(store)
        assert isinstance(writer, InlineWriter)
        copy = make_article("https://tamdao.vn/story.html", body_text=STORY_TEXT)
        again = make_article("https://tamdao.vn/story-copy.html", body_text=STORY_TEXT)
        done = writer.submit([(copy, None), (again, None)])
        assert done.result(timeout=0) == ["inserted", "inserted"]
        writer.close()
        assert store.count() == 2
        assert store.get(again.id).duplicate_of == copy.id  # type: ignore[union-attr]


def test_a_store_on_disk_gets_a_thread(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        writer = writer_for(store)
        assert isinstance(writer, StoreWriter)
        writer.close()
