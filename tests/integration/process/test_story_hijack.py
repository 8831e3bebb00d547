"""The story hijack: a hostile site republishes another paper's newest story with an
older date. Through the processing chain into a real SQLite store (which recorded the
hostile site's previous crawl) and the feeds built from it, the real article stays the
original, in ``all`` and in its category feed."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from aggregator.process.chain import Chain
from aggregator.publish.feeds import build_feeds
from aggregator.store import SQLiteStore
from tests.support.factory import FETCHED, PUBLISHED, STORY_TEXT, make_article

TAG = "tag:aggregator,2026:article/"


def _ids(feeds: Path, name: str) -> list[str]:
    doc = json.loads((feeds / f"{name}.json").read_bytes())
    return [item["id"].removeprefix(TAG) for item in doc["items"]]


def test_a_republished_story_with_an_older_date_does_not_take_the_story(tmp_path: Path) -> None:
    real = make_article(
        "https://baotamdao.vn/thoi-su/cau-moi.html",
        body_text=STORY_TEXT, body_html=f"<p>{STORY_TEXT}</p>",
        categories=["thoi-su"], category="thoi-su", section="Thời sự",
        published=PUBLISHED, fetched_at=FETCHED,
    )  # fmt: skip
    hijack = make_article(
        "https://bao-ac.example/tin/cau-moi.html",
        site="baoac", site_name="Báo Ác", province="Hà Nội",
        body_text=STORY_TEXT, body_html=f"<p>{STORY_TEXT}</p>",
        categories=["giai-tri"], category="giai-tri", section="Giải trí",
        published=PUBLISHED - timedelta(days=3),  # claims to predate the real one
        fetched_at=FETCHED + timedelta(hours=1),  # seen after it
    )  # fmt: skip
    with SQLiteStore(tmp_path / "store.db") as store:
        # the hostile site is crawled like any other: its last crawl ran to the end an
        # hour before the real article appeared, without the copy
        crawled = FETCHED - timedelta(hours=1)
        store.record_crawl("baoac", crawled, crawled + timedelta(minutes=2),
                           {"finish_reason": "finished"})  # fmt: skip
        chain = Chain(store)  # the store steps (the articles come normalized, filed)
        assert chain.dedup(real).kind is None
        chain.store_article(real, None)
        assert chain.dedup(hijack).kind == "exact"
        chain.store_article(hijack, None)
        stored_real, stored_copy = store.get(real.id), store.get(hijack.id)
        assert stored_real is not None and stored_copy is not None
        assert stored_real.duplicate_of is None and stored_copy.duplicate_of == real.id
        assert "date_disbelieved" in stored_copy.flags
        feeds = tmp_path / "feeds"
        build_feeds(store, feeds)
    assert _ids(feeds, "all") == [real.id]
    assert _ids(feeds, "category/thoi-su") == [real.id]
    # the copy is listed where its own paper files it, pointing at the real article
    assert _ids(feeds, "site/baoac") == [hijack.id]
    assert _ids(feeds, "category/giai-tri") == [hijack.id]
    doc = json.loads((feeds / "all.json").read_bytes())
    assert [c["url"] for c in doc["items"][0]["_aggregator"]["also_at"]] == [hijack.url]


def test_a_page_a_finished_crawl_met_and_lost_keeps_its_date_next_time(tmp_path: Path) -> None:
    """An older copy of the story, on a paper whose last crawl ran to the end but lost its
    page (fetched, nothing stored: a worker killed, an HTTP error), is fetched by the next
    crawl: that crawl met the page, so the copy keeps its date and is the original."""
    real = make_article(
        "https://baotamdao.vn/thoi-su/cau-moi.html",
        body_text=STORY_TEXT, body_html=f"<p>{STORY_TEXT}</p>",
        published=PUBLISHED, fetched_at=FETCHED,
    )  # fmt: skip
    older = make_article(
        "https://bao-bac.example/tin/cau-moi.html",
        site="baobac", site_name="Báo Bắc", province="Bắc Ninh",
        body_text=STORY_TEXT, body_html=f"<p>{STORY_TEXT}</p>",
        published=PUBLISHED - timedelta(days=3),
        fetched_at=FETCHED + timedelta(hours=5),  # by the next crawl
    )  # fmt: skip
    with SQLiteStore(tmp_path / "store.db") as store:
        started = FETCHED - timedelta(hours=1)
        store.record_misses("baobac", {older.url: (started + timedelta(minutes=20)).timestamp()})
        store.record_crawl("baobac", started, started + timedelta(hours=2),
                           {"finish_reason": "finished"})  # fmt: skip
        chain = Chain(store)
        chain.store_article(real, None)
        chain.dedup(older)
        chain.store_article(older, None)
        stored_real, stored_copy = store.get(real.id), store.get(older.id)
        assert stored_real is not None and stored_copy is not None
        assert stored_copy.duplicate_of is None and stored_real.duplicate_of == older.id
        assert "date_disbelieved" not in stored_copy.flags
