"""Structured data on a page: JSON-LD objects of news types and ``<meta>`` tags, and where each
field is kept in them (the tables ``JSONLD`` and ``META``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from lxml.etree import _Element
from parsel import Selector

from aggregator.extract.query import first_text, select_all
from aggregator.normalize.text import clean_text

__all__ = ["Found", "read_structured"]


_NEWS_TYPES = {
    "NewsArticle",
    "Article",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "BlogPosting",
}


def _jsonld_objects(page: Selector) -> Iterator[dict[str, Any]]:
    for raw in select_all(page, 'script[type="application/ld+json"]::text'):
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        stack: list[Any] = [data]
        while stack:
            obj = stack.pop()
            if isinstance(obj, list):
                stack.extend(obj)
            elif isinstance(obj, dict):
                if "@graph" in obj:
                    stack.append(obj["@graph"])
                types = obj.get("@type")
                types = set(types) if isinstance(types, list) else {types}
                if types & _NEWS_TYPES:
                    yield obj


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, str) and value.strip():
        return [clean_text(value)]
    return []


def _url_of(value: Any) -> str | None:
    if isinstance(value, list):
        return next((u for v in value if (u := _url_of(v))), None)
    if isinstance(value, dict):
        return _url_of(value.get("url") or value.get("contentUrl"))
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


class Found(NamedTuple):
    """A value a strategy found on the page or in the crawler's hints, and its layer."""

    value: Any  # text as found; a list of names for authors from structured data
    layer: str


def _jsonld_text(value: Any) -> str:
    return clean_text(str(value or ""))


def _jsonld_raw(value: Any) -> str:
    return str(value or "")


def _jsonld_section(value: Any) -> str:
    """``articleSection``: a name, or a list whose first item is the section."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return clean_text(str(value or ""))


def _jsonld_url(value: Any) -> str:
    return _url_of(value) or ""


def _verbatim(value: str) -> str:
    return value


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
    "title": (("og:title",), clean_text),
    "lead": (("og:description", "description"), clean_text),
    "published": (("article:published_time", "pubdate", "publishdate"), _verbatim),
    "updated": (("article:modified_time", "og:updated_time"), _verbatim),
    "authors": (("article:author", "author"), _names),
    "section": (("article:section",), clean_text),
    "image": (("og:image", "twitter:image"), _verbatim),
}


def read_structured(page: Selector) -> dict[str, Found]:
    """The page's structured data per field: the first non-empty value of JSON-LD, then
    ``<meta>``, then (the publication time only) ``<time datetime>``.

    All of it is read before any field is chosen, whatever the selectors find: a page
    whose structured data breaks a reader fails the same way under every definition."""
    found: dict[str, Found] = {}

    def offer(name: str, value: str | list[str], layer: str) -> None:
        if value and name not in found:
            found[name] = Found(value, layer)

    for obj in _jsonld_objects(page):
        for name, (key, read) in _JSONLD.items():
            offer(name, read(obj.get(key)), "jsonld")

    metas: dict[str, str] = {}  # one pass over <meta>: the first non-empty value of each
    for el in page.root.iter("meta") if isinstance(page.root, _Element) else ():
        content = (el.get("content") or "").strip()
        for key in (el.get("property"), el.get("name")):
            if key and content and key not in metas:
                metas[key] = content
    for name, (keys, read) in _META.items():
        offer(name, read(next((metas[k] for k in keys if k in metas), "")), "meta")

    offer("published", first_text(page, "time::attr(datetime)"), "time")
    return found
