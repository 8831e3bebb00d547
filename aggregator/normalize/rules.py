"""Normalization of extracted article fields: pure functions, no Scrapy.

Source tags leave the lead, bylines become author lists, clutter lines never
reach the body.
"""

from __future__ import annotations

import re

from aggregator.normalize.text import clean_text, fold

__all__ = [
    "is_clutter_line",
    "is_clutter_text",
    "is_site_name",
    "looks_like_byline",
    "split_authors",
    "split_source_tag",
    "strip_clutter",
    "strip_end_marker",
]

# "(BTN) -", "(Baonghean.vn) -", "(Báo Quảng Ngãi)-", "(PTĐT)", "PTO-", "(BBNĐT) –".
_SOURCE_TAG = re.compile(
    r"^\s*(?:\((?P<paren>[^()]{2,30})\)\s*[-–—:]?|(?P<caps>[A-ZĐ]{2,8}(?:\.VN)?)\s*[-–—])\s*"
)
_BYLINE_PREFIX = re.compile(
    r"^\s*(?:(?:Thực hiện|Bài(?:\s*(?:,|và)\s*ảnh)?|Ảnh|Nhóm PV|Tin,?\s*ảnh|Nguồn)\s*:"
    r"|Theo\s+)\s*",
    re.IGNORECASE,
)
# what a byline says of the article after the names: "Hà Thu (tổng hợp)", "Minh Anh (theo
# Reuters)", "Lan Hương (TTXVN)"
_BYLINE_NOTE = re.compile(r"\s*\([^()]{1,40}\)\s*$")
_AUTHOR_SPLIT = re.compile(r"\s*(?:[–—,;]|\s-\s|-(?=\s*[A-ZĐÁÀẢÃẠÂĂÉÈÊÍÓÔƠÚƯÝ])|\s+và\s+)\s*")

# Lines that are page furniture, not article text (see provincial-sites.md). One pattern
# (every alternative starts with "^"): one match per line instead of one search per pattern.
_CLUTTER = re.compile(
    "|".join(
        f"(?:{p})"
        for p in (
            r"^theo dõi\b.{0,80}\btrên google news$",
            r"^tag\s*:",
            r"^từ khóa\s*:|^từ khoá\s*:",
            r"^\d{1,2}:\d{2}\s*/\s*\d{1,2}:\d{2}$",  # audio player "0:00 / 0:00"
            r"^đọc báo in\b|^tải ứng dụng\b",
            r"^(?:chia sẻ|in bài|gửi bài|bình luận|lượt xem)\b.{0,40}$",
            r"^ý kiến của bạn$|^họ (?:và )?tên\s*:|^email\s*:",
            r"^(?:tin|bài) liên quan$|^tin cùng chuyên mục$",
            r"^\./?\.?$",
        )
    ),
    re.IGNORECASE,
)
_SHORTCODE = re.compile(r"\[(?:links|related|ads?)\(\d+\)\]", re.IGNORECASE)
_END_MARKER = re.compile(r"\s*\./\.\s*$")  # "... quanh năm./." ends an article


def split_source_tag(lead: str) -> tuple[str, str | None]:
    """``"(BTN) - Sáng nay, ..."`` → ``("Sáng nay, ...", "(BTN)")``."""
    m = _SOURCE_TAG.match(lead)
    if not m:
        return lead, None
    rest = lead[m.end() :]
    if not rest or not (rest[0].isupper() or rest[0].isdigit() or rest[0] in "“\"'"):
        return lead, None
    tag = f"({m.group('paren')})" if m.group("paren") else m.group("caps")
    return rest, tag


def _without_note(byline: str) -> str:
    """The byline without its note in parentheses, if names come before it."""
    return _BYLINE_NOTE.sub("", byline) or byline


def split_authors(byline: str) -> list[str]:
    """``"Thực hiện: Ái Kiều- Th.Hậu"`` → ``["Ái Kiều", "Th.Hậu"]``."""
    text = clean_text(byline)
    text = _without_note(_BYLINE_PREFIX.sub("", text))
    names = [n.strip(" .:") for n in _AUTHOR_SPLIT.split(text)]
    return [n for n in names if n and len(n) <= 60]


# "VCCorp.vn", "NLD.COM.VN", "www.baoxyz.vn": a web address credited as the author.
# A name's last label must be a web suffix: "N.Anh", "Th.Hậu" are people.
_DOMAIN_NAME = re.compile(
    r"^(?:www\.)?[\w-]+(?:\.[\w-]+)*\.(?:vn|com|net|org|info|gov|edu|biz|tv|news|asia|io)$",
    re.IGNORECASE,
)
_NOT_ALNUM = re.compile(r"[\W_]+")


def _org_key(name: str) -> str:
    return _NOT_ALNUM.sub("", fold(name, diacritics=False).removeprefix("www."))


def is_site_name(name: str, *site_names: str) -> bool:
    """Whether an author name is the publication, not a person: a web address, or one of
    ``site_names`` (the paper's name, its publisher's, its host) as spelled in any case,
    with or without spaces, tone marks, ``www.`` or the host's suffix
    (``"VnExpress"`` is ``vnexpress.net``)."""
    if _DOMAIN_NAME.match(clean_text(name)):
        return True
    key = _org_key(name)
    if not key:
        return False
    for site in site_names:
        text = fold(site, diacritics=False).removeprefix("www.")
        keys = {_org_key(text)}
        if _DOMAIN_NAME.match(text):
            keys.add(_org_key(text.split(".", 1)[0]))
        if key in keys:
            return True
    return False


def looks_like_byline(line: str) -> bool:
    """A short last line of capitalized words: a byline printed alone (a note in
    parentheses after the names aside: "Hà Thu (tổng hợp)")."""
    text = _without_note(clean_text(line))
    if not text or len(text) > 60 or (text.endswith((".", "?", "!", ":")) and text != text.upper()):
        return False
    if _BYLINE_PREFIX.match(text):
        return True
    words = [w for w in re.split(r"[\s,–-]+", text) if w]
    if not 1 <= len(words) <= 8:
        return False
    return all(w[0].isupper() or w[0].isdigit() or w in ("và",) for w in words)


#: longer than the longest clean text a ``$``-ended alternative of ``_CLUTTER`` matches
#: (104 characters); the others read only the first 20-odd characters
_CLUTTER_LONG = 120


def is_clutter_line(line: str) -> bool:
    """True for page furniture that must not reach a body."""
    # a long line is clutter by its start alone: only a head of it is cleaned, cut at a
    # " " (cleaning is local there: nothing composes with or across a space, words end at
    # it), so the head cleans to the start of the clean line
    if len(line) > 2 * _CLUTTER_LONG and (cut := line.find(" ", _CLUTTER_LONG + 40)) != -1:
        head = clean_text(line[:cut])
        if len(head) > _CLUTTER_LONG:
            return is_clutter_text(head)
    return is_clutter_text(clean_text(line))


def is_clutter_text(text: str) -> bool:
    """:func:`is_clutter_line` for a text that went through ``clean_text`` already."""
    return _CLUTTER.match(text) is not None


def strip_clutter(lines: list[str]) -> list[str]:
    """Remove clutter lines, shortcodes and end markers from body lines."""
    out: list[str] = []
    for raw in lines:
        line = raw
        if "[" in line:
            line = _SHORTCODE.sub("", line)
        if "./." in line:
            line = _END_MARKER.sub(".", line)
        line = line.strip()
        if not line or line == ".":
            continue
        # lines from the extractor are clean already: cleaning again would change nothing
        if not is_clutter_text(line if line is raw else clean_text(line)):
            out.append(line)
    return out


def strip_end_marker(text: str) -> str:
    """``"... quanh năm./."`` → ``"... quanh năm."`` (the marker closes the sentence)."""
    return _END_MARKER.sub(".", text) if _END_MARKER.search(text) else text
