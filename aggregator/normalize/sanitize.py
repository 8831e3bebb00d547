"""Article HTML made safe for feeds: an allow-list sanitizer (nh3) with absolute URLs.

Pure function, no Scrapy: what leaves here may be embedded in an RSS or Atom
document and rendered by any feed reader.
"""

from __future__ import annotations

from functools import partial
from urllib.parse import urljoin, urlsplit

import nh3

from aggregator.normalize.text import strip_xml_invalid

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "URL_SCHEMES", "sanitize_html"]

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p", "br", "h2", "h3", "h4", "h5", "h6", "strong", "b", "em", "i", "u",
        "blockquote", "ul", "ol", "li", "a", "img", "figure", "figcaption",
        "table", "thead", "tbody", "tr", "td", "th", "span", "div", "sup", "sub",
        "hr", "pre", "code",
    }
)  # fmt: skip

ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title", "width", "height"}),
}

#: Dropped together with everything inside them (not just the tags).
_DROP_WITH_CONTENT: frozenset[str] = frozenset(
    {
        "script", "style", "iframe", "object", "embed", "form", "noscript", "template",
        "textarea", "select", "button", "svg", "math", "frame", "frameset", "applet",
    }
)  # fmt: skip

URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

#: Attributes holding a URL, per tag.
_URL_ATTRIBUTES = {("a", "href"), ("img", "src")}


def _absolute(base_url: str, tag: str, attribute: str, value: str) -> str | None:
    """nh3 attribute filter: resolve URLs against the page, drop what stays unsafe."""
    if (tag, attribute) not in _URL_ATTRIBUTES:
        return value
    value = value.strip()
    if not value:
        return None
    try:
        url = urljoin(base_url, value)
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    # nh3 checks the scheme again after this filter; dropping here also removes
    # what is still relative (no usable base) so no relative URL ever leaves.
    return url if scheme in URL_SCHEMES else None


def sanitize_html(fragment: str, base_url: str) -> str:
    """Clean an article's HTML fragment for embedding in a feed.

    Only the allow-listed tags and attributes survive; script, style, iframe,
    object, embed and form go with their content; event handlers and any URL
    scheme but http, https and mailto are dropped; relative ``href``/``src`` are
    made absolute against ``base_url``; links get ``rel="noopener"``; characters
    XML 1.0 cannot carry are removed (before and after, since entities such as
    ``&#11;`` only become characters while parsing).
    """
    if not fragment:
        return ""
    cleaned = nh3.clean(
        strip_xml_invalid(fragment),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=partial(_absolute, base_url),
        strip_comments=True,
        link_rel="noopener",
        url_schemes=set(URL_SCHEMES),
    )
    return strip_xml_invalid(cleaned).strip()
