"""Articles for the tests: one factory instead of ``Article(...)`` built by hand in each
module.

``make_article(url)`` is an article as the processing chain hands it to the store: its
canonical URL is ``url`` and its id derives from it, it comes from Báo Tam Đảo (Vĩnh
Phúc) with a title, lead, body, byline, section and category, published on 1 November
2026 and fetched on the 27th. Any field can be overridden: ``published=None`` for an
undated page, ``authors=[]`` for one without a byline, ``canonical_url=...`` (the id
follows it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from aggregator.dedup.fingerprints import fingerprint
from aggregator.dedup.stories import StoryDecision
from aggregator.items import Article, article_id

__all__ = ["FETCHED", "PUBLISHED", "STORY_TEXT", "VN", "make_article", "with_dedup_keys"]

VN = timezone(timedelta(hours=7))
#: when the default article was published (Vietnam time) and fetched (UTC)
PUBLISHED = datetime(2026, 11, 1, 8, 0, tzinfo=VN)
FETCHED = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
#: a paragraph of news, long enough for dedup keys (shorter texts get an exact key only)
STORY_TEXT = (
    "Bộ Nông nghiệp và Môi trường vừa ban hành kế hoạch hỗ trợ 2.000 hợp tác xã nông "
    "nghiệp ứng dụng công nghệ số trong sản xuất, truy xuất nguồn gốc và tiêu thụ sản "
    "phẩm. Theo kế hoạch, các hợp tác xã tham gia sẽ được hướng dẫn lập mã số vùng "
    "trồng, số hóa sổ sách kế toán và đưa sản phẩm lên các sàn thương mại điện tử. "
    "Kinh phí thực hiện được bố trí từ ngân sách trung ương và địa phương."
)


def make_article(url: str, **overrides: Any) -> Article:
    """An article at ``url`` as the processing chain stores it; ``overrides`` replace
    fields (every value here is made afresh: no list is shared between articles)."""
    canonical = overrides.get("canonical_url", url)
    fields: dict[str, Any] = {
        "url": url,
        "site": "tamdao",
        "site_name": "Báo Tam Đảo",
        "province": "Vĩnh Phúc",
        "canonical_url": canonical,
        "id": article_id(canonical),
        "title": "Tiêu đề",
        "lead": "Sapo",
        "body_text": "Đoạn một.",
        "body_html": "<p>Đoạn một.</p>",
        "authors": ["Thanh Tuyền"],
        "section": "Kinh tế",
        "category": "kinh-te",
        "categories": ["kinh-te"],
        "published": PUBLISHED,
        "fetched_at": FETCHED,
    }
    fields.update(overrides)
    return Article(**fields)


def with_dedup_keys(article: Article) -> Article:
    """``article`` with the dedup keys of its body, as the chain's dedup step leaves it
    (no copy found): the store keeps the keys with it."""
    article.story = StoryDecision(fingerprint(article.body_text), None, None, (), 0)
    return article
