"""The news spider's listing, feed and sitemap pages: each article URL requested once per
crawl, whichever pages link it."""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from aggregator.crawl.spider import REPEATED, NewsSpider
from aggregator.sites.definition import SiteDefinition

BASE = "https://baotayninh.vn/"


def spider() -> NewsSpider:
    definition = SiteDefinition.model_validate(
        {
            "id": "tayninh",
            "name": "Báo Tây Ninh",
            "province": "Tây Ninh",
            "base_url": BASE,
            "sources": {"listings": ["kinh-te/", "xa-hoi/"]},
            "links": {"article": r"-a\d+\.html$", "listing": r"/trang-\d+\.html$"},
        }
    )
    crawler = get_crawler(NewsSpider)
    crawler.settings.frozen = False  # a crawl sets the site's politeness before it starts
    return NewsSpider.from_crawler(crawler, site_def=definition)


def listing(path: str, *links: str) -> HtmlResponse:
    url = BASE + path
    anchors = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
    body = f"<html><body><ul>{anchors}</ul></body></html>".encode()
    return HtmlResponse(url, body=body, encoding="utf-8", request=Request(url))


def requested(s: NewsSpider, response: TextResponse, **kwargs: Any) -> list[str]:
    if isinstance(response, XmlResponse) and "<urlset" in response.text:
        return [r.url for r in s.parse_sitemap(response)]
    if isinstance(response, XmlResponse):
        return [r.url for r in s.parse_feed(response)]
    return [r.url for r in s.parse_listing(response, **kwargs)]


def test_an_article_linked_again_is_not_requested_again_and_the_listing_says_so() -> None:
    s = spider()
    home = listing("", "/a-a1.html", "/b-a2.html", "/a-a1.html?utm_source=x")
    assert requested(s, home, source=BASE) == [BASE + "a-a1.html", BASE + "b-a2.html"]
    assert REPEATED not in home.meta
    section = listing("kinh-te/", "/b-a2.html", "/c-a3.html", "/kinh-te/trang-2.html")
    assert requested(s, section, source=BASE + "kinh-te/") == [
        BASE + "c-a3.html",
        BASE + "kinh-te/trang-2.html",  # the pagination of a page of repeats is the
    ]  # incremental middleware's to judge (it reads REPEATED)
    assert section.meta[REPEATED] == [BASE + "b-a2.html"]
    assert s.crawler.stats is not None
    assert s.crawler.stats.get_value("aggregator/links/article") == 3  # distinct links


def test_feeds_and_sitemaps_request_an_article_once_with_the_listings() -> None:
    s = spider()
    requested(s, listing("", "/a-a1.html"), source=BASE)
    feed = XmlResponse(
        BASE + "rss.xml",
        body=(
            "<rss><channel>"
            f"<item><link>{BASE}a-a1.html</link></item>"
            f"<item><link>{BASE}d-a4.html</link></item>"
            "</channel></rss>"
        ).encode(),
    )
    assert requested(s, feed) == [BASE + "d-a4.html"]
    sitemap = XmlResponse(
        BASE + "sitemap.xml",
        body=(
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{BASE}d-a4.html</loc></url><url><loc>{BASE}e-a5.html</loc></url>"
            "</urlset>"
        ).encode(),
    )
    assert requested(s, sitemap) == [BASE + "e-a5.html"]
    # a link a listing meets after a feed requested it is a repeat too
    again = listing("xa-hoi/", "/e-a5.html")
    assert requested(s, again, source=BASE + "xa-hoi/") == []
    assert again.meta[REPEATED] == [BASE + "e-a5.html"]
