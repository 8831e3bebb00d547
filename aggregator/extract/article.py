"""Article extraction in layers: site selectors, structured data, generic extractor.

``extract_article(url, html, site, hints)`` is a pure function of the page: it
needs no Scrapy and no network, so every site definition can be tested from saved
``(url, html)`` pairs. Each field records the layer that produced it:

- ``selector``: the site definition's selector;
- ``jsonld``, ``meta`` (OpenGraph / ``article:*`` / ``<meta name>``), ``time``
  (``<time datetime>``): structured data on the page;
- ``listing`` / ``feed`` / ``url``: what the crawler saw before fetching the page;
- ``generic``: trafilatura's main-text extraction (a fallback: ~7x slower) or, for
  titles, the page's ``<h1>``/``<title>``; ``heuristic`` for a byline taken from the
  body's last line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
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


def _first(page: Selector, query: str) -> str:
    """The first string the selector finds, stripped ("" if none, or an element)."""
    found = _select(page, query)
    return found[0].strip() if found and isinstance(found[0], str) else ""


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


@dataclass
class _Structured:
    title: str = ""
    lead: str = ""
    published: str = ""
    updated: str = ""
    authors: list[str] = field(default_factory=list)
    section: str = ""
    image: str = ""
    layers: dict[str, str] = field(default_factory=dict)

    def offer(self, name: str, value: Any, layer: str) -> None:
        if value and not getattr(self, name):
            setattr(self, name, value)
            self.layers[name] = layer


def _structured(page: Selector) -> _Structured:
    s = _Structured()
    for obj in _jsonld_objects(page):
        s.offer("title", clean_text(str(obj.get("headline") or "")), "jsonld")
        s.offer("lead", clean_text(str(obj.get("description") or "")), "jsonld")
        s.offer("published", str(obj.get("datePublished") or ""), "jsonld")
        s.offer("updated", str(obj.get("dateModified") or ""), "jsonld")
        s.offer("authors", _names(obj.get("author")), "jsonld")
        section = obj.get("articleSection")
        if isinstance(section, list):
            section = section[0] if section else ""
        s.offer("section", clean_text(str(section or "")), "jsonld")
        s.offer("image", _url_of(obj.get("image")) or "", "jsonld")

    metas: dict[str, str] = {}  # one pass over <meta>: the first non-empty value of each
    for el in page.root.iter("meta") if isinstance(page.root, _Element) else ():
        content = (el.get("content") or "").strip()
        for key in (el.get("property"), el.get("name")):
            if key and content and key not in metas:
                metas[key] = content

    def meta(*names: str) -> str:
        return next((metas[n] for n in names if n in metas), "")

    s.offer("title", clean_text(meta("og:title")), "meta")
    s.offer("lead", clean_text(meta("og:description", "description")), "meta")
    s.offer("published", meta("article:published_time", "pubdate", "publishdate"), "meta")
    s.offer("updated", meta("article:modified_time", "og:updated_time"), "meta")
    s.offer("authors", _names(meta("article:author", "author")), "meta")
    s.offer("section", clean_text(meta("article:section")), "meta")
    s.offer("image", meta("og:image", "twitter:image"), "meta")
    s.offer("published", _first(page, "time::attr(datetime)"), "time")
    return s


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


# -- public -------------------------------------------------------------------------


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


def _first_date(candidates: Iterable[tuple[str, str | None]]) -> tuple[ParsedDate, str] | None:
    for layer, raw in candidates:
        if raw and (parsed := parse_date(raw)):
            return parsed, layer
    return None


def extract_article(
    url: str, html: str, site: SiteDefinition, hints: Hints | None = None
) -> Extracted:
    """Extract one article page. Raises :class:`ExtractionError` if there is no article."""
    hints = hints or Hints()
    try:
        html = _html5_shape(html)
        page = Selector(text=html, base_url=url)
    except (ValueError, ParserError) as exc:
        raise ExtractionError(f"unparsable HTML: {exc}") from None
    sel = site.selectors
    out = Extracted(url=url)
    structured = _structured(page)
    found_elements: list[_Element] = []

    def by_selector(name: str) -> str:
        query = getattr(sel, name)
        if not query:
            return ""
        results = _select(page, query)
        found_elements.extend(
            r for r in _select(page, _element_query(query)) if isinstance(r, _Element)
        )
        text = _text_of(results) if name != "image" else _first(page, query)
        if not text:
            out.flags.append(f"selector_missed:{name}")
        return text

    # title
    if title := by_selector("title"):
        out.title, out.layers["title"] = title, "selector"
    elif structured.title:
        out.title, out.layers["title"] = structured.title, structured.layers["title"]
    else:
        generic = clean_text(_first(page, "xpath:string(//h1)"))
        generic = generic or _strip_site_name(clean_text(_first(page, "title::text")), site.name)
        out.title, out.layers["title"] = generic, "generic"

    # lead
    if lead := by_selector("lead"):
        out.lead, out.layers["lead"] = lead, "selector"
    elif structured.lead:
        out.lead, out.layers["lead"] = structured.lead, structured.layers["lead"]

    # dates: a date-only value is completed by a same-day datetime from another layer
    candidates = [
        ("selector", by_selector("published")),
        (structured.layers.get("published", "meta"), structured.published),
        ("feed", hints.feed_date),
        ("listing", hints.listing_date),
    ]
    parsed = [(p, layer) for layer, raw in candidates if raw and (p := parse_date(raw))]
    if parsed and _is_stale(parsed[0][0], [p for p, _ in parsed[1:]], url):
        # e.g. a page-header date ("Thứ hai, ngày 14 tháng 04 năm 2016") caught by the
        # selector: every other source disagrees with it
        out.flags.append(f"date_stale:{parsed[0][1]}")
        parsed = parsed[1:]
    if parsed:
        best, layer = parsed[0]
        if not best.has_time:
            same_day = [
                (p, lyr) for p, lyr in parsed[1:]
                if p.has_time and p.value.date() == best.value.date()
            ]  # fmt: skip
            if same_day:
                best, layer = same_day[0]
        out.published, out.layers["published"] = best.value, layer
        if not best.has_time:
            out.flags.append("date_only")
    updated = _first_date(
        [("selector", by_selector("updated")), (structured.layers.get("updated", "meta"),
         structured.updated)]
    )  # fmt: skip
    if updated:
        out.updated, out.layers["updated"] = updated[0].value, updated[1]

    # authors
    if byline := by_selector("authors"):
        out.byline, out.layers["authors"] = byline, "selector"
        out.authors = split_authors(byline)
    elif structured.authors:
        out.authors, out.layers["authors"] = structured.authors, structured.layers["authors"]

    # section
    if section := by_selector("section"):
        out.section, out.layers["section"] = section, "selector"
    elif structured.section:
        out.section, out.layers["section"] = structured.section, structured.layers["section"]
    elif hints.section or hints.feed_section:
        out.section = hints.section or hints.feed_section
        out.layers["section"] = "listing" if hints.section else "feed"
    elif url_section := section_from_url(url, site.base_url):
        out.section, out.layers["section"] = url_section, "url"

    # image
    if image := by_selector("image"):
        out.image, out.layers["image"] = _join(url, image), "selector"
    elif structured.image:
        out.image, out.layers["image"] = _join(url, structured.image), structured.layers["image"]

    canonical = _first(page, 'link[rel="canonical"]::attr(href)')
    out.canonical_url = _join(url, canonical.strip()) if canonical else None

    # body: the selected node, without clutter and without what the fields matched
    body_nodes = _select(page, sel.body) if sel.body else []
    body_nodes = [n for n in body_nodes if isinstance(n, _Element)]
    body_layer = "selector"
    if sel.body and not body_nodes:
        out.flags.append("selector_missed:body")
        if out.layers.get("title") in (None, "generic") and sel.title:
            # neither the site's title nor its body is here: an error or index page
            # ("soft 404"), not a redesign (that keeps at least the structured data)
            raise ExtractionError("not an article: the title and body selectors match nothing")
    if not body_nodes and isinstance(page.root, _Element):
        main = _main_node(page.root)
        body_nodes, body_layer = ([main], "generic") if main is not None else ([], "generic")
    if body_nodes:
        body = body_nodes[0]
        for query in sel.remove:
            for r in _select(page, _element_query(query)):
                if isinstance(r, _Element) and _is_inside(r, body):
                    _drop(r)
        for el in found_elements:
            if _is_inside(el, body):
                _drop(el)
        for el in _ALWAYS_REMOVE_SEL(body):
            _drop(el)
        figures = _figure_roots(body)
        out.images = _figures(body, figures, url)
        _drop_leaf_blocks(body, is_clutter_text)
        for node in body.iter():
            if node.text and "./." in node.text:
                node.text = strip_end_marker(strip_xml_invalid(node.text))
            if node is not body and node.tail and "./." in node.tail:
                node.tail = strip_end_marker(strip_xml_invalid(node.tail))
        # captions stay with their figure in the HTML; the text has none of them
        captions = {img["caption"] for img in out.images if img["caption"]}
        lines = _text_lines(body, set(figures), captions)
        # a byline printed alone on the last line of the body
        if not out.authors and lines and looks_like_byline(lines[-1]):
            out.byline = lines[-1]
            _drop_leaf_blocks(body, lambda t: t == out.byline, last_only=True)
            lines = _text_lines(body, set(figures), captions)
            out.authors, out.layers["authors"] = split_authors(out.byline), "heuristic"
        if body_layer == "generic" and out.lead and lines and lines[0] == out.lead:
            lines = lines[1:]
        out.body_lines = lines
        out.body_html = _html_of(body)
        out.layers["body"] = body_layer
    else:
        out.body_lines, out.body_html = _generic_body(html, url)
        out.body_lines = strip_clutter(out.body_lines)
        out.layers["body"] = "generic"
        if out.lead and out.body_lines and clean_text(out.body_lines[0]) == out.lead:
            out.body_lines = out.body_lines[1:]
        if not out.authors and out.body_lines and looks_like_byline(out.body_lines[-1]):
            out.byline = out.body_lines.pop()
            out.authors, out.layers["authors"] = split_authors(out.byline), "heuristic"

    if not out.image and out.images and out.images[0]["url"]:
        out.image, out.layers["image"] = out.images[0]["url"], "body"
    if not out.title:
        raise ExtractionError("no title")
    if not out.body_lines:
        raise ExtractionError("no body text")
    return out
