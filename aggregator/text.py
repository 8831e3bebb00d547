"""Vietnamese text normalization: pure functions, no Scrapy.

Display text keeps the tone-mark style the newspaper printed ("hoà" stays "hoà");
:func:`fold` gives the form used for matching (category lookup, dedup keys).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_text", "fold", "slugify", "strip_xml_invalid", "xml_safe"]

# U+00D0 (Icelandic Eth) printed for U+0110 (Vietnamese Đ); U+00F0 for đ.
_ETH = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111"})
# Zero-width and invisible format characters seen in pasted text.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Characters XML 1.0 forbids (lxml raises on them), plus C1 controls.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_NEWLINES = re.compile(r"\s*\n\s*")

# Old ("hoà") vs new ("hòa") tone placement: fold to one form for matching.
_OLD_TONES = {
    "oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oè": "òe", "oé": "óe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}  # fmt: skip
_OLD_TONE_RE = re.compile("|".join(_OLD_TONES))


def strip_xml_invalid(text: str) -> str:
    """Remove characters that XML 1.0 cannot carry."""
    return _XML_INVALID.sub("", text)


def clean_text(text: str, *, multiline: bool = False) -> str:
    """NFC, Đ for U+00D0, no invisible or control characters, single spaces.

    With ``multiline`` line breaks are kept (blank lines dropped); otherwise the
    text becomes one line.
    """
    text = unicodedata.normalize("NFC", text).translate(_ETH)
    text = _INVISIBLE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = strip_xml_invalid(text)
    if multiline:
        text = _SPACES.sub(" ", text)
        text = _NEWLINES.sub("\n", text)
    else:
        text = _SPACES.sub(" ", re.sub(r"\s+", " ", text))
    return text.strip()


def xml_safe(text: str) -> str:
    """Alias of :func:`strip_xml_invalid` for call sites that write XML."""
    return strip_xml_invalid(text)


def fold(text: str, *, diacritics: bool = True) -> str:
    """Matching form: cleaned, lowercase, one tone-mark placement.

    ``diacritics=False`` also removes every mark (đ → d).
    """
    text = clean_text(text).lower()
    text = _OLD_TONE_RE.sub(lambda m: _OLD_TONES[m.group(0)], text)
    if not diacritics:
        text = unicodedata.normalize("NFD", text.replace("đ", "d"))
        text = "".join(c for c in text if not unicodedata.combining(c))
    return text


def slugify(text: str) -> str:
    """ASCII slug: lowercase, no diacritics, đ → d, words joined by '-'."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text, diacritics=False)).strip("-")
