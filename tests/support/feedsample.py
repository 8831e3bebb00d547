"""The small set of articles the feed tests build feeds from, and the server tests serve:
five originals of Báo Tam Đảo (one carrying a payload, one undated) and a copy of the
first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aggregator.items import Article
from tests.support.factory import make_article

__all__ = [
    "ARTICLES",
    "BASE_URL",
    "DUPLICATE",
    "FETCHED",
    "PAYLOAD_BODY",
    "VN",
    "feed_article",
    "tamdao_article",
]

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BASE_URL = "https://tin.example.vn/feeds/"
FETCHED = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam
PAYLOAD_BODY = (
    "<p>Nội dung có mã độc.</p><script>alert('xss')</script>"
    '<img src="x.jpg" onerror="alert(1)"><a href="javascript:alert(2)">bấm</a>'
    '<img src="data:image/png;base64,iVBORw0KGgo="><iframe src="https://evil.example/"></iframe>'
    '<p><a href="/ban-doc/">Bạn đọc</a> <img src="../uploads/anh-tuong-doi.png" alt="ảnh"></p>'
)


def feed_article(url: str, **fields: Any) -> Article:
    """An article of the feed tests: fetched at ``FETCHED``; no byline (the site's name
    stands in), section, category or publication time (first seen) unless given."""
    values: dict[str, Any] = {
        "authors": [],
        "section": None,
        "category": None,
        "categories": [],
        "published": None,
        "fetched_at": FETCHED,
    }
    values.update(fields)
    return make_article(url, **values)


def tamdao_article(slug: str, **fields: Any) -> Article:
    """Báo Tam Đảo's ``thoi-su/<slug>.html``, its title, lead and body named after it."""
    values: dict[str, Any] = {
        "title": f"Tin {slug}",
        "lead": f"Sapo của bài {slug}.",
        "body_html": f"<p>Thân bài {slug}.</p>",
        "body_text": f"Thân bài {slug}.",
    }
    values.update(fields)
    return feed_article(f"https://baotamdao.vn/thoi-su/{slug}.html", **values)


ARTICLES = [
    tamdao_article(
        "khanh-thanh-cau-vinh-phuc",
        title="Khánh thành cầu Vĩnh Phúc – Hà Nội",
        lead="(BTĐ) - Sáng 8/3, tỉnh Vĩnh Phúc tổ chức lễ khánh thành cầu.",
        body_html="<p>Đồng chí Chủ tịch UBND tỉnh phát biểu.</p><h2>Ý nghĩa</h2>"
        "<p>Cầu dài 2km.</p>",
        authors=["Trường Khanh", "Minh Hà"],
        categories=["thoi-su", "kinh-te"],
        published=datetime(2025, 3, 8, 8, 15, tzinfo=VN),
        image="/uploads/2025/03/cau.jpg",
    ),
    tamdao_article(
        "ma-doc",
        title="Tiêu đề\x0bcó ký tự điều khiển",
        body_html=PAYLOAD_BODY,
        categories=["thoi-su"],
        published=datetime(2025, 3, 9, 1, 30, tzinfo=UTC),  # 08:30 in Vietnam
        image="anh/ma-doc.png",
    ),
    tamdao_article("khong-ngay", categories=["thoi-su", "xa-hoi"]),  # undated: first seen 09:00
    tamdao_article(
        "bai-cu", categories=["thoi-su"], published=datetime(2025, 3, 1, 7, 0, tzinfo=VN)
    ),
    tamdao_article(
        "xa-hoi-mot", categories=["xa-hoi"], published=datetime(2025, 3, 5, 6, 0, tzinfo=VN)
    ),
]
#: a near-duplicate of the first article: kept in the store, never in a feed
DUPLICATE = tamdao_article(
    "ban-sao",
    categories=["thoi-su", "ban-doc"],
    published=datetime(2025, 3, 9, 20, 0, tzinfo=VN),
    duplicate_of=ARTICLES[0].id,
)
