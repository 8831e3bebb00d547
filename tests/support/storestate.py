"""What two crawls (or re-extractions) of the same web must agree on in their SQLite
stores, whatever their timing: shared by the crash tests and the processing-chain tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from aggregator.store import SQLiteStore

__all__ = ["article_count", "store_state"]


def store_state(db: Path) -> dict[str, Any]:
    """What two crawls of the same web must agree on, whatever their timing."""
    with SQLiteStore(db) as store:
        integrity = store.conn.execute("PRAGMA integrity_check").fetchone()[0]
        articles = {
            a.canonical_url: (
                a.id, a.title, a.lead, a.source_tag, a.body_text, a.body_html, a.authors,
                a.published, a.updated, a.section, a.category, a.categories, a.image,
                a.images, a.flags, a.duplicate_of,
            )
            for a in store.articles()
        }  # fmt: skip
        categories = sorted(
            tuple(r)
            for r in store.conn.execute("SELECT article_id, category FROM article_categories")
        )
        fingerprints = sorted(
            tuple(r) for r in store.conn.execute("SELECT article_id, exact FROM fingerprints")
        )
        bands = store.conn.execute("SELECT COUNT(*) FROM lsh_bands").fetchone()[0]
        # every version of an article is in the stream, the latest one matches the row
        sql = "SELECT article_id, MAX(version) FROM article_versions GROUP BY 1"
        versions = {r[0]: r[1] for r in store.conn.execute(sql)}
        rows = {r[0]: r[1] for r in store.conn.execute("SELECT id, version FROM articles")}
    assert versions == rows, "article_versions out of step with articles"
    return {
        "integrity": integrity,
        "articles": articles,
        "categories": categories,
        "fingerprints": fingerprints,
        "bands": bands,
    }


def article_count(db: Path) -> int:
    """Articles in a SQLite store another process is writing (0 before it exists or while
    it is being created), read without taking a write lock."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:  # not created yet, or mid-migration
        return 0
