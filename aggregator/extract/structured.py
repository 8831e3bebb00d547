"""Structured data on a page: JSON-LD objects of news types and ``<meta>`` tags, and where each
field is kept in them (the tables ``JSONLD`` and ``META``).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, NamedTuple

from lxml.etree import Element, XPath, _Element
from parsel import Selector

from aggregator.extract.query import first_attribute, select_all
from aggregator.normalize.rules import is_site_name, looks_like_byline, split_authors
from aggregator.normalize.text import clean_text

__all__ = ["Found", "is_publisher", "marked_authors", "read_structured", "structured_data"]


_NEWS_TYPES = {
    "NewsArticle",
    "Article",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "BlogPosting",
}


#: how deep the walk looks into JSON-LD for news objects (``@graph`` in a list in a ... ):
#: real pages nest a few levels; a hostile page nests thousands
_MAX_DEPTH = 8
_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{1,31});")


def _unescaped(text: str) -> str:
    """Text with the character references structured data should not hold: JSON-LD is
    not HTML, yet pages write ``&#237;`` in it, and escape ``&amp;#7871;`` twice in
    ``<meta content>``. Two rounds at most."""
    for _ in range(2):
        if "&" not in text or not _ENTITY.search(text):
            break
        text = html.unescape(text)
    return text


def _loads(raw: str) -> Any:
    """A JSON-LD block, or None when it is not JSON (or nests deeper than the parser's
    recursion limit: extraction raises nothing but ExtractionError)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


_TEXT_NODES = XPath("text()", regexp=False, smart_strings=False)


def _jsonld_texts(page: Selector) -> list[str]:
    """``script[type="application/ld+json"]::text``, the scripts picked by lxml (a query
    over the whole page costs libxml2's XPath more than the walk)."""
    root = page.root
    if not isinstance(root, _Element):
        return select_all(page, 'script[type="application/ld+json"]::text')
    return [
        text
        for el in root.iter("script")
        if el.get("type") == "application/ld+json"
        for text in _TEXT_NODES(el)
    ]


def _jsonld_objects(page: Selector) -> Iterator[dict[str, Any]]:
    for raw in _jsonld_texts(page):
        stack: list[tuple[Any, int]] = [(_loads(raw), 0)]
        while stack:
            obj, depth = stack.pop()
            if depth > _MAX_DEPTH:
                continue
            if isinstance(obj, list):
                stack.extend((item, depth + 1) for item in reversed(obj))
            elif isinstance(obj, dict):
                if "@graph" in obj:
                    stack.append((obj["@graph"], depth + 1))
                if _types(obj) & _NEWS_TYPES:
                    yield obj


def _types(obj: dict[str, Any]) -> set[Any]:
    types = obj.get("@type")
    return set(types) if isinstance(types, list) else {types}


def _names(value: Any, depth: int = 0) -> list[str]:
    """Names: strings, or the ``name`` of objects (people, or a wire agency credited as an
    organization), each read as a byline ("Theo Hồ Hương" is Hồ Hương)."""
    if depth > _MAX_DEPTH:
        return []
    if isinstance(value, list):
        return [n for v in value for n in _names(v, depth + 1)]
    if isinstance(value, dict):
        return _names(value.get("name"), depth + 1)
    if isinstance(value, str) and value.strip():
        return split_authors(_unescaped(value))
    return []


def _org_names(value: Any, depth: int = 0) -> list[str]:
    """Every ``name`` in a ``publisher`` (organizations and people alike)."""
    if depth > _MAX_DEPTH:
        return []
    if isinstance(value, list):
        return [n for v in value for n in _org_names(v, depth + 1)]
    if isinstance(value, dict):
        return _org_names(value.get("name"), depth + 1)
    if isinstance(value, str) and value.strip():
        return [clean_text(_unescaped(value))]
    return []


def _url_of(value: Any, depth: int = 0) -> str | None:
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, list):
        return next((u for v in value if (u := _url_of(v, depth + 1))), None)
    if isinstance(value, dict):
        return _url_of(value.get("url") or value.get("contentUrl"), depth + 1)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


#: :func:`is_site_name` remembered (it folds every name it compares, ~15 µs a name): a
#: site's names come back on each of its pages, and so do its reporters'
is_publisher = lru_cache(maxsize=4096)(is_site_name)


class Found(NamedTuple):
    """A value a strategy found on the page or in the crawler's hints, and its layer."""

    value: Any  # text as found; a list of names for authors from structured data
    layer: str


def _jsonld_text(value: Any) -> str:
    return clean_text(_unescaped(str(value or "")))


def _jsonld_raw(value: Any) -> str:
    return str(value or "")


def _jsonld_section(value: Any) -> str:
    """``articleSection``: a name, or a list whose first item is the section."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return clean_text(_unescaped(str(value or "")))


def _jsonld_url(value: Any) -> str:
    return _url_of(value) or ""


def _verbatim(value: str) -> str:
    return value


def _meta_text(value: str) -> str:
    return clean_text(_unescaped(value))


def _meta_names(value: str) -> list[str]:
    if "://" in value:  # article:author as a profile's address
        return []
    return split_authors(_unescaped(value))


#: Where JSON-LD keeps each field (the property of a news object) and how it is read;
#: the first news object on the page with a non-empty value gives it.
_JSONLD: dict[str, tuple[str, Callable[[Any], str | list[str]]]] = {
    "title": ("headline", _jsonld_text),
    "lead": ("description", _jsonld_text),
    "published": ("datePublished", _jsonld_raw),
    "updated": ("dateModified", _jsonld_raw),
    "authors": ("author", _names),
    "section": ("articleSection", _jsonld_section),
    "image": ("image", _jsonld_url),
}


#: Where ``<meta>`` keeps each field (``property`` or ``name``, the first present in this
#: order) and how it is read; taken when JSON-LD has nothing.
_META: dict[str, tuple[tuple[str, ...], Callable[[str], str | list[str]]]] = {
    "title": (("og:title",), _meta_text),
    "lead": (("og:description", "description"), _meta_text),
    "published": (("article:published_time", "pubdate", "publishdate"), _verbatim),
    "updated": (("article:modified_time", "og:updated_time"), _verbatim),
    "authors": (("article:author", "author"), _meta_names),
    "section": (("article:section",), _meta_text),
    "image": (("og:image", "twitter:image"), _verbatim),
}


#: Elements a page marks as its byline: microdata, ``rel``, a ``data-role``, the usual
#: class names (whole words of the class); not in a comment thread.
_MARKED_CLASSES = frozenset(("author", "author-name", "article-author", "byline"))
_MARKED_TRIES = 5
#: the class attribute's word separators (XPath's normalize-space: XML whitespace only)
_CLASS_SPACE = re.compile("[ \t\n\r]+")


def _is_marked(el: _Element) -> bool:
    get = el.get
    if get("itemprop") == "author" or get("rel") == "author" or get("data-role") == "author":
        return True
    cls = get("class")
    return (
        bool(cls)
        and ("author" in cls or "byline" in cls)
        and not (_MARKED_CLASSES.isdisjoint(_CLASS_SPACE.split(cls)))
    )


def _in_comments(el: _Element) -> bool:
    return any("comment" in (a.get("class") or "") for a in (el, *el.iterancestors()))


def _marked(root: _Element) -> list[_Element]:
    """The first elements marked as the byline, in document order (one walk in Python:
    an XPath testing each element's class words costs 3-4x more)."""
    found: list[_Element] = []
    for el in root.iter(Element):
        if _is_marked(el) and not _in_comments(el):
            found.append(el)
            if len(found) == _MARKED_TRIES:
                break
    return found


def _marked_author(root: _Element, publishers: list[str]) -> list[str]:
    """The names of the first element marked as the byline that reads as one."""
    for el in _marked(root):
        text = clean_text(el.get("content") or " ".join(el.itertext()))
        if text and looks_like_byline(text):
            names = [n for n in split_authors(text) if not is_publisher(n, *publishers)]
            if names:
                return names
    return []


#: ``<meta>`` naming the publication (an author of that name is the paper, not a person)
_PUBLISHER_META = ("og:site_name", "application-name", "publisher", "copyright")


def read_structured(page: Selector) -> dict[str, Found]:
    """The page's structured data per field (:func:`structured_data`), and (authors only,
    when it has none) the element marked as the byline (:func:`marked_authors`)."""
    found, publishers = structured_data(page)
    root = page.root
    if (
        "authors" not in found
        and isinstance(root, _Element)
        and (markup := marked_authors(root, publishers))
    ):
        found["authors"] = markup
    return found


def marked_authors(root: _Element, publishers: list[str]) -> Found | None:
    """The names of the first element marked as the byline (``itemprop``/``rel``/
    ``data-role`` ``author``, class ``author`` or ``byline``) that reads as one, without
    the ``publishers`` (layer ``markup``)."""
    names = _marked_author(root, publishers)
    return Found(names, "markup") if names else None


def structured_data(page: Selector) -> tuple[dict[str, Found], list[str]]:
    """The page's structured data per field: the first non-empty value of JSON-LD, then
    ``<meta>``, then (the publication time only) ``<time datetime>``; and the names the
    page gives its publisher. An author is not a web address nor the publisher's name.

    All of it is read before any field is chosen, whatever the selectors find: a page
    whose structured data breaks a reader fails the same way under every definition."""
    found: dict[str, Found] = {}
    objects = list(_jsonld_objects(page))
    metas: dict[str, str] = {}  # one pass over <meta>: the first non-empty value of each
    for el in page.root.iter("meta") if isinstance(page.root, _Element) else ():
        content = (el.get("content") or "").strip()
        for key in (el.get("property"), el.get("name")):
            if key and content and key not in metas:
                metas[key] = content
    publishers = [n for obj in objects for n in _org_names(obj.get("publisher"))]
    publishers += [_meta_text(metas[k]) for k in _PUBLISHER_META if k in metas]

    def offer(name: str, value: str | list[str], layer: str) -> None:
        if name == "authors" and isinstance(value, list):
            value = [n for n in value if not is_publisher(n, *publishers)]
        if value and name not in found:
            found[name] = Found(value, layer)

    # a field found is not read again further on (the readers raise nothing: skipping
    # them changes nothing but the time)
    for obj in objects:
        for name, (key, read) in _JSONLD.items():
            if name not in found:
                offer(name, read(obj.get(key)), "jsonld")
    for name, (keys, read) in _META.items():
        if name not in found:
            offer(name, read(next((metas[k] for k in keys if k in metas), "")), "meta")
    if "published" not in found:
        offer("published", first_attribute(page.root, "time", "datetime"), "time")
    return found, publishers
