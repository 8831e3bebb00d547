"""An article as a feed entry: display text, links, times, the lead image, and the other
copies of its story ("also at"), prepared once per build whatever the format.

Entry ids come from the article id, derived once from the canonical URL, so an edited
article keeps its id.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

import lxml.html

from aggregator.normalize.dates import ICT
from aggregator.normalize.sanitize import BIDI_CONTROLS, safe_text, sanitize_html
from aggregator.normalize.text import strip_xml_invalid
from aggregator.publish.feeds.layout import valid_key
from aggregator.sites.provinces import province_key_for
from aggregator.store.records import StoredArticle

__all__ = [
    "ALSO_AT_LABEL",
    "GENERATOR",
    "MAX_AUTHORS",
    "MAX_CONTENT",
    "MAX_NAME",
    "MAX_SUMMARY",
    "MAX_TITLE",
    "READ_ON_LABEL",
    "TAG_PREFIX",
    "TIMEZONE",
    "Copy",
    "Entries",
    "Entry",
    "clean_url",
    "copies_of",
    "is_web_url",
    "local_time",
    "newest_first",
    "plain",
    "rfc3339",
]

TIMEZONE = ICT
TAG_PREFIX = "tag:aggregator,2026:"
GENERATOR = "aggregator"
#: Introduces the links to the other copies of a story in an entry's content.
ALSO_AT_LABEL = "Cũng đăng trên"

#: Display limits: a scraped 100 KB "title" must not become a 100 KB feed title.
MAX_TITLE = 300
MAX_SUMMARY = 2000
MAX_NAME = 200
MAX_AUTHORS = 10
#: An entry's content: a longer body (three 12 MB articles made every feed 37 MB) is cut
#: at an element's end and ends with a link to the article.
MAX_CONTENT = 100_000
READ_ON_LABEL = "Đọc tiếp trên trang báo"

#: Lead-image types by extension (a fixed table: mimetypes varies by system).
_IMAGE_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".jpe": "image/jpeg", ".png": "image/png",
    ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml",
    ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff",
}  # fmt: skip
_DEFAULT_IMAGE_TYPE = "image/jpeg"


# -- values ---------------------------------------------------------------------------


def _truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def plain(value: str | None, limit: int | None = None) -> str:
    """One line of display text (:func:`~aggregator.normalize.sanitize.safe_text`: no
    control characters or bidi overrides; a ``<`` is text the writers escape), at most
    ``limit`` characters."""
    text = safe_text(value)
    return _truncate(text, limit) if limit else text


def clean_url(value: str) -> str:
    """A stored URL without XML-invalid characters, bidi marks or surrounding space."""
    return BIDI_CONTROLS.sub("", strip_xml_invalid(value)).strip()


def is_web_url(value: str) -> bool:
    """An absolute http(s) URL with a host."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def local_time(value: datetime) -> datetime:
    """In Vietnam time (+07:00), whole seconds; a naive value is taken as Vietnam time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=TIMEZONE)
    return value.astimezone(TIMEZONE).replace(microsecond=0)


def _published(article: StoredArticle) -> datetime:
    """Publication time, or when the article was first seen if it has none."""
    return local_time(article.published or article.first_seen)


def _updated(article: StoredArticle) -> datetime:
    """Last change, never before publication."""
    published = _published(article)
    return max(published, local_time(article.updated)) if article.updated else published


def _image(article: StoredArticle) -> tuple[str, str] | None:
    """The lead image as an absolute http(s) URL and its media type, if any."""
    if not article.image:
        return None
    try:
        url = urljoin(article.url, clean_url(article.image))
    except ValueError:
        return None
    if not is_web_url(url):
        return None
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return url, _IMAGE_TYPES.get(suffix, _DEFAULT_IMAGE_TYPE)


def _site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def rfc3339(value: datetime) -> str:
    return value.isoformat()


# -- entries --------------------------------------------------------------------------


@dataclass(frozen=True)
class Copy:
    """Another copy of a story: where it is and which newspaper has it."""

    url: str
    site: str
    name: str


@dataclass(frozen=True)
class Entry:
    """An article as every feed format shows it, prepared once per build."""

    id: str
    site: str
    site_name: str
    site_url: str
    #: the key of the newspaper's province since 1 July 2025 ("" when unknown)
    province: str
    title: str
    link: str
    published: datetime
    updated: datetime
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    lead: str
    content: str
    image: tuple[str, str] | None
    also_at: tuple[Copy, ...]
    #: the article id of the story's original when this is a copy
    copy_of: str | None = None
    #: the content was cut at :data:`MAX_CONTENT` characters
    cut: bool = False


def copies_of(raw: Iterable[Mapping[str, str]]) -> tuple[Copy, ...]:
    """The stored copies of a story that have a web link, with display names."""
    out: list[Copy] = []
    for copy in raw:
        url = clean_url(copy.get("url") or "")
        if is_web_url(url):
            name = plain(copy.get("site_name"), MAX_NAME) or _site_root(url)
            out.append(Copy(url, plain(copy.get("site"), MAX_NAME), name))
    return tuple(out)


def cut_content(body: str, limit: int = MAX_CONTENT) -> str | None:
    """``body`` (sanitized HTML) cut after the last top-level element that ends within
    ``limit`` characters; None when it is not longer than that."""
    if len(body) <= limit:
        return None
    kept, size = [], 0
    for part in lxml.html.fragments_fromstring(body):
        text = part if isinstance(part, str) else lxml.html.tostring(part, encoding="unicode")
        if size + len(text) > limit:
            break
        kept.append(text)
        size += len(text)
    return "".join(kept)


def _content(article: StoredArticle, also_at: Sequence[Copy], link: str) -> tuple[str, bool]:
    """Sanitized body HTML (the plain text as paragraphs when there is no HTML; cut at
    :data:`MAX_CONTENT` characters, then a link to the article), then the other copies of
    the story: "Cũng đăng trên: Báo X, Báo Y" with links; and whether it was cut."""
    body = sanitize_html(article.body_html, article.url)
    if not body and article.body_text.strip():
        lines = (line.strip() for line in strip_xml_invalid(article.body_text).splitlines())
        body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in lines if p)
    body = BIDI_CONTROLS.sub("", body)
    if (cut := cut_content(body)) is not None:
        body = cut + f'<p><a href="{html.escape(link)}">{READ_ON_LABEL} …</a></p>'
    if also_at:
        links = ", ".join(
            f'<a href="{html.escape(c.url)}">{html.escape(c.name, quote=False)}</a>'
            for c in also_at
        )
        body += f"<p>{ALSO_AT_LABEL}: {links}</p>"
    return body, cut is not None


def _entry(article: StoredArticle, also_at: tuple[Copy, ...]) -> Entry:
    link = clean_url(article.canonical_url or article.url)
    site_name = plain(article.site_name, MAX_NAME) or plain(article.site) or GENERATOR
    authors = [name for name in (plain(a, MAX_NAME) for a in article.authors) if name]
    lead = plain(article.lead, MAX_SUMMARY)
    content, cut = _content(article, also_at, link)
    return Entry(
        id=f"{TAG_PREFIX}article/{article.id}",
        site=article.site,
        site_name=site_name,
        site_url=_site_root(link),
        province=province_key_for(article.province or "") or "",
        title=plain(article.title, MAX_TITLE) or _truncate(lead, 120) or link,
        link=link,
        published=_published(article),
        updated=_updated(article),
        authors=tuple(dict.fromkeys(authors[:MAX_AUTHORS])) or (site_name,),
        categories=tuple(dict.fromkeys(c for c in article.categories if valid_key(c))),
        lead=lead,
        content=content,
        image=_image(article),
        also_at=also_at,
        copy_of=article.duplicate_of,
        cut=cut,
    )


class Entries:
    """Entries of one build, prepared once however many feeds show them."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, int, tuple[Copy, ...]], Entry] = {}

    def __call__(self, article: StoredArticle, also_at: tuple[Copy, ...] | None = None) -> Entry:
        copies = copies_of(article.also_at) if also_at is None else also_at
        key = (article.id, article.version, copies)
        entry = self._done.get(key)
        if entry is None:
            entry = self._done[key] = _entry(article, copies)
        return entry

    @staticmethod
    def usable(article: StoredArticle) -> bool:
        """Only articles with a web link can be entries (readers need one)."""
        return is_web_url(clean_url(article.canonical_url or article.url))


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    """Newest first by publication (or first-seen) time, ties by id."""
    return sorted(sorted(entries, key=lambda e: e.id), key=lambda e: e.published, reverse=True)
