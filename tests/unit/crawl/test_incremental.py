"""The incremental middleware's verdict on a listing page: its pagination is followed only
past a page with something new, links the spider did not request again included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from aggregator.crawl.incremental import IncrementalMiddleware
from aggregator.crawl.spider import REPEATED, NewsSpider
from aggregator.sites.definition import SiteDefinition
from aggregator.store import PageRecord, SQLiteStore

BASE = "https://baotayninh.vn/"
KNOWN = BASE + "cu-a1.html"


@pytest.fixture
def middleware(tmp_path: Path) -> Iterator[IncrementalMiddleware]:
    db = tmp_path / "a.db"
    with SQLiteStore(db) as store:  # a site crawled before: incremental crawling is on
        now = datetime.now(UTC).isoformat()
        store.record_page(PageRecord(KNOWN, "tayninh", "x", "article", None, None, 0.0, now))
    definition = SiteDefinition.model_validate(
        {
            "id": "tayninh",
            "name": "Báo Tây Ninh",
            "province": "Tây Ninh",
            "base_url": BASE,
            "sources": {"listings": ["kinh-te/"]},
            "links": {"article": r"-a\d+\.html$", "listing": r"/trang-\d+\.html$"},
        }
    )
    crawler = get_crawler(NewsSpider, {"AGGREGATOR_DB": str(db)})
    crawler.settings.frozen = False
    crawler.spider = NewsSpider.from_crawler(crawler, site_def=definition)
    mw = IncrementalMiddleware(crawler)
    mw.spider_opened()
    assert mw.active
    yield mw
    mw.spider_closed()


def listing_page(middleware: IncrementalMiddleware, repeated: list[str]) -> list[Request]:
    spider = middleware.crawler.spider
    assert isinstance(spider, NewsSpider)
    url = BASE + "kinh-te/"
    response = HtmlResponse(url, body=b"<html></html>", request=Request(url))
    response.meta[REPEATED] = repeated
    next_page = Request(BASE + "kinh-te/trang-2.html", callback=spider.parse_listing)
    return list(middleware.process_spider_output(response, [next_page]))


def test_pagination_goes_on_past_a_page_whose_repeated_links_are_new(
    middleware: IncrementalMiddleware,
) -> None:
    kept = listing_page(middleware, [KNOWN, BASE + "moi-a2.html"])
    assert [r.url for r in kept] == [BASE + "kinh-te/trang-2.html"]


def test_pagination_ends_at_a_page_whose_repeated_links_are_all_known(
    middleware: IncrementalMiddleware,
) -> None:
    assert listing_page(middleware, [KNOWN]) == []
    stats = middleware.crawler.stats
    assert stats is not None and stats.get_value("aggregator/incremental/listing_all_known") == 1
