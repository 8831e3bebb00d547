"""Báo Bà Đen: shaped like baotayninh.vn.

Time-first dates ("09:04, 28/04/2014"), a breadcrumb with the section, the lead
(inside the content) starting with the source tag "(BBĐ) - ", an advertisement
box inside some articles, the end marker "./." glued to the last paragraph of
some articles, the byline in ``<p class="author">`` at the end, a view counter.

URLs: ``/baden/<slug>-a<id>.html``; listings ``/baden/<section>/`` and
``/baden/<section>/?p=<n>&d=``; the old scheme ``/baden/tin-tuc/<slug>-post<id>.html``
still serves the articles with an "old-scheme" alias, the same page with its
``<link rel="canonical">`` to the current URL, linked from a "Tin cũ" box on page 1
of their section; tags ``/baden/tag/<slug>-t<n>.html``; videos
``/baden/video/<slug>-v<id>.html``; search ``/baden/tim-kiem/?keyword=``.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from urllib.parse import quote

from sampleweb.base import VN, Media, Page, SiteTemplate, Tag, esc, html_page, vn
from sampleweb.groundtruth import Block, GroundTruthArticle

__all__ = ["BaDen"]


def _time(value: datetime) -> str:
    return vn(value).strftime("%H:%M, %d/%m/%Y")


def _views(n: int) -> str:
    return f"{n:,}".replace(",", ".")


class BaDen(SiteTemplate):
    """Templates of Báo Bà Đen."""

    site_id = "baden"
    name = "Báo Bà Đen"
    province = "Tây Ninh"
    sections: ClassVar[dict[str, str]] = {
        "thoi-su-chinh-tri": "Thời sự - Chính trị",
        "kinh-te": "Kinh tế",
        "van-hoa": "Văn hóa",
        "phap-luat": "Pháp luật",
    }
    page_size = 8
    disallow = ("/tim-kiem/", "/admin/")
    search_path = "/baden/tim-kiem/"
    search_link = "/baden/tim-kiem/?keyword=T%C3%A2y+Ninh"
    videos = (
        Media(
            169901,
            "Tây Ninh: Khai mạc Hội Xuân núi Bà Đen",
            datetime(2026, 11, 14, 9, 10, tzinfo=VN),
            "Lễ khai mạc với nhiều hoạt động văn hóa, thể thao trên khu du lịch núi Bà Đen.",
        ),
        Media(
            169902,
            "Nông dân Gò Dầu thu hoạch mía cuối vụ",
            datetime(2026, 10, 28, 16, 20, tzinfo=VN),
            "Giá mía ổn định giúp người trồng có lãi sau một năm canh tác.",
        ),
        Media(
            169903,
            "Bản tin an toàn giao thông tuần thứ ba tháng 10",
            datetime(2026, 10, 19, 18, 0, tzinfo=VN),
            "Tổng hợp tình hình trật tự, an toàn giao thông trên địa bàn tỉnh.",
        ),
    )
    assets: ClassVar[dict[str, str]] = {
        "assets/css/style.min.css": ".news-title{font-size:30px;font-weight:700}\n",
        "assets/js/app.min.js": "window.BBD={ready:true};\n",
        "assets/images/logo-bbd.png": "",
    }

    # -- URLs ---------------------------------------------------------------------------

    @classmethod
    def article_path(cls, a: GroundTruthArticle) -> str:
        return f"/baden/{a.slug}-a{a.id}.html"

    @classmethod
    def old_scheme_path(cls, a: GroundTruthArticle) -> str:
        return f"/baden/tin-tuc/{a.slug}-post{a.id}.html"

    def listing_path(self, section: str, page: int) -> str:
        return f"/baden/{section}/" if page == 1 else f"/baden/{section}/?p={page}&d="

    def tag_path(self, tag: Tag) -> str:
        return f"/baden/tag/{tag.slug}-t{tag.index}.html"

    def video_path(self, v: Media) -> str:
        return f"/baden/video/{v.slug}-v{v.id}.html"

    def image_path(self, a: GroundTruthArticle, n: int) -> str:
        return f"/baden/uploads/news/{vn(a.published):%Y_%m}/{a.slug[:40]}-{a.id}-{n}.png"

    # -- layout -------------------------------------------------------------------------

    def layout(self, title: str, main: str, *, head: str = "") -> str:
        t = self.t
        menu = "".join(
            f'<li class="nav-item"><a href="{self.listing_path(s, 1)}">{t(n)}</a></li>'
            for s, n in self.sections.items()
        )
        new = "".join(
            f'<li><a href="{self.article_path(a)}">{t(a.title)}</a>'
            f'<span class="time">{_time(a.published)}</span></li>'
            for a in self.latest(5)
        )
        read = "".join(
            f'<li><span class="num">{i}</span><a href="{self.article_path(a)}">{t(a.title)}</a></li>'
            for i, a in enumerate(self.most_read(5), start=1)
        )
        vids = "".join(
            f'<li><a href="{self.video_path(v)}">{t(v.title)}</a></li>' for v in self.videos
        )
        return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{esc(title)}</title>
{head}<link rel="stylesheet" href="/baden/assets/css/style.min.css">
<script src="/baden/assets/js/app.min.js" defer></script>
</head>
<body class="bbd">
<header id="header">
<div class="header-top"><span class="hotline">Đường dây nóng: 0276 3822 000</span>
<a href="{esc(self.search_link)}" class="btn-search">Tìm kiếm</a></div>
<div class="header-logo"><a href="/baden/"><img src="/baden/assets/images/logo-bbd.png" alt="{t(self.name)}"></a></div>
<nav class="navbar-bbd"><ul><li class="nav-item home"><a href="/baden/">Trang chủ</a></li>{menu}<li class="nav-item"><a href="{self.video_index_path}">Media</a></li></ul></nav>
</header>
<main class="page-body">
<div class="col-left">
{main}
</div>
<aside class="col-right">
<div class="widget"><div class="widget-title">Tin mới</div><ul class="list-new">{new}</ul></div>
<div class="widget"><div class="widget-title">Đọc nhiều</div><ol class="list-most">{read}</ol></div>
<div class="widget"><div class="widget-title">Media</div><ul>{vids}</ul></div>
</aside>
</main>
<footer id="footer">
<div class="footer-info">{t(self.name.upper())} – Cơ quan của Đảng bộ tỉnh {t(self.province)}<br>
Địa chỉ: 92 Đường 30 Tháng 4, Phường 3, thành phố Tây Ninh. Điện thoại: 0276 3822 000.<br>
Giấy phép số 202/GP-BTTTT.</div>
<div class="footer-links"><a href="{self.admin_path}">Đăng nhập</a></div>
</footer>
</body>
</html>
"""

    def item(self, a: GroundTruthArticle) -> str:
        t = self.t
        href = esc(self.listed_path(a))
        thumb = self.thumb(a)
        img = (
            f'<a class="news-thumb" href="{href}"><img src="{thumb}" alt="{t(a.title)}"></a>'
            if thumb
            else ""
        )
        return (
            f'<div class="news-item">{img}<h3 class="news-item-title"><a href="{href}">'
            f'{t(a.title)}</a></h3><span class="time">{_time(a.published)}</span>'
            f'<p class="sapo">{t(a.lead)}</p></div>\n'
        )

    # -- pages --------------------------------------------------------------------------

    def home(self) -> str:
        t = self.t
        parts = ['<section class="home-hot">', *map(self.item, self.latest(8)), "</section>"]
        for s, name in self.sections.items():
            links = "".join(
                f'<li><a href="{esc(self.listed_path(a))}">{t(a.title)}</a></li>'
                for a in self.in_section(s)[:5]
            )
            parts.append(
                f'<section class="home-cat"><h2 class="cat-title"><a href="{self.listing_path(s, 1)}">'
                f"{t(name)}</a></h2><ul>{links}</ul></section>"
            )
        return self.layout(f"{self.name} - Tin tức Tây Ninh", "\n".join(parts))

    def block(self, b: Block, a: GroundTruthArticle, n: int, last: bool) -> str:
        t = self.t
        if b.type == "p":
            text = b.text
            if last and text.endswith(".") and a.id % 3 == 0:
                text += "/."  # the end marker: "... cuối bài./."
            return f"<p>{t(text)}</p>"
        if b.type == "h":
            return f"<h3>{t(b.text)}</h3>"
        return (
            f'<figure class="news-photo"><img src="{self.image_path(a, n)}" alt="{t(b.caption)}">'
            f"<figcaption>{t(self.caption_with_credit(b.caption, b.credit))}</figcaption></figure>"
        )

    def article(self, a: GroundTruthArticle) -> str:
        t = self.t
        last_p = max((i for i, b in enumerate(a.body) if b.type == "p"), default=-1)
        blocks: list[str] = []
        n = 0
        for i, b in enumerate(a.body):
            n += b.type == "img"
            blocks.append(self.block(b, a, n, i == last_p))
            if i == 1 and a.id % 2 == 0:
                blocks.append(
                    '<div class="news-ads"><a href="https://quangcao.example.vn/bbd" '
                    'rel="nofollow sponsored">Quảng cáo</a></div>'
                )
        lead = f"{a.source_tag} {a.lead}" if a.source_tag else a.lead
        url = self.url(self.article_path(a))
        tags = " ".join(
            f'<a class="tag-item" href="{self.tag_path(g)}">{t(g.name)}</a>'
            for g in self.tags_of(a)
        )
        related = "".join(
            f'<li><a href="{self.article_path(x)}">{t(x.title)}</a> '
            f'<span class="time">({_time(x.published)})</span></li>'
            for x in self.related(a, 5)
        )
        image = self.thumb(a)
        head = (
            f'<meta name="description" content="{t(a.lead)}">\n'
            f'<meta property="og:title" content="{t(a.title)}">\n'
            f'<meta property="og:description" content="{t(a.lead)}">\n'
            + (f'<meta property="og:image" content="{esc(self.url(image))}">\n' if image else "")
            + f'<link rel="canonical" href="{esc(url)}">\n'
        )
        section = self.sections[a.section]
        main = f"""<div class="breadcrumbs"><a href="/baden/">Trang chủ</a> <span class="sep">»</span> <a href="{self.listing_path(a.section, 1)}">{t(section)}</a></div>
<article class="news-detail">
<h1 class="news-title">{t(a.title)}</h1>
<div class="news-info"><span class="news-time">{_time(a.published)}</span> <span class="news-views">Lượt xem: {_views(self.views(a))}</span></div>
<div class="news-content">
<h2 class="news-sapo">{t(lead)}</h2>
{chr(10).join(blocks)}
<p class="author">{t(a.byline)}</p>
</div>
<div class="news-tags"><span>Từ khóa:</span> {tags}</div>
<div class="news-share"><a href="https://www.facebook.com/sharer/sharer.php?u={esc(quote(url, safe=""))}" rel="nofollow">Chia sẻ</a> <a href="javascript:window.print()">In bài</a></div>
</article>
<div class="news-related"><div class="box-title">Tin cùng chuyên mục</div><ul>{related}</ul></div>"""
        return self.layout(f"{a.title} - {self.name}", main, head=head)

    def listing(self, section: str, items: list[GroundTruthArticle], page: int, pages: int) -> str:
        name = self.sections[section]
        nums = []
        for n in range(1, pages + 1):
            nums.append(
                f'<li class="active"><span>{n}</span></li>'
                if n == page
                else f'<li><a href="{esc(self.listing_path(section, n))}">{n}</a></li>'
            )
        if page < pages:
            nums.append(f'<li><a href="{esc(self.listing_path(section, page + 1))}">›</a></li>')
        # Real listings keep links to articles since taken down: one answers 200 with an
        # error message (a "soft 404"), the other 404. Neither is an article to store.
        dead = self.DEAD_LINKS if (section, page) == ("phap-luat", 1) else ""
        old = "".join(
            f'<li><a href="{esc(path)}">{self.t(a.title)}</a> '
            f'<span class="time">({_time(a.published)})</span></li>'
            for path, a in self.old_scheme_links(section, page)
        )
        if old:  # links of the previous URL scheme, still online
            old = f'<div class="box-old"><div class="box-title">Tin cũ</div><ul>{old}</ul></div>\n'
        main = (
            f'<div class="breadcrumbs"><a href="/baden/">Trang chủ</a> <span class="sep">»</span> '
            f'<a href="{self.listing_path(section, 1)}">{self.t(name)}</a></div>\n'
            f'<h1 class="cat-name">{self.t(name)}</h1>\n<div class="list-news">\n'
            + "".join(map(self.item, items))
            + dead
            + f"</div>\n{old}"
            + f'<ul class="pagination">{"".join(nums)}</ul>'
        )
        return self.layout(f"{name} - {self.name}", main)

    SOFT_404 = "/baden/bai-viet-da-go-bo-a169001.html"
    HARD_404 = "/baden/tin-da-xoa-a169002.html"
    DEAD_LINKS = (
        f'<div class="news-item"><h3 class="news-item-title"><a href="{SOFT_404}">'
        "Thông báo lịch tiếp công dân tháng 9</a></h3></div>\n"
        f'<div class="news-item"><h3 class="news-item-title"><a href="{HARD_404}">'
        "Kết quả xổ số kiến thiết Tây Ninh</a></h3></div>\n"
    )

    def extra_pages(self) -> dict[str, Page]:
        """The soft-404 page of a removed article (status 200, no article in it)."""
        main = (
            '<div class="breadcrumbs"><a href="/baden/">Trang chủ</a></div>\n'
            '<div class="error-page"><p>Bài viết không tồn tại hoặc đã bị gỡ bỏ.</p>'
            '<p><a href="/baden/">Quay lại trang chủ</a></p></div>'
        )
        return {**super().extra_pages(), self.SOFT_404: html_page(self.layout(self.name, main))}

    def tag_page(self, tag: Tag) -> str:
        main = (
            f'<h1 class="cat-name">Từ khóa: {self.t(tag.name)}</h1>\n<div class="list-news">\n'
            + "".join(map(self.item, tag.articles))
            + "</div>"
        )
        return self.layout(f"{tag.name} - {self.name}", main)

    def video_index(self) -> str:
        t = self.t
        items = "".join(
            f'<div class="news-item"><h3 class="news-item-title"><a href="{self.video_path(v)}">'
            f'{t(v.title)}</a></h3><span class="time">{_time(v.published)}</span></div>\n'
            for v in self.videos
        )
        return self.layout(f"Media - {self.name}", f'<h1 class="cat-name">Media</h1>\n{items}')

    def video_page(self, v: Media) -> str:
        t = self.t
        main = f"""<div class="breadcrumbs"><a href="/baden/">Trang chủ</a> <span class="sep">»</span> <a href="{self.video_index_path}">Media</a></div>
<div class="video-detail">
<h1 class="news-title">{t(v.title)}</h1>
<div class="news-info"><span class="news-time">{_time(v.published)}</span></div>
<div class="video-frame"><iframe src="https://www.youtube.com/embed/bbd{v.id}" allowfullscreen></iframe></div>
<p class="video-sapo">{t(v.description)}</p>
</div>"""
        return self.layout(f"{v.title} - {self.name}", main)

    def search_page(self) -> str:
        main = """<h1 class="cat-name">Kết quả tìm kiếm</h1>
<form action="/baden/tim-kiem/" method="get"><input name="keyword" type="text"><button type="submit">Tìm</button></form>
<p>Không có kết quả nào.</p>"""
        return self.layout(f"Tìm kiếm - {self.name}", main)

    def admin_page(self) -> str:
        main = """<h1>Đăng nhập</h1>
<form action="/baden/admin/" method="post"><input name="user" type="text"><input name="pass" type="password"><button type="submit">Đăng nhập</button></form>"""
        return self.layout("Đăng nhập quản trị", main)
