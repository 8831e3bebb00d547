"""Links never lost in silence, on the sample web served over HTTP.

Listings of songcau and caonguyen link some articles with ``?utm_source=...&fbclid=...``
(the ground truth's "tracking" aliases); songcau's feeds link the same articles clean.
The patterns see the canonical URL: with an article pattern anchored at ``$`` every
article is stored, each fetched once, in one process or through a shared Redis queue.
A definition whose pagination or article pattern misses the site's links is reported by
the crawl table, ``aggregator status`` and ``sites test --live``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from aggregator.store import open_store
from sampleweb.evaluate import evaluate
from sampleweb.groundtruth import load_ground_truth
from sampleweb.render import article_path, site_definition
from tests.support.cli import run_cli
from tests.support.crawls import SampleWebProcess
from tests.support.sampletruth import urls_at

TRACKED_SITES = ("songcau", "caonguyen")


def served_since(web: SampleWebProcess, offset: int) -> Counter[str]:
    """Paths (with query) the sample web served since ``offset`` of its access log."""
    with web.access_log.open("rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", errors="replace")
    return Counter(m.group(1) for m in re.finditer(r'"GET (\S+) HTTP/[\d.]+"', text))


def status_json(db: Path, sites: Path, feeds: Path) -> dict[str, Any]:
    out = run_cli("status", "--json", "--db", str(db), "--sites-dir", str(sites),
                  "--feeds-dir", str(feeds)).stdout  # fmt: skip
    data: dict[str, Any] = json.loads(out)
    return data


def log_size(web: SampleWebProcess) -> int:
    return web.access_log.stat().st_size if web.access_log.exists() else 0


def definition(web: SampleWebProcess, site_id: str, **patterns: str) -> str:
    """The sample site's definition with ``links.<name>`` replaced."""
    text = site_definition(site_id, web.url + f"{site_id}/")
    for name, pattern in patterns.items():
        line = f"{name} = '{pattern}'".replace("\\", "\\\\")  # a replacement template
        text, n = re.subn(rf"(?m)^{name} = .*$", line, text)
        assert n == 1, name
    return text


def tracked_sites(web: SampleWebProcess, folder: Path, *, anchored: bool) -> Path:
    """songcau and caonguyen as the sample web defines them (their article patterns allow
    a query: ``(?:\\?[^#]*)?$``) or ``anchored``: ending in ``$`` right after the path."""
    folder.mkdir()
    for site_id in TRACKED_SITES:
        text = definition(web, site_id)
        if anchored:
            text, n = re.subn(r"\(\?:\\\?\[\^#\]\*\)\?\$", "$", text)
            assert n == 1, site_id
        (folder / f"{site_id}.toml").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("pattern", ["anchored", "sample"])
@pytest.mark.parametrize("queue", ["local", "redis"])
def test_tracking_links_are_fetched_once_and_none_is_lost(
    queue: str,
    pattern: str,
    sample_web: SampleWebProcess,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """Each article page is requested once, without its tracking parameters, whatever
    linked it (a listing with ``?utm_source=``, songcau's feeds without), in one process
    or through Redis; and every article is stored, also with a ``$``-anchored pattern."""
    truth = [a for s in TRACKED_SITES for a in load_ground_truth(s)]
    tracked = [a for a in truth if "tracking" in a.aliases]
    assert len(tracked) >= 4 and {a.site for a in tracked} == set(TRACKED_SITES)
    sites = tracked_sites(sample_web, tmp_path / "sites", anchored=pattern == "anchored")
    db = tmp_path / "a.db"
    shared = (
        ["--redis", request.getfixturevalue("redis_url"), "--idle", "1"] if queue == "redis" else []
    )
    offset = log_size(sample_web)
    run_cli("crawl", *TRACKED_SITES, "--db", str(db), "--sites-dir", str(sites), *shared)
    served = served_since(sample_web, offset)
    # no request carried tracking parameters; no article page was fetched twice
    assert [p for p in served if "utm_" in p or "fbclid" in p] == []
    by_path = Counter(urlsplit(p).path for p in served.elements())
    paths = {article_path(a) for a in truth}
    assert {p: n for p, n in by_path.items() if p in paths and n > 1} == {}
    assert {a.key: by_path[article_path(a)] for a in tracked} == {a.key: 1 for a in tracked}
    # ...and every article is in the store, those linked only with ?utm_source= too
    with open_store(str(db)) as store:
        stored = list(store.articles())
    ev = evaluate(truth, stored, urls_at(sample_web.url))
    assert ev.missing == [] and ev.extra == [], ev.summary()


def test_a_wrong_pagination_pattern_is_reported(
    sample_web: SampleWebProcess, tmp_path: Path
) -> None:
    """baden has listings only (no feed): a listing pattern that misses its ``?p=2``
    pages leaves every section at its first page. The crawl stores fewer articles, with
    no error: the crawl table, status and sites test --live say which links were missed."""
    sites, db, feeds = tmp_path / "sites", tmp_path / "a.db", tmp_path / "feeds"
    sites.mkdir()
    wrong = r"/(?:thoi-su-chinh-tri|kinh-te|van-hoa|phap-luat)/page/\d+$"
    (sites / "baden.toml").write_text(definition(sample_web, "baden", listing=wrong), "utf-8")
    out = run_cli("crawl", "baden", "--db", str(db), "--sites-dir", str(sites),
                  "--feeds-dir", str(feeds)).stdout  # fmt: skip
    header, _, row = out.splitlines()[:3]
    assert header.split()[-1] == "unmatched"
    assert int(row.split()[-1]) >= 4  # one ?p=2 link per section
    assert re.search(r"^baden: links: \d+ links to listing pages match no pattern", out, re.M)
    assert "page /baden/kinh-te/?d=<v>&p=<v>" in out
    stored = int(row.split()[2])
    assert stored < len(load_ground_truth("baden")) - 5  # articles lost without an error

    status = status_json(db, sites, feeds)
    baden = next(s for s in status["sites"] if s["site"] == "baden")
    assert baden["verdict"] == "degraded" and "links" in baden["fields"], baden
    (reason,) = [r for r in baden["reasons"] if r.startswith("links:")]
    assert f"stored {stored} articles" in reason and "?d=<v>&p=<v>" in reason
    table = run_cli("status", "--db", str(db), "--sites-dir", str(sites),
                    "--feeds-dir", str(feeds)).stdout  # fmt: skip
    assert re.search(r"^baden\s+degraded .*links: .*listing pages", table, re.M), table

    live = run_cli("sites", "test", "baden", "--live", "--sites-dir", str(sites), check=False)
    assert live.returncode == 1, live.stdout
    assert re.search(r"^unmatched: 1 links .*page /baden/thoi-su-chinh-tri/\?d=<v>&p=<v> \(1\)",
                     live.stdout, re.M)  # fmt: skip
    assert "FAILED: links: 1 links to listing pages match no pattern" in live.stdout


def test_a_wrong_article_pattern_is_reported(sample_web: SampleWebProcess, tmp_path: Path) -> None:
    """caonguyen's article pattern naming two of its four sections: the other two
    sections' articles are linked by their listings and never fetched."""
    sites, db, feeds = tmp_path / "sites", tmp_path / "a.db", tmp_path / "feeds"
    sites.mkdir()
    wrong = r"/(?:chinh-tri|xa-hoi)/\d+/[a-z0-9-]+\.htm"
    text = definition(sample_web, "caonguyen", article=wrong)
    (sites / "caonguyen.toml").write_text(text, "utf-8")
    out = run_cli("crawl", "caonguyen", "--db", str(db), "--sites-dir", str(sites),
                  "--feeds-dir", str(feeds)).stdout  # fmt: skip
    assert re.search(r"^caonguyen: links: \d+ article-like links match no pattern", out, re.M)
    assert "article /caonguyen/nong-nghiep/<n>/<slug>.htm" in out
    status = status_json(db, sites, feeds)
    caonguyen = next(s for s in status["sites"] if s["site"] == "caonguyen")
    assert caonguyen["verdict"] == "degraded" and "links" in caonguyen["fields"], caonguyen
