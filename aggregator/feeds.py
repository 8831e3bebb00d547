"""Category feeds (RSS 2.0 and Atom 1.0) built from the store; feedgen stays in here.

The output is a pure function of the stored articles: no clock is read, so a
rebuild with the same articles gives byte-identical files, and a file is only
rewritten (atomically) when its bytes change. That lets any static server answer
conditional requests with 304. Entry ids come from the article id, derived once
from the canonical URL, so an edited article keeps its id.
"""

from __future__ import annotations

import html
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from aggregator.categories import category_label
from aggregator.sanitize import sanitize_html
from aggregator.store import StoredArticle
from aggregator.text import clean_text, strip_xml_invalid

__all__ = [
    "DEFAULT_BASE_URL",
    "FeedBuildReport",
    "build_feeds",
    "feed_path",
    "render_feed",
]

logger = logging.getLogger(__name__)

Format = Literal["atom", "rss"]

#: Where the feeds are published when no ``base_url`` is given (self links need
#: an absolute URL; pass the real public URL of ``feeds_dir`` in production).
DEFAULT_BASE_URL = "http://localhost/feeds/"
#: Asia/Ho_Chi_Minh as a fixed offset: UTC+7 with no DST since 1975, while the tz
#: database gives older dates (and the epoch) +08:00; feeds always say +07:00.
TIMEZONE = timezone(timedelta(hours=7), "ICT")
TAG_PREFIX = "tag:aggregator,2026:"
FEED_SUFFIX = "Báo địa phương"
GENERATOR = "aggregator"
#: Introduces the links to the other copies of a story in an entry's content.
ALSO_AT_LABEL = "Cũng đăng trên"

_KEY = re.compile(r"[a-z0-9-]+")
_FORMATS: tuple[Format, ...] = ("rss", "atom")
_MEDIA_TYPES: dict[Format, str] = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
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


@dataclass
class FeedBuildReport:
    """What a build did: files written (new or changed), files left as they were."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    #: category keys not usable as file names (not ``[a-z0-9-]+``), skipped
    rejected: list[str] = field(default_factory=list)


# -- paths and files ------------------------------------------------------------------


def feed_path(feeds_dir: Path, key: str, fmt: Format) -> Path:
    """``feeds_dir/category/<key>.<fmt>``; ``ValueError`` for a key that could escape."""
    if fmt not in _MEDIA_TYPES:
        raise ValueError(f"unknown feed format {fmt!r}")
    if not _KEY.fullmatch(key):
        raise ValueError(f"category key {key!r} is not [a-z0-9-]+")
    folder = Path(feeds_dir) / "category"
    path = folder / f"{key}.{fmt}"
    if path.resolve().parent != folder.resolve():  # belt and braces
        raise ValueError(f"category key {key!r} leaves {folder}")
    return path


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Atomically replace ``path`` with ``data`` unless it already holds it."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; a web server must read it
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return True


# -- values ---------------------------------------------------------------------------


def _text(value: str | None) -> str:
    """One line of display text with no control characters."""
    return clean_text(_CONTROL_SPACES.sub(" ", value or ""))


def _url(value: str) -> str:
    return strip_xml_invalid(value).strip()


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
    url = urljoin(article.url, _url(article.image))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    suffix = PurePosixPath(parts.path).suffix.lower()
    return url, _IMAGE_TYPES.get(suffix, _DEFAULT_IMAGE_TYPE)


def _site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _content(article: StoredArticle) -> str:
    """Sanitized body HTML (the plain text as paragraphs when there is no HTML), then
    the other copies of the story: "Cũng đăng trên: Báo X, Báo Y" with links."""
    body = sanitize_html(article.body_html, article.url)
    if not body and article.body_text.strip():
        lines = (line.strip() for line in strip_xml_invalid(article.body_text).splitlines())
        body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in lines if p)
    return body + _also_at(article)


def _also_at(article: StoredArticle) -> str:
    links = [
        f'<a href="{html.escape(_url(c["url"]))}">'
        f"{html.escape(_text(c.get('site_name')) or _site_root(c['url']), quote=False)}</a>"
        for c in article.also_at
        if c.get("url", "").startswith(("http://", "https://"))
    ]
    return f"<p>{ALSO_AT_LABEL}: {', '.join(links)}</p>" if links else ""


def _sorted(articles: Iterable[StoredArticle]) -> list[StoredArticle]:
    """Newest first by publication (or first-seen) time, ties by id."""
    return sorted(sorted(articles, key=lambda a: a.id), key=_published, reverse=True)


# -- feedgen --------------------------------------------------------------------------


class _AtomLinks(BaseEntryExtension):
    """Extra Atom entry links written with their attributes.

    feedgen 1.0 drops rel, type and length of every entry link in Atom output
    (its loop variable shadows the link data), which would turn an enclosure
    into a second alternate link. Entry links other than the alternate go here.
    """

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def extend_atom(self, entry: Any) -> Any:
        for attributes in self.links:
            etree.SubElement(entry, "link", attributes)  # feedgen's (un-namespaced) style
        return entry


def _entry(fe: FeedEntry, article: StoredArticle, key: str, fmt: Format) -> None:
    site_name = _text(article.site_name) or _text(article.site) or GENERATOR
    link = _url(article.canonical_url or article.url)
    fe.id(f"{TAG_PREFIX}article/{article.id}")  # also the RSS guid, isPermaLink="false"
    fe.title(_text(article.title) or _text(article.lead)[:120] or link)
    fe.link(href=link, rel="alternate", type="text/html")
    fe.published(_published(article))
    fe.updated(_updated(article))
    authors = [name for name in (_text(a) for a in article.authors) if name] or [site_name]
    if fmt == "atom":
        fe.author([{"name": name} for name in authors])
    else:  # RSS <author> must be an e-mail address: names go to dc:creator
        fe.dc.dc_creator(authors)
    terms = dict.fromkeys([key, *(_text(c) for c in article.categories)])
    fe.category([{"term": t, "label": _text(category_label(t)) or t} for t in terms if t])
    lead = _text(article.lead)
    if lead:
        fe.summary(lead)
    content = _content(article)
    if content:
        fe.content(content, type="html")
    elif not lead:
        fe.description(fe.title())  # RSS needs a description; Atom has the alternate link
    image = _image(article)
    if image is not None and fmt == "rss":
        fe.enclosure(url=image[0], length="0", type=image[1])
    if fmt == "atom":
        fe.register_extension("agg_links", _AtomLinks, atom=True, rss=False)
        if image is not None:
            fe.agg_links.links.append(
                {"href": image[0], "rel": "enclosure", "type": image[1], "length": "0"}
            )
        for copy in article.also_at:  # the other copies of the story
            if copy.get("url", "").startswith(("http://", "https://")):
                fe.agg_links.links.append(
                    {"href": _url(copy["url"]), "rel": "related", "type": "text/html",
                     "title": _text(copy.get("site_name")) or _site_root(copy["url"])}
                )  # fmt: skip
    fe.source(url=_site_root(link), title=site_name)


def render_feed(
    key: str, articles: Iterable[StoredArticle], fmt: Format, base_url: str = DEFAULT_BASE_URL
) -> bytes:
    """One category feed as bytes: the same articles always give the same bytes."""
    if not _KEY.fullmatch(key):
        raise ValueError(f"category key {key!r} is not [a-z0-9-]+")
    base = base_url if base_url.endswith("/") else base_url + "/"
    label = _text(category_label(key)) or key
    entries = _sorted(articles)
    fg = FeedGenerator()
    if fmt == "rss":
        fg.load_extension("dc", atom=False, rss=True)
    fg.id(f"{TAG_PREFIX}category/{key}")
    fg.title(f"{label} — {FEED_SUFFIX}")
    fg.description(f"Tin {label} mới nhất từ các báo địa phương")
    # rel="self" first: in RSS, <link> is whichever link was added last.
    fg.link(href=f"{base}category/{key}.{fmt}", rel="self", type=_MEDIA_TYPES[fmt])
    fg.link(href=base, rel="alternate", type="text/html")
    fg.language("vi")
    fg.generator(GENERATOR)
    # Never the build time: the newest change among the entries (or a fixed epoch).
    newest = max((_updated(a) for a in entries), default=_local(_EPOCH))
    fg.updated(newest)  # also RSS lastBuildDate
    for article in entries:
        _entry(fg.add_entry(order="append"), article, key, fmt)
    data: bytes = fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True)
    return data


def build_feeds(
    store: ArticleSource, feeds_dir: Path, *, limit: int = 50, base_url: str | None = None
) -> FeedBuildReport:
    """Write ``category/<key>.rss`` and ``.atom`` under ``feeds_dir`` for every category.

    Each feed holds the ``limit`` newest non-duplicate articles, newest first.
    ``base_url`` is the public URL of ``feeds_dir`` (default
    :data:`DEFAULT_BASE_URL`), used for the feeds' self links. Only files whose
    bytes change are rewritten.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    base = base_url or DEFAULT_BASE_URL
    report = FeedBuildReport()
    for key, _count in store.categories():
        try:
            paths = {fmt: feed_path(Path(feeds_dir), key, fmt) for fmt in _FORMATS}
        except ValueError as exc:
            logger.warning("skipping category: %s", exc)
            report.rejected.append(key)
            continue
        articles = list(store.articles(categories=[key], limit=limit, include_duplicates=False))
        for fmt, path in paths.items():
            data = render_feed(key, articles, fmt, base)
            (report.written if _write_if_changed(path, data) else report.unchanged).append(path)
    return report
