"""WARC capture in a real crawl of the sample web: every file passes ``warcio check``, every
stored article keeps its record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from aggregator.archive.warc import read_warc
from aggregator.store import SQLiteStore
from tests.support.cli import run_cli
from tests.support.crawls import SampleWebProcess
from tests.support.warccheck import NAME, raw_records, warcio_check


@dataclass
class WarcCrawl:
    db: Path
    warc_dir: Path


@pytest.fixture(scope="module")
def warc_crawl(sample_web: SampleWebProcess, tmp_path_factory: pytest.TempPathFactory) -> WarcCrawl:
    folder = tmp_path_factory.mktemp("warccrawl")
    db, warc_dir = folder / "a.db", folder / "warc"
    run_cli("crawl", *sample_web.site_ids, "--db", str(db),
            "--sites-dir", str(sample_web.sites_dir), "--warc", str(warc_dir))  # fmt: skip
    return WarcCrawl(db, warc_dir)


def test_sample_crawl_warc_passes_warcio_check_and_lengths(
    warc_crawl: WarcCrawl, sample_web: SampleWebProcess
) -> None:
    files = sorted(warc_crawl.warc_dir.iterdir())
    assert {p.name.split("-")[0] for p in files} == set(sample_web.site_ids)
    assert all(NAME.match(p.name) for p in files)
    result = warcio_check(*files)
    assert result.returncode == 0, result.stdout
    urls: dict[str, list[str]] = {}
    for path in files:
        records = list(raw_records(path))
        for r in records:
            assert r.block_length == r.content_length, (path, r.offset)
            urls.setdefault(r.headers["WARC-Type"], []).append(r.headers.get("WARC-Target-URI", ""))
        responses = [
            r.headers["WARC-Record-ID"] for r in records if r.headers["WARC-Type"] == "response"
        ]
        requests = [
            r.headers["WARC-Concurrent-To"] for r in records if r.headers["WARC-Type"] == "request"
        ]
        assert responses == requests  # each response with its request
    responses = urls["response"]
    assert sum(u.endswith("/robots.txt") for u in responses) >= 1
    for site in sample_web.site_ids:  # listings, articles (and songcau's RSS) of every site
        assert sum(f"/{site}/" in u for u in responses) > 45
    assert sum(u.endswith(".rss") for u in responses) == 4  # songcau's feeds


def test_stored_articles_keep_their_record(warc_crawl: WarcCrawl) -> None:
    records = {
        (p.name, r.record_id): r for p in warc_crawl.warc_dir.iterdir() for r in read_warc(p)
    }
    out = run_cli("export", "--db", str(warc_crawl.db)).stdout.splitlines()
    with SQLiteStore(warc_crawl.db) as store:
        stored = {a.id: a for a in store.articles()}
    assert len(out) == len(stored) > 150
    for line in out:
        article = json.loads(line)
        ref = article["warc"]
        archived = records[(ref["file"], ref["record_id"])]
        assert archived.status == 200
        # fetched_at is the record's WARC-Date, the stored URL the archived one
        assert datetime.fromisoformat(article["fetched_at"]) == archived.date
        assert archived.url == article["url"]
