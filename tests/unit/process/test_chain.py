"""The chain's normalization step on items as a spider yields them: fields cleaned, the
canonical URL and id, dates in Vietnam time, quality flags."""

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.items import Article, article_id
from aggregator.process.chain import Chain, Page, normalize_article, page_records, prepare
from aggregator.sites.definition import SiteDefinition, load_site
from aggregator.store import SQLiteStore
from aggregator.store.records import UpsertResult, store_form
from tests.support.factory import PUBLISHED, STORY_TEXT, make_article


@pytest.fixture
def site(tmp_path: Path) -> SiteDefinition:
    path = tmp_path / "demo.toml"
    path.write_text(
        'id = "demo"\nname = "Báo Mẫu"\nprovince = "Tây Ninh"\n'
        "base_url = \"https://bao.example.vn/\"\n[links]\narticle = '-\\d+\\.html$'\n"
        '[urls]\nsame_hosts = ["m.bao.example.vn"]\nfold_amp = true\n',
        encoding="utf-8",
    )
    return load_site(path)


def test_normalize_article_fields(site: SiteDefinition) -> None:
    article = Article(
        url="HTTP://M.Bao.Example.vn:80/amp/kinh-te/bai-1.html?utm_source=fb&amp#top",
        site="demo",
        title="  Ðắk  Nông\u00a0mở rộng ",
        lead="(BBĐ) - Sáng nay, tỉnh họp.",
        body_text="Một.\n\n  Hai. ",
        section="Kinh tế",
        published=datetime(2026, 11, 1, 1, 0, tzinfo=UTC),
        fetched_at=datetime(2026, 11, 27, tzinfo=UTC),
    )
    got = normalize_article(article, site)
    assert got.title == "Đắk Nông mở rộng"
    assert (got.lead, got.source_tag) == ("Sáng nay, tỉnh họp.", "(BBĐ)")
    assert got.body_text == "Một.\nHai."
    assert (got.category, got.categories) == ("kinh-te", ["kinh-te"])
    assert got.canonical_url == "http://bao.example.vn/kinh-te/bai-1.html"
    assert got.id == article_id(got.canonical_url)
    assert got.published is not None and got.published.isoformat() == "2026-11-01T08:00:00+07:00"
    assert got.flags == []


def test_unreadable_or_future_date_is_flagged_not_dropped(site: SiteDefinition) -> None:
    fetched = datetime(2026, 11, 27, tzinfo=UTC)
    missing = normalize_article(Article(url="http://x.vn/a", site="d", fetched_at=fetched), site)
    assert missing.published is None and "date_first_seen" in missing.flags
    future = normalize_article(
        Article(url="http://x.vn/b", site="d", fetched_at=fetched,
                published=fetched + timedelta(days=30)),
        site,
    )  # fmt: skip
    assert future.published is None
    assert {"date_in_future", "date_first_seen"} <= set(future.flags)


def test_rel_canonical_counts_only_on_the_same_site(site: SiteDefinition) -> None:
    fetched = datetime(2026, 11, 27, tzinfo=UTC)
    same = Article(
        url="https://bao.example.vn/tin-cu/1.html",
        site="demo",
        fetched_at=fetched,
        canonical_url="https://www.bao.example.vn/kinh-te/bai-1.html",
    )
    # www. is not declared the same site here: the page's own URL stays canonical
    assert normalize_article(same, site).canonical_url == "https://bao.example.vn/tin-cu/1.html"
    same.canonical_url = "/kinh-te/bai-1.html?utm_medium=x"
    same.canonical_url = "https://bao.example.vn/kinh-te/bai-1.html?utm_medium=x"
    assert (
        normalize_article(same, site).canonical_url == "https://bao.example.vn/kinh-te/bai-1.html"
    )
    other = Article(
        url="https://bao.example.vn/a-1.html",
        site="demo",
        fetched_at=fetched,
        canonical_url="https://evil.example.com/a-1.html",
    )
    assert normalize_article(other, site).canonical_url == "https://bao.example.vn/a-1.html"


def test_garbled_text_is_flagged(site: SiteDefinition) -> None:
    article = Article(
        url="https://bao.example.vn/a-1.html",
        site="demo",
        title="Sinh viªn thùc hiªn ®Ò tµi",
        body_text="x\ufffdy",
        fetched_at=datetime(2026, 11, 27, tzinfo=UTC),
    )
    flags = normalize_article(article, site).flags
    assert "encoding_garbled" in flags and "encoding_errors" in flags


# -- writes in batches -----------------------------------------------------------------------


def _looked_up(chain: Chain, *articles: Article) -> list[tuple[Article, None]]:
    """Each article's story decided before any of them is stored, as a batch has them."""
    for article in articles:
        chain.dedup(article)
    return [(a, None) for a in articles]


def test_copies_of_one_story_in_one_batch_still_merge(tmp_path: Path) -> None:
    """The second copy's lookup could not see the first (not stored yet): the batch
    decides it again once the first is written."""
    original = make_article("https://a.vn/1.html", body_text=STORY_TEXT)
    copy = make_article("https://b.vn/2.html", site="baden", body_text=STORY_TEXT,
                        published=PUBLISHED + timedelta(hours=2))  # fmt: skip
    other = make_article("https://a.vn/3.html", body_text="Một tin khác hẳn. " * 30)
    with SQLiteStore(tmp_path / "a.db") as store:
        chain = Chain(store)
        batch = _looked_up(chain, original, copy, other)
        assert copy.story is not None and copy.story.kind is None
        assert chain.store_batch(batch) == ["inserted", "inserted", "inserted"]
        stored = {a.id: a for a in store.articles()}
    assert copy.story is not None and copy.story.kind == "exact"
    assert stored[copy.id].duplicate_of == original.id
    assert stored[original.id].duplicate_of is None and stored[other.id].duplicate_of is None


def test_an_article_that_fails_costs_the_batch_only_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = [
        make_article(f"https://a.vn/{n}.html", body_text=f"Tin {n}. " * 40) for n in range(3)
    ]
    with SQLiteStore(tmp_path / "a.db") as store:
        real = store.upsert

        def upsert(article: Article) -> UpsertResult:
            if article.id == articles[1].id:
                raise ValueError("a bad article")
            return real(article)

        monkeypatch.setattr(store, "upsert", upsert)
        chain = Chain(store)
        results = chain.store_batch(_looked_up(chain, *articles))
        assert results[0] == results[2] == "inserted"
        assert isinstance(results[1], ValueError)
        assert {a.id for a in store.articles()} == {articles[0].id, articles[2].id}


def test_prepare_computes_what_the_store_and_page_records_would(site: SiteDefinition) -> None:
    body = "".join(f"<p>Câu chuyện số {n} về làng nghề Tây Ninh.</p>" for n in range(12))
    html = (
        "<html><body><article><h1>Lũ về Tây Ninh</h1>"
        f'<time datetime="2026-11-01T08:00:00+07:00">1/11/2026</time>{body}'
        '<p onclick="x()">Hết.</p></article></body></html>'
    )
    url = "https://m.bao.example.vn/lu-ve-1.html?utm_source=x"
    article = prepare(Page(url, html.encode(), None, fetched_at=PUBLISHED), site)
    assert article.prepared is not None
    plain = dataclasses.replace(article, prepared=None)
    assert article.prepared == dataclasses.replace(
        store_form(plain), page_url=(site.id, url, "https://bao.example.vn/lu-ve-1.html")
    )
    # the body HTML travels once, made safe
    assert "onclick" not in article.body_html and "body_html" not in article.prepared.safe
    assert page_records(article, site) == page_records(plain, site)
    # the fetched URL changed since: its record follows
    article.url = "https://bao.example.vn/lu-ve-2.html"
    assert {r.url for r in page_records(article, site)} == {
        "https://bao.example.vn/lu-ve-1.html",
        "https://bao.example.vn/lu-ve-2.html",
    }
