import re
import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from aggregator.normalize.text import (
    _DROP,
    clean_lines,
    clean_text,
    fix_eth,
    fold,
    looks_garbled,
    slugify,
    strip_xml_invalid,
)


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


_XML_FORBIDS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


@given(
    st.text() | st.text(alphabet="a\n\t\r \xa0\x00\x0b\x1f\x7f\x85\x9f\ufffe\uffff\ud800\u200bđ")
)
def test_strip_xml_invalid_removes_exactly_what_xml_forbids(text: str) -> None:
    assert strip_xml_invalid(text) == _XML_FORBIDS.sub("", text)


def test_eth_only_where_it_stands_for_d() -> None:
    assert clean_text("Ðắk Glong, GD&ÐT, HÐND, ðường") == "Đắk Glong, GD&ĐT, HĐND, đường"
    assert clean_text("með Guðrún") == "með Guðrún"  # Icelandic stays Icelandic
    assert clean_text("AÐÐ, aÐÐB, aÐÐ") == "AĐĐ, aĐĐB, aÐÐ"  # a run of Ð goes whole


def _eth_by_hand(text: str) -> str:
    """The eth rules read character by character: an eth not after a letter (``\\w`` but
    not a digit or "_", as the regex reads them) is Đ/đ; then a run of Ð after a capital,
    Đ or "&", or before a capital or Đ, is Đ."""

    def letter(ch: str) -> bool:
        return ch.isalnum() and not ch.isdecimal()

    first = "".join(
        {"\u00d0": "\u0110", "\u00f0": "\u0111"}[c] if c in "\u00d0\u00f0"
        and not (i and letter(text[i - 1])) else c
        for i, c in enumerate(text)
    )  # fmt: skip
    caps = set("ABCDEFGHIJKLMNOPQRSTUVWXYZĐ")
    runs = re.split("(\u00d0+)", first)  # odd places: the runs of Ð
    return "".join(
        "\u0110" * len(run) if i % 2 and (
            (runs[i - 1][-1:] or "_") in caps | {"&"} or runs[i + 1][:1] in caps
        ) else run
        for i, run in enumerate(runs)
    )  # fmt: skip


@given(st.text(alphabet="\u00d0\u00f0ĐđaAZz&_1²-. \u0301é\n"))
@example("HÐND GD&ÐT ÐÐ aÐ Ða ðường með AÐÐ aÐÐB")
def test_eth_rules_as_stated(text: str) -> None:
    assert fix_eth(text) == _eth_by_hand(text)


TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def to_cp1258(text: str) -> bytes:
    """Vietnamese text in windows-1258: base letters precomposed, tone marks combining."""
    clusters: list[list[str]] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and clusters:
            clusters[-1].append(ch)
        else:
            clusters.append([ch])
    out = ""
    for c in clusters:
        out += unicodedata.normalize("NFC", c[0] + "".join(m for m in c[1:] if m not in TONE_MARKS))
        out += "".join(m for m in c[1:] if m in TONE_MARKS)
    return out.encode("cp1258")


SENTENCE = "Đắk Nông tổ chức hội nghị về thủy lợi và giáo dục"


def test_windows_1258_page_decodes() -> None:
    from scrapy.http import HtmlResponse

    body = b"<html><head><meta charset=windows-1258></head><body>" + to_cp1258(SENTENCE)
    response = HtmlResponse("http://x.vn/", body=body + b"</body></html>")
    assert clean_text(response.css("body::text").get() or "") == SENTENCE


def test_garbled_text_is_detected() -> None:
    assert looks_garbled(to_cp1258(SENTENCE).decode("latin-1"))  # windows-1258 read as latin-1
    assert looks_garbled(SENTENCE.encode("utf-8").decode("latin-1"))  # UTF-8 read as latin-1
    assert looks_garbled("Sinh viªn thùc hiªn ®Ò tµi nghiªn cøu")  # TCVN3
    assert not looks_garbled(SENTENCE + ", giá 25¢, GD®")
    assert not looks_garbled("Hoà bình, thuỷ lợi, khoẻ mạnh, Ðắk Mil")


def test_no_ground_truth_text_looks_garbled() -> None:
    from sampleweb.groundtruth import load_ground_truth, sites_in_ground_truth

    for site in sites_in_ground_truth():
        for a in load_ground_truth(site):
            assert not looks_garbled(" ".join([a.title, a.lead, a.body_text])), a.key


@example("a\u00d0\x1bA")  # a control character between an eth and its capital
@example("A\u00d0\u00d0")  # a run of eths after a capital
@given(st.text())
def test_normalizers_never_raise_and_give_nfc_xml_safe(text: str) -> None:
    for out in (clean_text(text, multiline=True), fold(text), fold(text, diacritics=False)):
        assert strip_xml_invalid(out) == out
    cleaned = clean_text(text)
    assert unicodedata.is_normalized("NFC", cleaned)
    assert strip_xml_invalid(cleaned) == cleaned
    assert clean_text(cleaned) == cleaned  # idempotent
    assert re.fullmatch(r"[a-z0-9-]*", slugify(text))
    looks_garbled(text)


#: characters whose handling differs at a line's edge if the lines were not cleaned apart
_EDGES = "\n\n  \t\r\xa0\u2000\x1c\u00d0\u00f0Aa\u0301\u0300e\u0110\u200b\x0b\x85\u2028&"


@example("x\n\u0301a\n\u00d0A\u00f0\n\u200b\n\x0b\u2028y")  # marks, eths, blanks at line edges
@given(st.text() | st.text(alphabet=_EDGES))
def test_clean_lines_is_clean_text_of_each_line(text: str) -> None:
    expected = [line for part in text.split("\n") if (line := clean_text(part))]
    assert clean_lines(text) == expected


def test_clean_text_drops_only_unprintable_characters() -> None:
    # clean_text skips its removal for printable text: it must find nothing there
    dropped = [chr(i) for i in range(0x110000) if _DROP.match(chr(i))]
    assert dropped and not [c for c in dropped if c.isprintable()]
    # nor when its only unprintable characters are tabs and line breaks
    assert not set(dropped) & set("\t\n\r")


def _clean_text_reference(text: str) -> str:
    text = unicodedata.normalize("NFC", _DROP.sub("", text))
    return " ".join(fix_eth(text).split())


@example(" a  b ")
@example("a\u00a0b\u200b ")
@given(st.text() | st.text(alphabet=_EDGES))
def test_clean_text_is_its_plain_definition(text: str) -> None:
    assert clean_text(text) == _clean_text_reference(text)


def _clean_multiline_reference(text: str) -> str:
    text = fix_eth(unicodedata.normalize("NFC", _DROP.sub("", text)))
    return "\n".join(line for line in (" ".join(x.split()) for x in text.splitlines()) if line)


@example("a\n\u2028b\r\nc\x85\u00d0A\n \u0301x\u200b\n")
@given(st.text() | st.text(alphabet=_EDGES))
def test_clean_text_multiline_is_its_plain_definition(text: str) -> None:
    assert clean_text(text, multiline=True) == _clean_multiline_reference(text)


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_fold_is_stable(text: str) -> None:
    assert fold(fold(text)) == fold(text)
