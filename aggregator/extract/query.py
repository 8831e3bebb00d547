"""Reading a parsed page: site selectors (CSS or XPath, compiled once), their text, and the
page's HTML made parseable.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from functools import lru_cache
from typing import Any

from lxml import etree
from lxml.etree import _Element
from parsel import Selector
from parsel.csstranslator import css2xpath

from aggregator.normalize.text import clean_lines, clean_text
from aggregator.normalize.urls import join_url

__all__ = [
    "BLOCK_TAGS",
    "attributes_of",
    "element_query",
    "first_attribute",
    "first_string",
    "first_text",
    "html5_shape",
    "join_url",
    "lines_of",
    "parse_html",
    "select_all",
    "select_inside",
    "string_of",
    "text_of",
]


BLOCK_TAGS = frozenset(
    (
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "pre",
        "table", "tr", "td", "th", "section", "article", "header", "footer", "figure",
        "figcaption", "dl", "dt", "dd", "br", "hr", "center",
    )
)  # fmt: skip


_PSEUDO = re.compile(r"::(?:text|attr\([^)]*\))\s*$")


_XPATH_TAIL = re.compile(r"/(?:text\(\)|@[\w:-]+)\s*$")


#: libxml2 parses HTML 4, browsers HTML 5: it ends <body> at a stray </body> or </html>
#: (browsers ignore them) and lets <embed>, void in HTML 5, swallow what follows it.
#: (Spelled without re.IGNORECASE so that the search can skip ahead to each "<": 8x faster.)
_HTML4_TRAPS = re.compile(
    r"<(?:/(?:[bB][oO][dD][yY]|[hH][tT][mM][lL])\s*>|([eE][mM][bB][eE][dD]\b[^>]*?)/?>)"
)


#: References to surrogates (U+D800-U+DFFF): libxml2 keeps them as bytes that are not UTF-8.
_SURROGATE_REF = re.compile(
    r"&#(?:[xX]0*[dD][89a-fA-F][0-9a-fA-F]{2}|0*(?:5529[6-9]|55[3-9]\d\d|56\d{3}|57[0-2]\d\d"
    r"|573[0-3]\d|5734[0-3]));"
)


def html5_shape(html: str) -> str:
    html = _SURROGATE_REF.sub("\ufffd", html)
    return _HTML4_TRAPS.sub(lambda m: f"<{m.group(1)}></embed>" if m.group(1) else "", html)


def parse_html(html: str, base_url: str) -> _Element:
    """The tree of ``parsel.selector.create_root_node(html, HTMLParser, base_url=...)``
    (lxml.etree's parser: no Python class lookup per element, unlike lxml.html's): the
    text stripped, as UTF-8 without NULs (removed from the bytes: one memchr instead of a
    scan of the 2-byte string), parsed with recovery; an empty page as ``<html/>``."""
    body = html.strip().encode("utf-8").replace(b"\x00", b"") or b"<html/>"
    parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    root = etree.fromstring(body, parser=parser, base_url=base_url)
    if root is None:
        root = etree.fromstring(b"<html/>", parser=parser, base_url=base_url)
    return root


_EXSLT = {"re": "http://exslt.org/regular-expressions", "set": "http://exslt.org/sets"}


#: a compound of a CSS selector: tag, classes, ``[attr='value']``; then its combinator
_STEP = re.compile(
    r"\s*(?=[\w.])([a-z][a-z0-9]*)?((?:\.-?[A-Za-z_][\w-]*)*)"
    r"(?:\[([a-z_][a-z0-9_-]*)='([^'\\]*)'\])?\s*(>?)\s*"
)


#: elements a page holds a few of (not links, cells, list items by the hundred): a
#: selector ending in one of them is cheaper to test from below
_FEW = frozenset(
    ("h1", "h2", "h3", "h4", "h5", "h6", "p", "div", "article", "section", "header", "time")
)


def _upward(query: str) -> str | None:
    """The XPath of a CSS selector of compounds joined by descendant or child combinators
    (``div.a h1.b``, ``td.x > p``) ending in one of the ``_FEW``, written from its last
    compound up: that compound's elements, each tested for its ancestors, instead of a walk
    below every element that matches the first compound (from the page's root element the
    same elements, up to 3x faster). None for any other selector."""
    steps: list[tuple[str, str]] = []  # (the compound as an XPath step, combinator after)
    at = 0
    while at < len(query):
        m = _STEP.match(query, at)
        if m is None or m.end() == at:
            return None
        tag, classes, attr, value, child = m.groups()
        preds = [
            f"[contains(@class, '{c}') and "
            f"contains(concat(' ', normalize-space(@class), ' '), ' {c} ')]"
            for c in classes.split(".")[1:]
        ]
        if attr:
            preds.append(f"[@{attr} = '{value}']")
        steps.append((f"{tag or '*'}{''.join(preds)}", child))
        at = m.end()
    if len(steps) < 2 or steps[-1][1] or tag not in _FEW:
        return None
    xpath = steps[0][0]
    for (step, _), (_, child) in zip(steps[1:], steps[:-1], strict=True):
        xpath = f"{step}[{'parent' if child else 'ancestor'}::{xpath}]"
    return f"descendant-or-self::{xpath}"


#: a class test as cssselect writes it: its ``@class and`` only tests again what
#: ``contains(@class, 'x')`` does (no attribute: ``contains('', 'x')`` is false), and costs
#: libxml2 a node-set per element tested
_CLASS_GUARD = re.compile(
    r"@class and (contains\(@class, '[^'\s]+'\) and "
    r"contains\(concat\(' ', normalize-space\(@class\), ' '\), ' [^'\s]+ '\))"
)


@lru_cache(maxsize=1024)
def _compiled(query: str) -> etree.XPath | None:
    """A site selector compiled once (parsel translates and compiles on every call);
    EXSLT's prefixes and regular expressions registered only for a selector that may call
    them (the registration costs ~1 µs a call)."""
    if query.startswith("xpath:"):
        xpath = query[len("xpath:") :]
    else:
        xpath = _CLASS_GUARD.sub(r"\1", _upward(query) or css2xpath(query))
    try:
        return etree.XPath(
            xpath,
            namespaces=_EXSLT if "re:" in xpath or "set:" in xpath else None,
            regexp="re:" in xpath,
            smart_strings=False,
        )
    except etree.XPathError:
        return None


def select_all(page: Selector, query: str) -> list[Any]:
    """Elements and strings the selector (CSS, or XPath after ``xpath:``) finds."""
    compiled = _compiled(query)
    if compiled is not None:
        try:
            found = compiled(page.root)
        except etree.XPathError:  # a function of parsel's own (has-class)
            pass
        else:
            return found if isinstance(found, list) else [str(found)]
    results = page.xpath(query[len("xpath:") :]) if query.startswith("xpath:") else page.css(query)
    return [r.root for r in results]


_COMPOUND = (
    r"\s*(?=[\w.])(?:[a-z][a-z0-9]*)?(?:\.-?[A-Za-z_][\w-]*)*"
    r"(?:\[[a-z_][a-z0-9_-]*='[^'\\]*'\])?\s*"
)
#: a CSS selector of one compound (tag, classes, ``[attr='value']``), or a child of one:
#: whether an element strictly inside another matches depends on that subtree alone
_LOCAL = re.compile(f"{_COMPOUND}(?:>{_COMPOUND})?")


@lru_cache(maxsize=1024)
def _compiled_local(query: str) -> etree.XPath | None:
    """The compiled selector if it is :data:`_LOCAL` (the answer kept: a site's selectors
    come back on every page)."""
    return _compiled(query) if _LOCAL.fullmatch(query) else None


def select_inside(el: _Element, query: str) -> list[Any] | None:
    """What :func:`select_all` finds strictly inside ``el`` (and maybe ``el`` itself),
    found from ``el``, not the whole page, when the selector is one compound or a child of
    one (``td.x > p``); else None."""
    if (compiled := _compiled_local(query)) is None:
        return None
    found = compiled(el)
    return found if isinstance(found, list) else None


def string_of(el: _Element) -> str:
    """The element's text, its descendants' included (XPath ``string()``: the text nodes,
    no comment; libxml2's text serializer gives the same, ~2x faster than the XPath)."""
    return etree.tostring(el, method="text", encoding="unicode", with_tail=False)


@lru_cache(maxsize=1024)
def element_query(query: str) -> str:
    """The same selector without a trailing ``::text``/``::attr()``/``text()``/``@x``."""
    if query.startswith("xpath:"):
        return "xpath:" + _XPATH_TAIL.sub("", query[len("xpath:") :])
    return _PSEUDO.sub("", query)


_READS_ATTRIBUTE = re.compile(r"[^,]*::attr\(([A-Za-z_][\w-]*)\)\s*")


@lru_cache(maxsize=1024)
def _attribute_read(query: str) -> str | None:
    """The attribute a CSS selector ending in ``::attr(name)`` reads, else None."""
    if query.startswith("xpath:") or not (m := _READS_ATTRIBUTE.fullmatch(query)):
        return None
    return m.group(1)


def attributes_of(elements: list[Any], query: str) -> list[str] | None:
    """What a CSS selector ending in ``::attr(name)`` finds, read from the elements its
    :func:`element_query` found (in order: each one's attribute, if it has it); None for
    another selector."""
    if (name := _attribute_read(query)) is None:
        return None
    return [v for el in elements if isinstance(el, _Element) and (v := el.get(name)) is not None]


def first_string(results: list[Any]) -> str:
    """The first of the results if it is a string, stripped ("" if none, or an element)."""
    return results[0].strip() if results and isinstance(results[0], str) else ""


def first_attribute(root: Any, tag: str, attribute: str, **where: str) -> str:
    """``tag[where...]::attr(attribute)`` of the first such element, stripped ("" if none),
    for the selectors extraction always asks (lxml finds the tag without an XPath)."""
    if not isinstance(root, _Element):
        return ""
    for el in root.iter(tag):
        if (
            all(el.get(k) == v for k, v in where.items())
            and (value := el.get(attribute)) is not None
        ):
            return value.strip()
    return ""


def first_text(page: Selector, query: str) -> str:
    """The first string the selector finds, stripped ("" if none, or an element)."""
    return first_string(select_all(page, query))


def text_of(results: list[Any]) -> str:
    """Text of the selected nodes (strings are taken as they are)."""
    parts: list[str] = []
    for root in results:
        if isinstance(root, str):
            parts.append(root)
        elif isinstance(root, _Element):
            parts.append("\n".join(lines_of(root)))
    return clean_text(" ".join(parts))


def lines_of(root: _Element, skip: AbstractSet[_Element] = frozenset()) -> list[str]:
    """Text of an element, one line per block element; elements in ``skip`` (with their
    subtrees, not their tails) are left out."""
    chunks: list[str] = []

    # each of lxml's .tag, .text and .tail makes a new string: read once
    def walk(el: _Element) -> None:
        tag = el.tag
        if not isinstance(tag, str):
            tag = ""
        block = tag.lower() in BLOCK_TAGS
        if block:
            chunks.append("\n")
        if tag and (text := el.text):
            chunks.append(text)
        for child in el:
            if child not in skip:
                walk(child)
            if tail := child.tail:
                chunks.append(tail)
        if block:
            chunks.append("\n")

    walk(root)
    return clean_lines("".join(chunks))
