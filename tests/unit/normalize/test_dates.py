from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.normalize.dates import parse_date, parse_iso

VN = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("text", "expected", "has_time"),
    [
        ("Thứ Ba, 14/06/2022", datetime(2022, 6, 14, 0, 0, tzinfo=VN), False),
        ("Thứ sáu: 15:00 ngày 09/02/2024", datetime(2024, 2, 9, 15, 0, tzinfo=VN), True),
        ("09:04, 28/04/2014", datetime(2014, 4, 28, 9, 4, tzinfo=VN), True),
        ("21:48 | 28/06/2020", datetime(2020, 6, 28, 21, 48, tzinfo=VN), True),
        ("22/09/2025 08:36 GMT+7", datetime(2025, 9, 22, 8, 36, tzinfo=VN), True),
        ("23/07/2020 13:36 G7T+7", datetime(2020, 7, 23, 13, 36, tzinfo=VN), True),
        ("21:28 22/09/2025", datetime(2025, 9, 22, 21, 28, tzinfo=VN), True),
        ("Thứ ba, 23/08/2011 14:02", datetime(2011, 8, 23, 14, 2, tzinfo=VN), True),
        ("Thứ tư, 14:24, 26/10/2022", datetime(2022, 10, 26, 14, 24, tzinfo=VN), True),
        ("2026-01-14 08:08:00", datetime(2026, 1, 14, 8, 8, tzinfo=VN), True),
        ("(03/02/2019 21:20)", datetime(2019, 2, 3, 21, 20, tzinfo=VN), True),
        ("Chính trị 28-05-2024", datetime(2024, 5, 28, tzinfo=VN), False),
        ("Thứ hai, ngày 14 tháng 04 năm 2016", datetime(2016, 4, 14, tzinfo=VN), False),
        ("29.12.2023", datetime(2023, 12, 29, tzinfo=VN), False),
        ("2026-11-20T08:15:00+07:00", datetime(2026, 11, 20, 8, 15, tzinfo=VN), True),
        ("2026-11-20T01:15:00Z", datetime(2026, 11, 20, 8, 15, tzinfo=VN), True),
        ("Fri, 20 Nov 2026 08:15:00 +0700", datetime(2026, 11, 20, 8, 15, tzinfo=VN), True),
    ],
)
def test_formats(text: str, expected: datetime, has_time: bool) -> None:
    parsed = parse_date(text)
    assert parsed is not None
    assert parsed.value.replace(microsecond=0) == expected.replace(microsecond=0)
    assert parsed.value.utcoffset() == timedelta(hours=7)
    assert parsed.has_time is has_time


def test_gmt_plus_7_is_not_utc_minus_7() -> None:
    parsed = parse_date("01/01/2026 10:00 (GMT+7)")
    assert parsed is not None and parsed.value.isoformat() == "2026-01-01T10:00:00+07:00"


@pytest.mark.parametrize("text", ["", "không có ngày", "31/02/2026", "99:99"])
def test_unparsable(text: str) -> None:
    assert parse_date(text) is None


def test_parse_iso_naive_is_vietnam_time() -> None:
    parsed = parse_iso("2026-03-01T10:00:00")
    assert parsed is not None and parsed.value.isoformat() == "2026-03-01T10:00:00+07:00"


def test_several_dates_in_one_text() -> None:
    header = "Thứ hai, ngày 14 tháng 04 năm 2016 | Cập nhật lúc 23/07/2020 13:36 GMT+7"
    parsed = parse_date(header)
    assert parsed is not None and parsed.value.isoformat() == "2020-07-23T13:36:00+07:00"
    both = parse_date("Đăng 09:04, 28/04/2014 - Cập nhật 10:15, 29/04/2014")
    assert both is not None and both.value.isoformat() == "2014-04-28T09:04:00+07:00"


@given(st.text())
def test_never_raises(text: str) -> None:
    parsed = parse_date(text)
    assert parsed is None or parsed.value.utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a space before the offset, fractional seconds (JSON-LD as some CMSs write it)
        ("2026-03-07T08:52:11.000 +07:00", datetime(2026, 3, 7, 8, 52, 11, tzinfo=VN)),
        ("2026-03-07 08:52:11.123456789 +0700", datetime(2026, 3, 7, 8, 52, 11, tzinfo=VN)),
        ("2026-03-07T8:05:00+07:00", datetime(2026, 3, 7, 8, 5, tzinfo=VN)),
        ("2026-03-07T01:52:11z", datetime(2026, 3, 7, 8, 52, 11, tzinfo=VN)),
        ("2026-03-07T01:52:11 UTC", datetime(2026, 3, 7, 8, 52, 11, tzinfo=VN)),
        ("2026-03-07T08:52 GMT+7", datetime(2026, 3, 7, 8, 52, tzinfo=VN)),
        ("2026-03-07T02:22:11.5 -01:30", datetime(2026, 3, 7, 10, 52, 11, 500000, VN)),
    ],
)
def test_iso_variants_that_fromisoformat_refuses(text: str, expected: datetime) -> None:
    parsed = parse_date(text)
    assert parsed is not None and parsed.has_time
    assert parsed.value.replace(microsecond=0) == expected.replace(microsecond=0)


@pytest.mark.parametrize(
    "text", ["2026-02-30T08:00:00 +07:00", "2026-03-07T25:00 +07:00", "2026-03-07T08:00 +25:00"]
)
def test_impossible_iso_variants_are_no_date(text: str) -> None:
    assert parse_iso(text) is None
