"""Dates as Vietnamese newspapers print them, to aware datetimes (Asia/Ho_Chi_Minh).

Pure functions with compiled regexes (about a microsecond a call): no general date
parser sits on this path. Printed times without a zone are Vietnam time; "GMT+7"
means +07:00 (a general parser reads it as UTC-07:00).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

__all__ = ["ICT", "VN_TZ", "ParsedDate", "iso", "parse_date", "parse_iso", "to_vn"]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: Asia/Ho_Chi_Minh as a fixed offset for display: UTC+7 with no DST since 1975, while the
#: tz database gives older dates (and the epoch) +08:00; feeds and pages always say +07:00.
ICT = timezone(timedelta(hours=7), "ICT")


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with its offset, or None."""
    return value.isoformat() if value is not None else None


# dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy; or "ngày 14 tháng 04 năm 2016".
_DMY = re.compile(r"(?<!\d)(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})(?!\d)")
_WORDS = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE)
_YMD = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")
_TIME = re.compile(r"(?<![\d/.-])(\d{1,2})\s*[:hg]\s*(\d{2})(?::(\d{2}))?(?![\d/])")
# "GMT+7", "GMT +07:00", "UTC+7", and the printed typo "G7T+7".
_ZONE = re.compile(r"\b(?:GMT|UTC|G7T)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
_ISO_LIKE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}T")
_RFC822 = re.compile(r"^\s*(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}")
# ISO 8601 as pages really write it, where datetime.fromisoformat gives up: a space before
# the offset ("08:52:11.000 +07:00"), one-digit hours, a lowercase "z", "UTC"/"GMT" with or
# without an offset ("GMT+7"), any number of fraction digits.
_LOOSE_ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|UTC|GMT)?\s*(?:([+-])(\d{1,2})(?::?(\d{2}))?)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedDate:
    """A parsed date; ``has_time`` is False for a printed date without a time."""

    value: datetime
    has_time: bool


def to_vn(value: datetime) -> datetime:
    """The same instant in Vietnam time; a naive value is taken as Vietnam time."""
    if value.tzinfo is None:
        return value.replace(tzinfo=VN_TZ)
    return value.astimezone(VN_TZ)


def parse_iso(text: str) -> ParsedDate | None:
    """ISO 8601 (JSON-LD, meta, <time datetime>) or RFC 822 (RSS pubDate)."""
    text = text.strip()
    if not text:
        return None
    if _RFC822.match(text):
        try:
            return ParsedDate(to_vn(parsedate_to_datetime(text)), True)
        except (TypeError, ValueError):
            return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return _loose_iso(text)
    has_time = "T" in text or " " in text.strip()
    return ParsedDate(to_vn(value), has_time)


def _loose_iso(text: str) -> ParsedDate | None:
    """The variants of ISO 8601 that ``fromisoformat`` refuses (see ``_LOOSE_ISO``)."""
    m = _LOOSE_ISO.match(text)
    if not m:
        return None
    year, month, day, hour, minute, second, fraction, utc, sign, oh, om = m.groups()
    try:
        zone = UTC if utc and not sign else None
        if sign:
            offset = timedelta(hours=int(oh), minutes=int(om or 0))
            zone = timezone(-offset if sign == "-" else offset)
        value = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0),
            int(second or 0), int((fraction or "0")[:6].ljust(6, "0")), zone,
        )  # fmt: skip
    except ValueError:  # no such day, hour or offset
        return None
    return ParsedDate(to_vn(value), hour is not None)


def _zone(text: str) -> timezone | None:
    m = _ZONE.search(text)
    if not m:
        return None
    sign = -1 if m.group(1) == "-" else 1
    hours = int(m.group(2))
    if m.group(0).upper().startswith("G7T"):  # "G7T+7" is a typo for GMT+7
        sign, hours = 1, 7
    offset = timedelta(hours=hours, minutes=int(m.group(3) or 0))
    return timezone(sign * offset)


def _parse_one(text: str) -> ParsedDate | None:
    day = month = year = None
    hour = minute = second = 0
    has_time = False
    rest = text
    if m := _YMD.search(text):
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if m.group(4):
            hour, minute, second = int(m.group(4)), int(m.group(5)), int(m.group(6) or 0)
            has_time = True
        rest = text[: m.start()] + " " + text[m.end() :]
    elif m := (_DMY.search(text) or _WORDS.search(text)):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        rest = text[: m.start()] + " " + text[m.end() :]
    else:
        return None
    if not has_time and (t := _TIME.search(_ZONE.sub(" ", rest))):
        hour, minute, second = int(t.group(1)), int(t.group(2)), int(t.group(3) or 0)
        has_time = True
    zone = _zone(text)
    try:
        naive = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    value = naive.replace(tzinfo=zone).astimezone(VN_TZ) if zone else naive.replace(tzinfo=VN_TZ)
    return ParsedDate(value, has_time)


def _date_spans(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for p in (_YMD, _DMY, _WORDS) for m in p.finditer(text)]
    spans.sort()
    out: list[tuple[int, int]] = []
    for start, end in spans:  # overlapping matches (a YMD inside a DMY...) count once
        if out and start < out[-1][1]:
            continue
        out.append((start, end))
    return out


def parse_date(text: str | None) -> ParsedDate | None:
    """Parse a printed date (any format in the reference notes) or return None.

    When the text holds several dates, the first one printed with a time wins (a stale
    page-header date has none; "Đăng" comes before "Cập nhật"), else the first.

    >>> parse_date("Thứ Ba, 14/06/2022").value.isoformat()
    '2022-06-14T00:00:00+07:00'
    >>> parse_date("22/09/2025 08:36 GMT+7").value.isoformat()
    '2025-09-22T08:36:00+07:00'
    """
    if not text:
        return None
    if _ISO_LIKE.match(text) or _RFC822.match(text):
        return parse_iso(text)
    spans = _date_spans(text)
    if len(spans) <= 1:
        return _parse_one(text)
    found: list[ParsedDate] = []
    for i in range(len(spans)):
        # each date with the text up to the next one (its time is printed beside it)
        lo = spans[i - 1][1] if i else 0
        hi = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        if parsed := _parse_one(text[lo:hi]):
            found.append(parsed)
    with_time = [p for p in found if p.has_time]
    chosen = with_time or found
    return chosen[0] if chosen else None
