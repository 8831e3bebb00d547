"""Re-extraction from WARC: a rebuilt store equals the crawled one; a changed selector
changes just its field, as a new version."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import tracemalloc
from pathlib import Path
from typing import Any

from scrapy.settings import Settings

import aggregator.settings
from aggregator.archive.reextract import CrawlLimits, reextract
from aggregator.archive.warc import Exchange, WarcArchive
from aggregator.sites.definition import load_sites
from aggregator.store import SQLiteStore
from tests.support.cli import run_cli
from tests.support.crawls import Archived
from tests.support.exportcheck import validate


def export(db: Path, *args: str) -> dict[str, dict[str, Any]]:
    """The current-state export by id, every line checked against the schema."""
    out = run_cli("export", "--db", str(db), *args).stdout.splitlines()
    records = [validate(line) for line in out]
    by_id = {r["id"]: r for r in records}
    assert len(by_id) == len(records)
    return by_id


def without_cursor(records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {f: v for f, v in r.items() if f != "cursor"} for k, r in records.items()}


def reextract_cli(archived: Archived, db: Path, *args: str) -> str:
    return run_cli(
        "reextract", "--warc", *archived.files, "--db", str(db),
        "--sites-dir", str(archived.web.sites_dir), *args,
    ).stdout  # fmt: skip


def test_rebuilt_store_equals_the_crawled_one_without_network(
    archived: Archived, tmp_path: Path
) -> None:
    original = export(archived.db)
    assert len(original) > 150
    assert all(r["warc"] is not None for r in original.values())
    requests_before = archived.web.access_log.read_text(encoding="utf-8").count("\n")
    rebuilt_db = tmp_path / "rebuilt.db"
    summary = reextract_cli(archived, rebuilt_db)
    assert re.search(rf"\b{len(original)} new, 0 updated, 0 unchanged", summary), summary
    # not one request reached the web
    assert archived.web.access_log.read_text(encoding="utf-8").count("\n") == requests_before
    rebuilt = without_cursor(export(rebuilt_db))
    assert rebuilt.keys() == original.keys()
    for article_id, record in without_cursor(original).items():
        assert rebuilt[article_id] == record, article_id
    # the stream of versions is the same too, in the same order
    stream = [json.loads(x) for x in run_cli("export", "--db", str(archived.db), "--since", "0")
              .stdout.splitlines()]  # fmt: skip
    again = [json.loads(x) for x in run_cli("export", "--db", str(rebuilt_db), "--since", "0")
             .stdout.splitlines()]  # fmt: skip
    assert [(r["id"], r["version"]) for r in again] == [(r["id"], r["version"]) for r in stream]


def test_reextract_of_unchanged_pages_makes_no_version(archived: Archived, tmp_path: Path) -> None:
    db = tmp_path / "same.db"
    shutil.copy(archived.db, db)
    last = run_cli("export", "--db", str(db), "--since", "0").stderr
    cursor = re.search(r"last cursor: (\d+)", last)
    assert cursor is not None
    summary = reextract_cli(archived, db)
    assert " 0 new, 0 updated," in summary, summary
    after = run_cli("export", "--db", str(db), "--since", cursor.group(1))
    assert after.stdout == "" and f"last cursor: {cursor.group(1)}" in after.stderr


def test_changed_selector_changes_just_that_field_and_bumps_version(
    archived: Archived, tmp_path: Path
) -> None:
    sites = tmp_path / "sites"
    shutil.copytree(archived.web.sites_dir, sites)
    path = sites / "tamdao.toml"
    text = path.read_text(encoding="utf-8")
    old = 'lead = "div.article-detail div.article-sapo"'
    assert old in text
    # the lead now also takes the headline
    new = 'lead = "div.article-detail div.article-sapo, div.article-detail h1.article-title"'
    path.write_text(text.replace(old, new), encoding="utf-8")
    db = tmp_path / "edited.db"
    shutil.copy(archived.db, db)
    before = export(db)
    cursor = max(r["cursor"] for r in before.values())
    run_cli(
        "reextract", "--warc", str(archived.warc_dir), "--db", str(db), "--sites-dir", str(sites)
    )
    after = export(db)
    assert after.keys() == before.keys()
    changed = 0
    for article_id, old_record in before.items():
        new_record = after[article_id]
        fields = {k for k in old_record if old_record[k] != new_record[k]}
        if old_record["site"] != "tamdao":
            assert fields == set(), (article_id, fields)
            continue
        changed += 1
        # `updated` is when the change was seen: the capture's time
        assert fields == {"lead", "version", "updated", "cursor"}, (article_id, fields)
        assert new_record["version"] == old_record["version"] + 1
        assert new_record["lead"] == f"{old_record['title']} {old_record['lead']}"
        assert new_record["updated"] == new_record["fetched_at"]
    assert changed == sum(r["site"] == "tamdao" for r in before.values()) > 40
    # the archive gets exactly those new versions from its last cursor
    stream = run_cli("export", "--db", str(db), "--since", str(cursor)).stdout.splitlines()
    assert sorted(json.loads(x)["id"] for x in stream) == sorted(
        k for k, r in before.items() if r["site"] == "tamdao"
    )


def test_site_filter_and_truncated_warc(archived: Archived, tmp_path: Path) -> None:
    [baden] = [f for f in archived.files if Path(f).name.startswith("baden-")]
    data = Path(baden).read_bytes()
    cut = tmp_path / Path(baden).name
    cut.write_bytes(data[: len(data) * 2 // 3])  # a crash while writing
    db = tmp_path / "cut.db"
    result = run_cli(
        "reextract", "--warc", str(cut), *archived.files, "--site", "baden", "--db", str(db),
        "--sites-dir", str(archived.web.sites_dir),
    )  # fmt: skip
    assert re.search(rf"warning: {re.escape(str(cut))}: truncated", result.stderr), result.stderr
    with SQLiteStore(db) as store:
        sites = {a.site for a in store.articles()}
        count = store.count()
    assert sites == {"baden"}
    assert count == sum(r["site"] == "baden" for r in export(archived.db).values())
    only_cut = tmp_path / "only-cut.db"
    run_cli("reextract", "--warc", str(cut), "--db", str(only_cut),
            "--sites-dir", str(archived.web.sites_dir))  # fmt: skip
    with SQLiteStore(only_cut) as store:
        assert 10 < store.count() < count


def test_bad_input(archived: Archived, tmp_path: Path) -> None:
    missing = run_cli("reextract", "--warc", str(tmp_path / "none.warc.gz"),
                      "--db", str(tmp_path / "x.db"), check=False)  # fmt: skip
    assert missing.returncode == 1 and "no such WARC file" in missing.stderr
    unknown = run_cli("reextract", "--warc", *archived.files, "--site", "khong-co",
                      "--db", str(tmp_path / "x.db"), check=False)  # fmt: skip
    assert unknown.returncode == 2 and "unknown site 'khong-co'" in unknown.stderr


# -- the crawl's limits on replay ------------------------------------------------------------

SITE = """
id = "mau"
name = "Báo Mẫu"
province = "Vĩnh Phúc"
base_url = "http://127.0.0.1:8047/mau/"
[links]
article = '-a\\d+\\.html$'
"""
ARTICLE = (
    "<html><head><title>Lễ hội gốm làng cổ bên sông thu hút du khách</title></head><body>"
    "<h1>Lễ hội gốm làng cổ bên sông thu hút du khách</h1>"
    + "<p>Từ sáng sớm, người thợ gốm đã nhóm lò, nặn từng chiếc bình theo cách ông cha "
    "truyền lại, giữ nghề qua bao thế hệ giữa những đổi thay của làng quê.</p>"
    * 4
    + "</body></html>"
)
BOMB_BYTES = 64 << 20


def _archive(folder: Path, pages: list[tuple[str, list[tuple[str, str]], bytes]]) -> list[str]:
    """A WARC of the crawl of ``mau``: ``(path, response headers, body as received)``."""
    archive = WarcArchive(folder, "mau", max_bytes=1 << 30)
    for path, headers, body in pages:
        archive.write(
            Exchange(
                url=f"http://127.0.0.1:8047/mau/{path}",
                method="GET",
                request_headers=[],
                request_body=b"",
                status=200,
                response_headers=headers,
                body=body,
            )
        )
    archive.close()
    return [str(p) for p in archive.files]


def test_replay_applies_the_crawls_size_and_type_limits(tmp_path: Path) -> None:
    """A gzip bomb the crawl rejected (over DOWNLOAD_MAXSIZE once inflated) is kept in the
    WARC as received: replay does not inflate it beyond the crawl's limit either; a page
    the crawl rejected as not HTML (served as JSON) is not stored."""
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "mau.toml").write_text(SITE, encoding="utf-8")
    html = [("Content-Type", "text/html; charset=utf-8")]
    bomb = gzip.compress(b"<html><body><p>" + b" " * BOMB_BYTES, compresslevel=9, mtime=0)
    files = _archive(tmp_path / "warc", [
        ("bom-a1.html", [*html, ("Content-Encoding", "gzip")], bomb),
        ("json-a2.html", [("Content-Type", "application/json")], ARTICLE.encode()),
        ("bai-a3.html", html, ARTICLE.encode()),
    ])  # fmt: skip
    registry = load_sites([tmp_path / "sites"], bundled=False)
    settings = Settings({"DOWNLOAD_MAXSIZE": 1 << 20, "AGGREGATOR_PAGE_CPU_SECONDS": 5})
    limits = CrawlLimits.from_settings(settings)
    tracemalloc.start()
    try:
        with SQLiteStore(tmp_path / "a.db") as store:
            report = reextract(files, store, registry, limits=limits)
            stored = [a.url for a in store.articles()]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored == ["http://127.0.0.1:8047/mau/bai-a3.html"]
    assert (report.pages, report.inserted, report.failed) == (3, 1, 2)
    assert (report.too_large, report.not_html) == (1, 1)
    assert "(1 too large, 1 not HTML)" in report.summary()
    assert peak < 16 << 20, f"{peak} bytes held: the bomb was inflated"  # it inflates to 64 MiB


def test_replay_limits_default_to_the_crawls_settings() -> None:
    limits = CrawlLimits.from_settings()
    assert limits.max_body == aggregator.settings.DOWNLOAD_MAXSIZE
    assert limits.page.max_depth == aggregator.settings.AGGREGATOR_PAGE_MAX_DEPTH
    assert limits.page.cpu_seconds == aggregator.settings.AGGREGATOR_PAGE_CPU_SECONDS
