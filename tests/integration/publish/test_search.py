"""Search feeds from ``aggregator serve --db`` on the crawled sample web, on SQLite and on
PostgreSQL: results equal a brute-force filter over ``aggregator export``; entries equal
the static feeds'; 304 for a repeat; hostile requests are 400 or correct, never 500."""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import pytest

from aggregator.sites.provinces import province_key_for
from tests.support.cli import run_cli
from tests.support.crawls import Archived
from tests.support.exportcheck import validate
from tests.support.feedcheck import check_json_feed, check_xml_feed
from tests.support.pgserver import PgServer
from tests.support.serveproc import Server, start_server, stop_server

TAG = "tag:aggregator,2026:article/"


def _words(text: str) -> set[str]:
    """Brute force, written apart from the store's folding: lowercase, đ → d, marks off."""
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return set(re.findall(r"[^\W_]+", text))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, archived: Archived, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, list[dict[str, Any]]]]:
    """The archived crawl in a store of each backend, its feeds, and ``serve --db``."""
    root = tmp_path_factory.mktemp("search")
    pg: PgServer | None = None
    name = ""
    if request.param == "sqlite":
        db = str(archived.db)
    else:
        pg = request.getfixturevalue("pg_server")
        name = f"search_{uuid.uuid4().hex[:12]}"
        db = pg.create_database(name)
        run_cli("reextract", "--warc", *archived.files, "--db", db,
                "--sites-dir", str(archived.web.sites_dir))  # fmt: skip
    export = [validate(line) for line in run_cli("export", "--db", db).stdout.splitlines()]
    feeds = root / "feeds"
    run_cli("feeds", "--db", db, "--feeds-dir", str(feeds),
            "--sites-dir", str(archived.web.sites_dir))  # fmt: skip
    server = start_server(feeds, root / "access.log", "--db", db)
    try:
        yield server, export
    finally:
        assert stop_server(server) == 0
        if pg is not None:
            pg.drop_database(name)


def _expected(export: list[dict[str, Any]], q: str, **filters: str) -> list[str]:
    wanted = _words(q)
    found = []
    for record in export:
        if record["duplicate_of"] is not None:
            continue
        if not wanted <= _words(" ".join((record["title"], record["lead"], record["body_text"]))):
            continue
        if "site" in filters and record["site"] != filters["site"]:
            continue
        if "category" in filters and filters["category"] not in record["categories"]:
            continue
        if "province" in filters and province_key_for(record["province"]) != filters["province"]:
            continue
        found.append(record)
    found.sort(key=lambda r: r["id"])  # newest first, ties by id, as the feeds
    found.sort(key=lambda r: datetime.fromisoformat(r["published"]).timestamp() // 1, reverse=True)
    return [TAG + r["id"] for r in found[:50]]


def _search(server: Server, fmt: str = "json", **params: str) -> tuple[int, dict[str, str], bytes]:
    return server.request(f"/search.{fmt}?{urlencode(params)}")


def _queries(export: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Words of the sample web's own titles (as written and folded), alone and with each
    filter, and words nothing has."""
    originals = [r for r in export if r["duplicate_of"] is None]
    first, other = originals[0], originals[len(originals) // 2]
    title_words = [w for w in first["title"].split() if len(w) > 3][:2]
    folded = " ".join(sorted(_words(" ".join(title_words))))
    queries = [
        {"q": " ".join(title_words)},
        {"q": folded},
        {"q": folded.upper()},
        {"q": other["title"].split()[0]},
        {"q": "tỉnh"},
        {"q": "tinh"},
        {"q": "xã hội"},
        {"q": "tinh", "site": first["site"]},
        {"q": "tinh", "category": first["categories"][0]},
        {"q": "tinh", "province": str(province_key_for(first["province"]))},
        {"q": "tinh", "site": first["site"], "category": first["categories"][0]},
        {"q": "zzqxj"},
        {"q": "tinh", "site": "no-such-site"},
    ]
    return queries


def test_results_equal_a_brute_force_filter_of_the_export(
    served: tuple[Server, list[dict[str, Any]]],
) -> None:
    server, export = served
    nonempty = 0
    for params in _queries(export):
        status, headers, body = _search(server, **params)
        assert status == 200, (params, body)
        assert headers["content-type"] == "application/feed+json"
        doc = check_json_feed(body, str(params))
        got = [item["id"] for item in doc["items"]]
        assert got == _expected(
            export, params["q"], **{k: v for k, v in params.items() if k != "q"}
        ), params
        nonempty += bool(got)
    assert nonempty >= 8  # the queries find things: the comparison is not of empty lists


def test_entries_are_those_of_the_static_feeds(served: tuple[Server, list[dict[str, Any]]]) -> None:
    server, _ = served
    static = json.loads((server.feeds / "all.json").read_bytes())
    items = {item["id"]: item for item in static["items"]}
    status, _, body = _search(server, q="tinh")
    found = {item["id"]: item for item in json.loads(body)["items"]}
    shared = set(found) & set(items)
    assert len(shared) >= 5
    for key in shared:
        assert found[key] == items[key]
    for fmt in ("atom", "rss"):  # the same entries in every format
        status, headers, body = _search(server, fmt, q="tinh")
        assert status == 200
        assert headers["content-type"].startswith(f"application/{fmt}+xml")
        parsed = check_xml_feed(body, "." + fmt, fmt)
        assert [e.id for e in parsed.entries] == list(found)


def test_a_repeat_request_is_304(served: tuple[Server, list[dict[str, Any]]]) -> None:
    server, _ = served
    for fmt in ("json", "atom", "rss"):
        for encoding in ({}, {"Accept-Encoding": "gzip"}):
            status, headers, _ = server.request(f"/search.{fmt}?q=T%E1%BB%89nh", headers=encoding)
            assert status == 200
            etag = headers["etag"]
            again = server.request(f"/search.{fmt}?q=T%E1%BB%89nh",
                                   headers={**encoding, "If-None-Match": etag})  # fmt: skip
            assert again[0] == 304 and again[2] == b""
            assert again[1]["etag"] == etag
    # the same search spaced otherwise is the same feed
    one = _search(server, q="tinh hoa")[1]["etag"]
    assert server.request("/search.json?q=+tinh++hoa+")[1]["etag"] == one


HOSTILE = [
    "q=" + "a" * 10_000,
    "q=" + quote("hoa " * 2500),
    "q=" + quote('"tinh" OR NEAR(hoa) NOT x*'),
    "q=" + quote("tinh' OR 1=1; DROP TABLE articles; --"),
    "q=" + quote('"'),
    "q=" + quote("'"),
    "q=" + quote("\\"),
    "q=%00tinh",
    "q=%ff%fe",
    "q=%C3%28",
    "q=%E1%BB",
    "q=tinh&q=hoa",
    "q=tinh&x=1",
    "q=tinh&limit=1000",
    "q=",
    "",
    "q=***",
    "q=tinh&province=atlantis",
    "q=tinh&province=../etc",
    "q=tinh&category=" + quote("Xã hội"),
    "q=tinh&site=%27%3B--",
    "q=tinh&site=" + "a" * 5000,
    "q=tinh&" + "&".join(f"f{i}=1" for i in range(500)),
    "q=tinh%",
    "q=tinh%zz",
    "q==&=&&",
    "q=" + quote("\u202e\u0000\ufeff tinh"),
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_requests_are_400_or_correct(
    served: tuple[Server, list[dict[str, Any]]], query: str
) -> None:
    server, export = served
    status, headers, body = server.request(f"/search.json?{query}")
    assert status in (200, 400), (query[:80], status, body[:300])
    if status == 400:
        text = body.decode("utf-8")
        assert text.startswith("bad search: ") and text.count("\n") == 1, text
        assert headers["content-type"].startswith("text/plain")
        return
    doc = check_json_feed(body, query[:80])
    q = parse_qs(query)["q"][0]
    assert [i["id"] for i in doc["items"]] == _expected(export, q)


def test_search_needs_a_store(served: tuple[Server, list[dict[str, Any]]], tmp_path: Path) -> None:
    """Without ``--db`` there is no search: the path is a missing file, 404, and the files
    do not announce one (the reading page asks search.json only when they do)."""
    server, _ = served
    assert server.request("/headlines.json")[1].get("x-aggregator-search") == "1"
    plain = start_server(server.feeds, tmp_path / "log")
    try:
        assert plain.request("/search.json?q=tinh")[0] == 404
        assert "x-aggregator-search" not in plain.request("/headlines.json")[1]
    finally:
        assert stop_server(plain) == 0
