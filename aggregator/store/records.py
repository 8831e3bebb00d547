"""What the store holds and hands out: page records, stored articles, the exported record
format (``schemas/article.schema.json``), and the rule that only safe articles enter.
"""

from __future__ import annotations

import copy
import hashlib
import json
import operator
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, Literal

from aggregator.items import Article, Prepared
from aggregator.normalize.dates import iso
from aggregator.normalize.sanitize import safe_text, sanitize_html, web_url, without_nul
from aggregator.store.search import indexed_words

__all__ = [
    "CONTENT_FIELDS",
    "EXPORT_FIELDS",
    "SCHEMA_VERSION",
    "CrawlRecord",
    "HealthRecord",
    "PageRecord",
    "StoredArticle",
    "UpsertResult",
    "article_record",
    "content_hash",
    "safe_article",
    "safe_form",
    "store_form",
]

UpsertResult = Literal["inserted", "updated", "unchanged"]

#: Fields compared to decide whether a re-crawled article changed.
CONTENT_FIELDS = (
    "title", "lead", "source_tag", "body_text", "body_html", "authors", "section",
    "category", "categories", "published", "image", "images", "tags",
)  # fmt: skip

#: Version of the exported record format (``schemas/article.schema.json``): the minor
#: number grows with added fields, the major one with any other change.
SCHEMA_VERSION = "1.0"

#: The documented fields of one exported article, in output order.
EXPORT_FIELDS = (
    "id", "url", "canonical_url", "site", "site_name", "province", "section", "category",
    "categories", "title", "lead", "source_tag", "body_text", "body_html", "authors",
    "published", "updated", "fetched_at", "image", "images", "duplicate_of", "also_at",
    "flags", "version",
)  # fmt: skip


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
class CrawlRecord:
    """One crawl of one site as the store recorded it (``stats``: the crawl summary)."""

    started_at: datetime | None
    finished_at: datetime | None
    stats: dict[str, Any]


@dataclass(frozen=True)
class HealthRecord:
    """A change of a site's verdict, as the health view recorded it."""

    site: str
    at: datetime
    verdict: str
    previous: str
    fields: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


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


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def article_record(
    article: StoredArticle,
    *,
    warc: Mapping[str, str] | None = None,
    also_at: Sequence[Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """The exported form of a stored article (dates in ISO 8601 with offset), without
    its ``cursor``; ``warc`` is the capture it was extracted from (file, record id),
    ``also_at`` its copies when not ``article.also_at``."""
    record: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    record.update({name: _value(getattr(article, name)) for name in EXPORT_FIELDS})
    record["also_at"] = [c["url"] for c in (article.also_at if also_at is None else also_at)]
    record["extraction"] = dict(article.layers)
    record["warc"] = {"file": warc["file"], "record_id": warc["record_id"]} if warc else None
    return record


def safe_article(article: Article) -> Article:
    """Make an article safe to store: text fields as text (:func:`~aggregator.normalize.
    sanitize.safe_text`: a ``<`` in a headline stays, every output escapes it), body HTML through
    the feeds' allow-list sanitizer (:func:`~aggregator.normalize.sanitize.sanitize_html`), only
    http(s) image URLs, no NUL anywhere (PostgreSQL text cannot hold it, no reader wants
    it). Whatever reads the store (feeds, exports, index pages, other programs) may hand
    these to a browser."""
    safe_form(article)
    return article


#: ``json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)``, one encoder
_hashed_json = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str).encode


def content_hash(article: Article) -> str:
    """The hash of the article's content fields: an unchanged hash, an unchanged article."""
    data = {k: getattr(article, k) for k in CONTENT_FIELDS}
    data["published"] = iso(article.published)
    blob = _hashed_json(data)
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()


#: Fields the dedup step sets after an article is prepared, or that are not stored as
#: such: outside its store form (made safe when it is stored)
_LATE_FIELDS = ("duplicate_of", "flags", "story", "fingerprint", "prepared")
_FIELDS = tuple(f.name for f in fields(Article))
_FORM_FIELDS = tuple(name for name in _FIELDS if name not in _LATE_FIELDS)


#: the fields of the store form as one tuple, in one call
_form_values = operator.attrgetter(*_FORM_FIELDS)


def _copied(value: Any) -> Any:
    """``value`` with its lists and dicts copied: a snapshot no in-place change reaches."""
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    return value


def store_form(article: Article, *, early: Collection[str] = ()) -> Prepared:
    """What the store derives from the article alone: its safe fields, content hash and
    search words. Pure: the chain computes it with the extraction (in a worker process),
    the store when the article comes without it. The ``early`` fields are made safe on
    the article itself (a field no step before the store reads: it then travels once)."""
    safe = _make_safe(copy.copy(article))  # assigns fields, never changes one in place
    changed = {
        name: value
        for name in _FORM_FIELDS
        if (value := getattr(safe, name)) != getattr(article, name)
    }
    for name in early:
        if name in changed:
            setattr(article, name, changed.pop(name))
    return Prepared(
        source=tuple(map(_copied, _form_values(article))),
        safe=changed,
        content_hash=content_hash(safe),
        words=" ".join(indexed_words(safe.title, safe.lead, safe.body_text)),
    )


def safe_form(article: Article) -> Prepared:
    """Make the article safe to store (:func:`safe_article`) and return its store form:
    the one computed when it was prepared while its fields are unchanged since, else one
    computed now."""
    form = article.prepared
    if form is None or form.source != _form_values(article):
        form = store_form(article)
    for name, value in form.safe.items():
        setattr(article, name, value)
    for name in _LATE_FIELDS:
        setattr(article, name, without_nul(getattr(article, name)))
    return form


def _make_safe(article: Article) -> Article:
    """:func:`safe_article`'s rules, applied to every field of ``article``."""
    for name in _FIELDS:
        value = getattr(article, name)
        # a text without NUL, a date or None stays as it is (no call, no assignment)
        if isinstance(value, list | dict) or (isinstance(value, str) and "\x00" in value):
            setattr(article, name, without_nul(value))
    article.title = safe_text(article.title)
    article.lead = safe_text(article.lead)
    article.source_tag = safe_text(article.source_tag) or None
    article.byline = safe_text(article.byline)
    article.authors = [a for a in (safe_text(x) for x in article.authors) if a]
    article.tags = [t for t in (safe_text(x) for x in article.tags) if t]
    article.section = safe_text(article.section) or None
    article.body_text = safe_text(article.body_text, multiline=True)
    article.body_html = sanitize_html(article.body_html, article.url)
    article.image = web_url(article.image, article.url)
    images = []
    for image in article.images:
        url = web_url(image.get("url"), article.url)
        caption, credit = safe_text(image.get("caption")), safe_text(image.get("credit"))
        if url or caption:
            images.append({**image, "url": url or "", "caption": caption, "credit": credit})
    article.images = images
    return article
