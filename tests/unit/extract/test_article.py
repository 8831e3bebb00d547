"""Extraction layers on hand-written pages: pure, no Scrapy, no network."""

from dataclasses import fields
from pathlib import Path

import pytest

from aggregator.extract.article import FIELDS, Extracted, ExtractionError, Hints, extract_article
from aggregator.sites.definition import Selectors, SiteDefinition, load_site

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


def _site_with(tmp_path: Path, selectors: str) -> SiteDefinition:
    path = tmp_path / "s.toml"
    path.write_text(SITE.split("[selectors]")[0] + "[selectors]\n" + selectors, encoding="utf-8")
    return load_site(path)


def test_every_field_of_the_cascade_has_an_attribute_and_a_selector() -> None:
    extracted = {f.name for f in fields(Extracted)}
    for name in FIELDS:
        assert name in extracted and name in Selectors.model_fields, name


def test_structured_data_order_and_the_time_layer(tmp_path: Path) -> None:
    site = _site_with(tmp_path, 'body = "article"\nupdated = "span.updated"\n')
    page = """<html><head><script type="application/ld+json">
    {"@type": "NewsArticle", "headline": "Tiêu đề JSON-LD"}</script>
    <meta property="og:title" content="Tiêu đề meta">
    <meta property="og:description" content="Sapo meta.">
    <meta property="article:modified_time" content="2026-10-02T09:00:00+07:00">
    </head><body><time datetime="2026-10-01T07:30:00+07:00">1/10</time>
    <span class="updated">hôm qua</span>
    <article><p>Nội dung bài.</p><figure><img src="/anh/1.jpg"></figure></article>
    </body></html>"""
    got = extract_article("https://bao.example.vn/kinh-te/a-1.html", page, site)
    assert (got.title, got.layers["title"]) == ("Tiêu đề JSON-LD", "jsonld")
    assert (got.lead, got.layers["lead"]) == ("Sapo meta.", "meta")
    assert got.published is not None and got.published.isoformat() == "2026-10-01T07:30:00+07:00"
    assert got.layers["published"] == "time"
    # the selector's text is no date: the next layer that gives one wins
    assert got.updated is not None and got.updated.isoformat() == "2026-10-02T09:00:00+07:00"
    assert got.layers["updated"] == "meta"
    # no selector and no structured data for the image: the body's first picture
    assert (got.image, got.layers["image"]) == ("https://bao.example.vn/anh/1.jpg", "body")
    assert list(got.layers) == ["title", "lead", "published", "updated", "section", "body", "image"]


@pytest.mark.parametrize(
    ("head", "hints", "section", "layer"),
    [
        (
            '<meta property="article:section" content="Kinh tế">',
            Hints(section="Thời sự", feed_section="Xã hội"),
            "Kinh tế",
            "meta",
        ),
        ("", Hints(section="Thời sự", feed_section="Xã hội"), "Thời sự", "listing"),
        ("", Hints(feed_section="Xã hội"), "Xã hội", "feed"),
        ("", Hints(), "kinh-te", "url"),
    ],
)
def test_section_cascade(tmp_path: Path, head: str, hints: Hints, section: str, layer: str) -> None:
    site = _site_with(tmp_path, 'body = "article"\nsection = "div.cat"\n')
    page = f"<html><head>{head}</head><body><h1>Tin</h1><article><p>Một đoạn.</p></article></body></html>"
    got = extract_article("https://bao.example.vn/kinh-te/a-1.html", page, site, hints)
    assert (got.section, got.layers["section"]) == (section, layer)
    assert got.flags == ["selector_missed:section"]


def test_feed_date_before_listing_date_and_flag_order(tmp_path: Path) -> None:
    site = _site_with(tmp_path, 'body = "article"\nlead = "p.sapo"\npublished = "span.date"\n')
    page = "<html><body><h1>Tin</h1><p class='sapo'></p><article><p>Một đoạn.</p></article></body></html>"
    hints = Hints(feed_date="2026-10-01T07:30:00+07:00", listing_date="01/10/2026")
    got = extract_article("https://bao.example.vn/kinh-te/a-1.html", page, site, hints)
    assert got.layers["published"] == "feed" and got.published is not None
    assert got.published.isoformat() == "2026-10-01T07:30:00+07:00"
    # flags in the order of the fields (lead before published), each selector once
    assert got.flags == ["selector_missed:lead", "selector_missed:published"]
