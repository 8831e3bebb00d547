"""The schema: one list of numbered migrations, written in SQLite's SQL (PostgreSQL gets the
same statements with its own column types); a migration whose SQL differs by backend is a
:class:`Dialects` pair."""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "BANDS_MIGRATION",
    "FILTERS_MIGRATION",
    "MIGRATIONS",
    "SEARCH_MIGRATION",
    "Dialects",
    "migration_sql",
]


class Dialects(NamedTuple):
    """A migration written for each backend."""

    sqlite: str
    postgres: str


def migration_sql(migration: str | Dialects, backend: str) -> str:
    """The SQL of a migration for ``backend`` ("sqlite" or "postgres")."""
    if isinstance(migration, Dialects):
        return migration.sqlite if backend == "sqlite" else migration.postgres
    return migration


#: The migration that adds the search index; the store fills it for the articles already
#: stored (folding needs Python) in the same transaction.
SEARCH_MIGRATION = 7
#: The migration that keeps the search filters in PostgreSQL's search rows.
FILTERS_MIGRATION = 8
#: The migration that empties the LSH band index for a new band layout; the store fills
#: it again from the stored signatures in the same transaction.
BANDS_MIGRATION = 9

MIGRATIONS: tuple[str | Dialects, ...] = (
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
    # 6: article URLs a crawl fetched and stored nothing from (an error, a lost worker, not
    # an article): a crawl that met a page is no evidence that the page was not there
    """
    CREATE TABLE page_misses (
        url TEXT PRIMARY KEY,           -- as fetched, and its canonical form
        site TEXT NOT NULL,
        first_missed REAL NOT NULL      -- epoch seconds: the first such fetch
    );
    """,
    # 7: search: the folded words of each article's title, lead and body (see store.search)
    Dialects(
        """
        CREATE TABLE article_words (
            key INTEGER PRIMARY KEY,
            article_id TEXT NOT NULL UNIQUE REFERENCES articles (id) ON DELETE CASCADE,
            province TEXT NOT NULL,         -- the 2025 province key ("" when unknown)
            words TEXT NOT NULL             -- folded words, space-separated
        );
        CREATE INDEX article_words_province ON article_words (province);
        CREATE VIRTUAL TABLE article_words_fts USING fts5 (
            words, content='article_words', content_rowid='key',
            tokenize='unicode61 remove_diacritics 0'
        );
        CREATE TRIGGER article_words_insert AFTER INSERT ON article_words BEGIN
            INSERT INTO article_words_fts (rowid, words) VALUES (new.key, new.words);
        END;
        CREATE TRIGGER article_words_delete AFTER DELETE ON article_words BEGIN
            INSERT INTO article_words_fts (article_words_fts, rowid, words)
                VALUES ('delete', old.key, old.words);
        END;
        CREATE TRIGGER article_words_update AFTER UPDATE ON article_words BEGIN
            INSERT INTO article_words_fts (article_words_fts, rowid, words)
                VALUES ('delete', old.key, old.words);
            INSERT INTO article_words_fts (rowid, words) VALUES (new.key, new.words);
        END;
        """,
        """
        CREATE TABLE article_words (
            key INTEGER PRIMARY KEY,
            article_id TEXT NOT NULL UNIQUE REFERENCES articles (id) ON DELETE CASCADE,
            province TEXT NOT NULL,
            words TSVECTOR NOT NULL         -- the folded words as lexemes, unparsed
        );
        CREATE INDEX article_words_province ON article_words (province);
        CREATE INDEX article_words_fts ON article_words USING GIN (words);
        """,
    ),
    # 8: PostgreSQL keeps a search's filters in the search row (see store.search), in an
    # index of their own, so that a filtered search is one index scan and the planner
    # knows how many rows a filter keeps. A trigger fills them from the article and its
    # categories, written before its search row (the store rewrites that row whenever
    # it writes the article). SQLite's filters are cheap as they are: no change.
    Dialects(
        "",
        """
        ALTER TABLE article_words ADD COLUMN filters TSVECTOR NOT NULL DEFAULT '';
        CREATE OR REPLACE FUNCTION article_words_filters() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.filters := array_to_tsvector(ARRAY(
                SELECT 'site:' || site FROM articles WHERE id = NEW.article_id
                UNION ALL SELECT 'province:' || NEW.province WHERE NEW.province <> ''
                UNION ALL SELECT 'category:' || category FROM article_categories
                    WHERE article_id = NEW.article_id
            ));
            RETURN NEW;
        END
        $$;
        CREATE TRIGGER article_words_filters BEFORE INSERT OR UPDATE ON article_words
            FOR EACH ROW EXECUTE FUNCTION article_words_filters();
        UPDATE article_words SET filters = '';  -- the trigger fills them
        CREATE INDEX article_words_filters ON article_words USING GIN (filters);
        """,
    ),
    # 9: 20 LSH bands of 3 values instead of 32 of 4 (dedup.fingerprints.BANDS): fewer
    # index seeks a lookup, as good at finding copies
    """
    DELETE FROM lsh_bands;
    """,
)
