"""Building blocks of the sample web's newspaper templates.

A template turns one newspaper's ground truth into pages: ``{path_with_query: Page}``.
Everything here is pure and deterministic: no clock, no randomness, no hash order.
"""

from __future__ import annotations

import base64
import hashlib
import html
import struct
import zlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import ClassVar

from aggregator.normalize.text import slugify
from sampleweb.groundtruth import GroundTruthArticle

__all__ = [
    "CSS",
    "HTML",
    "JS",
    "PNG",
    "PNG_BYTES",
    "RSS",
    "TEXT",
    "VN",
    "Media",
    "Page",
    "SiteTemplate",
    "Tag",
    "esc",
    "html_page",
    "redirect",
    "tracking_query",
    "vn",
    "weekday",
]

VN = timezone(timedelta(hours=7))
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
CSS = "text/css; charset=utf-8"
JS = "application/javascript; charset=utf-8"
PNG = "image/png"

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


@dataclass(frozen=True)
class Page:
    """One response of the sample web."""

    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    #: served for any query string on its path (search pages)
    any_query: bool = False


def tracking_query(a: GroundTruthArticle) -> str:
    """The tracking parameters a social share appends to an article link (stable per article)."""
    digest = hashlib.sha256(f"fbclid:{a.site}:{a.key}".encode()).digest()
    fbclid = "IwAR" + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:36]
    return f"utm_source=zalo&utm_medium=social&fbclid={fbclid}"


def esc(text: str) -> str:
    """HTML-escape text and attribute values."""
    return html.escape(text, quote=True)


def html_page(markup: str, *, status: int = 200, any_query: bool = False) -> Page:
    return Page(status, HTML, markup.encode("utf-8"), any_query=any_query)


def redirect(location: str) -> Page:
    body = f'<a href="{esc(location)}">Moved</a>'.encode()
    return Page(301, HTML, body, headers=(("Location", location),))


def vn(value: datetime) -> datetime:
    """The same instant in Vietnam time (+07:00)."""
    return value.astimezone(VN)


def weekday(value: datetime, *, lower: bool = False) -> str:
    """Vietnamese weekday name: "Thứ Ba" (or "Thứ ba" with ``lower``)."""
    name = WEEKDAYS[vn(value).weekday()]
    return name[0] + name[1:].lower() if lower else name


def _png(width: int = 16, height: int = 9, gray: int = 190) -> bytes:
    """A small grey PNG (the same bytes every run)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + bytes([gray]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


PNG_BYTES = _png()


@dataclass(frozen=True)
class Media:
    """A video or eMagazine item: a page of the site that is not an article."""

    id: int
    title: str
    published: datetime
    description: str

    @property
    def slug(self) -> str:
        return slugify(self.title)


@dataclass(frozen=True)
class Tag:
    """A tag page: the articles carrying one tag (``index`` numbers tags from 1)."""

    slug: str
    name: str
    index: int
    articles: tuple[GroundTruthArticle, ...]


class SiteTemplate(ABC):
    """One newspaper's templates; subclasses provide URL schemes and HTML.

    Paths are absolute server paths that start with ``/<site_id>/``; ``origin`` is
    the server's ``http://host:port/`` for the few absolute URLs (canonical, RSS).
    """

    site_id: ClassVar[str]
    name: ClassVar[str]
    province: ClassVar[str]
    #: section slug -> displayed name, in menu order
    sections: ClassVar[dict[str, str]]
    page_size: ClassVar[int] = 8
    #: robots.txt rules relative to the site root, e.g. ("/tim-kiem", "/admin/")
    disallow: ClassVar[tuple[str, ...]]
    #: the search page's path (served for any query) and a linked search URL
    search_path: ClassVar[str]
    search_link: ClassVar[str]
    videos: ClassVar[tuple[Media, ...]] = ()
    #: static files, site-relative path -> content
    assets: ClassVar[dict[str, str]] = {}

    def __init__(self, articles: Sequence[GroundTruthArticle], origin: str) -> None:
        self.origin = origin.rstrip("/")
        self.root = f"/{self.site_id}/"
        self.articles = sorted(articles, key=lambda a: (a.published, a.id), reverse=True)
        for a in self.articles:
            unknown = [s for s in a.sections if s not in self.sections]
            if unknown or a.site != self.site_id:
                raise ValueError(f"{a.key}: unknown site or sections {unknown} for {self.site_id}")
        self._tags = self._collect_tags()

    # -- URL scheme (subclasses) ------------------------------------------------------

    @classmethod
    @abstractmethod
    def article_path(cls, a: GroundTruthArticle) -> str:
        """Server path of an article page."""

    @classmethod
    def old_scheme_path(cls, a: GroundTruthArticle) -> str:
        """Server path of an article under the site's previous URL scheme (alias "old-scheme")."""
        raise ValueError(f"{a.key}: {cls.site_id} has no old URL scheme")

    @classmethod
    def tracking_path(cls, a: GroundTruthArticle) -> str:
        """The article path with tracking parameters (alias "tracking")."""
        return f"{cls.article_path(a)}?{tracking_query(a)}"

    @classmethod
    def alias_paths(cls, a: GroundTruthArticle) -> list[str]:
        """The extra paths (with query for "tracking") that serve the same article."""
        return [
            cls.old_scheme_path(a) if kind == "old-scheme" else cls.tracking_path(a)
            for kind in a.aliases
        ]

    def listed_path(self, a: GroundTruthArticle) -> str:
        """The link to an article in listings: with tracking parameters for "tracking" aliases."""
        return self.tracking_path(a) if "tracking" in a.aliases else self.article_path(a)

    def old_scheme_links(self, section: str, page: int) -> list[tuple[str, GroundTruthArticle]]:
        """Old-scheme links ("Tin cũ") on a listing page: page 1 of the article's own section."""
        if page != 1:
            return []
        return [
            (self.old_scheme_path(a), a)
            for a in self.articles
            if a.section == section and "old-scheme" in a.aliases
        ]

    @abstractmethod
    def listing_path(self, section: str, page: int) -> str:
        """Server path of page ``page`` (from 1) of a section listing."""

    @abstractmethod
    def tag_path(self, tag: Tag) -> str:
        """Server path of a tag page."""

    @abstractmethod
    def video_path(self, v: Media) -> str:
        """Server path of a video page."""

    @abstractmethod
    def image_path(self, a: GroundTruthArticle, n: int) -> str:
        """Server path of the ``n``-th photo (from 1) of an article."""

    @property
    def video_index_path(self) -> str:
        return self.root + "video/"

    @property
    def admin_path(self) -> str:
        return self.root + "admin/"

    def url(self, path: str) -> str:
        """Absolute URL of a server path."""
        return self.origin + path

    # -- data -------------------------------------------------------------------------

    def in_section(self, section: str) -> list[GroundTruthArticle]:
        """Articles listed in a section (all of their sections), newest first."""
        return [a for a in self.articles if section in a.sections]

    def listing_chunks(self, section: str) -> list[list[GroundTruthArticle]]:
        items = self.in_section(section)
        size = self.page_size
        return [items[i : i + size] for i in range(0, len(items), size)] or [[]]

    def _collect_tags(self) -> dict[str, Tag]:
        names: dict[str, str] = {}
        members: dict[str, list[GroundTruthArticle]] = {}
        for a in self.articles:
            for name in a.tags:
                slug = slugify(name)
                if slug and a not in members.setdefault(slug, []):
                    names.setdefault(slug, name)
                    members[slug].append(a)
        return {
            slug: Tag(slug, names[slug], i, tuple(members[slug]))
            for i, slug in enumerate(sorted(members), start=1)
        }

    @property
    def tags(self) -> list[Tag]:
        return list(self._tags.values())

    def tags_of(self, a: GroundTruthArticle) -> list[Tag]:
        return [self._tags[s] for s in dict.fromkeys(slugify(n) for n in a.tags) if s]

    def latest(self, n: int) -> list[GroundTruthArticle]:
        return self.articles[:n]

    @staticmethod
    def views(a: GroundTruthArticle) -> int:
        """A stable pseudo view counter."""
        return 150 + (a.id * 7919) % 4850

    def most_read(self, n: int) -> list[GroundTruthArticle]:
        return sorted(self.articles, key=lambda a: (-self.views(a), a.id))[:n]

    def related(self, a: GroundTruthArticle, n: int = 4) -> list[GroundTruthArticle]:
        """Other articles of the same section: the next older ones, then newer ones."""
        same = [x for x in self.in_section(a.section) if x is not a]
        older = [x for x in same if (x.published, x.id) < (a.published, a.id)]
        newer = [x for x in same if x not in older]
        return (older + newer[::-1])[:n]

    def thumb(self, a: GroundTruthArticle) -> str | None:
        return self.image_path(a, 1) if a.images else None

    # -- text -------------------------------------------------------------------------

    def t(self, text: str) -> str:
        """Escape a text for insertion (templates may also transform it)."""
        return esc(text)

    @staticmethod
    def caption_with_credit(caption: str, credit: str) -> str:
        """Caption as printed under a photo: "... Ảnh: Trường Khanh"."""
        sep = " " if caption.endswith((".", "!", "?", "…", ")")) else ". "
        return f"{caption}{sep}Ảnh: {credit}" if credit else caption

    # -- pages (subclasses) -------------------------------------------------------------

    @abstractmethod
    def home(self) -> str:
        """HTML of the newspaper's front page."""

    @abstractmethod
    def article(self, a: GroundTruthArticle) -> str:
        """HTML of an article page."""

    @abstractmethod
    def listing(self, section: str, items: list[GroundTruthArticle], page: int, pages: int) -> str:
        """HTML of one page of a section listing."""

    @abstractmethod
    def tag_page(self, tag: Tag) -> str:
        """HTML of a tag page."""

    @abstractmethod
    def video_index(self) -> str:
        """HTML of the video section."""

    @abstractmethod
    def video_page(self, v: Media) -> str:
        """HTML of a video page."""

    @abstractmethod
    def search_page(self) -> str:
        """HTML of the search page (the same for every query)."""

    @abstractmethod
    def admin_page(self) -> str:
        """HTML of the admin login page (disallowed in robots.txt)."""

    def alias_page(self, a: GroundTruthArticle, kind: str) -> str:
        """HTML of an article under an "old-scheme" alias: the same page unless a template
        differs ("tracking" aliases always serve the very page of the clean URL)."""
        return self.article(a)

    def extra_pages(self) -> dict[str, Page]:
        """Site-specific extra pages (feeds, multimedia)."""
        return {}

    # -- assembly -----------------------------------------------------------------------

    def robots(self) -> str:
        """This site's robots.txt, paths relative to the site root."""
        return "User-agent: *\n" + "".join(f"Disallow: {p}\n" for p in self.disallow)

    def prefixed_disallow(self) -> list[str]:
        """The robots rules with the site's path prefix, for the host's /robots.txt."""
        return [self.root.rstrip("/") + p for p in self.disallow]

    def render(self) -> dict[str, Page]:
        """Every page of this newspaper."""
        pages: dict[str, Page] = {}

        def add(path: str, page: Page) -> None:
            if path in pages:
                raise ValueError(f"{self.site_id}: two pages at {path}")
            pages[path] = page

        add(self.root, html_page(self.home()))
        add(self.root.rstrip("/"), redirect(self.root))
        for section in self.sections:
            chunks = self.listing_chunks(section)
            for n, items in enumerate(chunks, start=1):
                add(
                    self.listing_path(section, n),
                    html_page(self.listing(section, items, n, len(chunks))),
                )
            first = self.listing_path(section, 1)
            if first.endswith("/"):
                add(first.rstrip("/"), redirect(first))
        for a in self.articles:
            page = html_page(self.article(a))
            add(self.article_path(a), page)
            for kind, path in zip(a.aliases, self.alias_paths(a), strict=True):
                add(path, page if kind == "tracking" else html_page(self.alias_page(a, kind)))
            for n in range(1, len(a.images) + 1):
                add(self.image_path(a, n), Page(200, PNG, PNG_BYTES))
        for tag in self.tags:
            add(self.tag_path(tag), html_page(self.tag_page(tag)))
        add(self.video_index_path, html_page(self.video_index()))
        for v in self.videos:
            add(self.video_path(v), html_page(self.video_page(v)))
        add(self.search_path, html_page(self.search_page(), any_query=True))
        add(self.admin_path, html_page(self.admin_page()))
        add(self.root + "robots.txt", Page(200, TEXT, self.robots().encode()))
        for rel, content in self.assets.items():
            if rel.endswith(".png"):
                add(self.root + rel, Page(200, PNG, PNG_BYTES))
            else:
                kind = CSS if rel.endswith(".css") else JS if rel.endswith(".js") else TEXT
                add(self.root + rel, Page(200, kind, content.encode()))
        for path, page in self.extra_pages().items():
            add(path, page)
        return pages
