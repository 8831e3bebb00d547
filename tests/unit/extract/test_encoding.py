"""A page's bytes decode to the text the spider's Scrapy response reads."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from aggregator.extract.encoding import decode_html

TEXT = "<p>Tỉnh Bắc Kạn tổ chức hội nghị — “tổng kết” năm 2025</p>"


def _html(head: str = "") -> str:
    return f"<html><head>{head}<title>Tin</title></head><body>{TEXT}</body></html>"


CASES = [
    # (body, Content-Type header)
    (_html().encode("utf-8"), "text/html; charset=utf-8"),
    (_html().encode("utf-8"), "text/html"),  # no declaration: UTF-8 by guess
    (_html().encode("utf-8"), None),
    (_html('<meta charset="utf-8">').encode("utf-8"), "text/html"),
    (_html('<meta charset="windows-1258">').encode("cp1258", "replace"), "text/html"),
    (_html().encode("cp1258", "replace"), "text/html; charset=windows-1258"),
    # the header wins over the body's declaration
    (_html('<meta charset="iso-8859-1">').encode("utf-8"), "text/html; charset=UTF-8"),
    # a byte order mark wins over the header
    (b"\xef\xbb\xbf" + _html().encode("utf-8"), "text/html; charset=iso-8859-1"),
    (_html().encode("utf-16-le"), "text/html; charset=utf-16le"),
    (_html().encode("cp1252", "replace"), "text/html"),  # neither ASCII nor UTF-8: a guess
    (b"<html><body>\xff\xfe broken \xc3</body></html>", "text/html; charset=utf-8"),
    (b"", "text/html"),
]


@pytest.mark.parametrize(("body", "content_type"), CASES)
def test_decodes_as_the_spiders_response(body: bytes, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = HtmlResponse("https://example.vn/a.html", body=body, headers=headers)
    assert decode_html(body, content_type) == response.text


def test_vietnamese_in_utf8_reads_back() -> None:
    assert TEXT in decode_html(_html().encode("utf-8"), "text/html")
    assert TEXT in decode_html(_html('<meta charset="utf-8">').encode("utf-8"), None)
