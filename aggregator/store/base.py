"""The article store: one interface, two backends (SQLite, PostgreSQL).

Articles are keyed by canonical URL; ``upsert`` inserts a new one, updates a
changed one (bumping its version and ``updated``) and leaves an unchanged one
alone, so a re-crawl never duplicates. The schema is created and upgraded by one
list of numbered migrations, written in SQLite's SQL; PostgreSQL gets the same
statements with its own column types (:func:`_pg_ddl`) and records its version in
``aggregator_schema`` where SQLite uses ``PRAGMA user_version``.

One class (:class:`SQLStore`) holds every query; a backend subclass supplies the
dialect: connecting, migrating, the write lock, and recovering from a busy store or a
lost connection. ``open_store`` picks it from ``--db``: a ``postgresql://`` URL or a
SQLite path.

Several processes may write one store at once (two crawls, a Scrapyd job beside a
crawl, crawlers on several machines sharing PostgreSQL): every write is one short
transaction that takes the store's write lock first (SQLite ``BEGIN IMMEDIATE``,
PostgreSQL ``pg_advisory_xact_lock``), waited for and retried when the store stays
busy; an article, its dedup keys and its story merge are written in one transaction,
so a crash (SIGKILL) or a lost connection never leaves half of them; and a story
assigned from a state another process has changed since is assigned again inside that
transaction. What is stored is made safe for whatever reads it (feeds, exports): markup
in text fields and unsafe HTML never enter (:func:`safe_article`).
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, astuple, dataclass, fields, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self, TypeVar
from urllib.parse import urljoin, urlsplit

import nh3

from aggregator.dedup.fingerprints import (
    NEAR_DUPLICATE_THRESHOLD,
    Fingerprint,
    band_hashes,
    exact_key,
    similarity,
)
from aggregator.items import Article
from aggregator.normalize.dates import to_vn
from aggregator.normalize.sanitize import sanitize_html

if TYPE_CHECKING:  # imported when a PostgreSQL store opens: SQLite runs do without it
    import psycopg

__all__ = [
    "Copy",
    "PageRecord",
    "PostgresStore",
    "SQLStore",
    "SQLiteStore",
    "Store",
    "StoreUnavailable",
    "StoredArticle",
    "UpsertResult",
    "acquire_store",
    "is_postgres",
    "mask_target",
    "open_store",
    "release_store",
    "safe_article",
    "safe_text",
]

_T = TypeVar("_T")

UpsertResult = Literal["inserted", "updated", "unchanged"]

#: Fields compared to decide whether a re-crawled article changed.
_CONTENT_FIELDS = (
    "title", "lead", "source_tag", "body_text", "body_html", "authors", "section",
    "category", "categories", "published", "image", "images", "tags",
)  # fmt: skip

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE articles (
        id TEXT PRIMARY KEY,
        canonical_url TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        site TEXT NOT NULL,
        site_name TEXT NOT NULL,
        province TEXT NOT NULL,
        section TEXT,
        category TEXT,
        categories TEXT NOT NULL,       -- JSON list
        title TEXT NOT NULL,
        lead TEXT NOT NULL,
        source_tag TEXT,
        body_text TEXT NOT NULL,
        body_html TEXT NOT NULL,
        authors TEXT NOT NULL,          -- JSON list
        published TEXT,                 -- ISO 8601 with offset
        published_ts REAL,              -- epoch seconds, for ordering
        updated TEXT,
        fetched_at TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        image TEXT,
        images TEXT NOT NULL,           -- JSON list of {url, caption, credit}
        tags TEXT NOT NULL,             -- JSON list
        layers TEXT NOT NULL,           -- JSON object field -> layer
        flags TEXT NOT NULL,            -- JSON list
        duplicate_of TEXT,
        content_hash TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX articles_site_published ON articles (site, published_ts DESC);
    CREATE INDEX articles_published ON articles (published_ts DESC);
    CREATE TABLE article_categories (
        article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
        category TEXT NOT NULL,
        published_ts REAL,
        PRIMARY KEY (category, article_id)
    );
    CREATE INDEX article_categories_published ON article_categories (category, published_ts DESC);
    CREATE TABLE crawls (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        site TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        stats TEXT NOT NULL             -- JSON object
    );
    CREATE INDEX crawls_site ON crawls (site, id DESC);
    """,
    # 2: dedup keys, kept in the store so that dedup survives restarts and costs no RAM.
    # Compact on purpose: the band index is the largest table (32 rows an article).
    """
    CREATE TABLE fingerprints (
        id INTEGER PRIMARY KEY,         -- short key for the band index
        article_id TEXT NOT NULL UNIQUE REFERENCES articles (id) ON DELETE CASCADE,
        exact INTEGER NOT NULL,         -- first 63 bits of the SHA-1 of the folded words
        signature BLOB NOT NULL         -- MinHash values (empty for short texts)
    );
    CREATE INDEX fingerprints_exact ON fingerprints (exact);
    CREATE TABLE lsh_bands (
        band_hash INTEGER NOT NULL,     -- hash of one LSH band (band number mixed in)
        fingerprint INTEGER NOT NULL,   -- fingerprints.id (rows go with their fingerprint)
        PRIMARY KEY (band_hash, fingerprint)
    ) WITHOUT ROWID;
    CREATE INDEX articles_duplicate_of ON articles (duplicate_of);
    CREATE INDEX article_categories_article ON article_categories (article_id);
    """,
    # 3: what incremental crawls know of each page: fetched before, with its validators
    """
    CREATE TABLE pages (
        url TEXT PRIMARY KEY,           -- canonical form of a fetched article URL
        site TEXT NOT NULL,
        article_id TEXT,                -- the article it gave (NULL: not an article)
        status TEXT NOT NULL,           -- article | failed
        etag TEXT,
        last_modified TEXT,
        published_ts REAL,
        checked_at TEXT NOT NULL
    );
    CREATE INDEX pages_site ON pages (site);
    INSERT INTO pages (url, site, article_id, status, published_ts, checked_at)
        SELECT canonical_url, site, id, 'article', published_ts, fetched_at FROM articles
        WHERE true ON CONFLICT DO NOTHING;
    INSERT INTO pages (url, site, article_id, status, published_ts, checked_at)
        SELECT url, site, id, 'article', published_ts, fetched_at FROM articles
        WHERE true ON CONFLICT DO NOTHING;
    """,
    # 4: the health view's verdict history (one row per change of a site's verdict)
    """
    CREATE TABLE IF NOT EXISTS health_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        site TEXT NOT NULL,
        at TEXT NOT NULL,               -- ISO 8601, UTC: when the change was seen
        verdict TEXT NOT NULL,
        previous TEXT NOT NULL,         -- the verdict before ("never-crawled" at first)
        fields TEXT NOT NULL,           -- JSON list: the fields the verdict names
        reasons TEXT NOT NULL           -- JSON list of one-line explanations
    );
    CREATE INDEX IF NOT EXISTS health_events_site ON health_events (site, id DESC);
    """,
    # 5: every version of every article, in store order: the archive export's stream
    """
    CREATE TABLE article_versions (
        cursor INTEGER PRIMARY KEY AUTOINCREMENT,
        article_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        recorded_at TEXT NOT NULL,
        record TEXT NOT NULL            -- the exported JSON object of that version
    );
    CREATE INDEX article_versions_article ON article_versions (article_id, cursor);
    """,
)


@dataclass(frozen=True)
class PageRecord:
    """An article URL the crawler fetched before."""

    url: str
    site: str
    article_id: str | None
    status: Literal["article", "failed"]
    etag: str | None
    last_modified: str | None
    published_ts: float | None
    checked_at: str


@dataclass(frozen=True)
class Copy:
    """A stored article that shares its text with another."""

    id: str
    duplicate_of: str | None
    published_ts: float
    kind: Literal["exact", "near"]
    similarity: float

    @property
    def root(self) -> str:
        """The original of this copy's story."""
        return self.duplicate_of or self.id


@dataclass(frozen=True)
class StoredArticle:
    """An article as read back from the store (the export's fields and more)."""

    id: str
    url: str
    canonical_url: str
    site: str
    site_name: str
    province: str
    section: str | None
    category: str | None
    categories: list[str]
    title: str
    lead: str
    source_tag: str | None
    body_text: str
    body_html: str
    authors: list[str]
    published: datetime | None
    updated: datetime | None
    fetched_at: datetime
    first_seen: datetime
    image: str | None
    images: list[dict[str, str]]
    tags: list[str]
    layers: dict[str, str]
    flags: list[str]
    duplicate_of: str | None
    version: int
    #: the other copies of this story (when this is the original): url, site, site_name
    also_at: tuple[dict[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Store(Protocol):
    """What pipelines, feeds and exports need from a store."""

    def open(self) -> None: ...
    def close(self) -> None: ...
    def upsert(self, article: Article, fp: Fingerprint | None = None) -> UpsertResult: ...
    def find_copies(self, fp: Fingerprint, exclude_id: str) -> list[Copy]: ...
    def published_ts(self, article_ids: Sequence[str]) -> dict[str, float]: ...
    def merge_stories(self, into: str, roots: Sequence[str]) -> int: ...
    def get(self, article_id: str) -> StoredArticle | None: ...
    def articles(
        self,
        *,
        sites: Sequence[str] = (),
        categories: Sequence[str] = (),
        limit: int | None = None,
        include_duplicates: bool = True,
    ) -> Iterator[StoredArticle]: ...
    def categories(self) -> list[tuple[str, int]]: ...
    def count(self, site: str | None = None) -> int: ...
    def record_crawl(
        self, site: str, started_at: datetime, finished_at: datetime, stats: dict[str, Any]
    ) -> None: ...


# -- what enters the store is safe to show (issue 9) -------------------------------------

_MARKUP = re.compile(r"<[a-zA-Z/!?]|&")
_TAG_OPEN = re.compile(r"<(?=[a-zA-Z/!?])")
#: Dropped from text fields with everything inside them.
_DROP_IN_TEXT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg"}


def safe_text(value: str | None) -> str:
    """Plain text without markup: a tag an editor typed into a title, or a script that got
    into a text, is removed (with what script-like elements hold) and entities decoded,
    round after round until nothing changes, so that no ``&amp;lt;script&amp;gt;`` (nor a
    ``<textarea>`` holding one) becomes a tag some decodings later; the words stay."""
    text = value or ""
    if not _MARKUP.search(text):
        return text
    for _ in range(20):  # a round removes tags or decodes one level of entities
        stripped = html.unescape(
            nh3.clean(text, tags=set(), clean_content_tags=_DROP_IN_TEXT, strip_comments=True)
        )
        if stripped == text:
            break
        text = stripped
        if not _MARKUP.search(text):
            break
    else:  # still markup after twenty levels: an attack, not news
        text = _TAG_OPEN.sub("", text)
    return " ".join(text.split())


def _web_url(value: str | None, base: str) -> str | None:
    """An http(s) URL (a relative one resolved against ``base``), or None for
    ``javascript:``, ``data:`` and the like."""
    if not (value or "").strip():
        return None
    try:
        url = urljoin(base, (value or "").strip())
        return url if urlsplit(url).scheme.lower() in ("http", "https") else None
    except ValueError:
        return None


def _without_nul(value: Any) -> Any:
    """``value`` (a string, or a list or dict of them) without NUL characters."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_nul(v) for k, v in value.items()}
    return value


def safe_article(article: Article) -> Article:
    """Make an article safe to store: plain text fields without markup, body HTML through
    the feeds' allow-list sanitizer (:func:`~aggregator.normalize.sanitize.sanitize_html`), only
    http(s) image URLs, no NUL anywhere (PostgreSQL text cannot hold it, no reader wants
    it). Whatever reads the store (feeds, exports, index pages, other programs) may hand
    these to a browser."""
    for field in fields(article):
        setattr(article, field.name, _without_nul(getattr(article, field.name)))
    article.title = safe_text(article.title)
    article.lead = safe_text(article.lead)
    article.source_tag = safe_text(article.source_tag) or None
    article.byline = safe_text(article.byline)
    article.authors = [a for a in (safe_text(x) for x in article.authors) if a]
    article.tags = [t for t in (safe_text(x) for x in article.tags) if t]
    article.section = safe_text(article.section) or None
    if _MARKUP.search(article.body_text):
        lines = (safe_text(line) for line in article.body_text.splitlines())
        article.body_text = "\n".join(line for line in lines if line)
    article.body_html = sanitize_html(article.body_html, article.url)
    article.image = _web_url(article.image, article.url)
    images = []
    for image in article.images:
        url = _web_url(image.get("url"), article.url)
        caption, credit = safe_text(image.get("caption")), safe_text(image.get("credit"))
        if url or caption:
            images.append({**image, "url": url or "", "caption": caption, "credit": credit})
    article.images = images
    return article


# -- several writers: busy waits, retries, stale story assignments ------------------------

#: Tries of a write transaction that finds the store busy beyond busy_timeout.
_BUSY_TRIES = 6
#: The store's newest cursor when a fingerprint's copies were looked up, by fingerprint
#: (``find_copies`` and ``upsert`` may run on two connections of one process: the dedup
#: and the store pipelines). An entry lives from the lookup to the article's upsert.
_LOOKUPS: dict[int, tuple[Fingerprint, int]] = {}


def _busy(exc: BaseException) -> bool:
    message = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in message or "busy" in message)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


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


_URL_PASSWORD = re.compile(r"^([a-z]+://[^/@:]*:)[^/]*@", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"(password=)[^&\s]*", re.IGNORECASE)


def mask_target(target: str | Path) -> str:
    """``target`` fit for logs and errors: a URL's password (``user:PASSWORD@`` or
    ``?password=``) shown as ``***``."""
    text = str(target)
    if not is_postgres(text):
        return text
    return _QUERY_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))


def _values(rows: int, width: int) -> str:
    """``(?, ?), (?, ?)``: the placeholders of a multi-row insert (one round trip)."""
    row = "(" + ", ".join("?" * width) + ")"
    return ", ".join([row] * rows)


class SQLStore(ABC):
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
                    result = work()
                    self._run("COMMIT")
                    return result
                except BaseException:
                    self._rollback()
                    raise
            except Exception as exc:
                if not self._recover(exc, attempt, started):
                    raise
        raise AssertionError("unreachable")

    # -- writes -------------------------------------------------------------------

    @staticmethod
    def _content_hash(article: Article) -> str:
        data = {k: getattr(article, k) for k in _CONTENT_FIELDS}
        data["published"] = _iso(article.published)
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha1(blob.encode("utf-8")).hexdigest()

    def upsert(self, article: Article, fp: Fingerprint | None = None) -> UpsertResult:
        """Insert or update by canonical URL; an unchanged article keeps its row.

        ``fp`` (the dedup keys of its body) is stored with it. Every insert or update
        appends the exported record to ``article_versions``; a changed ``duplicate_of``
        alone (a story merge) makes a new version too, but counts as "unchanged".
        """
        if not article.id or not article.canonical_url or article.fetched_at is None:
            raise ValueError("article needs id, canonical_url and fetched_at before storing")
        safe_article(article)
        digest = self._content_hash(article)
        looked_up = _LOOKUPS.pop(id(fp), None) if fp is not None else None
        since = looked_up[1] if looked_up is not None and looked_up[0] is fp else None

        def work() -> UpsertResult:
            if since is not None and self.last_cursor() != since:
                # another process stored or merged since the copies were looked up: the
                # story is assigned again, now that no one else can write
                from aggregator.crawl.pipelines import assign_story

                assign_story(self, article)
                _LOOKUPS.pop(id(article.fingerprint), None)
            row = self.execute(
                "SELECT content_hash, version, first_seen, duplicate_of FROM articles WHERE id = ?",
                (article.id,),
            ).fetchone()
            if row is not None and row["content_hash"] == digest:
                self.execute(
                    "UPDATE articles SET fetched_at = ?, duplicate_of = ? WHERE id = ?",
                    (_iso(article.fetched_at), article.duplicate_of, article.id),
                )
                result: UpsertResult = "unchanged"
                if row["duplicate_of"] != article.duplicate_of:
                    self._bump_versions([article.id])
            else:
                self._write(article, digest, row)
                self._record_version(article.id, article.warc)
                result = "inserted" if row is None else "updated"
            if fp is not None and result != "unchanged":
                self._write_fingerprint(article.id, fp)
            if article.merge_roots:  # in the same transaction: a crash leaves no half story
                self._merge(article.duplicate_of or article.id, article.merge_roots)
            return result

        return self.transaction(work)

    def _write(self, article: Article, digest: str, row: Any) -> None:
        assert article.fetched_at is not None
        first_seen = (
            datetime.fromisoformat(row["first_seen"]) if row is not None else article.fetched_at
        )
        # an article whose date cannot be read is dated by when it was first seen
        published = article.published or to_vn(first_seen)
        values = {
            "id": article.id,
            "canonical_url": article.canonical_url,
            "url": article.url,
            "site": article.site,
            "site_name": article.site_name,
            "province": article.province,
            "section": article.section,
            "category": article.category,
            "categories": json.dumps(article.categories, ensure_ascii=False),
            "title": article.title,
            "lead": article.lead,
            "source_tag": article.source_tag,
            "body_text": article.body_text,
            "body_html": article.body_html,
            "authors": json.dumps(article.authors, ensure_ascii=False),
            "published": _iso(published),
            "published_ts": published.timestamp(),
            # an edit is dated by the page, else by when we saw it
            "updated": _iso(article.updated or (article.fetched_at if row else published)),
            "fetched_at": _iso(article.fetched_at),
            "first_seen": _iso(first_seen),
            "image": article.image,
            "images": json.dumps(article.images, ensure_ascii=False),
            "tags": json.dumps(article.tags, ensure_ascii=False),
            "layers": json.dumps(article.layers, ensure_ascii=False),
            "flags": json.dumps(article.flags, ensure_ascii=False),
            "duplicate_of": article.duplicate_of,
            "content_hash": digest,
            "version": (row["version"] + 1) if row is not None else 1,
        }
        cols = ", ".join(values)
        marks = ", ".join(f":{k}" for k in values)
        updates = ", ".join(f"{k} = excluded.{k}" for k in values if k != "id")
        self.execute(
            f"INSERT INTO articles ({cols}) VALUES ({marks}) "
            f"ON CONFLICT (id) DO UPDATE SET {updates}",
            values,
        )
        self.execute("DELETE FROM article_categories WHERE article_id = ?", (article.id,))
        categories = list(dict.fromkeys(article.categories))
        if categories:
            self.execute(
                "INSERT INTO article_categories (article_id, category, published_ts) "
                f"VALUES {_values(len(categories), 3)}",
                [v for c in categories for v in (article.id, c, values["published_ts"])],
            )

    def _write_fingerprint(self, article_id: str, fp: Fingerprint) -> None:
        old = self.execute(
            "SELECT id, signature FROM fingerprints WHERE article_id = ?", (article_id,)
        ).fetchone()
        if old is not None:
            key = old[0]
            # the old bands follow from the old signature: no second index needed
            if bands := band_hashes(bytes(old[1])):
                self.execute(
                    "DELETE FROM lsh_bands WHERE fingerprint = ? AND band_hash IN "
                    f"({', '.join('?' * len(bands))})",
                    (key, *bands),
                )
            self.execute(
                "UPDATE fingerprints SET exact = ?, signature = ? WHERE id = ?",
                (exact_key(fp), fp.signature, key),
            )
        else:
            key = self.execute(
                "INSERT INTO fingerprints (article_id, exact, signature) VALUES (?, ?, ?) "
                "RETURNING id",
                (article_id, exact_key(fp), fp.signature),
            ).fetchone()[0]
        if fp.bands:
            self.execute(
                "INSERT INTO lsh_bands (band_hash, fingerprint) "
                f"VALUES {_values(len(fp.bands), 2)} ON CONFLICT DO NOTHING",
                [v for b in fp.bands for v in (b, key)],
            )

    # -- deduplication --------------------------------------------------------------

    def find_copies(self, fp: Fingerprint, exclude_id: str) -> list[Copy]:
        """Stored articles with the same text (exact) or a near-duplicate one.

        Near-duplicate candidates come from the LSH band index and are kept only when
        their signatures agree (estimated Jaccard >= NEAR_DUPLICATE_THRESHOLD).
        """
        if len(_LOOKUPS) > 10_000:  # lookups never followed by an upsert
            _LOOKUPS.clear()
        _LOOKUPS[id(fp)] = (fp, self.last_cursor())
        found: dict[str, tuple[Literal["exact", "near"], float]] = {}
        for (other,) in self.execute(
            "SELECT article_id FROM fingerprints WHERE exact = ? AND article_id != ?",
            (exact_key(fp), exclude_id),
        ):
            found[other] = ("exact", 1.0)
        if fp.bands:
            marks = ", ".join("?" * len(fp.bands))
            rows = self.execute(
                "SELECT f.article_id, f.signature FROM fingerprints f WHERE f.id IN "
                f"(SELECT fingerprint FROM lsh_bands WHERE band_hash IN ({marks})) "
                "AND f.article_id != ?",
                (*fp.bands, exclude_id),
            )
            for other, signature in rows:
                if other in found:
                    continue
                score = similarity(fp.signature, bytes(signature))
                if score >= NEAR_DUPLICATE_THRESHOLD:
                    found[other] = ("near", score)
        if not found:
            return []
        marks = ", ".join("?" * len(found))
        rows = self.execute(
            f"SELECT id, duplicate_of, published_ts FROM articles WHERE id IN ({marks})",
            tuple(found),
        )
        return [Copy(r["id"], r["duplicate_of"], r["published_ts"], *found[r["id"]]) for r in rows]

    def published_ts(self, article_ids: Sequence[str]) -> dict[str, float]:
        """Publication times (epoch seconds) of stored articles."""
        if not article_ids:
            return {}
        marks = ", ".join("?" * len(article_ids))
        rows = self.execute(
            f"SELECT id, published_ts FROM articles WHERE id IN ({marks})", tuple(article_ids)
        )
        return {r[0]: r[1] for r in rows}

    def merge_stories(self, into: str, roots: Sequence[str]) -> int:
        """Make ``into`` the original of every story rooted at ``roots``. ``upsert`` does
        it already for an article's ``merge_roots`` (then this changes nothing)."""
        if not [r for r in roots if r != into]:
            return 0
        return self.transaction(lambda: self._merge(into, roots))

    def _merge(self, into: str, roots: Sequence[str]) -> int:
        """``merge_stories`` inside the caller's transaction."""
        roots = [r for r in roots if r != into]
        if not roots:
            return 0
        marks = ", ".join("?" * len(roots))
        changed = self._merge_changes(into, roots)
        cur = self.execute(
            f"UPDATE articles SET duplicate_of = ? WHERE id != ? AND "
            f"(id IN ({marks}) OR duplicate_of IN ({marks}))",
            (into, into, *roots, *roots),
        )
        count = cur.rowcount
        self.execute("UPDATE articles SET duplicate_of = NULL WHERE id = ?", (into,))
        self._bump_versions(changed)
        return count

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
        """``record_page`` for several URLs (each once) in one statement."""
        if not records:
            return
        self._write_one(
            "INSERT INTO pages (url, site, article_id, status, etag, last_modified, "
            f"published_ts, checked_at) VALUES {_values(len(records), 8)} "
            "ON CONFLICT (url) DO UPDATE SET site = excluded.site, "
            "article_id = excluded.article_id, status = excluded.status, "
            "etag = COALESCE(excluded.etag, pages.etag), "
            "last_modified = COALESCE(excluded.last_modified, pages.last_modified), "
            "published_ts = COALESCE(excluded.published_ts, pages.published_ts), "
            "checked_at = excluded.checked_at",
            [v for record in records for v in astuple(record)],
        )

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
            (site, _iso(started_at), _iso(finished_at), json.dumps(stats, default=str)),
        )

    # -- reads --------------------------------------------------------------------

    @staticmethod
    def _row(row: Any) -> StoredArticle:
        return StoredArticle(
            id=row["id"],
            url=row["url"],
            canonical_url=row["canonical_url"],
            site=row["site"],
            site_name=row["site_name"],
            province=row["province"],
            section=row["section"],
            category=row["category"],
            categories=json.loads(row["categories"]),
            title=row["title"],
            lead=row["lead"],
            source_tag=row["source_tag"],
            body_text=row["body_text"],
            body_html=row["body_html"],
            authors=json.loads(row["authors"]),
            published=_dt(row["published"]),
            updated=_dt(row["updated"]),
            fetched_at=datetime.fromisoformat(row["fetched_at"]),
            first_seen=datetime.fromisoformat(row["first_seen"]),
            image=row["image"],
            images=json.loads(row["images"]),
            tags=json.loads(row["tags"]),
            layers=json.loads(row["layers"]),
            flags=json.loads(row["flags"]),
            duplicate_of=row["duplicate_of"],
            version=row["version"],
        )

    def get(self, article_id: str) -> StoredArticle | None:
        row = self.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return self._row(row) if row is not None else None

    def articles(
        self,
        *,
        sites: Sequence[str] = (),
        categories: Sequence[str] = (),
        limit: int | None = None,
        include_duplicates: bool = True,
    ) -> Iterator[StoredArticle]:
        """Articles newest first, optionally filtered; originals list their copies."""
        # Each query walks an index in publication order and stops after `limit` rows
        # (DESC puts a NULL published_ts last): its cost does not grow with the store.
        sql = "SELECT a.* FROM articles a"
        order = "a.published_ts DESC, a.id"
        where: list[str] = []
        params: list[Any] = []
        if len(categories) == 1:  # driven by article_categories (category, published_ts DESC)
            sql = (
                f"SELECT a.* FROM article_categories c {self._ORDERED_JOIN} articles a "
                "ON a.id = c.article_id"
            )
            where.append("c.category = ?")
            params.append(categories[0])
            order = "c.published_ts DESC, a.id"
        elif categories:
            where.append(
                "a.id IN (SELECT article_id FROM article_categories "
                f"WHERE category IN ({', '.join('?' * len(categories))}))"
            )
            params.extend(categories)
        if sites:
            where.append(f"a.site IN ({', '.join('?' * len(sites))})")
            params.extend(sites)
        if not include_duplicates:
            # not through the duplicate_of index, which would list every original
            where.append(f"{self._NOT_INDEXED}a.duplicate_of IS NULL")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        for rows in self._batches(sql, params):
            copies = self._copies_of([r["id"] for r in rows])
            for row in rows:
                article = self._row(row)
                if article.id in copies:
                    article = replace(article, also_at=tuple(copies[article.id]))
                yield article

    def _copies_of(self, ids: Sequence[str]) -> dict[str, list[dict[str, str]]]:
        marks = ", ".join("?" * len(ids))
        rows = self.execute(
            "SELECT duplicate_of, url, site, site_name FROM articles "
            f"WHERE duplicate_of IN ({marks}) ORDER BY published_ts, id",
            tuple(ids),
        )
        out: dict[str, list[dict[str, str]]] = {}
        for r in rows:
            out.setdefault(r[0], []).append({"url": r[1], "site": r[2], "site_name": r[3]})
        return out

    def categories(self) -> list[tuple[str, int]]:
        """Every category key with its article count, by key."""
        rows = self.execute(
            "SELECT category, COUNT(*) FROM article_categories GROUP BY category ORDER BY category"
        )
        return [(r[0], r[1]) for r in rows]

    def count(self, site: str | None = None) -> int:
        if site is None:
            return int(self.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        return int(
            self.execute("SELECT COUNT(*) FROM articles WHERE site = ?", (site,)).fetchone()[0]
        )

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

    # -- article versions: the archive export's stream -----------------------------------

    def _record_version(self, article_id: str, warc: Mapping[str, str] | None) -> None:
        """Append the exported record of the article's current row to ``article_versions``
        (inside the caller's transaction). ``warc``: the capture it was extracted from."""
        from aggregator.publish.export import article_record  # the export owns the record format

        article = self.get(article_id)
        if article is None:
            return
        copies = self._copies_of([article_id]).get(article_id, [])
        record = article_record(replace(article, also_at=tuple(copies)), warc=warc)
        self.execute(
            "INSERT INTO article_versions (article_id, version, recorded_at, record) "
            "VALUES (?, ?, ?, ?)",
            (
                article_id,
                article.version,
                datetime.now(UTC).isoformat(),
                json.dumps(record, ensure_ascii=False),
            ),
        )

    def _latest_warc(self, article_id: str) -> dict[str, str] | None:
        row = self.execute(
            "SELECT record FROM article_versions WHERE article_id = ? ORDER BY cursor DESC LIMIT 1",
            (article_id,),
        ).fetchone()
        warc = json.loads(row[0]).get("warc") if row is not None else None
        return warc if isinstance(warc, dict) else None

    def _bump_versions(self, article_ids: Iterable[str]) -> None:
        """A new version of articles whose exported fields changed but not their content
        (``duplicate_of``, when stories merge); each keeps the WARC record it came from."""
        for article_id in article_ids:
            warc = self._latest_warc(article_id)
            self.execute("UPDATE articles SET version = version + 1 WHERE id = ?", (article_id,))
            self._record_version(article_id, warc)

    def _merge_changes(self, into: str, roots: Sequence[str]) -> list[str]:
        """The articles whose ``duplicate_of`` ``merge_stories(into, roots)`` changes."""
        marks = ", ".join("?" * len(roots))
        rows = self.execute(
            "SELECT id FROM articles WHERE "
            f"(id != ? AND (id IN ({marks}) OR duplicate_of IN ({marks})) "
            "AND duplicate_of IS DISTINCT FROM ?) OR (id = ? AND duplicate_of IS NOT NULL) "
            "ORDER BY published_ts, id",
            (into, *roots, *roots, into, into),
        )
        return [r[0] for r in rows]

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction: every read inside sees the same state of the store."""
        if self.in_transaction:
            yield
            return
        self._run(self._BEGIN_READ)
        try:
            yield
        finally:
            self._run("COMMIT")

    def last_cursor(self) -> int:
        """The cursor of the newest recorded version (0: none yet)."""
        row = self.execute("SELECT MAX(cursor) FROM article_versions").fetchone()
        return int(row[0] or 0)

    def has_cursor(self, cursor: int) -> bool:
        """True when ``cursor`` names a recorded version."""
        row = self.execute("SELECT 1 FROM article_versions WHERE cursor = ?", (cursor,))
        return row.fetchone() is not None

    def versions(
        self, since: int = 0, until: int | None = None
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(cursor, record)`` of every version after ``since`` (up to ``until``), in
        store order."""
        sql = "SELECT cursor, record FROM article_versions WHERE cursor > ?"
        params: list[Any] = [since]
        if until is not None:
            sql += " AND cursor <= ?"
            params.append(until)
        for rows in self._batches(sql + " ORDER BY cursor", params):
            for r in rows:
                yield int(r[0]), json.loads(r[1])

    def latest_versions(self, article_ids: Sequence[str]) -> dict[str, tuple[int, dict[str, Any]]]:
        """The newest ``(cursor, record)`` of each article that has one."""
        if not article_ids:
            return {}
        marks = ", ".join("?" * len(article_ids))
        rows = self.execute(
            "SELECT article_id, cursor, record FROM article_versions WHERE cursor IN "
            f"(SELECT MAX(cursor) FROM article_versions WHERE article_id IN ({marks}) "
            "GROUP BY article_id)",
            tuple(article_ids),
        )
        return {r[0]: (int(r[1]), json.loads(r[2])) for r in rows}

    def backfill_versions(self) -> int:
        """Record a first version of every article stored before versions were kept
        (a store from before migration 5); returns how many."""
        sql = (
            "SELECT id FROM articles a WHERE NOT EXISTS "
            "(SELECT 1 FROM article_versions v WHERE v.article_id = a.id) "
            "ORDER BY first_seen, id"
        )
        if self.execute(sql + " LIMIT 1").fetchone() is None:
            return 0  # the usual case: no write lock taken

        def work() -> int:
            ids = [r[0] for r in self.execute(sql)]
            for article_id in ids:
                self._record_version(article_id, None)
            return len(ids)

        return self.transaction(work)


# -- SQLite ---------------------------------------------------------------------------------


class SQLiteStore(SQLStore):
    """SQLite backend: one file, WAL journal, schema version in ``PRAGMA user_version``."""

    _NOT_INDEXED = "+"
    _ORDERED_JOIN = "CROSS JOIN"  # SQLite joins a CROSS JOIN in the written order

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("store is not open")
        return self._conn

    def _connect(self) -> sqlite3.Connection:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        for attempt in range(_BUSY_TRIES * 4):
            # switching a new file to WAL fails at once (no busy wait) while another
            # process opening it at the same moment holds a lock: try again
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or attempt == _BUSY_TRIES * 4 - 1:
                    conn.close()
                    raise
                time.sleep(0.01 * (attempt + 1))
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        # the store's own cache: dedup lookups are index seeks, keep the hot pages in RAM
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB
        # no memory-mapped reads: every page read through the map stays in the process's
        # RSS (a 20,000-page crawl ended at 280 MB of mapped store); reads go through the
        # page cache above, which is bounded. The price: with 100,000 stored, the dedup
        # lookups (32 random pages of the band index) cost 1.02 ms an article, not 0.67
        conn.execute("PRAGMA mmap_size=0")
        conn.execute("PRAGMA temp_store=MEMORY")
        return conn

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
            for line in MIGRATIONS[current].splitlines(keepends=True):
                statement += line
                if sqlite3.complete_statement(statement):
                    self.conn.execute(statement)
                    statement = ""
            self.conn.execute(f"PRAGMA user_version = {current + 1}")
            return True

        if self.schema_version() >= len(MIGRATIONS):
            return  # the usual case: no write lock taken
        while self.transaction(step):
            pass

    def _run(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Cursor:
        return self.conn.execute(sql, params)

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def _begin_write(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def _recover(self, exc: Exception, attempt: int, started: float) -> bool:
        if not _busy(exc) or attempt >= _BUSY_TRIES - 1:
            return False
        time.sleep(0.05 * 2**attempt)
        return True

    def last_first_seen(self, site: str) -> datetime | None:
        # julianday folds the offsets of the stored ISO times
        row = self.execute(
            "SELECT MAX(julianday(first_seen)) FROM articles WHERE site = ?", (site,)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return datetime.fromtimestamp((row[0] - 2440587.5) * 86400, UTC)


# -- PostgreSQL -----------------------------------------------------------------------------

#: ``pg_advisory_xact_lock`` key of the store's write lock (and of its migrations)
_PG_WRITE_LOCK = 0x6167677265676174  # "aggregat"
_PG_CURSORS = itertools.count(1)
_PG_PLACEHOLDERS = re.compile(r"%|\?|(?<![:\w]):([A-Za-z_]\w*)")
#: SQLite's column types in the migrations, as PostgreSQL spells them
_PG_TYPES = (
    (re.compile(r"\bINTEGER PRIMARY KEY( AUTOINCREMENT)?"),
     "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    # byte order, as SQLite compares: the same order of ids and keys on both backends
    (re.compile(r"\bTEXT\b"), 'TEXT COLLATE "C"'),
    (re.compile(r"\s+WITHOUT ROWID"), ""),
)  # fmt: skip


@lru_cache(maxsize=1024)
def _pg_sql(sql: str) -> str:
    """``?`` and ``:name`` placeholders as psycopg's ``%s`` and ``%(name)s``."""

    def sub(m: re.Match[str]) -> str:
        if m[0] == "%":
            return "%%"
        return "%s" if m[0] == "?" else f"%({m[1]})s"

    return _PG_PLACEHOLDERS.sub(sub, sql)


def _pg_ddl(sql: str) -> str:
    """A migration's DDL for PostgreSQL."""
    for pattern, replacement in _PG_TYPES:
        sql = pattern.sub(replacement, sql)
    return sql


class _PgRow(tuple[Any, ...]):
    """A PostgreSQL row read by position or column name, as ``sqlite3.Row`` is."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)


def _pg_rows(cursor: Any) -> Callable[[Sequence[Any]], _PgRow]:
    names = {c.name: i for i, c in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> _PgRow:
        row = _PgRow(values)
        row.names = names
        return row

    return make


class PostgresStore(SQLStore):
    """PostgreSQL backend: the same store, shared by crawlers on several machines.

    Writes take a transaction-scoped advisory lock (the store's write lock, as SQLite's
    ``BEGIN IMMEDIATE``): story assignment reads what it then writes, so writers go one
    at a time; readers never wait. A lost connection is re-opened and the statement or
    transaction tried again, with a growing pause, for up to ``retry_seconds``; then
    :class:`StoreUnavailable`.
    """

    _BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ"

    def __init__(self, url: str, *, retry_seconds: float = 60.0) -> None:
        super().__init__()
        self.url = url
        self.retry_seconds = retry_seconds
        self._opened = False

    def __repr__(self) -> str:
        return f"PostgresStore({self.location!r})"

    @property
    def location(self) -> str:
        return mask_target(self.url)

    def open(self) -> None:
        import psycopg

        if self._conn is not None:
            return
        try:
            self._conn = self._connect()
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(self._explain("cannot connect to", exc)) from None
        self._opened = True
        try:
            self._migrate()
        except psycopg.Error as exc:  # a role that may not create tables, say
            self.close()
            raise StoreUnavailable(self._explain("cannot set up the schema of", exc)) from None

    def close(self) -> None:
        self._opened = False
        super().close()

    def _explain(self, what: str, exc: BaseException) -> str:
        """One line naming the store, its password masked."""
        reason = " ".join(str(exc).split()) or type(exc).__name__
        password = urlsplit(self.url).password
        if password:
            reason = reason.replace(password, "***")
        return f"{what} the store {mask_target(self.url)}: {reason}"

    def _connect(self) -> psycopg.Connection[Any]:
        import psycopg

        return psycopg.connect(
            self.url,
            autocommit=True,  # transactions are explicit, as with SQLite
            connect_timeout=10,
            application_name="aggregator",
            row_factory=_pg_rows,
        )

    def schema_version(self) -> int:
        if self._run("SELECT to_regclass('aggregator_schema')").fetchone()[0] is None:
            return 0
        row = self._run("SELECT MAX(version) FROM aggregator_schema").fetchone()
        return int(row[0] or 0)

    def _migrate(self) -> None:
        if self.schema_version() >= len(MIGRATIONS):
            return  # the usual case: no lock taken

        def work() -> None:
            # under the write lock: one process migrates, the others then find it done
            self.conn.execute("CREATE TABLE IF NOT EXISTS aggregator_schema (version INTEGER)")
            current = self.schema_version()
            for migration in MIGRATIONS[current:]:
                self.conn.execute(_pg_ddl(migration))  # DDL is transactional in PostgreSQL
            self.conn.execute("DELETE FROM aggregator_schema")
            self._run("INSERT INTO aggregator_schema (version) VALUES (?)", (len(MIGRATIONS),))

        self.transaction(work)

    def _run(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = ()) -> Cursor:
        """``params`` None: ``sql`` is a script (several statements, no placeholders)."""
        conn = self._conn
        if conn is None or conn.closed:  # lost before: connect again
            if not self._opened:
                raise RuntimeError("store is not open")
            conn = self._conn = self._connect()
        if params is None:
            return conn.execute(sql)
        return conn.execute(_pg_sql(sql), params)

    def _batches(self, sql: str, params: Sequence[Any] = ()) -> Iterator[list[Any]]:
        if not self.in_transaction:  # a short query (feeds); long ones run in a snapshot
            yield from super()._batches(sql, params)
            return
        # a server-side cursor: an export of the whole store does not fill the memory
        with self.conn.cursor(name=f"batches_{next(_PG_CURSORS)}") as cursor:
            cursor.execute(_pg_sql(sql), params)
            while rows := cursor.fetchmany(500):
                yield rows

    @property
    def in_transaction(self) -> bool:
        conn = self._conn
        return (
            conn is not None
            and not conn.closed
            and conn.info.transaction_status != 0  # pq.TransactionStatus.IDLE
        )

    def _begin_write(self) -> None:
        self._run(f"BEGIN; SELECT pg_advisory_xact_lock({_PG_WRITE_LOCK})", None)  # one trip

    def _rollback(self) -> None:
        conn = self._conn
        if conn is not None and not conn.broken and self.in_transaction:
            conn.execute("ROLLBACK")

    def _recover(self, exc: Exception, attempt: int, started: float) -> bool:
        import psycopg

        if isinstance(exc, psycopg.errors.SerializationFailure | psycopg.errors.DeadlockDetected):
            if attempt >= _BUSY_TRIES - 1:
                return False
            time.sleep(0.05 * 2**attempt)
            return True
        conn = self._conn
        lost = conn is None or conn.closed or conn.broken
        if not (self._opened and lost and isinstance(exc, psycopg.OperationalError)):
            return False
        if time.monotonic() - started >= self.retry_seconds:
            raise StoreUnavailable(self._explain("lost", exc)) from exc
        if conn is not None:
            conn.close()
        self._conn = None  # the next statement connects again
        time.sleep(
            min(0.1 * 2**attempt, 5.0, max(0.0, started + self.retry_seconds - time.monotonic()))
        )
        return True

    def last_first_seen(self, site: str) -> datetime | None:
        row = self.execute(
            "SELECT MAX(first_seen::timestamptz) FROM articles WHERE site = ?", (site,)
        ).fetchone()
        return row[0].astimezone(UTC) if row is not None and row[0] is not None else None


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
