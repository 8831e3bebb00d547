"""Article extraction in layers: site selectors, structured data, crawler hints, generic.

``extract_article(url, html, site, hints)`` is a pure function of the page: it
needs no Scrapy and no network, so every site definition can be tested from saved
``(url, html)`` pairs.

Every field is a row of the table ``FIELDS``: its strategies, most trusted first,
and how their answers become the field (by default the first strategy that finds
something gives it). Each strategy records its layer in ``Extracted.layers``:

- ``selector``: the site definition's selector;
- ``jsonld``, ``meta`` (OpenGraph / ``article:*`` / ``<meta name>``), ``time``
  (``<time datetime>``): structured data on the page, where the tables of
  :mod:`aggregator.extract.structured` say each field is kept;
- ``listing`` / ``feed`` / ``url``: what the crawler saw before fetching the page;
- ``generic``: what the page prints around its headline (:mod:`aggregator.extract.generic`):
  the headline is where the listing link's text (``Hints.anchor_text``) or the title is
  printed, else the ``<h1>`` (its text is the title when the structured one is only
  the same headline reworded); then the date printed by it (when neither the site's
  selector nor structured data has one), the breadcrumb's section (before the listing's),
  the lead after it (before the description meta).

The body comes after the fields, without what their selectors matched: the site's
body selector (``selector``), else the element holding the most paragraph text after
the headline (the description's, of two), without players, share bars and boxes of
links, else trafilatura's main text (a fallback: ~7x slower), both ``generic``. Two
fields fall back on the body: authors on a byline alone on its last line
(``heuristic``; in a generic body, before the structured data's names), the image on
its first picture (``body``).

A new field needs an attribute of :class:`Extracted` (:mod:`aggregator.extract.model`),
its row in ``FIELDS`` and, if structured data carries it, its entries in the tables of
:mod:`aggregator.extract.structured`; a ``selector`` strategy reads the site definition's
selector of the same name. Reading selectors is :mod:`aggregator.extract.query`; finding
and cleaning the body, :mod:`aggregator.extract.body`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from lxml.etree import ParserError, _Element
from parsel import Selector

from aggregator.extract.body import (
    ALWAYS_REMOVE,
    drop,
    drop_leaf_blocks,
    figure_roots,
    figures_of,
    generic_body,
    html_of,
    is_inside,
    main_node,
    strip_end_markers,
    text_lines,
)
from aggregator.extract.generic import (
    active_menu_section,
    breadcrumb_section,
    find_headline,
    furniture,
    lead_after,
    named_headline,
    printed_date,
)
from aggregator.extract.limits import (
    PageLimits,
    TooComplex,
    check_size,
    check_tree,
    checkpoint,
    page_budget,
)
from aggregator.extract.model import Extracted, ExtractionError, Hints
from aggregator.extract.query import (
    attributes_of,
    element_query,
    first_attribute,
    first_string,
    first_text,
    html5_shape,
    join_url,
    parse_html,
    select_all,
    select_inside,
    string_of,
    text_of,
)
from aggregator.extract.structured import Found, is_publisher, marked_authors, structured_data
from aggregator.normalize.dates import ParsedDate, parse_date
from aggregator.normalize.rules import (
    is_clutter_line,
    looks_like_byline,
    split_authors,
    strip_clutter,
)
from aggregator.normalize.text import clean_text, token_f1
from aggregator.sites.definition import SiteDefinition

__all__ = [
    "FIELDS",
    "Extracted",
    "ExtractionError",
    "Hints",
    "PageLimits",
    "TooComplex",
    "extract_article",
    "section_from_url",
]


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


class _Page(NamedTuple):
    """One page as every strategy sees it."""

    url: str
    html: str  # as parsed: trafilatura reads it again when no element holds the body
    doc: Selector
    data: dict[str, Found]  # structured data, per field
    site: SiteDefinition
    hints: Hints
    #: the output's flags, shared: a selector that matches nothing says so in field order
    flags: list[str]
    #: elements the field selectors matched (the lead, the byline...): never body text
    matched: list[_Element]
    #: what the strategies share, found once: the headline element, the publisher's names
    memo: dict[str, Any]


Strategy = Callable[[_Page], Found | None]


#: Stores a field from its strategies' answers (asked lazily, in order) into the output.
Settle = Callable[[Extracted, str, Iterator[Found], _Page], None]


def selector(name: str, read: Callable[[list[Any]], str] = text_of) -> Strategy:
    """The site definition's selector ``name`` (the text of what it matches, or what
    ``read`` takes from it); one that matches nothing is flagged ``selector_missed``."""

    def find(page: _Page) -> Found | None:
        query = getattr(page.site.selectors, name)
        if not query:
            return None
        elements = element_query(query)
        found = select_all(page.doc, elements)
        page.matched.extend(r for r in found if isinstance(r, _Element))
        results: list[Any] | None = found if elements == query else attributes_of(found, query)
        if results is None:
            results = select_all(page.doc, query)
        if text := read(results):
            return Found(text, "selector")
        page.flags.append(f"selector_missed:{name}")
        return None

    return find


def structured(name: str) -> Strategy:
    """The page's structured data for ``name`` (layer ``jsonld``, ``meta`` or ``time``)."""

    def find(page: _Page) -> Found | None:
        return page.data.get(name)

    return find


def marked_byline(page: _Page) -> Found | None:
    """The element the page marks as its byline (layer ``markup``), when its structured
    data names no author (looked for only then: a walk over every element)."""
    root = page.doc.root
    if "authors" in page.data or not isinstance(root, _Element):
        return None
    return marked_authors(root, page.memo["publishers"])


def _hint(attribute: str, layer: str) -> Strategy:
    def find(page: _Page) -> Found | None:
        value = getattr(page.hints, attribute)
        return Found(value, layer) if value else None

    return find


def listing(attribute: str) -> Strategy:
    """What the listing showed with the link to the page: a :class:`Hints` attribute."""
    return _hint(attribute, "listing")


def feed(attribute: str) -> Strategy:
    """What the feed said of the page: a :class:`Hints` attribute."""
    return _hint(attribute, "feed")


def url_section(page: _Page) -> Found | None:
    """The first path segment below the site's base URL."""
    section = section_from_url(page.url, page.site.base_url)
    return Found(section, "url") if section else None


_NO_HEADLINE = object()


def headline(page: _Page) -> _Element | None:
    """The element printing the article's title (found once per page): where the
    crawler's link text or the structured title is printed, else the ``<h1>``."""
    if (found := page.memo.get("headline", _NO_HEADLINE)) is _NO_HEADLINE:
        root = page.doc.root
        titles = [page.hints.anchor_text or "", page.memo.get("title", "")]
        if (data := page.data.get("title")) and isinstance(data.value, str):
            titles.append(data.value)
        found = find_headline(root, titles) if isinstance(root, _Element) else None
        page.memo["headline"] = found
    return found if isinstance(found, _Element) else None


def _anchor_layer(page: _Page) -> str:
    return "feed" if page.hints.feed_date and not page.hints.listing_date else "listing"


#: a ``<title>`` shorter than this may be a section's name ("Báo X - Văn hóa")
_MIN_PAGE_TITLE = 25


def _generic_headline(page: _Page, title: str) -> _Element | None:
    """The headline when neither the crawler's title nor an ``<h1>`` finds it: where the
    page prints its ``<title>``, else an element named as a title."""
    root = page.doc.root
    if not isinstance(root, _Element):
        return None
    if len(title) >= _MIN_PAGE_TITLE and (found := find_headline(root, [title])) is not None:
        return found
    return None if page.hints.anchor_text else named_headline(root)


def generic_title(page: _Page) -> Found:
    """The headline (where the link text that led here is printed, else the ``<h1>``,
    else where the ``<title>`` is printed, else an element named as a title); nothing if
    the ``<title>`` is only the paper's name; else the link text itself, else the
    ``<title>`` without the paper's name. Answers even when
    all are empty: the title always has a layer (no title is an error later)."""
    title = _strip_site_name(clean_text(first_text(page.doc, "title::text")), page.site.name)
    el = headline(page)
    if el is None and (el := _generic_headline(page, title)) is not None:
        page.memo["headline"] = el
    if el is not None:
        return Found(clean_text(string_of(el)), "generic")
    if title.casefold() == page.site.name.casefold():
        # nothing on the page names an article: an error page served as 200 ("soft 404")
        return Found("", "generic")
    if page.hints.anchor_text:
        return Found(clean_text(page.hints.anchor_text), _anchor_layer(page))
    return Found(title, "generic")


def generic_date(page: _Page) -> Found | None:
    """The date printed by the headline, unless the site names where its date is or
    the page's structured data has it (then it would only be one more vote)."""
    if page.site.selectors.published or "published" in page.data:
        return None
    if (el := headline(page)) is None:
        return None
    text = printed_date(el)
    return Found(text, "generic") if text else None


def generic_section(page: _Page) -> Found | None:
    """The breadcrumb's section before the headline, else a menu's active item."""
    root = page.doc.root
    if not isinstance(root, _Element):
        return None
    el = headline(page)
    section = breadcrumb_section(el, page.site, page.url) if el is not None else None
    section = section or active_menu_section(root, page.site, page.url)
    return Found(section, "generic") if section else None


def generic_lead(page: _Page) -> Found | None:
    """The block after the headline when it is a lead (kept out of the body)."""
    if (el := headline(page)) is None:
        return None
    described = page.data.get("lead")
    description = described.value if described and isinstance(described.value, str) else ""
    if (lead := lead_after(el, description)) is None:
        return None
    page.matched.append(lead)
    return Found(clean_text(string_of(lead)), "generic")


#: a printed headline sharing this much of its words with the structured title is the
#: same headline reworded
_REWORDED = 0.6


def _printed_title(page: _Page, title: str) -> str | None:
    """The headline as the page prints it, when the structured title is the same headline
    reworded (structured data is written for search engines, the headline for readers):
    most words shared, not identical, and not a shortened copy of the structured one."""
    if (el := headline(page)) is None:
        return None
    printed = clean_text(string_of(el))
    shown, meta = (t.casefold().rstrip(" .…") for t in (printed, title))
    if not shown or meta.startswith(shown) or token_f1(printed, title) < _REWORDED:
        return None
    return printed


def title_found(out: Extracted, name: str, answers: Iterator[Found], page: _Page) -> None:
    """:func:`first_found`, the printed headline before a reworded structured title; the
    title kept for the generic strategies that follow."""
    first_found(out, name, answers, page)
    if out.layers.get(name) in ("jsonld", "meta") and (printed := _printed_title(page, out.title)):
        out.title, out.layers[name] = printed, "generic"
    page.memo["title"] = out.title


def first_found(out: Extracted, name: str, answers: Iterator[Found], page: _Page) -> None:
    """The first strategy that finds something gives the field and its layer."""
    if (found := next(answers, None)) is not None:
        setattr(out, name, found.value)
        out.layers[name] = found.layer


def first_url(out: Extracted, name: str, answers: Iterator[Found], page: _Page) -> None:
    """The first URL found, absolute (None, with its layer, if it cannot be one)."""
    if (found := next(answers, None)) is not None:
        setattr(out, name, join_url(page.url, found.value))
        out.layers[name] = found.layer


def first_date(out: Extracted, name: str, answers: Iterator[Found], page: _Page) -> None:
    """The first answer that parses as a date."""
    for found in answers:
        if parsed := parse_date(found.value):
            setattr(out, name, parsed.value)
            out.layers[name] = found.layer
            return


def byline_or_names(out: Extracted, name: str, answers: Iterator[Found], page: _Page) -> None:
    """The first answer: a byline as printed (kept, and split into names) or, from
    structured data, the names; without the site's own name (its definition's name or
    host), and an answer that is only that is passed over."""
    for found in answers:
        names = split_authors(found.value) if isinstance(found.value, str) else found.value
        people = [n for n in names if not is_publisher(n, page.site.name, page.site.host)]
        if names and not people:
            continue  # the paper crediting itself: the next answer (or the body's byline)
        if isinstance(found.value, str):
            out.byline = found.value
        out.authors = people
        out.layers[name] = found.layer
        return


def checked_date(out: Extracted, name: str, answers: Iterator[Found], page: _Page) -> None:
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
    "title":     _Field((selector("title"), structured("title"), generic_title), title_found),
    "lead":      _Field((selector("lead"), generic_lead, structured("lead"))),
    "published": _Field((selector("published"), structured("published"), generic_date,
                         feed("feed_date"), listing("listing_date")), checked_date),
    "updated":   _Field((selector("updated"), structured("updated")), first_date),
    "authors":   _Field((selector("authors"), structured("authors"), marked_byline),
                        byline_or_names),
    "section":   _Field((selector("section"), structured("section"), generic_section,
                         listing("section"), feed("feed_section"), url_section)),
    "image":     _Field((selector("image", read=first_string), structured("image")), first_url),
}


def _answers(strategies: Iterable[Strategy], page: _Page) -> Iterator[Found]:
    """The strategies' answers in order, each strategy asked only when one is wanted."""
    return (found for strategy in strategies if (found := strategy(page)) is not None)


def _body_node(page: _Page, out: Extracted) -> tuple[_Element | None, str]:
    """The element holding the body, and its layer: the site's body selector's, else the
    element with the most paragraph text (None if there is none)."""
    sel = page.site.selectors
    found = select_all(page.doc, sel.body) if sel.body else []
    nodes = [n for n in found if isinstance(n, _Element)]
    if sel.body and not nodes:
        out.flags.append("selector_missed:body")
        if out.layers.get("title") in (None, "generic") and sel.title:
            # neither the site's title nor its body is here: an error or index page
            # ("soft 404"), not a redesign (that keeps at least the structured data)
            raise ExtractionError("not an article: the title and body selectors match nothing")
    if nodes:
        return nodes[0], "selector"
    if isinstance(page.doc.root, _Element):
        described = page.data.get("lead")
        description = described.value if described and isinstance(described.value, str) else ""
        return main_node(page.doc.root, headline(page), description), "generic"
    return None, "generic"


def _strip_body(page: _Page, body: _Element) -> None:
    """Remove from the body what is not article text: the site's ``remove`` selectors,
    what the field selectors matched, scripts, forms and the like."""
    for query in page.site.selectors.remove:
        query = element_query(query)
        found = select_inside(body, query)
        for r in select_all(page.doc, query) if found is None else found:
            if isinstance(r, _Element) and is_inside(r, body):
                drop(r)
    for el in page.matched:
        if is_inside(el, body):
            drop(el)
    for el in list(body.iter(*ALWAYS_REMOVE)):
        drop(el)


def _body_from_node(page: _Page, out: Extracted, body: _Element, layer: str) -> None:
    """Body text, HTML and images of ``body``, without clutter and what the fields matched
    (and, for a body the generic layer found, without players and share bars)."""
    _strip_body(page, body)
    if layer == "generic":
        for el in furniture(body):
            drop(el)
    figures = figure_roots(body)
    out.images = figures_of(body, figures, page.url)
    if (most := page.memo["max_images"]) and len(out.images) > most:
        del out.images[most:]
        out.flags.append("truncated:images")
    drop_leaf_blocks(body, is_clutter_line, clean=False)
    strip_end_markers(body)
    # captions stay with their figure in the HTML; the text has none of them
    captions = {img["caption"] for img in out.images if img["caption"]}
    lines = text_lines(body, set(figures), captions)
    # a byline printed alone on the last line of the body (of a generic body: the
    # printed byline is taken before the structured data's names)
    if (not out.authors or layer == "generic") and lines and looks_like_byline(lines[-1]):
        out.byline = lines[-1]
        drop_leaf_blocks(body, lambda t: t == out.byline, last_only=True)
        lines = text_lines(body, set(figures), captions)
        out.authors, out.layers["authors"] = split_authors(out.byline), "heuristic"
    if layer == "generic" and out.lead and lines and lines[0] == out.lead:
        lines = lines[1:]
    out.body_lines = lines
    out.body_html = _capped_html(out, body, page.memo["max_html"])
    out.layers["body"] = layer


def _capped_html(out: Extracted, body: _Element, limit: int) -> str:
    """The body's HTML, its children up to ``limit`` characters (flagged
    ``truncated:body_html`` when some were left out)."""
    html, whole = html_of(body, limit)
    if not whole:
        out.flags.append("truncated:body_html")
    return html


def _body_from_text(page: _Page, out: Extracted) -> None:
    """Body text and HTML from trafilatura, when no element of the page holds the body."""
    out.body_lines, out.body_html, whole = generic_body(page.html, page.url, page.memo["max_html"])
    if not whole:
        out.flags.append("truncated:body_html")
    out.body_lines = strip_clutter(out.body_lines)
    out.layers["body"] = "generic"
    if out.lead and out.body_lines and clean_text(out.body_lines[0]) == out.lead:
        out.body_lines = out.body_lines[1:]
    if not out.authors and out.body_lines and looks_like_byline(out.body_lines[-1]):
        out.byline = out.body_lines.pop()
        out.authors, out.layers["authors"] = split_authors(out.byline), "heuristic"


def _read_page(
    url: str, html: str, site: SiteDefinition, hints: Hints, flags: list[str], limits: PageLimits
) -> _Page:
    """The parsed page with its structured data. Raises :class:`ExtractionError` if
    the HTML cannot be parsed, :class:`TooComplex` if it is over a bound."""
    check_size(html, limits)
    try:
        html = html5_shape(html)
        doc = Selector(root=parse_html(html, url), base_url=url)
    except (ValueError, ParserError) as exc:
        raise ExtractionError(f"unparsable HTML: {exc}") from None
    if isinstance(doc.root, _Element):
        check_tree(doc.root, limits)
    data, publishers = structured_data(doc)
    return _Page(url, html, doc, data, site, hints, flags, [], {"publishers": publishers})


def _cap_text(out: Extracted, limit: int) -> None:
    """The body's lines up to ``limit`` characters (a longer first line cut at a word),
    flagged ``truncated:body_text`` when lines were left out."""
    if not limit or sum(len(line) + 1 for line in out.body_lines) <= limit + 1:
        return
    kept: list[str] = []
    size = 0
    for line in out.body_lines:
        if size + len(line) > limit:
            if not kept:
                cut = line[:limit]
                kept.append(cut[: cut.rfind(" ")] if " " in cut else cut)
            break
        kept.append(line)
        size += len(line) + 1
    out.body_lines = kept
    out.flags.append("truncated:body_text")


def extract_article(
    url: str,
    html: str,
    site: SiteDefinition,
    hints: Hints | None = None,
    limits: PageLimits | None = None,
) -> Extracted:
    """Extract one article page. Raises :class:`ExtractionError` if there is no article,
    :class:`TooComplex` (one) if the page is over a bound of ``limits`` (its size, elements,
    depth or CPU budget: :mod:`aggregator.extract.limits`; the defaults if not given)."""
    limits = limits or PageLimits()
    with page_budget(limits.cpu_seconds):
        return _extract(url, html, site, hints or Hints(), limits)


def _extract(
    url: str, html: str, site: SiteDefinition, hints: Hints, limits: PageLimits
) -> Extracted:
    out = Extracted(url=url)
    page = _read_page(url, html, site, hints, out.flags, limits)
    page.memo["max_html"] = limits.max_html
    page.memo["max_images"] = limits.max_images
    for name, (strategies, settle) in FIELDS.items():
        checkpoint()
        settle(out, name, _answers(strategies, page), page)
    canonical = first_attribute(page.doc.root, "link", "href", rel="canonical")
    out.canonical_url = join_url(url, canonical.strip()) if canonical else None

    checkpoint()
    body, layer = _body_node(page, out)
    checkpoint()
    if body is not None:
        _body_from_node(page, out, body, layer)
    else:
        _body_from_text(page, out)
    _cap_text(out, limits.max_text)
    if not out.image and out.images and out.images[0]["url"]:
        out.image, out.layers["image"] = out.images[0]["url"], "body"
    if not out.title:
        raise ExtractionError("no title")
    if not out.body_lines:
        raise ExtractionError("no body text")
    return out
