"""What one page may cost extraction: bounds checked before the expensive passes (document
size, element count, nesting depth) and a CPU budget checked at checkpoints during them.

A page over a bound raises :class:`TooComplex` (an :class:`ExtractionError`): it is
abandoned and counted as ``too_complex``, the crawl goes on. The budget is CPU time of
the calling thread (:func:`time.thread_time`), so other sites' work in the same process
does not count against a page, and a worker process running extraction enforces the same
budget the same way. Checkpoints are plain calls (:func:`checkpoint`) that read the budget
of the extraction in progress from a context variable: the passes need no extra argument,
and outside an extraction they cost nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lxml import etree
from lxml.etree import _Element

from aggregator.extract.model import ExtractionError

__all__ = [
    "Budget",
    "PageLimits",
    "TooComplex",
    "check_size",
    "check_tree",
    "checkpoint",
    "declares_html",
    "page_budget",
]


class TooComplex(ExtractionError):
    """The page is over one of its bounds (which one is the message): abandoned."""


@dataclass(frozen=True)
class PageLimits:
    """The bounds of one page (the crawl's ``AGGREGATOR_PAGE_*`` settings; 0: no bound)."""

    #: characters of the decoded document (the download is bounded by DOWNLOAD_MAXSIZE)
    max_chars: int = 5_000_000
    #: elements of the parsed tree; real article pages have a few thousand
    max_elements: int = 60_000
    #: nesting depth of the parsed tree (libxml2 keeps 2,048 levels; real pages ~20-40)
    max_depth: int = 256
    #: CPU seconds one page may take (a normal one takes well under 0.1 s)
    cpu_seconds: float = 5.0
    #: characters of an article's text and of its body HTML kept (longer ones are cut
    #: at a line or an element and flagged ``truncated:body_text`` / ``truncated:body_html``)
    max_text: int = 200_000
    max_html: int = 500_000
    #: pictures listed with an article (more are left out, flagged ``truncated:images``)
    max_images: int = 100

    @classmethod
    def from_settings(cls, settings: Any) -> PageLimits:
        """The bounds a crawl's settings give (``AGGREGATOR_PAGE_*``, see
        :mod:`aggregator.settings`; anything with Scrapy's ``getint``/``getfloat``)."""
        d = cls()
        return cls(
            max_chars=settings.getint("AGGREGATOR_PAGE_MAX_CHARS", d.max_chars),
            max_elements=settings.getint("AGGREGATOR_PAGE_MAX_ELEMENTS", d.max_elements),
            max_depth=settings.getint("AGGREGATOR_PAGE_MAX_DEPTH", d.max_depth),
            cpu_seconds=settings.getfloat("AGGREGATOR_PAGE_CPU_SECONDS", d.cpu_seconds),
            max_text=settings.getint("AGGREGATOR_ARTICLE_MAX_CHARS", d.max_text),
            max_html=settings.getint("AGGREGATOR_BODY_HTML_MAX_CHARS", d.max_html),
            max_images=settings.getint("AGGREGATOR_ARTICLE_MAX_IMAGES", d.max_images),
        )


def declares_html(content_type: str | None, *, json: bool = False) -> bool:
    """Whether a response whose Content-Type is ``content_type`` may be an HTML page: not
    when it says something else (a PDF or an image on an article URL; ``json``: Scrapy
    took it for JSON, by its type or its URL). Missing, ``text/*``, ``*html*`` and the
    generic ``application/octet-stream`` and ``application/xml`` may be."""
    declared = (content_type or "").split(";")[0].strip().lower()
    if not declared or declared.startswith("text/") or "html" in declared:
        return not json
    return declared in ("application/octet-stream", "application/xml")


class Budget:
    """CPU time left to one page; :meth:`check` raises :class:`TooComplex` once it is spent."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.thread_time() + seconds if seconds > 0 else float("inf")
        self.calls = 0

    def check(self) -> None:
        if time.thread_time() > self.deadline:
            raise TooComplex(f"over the CPU budget of {self.seconds:g} s per page")


_current: ContextVar[Budget | None] = ContextVar("page_budget", default=None)


@contextmanager
def page_budget(seconds: float) -> Iterator[Budget]:
    """Run the block under a CPU budget of ``seconds`` (0: none) that :func:`checkpoint`
    enforces; nested budgets keep the outer one's deadline if it is nearer."""
    budget = Budget(seconds)
    outer = _current.get()
    if outer is not None and outer.deadline < budget.deadline:
        budget = outer
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


#: a checkpoint reads the clock once in this many calls (a read costs ~1 µs: loops over
#: every element of a page call checkpoints)
_EVERY = 8


def checkpoint() -> None:
    """Raise :class:`TooComplex` if the page in progress has spent its CPU budget (the
    clock is read every :data:`_EVERY` calls)."""
    budget = _current.get()
    if budget is not None:
        budget.calls += 1
        if not budget.calls % _EVERY:
            budget.check()


def check_size(html: str, limits: PageLimits) -> None:
    """The document is not longer than the bound (checked before parsing)."""
    if limits.max_chars and len(html) > limits.max_chars:
        raise TooComplex(f"{len(html)} characters, over the bound of {limits.max_chars}")


#: (``regexp=False`` for the XPaths of this package: EXSLT's regular expressions, which
#: none of them calls, cost a registration on each call)
_COUNT = etree.XPath("count(descendant-or-self::*)", regexp=False)


@lru_cache(maxsize=8)
def _deeper_than(levels: int) -> etree.XPath:
    """True when an element is nested more than ``levels`` deep (the root is level 1)."""
    return etree.XPath("boolean(self::*" + "/*" * levels + ")", regexp=False)


#: nesting most pages stay within: a tree no deeper than this is no deeper than the bound
#: either, found with fewer steps than the bound's (each costs libxml2 a pass, even empty)
_USUAL_DEPTH = 32


def _deeper(root: _Element, levels: int, elements: int) -> bool:
    """Whether an element of the tree of ``elements`` elements at ``root`` is nested more than
    ``levels`` deep (no more elements than levels: none can be)."""
    if elements <= levels:
        return False
    if levels > _USUAL_DEPTH and not _deeper_than(_USUAL_DEPTH)(root):
        return False
    return bool(_deeper_than(levels)(root))


def check_tree(root: _Element, limits: PageLimits) -> None:
    """The parsed tree has no more elements and no deeper nesting than the bounds (before
    any pass that is slower per element or per level): counted in libxml2 (3x faster),
    then, only when a bound is crossed, one walk that stops at the first one crossed."""
    if not limits.max_elements and not limits.max_depth:
        return
    count = int(_COUNT(root))
    if (not limits.max_elements or count <= limits.max_elements) and (
        not limits.max_depth or not _deeper(root, limits.max_depth, count)
    ):
        return
    count = depth = 0
    max_elements = limits.max_elements or float("inf")
    max_depth = limits.max_depth or float("inf")
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        count += 1
        depth += 1
        if count > max_elements:
            raise TooComplex(f"over {limits.max_elements} elements")
        if depth > max_depth:
            raise TooComplex(f"nested over {limits.max_depth} levels deep")
        if not count & 0x3FFF:
            checkpoint()
