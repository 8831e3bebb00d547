"""Search in the store: folding and query building, and the index on a SQLite file
(``store_target``); tests/integration/store runs the store tests again on PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from aggregator.normalize.text import fold
from aggregator.store import SQLiteStore, open_store, search
from aggregator.store.migrations import FILTERS_MIGRATION, MIGRATIONS, SEARCH_MIGRATION
from aggregator.store.search import (
    MAX_QUERY_WORDS,
    MAX_WORD,
    SearchError,
    SearchTimeout,
    filters_tsquery,
    fts5_match,
    indexed_words,
    query_words,
    tsquery,
    words,
)
from tests.support.factory import VN, make_article


def test_words_are_folded_whole_words() -> None:
    assert indexed_words("Hoà Bình: Đường", "hòa-bình 2025", None) == [
        "hoa", "binh", "duong", "2025",
    ]  # fmt: skip
    assert query_words("  HOÀ   bình hoa ") == ("hoa", "binh")
    # operators, quotes and SQL are text: only their words are searched for
    assert query_words('"x" OR y* NEAR(z) \'; DROP TABLE articles; --') == (
        "x", "or", "y", "near", "z", "drop", "table", "articles",
    )  # fmt: skip
    assert fts5_match(["or", "x"]) == '"or" "x"'
    assert tsquery(["or", "x"]) == "'or' & 'x'"
    assert filters_tsquery() is None
    assert filters_tsquery(site="a-1", category="b") == "'category:b' & 'site:a-1'"
    assert filters_tsquery(province="x' | 'y\\") == "'province:x'' | ''y\\\\'"


def _words_reference(text: str) -> list[str]:
    """The definition :func:`words` keeps: the words of the whole text, folded at once."""
    return [w for w in re.findall(r"[^\W_]+", fold(text, diacritics=False)) if len(w) <= MAX_WORD]


#: what folding reads across characters: marks (composed, decomposed, stray, reordered),
#: old tone placement, đ/Đ and U+00D0, final sigma, dotted I, invisible and control
#: characters, every kind of space, digits, underscores and joiners
_TRICKY = (
    "aAoOuUyYeEiIđĐ\u00d0\u00f0\u0301\u0300\u0323\u0309\u0303\u031b\u0306\u0302"
    "àáảãạòóỏõọùúủũụỳýỷỹỵèéẻẽẹ ΣσςΑİı\u0307ﬁ２ⅷ_-.,:0123456789\u200b\u00ad\u2060"
    "\x00\x1b\x1c\x0b\x85\xa0\u2000\u2001\u3000\n\t\x7f"
)


@example("Hoà Bình THUỶ điện, qUỴ Đà Nẵng ĐĐ đ 12_3 x\u0301y ΟΔΥΣΣΕΥΣ. İ")
@example("o\u0300a u\u0309y \u00d0i\u1ec3m HÐND x\u200b\u00ad\u0301 \u0323\u0301a " + "w" * 150)
@given(st.text(alphabet=_TRICKY) | st.text())
def test_words_are_the_words_of_the_folded_text(text: str) -> None:
    assert words(text) == _words_reference(text)
    # a second time from the chunk cache
    assert words(text) == _words_reference(text)


def test_the_chunk_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "_CHUNK_WORDS", {})
    monkeypatch.setattr(search, "_CHUNK_CACHE_MAX", 10)
    text = " ".join(f"Hoà{i}" for i in range(25)) + " " + "x" * 40
    assert words(text) == _words_reference(text)
    assert 0 < len(search._CHUNK_WORDS) <= 10
    assert all(len(chunk) <= search._CHUNK_CACHED_LEN for chunk in search._CHUNK_WORDS)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "  ",
        '"*"() -- ;',
        "x" * 501,
        " ".join(f"w{i}" for i in range(MAX_QUERY_WORDS + 1)),
        "a" * 101,
    ],
)
def test_unusable_queries_are_one_line(query: str) -> None:
    with pytest.raises(SearchError) as caught:
        query_words(query)
    assert "\n" not in str(caught.value)


def test_match_builders_refuse_anything_but_words() -> None:
    for bad in (['a"b'], ["a'b"], ["a b"], []):
        with pytest.raises(SearchError):
            fts5_match(bad)
        with pytest.raises(SearchError):
            tsquery(bad)


def _stored(store_target: str) -> None:
    with open_store(store_target) as store:
        store.upsert(make_article("https://x.vn/1.html", title="Lũ ở Hoà Bình",
                                  published=datetime(2026, 11, 1, tzinfo=VN)))  # fmt: skip
        store.upsert(make_article("https://x.vn/2.html", title="Hòa giải ở xã",
                                  site="baden", province="Tây Ninh", categories=["xa-hoi"],
                                  published=datetime(2026, 11, 2, tzinfo=VN)))  # fmt: skip
        store.upsert(make_article("https://x.vn/3.html", title="Hoa đào nở",
                                  body_text="Hoa đào ở Bình Liêu.",
                                  published=datetime(2026, 11, 3, tzinfo=VN)))  # fmt: skip


def _urls(
    store_target: str, words: str, province: str | None = None, category: str | None = None,
    site: str | None = None,
) -> list[str]:  # fmt: skip
    with open_store(store_target) as store:
        found = store.search(query_words(words), province=province, category=category, site=site)
        return [a.url for a in found]


def test_search_folds_ands_filters_and_orders_newest_first(store_target: str) -> None:
    _stored(store_target)
    assert _urls(store_target, "hoa") == [f"https://x.vn/{i}.html" for i in (3, 2, 1)]
    assert _urls(store_target, "HOÀ binh") == ["https://x.vn/3.html", "https://x.vn/1.html"]
    assert _urls(store_target, "hoa", site="baden") == ["https://x.vn/2.html"]
    assert _urls(store_target, "hoa", province="tayninh") == ["https://x.vn/2.html"]
    assert _urls(store_target, "hoa", category="xa-hoi") == ["https://x.vn/2.html"]
    assert _urls(store_target, "hoa", category="nope") == []
    assert _urls(store_target, "hoa", site="baden", province="tayninh", category="xa-hoi") == [
        "https://x.vn/2.html"
    ]
    assert _urls(store_target, "hoa", site="baden", category="kinh-te") == []
    # a filter's value is text, whatever it holds
    assert _urls(store_target, "hoa", site="baden' | 'x") == []
    assert _urls(store_target, "hoa", category="xa-hoi\\") == []
    assert _urls(store_target, "ho") == []  # whole words only
    assert _urls(store_target, '"hoa" OR "lu"') == []  # no article has "or"
    with open_store(store_target) as store:
        assert len(store.search(query_words("hoa"), limit=2)) == 2


def test_an_edit_reindexes_and_copies_are_found_by_their_original(store_target: str) -> None:
    _stored(store_target)
    with open_store(store_target) as store:
        store.upsert(make_article("https://x.vn/1.html", title="Mưa lớn"))
        copy = make_article("https://y.vn/3.html", title="Hoa đào nở", site="baden",
                            duplicate_of=make_article("https://x.vn/3.html").id)  # fmt: skip
        store.upsert(copy)
        found = store.search(query_words("hoa dao"))
        assert [a.url for a in found] == ["https://x.vn/3.html"]
        assert [c["url"] for c in found[0].also_at] == ["https://y.vn/3.html"]
    assert _urls(store_target, "binh") == ["https://x.vn/3.html"]
    assert _urls(store_target, "mua lon") == ["https://x.vn/1.html"]
    with open_store(store_target) as store:  # new categories and province: filters follow
        store.upsert(make_article("https://x.vn/2.html", title="Hòa giải ở xã", site="baden",
                                  province="Đồng Nai", categories=["kinh-te"],
                                  published=datetime(2026, 11, 2, tzinfo=VN)))  # fmt: skip
    assert _urls(store_target, "hoa", category="xa-hoi") == []
    assert _urls(store_target, "hoa", province="tayninh") == []
    assert _urls(store_target, "hoa", category="kinh-te", province="dongnai") == [
        "https://x.vn/2.html"
    ]


def test_the_migration_indexes_articles_stored_before_it(store_target: str) -> None:
    _stored(store_target)
    with open_store(store_target) as store:  # back to the schema before search

        def downgrade() -> None:
            store.execute("DROP TABLE article_words")
            if isinstance(store, SQLiteStore):
                store.execute("DROP TABLE article_words_fts")
                store.execute(f"PRAGMA user_version = {SEARCH_MIGRATION - 1}")
            else:
                store.execute("UPDATE aggregator_schema SET version = ?", (SEARCH_MIGRATION - 1,))

        store.transaction(downgrade)
    with open_store(store_target) as store:
        assert store.schema_version() == len(MIGRATIONS)
    assert _urls(store_target, "hoa") == [f"https://x.vn/{i}.html" for i in (3, 2, 1)]
    assert _urls(store_target, "hoa", site="baden", category="xa-hoi") == ["https://x.vn/2.html"]


def test_the_filters_migration_fills_the_rows_stored_before_it(store_target: str) -> None:
    """PostgreSQL's search rows of migration 7 get their filters (SQLite: no change)."""
    _stored(store_target)
    with open_store(store_target) as store:

        def downgrade() -> None:
            if isinstance(store, SQLiteStore):
                store.execute(f"PRAGMA user_version = {FILTERS_MIGRATION - 1}")
                return
            store.execute("DROP TRIGGER article_words_filters ON article_words")
            store.execute("DROP FUNCTION article_words_filters")
            store.execute("ALTER TABLE article_words DROP COLUMN filters")
            store.execute("UPDATE aggregator_schema SET version = ?", (FILTERS_MIGRATION - 1,))

        store.transaction(downgrade)
    with open_store(store_target) as store:
        assert store.schema_version() == len(MIGRATIONS)
    assert _urls(store_target, "hoa", province="tayninh") == ["https://x.vn/2.html"]
    assert _urls(store_target, "hoa", site="baden", category="xa-hoi") == ["https://x.vn/2.html"]
    assert _urls(store_target, "hoa", site="x") == []


def test_a_search_over_its_time_bound_stops(store_target: str) -> None:
    with open_store(store_target) as store:
        store.transaction(lambda: [
            store.upsert(make_article(f"https://x.vn/{i}.html", title="Hoa")) for i in range(100)
        ])  # fmt: skip
    with open_store(store_target) as store, pytest.raises(SearchTimeout):
        store.search(query_words("hoa"), timeout=0.0)


def test_the_cut_falls_where_a_full_sort_puts_it(store_target: str) -> None:
    """Articles of one publication second: the limit keeps the lowest ids, whatever
    order the index holds them in."""
    urls = [f"https://x.vn/same-{i}.html" for i in range(8)]
    with open_store(store_target) as store:
        for url in urls:
            store.upsert(make_article(url, title="Hoa"))
        store.upsert(make_article("https://x.vn/older.html", title="Hoa",
                                  published=datetime(2026, 10, 1, tzinfo=VN)))  # fmt: skip
        found = store.search(query_words("hoa"), limit=3)
        by_id = sorted(make_article(url).id for url in urls)
        assert [a.id for a in found] == by_id[:3]
        assert store.search(query_words("hoa"), limit=9)[-1].url == "https://x.vn/older.html"


def test_newer_copies_do_not_crowd_out_the_originals(store_target: str) -> None:
    """Copies are read with the originals (a copy's row says what it is) and skipped:
    however many newer copies match, the newest originals are found."""
    originals = [f"https://x.vn/o{i}.html" for i in range(3)]
    with open_store(store_target) as store:
        for day, url in enumerate(originals, 1):
            store.upsert(make_article(url, title="Hoa",
                                      published=datetime(2026, 10, day, tzinfo=VN)))  # fmt: skip
        first = make_article(originals[0]).id
        for i in range(9):
            store.upsert(make_article(f"https://y.vn/c{i}.html", title="Hoa", site="baden",
                                      duplicate_of=first))  # fmt: skip
        found = store.search(query_words("hoa"), limit=2)
        assert [a.url for a in found] == [originals[2], originals[1]]
        assert [a.url for a in store.search(query_words("hoa"), site="baden")] == []
