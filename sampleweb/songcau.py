"""Báo Sông Cầu: shaped like baothainguyen.vn / baotuyenquang.com.vn.

JSON-LD NewsArticle (headline, description = lead, datePublished/dateModified,
author list, articleSection, image) plus OpenGraph and ``article:*`` meta; the
visible date "Thứ tư, 14:24, 26/10/2022"; audio-player text "0:00 / 0:00" and
"Đọc báo in / Tải ứng dụng" inside the body; the byline in the body's last
``<p class="article__author">``; an RSS 2.0 feed per section.

URLs: ``/songcau/<section>/<YYYYMM>/<slug>-<hex id>/`` (listings, tag pages and the
front page link articles with a "tracking" alias with ``?utm_source=zalo&...``
appended; the page is the same, its canonical link the clean URL); listings ``/songcau/<section>/``
and ``/songcau/<section>/trang-<n>.html``; feeds ``/songcau/rss/<section>.rss``;
multimedia (not articles) ``/songcau/video/<YYYYMM>/<slug>-<hex>/`` and
``/songcau/emagazine/<YYYYMM>/<slug>-<hex>/``; tags ``/songcau/tag/<slug>/``;
search ``/songcau/tim-kiem?keywords=``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape as xml_escape
from typing import ClassVar

from sampleweb.base import RSS, VN, Media, Page, SiteTemplate, Tag, esc, html_page, vn
from sampleweb.base import weekday as _weekday
from sampleweb.groundtruth import Block, GroundTruthArticle

__all__ = ["SongCau"]


def _shown(value: datetime) -> str:
    """ "Thứ tư, 14:24, 26/10/2022"."""
    return f"{_weekday(value, lower=True)}, {vn(value):%H:%M, %d/%m/%Y}"


def _listed(value: datetime) -> str:
    return f"{vn(value):%Y-%m-%d %H:%M:%S}"


def _ld(data: object) -> str:
    text = json.dumps(data, ensure_ascii=False, indent=1)
    for ch, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, code)  # nothing in a <script> can close it
    return f'<script type="application/ld+json">\n{text}\n</script>\n'


EMAGAZINE = (
    Media(
        0x3F0A01,
        "Chè Thái Nguyên – hành trình từ đồi chè đến thương hiệu",
        datetime(2026, 11, 1, 7, 0, tzinfo=VN),
        "Câu chuyện của những người trồng chè ở Tân Cương, La Bằng giữ nghề và đổi mới.",
    ),
    Media(
        0x3F0A02,
        "Những cung đường mới nối đôi bờ sông Cầu",
        datetime(2026, 10, 4, 7, 0, tzinfo=VN),
        "Các cây cầu mới mở ra cơ hội giao thương cho vùng ven sông.",
    ),
)


class SongCau(SiteTemplate):
    """Templates of Báo Sông Cầu."""

    site_id = "songcau"
    name = "Báo Sông Cầu"
    province = "Thái Nguyên"
    sections: ClassVar[dict[str, str]] = {
        "thoi-su-thai-nguyen": "Thời sự Thái Nguyên",
        "kinh-te": "Kinh tế",
        "giao-duc": "Giáo dục",
        "y-te": "Y tế",
    }
    page_size = 9
    disallow = ("/tim-kiem", "/admin/", "/api/")
    search_path = "/songcau/tim-kiem"
    search_link = "/songcau/tim-kiem?keywords=ch%C3%A8"
    videos = (
        Media(
            0x3E0B11,
            "Thái Nguyên đón nhận danh hiệu thành phố học tập",
            datetime(2026, 11, 12, 20, 0, tzinfo=VN),
            "Lễ đón nhận danh hiệu diễn ra trang trọng tại quảng trường trung tâm.",
        ),
        Media(
            0x3E0B12,
            "Mùa thu hoạch chè đông ở Đại Từ",
            datetime(2026, 10, 22, 6, 30, tzinfo=VN),
            "Người dân tranh thủ nắng ráo để thu hái, sao chè vụ đông.",
        ),
        Media(
            0x3E0B13,
            "Tiêm chủng mở rộng tại vùng cao Võ Nhai",
            datetime(2026, 9, 30, 14, 15, tzinfo=VN),
            "Các trạm y tế xã tổ chức tiêm chủng lưu động cho trẻ em vùng cao.",
        ),
    )
    assets: ClassVar[dict[str, str]] = {
        "static/css/main.css": ".article__title{font-size:2rem}.article__sapo{font-weight:700}\n",
        "static/js/main.js": "(function(){window.songcau=1})();\n",
        "static/img/logo.png": "",
    }

    # -- URLs ---------------------------------------------------------------------------

    @classmethod
    def article_path(cls, a: GroundTruthArticle) -> str:
        return f"/songcau/{a.section}/{vn(a.published):%Y%m}/{a.slug}-{a.id:x}/"

    def listing_path(self, section: str, page: int) -> str:
        return f"/songcau/{section}/" if page == 1 else f"/songcau/{section}/trang-{page}.html"

    def tag_path(self, tag: Tag) -> str:
        return f"/songcau/tag/{tag.slug}/"

    def video_path(self, v: Media) -> str:
        return f"/songcau/video/{vn(v.published):%Y%m}/{v.slug}-{v.id:x}/"

    def emagazine_path(self, v: Media) -> str:
        return f"/songcau/emagazine/{vn(v.published):%Y%m}/{v.slug}-{v.id:x}/"

    def image_path(self, a: GroundTruthArticle, n: int) -> str:
        return f"/songcau/media/{vn(a.published):%Y/%m/%d}/{a.id:x}-{n}.png"

    def feed_path(self, section: str) -> str:
        return f"/songcau/rss/{section}.rss"

    # -- layout -------------------------------------------------------------------------

    def layout(self, title: str, main: str, *, head: str = "") -> str:
        t = self.t
        menu = "".join(
            f'<li class="main-nav__item"><a href="{self.listing_path(s, 1)}">{t(n)}</a></li>'
            for s, n in self.sections.items()
        )
        new = "".join(
            f'<li class="mini-story"><a href="{self.article_path(a)}">{t(a.title)}</a></li>'
            for a in self.latest(6)
        )
        read = "".join(
            f'<li class="mini-story"><a href="{self.article_path(a)}">{t(a.title)}</a></li>'
            for a in self.most_read(5)
        )
        feeds = " ".join(
            f'<a href="{self.feed_path(s)}">{t(n)}</a>' for s, n in self.sections.items()
        )
        return f"""<!DOCTYPE html>
<html lang="vi" prefix="og: https://ogp.me/ns#">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
{head}<meta property="og:site_name" content="{t(self.name)}">
<link rel="stylesheet" href="/songcau/static/css/main.css">
<link rel="alternate" type="application/rss+xml" title="Kinh tế" href="/songcau/rss/kinh-te.rss">
<script src="/songcau/static/js/main.js" async></script>
</head>
<body>
<header class="site-header">
<a class="site-header__logo" href="/songcau/"><img src="/songcau/static/img/logo.png" alt="{t(self.name)}"></a>
<div class="site-header__tools"><a href="{esc(self.search_link)}">Tìm kiếm</a> <a href="/songcau/bao-in/">Báo in</a></div>
<nav class="main-nav"><ul><li class="main-nav__item"><a href="/songcau/">Trang chủ</a></li>{menu}<li class="main-nav__item"><a href="{self.video_index_path}">Media</a></li><li class="main-nav__item"><a href="/songcau/emagazine/">eMagazine</a></li></ul></nav>
</header>
<div class="l-grid">
<main class="l-main">
{main}
</main>
<aside class="l-aside">
<section class="box"><h3 class="box__title">Tin mới</h3><ul>{new}</ul></section>
<section class="box"><h3 class="box__title">Đọc nhiều</h3><ul>{read}</ul></section>
<section class="box"><h3 class="box__title">Multimedia</h3><ul><li><a href="{self.video_path(self.videos[0])}">{t(self.videos[0].title)}</a></li><li><a href="{self.emagazine_path(EMAGAZINE[0])}">{t(EMAGAZINE[0].title)}</a></li></ul></section>
</aside>
</div>
<footer class="site-footer">
<p>{t(self.name)} – Cơ quan của Đảng bộ tỉnh {t(self.province)}. Tổng Biên tập: Nguyễn Văn A.</p>
<p>Địa chỉ: Số 15, đường Bến Oánh, phường Phan Đình Phùng, thành phố Thái Nguyên. ĐT: 0208 3855 000.</p>
<p>RSS: {feeds} · <a href="{self.admin_path}">Quản trị</a></p>
</footer>
</body>
</html>
"""

    def story(self, a: GroundTruthArticle, *, listed: bool = True) -> str:
        """A story teaser; ``listed``: in a listing (tracking links), not a related box."""
        t = self.t
        href = esc(self.listed_path(a) if listed else self.article_path(a))
        thumb = self.thumb(a)
        img = (
            f'<a class="story__thumb" href="{href}"><img src="{thumb}" alt=""></a>' if thumb else ""
        )
        return (
            f'<article class="story">{img}<h3 class="story__heading"><a href="{href}">'
            f'{t(a.title)}</a></h3><span class="story__time">{_listed(a.published)}</span>'
            f'<p class="story__summary">{t(a.lead)}</p></article>\n'
        )

    # -- pages --------------------------------------------------------------------------

    def home(self) -> str:
        t = self.t
        parts = ['<section class="home-focus">', *map(self.story, self.latest(9)), "</section>"]
        for s, name in self.sections.items():
            parts.append(
                f'<section class="home-cat"><h2 class="home-cat__title"><a href="{self.listing_path(s, 1)}">'
                f"{t(name)}</a></h2>{''.join(map(self.story, self.in_section(s)[:3]))}</section>"
            )
        return self.layout(f"{self.name} - Tin tức {self.province}", "\n".join(parts))

    def block(self, b: Block, a: GroundTruthArticle, n: int) -> str:
        t = self.t
        if b.type == "p":
            return f"<p>{t(b.text)}</p>"
        if b.type == "h":
            return f"<h2>{t(b.text)}</h2>"
        return (
            f'<figure class="article__image"><img src="{self.image_path(a, n)}" alt="{t(b.caption)}">'
            f"<figcaption>{t(self.caption_with_credit(b.caption, b.credit))}</figcaption></figure>"
        )

    def article(self, a: GroundTruthArticle) -> str:
        t = self.t
        blocks: list[str] = []
        n = 0
        for b in a.body:
            n += b.type == "img"
            blocks.append(self.block(b, a, n))
        url = self.url(self.article_path(a))
        published = vn(a.published)
        modified = published + timedelta(minutes=5 + a.id % 90)
        section = self.sections[a.section]
        images = [self.url(self.image_path(a, i)) for i in range(1, len(a.images) + 1)]
        wire = a.authors == ("TTXVN",)
        authors = [{"@type": "Organization" if wire else "Person", "name": x} for x in a.authors]
        news = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "mainEntityOfPage": {"@type": "WebPage", "@id": url},
            "headline": a.title,
            "description": a.lead,
            "image": images,
            "datePublished": published.isoformat(),
            "dateModified": modified.isoformat(),
            "author": authors,
            "publisher": {
                "@type": "Organization",
                "name": self.name,
                "logo": {"@type": "ImageObject", "url": self.url("/songcau/static/img/logo.png")},
            },
            "articleSection": section,
            "inLanguage": "vi",
        }
        crumbs = {
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": [
                {
                    "@type": "ListItem",
                    "position": 1,
                    "name": "Trang chủ",
                    "item": self.url("/songcau/"),
                },
                {
                    "@type": "ListItem",
                    "position": 2,
                    "name": section,
                    "item": self.url(self.listing_path(a.section, 1)),
                },
            ],
        }
        head = (
            f'<meta name="description" content="{t(a.lead)}">\n'
            f'<link rel="canonical" href="{esc(url)}">\n'
            f'<meta property="og:type" content="article">\n'
            f'<meta property="og:title" content="{t(a.title)}">\n'
            f'<meta property="og:description" content="{t(a.lead)}">\n'
            f'<meta property="og:url" content="{esc(url)}">\n'
            + (f'<meta property="og:image" content="{esc(images[0])}">\n' if images else "")
            + f'<meta property="article:published_time" content="{published.isoformat()}">\n'
            f'<meta property="article:modified_time" content="{modified.isoformat()}">\n'
            f'<meta property="article:section" content="{t(section)}">\n' + _ld(news) + _ld(crumbs)
        )
        tags = "".join(
            f'<li><a href="{self.tag_path(g)}">#{t(g.name)}</a></li>' for g in self.tags_of(a)
        )
        related = "".join(self.story(x, listed=False) for x in self.related(a, 3))
        main = f"""<div class="article">
<ol class="breadcrumb"><li><a href="/songcau/">Trang chủ</a></li><li><a href="{self.listing_path(a.section, 1)}">{t(section)}</a></li></ol>
<h1 class="article__title">{t(a.title)}</h1>
<div class="article__meta"><span class="article__date">{_shown(a.published)}</span></div>
<div class="article__sapo">{t(a.lead)}</div>
<div class="article__body">
<div class="audio-player"><button type="button" class="audio-player__play">Nghe</button><span class="audio-player__time">0:00 / 0:00</span></div>
{chr(10).join(blocks)}
<p class="article__author"><strong>{t(a.byline)}</strong></p>
<div class="app-promo"><a href="/songcau/bao-in/">Đọc báo in</a> / <a href="https://play.google.com/store/apps/details?id=vn.baosongcau" rel="nofollow">Tải ứng dụng</a></div>
</div>
<ul class="article__tags">{tags}</ul>
<section class="article__related"><h3 class="box__title">Tin liên quan</h3>{related}</section>
</div>"""
        return self.layout(f"{a.title} | {self.name}", main, head=head)

    def listing(self, section: str, items: list[GroundTruthArticle], page: int, pages: int) -> str:
        name = self.sections[section]
        links = [
            f'<a class="pagination__item is-active">{n}</a>'
            if n == page
            else f'<a class="pagination__item" href="{self.listing_path(section, n)}">{n}</a>'
            for n in range(1, pages + 1)
        ]
        if page < pages:
            links.append(
                f'<a class="pagination__next" href="{self.listing_path(section, page + 1)}">Xem thêm</a>'
            )
        main = (
            f'<h1 class="cat-title"><a href="{self.listing_path(section, 1)}">{self.t(name)}</a></h1>\n'
            f'<a class="cat-rss" href="{self.feed_path(section)}">RSS</a>\n<div class="story-list">\n'
            + "".join(map(self.story, items))
            + f'</div>\n<nav class="pagination">{"".join(links)}</nav>'
        )
        suffix = "" if page == 1 else f" - Trang {page}"
        return self.layout(f"{name}{suffix} | {self.name}", main)

    def tag_page(self, tag: Tag) -> str:
        main = (
            f'<h1 class="cat-title">#{self.t(tag.name)}</h1>\n<div class="story-list">\n'
            + "".join(map(self.story, tag.articles))
            + "</div>"
        )
        return self.layout(f"{tag.name} | {self.name}", main)

    def multimedia_index(self, title: str, items: list[tuple[str, Media]]) -> str:
        t = self.t
        rows = "".join(
            f'<article class="story"><h3 class="story__heading"><a href="{path}">{t(v.title)}</a></h3>'
            f'<span class="story__time">{_listed(v.published)}</span></article>\n'
            for path, v in items
        )
        return self.layout(
            f"{title} | {self.name}", f'<h1 class="cat-title">{t(title)}</h1>\n{rows}'
        )

    def video_index(self) -> str:
        return self.multimedia_index("Media", [(self.video_path(v), v) for v in self.videos])

    def video_page(self, v: Media) -> str:
        t = self.t
        url = self.url(self.video_path(v))
        head = (
            f'<meta property="og:type" content="video.other">\n'
            f'<meta property="og:title" content="{t(v.title)}">\n'
            f'<meta property="og:url" content="{esc(url)}">\n'
            + _ld(
                {
                    "@context": "https://schema.org",
                    "@type": "VideoObject",
                    "name": v.title,
                    "description": v.description,
                    "uploadDate": vn(v.published).isoformat(),
                    "thumbnailUrl": self.url("/songcau/static/img/logo.png"),
                }
            )
        )
        main = f"""<div class="video-page">
<ol class="breadcrumb"><li><a href="/songcau/">Trang chủ</a></li><li><a href="{self.video_index_path}">Media</a></li></ol>
<h1 class="video-page__title">{t(v.title)}</h1>
<span class="article__date">{_shown(v.published)}</span>
<div class="video-page__player"><video controls src="/songcau/media/video/{v.id:x}.mp4"></video></div>
<p class="video-page__desc">{t(v.description)}</p>
</div>"""
        return self.layout(f"{v.title} | {self.name}", main, head=head)

    def emagazine_page(self, v: Media) -> str:
        t = self.t
        paragraphs = "".join(
            f"<p>{t(v.description)} Phần {i}: bài viết dài dạng eMagazine với ảnh toàn màn hình.</p>"
            for i in range(1, 4)
        )
        main = f"""<div class="emagazine">
<div class="emagazine__cover"><img src="/songcau/static/img/logo.png" alt=""></div>
<h1 class="emagazine__title">{t(v.title)}</h1>
<span class="article__date">{_shown(v.published)}</span>
<div class="emagazine__content">{paragraphs}</div>
</div>"""
        return self.layout(f"{v.title} | eMagazine | {self.name}", main)

    def search_page(self) -> str:
        main = """<h1 class="cat-title">Tìm kiếm</h1>
<form action="/songcau/tim-kiem" method="get"><input type="search" name="keywords"><button type="submit">Tìm</button></form>
<p class="search__empty">Không tìm thấy bài viết nào.</p>"""
        return self.layout(f"Tìm kiếm | {self.name}", main)

    def admin_page(self) -> str:
        main = """<h1>Đăng nhập CMS</h1>
<form action="/songcau/admin/" method="post"><input type="text" name="username"><input type="password" name="password"><button type="submit">Đăng nhập</button></form>"""
        return self.layout("CMS", main)

    def rss(self, section: str) -> str:
        items = self.in_section(section)
        name = self.sections[section]

        def x(text: str) -> str:
            return xml_escape(text, quote=False)

        entries = "".join(
            f"""<item>
<title>{x(a.title)}</title>
<link>{x(self.url(self.article_path(a)))}</link>
<guid isPermaLink="true">{x(self.url(self.article_path(a)))}</guid>
<description>{x(a.lead)}</description>
<pubDate>{format_datetime(vn(a.published))}</pubDate>
<category>{x(self.sections[a.section])}</category>
</item>
"""
            for a in items
        )
        built = format_datetime(vn(items[0].published)) if items else ""
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{x(self.name)} - {x(name)}</title>
<link>{x(self.url(self.listing_path(section, 1)))}</link>
<description>Tin {x(name)} của {x(self.name)}</description>
<language>vi</language>
<lastBuildDate>{built}</lastBuildDate>
<atom:link href="{x(self.url(self.feed_path(section)))}" rel="self" type="application/rss+xml"/>
{entries}</channel>
</rss>
"""

    def extra_pages(self) -> dict[str, Page]:
        pages = {self.feed_path(s): Page(200, RSS, self.rss(s).encode()) for s in self.sections}
        pages["/songcau/emagazine/"] = html_page(
            self.multimedia_index("eMagazine", [(self.emagazine_path(v), v) for v in EMAGAZINE])
        )
        for v in EMAGAZINE:
            pages[self.emagazine_path(v)] = html_page(self.emagazine_page(v))
        pages["/songcau/bao-in/"] = html_page(
            self.layout(
                f"Báo in | {self.name}",
                '<h1 class="cat-title">Báo in</h1>\n<p>Đọc báo in trên ứng dụng của Báo Sông Cầu.</p>',
            )
        )
        return pages
