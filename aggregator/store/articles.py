"""Articles in the store: writes (article, version record, dedup keys, story merges), the
dedup lookups, reads for feeds and exports, and the version log the archive export follows."""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

import numpy as np

from aggregator.dedup.fingerprints import (
    BANDS,
    NEAR_DUPLICATE_THRESHOLD,
    NUM_PERM,
    Fingerprint,
    band_hashes,
    band_matrix,
    exact_key,
    similarity,
)
from aggregator.dedup.stories import Copy, StoryDates
from aggregator.items import Article
from aggregator.normalize.dates import to_vn
from aggregator.sites.provinces import province_key_for
from aggregator.store.base import Cursor, SQLBase, dt, iso, values_marks
from aggregator.store.migrations import BANDS_MIGRATION, SEARCH_MIGRATION
from aggregator.store.records import (
    StoredArticle,
    UpsertResult,
    article_record,
    safe_form,
)
from aggregator.store.search import WORDS_KEY_STEP, fts5_match, indexed_words, words_key

__all__ = ["SQLStore"]

#: ``json.dumps(value, ensure_ascii=False)`` without making an encoder each time
_json = json.JSONEncoder(ensure_ascii=False).encode

#: the stored article's fields that are its row's values as they are
_STORED_AS_IS = (
    "id", "url", "canonical_url", "site", "site_name", "province", "section", "category",
    "title", "lead", "source_tag", "body_text", "body_html", "image", "duplicate_of", "version",
)  # fmt: skip


@cache
def _upsert_sql(columns: tuple[str, ...]) -> str:
    """The statement that writes an article's row (``columns``: its values' names)."""
    marks = ", ".join(f":{k}" for k in columns)
    updates = ", ".join(f"{k} = excluded.{k}" for k in columns if k != "id")
    return (
        f"INSERT INTO articles ({', '.join(columns)}) VALUES ({marks}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}"
    )


#: a search index entry's statement, up to its values
_INSERT_WORDS = "INSERT INTO article_words (key, article_id, province, words)"
#: The most rows one statement writes of what waited for the end of a transaction.
_ROWS_PER_INSERT = 500

#: Re-cutting the band index: about what a row of it takes, and what a slice of the hash
#: range may take so that the slice stays in the store's page cache (64 MiB).
_BAND_ROW_BYTES = 24
_BAND_SLICE_BYTES = 16 << 20


class SQLStore(SQLBase):
    """Every query of the article tables; a backend subclass supplies the dialect."""

    #: the search index's words as a statement value, and the search condition
    _WORDS_VALUE = "?"
    _WORDS_FROM = "article_words_fts f CROSS JOIN article_words w ON w.key = f.rowid"
    _WORDS_MATCH = "f.article_words_fts MATCH ?"
    #: newest first, as the index hands it out (FTS5 walks its rowids backwards)
    _WORDS_ORDER = "f.rowid DESC"

    #: the search index entries that wait for the end of the transaction (None: writes
    #: do not wait), by article, and their keys
    _waiting_words: dict[str, tuple[Any, ...]] | None
    _waiting_keys: set[int]
    #: the waiting entries whose key is still their first choice, in the order written
    _unkeyed: list[str]
    #: the category rows (article, category, publication time) that wait, in order
    _waiting_categories: list[tuple[str, str, float]]
    #: the newest version cursor, once read inside :meth:`transaction` (which holds the
    #: write lock: only this store's own writes move it)
    _cursor: int | None

    def __init__(self) -> None:
        super().__init__()
        self._drop_deferred()  # outside a transaction nothing waits

    @staticmethod
    def _words_param(words: str) -> Any:
        """The indexed words (space-separated) as the statement's value (SQLite: as
        they are)."""
        return words

    @staticmethod
    def _match_param(found: Sequence[str]) -> Any:
        return fts5_match(found)

    @abstractmethod
    def _time_bound(self, seconds: float) -> AbstractContextManager[None]:
        """Statements inside raise :class:`SearchTimeout` after ``seconds``."""

    # -- writes -------------------------------------------------------------------

    def upsert(self, article: Article) -> UpsertResult:
        """Insert or update by canonical URL; an unchanged article keeps its row.

        Its story (``article.story``, when the dedup step decided one) goes with it: the
        dedup keys of its body are stored and the stories it predates merged into it, in
        the same transaction. Every insert or update appends the exported record to
        ``article_versions``; a changed ``duplicate_of`` alone (a story merge) makes a new
        version too, but counts as "unchanged".
        """
        if not article.id or not article.canonical_url or article.fetched_at is None:
            raise ValueError("article needs id, canonical_url and fetched_at before storing")
        # made safe, hashed and its words folded where it was prepared, when it was
        form = safe_form(article)
        digest = form.content_hash

        def work() -> UpsertResult:
            row = self.execute(
                "SELECT content_hash, version, first_seen, duplicate_of FROM articles WHERE id = ?",
                (article.id,),
            ).fetchone()
            if row is not None and row["content_hash"] == digest:
                self.execute(
                    "UPDATE articles SET fetched_at = ?, duplicate_of = ? WHERE id = ?",
                    (iso(article.fetched_at), article.duplicate_of, article.id),
                )
                result: UpsertResult = "unchanged"
                if row["duplicate_of"] != article.duplicate_of:
                    self._bump_versions([article.id])
            else:
                stored = self._write(article, digest, row, form.words)
                # a new article has no copies yet (a story's original is a stored
                # article) and no dedup keys (they go with its row)
                self._record_version(article.id, article.warc, stored, new=row is None)
                result = "inserted" if row is None else "updated"
            story = article.story
            if story is not None and result != "unchanged":
                self._write_fingerprint(article.id, story.fingerprint, new=result == "inserted")
            if story is not None and story.merge_roots:  # one transaction: no half story
                self._merge(article.duplicate_of or article.id, story.merge_roots)
            return result

        return self.transaction(work)

    def _write(
        self, article: Article, digest: str, row: Any, words: str | None = None
    ) -> StoredArticle:
        """Write the article's row, categories and search words (``row``: its stored row,
        None when new; ``words``: its store form's, else found here); returns the row as
        :meth:`get` reads it back."""
        assert article.fetched_at is not None
        first_seen = (
            datetime.fromisoformat(row["first_seen"]) if row is not None else article.fetched_at
        )
        # an article whose date cannot be read is dated by when it was first seen
        published = article.published or to_vn(first_seen)
        # an edit is dated by the page, else by when we saw it
        updated = article.updated or (article.fetched_at if row else published)
        values: dict[str, Any] = {
            "id": article.id,
            "canonical_url": article.canonical_url,
            "url": article.url,
            "site": article.site,
            "site_name": article.site_name,
            "province": article.province,
            "section": article.section,
            "category": article.category,
            "categories": _json(article.categories),
            "title": article.title,
            "lead": article.lead,
            "source_tag": article.source_tag,
            "body_text": article.body_text,
            "body_html": article.body_html,
            "authors": _json(article.authors),
            "published": iso(published),
            "published_ts": published.timestamp(),
            "updated": iso(updated),
            "fetched_at": iso(article.fetched_at),
            "first_seen": iso(first_seen),
            "image": article.image,
            "images": _json(article.images),
            "tags": _json(article.tags),
            "layers": _json(article.layers),
            "flags": _json(article.flags),
            "duplicate_of": article.duplicate_of,
            "content_hash": digest,
            "version": (row["version"] + 1) if row is not None else 1,
        }
        self.execute(_upsert_sql(tuple(values)), values)
        if row is not None:  # a new article has none (they go with its row)
            self._write_categories()  # the waiting ones go in before the delete, in order
            self.execute("DELETE FROM article_categories WHERE article_id = ?", (article.id,))
        rows = [(article.id, c, values["published_ts"]) for c in dict.fromkeys(article.categories)]
        if self._waiting_words is not None:  # they wait for the end of the transaction
            self._waiting_categories.extend(rows)
        else:
            self._write_categories(rows)
        if words is None:
            words = " ".join(indexed_words(article.title, article.lead, article.body_text))
        self._write_words(article.id, published.timestamp(), article.province, words,
                          replace=row is not None)  # fmt: skip
        # the row as get() reads it back, from the values before they were encoded (what
        # JSON gives back encodes the same; a time is read back from its isoformat())
        return StoredArticle(
            **{name: values[name] for name in _STORED_AS_IS},
            categories=article.categories, authors=article.authors, images=article.images,
            tags=article.tags, layers=article.layers, flags=article.flags,
            published=published, updated=updated, fetched_at=article.fetched_at,
            first_seen=first_seen,
        )  # fmt: skip

    def _write_words(
        self, article_id: str, published_ts: float, province: str | None, words: str,
        *, replace: bool,
    ) -> None:  # fmt: skip
        """The article's entry in the search index (see :mod:`aggregator.store.search`):
        ``words`` space-separated (:func:`~aggregator.store.search.indexed_words`), keyed
        in publication order (:func:`~aggregator.store.search.words_key`): a search walks
        the index newest first and stops once it has enough. ``replace``: an entry of the
        article may be there already.

        Inside :meth:`transaction` the entry waits for the end of the work, where the
        entries of the transaction get the keys one-by-one writes would have given them
        and go in with one statement, in key order: SQLite's FTS5 writes its pending
        terms out as a new segment (to be merged again later) at the start of each later
        statement of the transaction and whenever a row comes with a lower key than the
        one before, so entries written one statement an article made a segment each."""
        waiting = self._waiting_words
        if replace:
            if waiting is not None:
                self._settle_keys()  # the keys they would have had before this delete
                if (gone := waiting.pop(article_id, None)) is not None:
                    self._waiting_keys.discard(gone[0])
            self.execute("DELETE FROM article_words WHERE article_id = ?", (article_id,))
        key = words_key(published_ts, article_id)
        params = (article_id, province_key_for(province or "") or "", self._words_param(words))
        if waiting is not None:
            waiting[article_id] = (key, *params)
            self._unkeyed.append(article_id)
            return
        while (
            self.execute(
                f"{_INSERT_WORDS} VALUES (?, ?, ?, {self._WORDS_VALUE}) "
                "ON CONFLICT (key) DO NOTHING RETURNING key",
                (key, *params),
            ).fetchone()
            is None
        ):
            key += 1  # the same second and hash as another article's

    def _settle_keys(self) -> None:
        """Give the waiting entries that still hold their first choice of key the keys
        that writing them one by one, in order, would have given (the first one up from
        it that no entry has), with one lookup for them all."""
        waiting, unkeyed = self._waiting_words, self._unkeyed
        if not waiting or not unkeyed:
            return
        self._unkeyed = []
        firsts = [waiting[article_id][0] for article_id in unkeyed]
        asked: set[int] = set(firsts)
        used: set[int] = set()
        for start in range(0, len(firsts), _ROWS_PER_INSERT):
            part = firsts[start : start + _ROWS_PER_INSERT]
            marks = ", ".join("?" * len(part))
            rows = self.execute(f"SELECT key FROM article_words WHERE key IN ({marks})", part)
            used.update(r[0] for r in rows)
        for article_id in unkeyed:
            key, *params = waiting[article_id]
            while key in self._waiting_keys or (
                key in used
                if key in asked
                else self.execute("SELECT 1 FROM article_words WHERE key = ?", (key,)).fetchone()
            ):
                key += 1  # the same second and hash as another article's
            waiting[article_id] = (key, *params)
            self._waiting_keys.add(key)

    def _write_categories(self, rows: Sequence[tuple[str, str, float]] = ()) -> None:
        """Write ``rows`` (article, category, publication time), after the waiting ones."""
        if self._waiting_categories:
            rows = [*self._waiting_categories, *rows]
            self._waiting_categories = []
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            part = rows[start : start + _ROWS_PER_INSERT]
            self.execute(
                "INSERT INTO article_categories (article_id, category, published_ts) "
                f"VALUES {values_marks(len(part), 3)}",
                [v for row in part for v in row],
            )

    def _defer_writes(self) -> None:
        self._waiting_words = {}
        self._waiting_keys = set()
        self._unkeyed = []
        self._waiting_categories = []
        self._cursor = None

    def _write_deferred(self) -> None:
        self._settle_keys()
        self._write_categories()  # before the search entries: PostgreSQL's filters read them
        waiting = sorted((self._waiting_words or {}).values())  # by key: keys differ
        self._drop_deferred()
        row = f"(?, ?, ?, {self._WORDS_VALUE})"
        for start in range(0, len(waiting), _ROWS_PER_INSERT):
            rows = waiting[start : start + _ROWS_PER_INSERT]
            self.execute(
                f"{_INSERT_WORDS} VALUES {', '.join([row] * len(rows))}",
                [value for entry in rows for value in entry],
            )

    def _drop_deferred(self) -> None:
        self._waiting_words = None
        self._waiting_keys = set()
        self._unkeyed = []
        self._waiting_categories = []
        self._cursor = None

    def _migrated(self, version: int) -> None:
        """After migration ``version``, inside its transaction: fill what SQL cannot."""
        self._write_deferred()  # a migration's rows (maybe millions) do not wait
        if version == BANDS_MIGRATION:
            self._write_all_bands()
        if version != SEARCH_MIGRATION:
            return
        ids = [r[0] for r in self.execute("SELECT id FROM articles ORDER BY id")]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.execute(
                "SELECT id, published_ts, province, title, lead, body_text FROM articles "
                f"WHERE id IN ({', '.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            for article_id, published_ts, province, title, lead, body_text in rows:
                found = " ".join(indexed_words(title, lead, body_text))
                self._write_words(article_id, published_ts, province, found, replace=True)

    def _write_all_bands(self) -> None:
        """The band index of every stored signature, in the current band layout, written
        one slice of the hash range at a time: the rows of a slice fall in a part of the
        index that stays in the page cache (1M articles' rows in signature order, random
        over the whole index, spilled the cache at almost every row: unfinished after 8
        minutes, against 4 minutes in all in slices)."""
        count = self.execute("SELECT COUNT(*) FROM fingerprints").fetchone()[0]
        slices = max(1, count * BANDS * _BAND_ROW_BYTES // _BAND_SLICE_BYTES)
        lows = [i * (2**63 // slices) for i in range(slices)]
        for low, high in zip(lows, [*lows[1:], None], strict=True):
            last = 0
            while rows := self.execute(
                "SELECT id, signature FROM fingerprints WHERE id > ? ORDER BY id LIMIT 1000",
                (last,),
            ).fetchall():
                last = rows[-1][0]
                signed = [(key, bytes(sig)) for key, sig in rows if len(sig) == 4 * NUM_PERM]
                if not signed:
                    continue
                keys = np.array([key for key, _ in signed], dtype=np.int64)
                sigs = np.frombuffer(b"".join(sig for _, sig in signed), dtype="<u4")
                bands = band_matrix(sigs.reshape(len(signed), NUM_PERM))
                inside = bands >= low
                if high is not None:
                    inside &= bands < high
                at, band = np.nonzero(inside)
                pairs = np.column_stack((bands[at, band], keys[at])).ravel().tolist()
                for start in range(0, len(pairs), 2000):
                    chunk = pairs[start : start + 2000]
                    self.execute(
                        "INSERT INTO lsh_bands (band_hash, fingerprint) "
                        f"VALUES {values_marks(len(chunk) // 2, 2)} ON CONFLICT DO NOTHING",
                        chunk,
                    )

    def _write_fingerprint(self, article_id: str, fp: Fingerprint, *, new: bool = False) -> None:
        """Store the article's dedup keys (``new``: it has none stored)."""
        old = None
        if not new:
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
                f"VALUES {values_marks(len(fp.bands), 2)} ON CONFLICT DO NOTHING",
                [v for b in fp.bands for v in (b, key)],
            )

    # -- deduplication --------------------------------------------------------------

    def find_copies(self, fp: Fingerprint, exclude_id: str) -> list[Copy]:
        """Stored articles with the same text (exact) or a near-duplicate one.

        Near-duplicate candidates come from the LSH band index and are kept only when
        their signatures agree (estimated Jaccard >= NEAR_DUPLICATE_THRESHOLD).
        """
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

    def story_dates(self, article_ids: Sequence[str]) -> dict[str, StoryDates]:
        """Publication and first-seen times (epoch seconds) of stored articles."""
        if not article_ids:
            return {}
        marks = ", ".join("?" * len(article_ids))
        rows = self.execute(
            f"SELECT id, published_ts, first_seen FROM articles WHERE id IN ({marks})",
            tuple(article_ids),
        )
        return {r[0]: StoryDates(r[1], datetime.fromisoformat(r[2]).timestamp()) for r in rows}

    def merge_stories(self, into: str, roots: Sequence[str]) -> int:
        """Make ``into`` the original of every story rooted at ``roots`` (``upsert`` does it
        for the stories an article's own story names)."""
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
            published=dt(row["published"]),
            updated=dt(row["updated"]),
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
        return self._with_copies(sql, params)

    def _with_copies(self, sql: str, params: Sequence[Any]) -> Iterator[StoredArticle]:
        """The articles a query selects, each original listing its copies."""
        for rows in self._batches(sql, params):
            copies = self._copies_of([r["id"] for r in rows])
            for row in rows:
                article = self._row(row)
                if article.id in copies:
                    article = replace(article, also_at=tuple(copies[article.id]))
                yield article

    def search(
        self,
        found: Sequence[str],
        *,
        province: str | None = None,
        category: str | None = None,
        site: str | None = None,
        limit: int = 50,
        timeout: float = 2.0,
    ) -> list[StoredArticle]:
        """The originals of stories that have every word of ``found`` (see
        :func:`~aggregator.store.search.query_words`), newest first (ties by id), at most
        ``limit``; optionally of one 2025 province, category or site.
        :class:`SearchTimeout` after ``timeout`` seconds.

        The index is walked in key order (publication second, newest first) and read
        until ``limit`` articles are found and the second of the last one is complete,
        so the cut falls where a full sort would put it.
        """
        where = [self._WORDS_MATCH]
        params: list[Any] = [self._match_param(found)]
        self._search_filters(where, params, province=province, category=category, site=site)
        sql = self._search_sql(" AND ".join(where))
        with self._time_bound(timeout):
            ids = self._newest_matches(sql, params, limit)
            if not ids:
                return []
            marks = ", ".join("?" * len(ids))
            rows_sql = f"SELECT * FROM articles WHERE id IN ({marks})"
            order = {article_id: n for n, article_id in enumerate(ids)}
            found_rows = sorted(self._with_copies(rows_sql, ids), key=lambda a: order[a.id])
        return found_rows

    def _search_filters(
        self, where: list[str], params: list[Any], *, province: str | None,
        category: str | None, site: str | None,
    ) -> None:  # fmt: skip
        """Add a search's filters to its conditions (``w``: the search row, ``a``: the
        article)."""
        if province is not None:
            where.append("w.province = ?")
            params.append(province)
        if site is not None:
            where.append("a.site = ?")
            params.append(site)
        if category is not None:
            where.append("a.id IN (SELECT article_id FROM article_categories WHERE category = ?)")
            params.append(category)

    def _search_sql(self, condition: str) -> str:
        """A search's statement: ``id, key, original`` of the search rows that meet
        ``condition``, newest key first, at most a last parameter's count (copies
        included: an original is told by its row, whose ``duplicate_of`` may change)."""
        return (
            f"SELECT a.id, w.key, a.duplicate_of IS NULL FROM {self._WORDS_FROM} "
            f"{self._ORDERED_JOIN} articles a ON a.id = w.article_id "
            f"WHERE {condition} ORDER BY {self._WORDS_ORDER} LIMIT ?"
        )

    def _newest_matches(self, sql: str, params: Sequence[Any], limit: int) -> list[str]:
        """The ids of the ``limit`` newest originals of ``sql`` (see :meth:`_search_sql`),
        ties of the last second by id. Asked with a growing ``LIMIT`` (a driver may read
        the whole result at once): twice ``limit`` first, more while one second's ties
        reach past it."""
        fetch = 2 * limit
        while True:
            rows = self.execute(sql, [*params, fetch]).fetchall()
            picked: list[tuple[int, str]] = []
            complete = len(rows) < fetch
            for article_id, key, original in rows:
                second = key // WORDS_KEY_STEP
                if len(picked) >= limit and second < picked[-1][0]:
                    complete = True
                    break
                if original:
                    picked.append((second, article_id))
            if complete:
                picked.sort(key=lambda p: (-p[0], p[1]))
                return [article_id for _, article_id in picked[:limit]]
            fetch *= 4

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

    # -- article versions: the archive export's stream -----------------------------------

    def _record_version(
        self, article_id: str, warc: Mapping[str, str] | None, stored: StoredArticle | None = None,
        *, new: bool = False,
    ) -> None:  # fmt: skip
        """Append the exported record of the article's current row (``stored``, when the
        caller just wrote it) to ``article_versions`` (inside the caller's transaction).
        ``warc``: the capture it was extracted from; ``new``: the article has no copies."""
        article = stored or self.get(article_id)
        if article is None:
            return
        copies = [] if new else self._copies_of([article_id]).get(article_id, [])
        record = article_record(article, warc=warc, also_at=copies)
        inserted = self.execute(
            "INSERT INTO article_versions (article_id, version, recorded_at, record) "
            "VALUES (?, ?, ?, ?)",
            (article_id, article.version, datetime.now(UTC).isoformat(), _json(record)),
        )
        if self._cursor is not None:
            self._cursor = self._inserted_cursor(inserted)

    def _inserted_cursor(self, inserted: Cursor) -> int | None:
        """The cursor of the version an insert just recorded, when the driver tells it
        (None: read it again)."""
        return None

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
        if self._cursor is not None:
            return self._cursor
        row = self.execute("SELECT MAX(cursor) FROM article_versions").fetchone()
        cursor = int(row[0] or 0)
        if self._waiting_words is not None:  # inside transaction(): kept from now on
            self._cursor = cursor
        return cursor

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
