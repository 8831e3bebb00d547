"""The store, on a SQLite file (``store_target``); tests/integration/store runs the tests
that take ``store_target`` again on PostgreSQL, and the PostgreSQL server's failures."""

from __future__ import annotations

import copy
import itertools
import sqlite3
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aggregator.dedup.fingerprints import BANDS, fingerprint
from aggregator.items import Article, article_id
from aggregator.store import (
    PageRecord,
    PostgresStore,
    SQLiteStore,
    articles,
    mask_target,
    open_store,
)
from aggregator.store.migrations import BANDS_MIGRATION, MIGRATIONS
from aggregator.store.records import store_form
from tests.support.factory import VN, make_article, with_dedup_keys


def test_upsert_insert_unchanged_update(store_target: str) -> None:
    with open_store(store_target) as store:
        a = make_article("https://x.vn/a-1.html")
        assert store.upsert(a) == "inserted"
        assert store.upsert(make_article("https://x.vn/a-1.html")) == "unchanged"
        edited = make_article("https://x.vn/a-1.html", body_text="Đoạn một, đã sửa.")
        assert store.upsert(edited) == "updated"
        assert store.count() == 1
        got = store.get(a.id)
        assert got is not None
        assert got.version == 2 and got.body_text == "Đoạn một, đã sửa."
        assert got.published == datetime(2026, 11, 1, 8, 0, tzinfo=VN)
        assert got.published.utcoffset() == timedelta(hours=7)
    # the store is real and reopens with its data (SQLite: a WAL file)
    with open_store(store_target) as store:
        assert store.count() == 1
        if isinstance(store, SQLiteStore):
            assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_articles_order_and_filters(store_target: str) -> None:
    with open_store(store_target) as store:
        for i in range(5):
            store.upsert(
                make_article(
                    f"https://x.vn/a-{i}.html",
                    published=datetime(2026, 11, 1 + i, 8, 0, tzinfo=VN),
                    categories=["kinh-te", "xa-hoi"] if i % 2 else ["kinh-te"],
                    site="baden" if i == 4 else "tamdao",
                )
            )
        store.upsert(make_article("https://x.vn/undated.html", published=None))
        found = list(store.articles(categories=["kinh-te"]))
        # an undated article is dated by when it was first seen (here: the newest)
        assert found[0].url == "https://x.vn/undated.html"
        assert found[0].published == datetime(2026, 11, 27, 8, 0, tzinfo=VN)
        assert found[1].url == "https://x.vn/a-4.html"
        assert len(list(store.articles(categories=["xa-hoi"]))) == 2
        assert [a.site for a in store.articles(sites=["baden"])] == ["baden"]
        assert len(list(store.articles(limit=2))) == 2
        assert dict(store.categories()) == {"kinh-te": 6, "xa-hoi": 2}


def test_migrations_are_recorded(store_target: str) -> None:
    with open_store(store_target) as store:
        assert store.schema_version() == len(MIGRATIONS)
    with open_store(store_target) as store:  # reopening migrates nothing twice
        assert store.schema_version() == len(MIGRATIONS)
        assert store.count() == 0


def test_processes_opening_a_new_store_at_once_migrate_it_once(store_target: str) -> None:
    """Each opener has its own connection; the write lock makes one of them migrate."""
    start = threading.Barrier(6)

    def open_one(_: int) -> int:
        start.wait()
        with open_store(store_target) as store:
            return store.schema_version()

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(open_one, range(6))) == [len(MIGRATIONS)] * 6


def test_an_old_sqlite_store_upgrades(tmp_path: Path) -> None:
    """A store of migration 2 (before pages were kept) gets the later ones, its
    articles' URLs become known pages."""
    db = tmp_path / "old.db"
    with SQLiteStore(db) as store:
        store.upsert(make_article("https://x.vn/a-1.html"))
    conn = sqlite3.connect(db)
    conn.executescript(
        "DROP TABLE article_words_fts; DROP TABLE article_words; "
        "DROP TABLE article_versions; DROP TABLE health_events; DROP TABLE pages; "
        "DROP TABLE page_misses; "
        "PRAGMA user_version = 2;"
    )
    conn.close()
    with SQLiteStore(db) as store:
        assert store.schema_version() == len(MIGRATIONS)
        assert store.known_article_urls("tamdao") == {"https://x.vn/a-1.html"}
        assert store.count() == 1


def test_a_store_of_another_band_layout_gets_the_current_one(
    store_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The band index of a store from before the band layout changed is cut again from
    the stored signatures, a slice of the hash range at a time (here several): what was
    stored then is still found."""
    monkeypatch.setattr(articles, "_BAND_SLICE_BYTES", 100)
    text = " ".join(f"Câu thứ {i} nói về hợp tác xã nông nghiệp của tỉnh." for i in range(30))
    with open_store(store_target) as store:
        stored = make_article("https://x.vn/a-1.html", body_text=text)
        store.upsert(with_dedup_keys(stored))
        # the layout before: other keys, another count
        store.execute("DELETE FROM lsh_bands")
        store.execute("INSERT INTO lsh_bands (band_hash, fingerprint) VALUES (1, 1), (2, 1)")
        if isinstance(store, SQLiteStore):
            store.execute(f"PRAGMA user_version = {BANDS_MIGRATION - 1}")
        else:
            store.execute(f"UPDATE aggregator_schema SET version = {BANDS_MIGRATION - 1}")
    with open_store(store_target) as store:
        assert store.schema_version() == len(MIGRATIONS)
        rows = store.execute("SELECT band_hash FROM lsh_bands").fetchall()
        assert sorted(r[0] for r in rows) == sorted(fingerprint(text).bands)
        probe = make_article("https://x.vn/b-2.html", body_text=text + " Thêm một câu.")
        assert [
            (c.id, c.kind) for c in store.find_copies(fingerprint(probe.body_text), probe.id)
        ] == [(stored.id, "near")]


def test_dedup_keys_follow_edits(store_target: str) -> None:
    first = " ".join(f"Câu thứ {i} nói về hợp tác xã nông nghiệp của tỉnh." for i in range(30))
    second = " ".join(f"Đoạn {i} kể chuyện lễ hội văn hóa ở vùng cao." for i in range(30))
    with open_store(store_target) as store:
        a = make_article("https://x.vn/a-1.html", body_text=first)
        store.upsert(with_dedup_keys(a))
        assert store.execute("SELECT COUNT(*) FROM lsh_bands").fetchone()[0] == BANDS
        probe = make_article("https://x.vn/b-2.html", body_text=first)
        assert [c.kind for c in store.find_copies(fingerprint(first), probe.id)] == ["exact"]
        edited = make_article("https://x.vn/a-1.html", body_text=second)
        assert store.upsert(with_dedup_keys(edited)) == "updated"
        # the old keys are gone with the old text
        assert store.execute("SELECT COUNT(*) FROM lsh_bands").fetchone()[0] == BANDS
        assert store.find_copies(fingerprint(first), probe.id) == []
        assert [c.id for c in store.find_copies(fingerprint(second), probe.id)] == [a.id]


def test_concurrent_writers_neither_duplicate_nor_lose(store_target: str) -> None:
    """Four writers (connections) store overlapping articles at once: every article is
    stored once, each insert or update has its version, no writer fails."""
    text = " ".join(f"Câu {i} về mùa lúa chín trên cánh đồng của huyện." for i in range(30))
    urls = [f"https://x.vn/a-{i}.html" for i in range(12)]
    start = threading.Barrier(4)

    def writer(n: int) -> list[str]:
        results: list[str] = []
        with open_store(store_target) as store:
            start.wait()
            for url in urls:
                body = f"{text} Bản {n}." if n % 2 else text
                article = make_article(url, body_text=body)
                results.append(store.upsert(with_dedup_keys(article)))
        return results

    with ThreadPoolExecutor(4) as pool:
        results = [r for rs in pool.map(writer, range(4)) for r in rs]
    assert results.count("inserted") == len(urls)
    with open_store(store_target) as store:
        assert store.count() == len(urls)
        rows = store.execute(
            "SELECT a.id, a.version, COUNT(v.cursor) FROM articles a "
            "JOIN article_versions v ON v.article_id = a.id GROUP BY a.id, a.version"
        ).fetchall()
        assert len(rows) == len(urls)
        assert all(version == versions for _, version, versions in rows)
        assert store.execute("SELECT COUNT(*) FROM fingerprints").fetchone()[0] == len(urls)


def test_target_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_store(tmp_path / "a.db"), SQLiteStore)
    assert isinstance(open_store("postgresql://u@h/db"), PostgresStore)
    assert isinstance(open_store("postgres://u@h/db"), PostgresStore)


def test_passwords_are_masked() -> None:
    assert mask_target("postgresql://news:s3cr@t@db.example:5432/agg") == (
        "postgresql://news:***@db.example:5432/agg"
    )
    assert mask_target("postgres://news@db/agg?password=s3cr3t&sslmode=require") == (
        "postgres://news@db/agg?password=***&sslmode=require"
    )
    assert mask_target("postgresql://db/agg") == "postgresql://db/agg"
    assert mask_target("store/a:b@c.db") == "store/a:b@c.db"  # a path is a path


def test_pages_remember_validators(store_target: str) -> None:
    with open_store(store_target) as store:
        assert not store.site_known("tamdao")
        store.record_pages([
            PageRecord("https://x.vn/a", "tamdao", "id-a", "article", '"e1"', None, 1.5, "t1"),
            PageRecord("https://x.vn/b", "tamdao", None, "failed", None, None, None, "t1"),
        ])  # fmt: skip
        # a later record without validators keeps the known ones
        store.record_page(
            PageRecord("https://x.vn/a", "tamdao", "id-a", "article", None, "Mon", None, "t2")
        )
        store.touch_page("https://x.vn/b", "t3")
        assert store.page("https://x.vn/a") == PageRecord(
            "https://x.vn/a", "tamdao", "id-a", "article", '"e1"', "Mon", 1.5, "t2"
        )
        page_b = store.page("https://x.vn/b")
        assert page_b is not None and page_b.checked_at == "t3"
        assert store.page("https://x.vn/c") is None
        assert store.site_known("tamdao")
        assert store.known_article_urls("tamdao") == {"https://x.vn/a"}


def test_missed_pages_keep_their_first_time(store_target: str) -> None:
    with open_store(store_target) as store:
        assert store.first_missed(["https://x.vn/a"]) is None
        store.record_misses("tamdao", {"https://x.vn/a": 20.5, "https://x.vn/b": 30.0})
        store.record_misses("tamdao", {"https://x.vn/a": 40.0})  # a later miss
        assert store.first_missed(["https://x.vn/a"]) == 20.5
        assert store.first_missed(["https://x.vn/b", "https://x.vn/a", "https://x.vn/c"]) == 20.5
        assert store.first_missed([]) is None


def _unsafe(url: str, **overrides: Any) -> Article:
    """An article with what the store must make safe: NUL, a bidi override, markup."""
    fields: dict[str, Any] = {
        "title": "Lũ\x00 về <b>Tam Đảo</b>\u202e",
        "body_text": "Nước\x00 lên nhanh.\nNgười dân sơ tán.",
        "body_html": '<p onclick="x()">Nước lên</p><script>alert(1)</script>',
        "image": "javascript:alert(1)",
        "authors": ["Thanh\x00 Tuyền", "\u202e"],
    }
    return make_article(url, **{**fields, **overrides})


def test_a_prepared_article_is_stored_as_the_store_would_make_it(store_target: str) -> None:
    with open_store(store_target) as store:
        prepared = _unsafe("https://x.vn/a-1.html")
        prepared.prepared = store_form(prepared)
        assert store.upsert(prepared) == "inserted"
        got = store.get(prepared.id)
        # the same article computed by the store: the same row, the same content hash
        assert store.upsert(_unsafe("https://x.vn/a-1.html")) == "unchanged"
        assert store.get(prepared.id) == got
        assert got is not None and "\x00" not in got.title + got.body_text
        assert "<script" not in got.body_html and got.image is None
        assert got.authors == ["Thanh Tuyền"]
        assert [a.id for a in store.search(["tam", "dao"])] == [prepared.id]


def test_an_article_changed_after_it_was_prepared_is_stored_as_it_is_now(
    store_target: str,
) -> None:
    with open_store(store_target) as store:
        article = _unsafe("https://x.vn/a-1.html")
        article.prepared = store_form(article)
        article.title, article.body_text = "Mưa đá\x00 ở Sơn Dương", "Đoạn mới."
        article.authors.append("Mai\x00 Anh")
        assert store.upsert(article) == "inserted"
        got = store.get(article.id)
        assert got is not None and (got.title, got.body_text) == ("Mưa đá ở Sơn Dương", "Đoạn mới.")
        assert got.authors == ["Thanh Tuyền", "Mai Anh"]
        assert [a.id for a in store.search(["son", "duong"])] == [article.id]
        assert store.search(["tam", "dao"]) == []
        changed = _unsafe(
            "https://x.vn/a-1.html", title="Mưa đá ở Sơn Dương", body_text="Đoạn mới."
        )
        changed.authors.append("Mai Anh")
        assert store.upsert(changed) == "unchanged"
        # a list changed in place
        other = _unsafe("https://x.vn/a-2.html")
        other.prepared = store_form(other)
        other.authors.append("Mai\x00 Anh")
        store.upsert(other)
        got = store.get(other.id)
        assert got is not None and got.authors == ["Thanh Tuyền", "Mai Anh"]


def test_articles_of_one_search_key_are_all_found(store_target: str) -> None:
    # two ids whose search-index keys collide (the same publication second and hash)
    by_hash: dict[int, str] = {}
    for n in itertools.count():
        other = f"https://x.vn/tin-{n}.html"
        first = by_hash.setdefault(zlib.crc32(article_id(other).encode()) % 2048, other)
        if first != other:
            break
    with open_store(store_target) as store:
        for n, url in enumerate((first, other, first)):  # the last one rewrites its entry
            assert (
                store.upsert(make_article(url, title="Tin", body_text=f"Đoạn {n}.")) != "unchanged"
            )
        found = store.search(["tin"])
        assert sorted(a.url for a in found) == sorted({first, other})


def _colliding_urls() -> tuple[str, str]:
    """Two article URLs whose ids share a search-index key's hash."""
    by_hash: dict[int, str] = {}
    for n in itertools.count():
        url = f"https://x.vn/tin-{n}.html"
        first = by_hash.setdefault(zlib.crc32(article_id(url).encode()) % 2048, url)
        if first != url:
            return first, url
    raise AssertionError("unreachable")


def test_search_entries_of_one_transaction_get_the_keys_of_one_by_one_writes(
    store_target: str, tmp_path: Path
) -> None:
    first, other = _colliding_urls()
    when = datetime(2026, 11, 2, 8, tzinfo=VN)
    writes = [
        make_article(first, title="Tin", body_text="Một.", published=when),
        make_article("https://x.vn/som.html", title="Tin sớm", published=when - timedelta(days=1)),
        make_article(other, title="Tin", body_text="Hai.", published=when),
        make_article(first, title="Tin", body_text="Ba.", published=when),  # rewritten
        make_article(other, title="Tin", body_text="Bốn.", published=when),  # and again
    ]

    def entries(target: str, together: bool) -> tuple[list[tuple[Any, ...]], list[str]]:
        with open_store(target) as store:
            articles = [copy.deepcopy(a) for a in writes]
            if together:  # the first one stored before: the second steps past its key
                store.upsert(articles[0])
                store.transaction(lambda: [store.upsert(a) for a in articles[1:]])
            else:
                for article in articles:
                    store.upsert(article)
            rows = store.execute("SELECT key, article_id FROM article_words ORDER BY key")
            return [tuple(r) for r in rows], [a.url for a in store.search(["tin"])]

    alone = entries(str(tmp_path / "alone.db"), together=False)
    assert len({key // 4096 for key, _ in alone[0]}) == 2 and len(alone[0]) == 3
    assert sorted(alone[1]) == sorted({first, other, "https://x.vn/som.html"})
    assert entries(store_target, together=True) == alone


def test_the_cursor_read_inside_a_transaction_follows_its_writes(store_target: str) -> None:
    with open_store(store_target) as store:
        store.upsert(make_article("https://x.vn/a.html", title="Tin"))

        def newest() -> int:
            return int(store.execute("SELECT MAX(cursor) FROM article_versions").fetchone()[0])

        def work() -> list[tuple[int, int]]:
            seen = [(store.last_cursor(), newest())]
            for title in ("Tin", "Tin mới", "Tin khác"):  # unchanged, then two versions
                store.upsert(make_article("https://x.vn/a.html", title=title))
                seen.append((store.last_cursor(), newest()))
            store.upsert(make_article("https://x.vn/b.html", title="Tin"))
            seen.append((store.last_cursor(), newest()))
            return seen

        seen = store.transaction(work)
        assert [kept for kept, _ in seen] == [read for _, read in seen] == [1, 1, 2, 3, 4]
        assert store.last_cursor() == 4


def test_a_rolled_back_transaction_leaves_no_search_entry(store_target: str) -> None:
    with open_store(store_target) as store:

        def fail() -> None:
            store.upsert(make_article("https://x.vn/lost.html", title="Tin mất"))
            raise RuntimeError("the batch fails")

        with pytest.raises(RuntimeError):
            store.transaction(fail)
        store.upsert(make_article("https://x.vn/kept.html", title="Tin còn"))
        assert [r[0] for r in store.execute("SELECT article_id FROM article_words")] == [
            make_article("https://x.vn/kept.html").id
        ]
        assert [a.url for a in store.search(["tin"])] == ["https://x.vn/kept.html"]


def test_records_of_one_url_in_one_call_apply_in_order(store_target: str) -> None:
    with open_store(store_target) as store:
        store.record_pages([
            PageRecord("https://x.vn/a", "tamdao", "id-a", "article", '"e1"', None, 1.5, "t1"),
            PageRecord("https://x.vn/a", "tamdao", "id-b", "article", None, "Mon", None, "t2"),
        ])  # fmt: skip
        assert store.page("https://x.vn/a") == PageRecord(
            "https://x.vn/a", "tamdao", "id-b", "article", '"e1"', "Mon", 1.5, "t2"
        )
