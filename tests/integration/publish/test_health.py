"""Site health, the acceptance test: a sample site whose template changed is reported, the
others not; an incremental re-crawl with nothing new stays ok."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from aggregator.publish.health import HEALTH_FEED
from aggregator.store import SQLiteStore
from tests.support.cli import run_cli
from tests.support.crawls import Crawl
from tests.support.feedcheck import assert_valid_atom, atom_entries


def status_json(db: Path, sites_dir: Path, feeds: Path) -> dict[str, Any]:
    out = run_cli(
        "status", "--json", "--db", str(db), "--sites-dir", str(sites_dir),
        "--feeds-dir", str(feeds),
    ).stdout  # fmt: skip
    data: dict[str, Any] = json.loads(out)
    return data


def test_a_changed_template_is_reported_and_the_others_stay_ok(
    crawled: Crawl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crawl the sample web, change tamdao's template (its body selector matches nothing
    any more), crawl tamdao again: status names tamdao and the body; _health.atom grows."""
    db, feeds, sites = tmp_path / "a.db", tmp_path / "feeds", tmp_path / "sites"
    shutil.copy(crawled.db, db)
    shutil.copytree(crawled.web.sites_dir, sites)
    # wherever crawl or status write health, it is here
    monkeypatch.setenv("AGGREGATOR_FEEDS_DIR", str(feeds))

    before = status_json(db, sites, feeds)
    verdicts = {s["site"]: s["verdict"] for s in before["sites"]}
    assert {verdicts[s] for s in crawled.web.site_ids} == {"ok"}, before
    for s in before["sites"]:
        if s["site"] not in crawled.web.site_ids:  # the bundled catalogue: never crawled
            assert s["verdict"] in ("never-crawled", "inactive"), s
    tamdao = next(s for s in before["sites"] if s["site"] == "tamdao")
    assert tamdao["selector_share"]["body"] == 1.0
    assert tamdao["last_crawl"]["inserted"] > 40
    feed = feeds / HEALTH_FEED
    assert_valid_atom(feed)
    entries_before = len(atom_entries(feed))
    assert entries_before >= len(crawled.web.site_ids)

    definition = sites / "tamdao.toml"
    text, n = re.subn(
        r'(?m)^body = ".*"$', 'body = "div.article-detail div.noi-dung-moi"', definition.read_text()
    )
    assert n == 1
    definition.write_text(text, encoding="utf-8")
    run_cli("crawl", "tamdao", "--full", "--db", str(db), "--sites-dir", str(sites))

    after = status_json(db, sites, feeds)
    by_site = {s["site"]: s for s in after["sites"]}
    assert by_site["tamdao"]["verdict"] in ("degraded", "broken"), by_site["tamdao"]
    assert "body" in by_site["tamdao"]["fields"]
    assert any(r.startswith("body:") for r in by_site["tamdao"]["reasons"])
    assert by_site["tamdao"]["selector_share"]["body"] == 0.0
    for other in set(crawled.web.site_ids) - {"tamdao"}:
        assert by_site[other]["verdict"] == "ok", by_site[other]
    assert_valid_atom(feed)
    entries = atom_entries(feed)
    assert len(entries) == entries_before + 1
    title = entries[0].findtext("{http://www.w3.org/2005/Atom}title") or ""
    assert title.startswith("tamdao: ok → ") and "body" in title

    # the table names the site, its verdict and the field
    table = run_cli(
        "status", "--db", str(db), "--sites-dir", str(sites), "--feeds-dir", str(feeds)
    ).stdout  # fmt: skip
    row = next(line for line in table.splitlines() if line.startswith("tamdao "))
    assert by_site["tamdao"]["verdict"] in row and "body:" in row
    assert len(atom_entries(feed)) == entries_before + 1  # no change, no new entry


def test_an_incremental_recrawl_with_nothing_new_stays_ok(crawled: Crawl, tmp_path: Path) -> None:
    db, feeds = tmp_path / "a.db", tmp_path / "feeds"
    shutil.copy(crawled.db, db)
    sites = crawled.web.sites_dir
    run_cli("crawl", *crawled.web.site_ids, "--db", str(db), "--sites-dir", str(sites))
    with SQLiteStore(db) as store:
        last = store.last_crawls()
    assert all("incremental" in v["stats"] for v in last.values())
    verdicts = {s["site"]: s["verdict"] for s in status_json(db, sites, feeds)["sites"]}
    assert {verdicts[s] for s in crawled.web.site_ids} == {"ok"}, verdicts
