"""Vietnamese text normalization: pure functions, no Scrapy.

Display text keeps the tone-mark style the newspaper printed ("hoà" stays "hoà");
:func:`fold` gives the form used for matching (category lookup, dedup keys).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from itertools import filterfalse

__all__ = [
    "clean_lines",
    "clean_text",
    "fix_eth",
    "fold",
    "kept_length",
    "looks_garbled",
    "slugify",
    "strip_xml_invalid",
    "token_f1",
    "tokens",
    "xml_safe",
]

# U+00D0 (Icelandic Eth) printed for U+0110 (Vietnamese Đ), U+00F0 for đ. Icelandic
# never starts a word with ð, so an eth at a word start, or in an all-caps token such
# as "HÐND" or "GD&ÐT", stands for Vietnamese Đ; "með" and "Guðrún" are left alone. In
# caps a run of Ð goes whole ("AÐÐ" gives "AĐĐ" at once: cleaning twice changes nothing).
# (Each pattern starts with the eth itself, its neighbours tested around it: the regex
# engine then skips ahead to each eth instead of testing a lookbehind at every position.)
_ETH_WORD_START = re.compile(r"[\u00d0\u00f0](?<![^\W\d_][\u00d0\u00f0])")
_ETH_IN_CAPS = re.compile(r"\u00d0(?<=[A-ZĐ&]\u00d0)\u00d0*|\u00d0+(?=[A-ZĐ])")
_ETH_MAP = {"\u00d0": "\u0110", "\u00f0": "\u0111"}
# Characters XML 1.0 forbids (lxml raises on them), plus C1 controls.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
# Removed by clean_text: zero-width and invisible format characters seen in pasted
# text, and the XML-invalid characters that Python does not count as whitespace
# (\x0b, \x0c, \x1c-\x1f and \x85 separate words: str.split() treats them as spaces).
_DROP = re.compile(
    "[\u200b\u200c\u200d\u2060\ufeff\u00ad\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"
    "\ufffe\uffff\ud800-\udfff]"
)

# Old ("hoà") vs new ("hòa") tone placement: fold to one form for matching.
_OLD_TONES = {
    "oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oè": "òe", "oé": "óe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}  # fmt: skip
_OLD_TONE_RE = re.compile("|".join(_OLD_TONES))


def fix_eth(text: str) -> str:
    """U+00D0/U+00F0 that stand for Vietnamese Đ/đ become U+0110/U+0111."""
    text = _ETH_WORD_START.sub(lambda m: _ETH_MAP[m.group(0)], text)
    return _ETH_IN_CAPS.sub(lambda m: "\u0110" * len(m.group(0)), text)


def strip_xml_invalid(text: str) -> str:
    """Remove characters that XML 1.0 cannot carry."""
    # each of them is unprintable: a text printable but for its line breaks has none (a
    # check at twice the speed of the regex's scan)
    if text.replace("\n", "").isprintable():
        return text
    return _XML_INVALID.sub("", text)


def clean_text(text: str, *, multiline: bool = False) -> str:
    """NFC, Đ for U+00D0, no invisible or control characters, single spaces.

    With ``multiline`` line breaks are kept (blank lines dropped); otherwise the
    text becomes one line. Idempotent, and the result is XML-safe.
    """
    # every line break but "\n" is unprintable
    plain = (text.replace("\n", "") if multiline else text).isprintable()
    # invisible characters go first: the eth rules read a character's neighbours, and
    # the neighbours must be the ones a second pass would see
    if not plain and _droppable(text):
        text = _DROP.sub("", text)
    # the text itself when its quick check says it is NFC (as is_normalized() would, but
    # decomposed text is composed once, not once to answer and once more to normalize)
    text = unicodedata.normalize("NFC", text)
    if "\u00d0" in text or "\u00f0" in text:
        text = fix_eth(text)
    # printable text stays printable (composing keeps it so): its lines need no new check,
    # and it breaks lines at "\n" alone
    spaced = _printable_spaced if plain else _single_spaced
    if multiline:
        lines = map(spaced, text.split("\n") if plain else text.splitlines())
        return "\n".join(line for line in lines if line)
    return spaced(text)


def _droppable(text: str) -> bool:
    """Whether ``text`` may hold a character of ``_DROP``: every one is unprintable, none a
    "\t", "\n" or "\r" (text from HTML has those; the regex costs ~35 ns a character)."""
    return not text.replace("\n", "").replace("\t", "").replace("\r", "").isprintable()


def _single_spaced(text: str) -> str:
    """``" ".join(text.split())``; as it is, its ends stripped, when its only spaces are
    single " " (printable: no other space), which is most text and 5x faster."""
    return text.strip(" ") if text.isprintable() and "  " not in text else " ".join(text.split())


def _printable_spaced(text: str) -> str:
    """:func:`_single_spaced` of a printable text."""
    return text.strip(" ") if "  " not in text else " ".join(text.split())


#: a line's text from its first character that is not a space (one match per line that
#: has one: lines of only spaces, most lines of text taken from indented HTML, are skipped
#: by the regex engine instead of in Python)
_FILLED_LINE = re.compile(r"\S[^\n]*")


def clean_lines(text: str) -> list[str]:
    """:func:`clean_text` of each line of ``text`` (split at "\\n" only), empty lines left
    out, for less than line by line: the lines that are only spaces left out first (they
    clean to nothing), the others cleaned at once (the same lines: "\\n" is never
    dropped, composes with nothing and is no word character)."""
    text = "\n".join(_FILLED_LINE.findall(text))
    plain = text.replace("\n", "").isprintable()
    if not plain and _droppable(text):
        text = _DROP.sub("", text)
    text = unicodedata.normalize("NFC", text)  # composed once, as in clean_text
    if "\u00d0" in text or "\u00f0" in text:
        text = fix_eth(text)
    spaced = _printable_spaced if plain else _single_spaced  # as in clean_text
    return [line for part in text.split("\n") if (line := spaced(part))]


def kept_length(text: str) -> int:
    """How many characters of ``text`` :func:`clean_text` keeps before composing them (NFC
    composes at most 4 into one): so ``len(clean_text(t)) >= kept_length(t) / 4``, known
    without cleaning."""
    return len(_DROP.sub("", "".join(text.split())))


def xml_safe(text: str) -> str:
    """Alias of :func:`strip_xml_invalid` for call sites that write XML."""
    return strip_xml_invalid(text)


def fold(text: str, *, diacritics: bool = True, clean: bool = True) -> str:
    """Matching form: cleaned, lowercase, one tone-mark placement.

    ``diacritics=False`` also removes every mark (đ → d). ``clean=False`` skips
    :func:`clean_text` for text that went through it already.
    """
    text = (clean_text(text) if clean else text).lower()
    text = _OLD_TONE_RE.sub(_new_tone, text)
    if not diacritics:
        text = unicodedata.normalize("NFD", text.replace("đ", "d"))
        # the marks left out in C: no Python call per character
        text = "".join(filterfalse(unicodedata.combining, text))
    return text


def _new_tone(m: re.Match[str]) -> str:
    return _OLD_TONES[m.group(0)]


def slugify(text: str) -> str:
    """ASCII slug: lowercase, no diacritics, đ → d, words joined by '-'."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text, diacritics=False)).strip("-")


# Mojibake signatures. UTF-8 read as latin-1/cp1252: "Ä‘" (đ), "á»" (ộ, ờ...), "Æ°" (ư).
# TCVN3 (ABC) read as cp1252/latin-1: its tone-marked letters land on symbols such as
# "ª" (ê), "¬" (ô), "¸" (á), "µ" (à), "¶" (ả), "¹" (ạ), "®" (đ), "¬" (ô) inside words.
# windows-1258 read as latin-1: combining tone marks arrive as "Ì", "Ò", "Þ", "ò".
_UTF8_AS_LATIN1 = re.compile("Ã[\u0080-\u00bf]|Ä[\u0080-\u00bf‘’]|Æ[°¯]|á[º»][\u0080-\u00bf]")
_TCVN3 = re.compile("[a-zA-Z][ª¬¸µ¶·¹¨©®§¦¥¤£¢¡¼½¾ÊËÌÍÎ×ØÚÛÜÝÞß]|[ª¬¸µ¶¹®][a-z]")
_CP1258_AS_LATIN1 = re.compile("[aeiouyâêôãõýAEIOUYÂÊÔÃÕÝ][ÌìÒÞò]")


# Every signature above needs one of these: Latin-1 symbols and C1 controls (never in
# Vietnamese text), or the capitals that windows-1258's tone marks turn into.
_SUSPECT = re.compile("[\u0080-\u00bf\u00d7\u00de\u00df\u00f7\u00fe]")


def looks_garbled(text: str) -> bool:
    """True when text shows mojibake of a legacy Vietnamese encoding (or of UTF-8).

    Two or more hits are needed, so one stray symbol ("25¢", "GD®") does not count.
    Clean text costs one character-class scan.
    """
    if _SUSPECT.search(text) is None and "Ì" not in text and "Ò" not in text:
        return False
    hits = 0
    for pattern in (_UTF8_AS_LATIN1, _TCVN3, _CP1258_AS_LATIN1):
        hits += len(pattern.findall(text))
        if hits >= 2:
            return True
    return False


_WORD = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    """Lowercase word tokens of NFC text."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


def token_f1(predicted: str, expected: str) -> float:
    """Bag-of-words F1 between two texts (1.0 when both are empty)."""
    p, e = Counter(tokens(predicted)), Counter(tokens(expected))
    if not p and not e:
        return 1.0
    overlap = sum((p & e).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(e.values())
    return 2 * precision * recall / (precision + recall)
