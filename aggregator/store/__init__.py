"""The article store: one interface, two backends (SQLite, PostgreSQL).

Articles are keyed by canonical URL; ``upsert`` inserts a new one, updates a
changed one (bumping its version and ``updated``) and leaves an unchanged one
alone, so a re-crawl never duplicates. The schema is created and upgraded by one
list of numbered migrations, written in SQLite's SQL; PostgreSQL gets the same
statements with its own column types and records its version in
``aggregator_schema`` where SQLite uses ``PRAGMA user_version``.

One class holds every query (:class:`~aggregator.store.base.SQLBase`: connections,
transactions, pages, crawls, health events; :class:`~aggregator.store.articles.SQLStore`:
articles, dedup keys, versions); a backend subclass (``sqlite``, ``postgres``) supplies the
dialect: connecting, migrating, the write lock, and recovering from a busy store or a
lost connection. ``open_store`` picks it from ``--db``: a ``postgresql://`` URL or a
SQLite path. Nothing here imports the layers above it (processing, crawling, publishing).

Several processes may write one store at once (two crawls, a Scrapyd job beside a
crawl, crawlers on several machines sharing PostgreSQL): every write is one short
transaction that takes the store's write lock first (SQLite ``BEGIN IMMEDIATE``,
PostgreSQL ``pg_advisory_xact_lock``), waited for and retried when the store stays
busy; an article, its dedup keys, its page records and its story merge are written in one
transaction (the processing chain opens it), so a crash (SIGKILL) or a lost connection
never leaves half of them. What is stored is made safe for whatever reads it (feeds,
exports): markup in text fields and unsafe HTML never enter
(:func:`~aggregator.store.records.safe_article`). The folded words of every article are
indexed in the same transaction for :meth:`SQLStore.search`
(:mod:`~aggregator.store.search`: SQLite FTS5, PostgreSQL ``tsvector``, same results).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aggregator.store.articles import SQLStore
from aggregator.store.base import StoreUnavailable, is_postgres, mask_target
from aggregator.store.postgres import PostgresStore
from aggregator.store.records import PageRecord, StoredArticle
from aggregator.store.sqlite import SQLiteStore

__all__ = [
    "PageRecord",
    "PostgresStore",
    "SQLStore",
    "SQLiteStore",
    "StoreUnavailable",
    "StoredArticle",
    "acquire_store",
    "is_postgres",
    "mask_target",
    "open_store",
    "release_store",
]


def open_store(target: str | Path, *, retry_seconds: float = 60.0) -> SQLStore:
    """A store for ``--db`` / ``AGGREGATOR_DB``: a ``postgresql://`` (or ``postgres://``)
    URL, else a SQLite path; not yet opened. ``retry_seconds``: how long PostgreSQL
    statements are retried once its connection is lost."""
    if is_postgres(target):
        return PostgresStore(str(target), retry_seconds=retry_seconds)
    return SQLiteStore(target)


#: the stores opened by :func:`acquire_store` in this process: target -> [store, users]
_SHARED: dict[tuple[str, float], list[Any]] = {}


def acquire_store(target: str | Path, *, retry_seconds: float = 60.0) -> SQLStore:
    """The open store for ``target`` that this process's crawl components share (the
    pipelines and the incremental middleware of every crawler in the process, all on
    the reactor thread): one connection and one page cache instead of one per component
    and crawler. Hand it back with :func:`release_store`; the last release closes it."""
    key = (str(target), retry_seconds)
    entry = _SHARED.get(key)
    if entry is None:
        store = open_store(target, retry_seconds=retry_seconds)
        store.open()
        entry = _SHARED[key] = [store, 0]
    entry[1] += 1
    shared: SQLStore = entry[0]
    return shared


def release_store(store: SQLStore) -> None:
    """Give back a store from :func:`acquire_store` (a store opened otherwise is closed)."""
    for key, entry in list(_SHARED.items()):
        if entry[0] is store:
            entry[1] -= 1
            if entry[1] <= 0:
                del _SHARED[key]
                store.close()
            return
    store.close()
