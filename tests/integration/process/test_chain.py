"""One processing chain: a crawl, a re-extraction of its WARC and ``sites test`` fixtures of
the same pages give the same normalized articles and the same dedup decisions; a
re-extraction killed between any two writes leaves no half-stored article."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import TextResponse

from aggregator.app.sitetest import extract_page, load_fixtures, run_fixture, save_fixture
from aggregator.archive.reextract import hints_of, response_of, site_for
from aggregator.archive.warc import read_warc
from aggregator.extract.article import ExtractionError
from aggregator.sites.definition import SiteDefinition, load_site
from aggregator.store import SQLiteStore
from tests.support.cli import run_cli
from tests.support.crawls import Archived
from tests.support.env import REPO
from tests.support.storestate import store_state

#: Fields every path must agree on (``published`` apart: see below).
FIELDS = ("title", "lead", "source_tag", "authors", "section", "category", "categories",
          "image", "canonical_url", "body_text")  # fmt: skip


def _sites(archived: Archived) -> list[SiteDefinition]:
    return [load_site(p) for p in sorted(archived.web.sites_dir.glob("*.toml"))]


def _stored(db: Path) -> dict[str, Any]:
    with SQLiteStore(db) as store:
        return {a.id: a for a in store.articles()}


def _reextracted(archived: Archived, db: Path) -> None:
    run_cli("reextract", "--warc", *archived.files, "--db", str(db),
            "--sites-dir", str(archived.web.sites_dir))  # fmt: skip


def test_crawl_reextract_and_fixtures_agree(archived: Archived, tmp_path: Path) -> None:
    crawled = _stored(archived.db)
    rebuilt_db = tmp_path / "rebuilt.db"
    _reextracted(archived, rebuilt_db)
    rebuilt = _stored(rebuilt_db)
    # the same articles with the same normalized fields and the same stories
    assert rebuilt.keys() == crawled.keys()
    for article_id, article in crawled.items():
        again = rebuilt[article_id]
        for name in (*FIELDS, "published", "flags", "duplicate_of"):
            assert getattr(again, name) == getattr(article, name), (name, article.url)
    stories = sum(1 for a in crawled.values() if a.duplicate_of)
    assert stories >= 5  # the sample web republishes wire stories: decisions were made
    assert store_state(rebuilt_db) == store_state(archived.db)

    # every archived article page through `sites test` fixtures: saved, then run
    sites = _sites(archived)
    by_url = {a.url: a for a in crawled.values()}
    checked = 0
    for path in archived.files:
        for record in read_warc(path):
            site = site_for(record.url, sites, record.site)
            stored = by_url.get(record.url)
            if site is None or stored is None or not 200 <= record.status < 300:
                continue
            response = response_of(record)
            assert isinstance(response, TextResponse)
            try:
                page = extract_page(record.url, response.text, site, hints_of(record), record.date)
            except ExtractionError:  # pragma: no cover - the crawl stored it
                pytest.fail(f"sites test cannot extract {record.url}")
            for name in FIELDS:
                assert getattr(page.article, name) == getattr(stored, name), (name, record.url)
            if "date_first_seen" not in stored.flags:  # else the store dates it when first seen
                assert page.article.published == stored.published, record.url
            folder = tmp_path / "fixtures" / site.id
            save_fixture(site, f"page-{checked}", page, response.text, folder)
            checked += 1
    assert checked == len(crawled)
    for site in sites:
        moved = site.model_copy(update={"path": tmp_path / f"{site.id}.toml"})
        fixtures = load_fixtures(moved)
        assert fixtures, site.id
        assert all(run_fixture(moved, f).ok for f in fixtures), site.id


_KILL_AT_WRITE = textwrap.dedent(
    """
    import os, signal, sys
    from aggregator.archive.reextract import reextract
    from aggregator.sites.definition import load_sites
    from aggregator.store import SQLiteStore

    db, sites_dir, kill_at, *files = sys.argv[1:]
    kill_at = int(kill_at)
    writes = [0]
    real_run = SQLiteStore._run

    def run(self, sql, params=()):
        if sql.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes[0] += 1
            if writes[0] == kill_at:  # between this write and the one before it
                os.kill(os.getpid(), signal.SIGKILL)
        return real_run(self, sql, params)

    SQLiteStore._run = run
    with SQLiteStore(db) as store:
        reextract(files, store, load_sites([sites_dir]))
    print(writes[0])
    """
)


def _reextract_killed(
    archived: Archived, db: Path, kill_at: int
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _KILL_AT_WRITE, str(db), str(archived.web.sites_dir),
         str(kill_at), *archived.files],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "AGGREGATOR_SITES_DIRS": ""},
    )  # fmt: skip


def _whole(db: Path) -> None:
    """No half-stored article: each has its version record, dedup keys, categories and
    page record, and nothing points to an article that is not there."""
    with SQLiteStore(db) as store:
        conn = store.conn
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        lonely = conn.execute(
            "SELECT a.id FROM articles a WHERE "
            "NOT EXISTS (SELECT 1 FROM fingerprints f WHERE f.article_id = a.id) OR "
            "NOT EXISTS (SELECT 1 FROM article_versions v WHERE v.article_id = a.id "
            "            AND v.version = a.version) OR "
            "NOT EXISTS (SELECT 1 FROM pages p WHERE p.url = a.canonical_url "
            "            AND p.article_id = a.id)"
        ).fetchall()
        assert lonely == []
        orphans = conn.execute(
            "SELECT 'fingerprint', article_id FROM fingerprints WHERE article_id NOT IN "
            "(SELECT id FROM articles) UNION ALL "
            "SELECT 'version', article_id FROM article_versions WHERE article_id NOT IN "
            "(SELECT id FROM articles) UNION ALL "
            "SELECT 'page', article_id FROM pages WHERE article_id NOT IN (SELECT id FROM articles) "
            "UNION ALL SELECT 'duplicate_of', id FROM articles WHERE duplicate_of IS NOT NULL "
            "AND duplicate_of NOT IN (SELECT id FROM articles)"
        ).fetchall()
        assert orphans == []
        for article in store.articles():
            rows = conn.execute(
                "SELECT category FROM article_categories WHERE article_id = ?", (article.id,)
            ).fetchall()
            assert sorted(r[0] for r in rows) == sorted(set(article.categories)), article.url


def test_reextract_killed_between_any_two_writes_leaves_no_half_article(
    archived: Archived, tmp_path: Path
) -> None:
    """A re-extraction into a new store is killed (SIGKILL) right before its Nth write
    statement, for N spread over the whole run (the first write included): the store is
    whole each time, and a re-extraction run to the end afterwards makes it equal to an
    uninterrupted one."""
    reference = tmp_path / "reference.db"
    done = _reextract_killed(archived, reference, 0)
    assert done.returncode == 0, done.stderr[-3000:]
    total = int(done.stdout.split()[-1])
    assert total > 500
    expected = store_state(reference)
    for point in [1, 2, 3, *range(7, total, max(1, total // 7)), total]:
        db = tmp_path / f"killed-{point}.db"
        killed = _reextract_killed(archived, db, point)
        assert killed.returncode == -9, (point, killed.stderr[-3000:])
        _whole(db)
        finished = _reextract_killed(archived, db, 0)
        assert finished.returncode == 0, finished.stderr[-3000:]
        assert store_state(db) == expected, point
