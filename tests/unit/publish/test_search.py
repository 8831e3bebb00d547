"""Search requests: what a query string asks for, checked (the feeds themselves are
tested against a served store in tests/integration/publish/test_search.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aggregator.items import article_id
from aggregator.publish import search as search_module
from aggregator.publish.search import BadSearch, SearchFeeds, parse_search, search_format
from aggregator.store import SQLiteStore
from tests.support.factory import make_article


def test_a_search_is_parsed_to_its_words_filters_and_canonical_form() -> None:
    search = parse_search("atom", b"site=baden&q=+Ho%C3%A0++B%C3%ACnh+&province=tayninh")
    assert search.words == ("hoa", "binh")
    assert (search.fmt, search.q, search.site, search.province) == (
        "atom", "Hoà Bình", "baden", "tayninh",
    )  # fmt: skip
    # one order of parameters: the feed's self link and cache key
    assert search.canonical == "q=Ho%C3%A0+B%C3%ACnh&province=tayninh&site=baden"
    assert parse_search("json", b"q=x&category=").category is None


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (b"q=%ff", "not UTF-8"),
        (b"q=a&q=b", "given twice"),
        (b"q=a&sort=new", "unknown parameter 'sort'"),
        (b"q=a&province=atlantis", "no province"),
        (b"q=a&site=..%2F", "not a [a-z0-9-]+ key"),
        (b"q=%22%29", "no words"),
        (b"q=" + b"a" * 5000, "too long"),
        (b"&".join([b"q=a"] + [b"x=1"] * 10), "too many parameters"),
    ],
)
def test_a_bad_request_is_one_line(query: bytes, reason: str) -> None:
    with pytest.raises(BadSearch) as caught:
        parse_search("json", query)
    assert reason in str(caught.value) and "\n" not in str(caught.value)


def test_only_search_files_are_searches() -> None:
    assert [search_format(n) for n in ("search.rss", "search.atom", "search.json")] == [
        "rss", "atom", "json",
    ]  # fmt: skip
    assert search_format("search.xml") is None and search_format("all.json") is None


def _items(feeds: SearchFeeds, q: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(feeds.answer(parse_search("json", q.encode())))[
        "items"
    ]
    return items


def test_kept_entries_follow_edits_and_new_copies(tmp_path: Path) -> None:
    """Entries prepared for one search are reused by the next only while the article's
    row and its copies are unchanged."""
    url = "https://baotamdao.vn/tin/cau-moi.html"
    with SQLiteStore(tmp_path / "s.db") as store:
        store.upsert(make_article(url, title="Cầu mới", body_html="<p>Cầu mới thông xe.</p>"))
        feeds = SearchFeeds(store, "http://127.0.0.1:8080/", 30)
        first = _items(feeds, "q=cau")
        assert "Cầu mới thông xe." in first[0]["content_html"]
        assert _items(feeds, "q=cau+moi") == first  # another search, the same entry
        store.upsert(make_article(url, title="Cầu mới", body_html="<p>Cầu mới đã thông xe.</p>"))
        assert "Cầu mới đã thông xe." in _items(feeds, "q=cau+moi")[0]["content_html"]
        copy = make_article(
            "https://baodatto.vn/cau-moi.html", site="datto", site_name="Báo Đất Tổ", title="Cầu mới",
            duplicate_of=article_id(url),
        )  # fmt: skip
        store.upsert(copy)
        assert "Báo Đất Tổ" in _items(feeds, "q=cau")[0]["content_html"]


def test_kept_entries_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_module, "_ENTRIES_KEPT", 3)
    monkeypatch.setattr(search_module, "_ENTRIES_CHARS", 10**6)
    with SQLiteStore(tmp_path / "s.db") as store:
        for n in range(6):
            store.upsert(make_article(f"https://baotamdao.vn/tin/{n}.html", title=f"Tin {n}"))
        feeds = SearchFeeds(store, "http://127.0.0.1:8080/", 30)
        assert len(_items(feeds, "q=tin")) == 6
        assert len(feeds._entries._kept) == 3
    monkeypatch.setattr(search_module, "_ENTRIES_CHARS", 20)  # one entry's content fits
    with SQLiteStore(tmp_path / "s.db") as store:
        feeds = SearchFeeds(store, "http://127.0.0.1:8080/", 30)
        assert len(_items(feeds, "q=tin")) == 6
        assert len(feeds._entries._kept) == 1
