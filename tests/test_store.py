from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from aggregator.items import Article, article_id
from aggregator.store import SQLiteStore

VN = timezone(timedelta(hours=7))


def make(url: str, **kw: object) -> Article:
    fields: dict[str, object] = {
        "url": url,
        "site": "tamdao",
        "site_name": "Báo Tam Đảo",
        "province": "Vĩnh Phúc",
        "canonical_url": url,
        "id": article_id(url),
        "title": "Tiêu đề",
        "lead": "Sapo",
        "body_text": "Đoạn một.",
        "body_html": "<p>Đoạn một.</p>",
        "authors": ["Thanh Tuyền"],
        "section": "Kinh tế",
        "category": "kinh-te",
        "categories": ["kinh-te"],
        "published": datetime(2026, 11, 1, 8, 0, tzinfo=VN),
        "fetched_at": datetime(2026, 11, 27, 1, 0, tzinfo=UTC),
    }
    fields.update(kw)
    return Article(**fields)  # type: ignore[arg-type]


def test_upsert_insert_unchanged_update(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with SQLiteStore(db) as store:
        a = make("https://x.vn/a-1.html")
        assert store.upsert(a) == "inserted"
        assert store.upsert(make("https://x.vn/a-1.html")) == "unchanged"
        edited = make("https://x.vn/a-1.html", body_text="Đoạn một, đã sửa.")
        assert store.upsert(edited) == "updated"
        assert store.count() == 1
        got = store.get(a.id)
        assert got is not None
        assert got.version == 2 and got.body_text == "Đoạn một, đã sửa."
        assert got.published == datetime(2026, 11, 1, 8, 0, tzinfo=VN)
        assert got.published.utcoffset() == timedelta(hours=7)
    # the file is real and reopens with its data (WAL)
    with SQLiteStore(db) as store:
        assert store.count() == 1
        mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"


def test_articles_order_and_filters(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "a.db") as store:
        for i in range(5):
            store.upsert(
                make(
                    f"https://x.vn/a-{i}.html",
                    published=datetime(2026, 11, 1 + i, 8, 0, tzinfo=VN),
                    categories=["kinh-te", "xa-hoi"] if i % 2 else ["kinh-te"],
                    site="baden" if i == 4 else "tamdao",
                )
            )
        store.upsert(make("https://x.vn/undated.html", published=None))
        found = list(store.articles(categories=["kinh-te"]))
        # an undated article is dated by when it was first seen (here: the newest)
        assert found[0].url == "https://x.vn/undated.html"
        assert found[0].published == datetime(2026, 11, 27, 8, 0, tzinfo=VN)
        assert found[1].url == "https://x.vn/a-4.html"
        assert len(list(store.articles(categories=["xa-hoi"]))) == 2
        assert [a.site for a in store.articles(sites=["baden"])] == ["baden"]
        assert len(list(store.articles(limit=2))) == 2
        assert dict(store.categories()) == {"kinh-te": 6, "xa-hoi": 2}


def test_migrations_are_recorded(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "a.db") as store:
        version = store.conn.execute("PRAGMA user_version").fetchone()[0]
    assert version >= 1
    with SQLiteStore(tmp_path / "a.db") as store:  # reopening migrates nothing twice
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == version


def test_dedup_keys_follow_edits(tmp_path: Path) -> None:
    from aggregator.dedup import fingerprint

    first = " ".join(f"Câu thứ {i} nói về hợp tác xã nông nghiệp của tỉnh." for i in range(30))
    second = " ".join(f"Đoạn {i} kể chuyện lễ hội văn hóa ở vùng cao." for i in range(30))
    with SQLiteStore(tmp_path / "a.db") as store:
        a = make("https://x.vn/a-1.html", body_text=first)
        store.upsert(a, fingerprint(first))
        assert store.conn.execute("SELECT COUNT(*) FROM lsh_bands").fetchone()[0] == 32
        probe = make("https://x.vn/b-2.html", body_text=first)
        assert [c.kind for c in store.find_copies(fingerprint(first), probe.id)] == ["exact"]
        edited = make("https://x.vn/a-1.html", body_text=second)
        assert store.upsert(edited, fingerprint(second)) == "updated"
        # the old keys are gone with the old text
        assert store.conn.execute("SELECT COUNT(*) FROM lsh_bands").fetchone()[0] == 32
        assert store.find_copies(fingerprint(first), probe.id) == []
        assert [c.id for c in store.find_copies(fingerprint(second), probe.id)] == [a.id]
