"""Báo Tam Đảo: shaped like Báo Vĩnh Phúc (seed-article.txt).

Section name above the title, a weekday date without time (the time is only in
``article:published_time``, no JSON-LD), the byline alone in the last right-aligned
paragraph of the content, then inside the content: Google News link, share/print
links, "TAG:", comment form, related news.

URLs: ``/tamdao/<section>/<slug>-<id>.html``; listings ``/tamdao/<section>/`` and
``/tamdao/<section>/p/<n>``; the old scheme ``/tamdao/Tin-tuc/<id>.aspx`` still serves
the articles with an "old-scheme" alias, WITHOUT ``<link rel="canonical">`` (its
``og:url`` is the old URL), linked from a "Tin cũ" box on page 1 of their section; tags ``/tamdao/tag/<slug>.html``; videos
``/tamdao/video/<slug>-v<id>.html``; search ``/tamdao/tim-kiem?q=``.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from urllib.parse import quote

from sampleweb.base import VN, Media, SiteTemplate, Tag, esc, vn, weekday
from sampleweb.groundtruth import Block, GroundTruthArticle

__all__ = ["TamDao"]


def _date(value: datetime) -> str:
    return vn(value).strftime("%d/%m/%Y")


class TamDao(SiteTemplate):
    """Templates of Báo Tam Đảo."""

    site_id = "tamdao"
    name = "Báo Tam Đảo"
    province = "Vĩnh Phúc"
    sections: ClassVar[dict[str, str]] = {
        "xay-dung-dang": "Xây dựng Đảng",
        "kinh-te": "Kinh tế",
        "van-hoa-xa-hoi": "Văn hóa - Xã hội",
        "thoi-su": "Thời sự",
    }
    page_size = 8
    disallow = ("/tim-kiem", "/admin/")
    search_path = "/tamdao/tim-kiem"
    search_link = "/tamdao/tim-kiem?q=n%C3%B4ng+th%C3%B4n+m%E1%BB%9Bi"
    stale_date = "Thứ Sáu, 03/07/2020"
    videos = (
        Media(
            83901,
            "Bản tin thời sự Tam Đảo tối thứ Bảy",
            datetime(2026, 11, 21, 19, 30, tzinfo=VN),
            "Điểm tin nổi bật trong tuần về kinh tế, văn hóa, xã hội của tỉnh.",
        ),
        Media(
            83902,
            "Mùa hoa dã quỳ trên đỉnh Tam Đảo",
            datetime(2026, 11, 9, 8, 0, tzinfo=VN),
            "Những triền đồi vàng rực hoa dã quỳ thu hút du khách cuối tuần.",
        ),
        Media(
            83903,
            "Phóng sự: Nghề làm gốm ở làng Hương Canh",
            datetime(2026, 10, 17, 10, 45, tzinfo=VN),
            "Nghệ nhân làng gốm giữ lửa nghề truyền thống qua nhiều thế hệ.",
        ),
    )
    assets: ClassVar[dict[str, str]] = {
        "Content/site.css": "body{font-family:Arial,sans-serif}.article-title{font-size:28px}\n",
        "Scripts/main.js": "document.documentElement.className+=' js';\n",
        "Content/images/logo.png": "",
    }

    # -- URLs ---------------------------------------------------------------------------

    @classmethod
    def article_path(cls, a: GroundTruthArticle) -> str:
        return f"/tamdao/{a.section}/{a.slug}-{a.id}.html"

    @classmethod
    def old_scheme_path(cls, a: GroundTruthArticle) -> str:
        return f"/tamdao/Tin-tuc/{a.id}.aspx"

    def listing_path(self, section: str, page: int) -> str:
        return f"/tamdao/{section}/" if page == 1 else f"/tamdao/{section}/p/{page}"

    def tag_path(self, tag: Tag) -> str:
        return f"/tamdao/tag/{tag.slug}.html"

    def video_path(self, v: Media) -> str:
        return f"/tamdao/video/{v.slug}-v{v.id}.html"

    def image_path(self, a: GroundTruthArticle, n: int) -> str:
        return f"/tamdao/Uploads/images/{vn(a.published):%Y/%m}/{a.id}-{n}.png"

    # -- layout -------------------------------------------------------------------------

    def layout(self, title: str, main: str, *, head: str = "") -> str:
        t = self.t
        menu = "".join(
            f'<li><a href="{self.listing_path(s, 1)}">{t(n)}</a></li>'
            for s, n in self.sections.items()
        )
        return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
{head}<link rel="stylesheet" href="/tamdao/Content/site.css">
<link rel="shortcut icon" href="/tamdao/Content/images/logo.png">
<script src="/tamdao/Scripts/main.js"></script>
</head>
<body>
<div id="wrapper">
<div class="top-bar"><span class="today">{t(self.stale_date)}</span>
<a class="search-link" href="{esc(self.search_link)}">Tìm kiếm</a>
<a href="{self.video_index_path}">Media</a></div>
<div class="header"><a class="logo" href="/tamdao/"><img src="/tamdao/Content/images/logo.png" alt="{t(self.name)}"></a>
<form class="search-box" action="/tamdao/tim-kiem" method="get"><input type="text" name="q" placeholder="Tìm kiếm"></form></div>
<ul class="main-menu"><li><a href="/tamdao/">Trang chủ</a></li>{menu}<li><a href="{self.video_index_path}">Media</a></li></ul>
<div class="container">
<div class="col-main">
{main}
</div>
<div class="col-side">
{self.sidebar()}
</div>
</div>
<div class="footer">
<p><strong>BÁO TAM ĐẢO ĐIỆN TỬ</strong> – Cơ quan của Đảng bộ tỉnh {t(self.province)}</p>
<p>Địa chỉ: Số 12, đường Hùng Vương, phường Tích Sơn, thành phố Vĩnh Yên, tỉnh Vĩnh Phúc. Điện thoại: 0211 3862 000</p>
<p>Giấy phép số 101/GP-BTTTT. <a href="{self.admin_path}">Quản trị</a></p>
</div>
</div>
</body>
</html>
"""

    def sidebar(self) -> str:
        t = self.t
        new = "".join(
            f'<li><a href="{self.article_path(a)}">{t(a.title)}</a></li>' for a in self.latest(6)
        )
        read = "".join(
            f'<li><a href="{self.article_path(a)}">{t(a.title)}</a></li>' for a in self.most_read(5)
        )
        vids = "".join(
            f'<li><a href="{self.video_path(v)}">{t(v.title)}</a></li>' for v in self.videos
        )
        return (
            f'<div class="box-side"><h3 class="box-title">Tin mới</h3><ul>{new}</ul></div>\n'
            f'<div class="box-side"><h3 class="box-title">Đọc nhiều</h3><ul>{read}</ul></div>\n'
            f'<div class="box-side box-video"><h3 class="box-title">Media</h3><ul>{vids}</ul></div>'
        )

    def story(self, a: GroundTruthArticle, *, sapo: bool = True) -> str:
        t = self.t
        href = esc(self.listed_path(a))
        thumb = self.thumb(a)
        img = (
            f'<a class="story-thumb" href="{href}"><img src="{thumb}" alt=""></a>' if thumb else ""
        )
        lead = f'<p class="story-sapo">{t(a.lead)}</p>' if sapo else ""
        return (
            f'<div class="story">{img}<h2 class="story-title"><a href="{href}">{t(a.title)}</a></h2>'
            f'<div class="story-date">{_date(a.published)}</div>{lead}</div>\n'
        )

    # -- pages --------------------------------------------------------------------------

    def home(self) -> str:
        t = self.t
        parts = ['<div class="home-latest">', *map(self.story, self.latest(10)), "</div>"]
        for s, name in self.sections.items():
            items = "".join(self.story(a, sapo=False) for a in self.in_section(s)[:4])
            parts.append(
                f'<div class="home-cate"><h2 class="cate-name">'
                f'<a href="{self.listing_path(s, 1)}">{t(name)}</a></h2>{items}</div>'
            )
        return self.layout(f"{self.name} điện tử", "\n".join(parts))

    def block(self, b: Block, a: GroundTruthArticle, n: int) -> str:
        t = self.t
        if b.type == "p":
            return f'<p style="text-align: justify;">{t(b.text)}</p>'
        if b.type == "h":
            return f'<p style="text-align: justify;"><strong>{t(b.text)}</strong></p>'
        src = self.image_path(a, n)
        caption = t(self.caption_with_credit(b.caption, b.credit))
        if (a.id + n) % 2:
            return (
                f'<table class="image" align="center"><tbody><tr><td><img src="{src}" '
                f'alt="{t(b.caption)}" width="600"></td></tr><tr><td class="image-desc">'
                f"{caption}</td></tr></tbody></table>"
            )
        return (
            f'<figure class="photo"><img src="{src}" alt="{t(b.caption)}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )

    def alias_page(self, a: GroundTruthArticle, kind: str) -> str:
        if kind == "old-scheme":  # the old CMS printed no canonical link
            return self.article(a, path=self.old_scheme_path(a), canonical=False)
        return super().alias_page(a, kind)

    def article(
        self, a: GroundTruthArticle, *, path: str | None = None, canonical: bool = True
    ) -> str:
        t = self.t
        blocks: list[str] = []
        n = 0
        for b in a.body:
            n += b.type == "img"
            blocks.append(self.block(b, a, n))
        url = self.url(path or self.article_path(a))
        tags = ", ".join(f'<a href="{self.tag_path(g)}">{t(g.name)}</a>' for g in self.tags_of(a))
        related = "".join(
            f'<li><a href="{self.article_path(x)}">{t(x.title)}</a></li>' for x in self.related(a)
        )
        image = self.thumb(a)
        head = (
            f'<meta name="description" content="{t(a.lead)}">\n'
            + (f'<link rel="canonical" href="{esc(url)}">\n' if canonical else "")
            + f'<meta property="og:type" content="article">\n'
            f'<meta property="og:title" content="{t(a.title)}">\n'
            f'<meta property="og:url" content="{esc(url)}">\n'
            + (f'<meta property="og:image" content="{esc(self.url(image))}">\n' if image else "")
            + f'<meta property="article:published_time" content="{vn(a.published).isoformat()}">\n'
        )
        main = f"""<div class="article-detail">
<div class="article-cate"><a href="{self.listing_path(a.section, 1)}">{t(self.sections[a.section])}</a></div>
<h1 class="article-title">{t(a.title)}</h1>
<div class="article-date">{weekday(a.published)}, {_date(a.published)}</div>
<div class="article-sapo">{t(a.lead)}</div>
<div class="article-content" id="content">
{chr(10).join(blocks)}
<p style="text-align: right;"><strong>{t(a.byline)}</strong></p>
<div class="gg-news"><a href="https://news.google.com/publications/CAAqBwgKMNaTtCsw" target="_blank" rel="nofollow">Theo dõi Báo Tam Đảo trên Google News</a></div>
<div class="article-tools">Chia sẻ: <a href="https://www.facebook.com/sharer/sharer.php?u={esc(quote(url, safe=""))}" rel="nofollow">Facebook</a> <a href="https://sp.zalo.me/share_inline?url={esc(quote(url, safe=""))}" rel="nofollow">Zalo</a> <a href="javascript:window.print()">In bài viết</a></div>
<div class="article-tags"><strong>TAG:</strong> {tags}</div>
<div class="box-comment"><h3>Ý kiến của bạn</h3>
<form action="/tamdao/admin/binh-luan" method="post"><p>Họ tên: <input type="text" name="name"></p><p>Email: <input type="text" name="email"></p><textarea name="body"></textarea><button type="submit">Gửi ý kiến</button></form></div>
<div class="related-news"><h3>Tin liên quan</h3><ul>{related}</ul></div>
</div>
</div>"""
        return self.layout(f"{a.title} - {self.name} điện tử", main, head=head)

    def pager(self, section: str, page: int, pages: int) -> str:
        links = []
        if page > 1:
            links.append(f'<a href="{self.listing_path(section, page - 1)}">« Trang trước</a>')
        for n in range(1, pages + 1):
            links.append(
                f'<span class="active">{n}</span>'
                if n == page
                else f'<a href="{self.listing_path(section, n)}">{n}</a>'
            )
        if page < pages:
            links.append(f'<a href="{self.listing_path(section, page + 1)}">Trang sau »</a>')
        return f'<div class="paging">{" ".join(links)}</div>'

    def old_news(self, section: str, page: int) -> str:
        """The "Tin cũ" box: links to old-scheme URLs still online."""
        links = "".join(
            f'<li><a href="{esc(path)}">{self.t(a.title)}</a> ({_date(a.published)})</li>'
            for path, a in self.old_scheme_links(section, page)
        )
        return f'<div class="old-news"><h3>Tin cũ</h3><ul>{links}</ul></div>\n' if links else ""

    def listing(self, section: str, items: list[GroundTruthArticle], page: int, pages: int) -> str:
        name = self.sections[section]
        main = (
            f'<div class="cate-header"><h1><a href="{self.listing_path(section, 1)}">'
            f'{self.t(name)}</a></h1></div>\n<div class="list-news">\n'
            + "".join(map(self.story, items))
            + "</div>\n"
            + self.old_news(section, page)
            + self.pager(section, page, pages)
        )
        title = name if page == 1 else f"{name} - Trang {page}"
        return self.layout(f"{title} - {self.name} điện tử", main)

    def tag_page(self, tag: Tag) -> str:
        main = (
            f'<h1 class="tag-title">TAG: {self.t(tag.name)}</h1>\n<div class="list-news">\n'
            + "".join(map(self.story, tag.articles))
            + "</div>"
        )
        return self.layout(f"{tag.name} - {self.name} điện tử", main)

    def video_index(self) -> str:
        t = self.t
        items = "".join(
            f'<div class="video-item"><h2><a href="{self.video_path(v)}">{t(v.title)}</a></h2>'
            f'<div class="story-date">{_date(v.published)}</div></div>\n'
            for v in self.videos
        )
        return self.layout(f"Media - {self.name} điện tử", f"<h1>Media</h1>\n{items}")

    def video_page(self, v: Media) -> str:
        t = self.t
        others = "".join(
            f'<li><a href="{self.video_path(o)}">{t(o.title)}</a></li>'
            for o in self.videos
            if o is not v
        )
        main = f"""<div class="video-detail">
<div class="article-cate"><a href="{self.video_index_path}">Media</a></div>
<h1 class="video-title">{t(v.title)}</h1>
<div class="article-date">{weekday(v.published)}, {_date(v.published)}</div>
<div class="video-player"><video controls preload="none" src="/tamdao/Uploads/video/{v.id}.mp4"></video></div>
<div class="video-desc">{t(v.description)}</div>
<div class="video-more"><h3>Media khác</h3><ul>{others}</ul></div>
</div>"""
        return self.layout(f"{v.title} - {self.name} điện tử", main)

    def search_page(self) -> str:
        main = """<h1>Tìm kiếm</h1>
<form action="/tamdao/tim-kiem" method="get"><input type="text" name="q"><button type="submit">Tìm</button></form>
<p class="search-empty">Không tìm thấy kết quả phù hợp với từ khóa.</p>"""
        return self.layout(f"Tìm kiếm - {self.name} điện tử", main)

    def admin_page(self) -> str:
        main = """<h1>Đăng nhập hệ thống quản trị</h1>
<form action="/tamdao/admin/" method="post"><p>Tài khoản: <input type="text" name="user"></p><p>Mật khẩu: <input type="password" name="password"></p><button type="submit">Đăng nhập</button></form>"""
        return self.layout("Quản trị", main)
