"""The crawl's log lines: the per-page DEBUG records are made only for a DEBUG log."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from aggregator.crawl.logformatter import LogFormatter


@pytest.mark.parametrize(
    ("settings", "logged"),
    [
        ({"LOG_LEVEL": "INFO"}, False),
        ({"LOG_LEVEL": "WARNING"}, False),
        ({"LOG_LEVEL": "DEBUG"}, True),
        ({"LOG_LEVEL": 10}, True),
        ({"LOG_LEVEL": "DEBUG", "LOG_ENABLED": False}, False),
    ],
)
def test_crawled_and_scraped_lines_only_for_a_debug_log(
    settings: dict[str, object], logged: bool
) -> None:
    formatter = LogFormatter.from_crawler(get_crawler(settings_dict=settings))
    request = Request("http://127.0.0.1/a.html")
    response = HtmlResponse(request.url, body=b"<p>a</p>", request=request)
    crawled = formatter.crawled(request, response, None)
    scraped = formatter.scraped({"url": request.url}, response, None)
    assert (crawled is not None, scraped is not None) == (logged, logged)
    if logged:
        assert crawled is not None and "Crawled" in crawled["msg"]


def test_the_project_uses_it() -> None:
    from aggregator.crawl.runner import project_settings

    assert project_settings()["LOG_FORMATTER"] == "aggregator.crawl.logformatter.LogFormatter"
