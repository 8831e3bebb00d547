"""The scoped meta refresh middleware: pages without a refresh pass undecoded."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from aggregator.crawl.scope import MetaRefreshMiddleware

URL = "http://127.0.0.1:8000/tin-a1.html"
PAGE = (
    "<html><head><meta charset='utf-8'>{head}<title>Tin một</title></head>"
    "<body><h1>Tin một ở tỉnh nhà</h1>"
    + "<p>Đường làng được trải nhựa.</p>" * 400
    + "</body></html>"
)
REFRESH = '<meta http-equiv="Refresh" content="0; url=/tin-a2.html">'


class CountingResponse(HtmlResponse):
    """An HTML response that counts how often its whole body is decoded."""

    decoded = 0

    @property
    def text(self) -> str:
        self.decoded += 1
        return super().text


@pytest.fixture
def middleware() -> MetaRefreshMiddleware:
    crawler = get_crawler()
    crawler._apply_settings()
    return MetaRefreshMiddleware.from_crawler(crawler)


def _response(head: str, encoding: str = "utf-8") -> CountingResponse:
    page = PAGE.format(head=head).replace("utf-8", encoding)
    return CountingResponse(URL, body=page.encode(encoding), encoding=encoding)


def test_a_page_without_refresh_is_passed_on_undecoded(middleware: MetaRefreshMiddleware) -> None:
    response = _response("")
    assert middleware.process_response(Request(URL), response) is response
    assert response.decoded == 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le"])
def test_a_refresh_is_still_followed(middleware: MetaRefreshMiddleware, encoding: str) -> None:
    followed = middleware.process_response(Request(URL), _response(REFRESH, encoding))
    assert isinstance(followed, Request)
    assert followed.url == "http://127.0.0.1:8000/tin-a2.html"


def test_a_refresh_past_the_first_4096_characters_is_not_followed_as_before(
    middleware: MetaRefreshMiddleware,
) -> None:
    late = PAGE.format(head="").replace("</body>", REFRESH + "</body>")
    response = CountingResponse(URL, body=late.encode(), encoding="utf-8")
    assert middleware.process_response(Request(URL), response) is response
