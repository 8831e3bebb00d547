"""Export stored articles as JSON Lines, one normalized article per line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from aggregator.store import SQLiteStore, StoredArticle

__all__ = ["EXPORT_FIELDS", "article_record", "export_jsonl"]

#: The documented fields of one exported article, in output order.
EXPORT_FIELDS = (
    "id", "url", "canonical_url", "site", "site_name", "province", "section", "category",
    "categories", "title", "lead", "source_tag", "body_text", "body_html", "authors",
    "published", "updated", "fetched_at", "image", "images", "duplicate_of", "also_at",
    "flags", "version",
)  # fmt: skip


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def article_record(article: StoredArticle) -> dict[str, Any]:
    """The exported form of a stored article (dates in ISO 8601 with offset)."""
    record = {name: _value(getattr(article, name)) for name in EXPORT_FIELDS}
    record["also_at"] = [c["url"] for c in article.also_at]
    record["extraction"] = article.layers
    return record


def export_jsonl(
    store: SQLiteStore,
    out: TextIO,
    *,
    sites: Sequence[str] = (),
    categories: Sequence[str] = (),
) -> int:
    """Write matching articles (newest first) to ``out``; returns how many."""
    count = 0
    for article in store.articles(sites=sites, categories=categories):
        out.write(json.dumps(article_record(article), ensure_ascii=False) + "\n")
        count += 1
    return count
