"""Incremental crawls: only what changed is fetched; edits of recent articles are caught."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import feedparser
import pytest

from aggregator.store import SQLiteStore
from sampleweb import SampleWeb
from sampleweb.groundtruth import Block, GroundTruthArticle, load_ground_truth
from tests.support.cli import run_cli

Truth = dict[str, list[GroundTruthArticle]]


class Site:
    """tamdao served in-process on a fixed port, so that URLs survive a restart."""

    def __init__(self, tmp_path: Path) -> None:
        with SampleWeb(ground_truth={"tamdao": []}) as web:
            self.port = int(web.url.rsplit(":", 1)[1].strip("/"))
        self.sites, self.db = tmp_path / "sites", tmp_path / "a.db"
        self.feeds = tmp_path / "feeds"

    def crawl(self, truth: Truth, *extra: str) -> dict[str, Any]:
        with SampleWeb(port=self.port, ground_truth=truth) as web:
            web.write_site_definitions(self.sites)
            run_cli("crawl", "tamdao", "--db", str(self.db), "--sites-dir", str(self.sites),
                    *extra)  # fmt: skip
        with SQLiteStore(self.db) as store:
            stats: dict[str, Any] = store.last_crawls()["tamdao"]["stats"]
        return stats


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield Site(tmp_path)


def newest_first(articles: list[GroundTruthArticle]) -> list[GroundTruthArticle]:
    return sorted(articles, key=lambda a: a.published, reverse=True)


def test_new_articles_are_fetched_and_nothing_else(site: Site) -> None:
    articles = newest_first(load_ground_truth("tamdao"))
    fresh, older = articles[:3], articles[3:]
    first = site.crawl({"tamdao": older})
    second = site.crawl({"tamdao": articles})
    assert second["inserted"] == 3
    assert second["updated"] == 0
    # robots.txt, the home page, the first listing page of the sections, three articles
    assert second["requests"] < first["requests"] / 4
    with SQLiteStore(site.db) as store:
        titles = {a.title for a in store.articles()}
    assert {a.title for a in fresh} <= titles
    run_cli("feeds", "--db", str(site.db), "--feeds-dir", str(site.feeds))
    shown = set()
    for path in (site.feeds / "category").glob("*.atom"):
        shown |= {e.title for e in feedparser.parse(path.read_bytes()).entries}
    assert {a.title for a in fresh} <= shown


def test_recent_articles_are_rechecked_and_edits_caught(site: Site) -> None:
    articles = newest_first(load_ground_truth("tamdao"))
    site.crawl({"tamdao": articles})
    target = articles[0]
    note = Block("p", "Bài viết đã được tòa soạn cập nhật thêm thông tin.")
    edited = [replace(target, body=(note, *target.body)), *articles[1:]]
    # "recent" here: every article (the sample web's dates are in the past)
    stats = site.crawl({"tamdao": edited}, "-s", "AGGREGATOR_RECHECK_HOURS=1000000")
    assert stats["updated"] == 1 and stats["inserted"] == 0
    assert stats["not_modified"] >= 5  # the other articles of the home page: 304
    with SQLiteStore(site.db) as store:
        rows = [a for a in store.articles() if a.title == target.title]
    assert len(rows) == 1 and rows[0].version == 2
    assert rows[0].body_text.startswith("Bài viết đã được tòa soạn cập nhật")
    published, updated = rows[0].published, rows[0].updated
    assert published is not None and updated is not None and updated > published


def test_full_crawl_ignores_what_is_known(site: Site) -> None:
    articles = load_ground_truth("tamdao")
    first = site.crawl({"tamdao": articles})
    again = site.crawl({"tamdao": articles}, "--full")
    assert again["requests"] == first["requests"]
    assert again["inserted"] == 0 and again["updated"] == 0
