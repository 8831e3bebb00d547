"""Proposing a definition's link patterns from the links a site shows (pure functions).

``aggregator sites new`` reads a home page and a few listings; these functions turn the
links it saw into ``links.article`` (the most common article-like URL shape, as a regex),
``links.listing`` (the numbered pages of the sections) and the sections of the main menu.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, urlsplit

from aggregator.sites.links import link_shape

__all__ = [
    "NOT_SECTIONS",
    "article_pattern",
    "menu_sections",
    "page_pattern",
    "relative_path",
]

#: menu entries that are no news section (media, print edition, search, contact...)
NOT_SECTIONS = frozenset(
    {
        "video", "videos", "media", "multimedia", "emagazine", "e-magazine", "podcast",
        "podcasts", "anh", "photo", "photos", "bao-in", "epaper", "tim-kiem", "timkiem",
        "search", "lien-he", "contact", "rss", "admin", "dang-nhap", "login", "tag", "tags",
        "infographic", "infographics", "longform", "english",
    }
)  # fmt: skip
_EXT = re.compile(r"(\.(?:html?|aspx?|php|cms|shtml))$", re.IGNORECASE)
_ALNUM_ID = re.compile(r"^([a-z]*)(\d+)$")
_HEX = re.compile(r"^(?=[0-9a-f]*\d)[0-9a-f]{6,}$")
_PAGE_KEYS = frozenset({"page", "p", "pg", "paged", "trang", "start", "offset"})
#: at most this many distinct values of a segment become an alternation
MAX_ALTERNATIVES = 15


def relative_path(url: str, base_url: str) -> str | None:
    """``url``'s path (and query) after the base URL's path; None when outside it."""
    u, b = urlsplit(url), urlsplit(base_url)
    if (u.hostname or "").removeprefix("www.") != (b.hostname or "").removeprefix("www."):
        return None
    base_path = b.path if b.path.endswith("/") else b.path.rsplit("/", 1)[0] + "/"
    if not u.path.startswith(base_path):
        return None
    rest = u.path[len(base_path) :]
    return rest + ("?" + u.query if u.query else "")


def _shape_key(rel: str) -> str:
    """The link's shape with its named (section) segments generalized: articles of every
    section fall in one class."""
    segments = link_shape("http://h/" + rel)[0].split("/")
    inner = ["<w>" if s and "<" not in s and i < len(segments) - 1 else s
             for i, s in enumerate(segments)]  # fmt: skip
    return "/".join(inner)


def _escape(text: str) -> str:
    return re.escape(text).replace("\\-", "-")


def _is_articleish(rel: str) -> bool:
    if not rel or "?" in rel:
        return False
    first = rel.split("/", 1)[0]
    if first.lower() in NOT_SECTIONS:
        return False
    return link_shape("http://h/" + rel)[1] == "article"


def _last_segment(values: Sequence[str]) -> str:
    """A regex for the last path segment (a headline slug, maybe ending in an id)."""
    exts = {m.group(1).lower() if (m := _EXT.search(v)) else "" for v in values}
    ext = _escape(exts.pop()) if len(exts) == 1 else r"(?:\.\w+)?"
    stems = [_EXT.sub("", v) for v in values]
    lasts = [s.rsplit("-", 1)[-1].lower() for s in stems]
    ids = [_ALNUM_ID.match(t) for t in lasts]
    if all(ids):
        prefixes = {m.group(1) for m in ids if m}
        if len(prefixes) == 1:
            return r"[^/]*-" + _escape(prefixes.pop()) + r"\d+" + ext
    if all(_HEX.match(t) for t in lasts):
        return r"[^/]*-[0-9a-f]{6,}" + ext
    return r"[^/]+" + ext


def _segment(values: Sequence[str]) -> str:
    distinct = sorted(set(values))
    if len(distinct) == 1 and not any(c.isdigit() for c in distinct[0]):
        return _escape(distinct[0])
    if all(v.isdigit() for v in values):
        lengths = {len(v) for v in values}
        dated = all(v.startswith(("19", "20")) for v in values)  # 2026, 202611, 20261124
        if len(lengths) == 1 and dated and (n := lengths.pop()) in (4, 6, 8):
            return rf"\d{{{n}}}"
        return r"\d+"
    if len(distinct) <= MAX_ALTERNATIVES and not any(c.isdigit() for v in distinct for c in v):
        return "(?:" + "|".join(_escape(v) for v in distinct) + ")"
    return r"[^/]+"


def article_pattern(urls: Iterable[str], base_url: str) -> tuple[str, int] | None:
    """The regex of the most common article-like link shape under ``base_url``, and how
    many distinct links have that shape; None when no link looks like an article.

    ``/baden/<slug>-a169920.html`` → ``/baden/[^/]*-a\\d+\\.html$``;
    ``/songcau/y-te/202611/<slug>-371b1e/`` →
    ``/songcau/(?:kinh-te|y-te)/\\d{6}/[^/]*-[0-9a-f]{6,}/$``.
    """
    rels = {r for u in urls if (r := relative_path(u, base_url)) is not None and _is_articleish(r)}
    if not rels:
        return None
    groups: dict[str, list[str]] = {}
    for rel in sorted(rels):
        groups.setdefault(_shape_key(rel), []).append(rel)
    best = max(groups.values(), key=len)
    slash = best[0].endswith("/")
    parts = [r.rstrip("/").split("/") for r in best]
    depth = len(parts[0])
    regex = [_segment([p[i] for p in parts]) for i in range(depth - 1)]
    regex.append(_last_segment([p[-1] for p in parts]))
    base_path = urlsplit(base_url).path or "/"
    base_path = base_path if base_path.endswith("/") else base_path.rsplit("/", 1)[0] + "/"
    return _escape(base_path) + "/".join(regex) + ("/$" if slash else "$"), len(best)


def menu_sections(
    links: Iterable[tuple[str, str, bool]], base_url: str, *, max_words: int = 6
) -> list[tuple[str, str]]:
    """``(relative path, text)`` of the menu's section links, in page order.

    ``links``: ``(url, text, in_menu)`` of a home page's links. A section link is in a
    menu, has a short text, stays under the base URL, is no article and no numbered page,
    and names no media, search or contact page (:data:`NOT_SECTIONS`)."""
    out: dict[str, str] = {}
    for url, text, in_menu in links:
        text = " ".join(text.split())
        rel = relative_path(url, base_url)
        if not in_menu or not text or rel is None or not rel.strip("/") or "?" in rel:
            continue
        if len(text.split()) > max_words or link_shape("http://h/" + rel)[1] is not None:
            continue
        slug = _EXT.sub("", rel.strip("/").split("/")[0]).lower()
        if slug in NOT_SECTIONS or slug.startswith(("tim-kiem", "timkiem", "search")):
            continue
        out.setdefault(rel, text)
    return list(out.items())


def page_pattern(
    pages: Iterable[tuple[str, str]], base_url: str, sections: Sequence[str]
) -> str | None:
    """``links.listing`` from ``(listing URL, link URL)`` pairs: links of a listing page
    to its own numbered pages (``?p=2``, ``/p/2``, ``/trang-2``); None when none was seen.

    The pattern names the sections: ``/baden/(?:kinh-te/|van-hoa/)\\?p=\\d+``."""
    tails: Counter[str] = Counter()
    for listing, link in pages:
        if not link.startswith(listing) or link_shape(link)[1] != "page":
            continue
        tail = link[len(listing) :]
        path, _, query = tail.partition("?")
        keys = [k for k, v in parse_qsl(query) if k.lower() in _PAGE_KEYS and v.isdigit()]
        if keys:
            tails[_escape(path) + r"\?(?:.*&)?" + _escape(keys[0]) + r"=\d+"] += 1
        elif tail:
            tails[re.sub(r"\d+", r"\\d+", _escape(tail))] += 1
    if not tails or not sections:
        return None
    tail = tails.most_common(1)[0][0]
    base_path = urlsplit(base_url).path or "/"
    base_path = base_path if base_path.endswith("/") else base_path.rsplit("/", 1)[0] + "/"
    alternatives = "|".join(_escape(s) for s in sections)
    end = "" if "\\?" in tail else "$"
    return _escape(base_path) + f"(?:{alternatives})" + tail + end
