"""The article body: the generic main-text finder, figures and captions, and cleaning a body
element down to its text lines and safe HTML.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet

import lxml.html
from lxml import etree
from lxml.etree import ParserError, _Element

from aggregator.extract.limits import checkpoint
from aggregator.extract.query import BLOCK_TAGS, join_url, lines_of, string_of
from aggregator.normalize.rules import (
    strip_clutter,
    strip_end_marker,
)
from aggregator.normalize.text import clean_text, strip_xml_invalid

__all__ = [
    "ALWAYS_REMOVE",
    "drop",
    "drop_leaf_blocks",
    "figure_roots",
    "figures_of",
    "generic_body",
    "html_of",
    "is_inside",
    "main_node",
    "strip_end_markers",
    "text_lines",
]


#: Elements removed from every body, whatever the site definition says (by name: lxml
#: picks them without Python, and libxml2 names HTML elements in lower case).
ALWAYS_REMOVE = (
    "script", "style", "noscript", "form", "iframe", "object", "embed", "button", "input",
    "select", "textarea", "svg", "audio", "video", "nav", "template",
)  # fmt: skip


#: figures: ``figure, table.image, .image-caption, [class*='caption']`` in one walk (the
#: CSS union walks the body once per selector; ``.image-caption`` is in ``*='caption'``)
_FIGURES_SEL = etree.XPath(
    "descendant-or-self::*[self::figure or contains(@class, 'caption') or (self::table and "
    "contains(concat(' ', normalize-space(@class), ' '), ' image '))]",
    regexp=False,
)


_IMG_SRC = etree.XPath(".//img/@src | self::img/@src", regexp=False, smart_strings=False)


_TEXT_BLOCKS = BLOCK_TAGS - {"br", "hr"}


_CREDIT = re.compile(r"\s*[(–-]?\s*(?:Ảnh|Nguồn)\s*:\s*(?P<credit>[^()]+?)\s*\)?\s*$")


def _credit(text: str) -> re.Match[str] | None:
    """The photo credit ending ``text`` ("(Ảnh: ...)"); the regex only where its words are
    (it tries every position of a line: 20 µs on a paragraph)."""
    return _CREDIT.search(text) if "Ảnh" in text or "Nguồn" in text else None


def drop(el: _Element) -> None:
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


def is_inside(el: _Element, ancestor: _Element) -> bool:
    return any(a is ancestor for a in el.iterancestors())


#: a layout table with a photo and no more text than this is a figure (pre-HTML5 sites)
_FIGURE_TABLE_TEXT = 400


def figure_roots(body: _Element) -> list[_Element]:
    """Outermost figure elements of ``body``, in document order."""
    found = set(_FIGURES_SEL(body))
    found.update(
        table for table in body.iter("table")
        if next(table.iter("img"), None) is not None
        and len(string_of(table).strip()) <= _FIGURE_TABLE_TEXT
    )  # fmt: skip
    found.discard(body)
    checkpoint()
    roots = [el for el in found if not any(a in found for a in el.iterancestors())]
    if len(roots) > 1:
        order = {el: i for i, el in enumerate(body.iter())}
        roots.sort(key=order.__getitem__)
    return roots


def figures_of(body: _Element, roots: list[_Element], base_url: str) -> list[dict[str, str]]:
    """Images with caption and credit (``roots``: the figures of ``body``)."""
    images: list[dict[str, str]] = []
    for fig in roots:
        checkpoint()
        src = next(iter(_IMG_SRC(fig)), None)
        captions: list[str] = []
        for line in lines_of(fig):
            if line not in captions:  # one site prints every caption twice
                captions.append(line)
        caption = " ".join(captions)
        credit = ""
        if m := _credit(caption):
            credit = clean_text(m.group("credit"))
            caption = clean_text(caption[: m.start()])
        if src or caption:
            images.append(
                {"url": (join_url(base_url, str(src)) or "") if src else "", "caption": caption,
                 "credit": credit}
            )  # fmt: skip
    # images not inside figures (the figures' own pictures found once: each root is
    # outermost, so their subtrees are disjoint and the walk is linear)
    in_figures = {img for r in roots for img in r.iter("img")}
    for img in body.iter("img"):
        if img in in_figures:
            continue
        if src := img.get("src"):
            images.append({"url": join_url(base_url, src) or "", "caption": "", "credit": ""})
    return images


def _is_caption(line: str, captions: set[str]) -> bool:
    """A body line that repeats a figure's caption (some sites print it twice)."""
    if m := _credit(line):
        line = clean_text(line[: m.start()])
    return line in captions


def text_lines(body: _Element, figures: AbstractSet[_Element], captions: set[str]) -> list[str]:
    """Body text lines without figures and captions, clutter removed."""
    lines = strip_clutter(lines_of(body, skip=figures))
    return [x for x in lines if not _is_caption(x, captions)] if captions else lines


def drop_leaf_blocks(
    body: _Element, predicate: Callable[[str], bool], *, last_only: bool = False, clean: bool = True
) -> None:
    """Remove block elements without block children whose text (clean; as printed with
    ``clean=False``, for a predicate that cleans what it reads) matches ``predicate``."""
    # libxml2 names HTML elements in lower case: lxml picks them by name without Python
    blocks = [el for el in body.iter(*_TEXT_BLOCKS) if el is not body]
    parents = {el.getparent() for el in blocks}
    leaves = [el for el in blocks if el not in parents]
    matching = [
        el for el in leaves
        if predicate(clean_text(string_of(el)) if clean else string_of(el))
    ]  # fmt: skip
    for el in matching[-1:] if last_only else matching:
        drop(el)


#: what lxml.html.tostring() removes from libxml2's HTML (a charset of its own)
_META_CONTENT_TYPE = re.compile(r'<meta http-equiv="Content-Type"[^>]*>')


def _html(el: _Element) -> str:
    """``lxml.html.tostring(el, encoding="unicode")``, without its Python overhead."""
    html = etree.tostring(el, method="html", encoding="unicode")
    return _META_CONTENT_TYPE.sub("", html) if '<meta http-equiv="Content-Type"' in html else html


def html_of(el: _Element, limit: int = 0) -> tuple[str, bool]:
    """The element's inner HTML, and whether it is whole: with a ``limit``, its children
    up to that many characters (the first one cut at an element's end when it alone is
    longer: its children, recursively)."""
    text = el.text
    inner = [text] if text else []
    size = len(text or "")
    for child in el:
        checkpoint()
        part = _html(child)
        if limit and size + len(part) > limit:
            if not size and len(child):  # the body is one wrapper: cut inside it
                cut, _ = html_of(child, limit)
                inner.append(cut)
            return "".join(inner).strip(), False
        inner.append(part)
        size += len(part)
    return "".join(inner).strip(), True


#: paragraphs shorter than this (characters outside links) say nothing of where the text is
_MIN_PARAGRAPH = 40


#: a container needs this much paragraph text to be taken as the article's body
_MIN_BODY = 250


#: containers that hold page furniture, not the article (class or id, as readability does)
_FURNITURE = re.compile(
    r"comment|footer|sidebar|related|tinkhac|tin-?lien-?quan|binh-?luan|menu|banner|widget|share",
    re.IGNORECASE,
)


def _paragraphs_after(root: _Element, headline: _Element) -> Iterator[_Element]:
    """The ``<p>`` elements after ``headline`` in document order."""
    after = False
    for el in root.iter():
        if el is headline:
            after = True
        elif after and el.tag == "p":
            yield el


def _in_furniture(el: _Element, memo: dict[_Element, bool]) -> bool:
    """The element or one of its ancestors is named as furniture (answers kept in
    ``memo``, so that the paragraphs of one page walk each ancestor once)."""
    path: list[_Element] = []
    node: _Element | None = el
    found = False
    while node is not None:
        if (known := memo.get(node)) is not None:
            found = known
            break
        if (node.get("class") or node.get("id")) and _FURNITURE.search(
            f"{node.get('class', '')} {node.get('id', '')}"
        ):
            found = True
            path.append(node)
            break
        path.append(node)
        node = node.getparent()
    for n in path:
        memo[n] = found
    return found


def _paragraph_scores(root: _Element, headline: _Element | None) -> dict[_Element, float]:
    """Each long ``<p>`` outside furniture (and after the headline, if known: text before
    it is another story's) scores its text outside links for its parent, half of it for
    its grandparent."""
    scores: dict[_Element, float] = {}
    in_furniture: dict[_Element, bool] = {}
    for p in root.iter("p") if headline is None else _paragraphs_after(root, headline):
        checkpoint()
        text = len(string_of(p).strip())
        if text < _MIN_PARAGRAPH:
            continue
        value = text - sum(len(string_of(a)) for a in p.iter("a"))
        if value < _MIN_PARAGRAPH:
            continue
        parent = p.getparent()
        if parent is None:
            continue
        if _in_furniture(parent, in_furniture):
            continue
        scores[parent] = scores.get(parent, 0.0) + value
        grandparent = parent.getparent()
        if grandparent is not None:
            scores[grandparent] = scores.get(grandparent, 0.0) + value / 2
    return scores


#: a rival body must hold this share of the best one's score to be preferred for its place
_RIVAL_SHARE = 0.3


def _words(text: str) -> set[str]:
    return {w for w in clean_text(text).casefold().split() if len(w) > 1}


def _describes(el: _Element, description: set[str]) -> float:
    """Share of the description's words found in the element's text."""
    return len(description & _words(string_of(el))) / len(description)


def main_node(
    root: _Element, headline: _Element | None = None, description: str = ""
) -> _Element | None:
    """The element whose paragraphs hold the most text outside links (readability's
    idea: each long ``<p>`` scores for its parent, half for its grandparent), or None
    if no element holds ``_MIN_BODY`` characters of it. Table layouts and pages without
    any article markup included; no site knowledge needed.

    Cross-checks, when the page gives them: paragraphs before the ``headline`` are a
    neighbouring story's, and of two bodies the one the page's ``description`` speaks
    of is the article's (if it holds ``_RIVAL_SHARE`` of the other's text)."""
    scores = _paragraph_scores(root, headline)
    if headline is not None and max(scores.values(), default=0.0) < _MIN_BODY:
        scores = _paragraph_scores(root, None)  # the headline was not the article's
    ranked = sorted((el for el in scores if scores[el] >= _MIN_BODY), key=scores.__getitem__,
                    reverse=True)  # fmt: skip
    if not ranked:
        return None
    best = ranked[0]
    words = _words(description)
    if len(words) >= 5 and len(ranked) > 1 and _describes(best, words) < 0.5:
        for rival in ranked[1:]:
            if scores[rival] < _RIVAL_SHARE * scores[best]:
                break
            if not is_inside(best, rival) and _describes(rival, words) >= 0.8:
                return rival
    return best


def generic_body(html: str, url: str, limit: int = 0) -> tuple[list[str], str, bool]:
    """trafilatura's main text as lines and HTML (at most ``limit`` characters of it, see
    :func:`html_of`), and whether the HTML is whole (imported lazily: it is slow to load)."""
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
        return [], "", True
    try:
        root = lxml.html.fromstring(out)
    except (ParserError, ValueError):
        return [], "", True
    body = root.find(".//body")
    node = body if body is not None else root
    return lines_of(node), *html_of(node, limit)


def strip_end_markers(body: _Element) -> None:
    """Remove the "./." that Vietnamese papers print at the end of an article."""
    if "./." not in string_of(body) and not any(
        "./." in (node.text or "") for node in body.iter(etree.Comment, etree.PI)
    ):
        return  # nowhere (the walk below reads every node in Python)
    for node in body.iter():
        if node.text and "./." in node.text:
            node.text = strip_end_marker(strip_xml_invalid(node.text))
        if node is not body and node.tail and "./." in node.tail:
            node.tail = strip_end_marker(strip_xml_invalid(node.tail))
