"""The SQLite backend: one file, WAL journal, schema version in ``PRAGMA user_version``."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

# -- SQLite ---------------------------------------------------------------------------------
from aggregator.store.articles import SQLStore
from aggregator.store.base import BUSY_TRIES, Cursor, StoreUnavailable
from aggregator.store.migrations import MIGRATIONS, migration_sql
from aggregator.store.search import SearchTimeout

__all__ = ["SQLiteStore"]


def _busy(exc: BaseException) -> bool:
    message = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in message or "busy" in message)


#: What a store that cannot be used says, and what to do about it.
_FATAL = (
    ("not a database", "the file is damaged or not a store: restore a backup or give --db"),
    ("malformed", "the file is damaged: restore a backup or give --db"),
    ("disk is full", "the disk is full: free some space"),
    ("readonly", "the store is read-only (file, folder or file system)"),
    ("disk i/o error", "the disk failed to read or write"),
    ("unable to open", "check that the file and its folder can be read"),
)


def _unusable(path: Path, exc: BaseException) -> StoreUnavailable | None:
    """The one-line error for a store that cannot be used (None: not such an error)."""
    if not isinstance(exc, sqlite3.DatabaseError) or _busy(exc):
        return None
    message = str(exc)
    for marker, hint in _FATAL:
        if marker in message.lower():
            return StoreUnavailable(f"cannot use the store {path}: {message} ({hint})")
    return None


def _read_only(path: Path) -> bool:
    """A store this process may not write: its file, or its folder (WAL needs both)."""
    if not path.exists():
        return False
    return not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK)


class SQLiteStore(SQLStore):
    """SQLite backend: one file, WAL journal, schema version in ``PRAGMA user_version``."""

    _NOT_INDEXED = "+"
    _ORDERED_JOIN = "CROSS JOIN"  # SQLite joins a CROSS JOIN in the written order

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.read_only = False

    def twin(self) -> Self | None:
        return None if str(self.path) == ":memory:" else type(self)(self.path)

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("store is not open")
        return self._conn

    def _connect(self) -> sqlite3.Connection:
        try:
            return self._open_connection()
        except sqlite3.DatabaseError as exc:
            raise (_unusable(self.path, exc) or exc) from None

    def _open_connection(self) -> sqlite3.Connection:
        """A connection set up for the store. A store that this process may not write
        (read-only file, folder or file system) is opened read-only, as it is: its
        journal mode is left alone, so exports and feeds can still read it."""
        memory = str(self.path) == ":memory:"
        if not memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.read_only = not memory and _read_only(self.path)
        if self.read_only:
            conn = self._read_only_connection()
        else:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        if not self.read_only:
            self._use_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        # the store's own cache: dedup lookups are index seeks, keep the hot pages in RAM.
        # A crawl's process fills it (64 MiB: a third of its memory); the dedup lookups
        # took the same CPU at 1M stored with 8 to 128 MiB (the OS caches the file too)
        conn.execute("PRAGMA cache_size=-8192")  # 8 MiB
        # no memory-mapped reads: every page read through the map stays in the process's
        # RSS (a 20,000-page crawl ended at 280 MB of mapped store); reads go through the
        # page cache above, which is bounded. The price: with 100,000 stored, the dedup
        # lookups (32 random pages of the band index) cost 1.02 ms an article, not 0.67
        conn.execute("PRAGMA mmap_size=0")
        conn.execute("PRAGMA temp_store=MEMORY")
        return conn

    def _read_only_connection(self) -> sqlite3.Connection:
        """Read-only; a WAL store in a folder where its ``-shm`` file cannot be made is
        read as immutable (nothing can write it there anyway)."""
        uri = self.path.resolve().as_uri()
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30, isolation_level=None)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
        return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)

    @staticmethod
    def _use_wal(conn: sqlite3.Connection) -> None:
        if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            return  # the usual case: nothing to write
        for attempt in range(BUSY_TRIES * 4):
            # switching a new file to WAL fails at once (no busy wait) while another
            # process opening it at the same moment holds a lock: try again
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or attempt == BUSY_TRIES * 4 - 1:
                    conn.close()
                    raise
                time.sleep(0.01 * (attempt + 1))

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        def step() -> bool:
            # read inside the write lock: another process may have migrated the store since
            current = self.schema_version()
            if current >= len(MIGRATIONS):
                return False
            # executescript would commit on its own; run statement by statement.
            statement = ""
            for line in migration_sql(MIGRATIONS[current], "sqlite").splitlines(keepends=True):
                statement += line
                if sqlite3.complete_statement(statement):
                    self.conn.execute(statement)
                    statement = ""
            self._migrated(current + 1)
            self.conn.execute(f"PRAGMA user_version = {current + 1}")
            return True

        if self.schema_version() >= len(MIGRATIONS):
            return  # the usual case: no write lock taken
        while self.transaction(step):
            pass

    def _run(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Cursor:
        return self.conn.execute(sql, params)

    def _run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def _inserted_cursor(self, inserted: Cursor) -> int | None:
        assert isinstance(inserted, sqlite3.Cursor)
        return inserted.lastrowid  # the version's rowid is its cursor

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def _begin_write(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def _recover(self, exc: Exception, attempt: int, started: float) -> bool:
        if unusable := _unusable(self.path, exc):  # a full disk, a damaged file: give up
            raise unusable from exc
        if not _busy(exc) or attempt >= BUSY_TRIES - 1:
            return False
        time.sleep(0.05 * 2**attempt)
        return True

    @contextmanager
    def _time_bound(self, seconds: float) -> Iterator[None]:
        deadline = time.monotonic() + seconds
        # called every 1,000 virtual machine steps; non-zero interrupts the statement
        self.conn.set_progress_handler(lambda: time.monotonic() > deadline, 1000)
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "interrupted" not in str(exc):
                raise
            raise SearchTimeout(f"the search took over {seconds:g} s") from None
        finally:
            self.conn.set_progress_handler(None, 0)

    def last_first_seen(self, site: str) -> datetime | None:
        # julianday folds the offsets of the stored ISO times
        row = self.execute(
            "SELECT MAX(julianday(first_seen)) FROM articles WHERE site = ?", (site,)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return datetime.fromtimestamp((row[0] - 2440587.5) * 86400, UTC)
