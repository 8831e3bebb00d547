"""The generic layer on hand-written pages of unseen layouts: no selectors, the fields read
around the headline that the crawler's link text locates (pure, no network)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import html as lxml_html

from aggregator.extract.article import Extracted, ExtractionError, Hints, extract_article
from aggregator.extract.generic import (
    active_menu_section,
    breadcrumb_section,
    find_headline,
    furniture,
    lead_after,
    printed_date,
)
from aggregator.extract.listings import anchor_texts, links
from aggregator.sites.definition import SiteDefinition, load_site

VN = ZoneInfo("Asia/Ho_Chi_Minh")

SITE = """
id = "mau"
name = "Báo Mẫu"
province = "Vĩnh Phúc"
base_url = "https://bao.example.vn/"
[links]
article = '-\\d+\\.html?$'
[categories]
"van-hoa" = "van-hoa"
"kinh-te" = "kinh-te"
"""

TITLE = "Lễ hội đền Hùng năm nay thu hút hơn hai triệu lượt du khách thập phương"
LEAD = (
    "Ban tổ chức cho biết lượng khách năm nay tăng mạnh so với năm trước, "
    "công tác bảo đảm an ninh trật tự được triển khai chặt chẽ."
)
PARAS = [
    "Đoạn một: từ sáng sớm, hàng nghìn người dân và du khách đã xếp hàng dài dưới chân núi "
    "để dâng hương tưởng niệm các Vua Hùng, không khí trang nghiêm và ấm cúng.",
    "Đoạn hai: các đơn vị chức năng bố trí hơn ba nghìn cán bộ, chiến sĩ làm nhiệm vụ, "
    "phân luồng giao thông từ xa để tránh ùn tắc kéo dài trên các tuyến đường dẫn vào.",
    "Đoạn ba: năm nay, lần đầu tiên ban tổ chức áp dụng vé điện tử cho khu vực gửi xe, "
    "giúp du khách tiết kiệm thời gian và giảm hẳn tình trạng chèo kéo, tăng giá.",
]


@pytest.fixture
def site(tmp_path: Path) -> SiteDefinition:
    path = tmp_path / "mau.toml"
    path.write_text(SITE, encoding="utf-8")
    return load_site(path)


def legacy_page(*, extra_body: str = "", lead: str = f"<b>{LEAD}</b>") -> str:
    """A table layout: no <h1>, no metadata, a <title> naming only the section, a stale
    header date, the breadcrumb and the printed date around the headline."""
    paras = "".join(f"<p>{p}</p>" for p in PARAS)
    return f"""<html><head><title>Báo Mẫu - Văn hóa</title></head><body>
<table><tr><td class="top">Thứ hai, ngày 14 tháng 04 năm 2016</td></tr>
<tr><td><a href="/">Trang chủ</a> | <a href="/kinh-te/">Kinh tế</a> |
 <a href="/van-hoa/">Văn hóa</a></td></tr>
<tr><td><table>
 <tr><td><a href="/">Trang chủ</a> » <a href="/van-hoa/">Văn hóa</a></td></tr>
 <tr><td class="big">{TITLE}</td></tr>
 <tr><td>09:04, 28/04/2014</td></tr>
 <tr><td>{lead}</td></tr>
 <tr><td>{paras}{extra_body}<p align="right">Minh Thuỷ</p></td></tr>
</table></td>
<td><b>Tin khác</b><ul><li><a href="/van-hoa/x-12.html">{TITLE}</a></li></ul></td></tr>
</table></body></html>"""


URL = "https://bao.example.vn/channel/2104/le-hoi-den-hung-123.htm"


def extract(html: str, site: SiteDefinition, **hints: str) -> Extracted:
    return extract_article(URL, html, site, Hints(**hints))


def test_legacy_page_read_around_the_headline_the_link_text_finds(site: SiteDefinition) -> None:
    hints = {"anchor_text": TITLE, "section": "kinh-te", "listing_date": "28/04/2014"}
    out = extract(legacy_page(), site, **hints)
    assert out.title == TITLE  # not the <title>'s "Văn hóa", not the "Tin khác" link
    assert out.layers["title"] == "generic"
    # the printed time, never the header's "today" date
    assert out.published == datetime(2014, 4, 28, 9, 4, tzinfo=VN)
    assert out.layers["published"] == "generic"
    # the breadcrumb, before the listing the crawler came from and the URL's "channel"
    assert (out.section, out.layers["section"]) == ("Văn hóa", "generic")
    assert (out.lead, out.layers["lead"]) == (LEAD, "generic")
    assert out.body_lines == PARAS  # the lead and the byline are not body text
    assert out.authors == ["Minh Thuỷ"]


def test_truncated_link_text_still_finds_the_headline(site: SiteDefinition) -> None:
    out = extract(legacy_page(), site, anchor_text=TITLE[:40] + "...")
    assert out.title == TITLE


def test_without_hints_a_title_named_element_or_the_title_tag(site: SiteDefinition) -> None:
    page = legacy_page().replace('class="big"', 'class="tieude"')
    assert extract(page, site).title == TITLE
    # nothing names the headline and the crawler saw no title: the <title>, as before
    assert extract(legacy_page(), site).title == "Văn hóa"


def test_the_link_text_when_the_page_prints_no_title(site: SiteDefinition) -> None:
    page = legacy_page().replace(f'<tr><td class="big">{TITLE}</td></tr>', "")
    out = extract(page, site, anchor_text=TITLE)
    assert (out.title, out.layers["title"]) == (TITLE, "listing")


def test_a_page_titled_only_with_the_papers_name_is_not_an_article(
    site: SiteDefinition,
) -> None:
    page = """<html><head><title>Báo Mẫu</title></head><body><div class="error">
    <p>Bài viết không tồn tại hoặc đã bị gỡ bỏ khỏi hệ thống, xin quay lại trang chủ.</p>
    </div></body></html>"""
    with pytest.raises(ExtractionError):
        extract(page, site, anchor_text=TITLE)


def test_players_share_bars_and_link_boxes_leave_a_generic_body(site: SiteDefinition) -> None:
    clutter = """<div class="media"><span>Nghe bài</span> <span>0:00 / 0:00</span></div>
    <div class="social-share"><a href="https://facebook.com/x">Facebook</a></div>
    <ul><li><a href="/van-hoa/a-1.html">Một bài khác của chuyên mục văn hóa tỉnh nhà</a></li>
    <li><a href="/van-hoa/b-2.html">Thêm một bài khác của chuyên mục văn hóa</a></li></ul>"""
    out = extract(legacy_page(extra_body=clutter), site, anchor_text=TITLE)
    assert out.body_lines == PARAS
    assert "0:00" not in out.body_html and "Facebook" not in out.body_html


def test_printed_byline_before_metadata(site: SiteDefinition) -> None:
    page = legacy_page().replace("<head>", '<head><meta name="author" content="Báo Mẫu">')
    out = extract(page, site, anchor_text=TITLE)
    assert out.authors == ["Minh Thuỷ"]
    assert "Minh Thuỷ" not in out.body_lines


def test_the_body_does_not_jump_to_a_neighbouring_story(site: SiteDefinition) -> None:
    """A longer story printed above the headline (a featured box) is not the body."""
    featured = "".join(f"<p>{p} Thêm câu cho đoạn dài hơn nữa.</p>" for p in PARAS * 2)
    page = f"""<html><head><title>{TITLE} - Báo Mẫu</title></head><body>
    <div class="top-story">{featured}</div>
    <div class="detail"><h1>{TITLE}</h1><div>{"".join(f"<p>{p}</p>" for p in PARAS)}</div></div>
    </body></html>"""
    assert extract(page, site).body_lines == PARAS


def test_date_rules() -> None:
    def date_after(markup: str) -> str | None:
        root = lxml_html.fromstring(f"<html><body>{markup}</body></html>")
        h = find_headline(root, [TITLE])
        assert h is not None
        return printed_date(h)

    # after the headline, with a weekday and GMT+7; a date over inline elements
    assert date_after(f"<h1>{TITLE}</h1><p>23/07/2020 13:36 GMT+7</p>") == "23/07/2020 13:36 GMT+7"
    assert date_after(f"<h1>{TITLE}</h1><div><b>09:04</b>, 28/04/2014</div>") == "09:04, 28/04/2014"
    # before the headline in its block; a date with a time is preferred to one without
    markup = f"<div><span>Thứ Ba, 14/06/2022</span><h2>{TITLE}</h2><i>Cập nhật: 10:00 15/06/2022</i></div>"
    assert date_after(markup) == "Cập nhật: 10:00 15/06/2022"
    # a date inside the article's paragraphs is not the publication date
    long = "Ngày 22-8-1951, " + "x " * 60
    assert date_after(f"<h1>{TITLE}</h1><p>{long} 12/01/2020</p>") is None


def test_section_rules(site: SiteDefinition) -> None:
    url = "https://bao.example.vn/van-hoa/x-1.html"
    root = lxml_html.fromstring(
        f"""<html><body><ul class="menu"><li><a href="/">Trang chủ</a></li>
        <li class="active"><a href="/kinh-te/">Kinh tế</a></li></ul>
        <div><a href="/video/">Video</a> <a href="/the-thao/">Thể thao</a></div>
        <h1>{TITLE}</h1></body></html>"""
    )
    h = find_headline(root, [TITLE])
    assert h is not None
    # the nearest link before the headline that names a section (the scheme knows "the-thao")
    assert breadcrumb_section(h, site, url) == "Thể thao"
    assert active_menu_section(root, site, url) == "Kinh tế"
    # a menu right above the headline is not a breadcrumb (a <nav> breadcrumb is)
    menu = lxml_html.fromstring(
        f"""<html><body><div class="main-nav"><a href="/van-hoa/">Văn hóa</a></div>
        <h1>{TITLE}</h1></body></html>"""
    )
    h = find_headline(menu, [TITLE])
    assert h is not None and breadcrumb_section(h, site, url) is None
    crumbs = lxml_html.fromstring(
        f"""<html><body><nav aria-label="breadcrumb"><a href="/van-hoa/">Văn hóa</a></nav>
        <h1>{TITLE}</h1></body></html>"""
    )
    h = find_headline(crumbs, [TITLE])
    assert h is not None and breadcrumb_section(h, site, url) == "Văn hóa"


def test_lead_rules() -> None:
    def lead_of(markup: str, description: str = "") -> str | None:
        root = lxml_html.fromstring(f"<html><body><h1>{TITLE}</h1>{markup}</body></html>")
        h = find_headline(root, [TITLE])
        assert h is not None
        el = lead_after(h, description)
        return " ".join(el.text_content().split()) if el is not None else None

    assert lead_of(f"<span>10:00 12/09/2026</span><h4>{LEAD}</h4><p>{PARAS[0]}</p>") == LEAD
    assert lead_of(f"<p><strong>{LEAD}</strong></p><p>{PARAS[0]}</p>") == LEAD
    assert lead_of(f"<p>{LEAD}</p><p>{PARAS[0]}</p>", description=LEAD) == LEAD
    # the title printed again (a sticky bar's <h2>) is passed over
    again = f"<h2><span>{TITLE}</span></h2><p><b>{LEAD}</b></p>"
    assert lead_of(again) == LEAD
    # a plain first paragraph is body text, not a lead
    assert lead_of(f"<p>{PARAS[0]}</p><p>{PARAS[1]}</p>") is None


def test_furniture_is_found_outermost_first() -> None:
    root = lxml_html.fromstring(
        f"""<div><p>{PARAS[0]}</p><div class="audio-player"><button>Nghe</button>
        <span>0:00 / 0:00</span></div><p>Lúc 7:30 sáng, đoàn xuất phát từ 12:00/13:00.</p></div>"""
    )
    found = furniture(root)
    assert [el.get("class") for el in found] == ["audio-player"]


def test_anchor_texts_skip_thumbnail_links(site: SiteDefinition) -> None:
    root = lxml_html.fromstring(
        """<html><body><a href="/van-hoa/x-1.html"><img src="t.jpg"></a>
        <h3><a href="/van-hoa/x-1.html"> Tiêu đề  bài một </a></h3>
        <a href="/van-hoa/x-2.html" title="Tiêu đề bài hai"><img src="u.jpg"></a></body></html>"""
    )
    found = list(links(root, "https://bao.example.vn/van-hoa/", site))
    assert anchor_texts(found) == {
        "https://bao.example.vn/van-hoa/x-1.html": "Tiêu đề bài một",
        "https://bao.example.vn/van-hoa/x-2.html": "Tiêu đề bài hai",
    }


def test_links_keep_to_the_site_scope(site: SiteDefinition) -> None:
    """Links out of the site's scope are not taken; those naming the site's own host (a
    file: URL, another port) are reported as refused."""
    root = lxml_html.fromstring(
        """<html><body><a href="/van-hoa/x-1.html">một</a>
        <a href="file://bao.example.vn/etc/passwd?x=-2.html">hai</a>
        <a href="https://bao.example.vn:8443/van-hoa/x-3.html">ba</a>
        <a href="https://noi-bo.bao.example.vn/van-hoa/x-4.html">bốn</a>
        <a href="https://facebook.com/x-5.html">năm</a><a href="sms:123">sáu</a></body></html>"""
    )
    refused: set[str] = set()
    found = [url for url, _ in links(root, "https://bao.example.vn/van-hoa/", site, refused)]
    assert found == ["https://bao.example.vn/van-hoa/x-1.html"]
    assert refused == {
        "file://bao.example.vn/etc/passwd?x=-2.html",
        "https://bao.example.vn:8443/van-hoa/x-3.html",
    }


def test_a_modern_layout_without_hints(site: SiteDefinition) -> None:
    """og:title and a truncated og:description only; a linked <h1>; the date line with a
    view counter and a player between the headline and its lead (an <h2>); a layout
    table for the photo; the section only as the menu's active item."""
    page = f"""<html><head><title>{TITLE} | Báo Mẫu</title>
<meta property="og:title" content="{TITLE}"><meta property="og:description" content="{LEAD[:60]}...">
</head><body><div class="topbar">Thứ hai, ngày 14 tháng 04 năm 2016</div>
<nav class="navbar"><a href="/">Trang chủ</a><a href="/kinh-te/">Kinh tế</a>
 <a class="active" href="/van-hoa/">Văn hóa</a></nav>
<section class="detail"><h1><a href="/le-hoi-123.htm">{TITLE}</a></h1>
 <div class="meta"><span>Thứ tư, 14:24, 26/10/2022</span> <span>Lượt xem: 1.203</span></div>
 <div class="player-wrap"><span>Nghe bài viết</span> <span>0:00 / 0:00</span></div>
 <h2 class="sapo">{LEAD}</h2>
 <div class="detail-content"><p>{PARAS[0]}</p>
  <table class="image"><tr><td><img src="/a.jpg"></td></tr><tr><td>Lễ rước. Ảnh: Văn Đức</td></tr></table>
  <p>{PARAS[1]}</p><p>{PARAS[2]}</p><p style="text-align:right"><strong>Văn Đức</strong></p>
  <div class="tags">TAG: <a href="/tag/le-hoi">lễ hội</a></div></div>
</section></body></html>"""
    out = extract(page, site)
    assert (out.title, out.lead, out.section) == (TITLE, LEAD, "Văn hóa")
    assert out.published == datetime(2022, 10, 26, 14, 24, tzinfo=VN)
    assert out.body_lines == PARAS
    assert out.authors == ["Văn Đức"]
    assert [img["caption"] for img in out.images] == ["Lễ rước."]


def test_the_printed_headline_before_a_reworded_structured_title(site: SiteDefinition) -> None:
    """Structured data written for search engines rewords the headline the page prints:
    the printed one is the title, unless it is only a shortened copy or not the same
    headline at all."""
    reworded = TITLE.replace("hơn hai triệu", "trên 2 triệu")

    def page(h1: str) -> str:
        return f"""<html><head><meta property="og:title" content="{reworded}"></head>
<body><h1>{h1}</h1><p>{PARAS[0]}</p><p>{PARAS[1]}</p></body></html>"""

    out = extract(page(TITLE), site)
    assert (out.title, out.layers["title"]) == (TITLE, "generic")
    shortened = reworded[:40] + "…"
    for h1 in (shortened, "Báo Mẫu", reworded.upper()):
        out = extract(page(h1), site)
        assert (out.title, out.layers["title"]) == (reworded, "meta")
