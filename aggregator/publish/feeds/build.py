"""Feeds built from the store: RSS 2.0 and Atom 1.0 (feedgen stays in here), JSON Feed
1.1, an OPML 2.0 list and a human index page.

Layout of the feeds folder::

    index.html                      every feed, with <link rel="alternate"> autodiscovery
    feeds.opml                      every feed file, grouped by category and by site
    all.{rss,atom,json}             every newspaper
    category/<key>.{rss,atom,json}  one per category, spanning all sites
    site/<site-id>.{rss,atom,json}  one per newspaper

The output is a pure function of the stored articles (and of the site names and
crawl intervals passed in): no clock is read, so a rebuild with the same articles
gives byte-identical files, and a file is only rewritten (atomically) when its bytes
change. That lets any static server answer conditional requests with 304. Entry ids
come from the article id, derived once from the canonical URL, so an edited article
keeps its id.

``all`` and category feeds show the original of each story only, ending with links
to its other copies. A site feed shows that newspaper's own articles: its originals,
and its copies of stories first published by another newspaper (linking to the
original); a second URL of a page of the same site is left out. Feed files of a
category or site that no longer has any article are removed, so ``feeds.opml`` and
``index.html`` list exactly the feed files present.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from aggregator.normalize.dates import ICT
from aggregator.normalize.sanitize import safe_text, sanitize_html
from aggregator.normalize.text import clean_text, strip_xml_invalid
from aggregator.publish.files import write_if_changed
from aggregator.sites.categories import category_label
from aggregator.sites.definition import DEFAULT_INTERVAL, SiteDefinition
from aggregator.store.records import StoredArticle

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_INTERVAL",
    "FORMATS",
    "MEDIA_TYPES",
    "FeedBuildReport",
    "SiteInfo",
    "build_feeds",
    "feed_path",
    "render_feed",
    "site_infos",
    "valid_key",
]

logger = logging.getLogger(__name__)

Format = Literal["rss", "atom", "json"]
Kind = Literal["all", "category", "site"]

#: Where the feeds are published when no ``base_url`` is given (self links need
#: an absolute URL; pass the real public URL of ``feeds_dir`` in production).
DEFAULT_BASE_URL = "http://localhost/feeds/"
TIMEZONE = ICT
TAG_PREFIX = "tag:aggregator,2026:"
FEED_SUFFIX = "Báo địa phương"
ALL_LABEL = "Tất cả"
GENERATOR = "aggregator"
#: Introduces the links to the other copies of a story in an entry's content.
ALSO_AT_LABEL = "Cũng đăng trên"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
#: The JSON Feed extension object of this project (items and feed).
JSON_EXTENSION = "_aggregator"

FORMATS: tuple[Format, ...] = ("rss", "atom", "json")
MEDIA_TYPES: dict[str, str] = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
    "opml": "text/x-opml",
    "html": "text/html",
}
FORMAT_NAMES: dict[Format, str] = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
INDEX_FILE = "index.html"
OPML_FILE = "feeds.opml"

#: Display limits: a scraped 100 KB "title" must not become a 100 KB feed title.
MAX_TITLE = 300
MAX_SUMMARY = 2000
MAX_NAME = 200
MAX_AUTHORS = 10
#: Longest key used as a file name (well under the 255-byte name limit).
MAX_KEY = 100

_KEY = re.compile(r"[a-z0-9][a-z0-9-]*")
#: Device names Windows reserves whatever the extension: never file names here.
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)
_FEED_FILE = re.compile(r"[a-z0-9][a-z0-9-]*\.(?:rss|atom|json)")
#: ``updated`` of a feed with no entries (never the build time).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Lead-image types by extension (a fixed table: mimetypes varies by system).
_IMAGE_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".jpe": "image/jpeg", ".png": "image/png",
    ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml",
    ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff",
}  # fmt: skip
_DEFAULT_IMAGE_TYPE = "image/jpeg"
#: Word's line break (U+000B) and form feed separate words: make them spaces.
_CONTROL_SPACES = re.compile("[\x0b\x0c\x85]")
#: Bidirectional overrides, embeddings, isolates and marks: Vietnamese never needs
#: them, and an override (U+202E) makes a reader show text other than what it is.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class ArticleSource(Protocol):
    """The part of the store the feeds read."""

    def categories(self) -> list[tuple[str, int]]: ...
    def articles(
        self,
        *,
        sites: Sequence[str] = (),
        categories: Sequence[str] = (),
        limit: int | None = None,
        include_duplicates: bool = True,
    ) -> Iterable[StoredArticle]: ...
    def get(self, article_id: str) -> StoredArticle | None: ...


@dataclass(frozen=True)
class SiteInfo:
    """What the feeds need to know of a newspaper beyond its stored articles."""

    name: str
    #: minutes between crawls: RSS ``<ttl>``
    interval: int = DEFAULT_INTERVAL
    #: the newspaper's home page (a site feed's alternate link)
    url: str | None = None


def site_infos(definitions: Iterable[SiteDefinition]) -> dict[str, SiteInfo]:
    """Name, crawl interval and home page of every site definition, by id."""
    return {d.id: SiteInfo(d.name, d.interval, d.base_url) for d in definitions}


@dataclass
class FeedBuildReport:
    """What a build did: files written (new or changed), left as they were, removed."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    #: feed files of categories or sites that have no article any more
    removed: list[Path] = field(default_factory=list)
    #: category keys not usable as file names (see :func:`valid_key`), skipped
    rejected: list[str] = field(default_factory=list)
    #: site ids not usable as file names, skipped
    rejected_sites: list[str] = field(default_factory=list)


# -- paths and files ------------------------------------------------------------------


def valid_key(key: str) -> bool:
    """``[a-z0-9][a-z0-9-]*``, at most :data:`MAX_KEY` long, no Windows device name."""
    return len(key) <= MAX_KEY and bool(_KEY.fullmatch(key)) and key not in _RESERVED


def feed_path(feeds_dir: Path, key: str, fmt: Format, kind: Kind = "category") -> Path:
    """``feeds_dir/<kind>/<key>.<fmt>`` (``feeds_dir/all.<fmt>`` for ``all``).

    ``ValueError`` for a key that is not :func:`valid_key` or a folder that leads
    out of ``feeds_dir`` (a symlink).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown feed format {fmt!r}")
    root = Path(feeds_dir)
    if kind == "all":
        return root / f"all.{fmt}"
    if kind not in ("category", "site"):
        raise ValueError(f"unknown feed kind {kind!r}")
    if not valid_key(key):
        raise ValueError(f"{kind} key {key!r} is not a [a-z0-9-]+ file name")
    path = root / kind / f"{key}.{fmt}"
    if path.parent.resolve() != root.resolve() / kind:  # belt and braces
        raise ValueError(f"{root / kind} leads out of {root}")
    return path


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


def _plain(value: str | None, limit: int | None = None) -> str:
    """One line of display text: no markup, control characters or bidi overrides.

    Titles, leads and names are plain text, yet some readers render an RSS title as
    HTML: tags (and what script or style elements hold) are removed, until none is
    left, so that ``&lt;script&gt;`` cannot become a tag one decoding later (the store's
    :func:`~aggregator.store.base.safe_text`: round after round, not three; issue 9 found a
    title that still held a script after three).
    """
    text = safe_text(_CONTROL_SPACES.sub(" ", value or ""))
    text = clean_text(_BIDI.sub("", _CONTROL_SPACES.sub(" ", text)))
    return _truncate(text, limit) if limit else text


def _url(value: str) -> str:
    return _BIDI.sub("", strip_xml_invalid(value)).strip()


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _local(value: datetime) -> datetime:
    """In Vietnam time (+07:00), whole seconds; a naive value is taken as Vietnam time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=TIMEZONE)
    return value.astimezone(TIMEZONE).replace(microsecond=0)


def _published(article: StoredArticle) -> datetime:
    """Publication time, or when the article was first seen if it has none."""
    return _local(article.published or article.first_seen)


def _updated(article: StoredArticle) -> datetime:
    """Last change, never before publication."""
    published = _published(article)
    return max(published, _local(article.updated)) if article.updated else published


def _image(article: StoredArticle) -> tuple[str, str] | None:
    """The lead image as an absolute http(s) URL and its media type, if any."""
    if not article.image:
        return None
    try:
        url = urljoin(article.url, _url(article.image))
    except ValueError:
        return None
    if not _is_web_url(url):
        return None
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return url, _IMAGE_TYPES.get(suffix, _DEFAULT_IMAGE_TYPE)


def _site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _rfc3339(value: datetime) -> str:
    return value.isoformat()


# -- entries --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Copy:
    """Another copy of a story: where it is and which newspaper has it."""

    url: str
    site: str
    name: str


@dataclass(frozen=True)
class _Entry:
    """An article as every feed format shows it, prepared once per build."""

    id: str
    site: str
    site_name: str
    site_url: str
    title: str
    link: str
    published: datetime
    updated: datetime
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    lead: str
    content: str
    image: tuple[str, str] | None
    also_at: tuple[_Copy, ...]


def _copies(raw: Iterable[Mapping[str, str]]) -> tuple[_Copy, ...]:
    out: list[_Copy] = []
    for copy in raw:
        url = _url(copy.get("url") or "")
        if _is_web_url(url):
            name = _plain(copy.get("site_name"), MAX_NAME) or _site_root(url)
            out.append(_Copy(url, _plain(copy.get("site"), MAX_NAME), name))
    return tuple(out)


def _content(article: StoredArticle, also_at: Sequence[_Copy]) -> str:
    """Sanitized body HTML (the plain text as paragraphs when there is no HTML), then
    the other copies of the story: "Cũng đăng trên: Báo X, Báo Y" with links."""
    body = sanitize_html(article.body_html, article.url)
    if not body and article.body_text.strip():
        lines = (line.strip() for line in strip_xml_invalid(article.body_text).splitlines())
        body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in lines if p)
    body = _BIDI.sub("", body)
    if also_at:
        links = ", ".join(
            f'<a href="{html.escape(c.url)}">{html.escape(c.name, quote=False)}</a>'
            for c in also_at
        )
        body += f"<p>{ALSO_AT_LABEL}: {links}</p>"
    return body


def _entry(article: StoredArticle, also_at: tuple[_Copy, ...]) -> _Entry:
    link = _url(article.canonical_url or article.url)
    site_name = _plain(article.site_name, MAX_NAME) or _plain(article.site) or GENERATOR
    authors = [name for name in (_plain(a, MAX_NAME) for a in article.authors) if name]
    lead = _plain(article.lead, MAX_SUMMARY)
    return _Entry(
        id=f"{TAG_PREFIX}article/{article.id}",
        site=article.site,
        site_name=site_name,
        site_url=_site_root(link),
        title=_plain(article.title, MAX_TITLE) or _truncate(lead, 120) or link,
        link=link,
        published=_published(article),
        updated=_updated(article),
        authors=tuple(dict.fromkeys(authors[:MAX_AUTHORS])) or (site_name,),
        categories=tuple(dict.fromkeys(c for c in article.categories if valid_key(c))),
        lead=lead,
        content=_content(article, also_at),
        image=_image(article),
        also_at=also_at,
    )


class _Entries:
    """Entries of one build, prepared once however many feeds show them."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, int, tuple[_Copy, ...]], _Entry] = {}

    def __call__(self, article: StoredArticle, also_at: tuple[_Copy, ...] | None = None) -> _Entry:
        copies = _copies(article.also_at) if also_at is None else also_at
        key = (article.id, article.version, copies)
        entry = self._done.get(key)
        if entry is None:
            entry = self._done[key] = _entry(article, copies)
        return entry

    @staticmethod
    def usable(article: StoredArticle) -> bool:
        """Only articles with a web link can be entries (readers need one)."""
        return _is_web_url(_url(article.canonical_url or article.url))


def _newest_first(entries: Iterable[_Entry]) -> list[_Entry]:
    """Newest first by publication (or first-seen) time, ties by id."""
    return sorted(sorted(entries, key=lambda e: e.id), key=lambda e: e.published, reverse=True)


# -- feeds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Feed:
    kind: Kind
    key: str  # category key or site id; "" for all
    label: str
    description: str
    home: str  # the alternate (HTML) link
    entries: tuple[_Entry, ...]
    ttl: int

    @property
    def name(self) -> str:
        """Path of the feed under the feeds folder, without the extension."""
        return "all" if self.kind == "all" else f"{self.kind}/{self.key}"

    @property
    def id(self) -> str:
        return TAG_PREFIX + self.name

    @property
    def title(self) -> str:
        return f"{self.label} — {FEED_SUFFIX}"

    @property
    def updated(self) -> datetime:
        """The newest change among the entries (or a fixed epoch): never the build time."""
        return max((e.updated for e in self.entries), default=_local(_EPOCH))

    def href(self, fmt: Format) -> str:
        return f"{self.name}.{fmt}"


class _AtomExtras(BaseEntryExtension):
    """Atom entry links with their attributes, and a complete ``<source>``.

    feedgen 1.0 drops rel, type and length of every entry link in Atom output
    (its loop variable shadows the link data), which would turn an enclosure
    into a second alternate link: entry links other than the alternate go here.
    Its ``<source>`` has only a title and a link, while the W3C validator reads a
    source as feed metadata (id and updated required, a self link expected).
    """

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.source: dict[str, str] | None = None

    def extend_atom(self, entry: Any) -> Any:
        for attributes in self.links:
            etree.SubElement(entry, "link", attributes)  # feedgen's (un-namespaced) style
        if self.source is not None:
            source = etree.SubElement(entry, "source")
            for tag in ("id", "title", "updated"):
                etree.SubElement(source, tag).text = self.source[tag]
            etree.SubElement(source, "link", rel="alternate", type="text/html",
                             href=self.source["home"])  # fmt: skip
            etree.SubElement(source, "link", rel="self", type=MEDIA_TYPES["atom"],
                             href=self.source["self"])  # fmt: skip
        return entry


def _terms(feed: _Feed, entry: _Entry) -> list[str]:
    """Category keys of an entry, the feed's own first."""
    own = [feed.key] if feed.kind == "category" else []
    return list(dict.fromkeys([*own, *entry.categories]))


def _label(key: str) -> str:
    return _plain(category_label(key), MAX_NAME) or key


def _fill_entry(fe: FeedEntry, entry: _Entry, feed: _Feed, fmt: Format, base: str) -> None:
    fe.id(entry.id)  # also the RSS guid, isPermaLink="false"
    fe.title(entry.title)
    fe.link(href=entry.link, rel="alternate", type="text/html")
    fe.published(entry.published)
    fe.updated(entry.updated)
    if fmt == "atom":
        fe.author([{"name": name} for name in entry.authors])
    else:  # RSS <author> must be an e-mail address: names go to dc:creator
        fe.dc.dc_creator(list(entry.authors))
    fe.category([{"term": t, "label": _label(t)} for t in _terms(feed, entry)])
    if entry.lead:
        fe.summary(entry.lead)
    if entry.content:
        fe.content(entry.content, type="html")
    elif not entry.lead:
        fe.summary(entry.title)  # RSS needs a description, Atom textual content
    if entry.image is not None and fmt == "rss":
        fe.enclosure(url=entry.image[0], length="0", type=entry.image[1])
    # the source newspaper: its site feed here (when it has one), and its home page
    site_feed = f"{base}site/{entry.site}." if valid_key(entry.site) else None
    if fmt == "rss":
        fe.source(url=site_feed + "rss" if site_feed else entry.site_url, title=entry.site_name)
        return
    fe.register_extension("agg", _AtomExtras, atom=True, rss=False)
    if entry.image is not None:
        fe.agg.links.append(
            {"href": entry.image[0], "rel": "enclosure", "type": entry.image[1], "length": "0"}
        )
    for copy in entry.also_at:  # the other copies of the story
        fe.agg.links.append(
            {"href": copy.url, "rel": "related", "type": "text/html", "title": copy.name}
        )
    if site_feed:  # (a site id unfit for a file name has no feed: no source then)
        fe.agg.source = {
            "id": f"{TAG_PREFIX}site/{entry.site}",
            "title": entry.site_name,
            "updated": _rfc3339(entry.updated),
            "home": entry.site_url,
            "self": site_feed + "atom",
        }


def _render_xml(feed: _Feed, fmt: Literal["rss", "atom"], base: str) -> bytes:
    fg = FeedGenerator()
    if fmt == "rss":
        fg.load_extension("dc", atom=False, rss=True)
    fg.id(feed.id)
    fg.title(feed.title)
    fg.description(feed.description)
    # rel="self" first: in RSS, <link> is whichever link was added last.
    fg.link(href=base + feed.href(fmt), rel="self", type=MEDIA_TYPES[fmt])
    fg.link(href=feed.home, rel="alternate", type="text/html")
    fg.language("vi")
    fg.generator(GENERATOR)
    fg.updated(feed.updated)  # also RSS lastBuildDate
    if fmt == "rss":
        fg.ttl(feed.ttl)
    for entry in feed.entries:
        _fill_entry(fg.add_entry(order="append"), entry, feed, fmt, base)
    data: bytes = fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True)
    return data


def _json_item(entry: _Entry, feed: _Feed) -> dict[str, Any]:
    item: dict[str, Any] = {"id": entry.id, "url": entry.link, "title": entry.title}
    if entry.content:
        item["content_html"] = entry.content
    else:  # one of content_html and content_text is required
        item["content_text"] = entry.lead or entry.title
    if entry.lead:
        item["summary"] = entry.lead
    if entry.image is not None:
        item["image"] = entry.image[0]
    item["date_published"] = _rfc3339(entry.published)
    item["date_modified"] = _rfc3339(entry.updated)
    item["authors"] = [{"name": name} for name in entry.authors]
    terms = _terms(feed, entry)
    if terms:
        item["tags"] = list(dict.fromkeys(_label(t) for t in terms))
    item["language"] = "vi"
    item[JSON_EXTENSION] = {
        "source": {
            "site": _plain(entry.site, MAX_NAME),
            "name": entry.site_name,
            "url": entry.site_url,
        },
        "categories": [{"key": t, "label": _label(t)} for t in terms],
        "also_at": [{"url": c.url, "site": c.site, "name": c.name} for c in entry.also_at],
    }
    return item


def _render_json(feed: _Feed, base: str) -> bytes:
    """JSON Feed 1.1, written with the json module."""
    doc = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": feed.home,
        "feed_url": base + feed.href("json"),
        "description": feed.description,
        "language": "vi",
        JSON_EXTENSION: {"id": feed.id, "updated": _rfc3339(feed.updated), "ttl": feed.ttl},
        "items": [_json_item(entry, feed) for entry in feed.entries],
    }
    # compact: the C encoder (indent falls back to the pure-Python one, 10x slower)
    return (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _render(feed: _Feed, fmt: Format, base: str) -> bytes:
    return _render_json(feed, base) if fmt == "json" else _render_xml(feed, fmt, base)


def _base(base_url: str | None) -> str:
    base = base_url or DEFAULT_BASE_URL
    return base if base.endswith("/") else base + "/"


def _category_feed(key: str, entries: Iterable[_Entry], base: str, ttl: int) -> _Feed:
    label = _label(key)
    return _Feed(
        "category", key, label, f"Tin {label} mới nhất từ các báo địa phương", base,
        tuple(_newest_first(entries)), ttl,
    )  # fmt: skip


def render_feed(
    key: str,
    articles: Iterable[StoredArticle],
    fmt: Format,
    base_url: str = DEFAULT_BASE_URL,
    *,
    ttl: int = DEFAULT_INTERVAL,
) -> bytes:
    """One category feed as bytes: the same articles always give the same bytes."""
    if not valid_key(key):
        raise ValueError(f"category key {key!r} is not a [a-z0-9-]+ file name")
    if fmt not in FORMATS:
        raise ValueError(f"unknown feed format {fmt!r}")
    prepare = _Entries()
    entries = [prepare(a) for a in articles if prepare.usable(a)]
    return _render(_category_feed(key, entries, _base(base_url), ttl), fmt, _base(base_url))


# -- the index page and the OPML list -------------------------------------------------


def _render_opml(groups: Sequence[tuple[str, Sequence[_Feed]]], base: str) -> bytes:
    """OPML 2.0: a folder per group, a folder per feed, one outline per feed file."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = f"{FEED_SUFFIX}: tin các báo tỉnh"
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(opml, "body")
    for group, feeds in groups:
        folder = etree.SubElement(body, "outline", text=group, title=group)
        for feed in feeds:
            outline = etree.SubElement(folder, "outline", text=feed.label, title=feed.title)
            for fmt in FORMATS:
                attributes = {
                    "type": "rss",  # OPML's word for any subscription
                    "text": f"{feed.title} ({FORMAT_NAMES[fmt]})",
                    "title": feed.title,
                    "xmlUrl": base + feed.href(fmt),
                    "htmlUrl": feed.home,
                    "description": feed.description,
                    "language": "vi",
                }
                if fmt == "rss":
                    attributes["version"] = "RSS"
                etree.SubElement(outline, "outline", attributes)
    data: bytes = etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


def _render_index(groups: Sequence[tuple[str, Sequence[_Feed]]]) -> bytes:
    """The human page: every feed in every format, with autodiscovery links."""
    e = html.escape
    head_links: list[str] = []
    sections: list[str] = []
    for group, feeds in groups:
        rows: list[str] = []
        for feed in feeds:
            cells = []
            for fmt in FORMATS:
                href = e(feed.href(fmt))
                head_links.append(
                    f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" '
                    f'title="{e(feed.title)} ({FORMAT_NAMES[fmt]})" href="{href}">'
                )
                cells.append(
                    f'<td><a href="{href}" type="{MEDIA_TYPES[fmt]}">{FORMAT_NAMES[fmt]}</a></td>'
                )
            newest = feed.entries[0].published.strftime("%H:%M %d/%m/%Y") if feed.entries else "—"
            rows.append(
                f'<tr><th scope="row">{e(feed.label)}</th><td>{len(feed.entries)}</td>'
                f"<td>{e(newest)}</td>{''.join(cells)}</tr>"
            )
        sections.append(
            f"<h2>{e(group)}</h2>\n<table>\n<thead><tr><th>Nguồn tin</th><th>Số bài</th>"
            '<th>Bài mới nhất</th><th colspan="3">Định dạng</th></tr></thead>\n<tbody>\n'
            + "\n".join(rows)
            + "\n</tbody>\n</table>"
        )
    opml_type = MEDIA_TYPES["opml"]
    page = (
        '<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(FEED_SUFFIX)}: tin các báo tỉnh</title>\n"
        + "\n".join(head_links)
        + "\n<style>body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}"
        "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.2em .5em;"
        "border-bottom:1px solid #ddd}</style>\n</head>\n<body>\n"
        f"<h1>{e(FEED_SUFFIX)}</h1>\n"
        "<p>Tin mới nhất của các báo tỉnh, theo chuyên mục và theo từng báo, "
        "mỗi câu chuyện một lần. Mỗi nguồn tin có ba định dạng: RSS 2.0, Atom 1.0 và "
        "JSON Feed 1.1.</p>\n"
        f"<p>Danh sách mọi nguồn tin (OPML, để nhập vào trình đọc tin): "
        f'<a href="{OPML_FILE}" type="{opml_type}">{OPML_FILE}</a></p>\n'
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
    return page.encode("utf-8")


# -- the build ------------------------------------------------------------------------


class _Build:
    """One run of :func:`build_feeds`: reads the store, collects the feeds."""

    def __init__(
        self, store: ArticleSource, limit: int, base: str, sites: Mapping[str, SiteInfo]
    ) -> None:
        self.store, self.limit, self.base, self.sites = store, limit, base, sites
        self.prepare = _Entries()
        self._originals: dict[str, StoredArticle | None] = {}
        #: the copies of every original read so far (site feeds link them from a copy)
        self._stories: dict[str, tuple[_Copy, ...]] = {}

    def interval(self, site: str) -> int:
        info = self.sites.get(site)
        return info.interval if info is not None else DEFAULT_INTERVAL

    def ttl(self, entries: Iterable[_Entry]) -> int:
        """The smallest crawl interval of the sites in a feed."""
        intervals = [self.interval(site) for site in {e.site for e in entries}]
        if not intervals:
            intervals = [i.interval for i in self.sites.values()] or [DEFAULT_INTERVAL]
        return max(1, min(intervals))

    def originals(self, **filters: Any) -> list[_Entry]:
        articles = self.store.articles(limit=self.limit, include_duplicates=False, **filters)
        entries = []
        for article in articles:
            if self.prepare.usable(article):
                entries.append(self.prepare(article))
                if entries[-1].also_at:
                    self._stories[article.id] = entries[-1].also_at
        return entries

    def all_feed(self) -> _Feed:
        entries = _newest_first(self.originals())
        return _Feed(
            "all", "", ALL_LABEL, "Tin mới nhất từ các báo địa phương", self.base,
            tuple(entries), self.ttl(entries),
        )  # fmt: skip

    def category_feed(self, key: str) -> _Feed:
        entries = self.originals(categories=[key])
        return _category_feed(key, entries, self.base, self.ttl(entries))

    def _original(self, article_id: str) -> StoredArticle | None:
        if article_id not in self._originals:
            self._originals[article_id] = self.store.get(article_id)
        return self._originals[article_id]

    def _others(self, copy: StoredArticle, original: StoredArticle) -> tuple[_Copy, ...]:
        """The other copies of a copy's story: the original first, then the rest that
        this build has seen (the original's entry in another feed lists them)."""
        first = {"url": original.canonical_url or original.url, "site": original.site,
                 "site_name": original.site_name}  # fmt: skip
        rest = self._stories.get(original.id) or _copies(original.also_at)
        own = {_url(copy.url), _url(copy.canonical_url)}
        return _copies([first]) + tuple(c for c in rest if c.url not in own)

    def site_entries(self, site: str) -> list[_Entry]:
        """The site's originals and its copies of other sites' stories, newest first.

        Copies are read too, so the store is asked for more rows (doubling) until
        ``limit`` entries are kept or the site has no more articles.
        """
        fetch = self.limit
        while True:
            rows = list(self.store.articles(sites=[site], limit=fetch, include_duplicates=True))
            kept: list[_Entry] = []
            for article in rows:
                if not self.prepare.usable(article):
                    continue
                if article.duplicate_of is None:
                    kept.append(self.prepare(article))
                    continue
                original = self._original(article.duplicate_of)
                if original is None:  # a dangling link: show the copy on its own
                    kept.append(self.prepare(article, ()))
                elif original.site != site:
                    kept.append(self.prepare(article, self._others(article, original)))
            if len(kept) >= self.limit or len(rows) < fetch:
                return _newest_first(kept)[: self.limit]
            fetch *= 2

    def site_feed(self, site: str, entries: Sequence[_Entry]) -> _Feed:
        info = self.sites.get(site)
        name = (_plain(info.name, MAX_NAME) if info else "") or entries[0].site_name or site
        home = info.url if info is not None and info.url else entries[0].site_url
        return _Feed(
            "site", site, name, f"Tin mới nhất của {name}", _url(home), tuple(entries),
            self.interval(site),
        )  # fmt: skip


def _remove_stale(root: Path, kept: set[Path], report: FeedBuildReport) -> None:
    for kind in ("category", "site"):
        folder = root / kind
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if _FEED_FILE.fullmatch(path.name) and path not in kept and not path.is_dir():
                path.unlink()
                report.removed.append(path)


def build_feeds(
    store: ArticleSource,
    feeds_dir: Path,
    *,
    limit: int = 50,
    base_url: str | None = None,
    sites: Mapping[str, SiteInfo] | None = None,
) -> FeedBuildReport:
    """Write every feed, ``feeds.opml`` and ``index.html`` under ``feeds_dir``.

    Each feed holds its ``limit`` newest entries, newest first. ``base_url`` is the
    public URL of ``feeds_dir`` (default :data:`DEFAULT_BASE_URL`), used for self
    links and the OPML list. ``sites`` (see :func:`site_infos`) gives newspapers'
    names, home pages and crawl intervals (RSS ``<ttl>``; a feed spanning sites
    takes the smallest); a site with stored articles but no entry there gets a feed
    when its articles appear in another feed. Only files whose bytes change are
    rewritten; feed files of categories and sites without articles are removed.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    root = Path(feeds_dir)
    for kind in ("category", "site"):  # a symlinked folder raises before anything is written
        feed_path(root, "x", "rss", kind)
    base = _base(base_url)
    build = _Build(store, limit, base, dict(sites or {}))
    report = FeedBuildReport()

    everything = build.all_feed()
    categories: list[_Feed] = []
    for key, _count in store.categories():
        if not valid_key(key):
            logger.warning("skipping category %r: not a [a-z0-9-]+ file name", key)
            report.rejected.append(key)
            continue
        categories.append(build.category_feed(key))
    seen = {e.site for f in (everything, *categories) for e in f.entries}
    seen |= {c.site for f in (everything, *categories) for e in f.entries for c in e.also_at}
    site_feeds: list[_Feed] = []
    for site in sorted(set(build.sites) | seen):
        if not valid_key(site):
            logger.warning("skipping site %r: not a [a-z0-9-]+ file name", site)
            report.rejected_sites.append(site)
            continue
        entries = build.site_entries(site)
        if entries:
            site_feeds.append(build.site_feed(site, entries))

    kept: set[Path] = set()
    for feed in (everything, *categories, *site_feeds):
        for fmt in FORMATS:
            path = feed_path(root, feed.key, fmt, feed.kind)
            kept.add(path)
            data = _render(feed, fmt, base)
            (report.written if write_if_changed(path, data) else report.unchanged).append(path)
    groups = [(ALL_LABEL, [everything]), ("Chuyên mục", categories), ("Báo", site_feeds)]
    for name, data in (
        (OPML_FILE, _render_opml(groups, base)),
        (INDEX_FILE, _render_index(groups)),
    ):
        path = root / name
        (report.written if write_if_changed(path, data) else report.unchanged).append(path)
    _remove_stale(root, kept, report)
    return report
