"""Links a definition's patterns miss: the shape of a link, and when unmatched links say
that ``links.article`` or ``links.listing`` is wrong.

A wrong pattern loses articles with no error: the crawl reads the listing pages, finds
fewer article links than they have, and stores what it found. The spider counts the
links of listing pages that match neither pattern and the shapes of those that look like
articles or numbered listing pages; the crawl table, ``aggregator status`` and ``sites
test --live`` report them through :func:`unmatched_reason`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "MIN_UNMATCHED",
    "MIN_UNMATCHED_PAGES",
    "SLUG_HYPHENS",
    "UNMATCHED_SHARE",
    "link_shape",
    "unmatched_reason",
]

_EXTENSION = re.compile(r"\.(?:html?|aspx?|php|cms|shtml)$", re.IGNORECASE)
_LONG_ID = re.compile(r"\d{5,}")
_HEX_ID = re.compile(r"(?=[0-9a-f]*\d)[0-9a-f]{6,}")
_DIGITS = re.compile(r"\d+")
#: a segment or query key that numbers the pages of a listing
_PAGE_SEGMENT = re.compile(r"(?:^|/)(?:trang|page|p|pg)(?:[-_]|/)?\d+$", re.IGNORECASE)
_PAGE_KEYS = frozenset({"page", "p", "pg", "paged", "trang", "start", "offset"})
#: hyphens in a headline slug at least ("ha-noi-mo-rong-duong-vanh-dai": 6; a section
#: such as "van-hoa-the-thao-du-lich" has fewer)
SLUG_HYPHENS = 6


def _token_shape(token: str) -> str:
    """``post169123`` -> ``post<n>``, ``9f3e2a1c`` and ``a169123`` -> ``<id>``,
    ``202210`` -> ``<n>``."""
    if _HEX_ID.fullmatch(token.lower()):
        return "<id>" if not token.isdigit() else "<n>"
    return _DIGITS.sub("<n>", token)


def _segment_shape(segment: str) -> str:
    m = _EXTENSION.search(segment)
    stem, ext = (segment[: m.start()], m.group(0).lower()) if m else (segment, "")
    words = stem.split("-")
    if len(words) > SLUG_HYPHENS:  # a headline slug, maybe ending in the article's id
        last = words[-1]
        return (
            "<slug>-" + _token_shape(last) if any(c.isdigit() for c in last) else "<slug>"
        ) + ext
    return "-".join(_token_shape(w) for w in words) + ext


def link_shape(url: str) -> tuple[str, str | None]:
    """The shape of a link (``/kinh-te/<n>/<slug>-<id>/``, ``/thoi-su/trang-<n>.html``:
    path and query keys, numbers, ids and headline slugs replaced) and what it looks
    like: ``"article"`` (a headline slug, or a long number or hex id in its last
    segment), ``"page"`` (a numbered page of a listing: ``trang-2``, ``/page/3``,
    ``?page=4``) or None (a section, a tag, the contact page...).

    For telling an operator which links of a listing page a definition's patterns miss:
    many links of one shape that looks like an article mean a wrong article pattern."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    shape = "/".join(_segment_shape(s) for s in segments)
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    if keys:
        shape += "?" + "&".join(f"{k}=<v>" for k in keys)
    named = [_EXTENSION.sub("", s) for s in segments if s]
    last = named[-1] if named else ""
    if _PAGE_KEYS.intersection(k.lower() for k in keys) or _PAGE_SEGMENT.search(
        "/".join(named[-2:])
    ):
        return shape, "page"
    if last.count("-") >= SLUG_HYPHENS or (
        len(named) > 1 and (_LONG_ID.search(last) or _HEX_ID.search(last.lower()))
    ):
        return shape, "article"
    return shape, None


#: Unmatched links that look like articles a crawl may leave before it is reported, and
#: their share of the listings' article links: fewer are a related-sites box, an old URL.
MIN_UNMATCHED = 3
UNMATCHED_SHARE = 0.2
#: Unmatched numbered listing pages a crawl reports (one may be the pagination of a tag or
#: search page boxed on a listing; a wrong listing pattern misses one per section)
MIN_UNMATCHED_PAGES = 2


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def unmatched_reason(
    summary: Mapping[str, Any], *, min_pages: int = MIN_UNMATCHED_PAGES
) -> str | None:
    """Why the listings' links say a pattern is wrong, or None.

    ``summary``: a crawl summary (``crawl_summary``) or its like, with ``links_article``
    (distinct article links), ``unmatched_detail`` (``{"article": n, "page": n}``:
    distinct links matching no pattern that look like articles, like numbered listing
    pages) and ``unmatched_shapes`` (``{"article <shape>": n}``, most frequent first).
    Reported: at least :data:`MIN_UNMATCHED` article-like links and
    :data:`UNMATCHED_SHARE` of all the article-like links, or
    ``min_pages`` (:data:`MIN_UNMATCHED_PAGES`) numbered listing pages never followed
    (``sites test --live`` reads one listing page: one is enough there)."""
    detail = summary.get("unmatched_detail") or {}
    articles, pages = _count(detail.get("article")), _count(detail.get("page"))
    matched = _count(summary.get("links_article"))
    lost_articles = articles >= MIN_UNMATCHED and articles >= UNMATCHED_SHARE * (matched + articles)
    lost_pages = pages >= min_pages
    if not (lost_articles or lost_pages):
        return None
    what = [f"{articles} article-like links"] if lost_articles else []
    what += [f"{pages} links to listing pages"] if lost_pages else []
    shapes = summary.get("unmatched_shapes") or {}
    top = ", ".join(f"{shape} ({_count(n)})" for shape, n in list(shapes.items())[:3])
    stored = ""
    if "inserted" in summary:  # a crawl's summary
        n = sum(_count(summary.get(k)) for k in ("inserted", "updated", "unchanged"))
        stored = f"stored {n} articles, "
    return (
        f"links: {' and '.join(what)} match no pattern ({stored}{matched} article links "
        f"matched); check links.article and links.listing against {top}"
    )
