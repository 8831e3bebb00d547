"""What is safe to show: article HTML through an allow-list sanitizer (nh3) with absolute
URLs, text fields as text (escaped by every output), web URLs only, no NUL characters.

Pure function, no Scrapy: what leaves here may be embedded in an RSS or Atom
document and rendered by any feed reader.
"""

from __future__ import annotations

import json
import re
from collections.abc import Set as AbstractSet
from contextvars import ContextVar
from typing import Any
from urllib.parse import urljoin, urlsplit

import nh3

from aggregator.normalize.text import clean_text, strip_xml_invalid
from aggregator.normalize.urls import plain_join

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "BIDI_CONTROLS",
    "URL_SCHEMES",
    "json_text",
    "safe_text",
    "sanitize_html",
    "web_url",
    "without_nul",
]

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
_WEB_SCHEMES = frozenset({"http", "https"})

#: Attributes holding a URL, per tag.
_URL_ATTRIBUTES = {("a", "href"), ("img", "src")}


#: the page URL of the fragment being cleaned: the cleaner's attribute filter reads it
_BASE_URL: ContextVar[str] = ContextVar("_BASE_URL")


def _absolute(base_url: str, tag: str, attribute: str, value: str) -> str | None:
    """nh3 attribute filter: resolve URLs against the page, drop what stays unsafe."""
    if (tag, attribute) not in _URL_ATTRIBUTES:
        return value
    # nh3 checks the scheme again after this filter; dropping here also removes
    # what is still relative (no usable base) so no relative URL ever leaves.
    return _joined(base_url, value.strip(), URL_SCHEMES)


def _absolute_here(tag: str, attribute: str, value: str) -> str | None:
    """:func:`_absolute` against the page URL of the fragment being cleaned."""
    return _absolute(_BASE_URL.get(), tag, attribute, value)


#: the sanitizer, built once (nh3.clean builds one per call: ~15 µs, more than a body's
#: cleaning); the page URL reaches its attribute filter through ``_BASE_URL``
_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(_DROP_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    attribute_filter=_absolute_here,
    strip_comments=True,
    link_rel="noopener",
    url_schemes=set(URL_SCHEMES),
)


def _joined(base: str, ref: str, schemes: AbstractSet[str]) -> str | None:
    """``ref`` resolved against ``base`` when its scheme is one of ``schemes`` (which
    hold http and https), else None (as None for an empty ``ref``)."""
    if not ref:
        return None
    if (url := plain_join(base, ref)) is not None:
        return url
    try:
        url = urljoin(base, ref)
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    return url if scheme in schemes else None


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
    token = _BASE_URL.set(base_url)
    try:
        cleaned = _CLEANER.clean(strip_xml_invalid(fragment))
    finally:
        _BASE_URL.reset(token)
    return strip_xml_invalid(cleaned).strip()


#: Word's line break (U+000B), form feed and NEL separate words: they become spaces.
_CONTROL_SPACES = re.compile("[\x0b\x0c\x85]")
#: Bidirectional overrides, embeddings, isolates and marks: Vietnamese never needs
#: them, and an override (U+202E) makes a reader show text other than what it is.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe_text(value: str | None, *, multiline: bool = False) -> str:
    """Display text: the text kept whole, without control characters, characters XML
    cannot carry or bidi overrides, single-spaced (one line unless ``multiline``).

    A text field is text, never markup: a headline about ``<script>`` (escaped in its
    page) keeps its ``<``, ``&`` and quotes, and every output escapes them (XML, HTML
    and JSON writers do). Idempotent. The store, the feeds and the export all use it.
    """
    text = value or ""
    if not text.replace("\n", "").isprintable():  # both are unprintable, "\n" is neither
        text = BIDI_CONTROLS.sub("", _CONTROL_SPACES.sub(" ", text))
    return clean_text(text, multiline=multiline)


def json_text(value: Any) -> str:
    """``value`` as compact UTF-8 JSON with ``<``, ``>`` and ``&`` written as ``\\u``
    escapes: the same value to every JSON reader, and no tag in the bytes for a
    program that pastes a string into HTML (those characters only occur inside JSON
    strings, so the replacement cannot change the structure)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    # str.replace, not str.translate: translate looks every character up in Python
    # (15 ms for a 50-entry feed), replace scans in C; no replacement adds a character
    # another one replaces
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def web_url(value: str | None, base: str) -> str | None:
    """An http(s) URL (a relative one resolved against ``base``), or None for
    ``javascript:``, ``data:`` and the like."""
    return _joined(base, (value or "").strip(), _WEB_SCHEMES)


def without_nul(value: Any) -> Any:
    """``value`` (a string, or a list or dict of them) without NUL characters."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    if isinstance(value, dict):
        return {k: without_nul(v) for k, v in value.items()}
    return value
