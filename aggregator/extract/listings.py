"""Links of a listing page, and the date printed next to each: pure functions of the page.

The spider and ``sites test`` read listings through these, on the parsed page's lxml
tree (parsel's per-node Selector objects cost more than the rest of a listing's work).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urldefrag, urljoin

from lxml.etree import _Element

from aggregator.extract.limits import checkpoint
from aggregator.normalize.text import clean_text
from aggregator.sites.definition import SiteDefinition

__all__ = ["anchor_texts", "date_near", "links"]

_DATE_NEAR_LINK = re.compile(
    r"\d{1,2}:\d{2}[^\d]{0,5}\d{1,2}[/.-]\d{1,2}[/.-]\d{4}"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{4}(?:[^\d]{0,5}\d{1,2}:\d{2})?"
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?"
)
_ITEM_CONTAINERS = frozenset(("li", "article", "tr", "div"))
_NOT_PAGES = ("javascript:", "mailto:", "tel:", "#")


def links(
    root: _Element, page_url: str, site: SiteDefinition, refused: set[str] | None = None
) -> Iterator[tuple[str, _Element]]:
    """``(canonical URL, <a> element)`` of each link in the site's scope, in document
    order (repeats included): :meth:`SiteDefinition.link_url`, without tracking
    parameters, on the site's own host, so that patterns match and the crawl schedules
    one URL per article. ``refused`` gets the links to one of the site's hosts that
    are out of scope all the same (another scheme such as ``file:``, another port)."""
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(_NOT_PAGES):
            continue
        try:
            url = urldefrag(urljoin(page_url, href))[0]
        except ValueError:  # an invalid IPv6 host
            continue
        why = site.scope.refusal(url)
        if why is None:
            yield site.link_url(url), a
        elif refused is not None and site.scope.own_host(url):
            refused.add(url)


def date_near(anchor: _Element, seen: dict[_Element, str | None] | None = None) -> str | None:
    """A date printed next to a listing link: in its nearest item container (``li``,
    ``article``, ``tr`` or ``div``). ``seen`` keeps each container's answer for the other
    links of the page: thousands of links in one container read its text once."""
    for container in anchor.iterancestors():
        if isinstance(container.tag, str) and container.tag in _ITEM_CONTAINERS:
            if seen is not None and container in seen:
                return seen[container]
            checkpoint()
            m = _DATE_NEAR_LINK.search(" ".join(container.itertext()))
            found = m.group(0) if m else None
            if seen is not None:
                seen[container] = found
            return found
    return None


def anchor_texts(found: list[tuple[str, _Element]]) -> dict[str, str]:
    """The text of each URL's links (the first link to it with text: a thumbnail link
    before the headline link has none), or its ``title`` attribute: the article's title
    as the listing prints it, which locates the headline on the article page."""
    texts: dict[str, str] = {}
    for url, a in found:
        if url not in texts and (
            text := clean_text(" ".join(a.itertext())) or clean_text(a.get("title") or "")
        ):
            texts[url] = text
    return texts
