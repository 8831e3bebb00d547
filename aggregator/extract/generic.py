"""The generic layer: fields read from where a newspaper prints them around its headline,
without any site knowledge (no class name, id or site is named here).

Everything starts from the headline element: the element whose text is the title the
crawler saw in the listing link or feed item (``Hints.anchor_text``), else the page's
structured title, else its ``<h1>``. Around it:

- the publication time printed next to it (after it first, then just before it, in its
  own block: never a page-header "today" date, which sits outside the article's block);
- the section: the nearest link before it that names a section (a breadcrumb), else the
  active item of a menu;
- the lead: the first block of text after it when it looks like one (a heading, bold
  throughout, or the page's description);
- player and share widgets (a "0:00 / 0:00" counter) to drop from the body.

Pure functions of an lxml tree: no Scrapy, no network.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from lxml.etree import _Element

from aggregator.extract.limits import checkpoint
from aggregator.extract.query import BLOCK_TAGS, string_of
from aggregator.normalize.dates import ParsedDate, parse_date
from aggregator.normalize.text import clean_text, kept_length, token_f1
from aggregator.sites.categories import categories_for_section
from aggregator.sites.definition import SiteDefinition

__all__ = [
    "active_menu_section",
    "breadcrumb_section",
    "find_headline",
    "furniture",
    "lead_after",
    "named_headline",
    "printed_date",
]

#: elements whose text is never the headline, a date or a lead
_NOT_CONTENT = frozenset(("script", "style", "noscript", "title", "option", "template", "a"))

#: headline-like tags, preferred when several elements carry the title
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))

#: a title key shorter than this is not matched against the page (too many false hits)
_MIN_TITLE = 12


def _text(el: _Element) -> str:
    return clean_text(string_of(el))


def _key(text: str) -> str:
    """The comparable form of a title: clean, case-folded, without a trailing ellipsis."""
    return clean_text(text).casefold().rstrip(" .…")


#: characters of a title compared before the whole text is cleaned
_PREFIX = 8


def _quick(raw: str) -> str:
    """The start of a text in the comparable form of :func:`_key`, cheaply (composed,
    spaces collapsed, case-folded, U+00D0 read as Đ): a prefilter that keeps every
    text whose key starts the same way."""
    start = " ".join(raw[: 3 * _PREFIX].split())
    return unicodedata.normalize("NFC", start).casefold().replace("ð", "đ")


def _inside_link(el: _Element) -> bool:
    return any(a.tag == "a" for a in el.iterancestors())


def _matches(text_key: str, keys: list[str]) -> bool:
    """The element's text is one of the titles, or starts with a truncated one."""
    return any(text_key == k or (len(k) >= 30 and text_key.startswith(k)) for k in keys)


def _widen(el: _Element) -> _Element:
    """The outermost ancestor that holds nothing but ``el`` (an ``<h1>`` around a
    ``<span>``): no other child, no text of its own."""
    parent = el.getparent()
    while (
        parent is not None
        and parent.tag not in ("body", "html")
        and len(parent) == 1
        and not (parent.text or "").strip()
        and not (el.tail or "").strip()
    ):
        el, parent = parent, parent.getparent()
    return el


def find_headline(root: _Element, titles: list[str]) -> _Element | None:
    """The element of ``<body>`` printing one of ``titles`` (not a link: the page's own
    headline, not a link to it in a "most read" box), a heading preferred; else the
    first ``<h1>`` that is not a link."""
    keys = list(dict.fromkeys(k for t in titles if t and len(k := _key(t)) >= _MIN_TITLE))
    body = root.find("body")
    body = body if body is not None else root
    found: list[_Element] = []
    prefixes = tuple(k[:_PREFIX] for k in keys)
    # raw text longer than this is a paragraph (decomposed Vietnamese is up to ~1.5x longer)
    longest = 2 * max((len(k) for k in keys), default=0) + 20
    if keys:
        for h1 in body.iter("h1"):  # the usual case, found without walking the page
            if _matches(_key(_text(h1)), keys) and not _inside_link(h1):
                return h1
        for el in body.iter():
            checkpoint()
            raw = el.text
            if not raw or not _MIN_TITLE <= len(raw) <= longest or el.tag in _NOT_CONTENT:
                continue
            if not isinstance(el.tag, str) or not _quick(raw).startswith(prefixes):
                continue
            own = _key(raw)
            if len(own) < _MIN_TITLE or not any(k.startswith(own[:_MIN_TITLE]) for k in keys):
                continue
            text_key = _key(_text(el))
            if _matches(text_key, keys) and not _inside_link(el):
                found.append(_widen(el))
    if found:
        return next((el for el in found if el.tag in _HEADINGS), found[0])
    return next((h for h in body.iter("h1") if _text(h) and not _inside_link(h)), None)


#: how pages name their headline element (readability's hints, Vietnamese "tiêu đề")
_TITLE_CLASS = re.compile(r"title|tieu-?de|headline", re.IGNORECASE)
_NAMED_TITLE = (20, 300)


def named_headline(root: _Element) -> _Element | None:
    """The first element named as a title whose text could be a headline (a sentence's
    length, no final full stop, not a link): for pages without ``<h1>`` nor any title
    the crawler saw."""
    body = root.find("body")
    for el in (body if body is not None else root).iter():
        checkpoint()
        if not isinstance(el.tag, str) or el.tag in _NOT_CONTENT:
            continue
        if not _TITLE_CLASS.search(f"{el.get('class', '')} {el.get('id', '')}"):
            continue
        text = _text(el)
        low, high = _NAMED_TITLE
        if (
            low <= len(text) <= high
            and not text.endswith(".")
            and not _inside_link(el)
            and sum(len(_text(a)) for a in el.iter("a")) < len(text) / 2
        ):
            return el
    return None


def _following(el: _Element) -> Iterator[_Element]:
    """Elements after ``el`` in document order (its own subtree left out), lazily."""
    node: _Element | None = el
    while node is not None and node.tag != "body":
        for sib in node.itersiblings():
            yield from sib.iter()
        node = node.getparent()


def _preceding(el: _Element, levels: int = 3) -> Iterator[_Element]:
    """Elements before ``el``, nearest first, within ``levels`` of its ancestors."""
    node: _Element | None = el
    for _ in range(levels):
        if node is None or node.tag == "body":
            return
        for sib in node.itersiblings(preceding=True):
            yield from reversed(list(sib.iter()))
        node = node.getparent()


#: a printed date: day/month/year (any separator) or ISO, or "ngày .. tháng .. năm ..."
_HAS_DATE = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{2}-\d{2}|tháng\s*\d{1,2}")

#: a date line is short; text further than this from the headline is the article
_DATE_LINE = 80
_DATE_REACH = 600


def _date_in(el: _Element) -> tuple[str, ParsedDate] | None:
    """A date printed in the element's own text or tail, or over its inline children."""
    if not isinstance(el.tag, str) or el.tag in _NOT_CONTENT:
        return None
    texts = [el.text, el.tail]
    if el.tag in BLOCK_TAGS and len(el):
        texts.append(string_of(el))  # "<b>09:04</b>, 28/04/2014"
    for raw in texts:
        text = clean_text(raw or "")
        if (
            text
            and len(text) <= _DATE_LINE
            and _HAS_DATE.search(text)
            and (parsed := parse_date(text))
        ):
            return text, parsed
    return None


def printed_date(headline: _Element) -> str | None:
    """The date printed right after the headline (within ``_DATE_REACH`` characters of
    text), else just before it in its own block: the first with a time, else the first
    date alone (as printed, for :func:`parse_date`)."""
    dated: list[str] = []
    for nodes in (_following(headline), _preceding(headline, levels=2)):
        seen = 0
        for el in nodes:
            if (found := _date_in(el)) is not None:
                if found[1].has_time:
                    return found[0]
                dated.append(found[0])
            seen += len(el.text or "") + len(el.tail or "")
            if seen > _DATE_REACH:
                break
    return dated[0] if dated else None


def _section_of(a: _Element, site: SiteDefinition, page_url: str) -> str | None:
    """The link's text if the link names a section of the site: its URL's first path
    segment is a section of the site's categories, or its text or segment is one of
    the shared scheme's."""
    href = (a.get("href") or "").strip()
    text = _text(a)
    if not href or not text or len(text) > 60:
        return None
    url = urljoin(page_url, href)
    if not site.in_scope(url) or site.is_article(url):
        return None
    base_path = urlsplit(site.base_url).path
    path = urlsplit(url).path
    rest = path[len(base_path) :] if path.startswith(base_path) else path
    segment = rest.strip("/").split("/", 1)[0]
    if not segment:
        return None  # the home page
    if segment in site.categories:
        return text if site.categories_for(text) == site.categories_for(segment) else segment
    if categories_for_section(text) or categories_for_section(segment):
        return text
    return None


#: links before the headline looked at for a breadcrumb
_BREADCRUMB_LINKS = 8

_BREADCRUMB = re.compile(r"breadcrumb|duong-?dan", re.IGNORECASE)
_MENU = re.compile(r"menu|(?:^|[\s_-])nav", re.IGNORECASE)


def _in_menu(a: _Element) -> bool:
    """The link is an item of a menu (``<nav>``, named as a menu), not of a breadcrumb:
    a menu lists every section, the page's own is only its active item."""
    for el in a.iterancestors():
        if el.tag in ("body", "html"):
            return False
        names = f"{el.get('class', '')} {el.get('id', '')} {el.get('aria-label', '')}"
        if _BREADCRUMB.search(names):
            return False
        if el.tag == "nav" or _MENU.search(names):
            return True
    return False


def breadcrumb_section(headline: _Element, site: SiteDefinition, page_url: str) -> str | None:
    """The nearest link before the headline, in its block, that names a section."""
    seen = 0
    for el in _preceding(headline):
        if el.tag != "a" or _in_menu(el):
            continue
        if section := _section_of(el, site, page_url):
            return section
        seen += 1
        if seen >= _BREADCRUMB_LINKS:
            break
    return None


_ACTIVE = re.compile(r"(?:^|\s)(?:active|current|selected)(?:\s|$)", re.IGNORECASE)


def active_menu_section(root: _Element, site: SiteDefinition, page_url: str) -> str | None:
    """The section a menu marks as the current one (``class="active"``, ``aria-current``)."""
    for el in root.iter():
        checkpoint()
        if not isinstance(el.tag, str):
            continue
        if _ACTIVE.search(el.get("class") or "") or el.get("aria-current"):
            links = [el] if el.tag == "a" else list(el.iter("a"))[:1]
            for a in links:
                if section := _section_of(a, site, page_url):
                    return section
    return None


_LEAD_TAGS = frozenset(("h2", "h3", "h4", "h5", "h6"))
_LEAD_CLASS = re.compile(r"sapo|lead|summary|desc|intro|excerpt|trichdan|tomtat", re.IGNORECASE)
_MIN_LEAD = 40
_MAX_LEAD = 1200
#: blocks after the headline looked at for the lead
_LEAD_REACH = 6


def _is_bold(el: _Element, text: str) -> bool:
    """All of the block's text is inside ``<b>``/``<strong>``."""
    bold = "".join(string_of(b) for b in el.iter("b", "strong"))
    return len(clean_text(bold)) >= len(text) * 0.9


def _looks_like_lead(el: _Element, text: str, description: str) -> bool:
    if el.tag in _LEAD_TAGS or _is_bold(el, text):
        return True
    if _LEAD_CLASS.search(f"{el.get('class', '')} {el.get('id', '')}"):
        return True
    return bool(description) and token_f1(text, description) >= 0.8


def _has_blocks(el: _Element) -> bool:
    return any(isinstance(c.tag, str) and c.tag in BLOCK_TAGS and c.tag != "br" for c in el)


def _is_meta_line(el: _Element, text: str) -> bool:
    """A date line ("Thứ tư, 14:24, 26/10/2022 | Lượt xem: 1.203") or a widget."""
    return (len(text) <= _DATE_LINE and _HAS_DATE.search(text) is not None) or _is_widget(el, text)


def lead_after(headline: _Element, description: str) -> _Element | None:
    """The first block of text after the headline if it is the lead (a subheading, bold
    throughout, named as a lead, or the page's description); None if the first block
    of text is anything else."""
    blocks = 0
    title = _text(headline)
    for el in _following(headline):
        tag = el.tag
        if not isinstance(tag, str) or tag not in BLOCK_TAGS or tag == "figure":
            continue
        if _has_blocks(el):
            continue
        text = _text(el)
        # short lines (the date, views, a player, the title again for a sticky bar) sit
        # between the headline and its lead
        if len(text) < _MIN_LEAD or _is_meta_line(el, text) or token_f1(text, title) >= 0.8:
            blocks += 1
            if blocks > _LEAD_REACH:
                return None
            continue
        if len(text) <= _MAX_LEAD and _looks_like_lead(el, text, description):
            return el
        return None
    return None


#: a media player's counter ("0:00 / 0:00") or a share bar
_PLAYER_TIME = re.compile(r"\b\d{1,2}:\d{2}\s*/\s*\d{1,2}:\d{2}\b")
_WIDGET_CLASS = re.compile(
    r"(?:^|[\s_-])(?:audio|player|share|sharing|social)(?:$|[\s_-])", re.IGNORECASE
)
#: containers of page furniture, named as readability knows them
_FURNITURE_CLASS = re.compile(
    r"comment|related|tinkhac|tin-?lien-?quan|binh-?luan|banner|widget|(?:^|[\s_-])tags?(?:$|[\s_-])",
    re.IGNORECASE,
)
#: a widget holds little text: a container with more is not one
_WIDGET_TEXT = 120
#: the words a player prints around its counter
_PLAYER_WORDS = 30
#: a box of links to other stories: at least this many links, this share of its text
_LINK_BOX_LINKS = 2
_LINK_BOX_SHARE = 0.7
_BOXES = frozenset(("ul", "ol", "div", "section", "aside", "table", "dl", "nav"))


def _is_widget(el: _Element, text: str) -> bool:
    """A player (its counter, or named so) or a share bar, with little text."""
    if len(text) > _WIDGET_TEXT:
        return False
    if _WIDGET_CLASS.search(f"{el.get('class', '')} {el.get('id', '')}"):
        return True
    # a counter with a few words around it ("Nghe bài 0:00 / 0:00 1x"), not a sentence
    rest = _PLAYER_TIME.sub("", text).strip()
    return rest != text and len(rest) <= _PLAYER_WORDS and not rest.endswith(".")


def _is_link_box(el: _Element, text: str | None, link_texts: dict[_Element, int]) -> bool:
    """A list or box made of links to other pages (related news, tags), or named as
    furniture (comments, related news). ``text``: the box's, if read already;
    ``link_texts``: the length of each link's text, kept for the boxes around it."""
    if el.tag not in _BOXES:
        return False
    if _FURNITURE_CLASS.search(f"{el.get('class', '')} {el.get('id', '')}"):
        return True
    links = []
    for a in el.iter("a"):
        if (n := link_texts.get(a)) is None:
            n = link_texts[a] = len(_text(a))
        links.append(n)
    if len(links) < _LINK_BOX_LINKS:
        return False
    text = _text(el) if text is None else text
    if not text:
        return False
    return sum(links) >= _LINK_BOX_SHARE * len(text)


def _text_within(el: _Element, limit: int) -> str | None:
    """The element's text (:func:`_text`) if it may be at most ``limit`` characters long,
    else None, read no further than needed to know it is longer: a widget is looked for
    in every box, and boxes nested deep would each read the whole page below them."""
    pieces: list[str] = []
    kept = 0
    for piece in el.itertext():
        pieces.append(piece)
        kept += kept_length(piece)
        if kept > 4 * limit:
            return None
    return clean_text("".join(pieces))


def furniture(body: _Element) -> list[_Element]:
    """Page furniture inside a body the generic layer found: media players ("0:00 /
    0:00"), share bars, boxes of links to other stories, comment and related-news
    blocks. Outermost first; what is inside one is not listed again."""
    found: list[_Element] = []
    skip: set[_Element] = set()
    link_texts: dict[_Element, int] = {}
    for el in body.iter():
        checkpoint()
        if el is body or not isinstance(el.tag, str) or el in skip:
            continue
        if not (el.tag in _BOXES or el.get("class") or el.get("id") or ":" in (el.text or "")):
            continue  # neither a box, nor named, nor a counter's own text
        text = _text_within(el, _WIDGET_TEXT)  # None: too long for a widget
        if (text is not None and _is_widget(el, text)) or _is_link_box(el, text, link_texts):
            while (
                el.tag not in BLOCK_TAGS and (up := el.getparent()) is not None and up is not body
            ):
                el = up  # the widget is the block around the counter
            found.append(el)
            skip.update(el.iter())
    return found
