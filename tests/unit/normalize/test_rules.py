import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.normalize.rules import (
    is_clutter_line,
    is_clutter_text,
    is_site_name,
    looks_like_byline,
    split_authors,
    split_source_tag,
    strip_clutter,
)
from aggregator.normalize.text import clean_text


@pytest.mark.parametrize(
    ("lead", "rest", "tag"),
    [
        ("(BTN) - Sáng nay, tỉnh tổ chức hội nghị.", "Sáng nay, tỉnh tổ chức hội nghị.", "(BTN)"),
        (
            "(Baonghean.vn) - Chiều 3.11, đoàn công tác...",
            "Chiều 3.11, đoàn công tác...",
            "(Baonghean.vn)",
        ),
        ("PTO- Ngày 22-8, huyện khai mạc.", "Ngày 22-8, huyện khai mạc.", "PTO"),
        ("(PTĐT) Sáng 28.5, tỉnh họp.", "Sáng 28.5, tỉnh họp.", "(PTĐT)"),
        ("(Báo Quảng Ngãi)- Sáng nay...", "Sáng nay...", "(Báo Quảng Ngãi)"),
        ("Sáng nay, tỉnh tổ chức hội nghị.", "Sáng nay, tỉnh tổ chức hội nghị.", None),
    ],
)
def test_split_source_tag(lead: str, rest: str, tag: str | None) -> None:
    assert split_source_tag(lead) == (rest, tag)


@pytest.mark.parametrize(
    ("byline", "authors"),
    [
        ("Thanh Tuyền", ["Thanh Tuyền"]),
        ("A Trư – Y Krăk", ["A Trư", "Y Krăk"]),
        ("Thực hiện: Ái Kiều- Th.Hậu", ["Ái Kiều", "Th.Hậu"]),
        ("Bài, ảnh: Minh Hương", ["Minh Hương"]),
        ("NPV", ["NPV"]),
        ("Theo TTXVN", ["TTXVN"]),
        ("Hà Thanh, Ngọc Mai", ["Hà Thanh", "Ngọc Mai"]),
    ],
)
def test_split_authors(byline: str, authors: list[str]) -> None:
    assert split_authors(byline) == authors


def test_byline_heuristic() -> None:
    assert looks_like_byline("Thanh Tuyền")
    assert looks_like_byline("Thực hiện: Ái Kiều - Th.Hậu")
    assert not looks_like_byline("Chi bộ đã họp bàn kế hoạch sản xuất vụ đông.")


def test_clutter() -> None:
    for line in [
        "Theo dõi Báo Tam Đảo trên Google News",
        "TAG: nông nghiệp",
        "0:00 / 0:00",
        "./.",
        "Ý kiến của bạn",
        "Họ tên:",
        "Email:",
    ]:
        assert is_clutter_line(line), line
    assert strip_clutter(["Đoạn một.", "[links(34676)]", "Đoạn hai./.", "./.", "TAG:"]) == [
        "Đoạn một.",
        "Đoạn hai.",
    ]


@given(
    st.sampled_from(
        ["", "TAG:", "Từ khoá :", "Chia sẻ", "Theo dõi", "Họ và tên:", " \u200b", "./."]
    ),
    st.text(alphabet=" \n\t\u200bab\u0300\u00d0Đ.:/0"),
)
def test_a_long_line_is_clutter_as_its_clean_text_is(start: str, rest: str) -> None:
    # lines over 240 characters are judged by a head of them
    line = start + rest * (1 + 300 // max(len(rest), 1))
    assert is_clutter_line(line) == is_clutter_text(clean_text(line))


def test_a_long_line_is_clutter_by_its_start() -> None:
    words = " ".join(["chữ"] * 200)
    assert is_clutter_line("Tag: " + words)
    assert is_clutter_line("\n  Từ khóa: " + words)
    assert not is_clutter_line("Chia sẻ " + words)
    assert not is_clutter_line(words + " Tag:")


@given(st.text())
def test_normalizers_take_any_unicode(text: str) -> None:
    from aggregator.normalize.text import strip_xml_invalid

    rest, tag = split_source_tag(clean_text(text))
    assert rest.strip() or not clean_text(text) or tag
    for name in split_authors(text):
        assert unicodedata.is_normalized("NFC", name) and strip_xml_invalid(name) == name
    for line in strip_clutter(text.splitlines()):
        assert line == line.strip()
    looks_like_byline(text)
    is_clutter_line(text)


@pytest.mark.parametrize(
    ("name", "sites"),
    [
        ("VnExpress", ("vnexpress.net",)),  # the host without its suffix
        ("NLD.COM.VN", ()),  # a web address is never a person
        ("VCCorp.vn", ()),
        ("www.baomau.vn", ()),
        ("BÁO MẪU", ("Báo Mẫu",)),  # the paper's name, in any case
        ("baomau", ("Báo Mẫu",)),  # without tone marks and spaces
    ],
)
def test_the_publication_is_not_an_author(name: str, sites: tuple[str, ...]) -> None:
    assert is_site_name(name, *sites)


@pytest.mark.parametrize("name", ["Lê Phương", "Th.Hậu", "N.Anh", "TTXVN", "Minh Chiến"])
def test_people_and_agencies_are_authors(name: str) -> None:
    assert not is_site_name(name, "Báo Mẫu", "baomau.vn", "vnexpress.net")


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("Hà Thu (tổng hợp)", ["Hà Thu"]),
        ("Minh Anh - Lan Chi (theo Reuters)", ["Minh Anh", "Lan Chi"]),
        ("Theo Quốc Bảo (TTXVN)", ["Quốc Bảo"]),
    ],
)
def test_a_note_in_parentheses_after_the_names_is_no_name(line: str, names: list[str]) -> None:
    assert looks_like_byline(line)
    assert split_authors(line) == names


def test_a_note_alone_is_not_dropped() -> None:
    assert split_authors("(TTXVN)") == ["(TTXVN)"]
