"""Site health: verdicts from crawl figures (pure), the verdict history and ``_health.atom``
(the acceptance test on a crawl of the sample web: tests/integration/publish/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aggregator.publish.health import (
    HEALTH_FEED,
    articles_seen,
    judge,
    layer_shares,
    render_health_feed,
    update_health,
    windows,
)
from aggregator.sites.definition import SiteRegistry, load_sites
from aggregator.store import SQLStore, open_store
from tests.support.factory import make_article
from tests.support.feedcheck import assert_valid_atom, atom_entries

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
FIELDS = ("title", "lead", "body", "published", "authors", "section", "image")


def stats(
    pages: int = 50,
    *,
    requests: int = 60,
    errors: int = 0,
    inserted: int | None = None,
    layers: dict[str, dict[str, int]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A crawl record like ``crawl_summary`` writes: every field by selector unless told."""
    all_layers = {name: {"selector": pages} for name in FIELDS} if pages else {}
    all_layers.update(layers or {})
    return {
        "requests": requests,
        "pages": requests,
        "inserted": pages if inserted is None else inserted,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 0,
        "errors": errors,
        "layers": all_layers,
        **extra,
    }


def verdict_of(crawls: list[dict[str, Any]], **kwargs: Any) -> tuple[str, tuple[str, ...]]:
    options: dict[str, Any] = {
        "active": True,
        "last_new": NOW - timedelta(hours=1),
        "now": NOW,
        "selector_fields": (),
    }
    options.update(kwargs)
    found = judge(crawls=crawls, **options)
    return found.verdict, found.fields


# -- pure functions -------------------------------------------------------------------


def test_shares_and_article_counts() -> None:
    s = stats(40, layers={"image": {"selector": 30, "missing": 10}})
    assert layer_shares(s)["image"] == {"missing": 0.25, "selector": 0.75}
    assert articles_seen(s) == 40
    assert articles_seen(stats(0, inserted=0)) == 0


def test_steady_site_is_ok() -> None:
    history = [stats(50, errors=2), stats(48, errors=2), stats(51, errors=1)]
    assert verdict_of([stats(47, errors=2), *history]) == ("ok", ())


def test_a_selector_that_stops_matching_degrades_and_names_the_field() -> None:
    history = [stats(50), stats(52), stats(49)]
    latest = stats(50, layers={"body": {"generic": 50}})
    assert verdict_of([latest, *history]) == ("degraded", ("body",))
    reasons = judge(active=True, crawls=[latest, *history], last_new=NOW, now=NOW).reasons
    assert reasons == (
        "body: selector gave it on 0% of pages (0 of 50; usually 100%); now mostly generic",
    )


def test_the_usual_layer_need_not_be_a_selector() -> None:
    """A site read through its JSON-LD: losing the JSON-LD degrades its title."""
    jsonld = {"title": {"jsonld": 50}, "published": {"jsonld": 50}}
    history = [stats(50, layers=jsonld)] * 3
    latest = stats(50, layers={"title": {"generic": 50}, "published": {"jsonld": 50}})
    assert verdict_of([latest, *history]) == ("degraded", ("title",))


def test_a_definition_selector_matching_nothing_degrades_even_without_history() -> None:
    latest = stats(50, layers={"body": {"generic": 50}})
    assert verdict_of([latest]) == ("ok", ())  # no history, no selector named
    assert verdict_of([latest], selector_fields={"title", "body"}) == ("degraded", ("body",))


def test_a_selector_that_matched_every_page_and_none_of_two_new_ones_degrades_at_once() -> None:
    """Recorded figures of the incremental crawl after a body selector broke: 2 new
    pages, the body read by the generic scorer; the full crawls before matched all."""
    history = [stats(50)] * 3
    latest = stats(2, layers={"body": {"generic": 2}}, requests=5)
    found = judge(crawls=[latest, *history], active=True, last_new=NOW, now=NOW,
                  selector_fields={"title", "body"})  # fmt: skip
    assert (found.verdict, found.fields) == ("degraded", ("body",))
    assert found.reasons == (
        "body: the definition's selector matched 0 of 2 new pages (before: 100% of pages); "
        "now generic",
    )
    # weaker evidence is not enough: one new page, or a selector that matched 80 % before
    one = stats(1, layers={"body": {"generic": 1}}, requests=4)
    assert verdict_of([one, *history], selector_fields={"body"}) == ("ok", ())
    usual = [stats(50, layers={"body": {"selector": 40, "generic": 10}})] * 3
    assert verdict_of([latest, *usual], selector_fields={"body"}) == ("ok", ())
    # the definition names no body selector: nothing to say about it
    assert verdict_of([latest, *history]) == ("ok", ())


def test_an_optional_field_absent_from_two_new_pages_is_no_alarm() -> None:
    """Recorded figures: a lead on 67 % of pages; the incremental crawls bring articles
    without one (0 of 2, then 0 of 3 pooled): as likely as not, not an alarm. Thirty
    pages without one are."""
    lead = {"lead": {"selector": 34, "missing": 16}}
    history = [stats(50, layers=lead)] * 3
    new = stats(2, layers={"lead": {"missing": 2}}, requests=5)
    assert verdict_of([new, *history], selector_fields={"title", "body", "lead"}) == ("ok", ())
    one = stats(1, layers={"lead": {"missing": 1}}, requests=4)
    assert verdict_of([new, one, *history]) == ("ok", ())
    many = stats(30, layers={"lead": {"missing": 30}})
    assert verdict_of([many, *history]) == ("degraded", ("lead",))


def test_small_incremental_crawls_are_pooled() -> None:
    """Incremental crawls bring an article or two each: windows of pages pool them."""
    full = [stats(50)] * 3
    broken_one = stats(1, layers={"body": {"generic": 1}}, requests=4)
    fine_one = stats(1, requests=4)
    assert verdict_of([fine_one] * 5 + full) == ("ok", ())
    assert verdict_of([broken_one] * 5 + full) == ("degraded", ("body",))
    # nothing new since: the latest pages still tell
    quiet = stats(0, requests=2, inserted=0, incremental={"listing_all_known": 1})
    assert verdict_of([quiet, quiet, *[broken_one] * 3, *full]) == ("degraded", ("body",))
    windows_ = windows([broken_one] * 5 + full, "body")
    assert windows_[:2] == [{"generic": 3}, {"generic": 2, "selector": 50}]


def test_a_field_that_varies_a_little_stays_ok() -> None:
    history = [stats(50, layers={"image": {"selector": 40, "missing": 10}})] * 3
    latest = stats(50, layers={"image": {"selector": 25, "missing": 25}})
    assert verdict_of([latest, *history]) == ("ok", ())


def test_no_articles_is_broken() -> None:
    latest = stats(0, requests=5, errors=4, inserted=0)
    assert verdict_of([latest, stats(50)]) == ("broken", ("articles",))


def test_an_incremental_crawl_that_met_only_known_articles_is_not_broken() -> None:
    latest = stats(0, requests=2, inserted=0, incremental={"listing_all_known": 1})
    assert verdict_of([latest, stats(50)]) == ("ok", ())
    latest = stats(0, requests=5, inserted=0, not_modified=3)
    assert verdict_of([latest, stats(50)]) == ("ok", ())


def test_a_required_field_missing_on_most_pages_is_broken() -> None:
    latest = stats(50, layers={"published": {"missing": 40, "selector": 10}})
    assert verdict_of([latest]) == ("broken", ("published",))
    # an optional field may be missing
    latest = stats(50, layers={"image": {"missing": 50}})
    assert verdict_of([latest]) == ("ok", ())


def test_errors_rising_sharply_degrade() -> None:
    history = [stats(50, errors=2), stats(50, errors=3), stats(50, errors=2)]
    assert verdict_of([stats(50, errors=20), *history]) == ("degraded", ("errors",))
    assert verdict_of([stats(50, errors=3), *history]) == ("ok", ())
    assert verdict_of([stats(10, requests=20, errors=10)]) == ("degraded", ("errors",))


def test_stale_after_the_allowed_hours() -> None:
    old = NOW - timedelta(hours=80)
    assert verdict_of([stats(0, inserted=0, not_modified=5)], last_new=old) == (
        "stale",
        ("new articles",),
    )
    assert verdict_of([stats(50)], last_new=old, stale_after_hours=168) == ("ok", ())
    assert verdict_of([stats(50)], last_new=None)[0] == "stale"


def test_the_most_severe_finding_wins_and_every_reason_is_kept() -> None:
    old = NOW - timedelta(hours=100)
    history = [stats(50)] * 3
    degraded = stats(50, layers={"body": {"generic": 50}})
    found = judge(active=True, crawls=[degraded, *history], last_new=old, now=NOW)
    assert (found.verdict, found.fields) == ("stale", ("new articles",))
    assert any(r.startswith("body: selector gave it") for r in found.reasons)
    broken = stats(0, inserted=0)
    assert verdict_of([broken, *history], last_new=old) == ("broken", ("articles",))


def test_inactive_and_never_crawled() -> None:
    assert verdict_of([stats(0, inserted=0)], active=False)[0] == "inactive"
    assert verdict_of([]) == ("never-crawled", ())


# -- history and feed -----------------------------------------------------------------

SITE = """
id = "{id}"
name = "Báo {id}"
province = "Tỉnh {id}"
base_url = "https://bao{id}.example/"
{extra}
[links]
article = '-a\\d+\\.html$'
[selectors]
body = "div.noi-dung"
"""


def registry_of(folder: Path, **sites: str) -> SiteRegistry:
    folder.mkdir(parents=True, exist_ok=True)
    for site_id, extra in sites.items():
        (folder / f"{site_id}.toml").write_text(
            SITE.format(id=site_id, extra=extra), encoding="utf-8"
        )
    return load_sites([folder], bundled=False)


def store_article(store: SQLStore, site: str, n: int, seen: datetime) -> None:
    """Article ``n`` of ``site``, first seen at ``seen``."""
    url = f"https://bao{site}.example/bai-{n}-a{n}.html"
    store.upsert(
        make_article(
            url,
            site=site,
            site_name=site,
            province=site,
            title=f"Bài {n}",
            body_text=f"Nội dung bài {n}.",
            fetched_at=seen,
        )
    )


def test_verdict_changes_become_feed_entries(tmp_path: Path, store_target: str) -> None:
    registry = registry_of(tmp_path / "sites", an="", binh="", cu="active = false")
    feeds = tmp_path / "feeds"
    with open_store(store_target) as store:
        t0 = NOW - timedelta(hours=2)
        for site in ("an", "binh"):
            store_article(store, site, 1, t0)
            store.record_crawl(site, t0, t0, stats(50))
        first = update_health(store, feeds, registry, now=NOW)
        assert [(s.site, s.verdict) for s in first.sites] == [
            ("an", "ok"),
            ("binh", "ok"),
            ("cu", "inactive"),
        ]
        # a site's first verdict is news; an inactive site without history is not
        assert [(e.site, e.previous, e.verdict) for e in first.events] == [
            ("an", "never-crawled", "ok"),
            ("binh", "never-crawled", "ok"),
        ]
        path = feeds / HEALTH_FEED
        assert first.feed == path and first.feed_written
        assert_valid_atom(path)
        ids = [e.findtext("{http://www.w3.org/2005/Atom}id") for e in atom_entries(path)]
        assert len(ids) == 2 and len(set(ids)) == 2
        # nothing changed: no event, the file is left alone
        before = path.read_bytes()
        again = update_health(store, feeds, registry, now=NOW + timedelta(minutes=5))
        assert again.events == [] and not again.feed_written
        assert path.read_bytes() == before
        # binh's body selector stops matching
        later = NOW + timedelta(hours=1)
        store.record_crawl("binh", later, later, stats(50, layers={"body": {"generic": 50}}))
        third = update_health(store, feeds, registry, now=later)
        assert [(e.site, e.previous, e.verdict, e.fields) for e in third.events] == [
            ("binh", "ok", "degraded", ("body",))
        ]
        assert third.feed_written
        assert_valid_atom(path)
        entries = atom_entries(path)
        assert len(entries) == 3
        newest = entries[0]
        atom = "{http://www.w3.org/2005/Atom}"
        assert newest.findtext(f"{atom}title") == "binh: ok → degraded (body)"
        assert "body: selector gave it on 0% of pages" in (newest.findtext(f"{atom}content") or "")
        link = newest.find(f"{atom}link")
        assert link is not None and link.get("href") == "https://baobinh.example/"
        # the older entries keep their ids
        assert [e.findtext(f"{atom}id") for e in entries[1:]] == ids
        rows = store.execute("SELECT site, verdict FROM health_events ORDER BY id").fetchall()
        assert [tuple(r) for r in rows] == [("an", "ok"), ("binh", "ok"), ("binh", "degraded")]


def test_status_needs_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from aggregator.app.cli import main

    assert main(["status", "--db", str(tmp_path / "none.db")]) == 2
    assert "no store at" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def test_feed_is_a_pure_function_of_the_events() -> None:
    assert render_health_feed([]) == render_health_feed([])
    empty = render_health_feed([], base_url="https://tin.example/feeds")
    assert b'href="https://tin.example/feeds/_health.atom"' in empty
    assert b"<updated>1970-01-01T07:00:00+07:00</updated>" in empty
