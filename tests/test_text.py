import unicodedata

from aggregator.text import clean_text, fold, slugify, strip_xml_invalid


def test_clean_text_nfc_eth_and_spaces() -> None:
    raw = unicodedata.normalize("NFD", "Ðắk  Nông\u00a0\u200bđẹp\x0b ")
    assert clean_text(raw) == "Đắk Nông đẹp"
    assert unicodedata.is_normalized("NFC", clean_text(raw))


def test_clean_text_multiline_keeps_lines() -> None:
    assert clean_text("a \n\n  b\r\nc", multiline=True) == "a\nb\nc"


def test_display_keeps_tone_style_fold_unifies() -> None:
    assert clean_text("Hoà bình, thuỷ lợi") == "Hoà bình, thuỷ lợi"
    assert fold("Hoà bình, Thuỷ lợi") == fold("hòa bình, thủy lợi")
    assert fold("Đắk Nông", diacritics=False) == "dak nong"


def test_slugify() -> None:
    assert slugify("Văn hóa - Xã hội") == "van-hoa-xa-hoi"
    assert slugify("Xây dựng Đảng") == "xay-dung-dang"
    assert slugify("Ðắk Glong") == "dak-glong"


def test_strip_xml_invalid() -> None:
    assert strip_xml_invalid("a\x00b\x1fc\ufffed\te\n") == "abcd\te\n"
