"""Báo Cao Nguyên: a legacy CMS.

No metadata at all (no OpenGraph, JSON-LD or meta dates), a table layout, page text
in decomposed Unicode (NFD) with every other "Đ" of a text printed as U+00D0 "Ð",
a stale header date "Thứ hai, ngày 14 tháng 04 năm 2016" on every page, dates
"23/07/2020 13:36 GMT+7", each caption printed twice (under the photo and again
as a centred paragraph), the byline in ``<p align="right"><b>`` at the end.

URLs: ``/caonguyen/<section>/<id>/<slug>.htm`` (listings, tag pages and the front page
link articles with a "tracking" alias with ``?utm_source=zalo&...`` appended; the
page is the same and prints no canonical link); listings ``/caonguyen/<section>/`` and
``/caonguyen/<section>/?page=<n>``; tags ``/caonguyen/tu-khoa/<slug>.htm``; videos
``/caonguyen/video/<id>/<slug>.htm``; search ``/caonguyen/timkiem.aspx?keyword=``.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import ClassVar

from sampleweb.base import VN, Media, SiteTemplate, Tag, esc, vn
from sampleweb.groundtruth import Block, GroundTruthArticle

__all__ = ["CaoNguyen", "legacy_text"]

STALE_DATE = "Thứ hai, ngày 14 tháng 04 năm 2016"


def legacy_text(text: str) -> str:
    """Text as the legacy CMS prints it: NFD, every other "Đ" as U+00D0.

    Which occurrence comes first depends only on the text, so the output is stable.
    """
    out = []
    flip = sum(map(ord, text)) % 2
    for ch in unicodedata.normalize("NFD", text):
        if ch == "Đ":
            ch = "\u00d0" if flip else ch
            flip ^= 1
        out.append(ch)
    return "".join(out)


def _time(value: datetime) -> str:
    return f"{vn(value):%d/%m/%Y %H:%M} GMT+7"


class CaoNguyen(SiteTemplate):
    """Templates of Báo Cao Nguyên."""

    site_id = "caonguyen"
    name = "Báo Cao Nguyên"
    province = "Đắk Nông"
    sections: ClassVar[dict[str, str]] = {
        "chinh-tri": "Chính trị",
        "xa-hoi": "Xã hội",
        "nong-nghiep": "Nông nghiệp",
        "quoc-phong-an-ninh": "Quốc phòng - An ninh",
    }
    page_size = 8
    disallow = ("/timkiem.aspx", "/admin/")
    search_path = "/caonguyen/timkiem.aspx"
    search_link = "/caonguyen/timkiem.aspx?keyword=dak+nong"
    videos = (
        Media(
            9901,
            "Đắk Nông: Lễ hội mừng lúa mới của đồng bào M'nông",
            datetime(2026, 11, 8, 15, 0, tzinfo=VN),
            "Tiếng cồng chiêng vang lên trong lễ mừng lúa mới ở bon Bu Prăng.",
        ),
        Media(
            9902,
            "Thác Đray Sáp mùa nước lớn",
            datetime(2026, 10, 11, 9, 30, tzinfo=VN),
            "Thác nước hùng vĩ trong công viên địa chất Đắk Nông.",
        ),
        Media(
            9903,
            "Người giữ rừng ở Tà Đùng",
            datetime(2026, 9, 19, 17, 45, tzinfo=VN),
            "Tổ bảo vệ rừng thôn bản tuần tra suốt mùa khô.",
        ),
    )
    assets: ClassVar[dict[str, str]] = {
        "css/style.css": "td.tieude{font:bold 18px Tahoma}td.noidung{font:13px Tahoma}\n",
        "js/menu.js": "function showMenu(id){return id;}\n",
        "images/banner.png": "",
    }

    # -- URLs ---------------------------------------------------------------------------

    @classmethod
    def article_path(cls, a: GroundTruthArticle) -> str:
        return f"/caonguyen/{a.section}/{a.id}/{a.slug}.htm"

    def listing_path(self, section: str, page: int) -> str:
        return f"/caonguyen/{section}/" if page == 1 else f"/caonguyen/{section}/?page={page}"

    def tag_path(self, tag: Tag) -> str:
        return f"/caonguyen/tu-khoa/{tag.slug}.htm"

    def video_path(self, v: Media) -> str:
        return f"/caonguyen/video/{v.id}/{v.slug}.htm"

    def image_path(self, a: GroundTruthArticle, n: int) -> str:
        return f"/caonguyen/Images/Upload/{vn(a.published):%Y%m}/{a.id}_{n}.png"

    def t(self, text: str) -> str:
        return esc(legacy_text(text))

    # -- layout -------------------------------------------------------------------------

    def layout(self, title: str, main: str) -> str:
        t = self.t
        menu = " | ".join(
            f'<a class="menu" href="{self.listing_path(s, 1)}">{t(n)}</a>'
            for s, n in self.sections.items()
        )
        left = "".join(
            f'<tr><td class="left-item">» <a href="{self.listing_path(s, 1)}">{t(n)}</a></td></tr>'
            for s, n in self.sections.items()
        )
        new = "".join(
            f'<tr><td class="tinmoi">• <a href="{self.article_path(a)}">{t(a.title)}</a></td></tr>'
            for a in self.latest(6)
        )
        read = "".join(
            f'<tr><td class="docnhieu">• <a href="{self.article_path(a)}">{t(a.title)}</a></td></tr>'
            for a in self.most_read(5)
        )
        vids = "".join(
            f'<tr><td class="video">» <a href="{self.video_path(v)}">{t(v.title)}</a></td></tr>'
            for v in self.videos
        )
        head = f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{esc(title)}</title>
<link href="/caonguyen/css/style.css" rel="stylesheet" type="text/css">
<script language="javascript" src="/caonguyen/js/menu.js"></script>
</head>
"""
        body = f"""<body leftmargin="0" topmargin="0" bgcolor="#FFFFFF">
<table width="980" border="0" cellpadding="0" cellspacing="0" align="center" class="khung">
<tr><td colspan="3" class="header"><span class="ngaythang">{t(STALE_DATE)}</span><br><a href="/caonguyen/"><img src="/caonguyen/images/banner.png" width="980" height="120" border="0" alt="{t(self.name)}"></a></td></tr>
<tr><td colspan="3" class="menungang"><a class="menu" href="/caonguyen/">Trang chủ</a> | {menu} | <a class="menu" href="{self.video_index_path}">Media</a> | <a class="menu" href="{esc(self.search_link)}">Tìm kiếm</a></td></tr>
<tr>
<td width="180" valign="top" class="cotrai"><table width="100%" cellpadding="2">{left}<tr><td class="left-title">Media</td></tr>{vids}</table></td>
<td width="580" valign="top" class="cotgiua">
{main}
</td>
<td width="220" valign="top" class="cotphai"><table width="100%" cellpadding="2">
<tr><td class="box-title">Tin mới</td></tr>{new}
<tr><td class="box-title">Đọc nhiều</td></tr>{read}
</table></td>
</tr>
<tr><td colspan="3" class="footer" align="center">{t(self.name.upper())} - CƠ QUAN CỦA ĐẢNG BỘ TỈNH {t(self.province.upper())}<br>
Địa chỉ: Đường 23 Tháng 3, phường Nghĩa Đức, thành phố Gia Nghĩa, tỉnh Đắk Nông - ĐT: 0261 3544 000<br>
Giấy phép số 88/GP-BTTTT. Ghi rõ nguồn “Báo Cao Nguyên” khi phát hành lại thông tin từ website này. <a href="{self.admin_path}">Admin</a></td></tr>
</table>
</body>
</html>
"""
        # the whole page body is decomposed, the <title> in <head> stays composed
        return head + unicodedata.normalize("NFD", body)

    def row(self, a: GroundTruthArticle) -> str:
        t = self.t
        return (
            f'<tr><td class="tin"><a class="tieudetin" href="{esc(self.listed_path(a))}">{t(a.title)}</a> '
            f'<span class="ngay">({vn(a.published):%d/%m/%Y %H:%M})</span><br>'
            f'<span class="tomtat">{t(a.lead)}</span></td></tr>\n'
        )

    # -- pages --------------------------------------------------------------------------

    def home(self) -> str:
        t = self.t
        parts = ['<table width="100%" class="tbl-danhsach">', *map(self.row, self.latest(8))]
        for s, name in self.sections.items():
            parts.append(
                f'<tr><td class="tenchuyenmuc"><a href="{self.listing_path(s, 1)}">{t(name)}</a></td></tr>'
            )
            parts.extend(map(self.row, self.in_section(s)[:3]))
        parts.append("</table>")
        return self.layout(f"{self.name} - Trang chủ", "\n".join(parts))

    def block(self, b: Block, a: GroundTruthArticle, n: int) -> str:
        t = self.t
        if b.type == "p":
            return f"<p>{t(b.text)}</p>"
        if b.type == "h":
            return f"<p><b>{t(b.text)}</b></p>"
        if (a.id + n) % 2:
            caption = f"{b.caption} (ảnh minh hoạ)"
        else:
            caption = self.caption_with_credit(b.caption, b.credit)
        return (
            f'<table class="khung-anh" align="center" border="0" cellpadding="3"><tr><td align="center">'
            f'<img src="{self.image_path(a, n)}" width="450" border="0"></td></tr>'
            f'<tr><td class="chuthich" align="center">{t(caption)}</td></tr></table>\n'
            f'<p align="center"><i>{t(caption)}</i></p>'
        )

    def article(self, a: GroundTruthArticle) -> str:
        t = self.t
        blocks: list[str] = []
        n = 0
        for b in a.body:
            n += b.type == "img"
            blocks.append(self.block(b, a, n))
        others = "".join(
            f'<li><a href="{self.article_path(x)}">{t(x.title)}</a> ({vn(x.published):%d/%m/%Y})</li>'
            for x in self.related(a, 5)
        )
        tags = ", ".join(f'<a href="{self.tag_path(g)}">{t(g.name)}</a>' for g in self.tags_of(a))
        main = f"""<table width="100%" border="0" cellpadding="4" cellspacing="0" class="tbl-chitiet">
<tr><td class="duongdan"><a href="/caonguyen/">Trang chủ</a> » <a class="link-cm" href="{self.listing_path(a.section, 1)}">{t(self.sections[a.section])}</a></td></tr>
<tr><td class="tieude">{t(a.title)}</td></tr>
<tr><td class="ngaydang">{_time(a.published)}</td></tr>
<tr><td class="trichdan"><b>{t(a.lead)}</b></td></tr>
<tr><td class="noidung">
{chr(10).join(blocks)}
<p align="right"><b>{t(a.byline)}</b></p>
</td></tr>
<tr><td class="tukhoa">Từ khoá: {tags}</td></tr>
<tr><td class="tinkhac"><b>Các tin khác:</b><ul>{others}</ul></td></tr>
</table>"""
        return self.layout(f"{self.name} - {a.title}", main)

    def listing(self, section: str, items: list[GroundTruthArticle], page: int, pages: int) -> str:
        t = self.t
        nums = " ".join(
            f"<b>{n}</b>" if n == page else f'<a href="{self.listing_path(section, n)}">{n}</a>'
            for n in range(1, pages + 1)
        )
        if page < pages:
            nums += f' <a href="{self.listing_path(section, page + 1)}">Tiếp »</a>'
        main = (
            f'<table width="100%" class="tbl-danhsach">\n<tr><td class="tenchuyenmuc">'
            f"{t(self.sections[section])}</td></tr>\n"
            + "".join(map(self.row, items))
            + f'<tr><td class="phantrang">Trang: {nums}</td></tr>\n</table>'
        )
        return self.layout(f"{self.name} - {self.sections[section]}", main)

    def tag_page(self, tag: Tag) -> str:
        main = (
            f'<table width="100%" class="tbl-danhsach">\n<tr><td class="tenchuyenmuc">Từ khoá: '
            f"{self.t(tag.name)}</td></tr>\n" + "".join(map(self.row, tag.articles)) + "</table>"
        )
        return self.layout(f"{self.name} - {tag.name}", main)

    def video_index(self) -> str:
        t = self.t
        rows = "".join(
            f'<tr><td class="tin"><a class="tieudetin" href="{self.video_path(v)}">{t(v.title)}</a> '
            f'<span class="ngay">({vn(v.published):%d/%m/%Y %H:%M})</span></td></tr>\n'
            for v in self.videos
        )
        main = f'<table width="100%" class="tbl-danhsach">\n<tr><td class="tenchuyenmuc">Media</td></tr>\n{rows}</table>'
        return self.layout(f"{self.name} - Media", main)

    def video_page(self, v: Media) -> str:
        t = self.t
        main = f"""<table width="100%" class="tbl-video">
<tr><td class="tieude">{t(v.title)}</td></tr>
<tr><td class="ngaydang">{_time(v.published)}</td></tr>
<tr><td align="center"><embed src="/caonguyen/flash/player.swf?file=/caonguyen/video/{v.id}.flv" width="450" height="300"></td></tr>
<tr><td class="trichdan">{t(v.description)}</td></tr>
</table>"""
        return self.layout(f"{self.name} - {v.title}", main)

    def search_page(self) -> str:
        main = """<table width="100%"><tr><td class="tenchuyenmuc">Tìm kiếm</td></tr>
<tr><td><form action="/caonguyen/timkiem.aspx" method="get"><input type="text" name="keyword"> <input type="submit" value="Tìm"></form></td></tr>
<tr><td>Không tìm thấy tin bài nào.</td></tr></table>"""
        return self.layout(f"{self.name} - Tìm kiếm", main)

    def admin_page(self) -> str:
        main = """<table width="100%"><tr><td class="tenchuyenmuc">Đăng nhập quản trị</td></tr>
<tr><td><form action="/caonguyen/admin/" method="post">Tên đăng nhập: <input type="text" name="u"><br>Mật khẩu: <input type="password" name="p"><br><input type="submit" value="Đăng nhập"></form></td></tr></table>"""
        return self.layout(f"{self.name} - Quản trị", main)
