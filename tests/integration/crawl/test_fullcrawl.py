"""A real Scrapy crawl of the sample web, checked against its ground truth."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
from lxml import etree

from aggregator.sites.definition import load_sites
from aggregator.store import SQLiteStore
from sampleweb.evaluate import evaluate
from sampleweb.groundtruth import load_ground_truth
from tests.support.cli import run_cli
from tests.support.crawls import Crawl
from tests.support.env import shared_path
from tests.support.feedcheck import check_feed_file, feed_files, index_links, opml_urls
from tests.support.sampletruth import (
    article_urls,
    clutter_found,
    evaluate_store,
    sample_truth,
)


def test_every_article_found_once_with_exact_fields(crawled: Crawl) -> None:
    ev, _ = evaluate_store(crawled.web.url, crawled.web.site_ids, crawled.db)
    print(ev.summary())
    assert ev.expected >= 4 * 40
    assert ev.missing == []
    assert ev.extra == [], "non-article pages were stored"
    assert ev.found == ev.expected
    for name in ("title", "published", "category", "categories"):
        assert ev.share(name) == 1.0, ev.mismatches.get(name, [])[:5]
    assert ev.share("authors") >= 0.99, ev.mismatches.get("authors", [])[:5]
    assert ev.share("source_tag") == 1.0, ev.mismatches.get("source_tag", [])[:5]
    assert ev.mean_body_f1 >= 0.98
    assert ev.mean_lead_f1 >= 0.98


def test_every_story_has_one_original_and_none_are_merged(crawled: Crawl) -> None:
    """Wire copies, a republication and a page under two URL schemes: one story each;
    different articles on the same event (hard negatives) stay apart."""
    ev, stored = evaluate_store(crawled.web.url, crawled.web.site_ids, crawled.db)
    assert ev.split_stories == [], "missed duplicates"
    assert ev.false_merges == [], "different stories merged"
    # w1, w2 and w3 on three sites, one republication, three pages under an old URL scheme
    assert ev.copies_expected >= 2 + 2 + 2 + 1 + 3
    assert ev.duplicate_recall == 1.0
    truth = {a.key: a for a in sample_truth(crawled.web.site_ids)}
    events = {a.event for a in truth.values() if a.event}
    assert len(events) >= 3
    # the original of a story is its earliest published copy
    by_id = {a.id: a for a in stored}
    for a in stored:
        if a.duplicate_of:
            original = by_id[a.duplicate_of]
            assert original.duplicate_of is None
            assert original.published is not None and a.published is not None
            assert original.published <= a.published


def test_no_clutter_in_any_body(crawled: Crawl) -> None:
    _, stored = evaluate_store(crawled.web.url, crawled.web.site_ids, crawled.db)
    assert clutter_found(crawled.web.url, crawled.web.site_ids, stored) == {}
    for article in stored:
        assert re.search(r"\[\w+\(\d+\)\]", article.body_text) is None


def test_every_field_has_a_layer_and_times_are_vietnamese(crawled: Crawl) -> None:
    _, stored = evaluate_store(crawled.web.url, crawled.web.site_ids, crawled.db)
    for article in stored:
        assert {"title", "body", "published"} <= set(article.layers), article.url
        assert article.published is not None
        assert article.published.isoformat().endswith("+07:00")


def test_robots_txt_obeyed_and_domains_kept(crawled: Crawl) -> None:
    requested = crawled.web.access_log.read_text(encoding="utf-8")
    assert "/robots.txt" in requested
    for disallowed in ("/tim-kiem", "/admin"):
        assert disallowed not in requested, f"fetched a robots-disallowed {disallowed} page"


def test_feeds_parse_and_validate(crawled: Crawl, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    base = "https://tin.example.vn/feeds/"
    command = ("feeds", "--db", str(crawled.db), "--feeds-dir", str(feeds), "--base-url", base,
               "--sites-dir", str(crawled.web.sites_dir))  # fmt: skip
    run_cli(*command)
    atoms = sorted((feeds / "category").glob("*.atom"))
    rsses = sorted((feeds / "category").glob("*.rss"))
    keys = {p.stem for p in atoms}
    assert {"kinh-te", "thoi-su", "xay-dung-dang", "van-hoa", "xa-hoi"} <= keys
    assert keys == {p.stem for p in rsses}
    for path in atoms + rsses:
        parsed = feedparser.parse(path.read_bytes())
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        assert parsed.entries, path
        for entry in parsed.entries:
            raw = [entry.get("published", "")]
            if path.suffix == ".atom":
                raw.append(entry.get("updated", ""))
            suffix = "+07:00" if path.suffix == ".atom" else "+0700"
            assert all(r.endswith(suffix) for r in raw if r), (path, raw)
            assert entry.get("published"), path
    # one entry per story: the wire story w1 appears once, listing its other copies
    wire = [a for a in sample_truth(crawled.web.site_ids) if a.story == "w1"]
    kinh_te = feedparser.parse((feeds / "category" / "kinh-te.atom").read_bytes())
    entries = [e for e in kinh_te.entries if e.title in {a.title for a in wire}]
    assert len(entries) == 1
    content = entries[0].content[0].value
    assert content.count("Cũng đăng trên") == 1
    others = {a.site for a in wire} - {entries[0].link.split("/")[3]}
    for site in others:
        assert f"/{site}/" in content.split("Cũng đăng trên")[1]
    schema = etree.RelaxNG(etree.parse(str(shared_path("schemas", "atom.rng"))))
    for path in atoms:
        doc = etree.parse(str(path))
        assert schema.validate(doc), (path, schema.error_log)


def test_every_feed_file_of_the_sample_web(crawled: Crawl, tmp_path: Path) -> None:
    """all, category and site feeds in RSS, Atom and JSON Feed: each one passes the
    validator rules and the JSON Feed schema; OPML and index.html list every file;
    a second build changes no byte and no mtime."""
    feeds = tmp_path / "feeds"
    base = "https://tin.example.vn/feeds/"
    command = ("feeds", "--db", str(crawled.db), "--feeds-dir", str(feeds), "--base-url", base,
               "--sites-dir", str(crawled.web.sites_dir))  # fmt: skip
    run_cli(*command)
    files = feed_files(feeds)
    names = [p.relative_to(feeds).as_posix() for p in files]
    categories = {p.stem for p in (feeds / "category").glob("*.json")}
    assert {p.stem for p in (feeds / "site").glob("*.json")} == set(crawled.web.site_ids)
    # the sample's four papers are in four 2025 provinces (Vĩnh Phúc's in Phú Thọ)
    provinces = {p.stem for p in (feeds / "province").glob("*.json")}
    assert provinces == {"phutho", "thainguyen", "tayninh", "lamdong"}
    assert len(files) == 3 * (1 + len(categories) + len(provinces) + len(crawled.web.site_ids))
    for path in files:
        doc = check_feed_file(path)
        assert doc["items"] if path.suffix == ".json" else doc.entries, path
    opml = sorted(opml_urls((feeds / "feeds.opml").read_bytes()))
    assert opml == sorted(base + n for n in names if n.endswith(".rss"))  # one per feed
    alternates, anchors = index_links((feeds / "index.html").read_bytes())
    assert sorted(alternates) == names and set(names) <= anchors
    # a site feed: the newspaper's name, its own copy of a wire story linking the others
    wire = [a for a in sample_truth(crawled.web.site_ids) if a.story == "w1"]
    for site in {a.site for a in wire}:
        parsed = feedparser.parse((feeds / "site" / f"{site}.atom").read_bytes())
        assert parsed.feed.title.endswith(" — Báo địa phương")
        assert parsed.feed.title != "Báo địa phương"
        (entry,) = [e for e in parsed.entries if e.title in {a.title for a in wire}]
        assert f"/{site}/" in entry.link
        links = entry.content[0].value.split("Cũng đăng trên")[1]
        for other in {a.site for a in wire} - {site}:
            assert f"/{other}/" in links, (site, other)
        titles = [e.title for e in parsed.entries]
        assert len(titles) == len(set(titles)), site  # a page under two URLs: one entry
    # RSS ttl: the smallest crawl interval of the sites in the feed
    registry = load_sites([crawled.web.sites_dir])
    for path in (feeds / "category").glob("*.rss"):
        root = etree.parse(str(path)).getroot()
        sites = {urlsplit(link).path.split("/")[1] for link in root.xpath("//item/link/text()")}
        expected = min(registry.get(s).interval for s in sites)
        assert root.findtext("channel/ttl") == str(expected), path
    # rebuilding without a crawl between changes no byte and no mtime
    files = sorted(p for p in feeds.rglob("*") if p.is_file())
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    out = run_cli(*command).stdout
    assert out.startswith("0 feeds written"), out
    assert sorted(p for p in feeds.rglob("*") if p.is_file()) == files
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == before


def test_export_json_lines(crawled: Crawl) -> None:
    out = run_cli("export", "--db", str(crawled.db), "--site", "baden").stdout.splitlines()
    assert len(out) >= 40
    required = {
        "id", "url", "canonical_url", "site", "site_name", "province", "section", "category",
        "categories", "title", "lead", "body_text", "body_html", "authors", "published",
        "updated", "fetched_at", "image", "duplicate_of",
    }  # fmt: skip
    for line in out:
        record = json.loads(line)
        assert required <= set(record)
        assert record["site"] == "baden"
        assert record["published"].endswith("+07:00")
    wire = [json.loads(line) for line in out if json.loads(line)["title"].startswith("Mở rộng")]
    assert wire and all(r["duplicate_of"] or r["also_at"] for r in wire)


def test_recrawl_adds_nothing(crawled: Crawl, tmp_path: Path) -> None:
    db = tmp_path / "again.db"
    shutil.copy(crawled.db, db)
    with SQLiteStore(db) as store:
        before = store.count()
        versions = {a.id: a.version for a in store.articles()}
    run_cli("crawl", *crawled.web.site_ids, "--db", str(db),
            "--sites-dir", str(crawled.web.sites_dir))  # fmt: skip
    with SQLiteStore(db) as store:
        assert store.count() == before
        last = store.last_crawls()
        assert all(v["stats"]["inserted"] == 0 for v in last.values()), last
        assert all(v["stats"]["updated"] == 0 for v in last.values()), last
        # nothing changed: no article got a new version (merged stories got theirs before)
        assert {a.id: a.version for a in store.articles()} == versions
    with SQLiteStore(crawled.db) as store:
        first = store.last_crawls()
    # incremental: the home page says nothing is new, so no listing or article is fetched
    again = sum(v["stats"]["requests"] for v in last.values())
    full = sum(v["stats"]["requests"] for v in first.values())
    assert again <= 0.05 * full, (again, full)


def test_broken_pages_are_logged_counted_and_skipped(crawled: Crawl) -> None:
    """baden's listing links a removed article (soft 404, status 200) and a dead link (404)."""
    with SQLiteStore(crawled.db) as store:
        last = store.last_crawls()
    baden = last["baden"]["stats"]
    assert baden["errors"] == 2, baden
    assert baden["error_detail"] == {
        "aggregator/errors/extraction": 1,
        "aggregator/errors/http_404": 1,
    }
    assert all(v["stats"]["errors"] == 0 for k, v in last.items() if k != "baden"), last
    assert re.search(
        r"extraction failed for \S+/baden/bai-viet-da-go-bo-a169001\.html: "
        r"not an article",
        crawled.log,
    )
    assert re.search(r"HTTP 404 for \S+/baden/tin-da-xoa-a169002\.html", crawled.log)
    # the crawl met both: the store remembers, so that it is no evidence that either page
    # was not there should a later crawl find an article at its URL
    urls = set(
        re.findall(r"\S+/baden/(?:bai-viet-da-go-bo-a169001|tin-da-xoa-a169002)\.html", crawled.log)
    )
    with SQLiteStore(crawled.db) as store:
        missed = {r[0] for r in store.execute("SELECT url FROM page_misses")}
        assert len(urls) == 2 and missed == urls
        assert all(store.first_missed([url]) is not None for url in urls)
    # the crawl went on: every baden article is stored
    assert baden["inserted"] == len(load_ground_truth("baden"))
    table = {line.split()[0]: line.split() for line in crawled.output.splitlines()[2:] if line}
    assert crawled.output.splitlines()[0].split()[-2:] == ["errors", "unmatched"]
    assert table["baden"][-2] == "2"  # the errors column of the printed table
    # the sample definitions miss no article and no listing page: no "links:" line
    assert "links:" not in crawled.output


def test_dedup_across_runs(crawled: Crawl, tmp_path: Path) -> None:
    """baden alone first, the others in a later run: the keys in the store find the
    copies, and the earlier copies found later become the originals of their stories."""
    web, db = crawled.web, tmp_path / "runs.db"
    run_cli("crawl", "baden", "--db", str(db), "--sites-dir", str(web.sites_dir))
    with SQLiteStore(db) as store:
        assert all(a.duplicate_of is None for a in store.articles())
    others = [s for s in web.site_ids if s != "baden"]
    run_cli("crawl", *others, "--db", str(db), "--sites-dir", str(web.sites_dir))
    with SQLiteStore(db) as store:
        stored = list(store.articles())
    ev = evaluate(
        sample_truth(crawled.web.site_ids), stored, lambda a: article_urls(crawled.web.url, a)
    )
    assert (ev.split_stories, ev.false_merges, ev.duplicate_recall) == ([], [], 1.0)
    baden_w1 = next(a for a in stored if a.site == "baden" and a.title.startswith("Mở rộng"))
    assert baden_w1.duplicate_of is not None  # the tamdao copy is 67 minutes older
