"""Article extraction in layers: site selectors, structured data, crawler hints, generic.

``extract_article(url, html, site, hints)`` is a pure function of the page: it
needs no Scrapy and no network, so every site definition can be tested from saved
``(url, html)`` pairs.

Every field is a row of the table ``FIELDS``: its strategies, most trusted first,
and how their answers become the field (by default the first strategy that finds
something gives it). Each strategy records its layer in ``Extracted.layers``:

- ``selector``: the site definition's selector;
- ``jsonld``, ``meta`` (OpenGraph / ``article:*`` / ``<meta name>``), ``time``
  (``<time datetime>``): structured data on the page, where the tables ``_JSONLD``
  and ``_META`` say each field is kept;
- ``listing`` / ``feed`` / ``url``: what the crawler saw before fetching the page;
- ``generic``: for titles, the page's ``<h1>``/``<title>``.

The body comes after the fields, without what their selectors matched: the site's
body selector (``selector``), else the element holding the most paragraph text, else
trafilatura's main text (a fallback: ~7x slower), both ``generic``. Two fields fall
back on the body: authors on a byline alone on its last line (``heuristic``), the
image on its first picture (``body``).

A new field needs an attribute of :class:`Extracted`, its row in ``FIELDS`` and, if
structured data carries it, its entries in ``_JSONLD`` and ``_META``; a ``selector``
strategy reads the site definition's selector of the same name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.etree import ParserError, _Element
from parsel import Selector
from parsel.csstranslator import css2xpath

from aggregator.items import Article
from aggregator.normalize.dates import ParsedDate, parse_date
from aggregator.normalize.rules import (
    is_clutter_text,
    looks_like_byline,
    split_authors,
    strip_clutter,
    strip_end_marker,
)
from aggregator.normalize.text import clean_text, strip_xml_invalid
from aggregator.sites.definition import SiteDefinition

__all__ = ["Extracted", "ExtractionError", "Hints", "extract_article", "section_from_url"]

# Removed from every body, whatever the site definition says.
_ALWAYS_REMOVE = (
    "script, style, noscript, form, iframe, object, embed, button, input, select, textarea, "
    "svg, audio, video, nav, template"
)
_FIGURES = "figure, table.image, .image-caption, [class*='caption']"
# compiled once: lxml's el.cssselect() translates the CSS to XPath again on every call
_ALWAYS_REMOVE_SEL = CSSSelector(_ALWAYS_REMOVE)
_FIGURES_SEL = CSSSelector(_FIGURES)
_BLOCK_TAGS = frozenset(
    (
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "pre",
        "table", "tr", "td", "th", "section", "article", "header", "footer", "figure",
        "figcaption", "dl", "dt", "dd", "br", "hr", "center",
    )
)  # fmt: skip
_TEXT_BLOCKS = _BLOCK_TAGS - {"br", "hr"}
_CREDIT = re.compile(r"\s*[(–-]?\s*(?:Ảnh|Nguồn)\s*:\s*(?P<credit>[^()]+?)\s*\)?\s*$")
_PSEUDO = re.compile(r"::(?:text|attr\([^)]*\))\s*$")
_XPATH_TAIL = re.compile(r"/(?:text\(\)|@[\w:-]+)\s*$")
_NEWS_TYPES = {
    "NewsArticle",
    "Article",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "BlogPosting",
}


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


def _html5_shape(html: str) -> str:
    html = _SURROGATE_REF.sub("\ufffd", html)
    return _HTML4_TRAPS.sub(lambda m: f"<{m.group(1)}></embed>" if m.group(1) else "", html)


def _join(base: str, ref: str) -> str | None:
    """urljoin, or None for a URL that cannot be one (an invalid IPv6 host)."""
    try:
        return urljoin(base, ref)
    except ValueError:
        return None


class ExtractionError(ValueError):
    """The page is not an article we can extract (the reason is the message)."""


@dataclass(frozen=True)
class Hints:
    """What the crawler knew of the page before fetching it."""

    section: str | None = None  # the listing's section
    listing_date: str | None = None  # date printed next to the link
    feed_date: str | None = None  # RSS pubDate / Atom published
    feed_section: str | None = None


@dataclass
class Extracted:
    """Raw article fields as found on the page, with the layer of each."""

    url: str
    title: str = ""
    lead: str = ""
    body_lines: list[str] = field(default_factory=list)
    body_html: str = ""
    byline: str = ""
    authors: list[str] = field(default_factory=list)
    section: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    image: str | None = None
    images: list[dict[str, str]] = field(default_factory=list)
    canonical_url: str | None = None
    layers: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def to_article(self, site: SiteDefinition, *, fetched_at: datetime, **http: Any) -> Article:
        """The item the pipelines take, as the spider, re-extraction and ``sites test``
        build it; ``http`` fills the fetch's own fields (etag, last_modified, warc)."""
        return Article(
            url=self.url,
            site=site.id,
            site_name=site.name,
            province=site.province,
            canonical_url=self.canonical_url or "",
            title=self.title,
            lead=self.lead,
            body_text="\n".join(self.body_lines),
            body_html=self.body_html,
            byline=self.byline,
            authors=list(self.authors),
            section=self.section,
            published=self.published,
            updated=self.updated,
            fetched_at=fetched_at,
            image=self.image,
            images=list(self.images),
            layers=dict(self.layers),
            flags=list(self.flags),
            **http,
        )


# -- selector helpers ---------------------------------------------------------------


_EXSLT = {"re": "http://exslt.org/regular-expressions", "set": "http://exslt.org/sets"}


@lru_cache(maxsize=1024)
def _compiled(query: str) -> etree.XPath | None:
    """A site selector compiled once (parsel translates and compiles on every call)."""
    xpath = query[len("xpath:") :] if query.startswith("xpath:") else css2xpath(query)
    try:
        return etree.XPath(xpath, namespaces=_EXSLT, smart_strings=False)
    except etree.XPathError:
        return None


def _select(page: Selector, query: str) -> list[Any]:
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


def _element_query(query: str) -> str:
    """The same selector without a trailing ``::text``/``::attr()``/``text()``/``@x``."""
    if query.startswith("xpath:"):
        return "xpath:" + _XPATH_TAIL.sub("", query[len("xpath:") :])
    return _PSEUDO.sub("", query)


def _strip_site_name(title: str, name: str) -> str:
    """``<title>`` without the newspaper's name before or after a separator."""
    for sep in (" - ", " | ", " – ", " — ", " :: "):
        head, found, tail = title.partition(sep)
        if found and head.strip().casefold() == name.casefold() and tail.strip():
            return tail.strip()
        head, found, tail = title.rpartition(sep)
        if found and tail.strip().casefold() == name.casefold() and head.strip():
            return head.strip()
    return title


def _first_string(results: list[Any]) -> str:
    """The first of the results if it is a string, stripped ("" if none, or an element)."""
    return results[0].strip() if results and isinstance(results[0], str) else ""


def _first(page: Selector, query: str) -> str:
    """The first string the selector finds, stripped ("" if none, or an element)."""
    return _first_string(_select(page, query))


def _text_of(results: list[Any]) -> str:
    """Text of the selected nodes (strings are taken as they are)."""
    parts: list[str] = []
    for root in results:
        if isinstance(root, str):
            parts.append(root)
        elif isinstance(root, _Element):
            parts.append("\n".join(_lines(root)))
    return clean_text(" ".join(parts))


def _lines(root: _Element, skip: AbstractSet[_Element] = frozenset()) -> list[str]:
    """Text of an element, one line per block element; elements in ``skip`` (with their
    subtrees, not their tails) are left out."""
    chunks: list[str] = []

    def walk(el: _Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        block = tag.lower() in _BLOCK_TAGS
        if block:
            chunks.append("\n")
        if el.text and tag:
            chunks.append(el.text)
        for child in el:
            if child not in skip:
                walk(child)
            if child.tail:
                chunks.append(child.tail)
        if block:
            chunks.append("\n")

    walk(root)
    text = "".join(chunks)
    return [line for line in (clean_text(x) for x in text.split("\n")) if line]


# -- structured data ----------------------------------------------------------------


def _jsonld_objects(page: Selector) -> Iterator[dict[str, Any]]:
    for raw in _select(page, 'script[type="application/ld+json"]::text'):
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


class _Found(NamedTuple):
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


def _read_structured(page: Selector) -> dict[str, _Found]:
    """The page's structured data per field: the first non-empty value of JSON-LD, then
    ``<meta>``, then (the publication time only) ``<time datetime>``.

    All of it is read before any field is chosen, whatever the selectors find: a page
    whose structured data breaks a reader fails the same way under every definition."""
    found: dict[str, _Found] = {}

    def offer(name: str, value: str | list[str], layer: str) -> None:
        if value and name not in found:
            found[name] = _Found(value, layer)

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

    offer("published", _first(page, "time::attr(datetime)"), "time")
    return found


# -- body ---------------------------------------------------------------------------


def _drop(el: _Element) -> None:
    """Remove ``el`` but keep its tail text (lxml's drop_tree, without its refusal of
    the control characters that libxml2 let into the tree)."""
    parent = el.getparent()
    if parent is None:
        return
    if tail := strip_xml_invalid(el.tail or ""):
        previous = el.getprevious()
        if previous is not None:
            previous.tail = strip_xml_invalid(previous.tail or "") + tail
        else:
            parent.text = strip_xml_invalid(parent.text or "") + tail
    parent.remove(el)


def _is_inside(el: _Element, ancestor: _Element) -> bool:
    return any(a is ancestor for a in el.iterancestors())


#: a layout table with a photo and no more text than this is a figure (pre-HTML5 sites)
_FIGURE_TABLE_TEXT = 400


def _figure_roots(body: _Element) -> list[_Element]:
    """Outermost figure elements of ``body``, in document order."""
    found = set(_FIGURES_SEL(body))
    found.update(
        table for table in body.iter("table")
        if next(table.iter("img"), None) is not None
        and len("".join(table.itertext()).strip()) <= _FIGURE_TABLE_TEXT
    )  # fmt: skip
    found.discard(body)
    roots = [el for el in found if not any(a in found for a in el.iterancestors())]
    if len(roots) > 1:
        order = {el: i for i, el in enumerate(body.iter())}
        roots.sort(key=order.__getitem__)
    return roots


def _figures(body: _Element, roots: list[_Element], base_url: str) -> list[dict[str, str]]:
    """Images with caption and credit (``roots``: the figures of ``body``)."""
    images: list[dict[str, str]] = []
    for fig in roots:
        src = next(iter(fig.xpath(".//img/@src | self::img/@src")), None)
        captions: list[str] = []
        for line in _lines(fig):
            if line not in captions:  # one site prints every caption twice
                captions.append(line)
        caption = " ".join(captions)
        credit = ""
        if m := _CREDIT.search(caption):
            credit = clean_text(m.group("credit"))
            caption = clean_text(caption[: m.start()])
        if src or caption:
            images.append(
                {"url": (_join(base_url, str(src)) or "") if src else "", "caption": caption,
                 "credit": credit}
            )  # fmt: skip
    # images not inside figures
    for img in body.iter("img"):
        if any(_is_inside(img, r) or img is r for r in roots):
            continue
        if src := img.get("src"):
            images.append({"url": _join(base_url, src) or "", "caption": "", "credit": ""})
    return images


def _is_caption(line: str, captions: set[str]) -> bool:
    """A body line that repeats a figure's caption (some sites print it twice)."""
    if m := _CREDIT.search(line):
        line = clean_text(line[: m.start()])
    return line in captions


def _text_lines(body: _Element, figures: AbstractSet[_Element], captions: set[str]) -> list[str]:
    """Body text lines without figures and captions, clutter removed."""
    lines = strip_clutter(_lines(body, skip=figures))
    return [x for x in lines if not _is_caption(x, captions)] if captions else lines


def _drop_leaf_blocks(
    body: _Element, predicate: Callable[[str], bool], *, last_only: bool = False
) -> None:
    """Remove block elements without block children whose text (clean) matches
    ``predicate``."""
    leaves = [
        el for el in body.iter()
        if isinstance(el.tag, str) and el is not body and el.tag.lower() in _TEXT_BLOCKS
        and not any(isinstance(c.tag, str) and c.tag.lower() in _TEXT_BLOCKS for c in el)
    ]  # fmt: skip
    matching = [el for el in leaves if predicate(clean_text("".join(el.itertext())))]
    for el in matching[-1:] if last_only else matching:
        _drop(el)


def _html_of(el: _Element) -> str:
    inner = [el.text or ""] if el.text else []
    inner.extend(lxml.html.tostring(child, encoding="unicode") for child in el)
    return "".join(inner).strip()


#: paragraphs shorter than this (characters outside links) say nothing of where the text is
_MIN_PARAGRAPH = 40
#: a container needs this much paragraph text to be taken as the article's body
_MIN_BODY = 250
#: containers that hold page furniture, not the article (class or id, as readability does)
_FURNITURE = re.compile(
    r"comment|footer|sidebar|related|tinkhac|tin-?lien-?quan|binh-?luan|menu|banner|widget|share",
    re.IGNORECASE,
)


def _main_node(root: _Element) -> _Element | None:
    """The element whose paragraphs hold the most text outside links (readability's
    idea: each long ``<p>`` scores for its parent, half for its grandparent), or None
    if no element holds ``_MIN_BODY`` characters of it. Table layouts and pages without
    any article markup included; no site knowledge needed."""
    scores: dict[_Element, float] = {}
    for p in root.iter("p"):
        text = len("".join(p.itertext()).strip())
        if text < _MIN_PARAGRAPH:
            continue
        value = text - sum(len("".join(a.itertext())) for a in p.iter("a"))
        if value < _MIN_PARAGRAPH:
            continue
        parent = p.getparent()
        if parent is None:
            continue
        if any(
            _FURNITURE.search(f"{el.get('class', '')} {el.get('id', '')}")
            for el in (parent, *parent.iterancestors())
            if el.get("class") or el.get("id")
        ):
            continue
        scores[parent] = scores.get(parent, 0.0) + value
        grandparent = parent.getparent()
        if grandparent is not None:
            scores[grandparent] = scores.get(grandparent, 0.0) + value / 2
    if not scores:
        return None
    best = max(scores, key=lambda el: scores[el])
    return best if scores[best] >= _MIN_BODY else None


def _generic_body(html: str, url: str) -> tuple[list[str], str]:
    """trafilatura's main text as lines and HTML (imported lazily: it is slow to load)."""
    import trafilatura

    out = trafilatura.extract(
        html,
        url=url,
        output_format="html",
        include_comments=False,
        include_tables=False,
        include_images=False,
        favor_precision=True,
    )
    if not out:
        return [], ""
    try:
        root = lxml.html.fromstring(out)
    except (ParserError, ValueError):
        return [], ""
    body = root.find(".//body")
    node = body if body is not None else root
    return _lines(node), _html_of(node)


def _strip_end_markers(body: _Element) -> None:
    """Remove the "./." that Vietnamese papers print at the end of an article."""
    for node in body.iter():
        if node.text and "./." in node.text:
            node.text = strip_end_marker(strip_xml_invalid(node.text))
        if node is not body and node.tail and "./." in node.tail:
            node.tail = strip_end_marker(strip_xml_invalid(node.tail))


# -- dates and sections -------------------------------------------------------------


def section_from_url(url: str, base_url: str) -> str | None:
    """First path segment of ``url`` below the base URL's path, if any."""
    path = urlsplit(url).path
    base_path = urlsplit(base_url).path
    if path.startswith(base_path):
        path = path[len(base_path) :]
    first = path.strip("/").split("/", 1)[0]
    if not first or "." in first:
        return None
    return first


_URL_MONTH = re.compile(r"/(20\d\d)/?(0[1-9]|1[0-2])(?:/|\d{2}/)")


def _is_stale(candidate: ParsedDate, others: list[ParsedDate], url: str) -> bool:
    """A date that the URL's month or every other source contradicts by over a day."""
    m = _URL_MONTH.search(urlsplit(url).path)
    if m and (candidate.value.year, candidate.value.month) != (int(m[1]), int(m[2])):
        return True
    if not others:
        return False
    return all(abs(candidate.value - o.value) > timedelta(days=1, hours=12) for o in others)


# -- the cascade: strategies per field ----------------------------------------------


class _Page(NamedTuple):
    """One page as every strategy sees it."""

    url: str
    html: str  # as parsed: trafilatura reads it again when no element holds the body
    doc: Selector
    data: dict[str, _Found]  # structured data, per field
    site: SiteDefinition
    hints: Hints
    #: the output's flags, shared: a selector that matches nothing says so in field order
    flags: list[str]
    #: elements the field selectors matched (the lead, the byline...): never body text
    matched: list[_Element]


Strategy = Callable[[_Page], _Found | None]
#: Stores a field from its strategies' answers (asked lazily, in order) into the output.
Settle = Callable[[Extracted, str, Iterator[_Found], _Page], None]


def selector(name: str, read: Callable[[list[Any]], str] = _text_of) -> Strategy:
    """The site definition's selector ``name`` (the text of what it matches, or what
    ``read`` takes from it); one that matches nothing is flagged ``selector_missed``."""

    def find(page: _Page) -> _Found | None:
        query = getattr(page.site.selectors, name)
        if not query:
            return None
        results = _select(page.doc, query)
        page.matched.extend(
            r for r in _select(page.doc, _element_query(query)) if isinstance(r, _Element)
        )
        if text := read(results):
            return _Found(text, "selector")
        page.flags.append(f"selector_missed:{name}")
        return None

    return find


def structured(name: str) -> Strategy:
    """The page's structured data for ``name`` (layer ``jsonld``, ``meta`` or ``time``)."""

    def find(page: _Page) -> _Found | None:
        return page.data.get(name)

    return find


def _hint(attribute: str, layer: str) -> Strategy:
    def find(page: _Page) -> _Found | None:
        value = getattr(page.hints, attribute)
        return _Found(value, layer) if value else None

    return find


def listing(attribute: str) -> Strategy:
    """What the listing showed with the link to the page: a :class:`Hints` attribute."""
    return _hint(attribute, "listing")


def feed(attribute: str) -> Strategy:
    """What the feed said of the page: a :class:`Hints` attribute."""
    return _hint(attribute, "feed")


def url_section(page: _Page) -> _Found | None:
    """The first path segment below the site's base URL."""
    section = section_from_url(page.url, page.site.base_url)
    return _Found(section, "url") if section else None


def generic_title(page: _Page) -> _Found:
    """The page's ``<h1>``, else its ``<title>`` without the paper's name. Answers even
    when both are empty: the title always has a layer (no title is an error later)."""
    title = clean_text(_first(page.doc, "xpath:string(//h1)"))
    title = title or _strip_site_name(clean_text(_first(page.doc, "title::text")), page.site.name)
    return _Found(title, "generic")


def first_found(out: Extracted, name: str, answers: Iterator[_Found], page: _Page) -> None:
    """The first strategy that finds something gives the field and its layer."""
    if (found := next(answers, None)) is not None:
        setattr(out, name, found.value)
        out.layers[name] = found.layer


def first_url(out: Extracted, name: str, answers: Iterator[_Found], page: _Page) -> None:
    """The first URL found, absolute (None, with its layer, if it cannot be one)."""
    if (found := next(answers, None)) is not None:
        setattr(out, name, _join(page.url, found.value))
        out.layers[name] = found.layer


def first_date(out: Extracted, name: str, answers: Iterator[_Found], page: _Page) -> None:
    """The first answer that parses as a date."""
    for found in answers:
        if parsed := parse_date(found.value):
            setattr(out, name, parsed.value)
            out.layers[name] = found.layer
            return


def byline_or_names(out: Extracted, name: str, answers: Iterator[_Found], page: _Page) -> None:
    """The first answer: a byline as printed (kept, and split into names) or, from
    structured data, the names."""
    if (found := next(answers, None)) is None:
        return
    if isinstance(found.value, str):
        out.byline = found.value
        out.authors = split_authors(found.value)
    else:
        out.authors = found.value
    out.layers[name] = found.layer


def checked_date(out: Extracted, name: str, answers: Iterator[_Found], page: _Page) -> None:
    """Every answer that parses, compared: the first one unless the URL's month or every
    later one contradicts it (then the next, flagged ``date_stale:<layer>``); a date
    without a time takes the time of a later same-day answer (else flagged ``date_only``)."""
    parsed = [(p, found.layer) for found in answers if (p := parse_date(found.value))]
    if parsed and _is_stale(parsed[0][0], [p for p, _ in parsed[1:]], page.url):
        # e.g. a page-header date ("Thứ hai, ngày 14 tháng 04 năm 2016") caught by the
        # selector: every other source disagrees with it
        out.flags.append(f"date_stale:{parsed[0][1]}")
        parsed = parsed[1:]
    if not parsed:
        return
    best, layer = parsed[0]
    if not best.has_time:
        same_day = [
            (p, lyr) for p, lyr in parsed[1:]
            if p.has_time and p.value.date() == best.value.date()
        ]  # fmt: skip
        if same_day:
            best, layer = same_day[0]
    setattr(out, name, best.value)
    out.layers[name] = layer
    if not best.has_time:
        out.flags.append("date_only")


class _Field(NamedTuple):
    """A field's strategies, most trusted first, and how their answers become the field."""

    strategies: tuple[Strategy, ...]
    settle: Settle = first_found


#: The fields in the order they are taken (the order of the flags they raise), each with
#: its cascade of strategies. Every field starts with its selector, so that the body
#: leaves out whatever a field selector matched.
# fmt: off
FIELDS: dict[str, _Field] = {
    "title":     _Field((selector("title"), structured("title"), generic_title)),
    "lead":      _Field((selector("lead"), structured("lead"))),
    "published": _Field((selector("published"), structured("published"),
                         feed("feed_date"), listing("listing_date")), checked_date),
    "updated":   _Field((selector("updated"), structured("updated")), first_date),
    "authors":   _Field((selector("authors"), structured("authors")), byline_or_names),
    "section":   _Field((selector("section"), structured("section"),
                         listing("section"), feed("feed_section"), url_section)),
    "image":     _Field((selector("image", read=_first_string), structured("image")), first_url),
}
# fmt: on


def _answers(strategies: Iterable[Strategy], page: _Page) -> Iterator[_Found]:
    """The strategies' answers in order, each strategy asked only when one is wanted."""
    return (found for strategy in strategies if (found := strategy(page)) is not None)


# -- the body, after the fields -----------------------------------------------------


def _body_node(page: _Page, out: Extracted) -> tuple[_Element | None, str]:
    """The element holding the body, and its layer: the site's body selector's, else the
    element with the most paragraph text (None if there is none)."""
    sel = page.site.selectors
    nodes = [n for n in _select(page.doc, sel.body) if isinstance(n, _Element)] if sel.body else []
    if sel.body and not nodes:
        out.flags.append("selector_missed:body")
        if out.layers.get("title") in (None, "generic") and sel.title:
            # neither the site's title nor its body is here: an error or index page
            # ("soft 404"), not a redesign (that keeps at least the structured data)
            raise ExtractionError("not an article: the title and body selectors match nothing")
    if nodes:
        return nodes[0], "selector"
    if isinstance(page.doc.root, _Element):
        return _main_node(page.doc.root), "generic"
    return None, "generic"


def _strip_body(page: _Page, body: _Element) -> None:
    """Remove from the body what is not article text: the site's ``remove`` selectors,
    what the field selectors matched, scripts, forms and the like."""
    for query in page.site.selectors.remove:
        for r in _select(page.doc, _element_query(query)):
            if isinstance(r, _Element) and _is_inside(r, body):
                _drop(r)
    for el in page.matched:
        if _is_inside(el, body):
            _drop(el)
    for el in _ALWAYS_REMOVE_SEL(body):
        _drop(el)


def _body_from_node(page: _Page, out: Extracted, body: _Element, layer: str) -> None:
    """Body text, HTML and images of ``body``, without clutter and what the fields matched."""
    _strip_body(page, body)
    figures = _figure_roots(body)
    out.images = _figures(body, figures, page.url)
    _drop_leaf_blocks(body, is_clutter_text)
    _strip_end_markers(body)
    # captions stay with their figure in the HTML; the text has none of them
    captions = {img["caption"] for img in out.images if img["caption"]}
    lines = _text_lines(body, set(figures), captions)
    # a byline printed alone on the last line of the body
    if not out.authors and lines and looks_like_byline(lines[-1]):
        out.byline = lines[-1]
        _drop_leaf_blocks(body, lambda t: t == out.byline, last_only=True)
        lines = _text_lines(body, set(figures), captions)
        out.authors, out.layers["authors"] = split_authors(out.byline), "heuristic"
    if layer == "generic" and out.lead and lines and lines[0] == out.lead:
        lines = lines[1:]
    out.body_lines = lines
    out.body_html = _html_of(body)
    out.layers["body"] = layer


def _body_from_text(page: _Page, out: Extracted) -> None:
    """Body text and HTML from trafilatura, when no element of the page holds the body."""
    out.body_lines, out.body_html = _generic_body(page.html, page.url)
    out.body_lines = strip_clutter(out.body_lines)
    out.layers["body"] = "generic"
    if out.lead and out.body_lines and clean_text(out.body_lines[0]) == out.lead:
        out.body_lines = out.body_lines[1:]
    if not out.authors and out.body_lines and looks_like_byline(out.body_lines[-1]):
        out.byline = out.body_lines.pop()
        out.authors, out.layers["authors"] = split_authors(out.byline), "heuristic"


# -- public -------------------------------------------------------------------------


def _read_page(url: str, html: str, site: SiteDefinition, hints: Hints, flags: list[str]) -> _Page:
    """The parsed page with its structured data. Raises :class:`ExtractionError` if
    the HTML cannot be parsed."""
    try:
        html = _html5_shape(html)
        doc = Selector(text=html, base_url=url)
    except (ValueError, ParserError) as exc:
        raise ExtractionError(f"unparsable HTML: {exc}") from None
    return _Page(url, html, doc, _read_structured(doc), site, hints, flags, [])


def extract_article(
    url: str, html: str, site: SiteDefinition, hints: Hints | None = None
) -> Extracted:
    """Extract one article page. Raises :class:`ExtractionError` if there is no article."""
    out = Extracted(url=url)
    page = _read_page(url, html, site, hints or Hints(), out.flags)
    for name, (strategies, settle) in FIELDS.items():
        settle(out, name, _answers(strategies, page), page)
    canonical = _first(page.doc, 'link[rel="canonical"]::attr(href)')
    out.canonical_url = _join(url, canonical.strip()) if canonical else None

    body, layer = _body_node(page, out)
    if body is not None:
        _body_from_node(page, out, body, layer)
    else:
        _body_from_text(page, out)
    if not out.image and out.images and out.images[0]["url"]:
        out.image, out.layers["image"] = out.images[0]["url"], "body"
    if not out.title:
        raise ExtractionError("no title")
    if not out.body_lines:
        raise ExtractionError("no body text")
    return out
