"""The article item that flows from extraction through the processing chain to the store."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aggregator.dedup.fingerprints import Fingerprint
from aggregator.dedup.stories import StoryDecision

__all__ = ["Article", "Prepared", "article_id"]


def article_id(canonical_url: str) -> str:
    """Stable id of an article, derived once from its canonical URL."""
    return hashlib.sha1(canonical_url.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class Prepared:
    """What the store derives from an article alone (its store form, see
    :func:`aggregator.store.records.store_form`), computed where the article is prepared
    (a worker process) so that the writer only runs SQL. Valid while the article's fields
    still equal ``source``; the store computes it again otherwise."""

    #: the article's fields it was computed from
    source: tuple[Any, ...]
    #: the fields that making the article safe to store changes, with their safe values
    safe: dict[str, Any]
    #: the hash of the safe article's content fields
    content_hash: str
    #: the distinct folded words the search index finds it by, space-separated
    words: str
    #: the canonical form of the fetched URL, for its page record: (site id, URL, form),
    #: when the chain prepared the article
    page_url: tuple[str, str, str] | None = None


@dataclass
class Article:
    """One news article. The spider fills the raw fields; pipelines the rest."""

    url: str
    site: str
    site_name: str = ""
    province: str = ""
    canonical_url: str = ""
    id: str = ""
    title: str = ""
    lead: str = ""
    source_tag: str | None = None
    body_text: str = ""
    body_html: str = ""
    byline: str = ""
    authors: list[str] = field(default_factory=list)
    section: str | None = None
    category: str | None = None
    categories: list[str] = field(default_factory=list)
    published: datetime | None = None
    updated: datetime | None = None
    fetched_at: datetime | None = None
    image: str | None = None
    images: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    duplicate_of: str | None = None
    #: which extraction layer produced each field ("selector", "jsonld", "meta", ...)
    layers: dict[str, str] = field(default_factory=dict)
    #: quality flags, e.g. "date_first_seen" when no publication time could be read
    flags: list[str] = field(default_factory=list)
    #: the WARC record of the page when the crawl archived it: {"file", "record_id"}
    warc: dict[str, str] | None = None
    #: HTTP validators of the page, kept for conditional re-checks (not exported)
    etag: str | None = None
    last_modified: str | None = None
    #: its story among the stored copies, decided by the dedup step (not exported): the
    #: dedup keys stored with it, the stories merged into it, the store's cursor then
    story: StoryDecision | None = None
    #: the dedup keys of ``body_text``, computed with the extraction (not exported)
    fingerprint: Fingerprint | None = None
    #: its store form, computed with the extraction (not exported)
    prepared: Prepared | None = field(default=None, compare=False, repr=False)
