"""Selectors learned by agreement across article pages (``aggregator sites new``).

The zero-configuration layers give each sampled page's title, date and body. A selector
is proposed from the first pages (the element whose text is the title, the element that
prints the date, the container of the body: a short CSS path of tags and stable classes)
and kept only when the definition with it gives the same values, from the selector, on
every sampled page, the held-out ones included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from lxml.etree import _Element
from parsel import Selector

from aggregator.app.sitetest import PageResult, extract_page
from aggregator.extract.article import ExtractionError, Hints
from aggregator.normalize.text import token_f1
from aggregator.sites.definition import SiteDefinition

__all__ = ["SamplePage", "learn_selectors"]

#: a class that names a role, not an instance (no digits, no state)
_STABLE = re.compile(r"^[A-Za-z][A-Za-z_-]{1,40}$")
_UNSTABLE = frozenset({"active", "current", "selected", "show", "hide", "hidden", "open"})
_DATE = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{2}-\d{2}")
_TEXT_TAGS = ("h1", "h2", "h3", "div", "span", "p", "time", "li", "header")
BODY_MIN_F1 = 0.999
#: pages the selectors are proposed from; the others only check them
TRAIN = 3


@dataclass
class SamplePage:
    url: str
    html: str
    hints: Hints
    result: PageResult


def _step(el: _Element) -> str | None:
    if not isinstance(el.tag, str):
        return None
    classes = [
        c for c in (el.get("class") or "").split() if _STABLE.match(c) and c not in _UNSTABLE
    ]
    return el.tag + "".join(f".{c}" for c in classes[:2])


def _paths(el: _Element) -> list[str]:
    """``h1.title``, ``div.detail h1.title``: the element, then under its nearest ancestor
    with a class."""
    own = _step(el)
    if own is None:
        return []
    out = [own]
    node = el.getparent()
    for _ in range(4):
        if node is None or node.tag in ("body", "html"):
            break
        step = _step(node)
        if step and "." in step:
            out.append(f"{step} {own}")
            break
        node = node.getparent()
    return out


def _text(el: _Element) -> str:
    return " ".join("".join(el.itertext()).split())


def _root(html: str) -> _Element | None:
    root = Selector(text=html).root
    return root if isinstance(root, _Element) else None


def _title_paths(root: _Element, page: SamplePage) -> set[str]:
    title = " ".join((page.result.article.title or "").split())
    return {p for el in root.iter(*_TEXT_TAGS) if title and _text(el) == title for p in _paths(el)}


def _date_paths(root: _Element, page: SamplePage) -> set[str]:
    out: set[str] = set()
    for el in root.iter(*_TEXT_TAGS):
        text = _text(el)
        if len(text) < 60 and _DATE.search(text) and not any(_DATE.search(_text(c)) for c in el):
            out.update(_paths(el))
    return out


def _body_paths(root: _Element, page: SamplePage) -> set[str]:
    lines = page.result.extracted.body_lines
    if not lines:
        return set()
    first, last = lines[0][:40], lines[-1][:40]
    best: _Element | None = None
    for el in root.iter("div", "article", "section", "td"):
        text = _text(el)
        if first in text and last in text and (best is None or len(text) <= len(_text(best))):
            best = el
    return set(_paths(best)) if best is not None else set()


_FINDERS: dict[str, Callable[[_Element, SamplePage], set[str]]] = {
    "title": _title_paths,
    "published": _date_paths,
    "body": _body_paths,
}


def _same(name: str, old: PageResult, new: PageResult) -> bool:
    if new.layer(name) != "selector":
        return False
    if name == "title":
        return new.article.title == old.article.title
    if name == "published":
        return new.article.published == old.article.published
    return token_f1(new.article.body_text, old.article.body_text) >= BODY_MIN_F1


def _reproduces(
    site: SiteDefinition, selectors: dict[str, str], pages: Iterable[SamplePage]
) -> bool:
    data = site.model_dump(exclude={"path"})
    data["selectors"] = selectors
    trial = SiteDefinition.model_validate(data)
    for page in pages:
        try:
            new = extract_page(page.url, page.html, trial, page.hints)
        except ExtractionError:
            return False
        if not all(_same(name, page.result, new) for name in selectors):
            return False
    return True


def learn_selectors(site: SiteDefinition, pages: Sequence[SamplePage]) -> dict[str, str]:
    """Title, published and body selectors that reproduce the zero-configuration values
    on every page (proposed from the first :data:`TRAIN`, at least one page held out)."""
    if len(pages) < TRAIN + 1:
        return {}
    roots = [(r, p) for p in pages[:TRAIN] if (r := _root(p.html)) is not None]
    learned: dict[str, str] = {}
    for name, finder in _FINDERS.items():
        common: set[str] | None = None
        for root, page in roots:
            found = finder(root, page)
            common = found if common is None else common & found
        for candidate in sorted(common or (), key=lambda c: (c.count(" "), len(c), c)):
            if _reproduces(site, {name: candidate}, pages):
                learned[name] = candidate
                break
    if learned and not _reproduces(site, learned, pages):
        return {}
    return learned
