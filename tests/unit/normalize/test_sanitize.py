"""sanitize_html: allow-list, no active content, absolute URLs, XML-safe output."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import html as lxml_html

from aggregator.normalize.sanitize import (
    ALLOWED_TAGS,
    BIDI_CONTROLS,
    URL_SCHEMES,
    _absolute,
    safe_text,
    sanitize_html,
    web_url,
)
from aggregator.normalize.text import clean_text

BASE = "https://baotamdao.vn/thoi-su/le-khanh-thanh-cau-123.html"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def _urls(fragment: str) -> list[str]:
    """Every href/src in a fragment."""
    tree = lxml_html.fragment_fromstring(fragment, create_parent="div")
    return [v for el in tree.iter() for k, v in el.attrib.items() if k in ("href", "src")]


def test_keeps_vietnamese_text_and_allowed_structure() -> None:
    src = (
        "<h2>Tiêu đề phụ</h2><p>Đồng chí <strong>Nguyễn Văn Ánh</strong> phát biểu "
        "<em>tại hội nghị</em>.</p><ul><li>Một</li><li>Hai</li></ul>"
        "<figure><img src='https://baotamdao.vn/a.jpg' alt='Ảnh' width='600'>"
        "<figcaption>Quang cảnh. Ảnh: Trường Khanh</figcaption></figure>"
    )
    out = sanitize_html(src, BASE)
    assert "<h2>Tiêu đề phụ</h2>" in out
    assert "<strong>Nguyễn Văn Ánh</strong>" in out
    assert "<em>tại hội nghị</em>" in out
    assert "<li>Hai</li>" in out
    assert '<img src="https://baotamdao.vn/a.jpg" alt="Ảnh" width="600">' in out
    assert "<figcaption>Quang cảnh. Ảnh: Trường Khanh</figcaption>" in out


@pytest.mark.parametrize("tag", sorted(ALLOWED_TAGS - {"br", "hr", "img", "a"}))
def test_allowed_tags_survive(tag: str) -> None:
    # table parts need their table around them to survive HTML parsing
    wrap = {
        "thead": "<table><thead><tr><td>x</td></tr></thead></table>",
        "tbody": "<table><tbody><tr><td>x</td></tr></tbody></table>",
        "tr": "<table><tr><td>x</td></tr></table>",
        "td": "<table><tr><td>x</td></tr></table>",
        "th": "<table><tr><th>x</th></tr></table>",
        "li": "<ul><li>x</li></ul>",
    }
    out = sanitize_html(wrap.get(tag, f"<{tag}>x</{tag}>"), BASE)
    assert f"<{tag}>" in out


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert('x')</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<style>body{background:url(javascript:alert(1))}</style>",
        "<iframe src='https://evil.example/'>khung</iframe>",
        "<object data='x.swf'>đối tượng</object>",
        "<embed src='x.swf'>",
        "<form action='https://evil.example/'><input name='q'>mẫu</form>",
        "<svg><script>alert(1)</script></svg>",
    ],
)
def test_active_content_removed_with_its_content(payload: str) -> None:
    out = sanitize_html(f"<p>trước</p>{payload}<p>sau</p>", BASE)
    assert out == "<p>trước</p><p>sau</p>"


def test_event_handlers_and_unknown_attributes_removed() -> None:
    out = sanitize_html(
        '<p onclick="alert(1)" style="color:red" class="x" id="y">a</p>'
        '<img src="a.jpg" onerror="alert(2)" onload="alert(3)" srcset="b.jpg 2x">'
        '<a href="/b" onmouseover="alert(4)" target="_blank">b</a>',
        BASE,
    )
    for banned in (
        "onclick",
        "onerror",
        "onload",
        "onmouseover",
        "style",
        "class",
        "id=",
        "srcset",
    ):
        assert banned not in out
    assert "target" not in out


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java&#x09;script:alert(1)",
        "&#106;avascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
    ],
)
def test_dangerous_url_schemes_removed(url: str) -> None:
    out = sanitize_html(f'<a href="{url}">liên kết</a><img src="{url}" alt="ảnh">', BASE)
    assert "script" not in out.lower()
    assert "data:" not in out
    assert "file:" not in out
    assert _urls(out) == []
    assert "liên kết" in out


def test_each_fragment_is_resolved_against_its_own_page_in_every_thread() -> None:
    # one sanitizer serves every call: the page URL is the calling thread's own
    bases = [f"https://bao{i}.vn/muc/bai-{i}.html" for i in range(8)]

    def links(base: str) -> list[str]:
        return [u for _ in range(200) for u in _urls(sanitize_html('<a href="x.html">x</a>', base))]

    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(links, bases))
    assert found == [[urljoin(b, "x.html")] * 200 for b in bases]
    assert _urls(sanitize_html('<a href="x.html">x</a>', BASE)) == [urljoin(BASE, "x.html")]


def test_relative_urls_made_absolute() -> None:
    out = sanitize_html(
        '<p><a href="/thoi-su/">Thời sự</a> <a href="bai-khac-7.html">khác</a> '
        '<a href="../kinh-te/x.html?a=1&amp;b=2">kinh tế</a> <a href="#binh-luan">bl</a> '
        '<a href="//cdn.baotamdao.vn/f.pdf">pdf</a></p><img src="/uploads/2026/anh.jpg">'
        '<img src="anh-2.png">',
        BASE,
    )
    assert _urls(out) == [
        "https://baotamdao.vn/thoi-su/",
        "https://baotamdao.vn/thoi-su/bai-khac-7.html",
        "https://baotamdao.vn/kinh-te/x.html?a=1&b=2",
        "https://baotamdao.vn/thoi-su/le-khanh-thanh-cau-123.html#binh-luan",
        "https://cdn.baotamdao.vn/f.pdf",
        "https://baotamdao.vn/uploads/2026/anh.jpg",
        "https://baotamdao.vn/thoi-su/anh-2.png",
    ]


def test_allowed_schemes_kept_and_links_get_noopener() -> None:
    out = sanitize_html(
        '<a href="http://a.vn/x" rel="nofollow">a</a><a href="mailto:toasoan@baotamdao.vn">b</a>',
        BASE,
    )
    assert '<a href="http://a.vn/x" rel="noopener">a</a>' in out
    assert '<a href="mailto:toasoan@baotamdao.vn" rel="noopener">b</a>' in out


def test_unresolvable_relative_url_dropped_not_kept_relative() -> None:
    assert _urls(sanitize_html('<a href="x.html">x</a><img src="y.jpg">', "")) == []


def test_disallowed_tags_unwrapped_text_kept() -> None:
    out = sanitize_html("<section><font color=red>chữ</font><center>giữa</center></section>", BASE)
    assert out == "chữgiữa"


def test_xml_invalid_characters_removed_raw_and_as_entities() -> None:
    out = sanitize_html("<p>Hà\x0bNội\x00 &#11;tin&#x1F; \x7f mới\ufffe</p>", BASE)
    assert not _XML_INVALID.search(out)
    assert out.startswith("<p>HàNội")
    assert "mới" in out


def test_comments_removed_and_empty_input() -> None:
    assert sanitize_html("<p>a<!-- <script>x</script> --></p>", BASE) == "<p>a</p>"
    assert sanitize_html("", BASE) == ""


def test_pure_and_idempotent() -> None:
    src = '<p onclick="x">Xin chào <a href="/a">a</a><img src="b.jpg"></p><script>1</script>'
    once = sanitize_html(src, BASE)
    assert sanitize_html(src, BASE) == once
    assert sanitize_html(once, BASE) == once


def _resolved(base: str, ref: str, schemes: frozenset[str]) -> str | None:
    """What the URL rules say, spelled with urljoin and urlsplit alone."""
    if not ref.strip():
        return None
    try:
        url = urljoin(base, ref.strip())
        return url if urlsplit(url).scheme.lower() in schemes else None
    except ValueError:
        return None


@given(
    st.sampled_from(["http://a.vn/x/y", "https://a.vn:80", "ftp://h/", "", "x/y", "http://a?b"]),
    st.sampled_from(["http://", "https://", "HTTP://", "mailto:", "javascript:", "", "//", " /"]),
    st.text(alphabet="aZ09.-:/?=&%+_~;#[] \t@"),
)
def test_urls_are_resolved_as_urljoin_resolves_them(base: str, scheme: str, rest: str) -> None:
    ref = scheme + rest
    assert web_url(ref, base) == _resolved(base, ref, frozenset({"http", "https"}))
    assert _absolute(base, "a", "href", ref) == _resolved(base, ref, URL_SCHEMES)


@given(
    st.text() | st.text(alphabet="a \n\x0b\x0c\x85\u202e\u200e\u2066\u061c\u200b\t\u00d0A"),
    st.booleans(),
)
def test_safe_text_is_its_plain_definition(text: str, multiline: bool) -> None:
    plain = BIDI_CONTROLS.sub("", re.sub("[\x0b\x0c\x85]", " ", text))
    assert safe_text(text, multiline=multiline) == clean_text(plain, multiline=multiline)
