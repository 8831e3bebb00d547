from datetime import UTC, datetime, timedelta

from aggregator.items import Article, article_id
from aggregator.pipelines import normalize_article


def categories(section: str | None) -> tuple[str, ...]:
    return ("kinh-te",) if section == "Kinh tế" else ()


def test_normalize_article_fields() -> None:
    article = Article(
        url="HTTP://Bao.Example.vn:80/kinh-te/bai-1.html?utm_source=fb#top",
        site="demo",
        title="  Ðắk  Nông\u00a0mở rộng ",
        lead="(BBĐ) - Sáng nay, tỉnh họp.",
        body_text="Một.\n\n  Hai. ",
        section="Kinh tế",
        published=datetime(2026, 11, 1, 1, 0, tzinfo=UTC),
        fetched_at=datetime(2026, 11, 27, tzinfo=UTC),
    )
    got = normalize_article(article, categories)
    assert got.title == "Đắk Nông mở rộng"
    assert (got.lead, got.source_tag) == ("Sáng nay, tỉnh họp.", "(BBĐ)")
    assert got.body_text == "Một.\nHai."
    assert (got.category, got.categories) == ("kinh-te", ["kinh-te"])
    assert got.canonical_url == "http://bao.example.vn/kinh-te/bai-1.html"
    assert got.id == article_id(got.canonical_url)
    assert got.published is not None and got.published.isoformat() == "2026-11-01T08:00:00+07:00"
    assert got.flags == []


def test_unreadable_or_future_date_is_flagged_not_dropped() -> None:
    fetched = datetime(2026, 11, 27, tzinfo=UTC)
    missing = normalize_article(
        Article(url="http://x.vn/a", site="d", fetched_at=fetched), categories
    )
    assert missing.published is None and "date_missing" in missing.flags
    future = normalize_article(
        Article(url="http://x.vn/b", site="d", fetched_at=fetched,
                published=fetched + timedelta(days=30)),
        categories,
    )  # fmt: skip
    assert future.published is None
    assert {"date_in_future", "date_missing"} <= set(future.flags)
