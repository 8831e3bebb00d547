"""Extraction layers on hand-written pages: pure, no Scrapy, no network."""

from pathlib import Path

import pytest

from aggregator.extract.article import ExtractionError, Hints, extract_article
from aggregator.sites.definition import SiteDefinition, load_site

SITE = """
id = "demo"
name = "Báo Mẫu"
province = "Vĩnh Phúc"
base_url = "https://bao.example.vn/"
[links]
article = '-\\d+\\.html$'
[categories]
"Xây dựng Đảng" = "xay-dung-dang"
[selectors]
title = "h1.title"
lead = "div.sapo"
body = "div.content"
published = "span.date"
authors = "div.content > p.author"
section = "div.cat"
remove = [".tags", ".share"]
"""

PAGE = """<html><head><title>x</title>
<meta property="article:published_time" content="2026-11-20T08:15:00+07:00">
<meta property="og:image" content="/img/lead.jpg">
</head><body>
<div class="header">Thứ hai, ngày 14 tháng 04 năm 2016</div>
<div class="cat">Xây dựng Đảng</div>
<h1 class="title">Đổi mới sinh hoạt chi bộ ở Tam Dương</h1>
<span class="date">Thứ Sáu, 20/11/2026</span>
<div class="content">
 <div class="sapo">Các chi bộ chú trọng nâng cao chất lượng sinh hoạt.</div>
 <p>Đoạn thứ nhất của bài viết.</p>
 <figure><img src="/img/a.jpg"><figcaption>Buổi sinh hoạt của chi bộ. Ảnh: Trường Khanh</figcaption></figure>
 <h3>Tiêu đề phụ</h3>
 <p>Đoạn thứ hai <b>có chữ đậm</b> của bài viết.</p>
 <script>alert(1)</script>
 <p class="author"><strong>Thanh Tuyền</strong></p>
 <div class="share">Chia sẻ Facebook</div>
 <p>Theo dõi Báo Mẫu trên Google News</p>
 <div class="tags">TAG: chi bộ</div>
 <form><p>Ý kiến của bạn</p>Họ tên: <input></form>
</div></body></html>"""


@pytest.fixture
def site(tmp_path: Path) -> SiteDefinition:
    path = tmp_path / "demo.toml"
    path.write_text(SITE, encoding="utf-8")
    return load_site(path)


def test_selector_layer(site: SiteDefinition) -> None:
    url = "https://bao.example.vn/xay-dung-dang/doi-moi-123.html"
    got = extract_article(url, PAGE, site)
    assert got.title == "Đổi mới sinh hoạt chi bộ ở Tam Dương"
    assert got.lead == "Các chi bộ chú trọng nâng cao chất lượng sinh hoạt."
    assert got.body_lines == [
        "Đoạn thứ nhất của bài viết.",
        "Tiêu đề phụ",
        "Đoạn thứ hai có chữ đậm của bài viết.",
    ]
    assert got.authors == ["Thanh Tuyền"]
    # the printed date has no time; the same day's meta time completes it
    assert got.published is not None
    assert got.published.isoformat() == "2026-11-20T08:15:00+07:00"
    assert got.layers["published"] == "meta"
    assert got.section == "Xây dựng Đảng"
    assert site.categories_for(got.section) == ("xay-dung-dang",)
    assert got.images == [
        {
            "url": "https://bao.example.vn/img/a.jpg",
            "caption": "Buổi sinh hoạt của chi bộ.",
            "credit": "Trường Khanh",
        }
    ]
    assert got.image == "https://bao.example.vn/img/lead.jpg"
    for clutter in ("alert", "Chia sẻ", "Google News", "TAG", "Ý kiến", "Thanh Tuyền", "sapo"):
        assert clutter not in got.body_html
    assert got.layers["title"] == got.layers["body"] == got.layers["authors"] == "selector"


def test_structured_layer_and_flags(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        SITE.split("[selectors]")[0] + '[selectors]\nbody = "article"\ntitle = "h1.missing"\n',
        encoding="utf-8",
    )
    site = load_site(path)
    page = """<html><head><script type="application/ld+json">
    {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Tiêu đề JSON-LD",
     "description": "Sapo từ JSON-LD.", "datePublished": "2026-10-01T07:30:00+07:00",
     "author": [{"@type": "Person", "name": "Hà Thanh"}, {"@type": "Person", "name": "Ngọc Mai"}],
     "articleSection": "Kinh tế"}</script></head>
    <body><article><p>Nội dung bài.</p></article></body></html>"""
    got = extract_article("https://bao.example.vn/kinh-te/a-1.html", page, site)
    assert got.title == "Tiêu đề JSON-LD" and got.layers["title"] == "jsonld"
    assert "selector_missed:title" in got.flags
    assert got.authors == ["Hà Thanh", "Ngọc Mai"] and got.layers["authors"] == "jsonld"
    assert got.published is not None and got.published.isoformat() == "2026-10-01T07:30:00+07:00"
    assert got.section == "Kinh tế"


def test_listing_hints_and_url_section(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        SITE.split("[selectors]")[0] + '[selectors]\nbody = "td.noidung"\n', encoding="utf-8"
    )
    site = load_site(path)
    page = (
        "<html><body><h1>Tin vắn</h1><table><tr><td class='noidung'><p>Một đoạn.</p>"
        "<p>Minh Hương</p></td></tr></table></body></html>"
    )
    got = extract_article(
        "https://bao.example.vn/xa-hoi/tin-van-5.html",
        page,
        site,
        Hints(listing_date="21:48 | 28/06/2026"),
    )
    assert got.layers["published"] == "listing"
    assert got.published is not None and got.published.hour == 21
    assert got.section == "xa-hoi" and got.layers["section"] == "url"
    assert got.authors == ["Minh Hương"] and got.layers["authors"] == "heuristic"
    assert got.body_lines == ["Một đoạn."]


def test_no_body_is_an_error(site: SiteDefinition) -> None:
    with pytest.raises(ExtractionError):
        extract_article("https://bao.example.vn/x-1.html", "<html><body></body></html>", site)


def test_stale_header_date_is_not_the_publication_time(site: SiteDefinition) -> None:
    page = PAGE.replace(
        '<span class="date">Thứ Sáu, 20/11/2026</span>',
        '<span class="date">Thứ hai, ngày 14 tháng 04 năm 2016</span>',
    )
    got = extract_article("https://bao.example.vn/xay-dung-dang/doi-moi-123.html", page, site)
    assert got.published is not None
    assert got.published.isoformat() == "2026-11-20T08:15:00+07:00"
    assert "date_stale:selector" in got.flags
    # a URL carrying the month contradicts a wrong page date on its own
    bare = page.replace(
        '<meta property="article:published_time" content="2026-11-20T08:15:00+07:00">', ""
    )
    got = extract_article("https://bao.example.vn/kinh-te/202611/doi-moi-3ac6d79/", bare, site)
    assert got.published is None and "date_stale:selector" in got.flags
