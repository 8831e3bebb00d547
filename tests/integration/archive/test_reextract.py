"""Re-extraction from WARC: a rebuilt store equals the crawled one; a changed selector
changes just its field, as a new version."""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shutil
import tracemalloc
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings

import aggregator.settings
from aggregator.archive import reextract as reextract_module
from aggregator.archive.reextract import CrawlLimits, ReextractReport, reextract
from aggregator.archive.warc import Exchange, WarcArchive
from aggregator.items import Article
from aggregator.process import pool as pool_module
from aggregator.process.chain import Page
from aggregator.sites.definition import SiteDefinition, SiteRegistry, load_sites
from aggregator.store import SQLiteStore, open_store
from tests.support.cli import run_cli
from tests.support.crawls import Archived
from tests.support.exportcheck import validate
from tests.support.storestate import store_state


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


# -- workers that write: the order of the WARC records, whatever the number of workers -------

LANG = SITE.replace('"mau"', '"lang"').replace("/mau/", "/lang/").replace("Mẫu", "Làng")
WORDS = (  # noqa: SIM905
    "tỉnh huyện xã nông dân mùa vụ lúa gạo cà phê hồ tiêu cao su thủy sản cá tôm rừng núi sông "
    "biển đường cầu trường học bệnh viện chợ phiên lễ hội nghề gốm dệt thổ cẩm du lịch mưa bão "
    "hạn mặn điện nước vốn vay hợp tác xã doanh nghiệp đầu tư xuất khẩu giống phân bón máy cày"
).split()
START = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def _text(seed: int) -> str:
    """A body no other seed's is near: sentences of words drawn at random."""
    pick = random.Random(seed)
    return " ".join(
        " ".join(pick.choice(WORDS) for _ in range(18)).capitalize() + "." for _ in range(8)
    )


def _article(title: str, body: str) -> bytes:
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<p>{body}</p><p>{body[::-1]}</p></body></html>"
    ).encode()


def _ordered_web(folder: Path, *, special: str = "") -> tuple[list[str], SiteRegistry]:
    """The WARC of one crawl of two sites, 130 pages, where order decides: a wire story on
    ``mau`` copied twice (on ``lang``, then again on ``mau``, chunks apart: the first one
    seen is the original), the same URL twice with another text the second time (the
    first is stored), and a page that is no article. ``special``: a page whose URL says so."""
    sites = folder / "sites"
    sites.mkdir()
    (sites / "mau.toml").write_text(SITE, encoding="utf-8")
    (sites / "lang.toml").write_text(LANG, encoding="utf-8")
    wire = _text(9999)
    pages: dict[int, tuple[str, bytes]] = {
        3: ("mau/tin-lien-a900.html", _article("Hợp tác xã chuyển đổi số", wire)),
        10: ("mau/hai-lan-a800.html", _article("Lần đầu tiên đăng bài", _text(800))),
        33: ("mau/trong-a700.html", b"<html><body></body></html>"),
        58: ("lang/ban-sao-a901.html", _article("Hợp tác xã ứng dụng công nghệ", wire)),
        61: ("mau/hai-lan-a800.html", _article("Lần thứ hai, khác hẳn", _text(801))),
        97: ("mau/lai-a902.html", _article("Lại một bản sao", wire)),
    }
    if special:
        pages[77] = (f"mau/{special}-a600.html", _article("Trang đặc biệt", _text(600)))
    archive = WarcArchive(folder / "warc", "mau", max_bytes=1 << 30)
    for n in range(130):
        site = "mau" if n % 3 else "lang"
        path, body = pages.get(n, (f"{site}/bai-a{n}.html", _article(f"Bài số {n}", _text(n))))
        exchange = Exchange(
            url=f"http://127.0.0.1:8047/{path}", method="GET", request_headers=[],
            request_body=b"", status=200, body=body,
            response_headers=[("Content-Type", "text/html; charset=utf-8")],
        )  # fmt: skip
        archive.write(exchange, START + timedelta(minutes=n))
    archive.close()
    return [str(p) for p in archive.files], load_sites([sites], bundled=False)


def _counts(report: ReextractReport) -> tuple[int, ...]:
    return (report.pages, report.inserted, report.updated, report.unchanged,
            report.duplicates, report.same_url, report.failed, report.lost)  # fmt: skip


@pytest.mark.parametrize("batch", [7, 50])
def test_workers_that_write_store_what_one_process_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """0, 1 and 2 workers (chunks of 7 and of 50 pages): the same counts and the same store,
    the copies and the same URL decided in WARC order across chunks and workers."""
    monkeypatch.setattr(reextract_module, "BATCH", batch)
    files, registry = _ordered_web(tmp_path)
    results = {}
    for jobs in (0, 1, 2):
        db = tmp_path / f"jobs{jobs}.db"
        with SQLiteStore(db) as store:
            report = reextract(files, store, registry, jobs=jobs)
        results[jobs] = (_counts(report), store_state(db))
    counts, state = results[0]
    assert counts == (130, 128, 0, 0, 2, 1, 1, 0)
    assert results[1] == results[2] == results[0]
    base = "http://127.0.0.1:8047/"
    articles = state["articles"]
    original = articles[f"{base}mau/tin-lien-a900.html"]
    assert original[-1] is None  # duplicate_of
    assert articles[f"{base}lang/ban-sao-a901.html"][-1] == original[0]
    assert articles[f"{base}mau/lai-a902.html"][-1] == original[0]
    assert articles[f"{base}mau/hai-lan-a800.html"][1] == "Lần đầu tiên đăng bài"


def _dies_on_chet(conn: Connection, store: Any, progress: Any) -> None:
    """A writing worker that dies on a page whose URL says "chet"."""
    real = pool_module.prepare

    def prepare(page: Page, site: SiteDefinition) -> Article:
        if "/chet-" in page.url:
            os._exit(3)
        return real(page, site)

    pool_module.prepare = prepare
    pool_module._write_work(conn, store, progress)


def _dies_at_once(conn: Connection, store: Any, progress: Any) -> None:
    """A writing worker that says it is ready, then dies on the first chunk."""
    conn.send(("ready", pool_module.__file__))
    conn.recv()
    os._exit(3)


def _with_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker: Any, name: str, special: str = ""
) -> tuple[ReextractReport, ReextractReport]:
    """The ordered web re-extracted in chunks of 7 with no worker into ``ref.db`` (the
    reference), then with two workers running ``worker`` into ``<name>.db``: both reports."""
    monkeypatch.setattr(reextract_module, "BATCH", 7)
    files, registry = _ordered_web(tmp_path, special=special)
    with SQLiteStore(tmp_path / "ref.db") as store:
        reference = reextract(files, store, registry)
    monkeypatch.setattr(pool_module, "_write_work", worker)
    with SQLiteStore(tmp_path / f"{name}.db") as store:
        return reference, reextract(files, store, registry, jobs=2)


def test_a_writing_worker_lost_on_a_page_loses_that_page_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference, report = _with_workers(tmp_path, monkeypatch, _dies_on_chet, "lost", special="chet")
    assert report.lost == 1
    assert _counts(report) == (
        *_counts(reference)[:1], reference.inserted - 1, *_counts(reference)[2:6],
        reference.failed + 1, 1,
    )  # fmt: skip
    lost = "http://127.0.0.1:8047/mau/chet-a600.html"
    expected = store_state(tmp_path / "ref.db")["articles"]
    del expected[lost]
    assert store_state(tmp_path / "lost.db")["articles"] == expected


def _dies_writing_chet(conn: Connection, store: Any, progress: Any) -> None:
    """A writing worker that dies writing the chunk of a page whose URL says "chet"."""
    real = pool_module._write_chunk

    def write(chain: Any, ready: list[tuple[Any, SiteDefinition]], skip: set[int]) -> Any:
        if any("/chet-" in getattr(done[0], "url", "") for done, _ in ready):
            os._exit(3)
        return real(chain, ready, skip)

    pool_module._write_chunk = write
    pool_module._write_work(conn, store, progress)


def test_a_chunk_whose_write_kills_its_worker_twice_is_lost_and_the_rest_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written again once (nothing of it was committed), then lost: the chunks after it are
    written all the same (the turn goes on)."""
    reference, report = _with_workers(
        tmp_path, monkeypatch, _dies_writing_chet, "lost", special="chet"
    )
    assert report.lost == 7  # its chunk: pages 77 to 83
    expected = store_state(tmp_path / "ref.db")["articles"]
    base = "http://127.0.0.1:8047/"
    chunk = ["mau/chet-a600.html"] + [
        f"{'mau' if n % 3 else 'lang'}/bai-a{n}.html" for n in range(78, 84)
    ]
    for path in chunk:
        del expected[base + path]
    assert store_state(tmp_path / "lost.db")["articles"] == expected
    assert report.inserted == reference.inserted - 7


def test_where_writing_workers_cannot_run_the_pages_are_written_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    reference, report = _with_workers(tmp_path, monkeypatch, _dies_at_once, "here")
    assert _counts(report) == _counts(reference)
    assert store_state(tmp_path / "here.db") == store_state(tmp_path / "ref.db")
    assert any("cannot run here" in r.getMessage() for r in caplog.records)


def test_workers_that_write_into_postgresql_store_what_one_process_stores_in_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    """Each worker opens its own connection from the store's description (a URL here)."""
    monkeypatch.setattr(reextract_module, "BATCH", 7)
    files, registry = _ordered_web(tmp_path)
    stored = {}
    for jobs, target in ((0, str(tmp_path / "ref.db")), (2, pg_url)):
        with open_store(target) as store:
            report = reextract(files, store, registry, jobs=jobs)
            articles = sorted(
                (a.canonical_url, a.title, a.body_text, a.duplicate_of, a.version)
                for a in store.articles()
            )
        stored[jobs] = (_counts(report), articles)
    assert stored[2] == stored[0]
    assert len(stored[0][1]) == 128
