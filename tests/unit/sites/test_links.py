"""Links a definition's patterns miss: the shape of a link, when unmatched links say a
pattern is wrong, and patterns matched against the canonical URL (tracking parameters,
hosts of the site, AMP variants), by the definition and by the spider's listing pages."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from aggregator.crawl.pipelines import crawl_summary
from aggregator.crawl.runner import results_table
from aggregator.crawl.spider import NewsSpider
from aggregator.sites import definition
from aggregator.sites.definition import SiteDefinition
from aggregator.sites.links import link_shape, unmatched_reason

BASE = "https://baotayninh.vn/"


def site(
    article: str = r"-a\d+\.html$", listing: str = r"/kinh-te/trang-\d+\.html$"
) -> SiteDefinition:
    return SiteDefinition.model_validate(
        {
            "id": "tayninh",
            "name": "Báo Tây Ninh",
            "province": "Tây Ninh",
            "base_url": BASE,
            "sources": {"listings": ["kinh-te/"]},
            "links": {"article": article, "listing": listing, "exclude": ["/video/"]},
            "urls": {"same_hosts": ["m.baotayninh.vn"], "fold_amp": True},
        }
    )


# -- shapes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shape", "kind"),
    [
        (
            "https://x.vn/kinh-te/202210/nong-dan-thu-hoach-lua-som-vi-mua-lon-9f3e2a1c/",
            "/kinh-te/<n>/<slug>-<id>/",
            "article",
        ),
        (
            "https://x.vn/nong-dan-thu-hoach-lua-som-vi-mua-lon-post169123.html",
            "/<slug>-post<n>.html",
            "article",
        ),
        ("https://x.vn/Tin-tuc/123456.aspx", "/Tin-tuc/<n>.aspx", "article"),
        (
            "https://x.vn/xa-hoi/98765/chuyen-dong-nong-thon-moi-o-dak-nong.htm",
            "/xa-hoi/<n>/<slug>.htm",
            "article",
        ),
        ("https://x.vn/kinh-te/trang-2.html", "/kinh-te/trang-<n>.html", "page"),
        ("https://x.vn/kinh-te/page/3", "/kinh-te/page/<n>", "page"),
        ("https://x.vn/kinh-te/?p=2&d=", "/kinh-te/?d=<v>&p=<v>", "page"),
        # sections, tags, the contact page: not articles
        ("https://x.vn/van-hoa-the-thao-du-lich/", "/<slug-free>/", None),
        ("https://x.vn/tag/ha-noi/", "/tag/ha-noi/", None),
        ("https://x.vn/lien-he.html", "/lien-he.html", None),
        ("https://x.vn/2024/", "/<n>/", None),
    ],
)
def test_link_shape(url: str, shape: str, kind: str | None) -> None:
    got_shape, got_kind = link_shape(url)
    assert got_kind == kind
    if shape != "/<slug-free>/":
        assert got_shape == shape
    assert "<slug>" not in got_shape or kind == "article"


def test_one_shape_for_every_article_of_a_scheme() -> None:
    urls = [
        "https://x.vn/thoi-su/202210/tinh-uy-hop-ban-ve-ke-hoach-nam-moi-3fa9c2/",
        "https://x.vn/thoi-su/202211/hoi-nghi-ban-chap-hanh-dang-bo-tinh-lan-thu-muoi-b81d07/",
    ]
    assert len({link_shape(u) for u in urls}) == 1


def summary(**extra: Any) -> dict[str, Any]:
    return {"inserted": 28, "updated": 0, "unchanged": 0, "links_article": 28, **extra}


def test_unmatched_reason_names_the_shapes_of_a_wrong_pattern() -> None:
    # a healthy crawl: a video box and an old link or two are no reason
    few = summary(
        unmatched_detail={"article": 3, "page": 1}, unmatched_shapes={"article /video/<slug>/": 3}
    )
    assert unmatched_reason(few) is None
    assert unmatched_reason(summary()) is None
    # the article pattern misses one of the site's two URL schemes
    shapes = {"article /<slug>-post<n>.html": 18}
    reason = unmatched_reason(summary(unmatched_detail={"article": 18}, unmatched_shapes=shapes))
    assert reason is not None
    assert "18 article-like links" in reason and "stored 28 articles" in reason
    assert "/<slug>-post<n>.html (18)" in reason
    # the listing pattern misses the pagination: the listings are never paged
    pages = {"page /kinh-te/?d=<v>&p=<v>": 1, "page /van-hoa/?d=<v>&p=<v>": 1}
    reason = unmatched_reason(summary(unmatched_detail={"page": 2}, unmatched_shapes=pages))
    assert reason is not None and "2 links to listing pages" in reason
    assert "/kinh-te/?d=<v>&p=<v>" in reason
    one = summary(unmatched_detail={"page": 1}, unmatched_shapes=pages)
    assert unmatched_reason(one) is None and unmatched_reason(one, min_pages=1) is not None


# -- patterns see the canonical URL ---------------------------------------------------


def test_patterns_match_the_canonical_url() -> None:
    s = site()
    tracked = BASE + "mo-rong-duong-a169123.html?utm_source=zalo&utm_medium=social&fbclid=IwAR0"
    assert s.is_article(tracked)  # the $ anchor sees ...a169123.html
    assert s.is_article("https://M.BaoTayNinh.vn/mo-rong-duong-a169123.amp.html")
    assert s.is_listing(BASE + "kinh-te/trang-2.html?utm_campaign=x")
    assert s.is_excluded(BASE + "video/clip-a169124.html?gclid=1")
    assert not s.is_article(BASE + "video/clip-a169124.html?gclid=1")
    assert s.canonical_url(tracked) == BASE + "mo-rong-duong-a169123.html"
    assert s.canonical_url(s.canonical_url(tracked)) == s.canonical_url(tracked)
    # the link as requested keeps its query's order (a server may care); the store's
    # canonical URL sorts it; patterns see the link's order
    paged = BASE + "kinh-te/?p=2&d=&utm_source=x"
    assert s.link_url(paged) == BASE + "kinh-te/?p=2&d="
    assert s.canonical_url(paged) == BASE + "kinh-te/?d=&p=2"
    assert site(listing=r"/kinh-te/\?p=\d+").is_listing(paged)


def test_the_url_caches_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(definition, "CANONICAL_CACHE", 50)
    s = site()
    urls = [BASE + f"bai-{n}-a{n}.html?utm_source=x&b=1&a=2" for n in range(200)]
    for url in urls:
        s.link_url(url)
        s.canonical_url(url)
    assert all(len(cache) <= 50 + 1 for cache in s._url_caches)  # a URL and its normal form
    # emptied when full: the forms stay what they are
    assert [s.link_url(u) for u in urls[:3]] == [
        BASE + f"bai-{n}-a{n}.html?b=1&a=2" for n in range(3)
    ]
    assert s.canonical_url(urls[0]) == BASE + "bai-0-a0.html?a=2&b=1"


LISTING = """<html><body><ul>
<li><a href="/mo-rong-duong-a169123.html?utm_source=zalo&amp;fbclid=IwAR0">1</a> 26/10/2022</li>
<li><a href="/mo-rong-duong-a169123.html">1 again</a></li>
<li><a href="https://m.baotayninh.vn/cau-moi-a169124.html#comments">2</a></li>
<li><a href="/tin-tuc/nong-dan-thu-hoach-lua-som-vi-mua-lon-post1691.html">old 1</a></li>
<li><a href="/tin-tuc/hoi-nghi-ban-chap-hanh-dang-bo-tinh-lan-thu-muoi-post1692.html">old 2</a></li>
<li><a href="/tin-tuc/tinh-uy-hop-ban-ve-ke-hoach-nam-moi-va-nhiem-vu-post1693.html">old 3</a></li>
<li><a href="/video/clip-a169125.html">video</a></li>
<li><a href="/lien-he.html">contact</a> <a href="https://evil.vn/x-a1.html">off site</a></li>
</ul><a href="/kinh-te/trang-2.html?utm_source=x">next</a>
<a href="/kinh-te/?page=2">a page the listing pattern misses</a></body></html>"""


def crawl_listing(definition: SiteDefinition) -> tuple[list[Request], dict[str, Any]]:
    crawler = get_crawler(NewsSpider)
    crawler.settings.frozen = False  # a crawl sets the site's politeness before it starts
    spider = NewsSpider.from_crawler(crawler, site_def=definition)
    url = BASE + "kinh-te/"
    response = HtmlResponse(url, body=LISTING.encode(), encoding="utf-8", request=Request(url))
    requests = list(spider.parse_listing(response, source=url))
    assert crawler.stats is not None
    return requests, crawler.stats.get_stats()


def test_the_spider_schedules_canonical_urls_and_counts_unmatched_links() -> None:
    requests, stats = crawl_listing(site())
    assert [r.url for r in requests] == [
        BASE + "mo-rong-duong-a169123.html",  # once, without ?utm_source=
        BASE + "cau-moi-a169124.html",  # the mobile host folded
        BASE + "kinh-te/trang-2.html",
    ]
    summary = crawl_summary(stats)
    assert summary["links_article"] == 2
    # the contact page, the old scheme's 3 articles, the page the listing pattern misses
    assert summary["links_unmatched"] == 5
    assert summary["unmatched_detail"] == {"article": 3, "page": 1}
    assert summary["unmatched"] == 4
    assert summary["unmatched_shapes"] == {
        "article /tin-tuc/<slug>-post<n>.html": 3,
        "page /kinh-te/?page=<v>": 1,
    }
    table = results_table({"tayninh": summary})
    assert table.splitlines()[0].split()[-1] == "unmatched"
    assert table.splitlines()[2].split()[-1] == "4"
    assert "tayninh: links: 3 article-like links match no pattern" in table
    # the definition fixed: nothing unmatched that looks like an article or a page
    fixed = site(r"-a\d+\.html$|-post\d+\.html$", r"/kinh-te/(?:trang-\d+\.html|\?page=\d+)$")
    requests, stats = crawl_listing(fixed)
    assert len(requests) == 7
    assert crawl_summary(stats)["unmatched"] == 0
    assert "links:" not in results_table({"tayninh": crawl_summary(stats)})
