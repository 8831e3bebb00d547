"""The store over SQL: connecting, statements, write transactions, and the operational
records (pages fetched, crawls, health events); a dialect per backend fills the gaps."""

from __future__ import annotations

import itertools
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from aggregator.normalize.dates import iso
from aggregator.normalize.urls import mask_password
from aggregator.store.records import CrawlRecord, HealthRecord, PageRecord

__all__ = [
    "BUSY_TRIES",
    "Cursor",
    "SQLBase",
    "StoreUnavailable",
    "dt",
    "is_postgres",
    "iso",
    "mask_target",
    "values_marks",
]

_T = TypeVar("_T")

#: a page record's statement parameters (``astuple`` deep-copies each field: ~50x slower)
_PAGE_ROW = attrgetter(*(f.name for f in fields(PageRecord)))

#: Tries of a write transaction that finds the store busy beyond busy_timeout.
BUSY_TRIES = 6


def dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def utc(value: str | None) -> datetime | None:
    """A stored time; one written without an offset is UTC."""
    parsed = dt(value)
    return parsed.replace(tzinfo=UTC) if parsed is not None and not parsed.tzinfo else parsed


# -- one store over SQL; a dialect per backend ----------------------------------------------


class StoreUnavailable(RuntimeError):
    """The store cannot be reached or used: at start (no server, no database, no right to
    create its schema), or lost for longer than the retry bound."""


class Cursor(Protocol):
    """What the store reads from its driver's cursors (sqlite3 and psycopg alike)."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchmany(self, size: int = ...) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


def is_postgres(target: str | Path) -> bool:
    """True for a ``postgresql://`` or ``postgres://`` URL (else: a SQLite path)."""
    return isinstance(target, str) and target.lower().startswith(("postgresql://", "postgres://"))


def mask_target(target: str | Path) -> str:
    """``target`` fit for logs and errors: a URL's password shown as ``***``."""
    return mask_password(str(target))


def values_marks(rows: int, width: int) -> str:
    """``(?, ?), (?, ?)``: the placeholders of a multi-row insert (one round trip)."""
    row = "(" + ", ".join("?" * width) + ")"
    return ", ".join([row] * rows)


class SQLBase(ABC):
    """The store: every query and write, over one connection of a SQL backend.

    A subclass is the backend's dialect: how to connect, migrate, begin a write
    transaction and recover from a busy or lost connection, and the few spellings that
    differ. Queries are written once, with ``?`` (and ``:name``) placeholders.
    """

    #: marks a column so that the planner keeps off its index (SQLite: unary "+")
    _NOT_INDEXED = ""
    #: a join done in the written order
    _ORDERED_JOIN = "JOIN"
    #: starts a read transaction that sees one state of the store
    _BEGIN_READ = "BEGIN"

    def __init__(self) -> None:
        self._conn: Any = None

    # -- lifecycle ----------------------------------------------------------------

    def open(self) -> None:
        if self._conn is not None:
            return
        self._conn = self._connect()
        self._migrate()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @abstractmethod
    def twin(self) -> Self | None:
        """Another store over the same target, not yet opened: a second connection, for
        another thread (a sqlite3 connection belongs to the thread that opened it); None
        when no other connection sees this one's data (SQLite in memory)."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the store is, fit for messages (a URL's password masked)."""

    @property
    def conn(self) -> Any:
        """The driver's connection (sqlite3 or psycopg)."""
        if self._conn is None:
            raise RuntimeError("store is not open")
        return self._conn

    # -- the dialect ----------------------------------------------------------------

    @abstractmethod
    def _connect(self) -> Any: ...

    @abstractmethod
    def _migrate(self) -> None: ...

    @abstractmethod
    def schema_version(self) -> int:
        """How many migrations the store has had."""

    @abstractmethod
    def _run(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Cursor:
        """One statement on the connection, as it is."""

    @abstractmethod
    def _run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for each of ``rows``, in order, in one driver call."""

    @property
    @abstractmethod
    def in_transaction(self) -> bool: ...

    @abstractmethod
    def _begin_write(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    @abstractmethod
    def _recover(self, exc: Exception, attempt: int, started: float) -> bool:
        """After ``exc``: wait (and reconnect) and return True when the statement or
        transaction may be tried again; False to raise ``exc``."""

    @abstractmethod
    def last_first_seen(self, site: str) -> datetime | None:
        """When the newest article of ``site`` was first seen (UTC)."""

    # -- statements and transactions ------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Cursor:
        """One statement; outside a transaction, retried as the backend allows (a busy
        SQLite file, a lost PostgreSQL connection)."""
        if self.in_transaction:
            return self._run(sql, params)
        started = time.monotonic()
        for attempt in itertools.count():
            try:
                return self._run(sql, params)
            except Exception as exc:
                if not self._recover(exc, attempt, started):
                    raise
        raise AssertionError("unreachable")

    def _batches(self, sql: str, params: Sequence[Any] = ()) -> Iterator[list[Any]]:
        """The rows of a long query, 500 at a time."""
        cursor = self.execute(sql, params)
        while rows := cursor.fetchmany(500):
            yield rows

    def transaction(self, work: Callable[[], _T]) -> _T:
        """Run ``work`` in one write transaction: writers take the store's write lock
        first (``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), so no read inside can
        go stale; rolled back on any error, so nothing is ever half-written. A busy store
        or a lost connection is retried with a growing pause (``work`` runs again from the
        start); ``work`` must only write through this store."""
        if self.in_transaction:  # inside the caller's transaction: its commit is ours
            return work()
        started = time.monotonic()
        for attempt in itertools.count():
            try:
                try:
                    self._begin_write()
                    self._defer_writes()
                    result = work()
                    self._write_deferred()
                    self._run("COMMIT")
                    return result
                except BaseException:
                    self._drop_deferred()
                    self._rollback()
                    raise
            except Exception as exc:
                if not self._recover(exc, attempt, started):
                    raise
        raise AssertionError("unreachable")

    @abstractmethod
    def _defer_writes(self) -> None:
        """A transaction begins: writes that may wait for its end wait from now on."""

    @abstractmethod
    def _write_deferred(self) -> None:
        """Before the transaction commits: write what waited."""

    @abstractmethod
    def _drop_deferred(self) -> None:
        """The transaction is rolled back: forget what waited; writes no longer wait."""

    # -- pages seen (incremental crawling) -----------------------------------------

    def page(self, url: str) -> PageRecord | None:
        """What the store knows of an article URL (canonical form), if anything."""
        row = self.execute(
            "SELECT url, site, article_id, status, etag, last_modified, published_ts, "
            "checked_at FROM pages WHERE url = ?",
            (url,),
        ).fetchone()
        return PageRecord(*row) if row is not None else None

    def record_page(self, record: PageRecord) -> None:
        """Remember a fetched article URL: what it gave and its HTTP validators."""
        self.record_pages([record])

    def record_pages(self, records: Sequence[PageRecord]) -> None:
        """``record_page`` for several URLs, in order, in one driver call."""
        if not records:
            return
        # one row a statement: several records of one URL are applied in order
        sql = (
            "INSERT INTO pages (url, site, article_id, status, etag, last_modified, "
            "published_ts, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (url) DO UPDATE SET site = excluded.site, "
            "article_id = excluded.article_id, status = excluded.status, "
            "etag = COALESCE(excluded.etag, pages.etag), "
            "last_modified = COALESCE(excluded.last_modified, pages.last_modified), "
            "published_ts = COALESCE(excluded.published_ts, pages.published_ts), "
            "checked_at = excluded.checked_at"
        )
        rows = [_PAGE_ROW(record) for record in records]
        self.transaction(lambda: self._run_many(sql, rows))

    def _write_one(self, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> None:
        """One write statement in its own (retried) transaction."""
        self.transaction(lambda: self.execute(sql, params))

    def known_article_urls(self, site: str) -> set[str]:
        """The URLs (canonical form) of ``site`` that gave an article: what a resumed crawl
        (``aggregator crawl --resume``) need not fetch again."""
        rows = self.execute("SELECT url FROM pages WHERE site = ? AND status = 'article'", (site,))
        return {r[0] for r in rows}

    def touch_page(self, url: str, checked_at: str) -> None:
        """A page answered 304 Not Modified: only its check time changes."""
        self._write_one("UPDATE pages SET checked_at = ? WHERE url = ?", (checked_at, url))

    def site_known(self, site: str) -> bool:
        """True once a crawl of ``site`` stored anything (incremental crawls start then)."""
        row = self.execute("SELECT 1 FROM pages WHERE site = ? LIMIT 1", (site,))
        return row.fetchone() is not None

    def record_crawl(
        self, site: str, started_at: datetime, finished_at: datetime, stats: dict[str, Any]
    ) -> None:
        self._write_one(
            "INSERT INTO crawls (site, started_at, finished_at, stats) VALUES (?, ?, ?, ?)",
            (site, iso(started_at), iso(finished_at), json.dumps(stats, default=str)),
        )

    def crawled_through(self, site: str, before: float) -> float | None:
        """When the site's last crawl that ran to its end, and ended before ``before``,
        started (epoch seconds; None if there is none): a page that was on the site
        then was seen by it."""
        rows = self.execute(
            "SELECT started_at, finished_at, stats FROM crawls WHERE site = ? ORDER BY id DESC",
            (site,),
        )
        for started, finished, stats in rows:
            start, end = utc(started), utc(finished)
            if start is None or end is None or end.timestamp() >= before:
                continue
            if json.loads(stats).get("finish_reason") in (None, "finished"):
                return start.timestamp()
        return None

    def record_misses(self, site: str, misses: Mapping[str, float]) -> None:
        """Remember article URLs of ``site`` a crawl fetched and stored nothing from (URL ->
        when, epoch seconds); a URL keeps its first time."""
        rows = sorted(misses.items())
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            self._write_one(
                "INSERT INTO page_misses (url, site, first_missed) VALUES "
                f"{values_marks(len(chunk), 3)} ON CONFLICT (url) DO NOTHING",
                [v for url, ts in chunk for v in (url, site, ts)],
            )

    def first_missed(self, urls: Sequence[str]) -> float | None:
        """When a crawl first fetched one of ``urls`` and stored nothing (epoch seconds;
        None if never)."""
        if not urls:
            return None
        marks = ", ".join("?" * len(urls))
        row = self.execute(
            f"SELECT MIN(first_missed) FROM page_misses WHERE url IN ({marks})", tuple(urls)
        ).fetchone()
        return float(row[0]) if row[0] is not None else None

    def crawl_history(self, site: str, limit: int) -> list[CrawlRecord]:
        """The newest ``limit`` crawl records of ``site``, newest first."""
        rows = self.execute(
            "SELECT started_at, finished_at, stats FROM crawls WHERE site = ? "
            "ORDER BY id DESC LIMIT ?",
            (site, limit),
        )
        return [CrawlRecord(utc(r[0]), utc(r[1]), json.loads(r[2])) for r in rows]

    def last_crawls(self) -> dict[str, dict[str, Any]]:
        """The latest crawl record of each site."""
        rows = self.execute(
            "SELECT site, started_at, finished_at, stats FROM crawls c "
            "WHERE id = (SELECT MAX(id) FROM crawls WHERE site = c.site) ORDER BY site"
        )
        return {
            r["site"]: {
                "started_at": r["started_at"],
                "finished_at": r["finished_at"],
                "stats": json.loads(r["stats"]),
            }
            for r in rows
        }

    # -- the health view's verdict history ------------------------------------------

    def last_health_event(self, site: str) -> HealthRecord | None:
        """The newest recorded change of ``site``'s verdict."""
        rows = self._health_events("WHERE site = ?", (site, 1))
        return rows[0] if rows else None

    def health_events(self, limit: int) -> list[HealthRecord]:
        """The newest changes of every site's verdict, newest first."""
        return self._health_events("", (limit,))

    def _health_events(self, where: str, params: Sequence[Any]) -> list[HealthRecord]:
        rows = self.execute(
            f"SELECT site, at, verdict, previous, fields, reasons FROM health_events {where} "
            "ORDER BY id DESC LIMIT ?",
            params,
        )
        return [
            HealthRecord(r[0], datetime.fromisoformat(r[1]), r[2], r[3],
                         tuple(json.loads(r[4])), tuple(json.loads(r[5])))
            for r in rows
        ]  # fmt: skip

    def add_health_event(self, event: HealthRecord) -> None:
        """Append a change of a site's verdict (in the caller's transaction, if any)."""
        self._write_one(
            "INSERT INTO health_events (site, at, verdict, previous, fields, reasons) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                event.site,
                event.at.astimezone(UTC).isoformat(),
                event.verdict,
                event.previous,
                json.dumps(list(event.fields)),
                json.dumps(list(event.reasons), ensure_ascii=False),
            ),
        )
