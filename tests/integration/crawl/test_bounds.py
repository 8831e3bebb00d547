"""Bounds a real crawl hits, counted and reported: a robots.txt read in part, a site's
queue and a listing's links capped, an article's text and HTML cut, an article and a
listing page abandoned as too complex. One newspaper served on 127.0.0.1 from this process; the crawl is the
``aggregator crawl`` command with small bounds (``-s``), then ``status``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aggregator.store import open_store
from sampleweb.hostile.costly import nested_page
from tests.support.cli import run_cli

SITE = """
id = "mau"
name = "Báo Mẫu"
province = "Vĩnh Phúc"
base_url = "{base}"
[sources]
listings = ["tin-moi/", "sau/"]
[links]
article = '-a\\d+\\.html$'
[politeness]
delay = 0.0
concurrency = 4
autothrottle = false
"""
PARAGRAPH = (
    "Từ sáng sớm, người thợ gốm đã nhóm lò, nặn từng chiếc bình theo cách ông cha truyền "
    "lại, giữ nghề qua bao thế hệ giữa những đổi thay của làng quê."
)
LINKS = 30


def _article(n: int) -> bytes:
    title = f"Làng gốm cổ bên sông đón du khách, bài số {n}"
    body = "".join(f"<p>{k}. {PARAGRAPH}</p>" for k in range(40))
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"
    ).encode()


def _pages() -> dict[str, bytes]:
    links = "".join(f'<li><a href="/mau/bai-{n}-a{n}.html">Bài {n}</a></li>' for n in range(LINKS))
    pages = {
        # 1 MiB of rules: over a 64 KiB bound, read in part
        "/robots.txt": b"User-agent: *\nAllow: /\n" + b"# nothing to see here\n" * 50_000,
        "/mau/tin-moi/": f"<html><body><ul>{links}</ul></body></html>".encode(),
        "/mau/bai-0-a0.html": nested_page("Bài báo lồng nhau rất sâu năm nay").encode(),
        "/mau/sau/": nested_page("Chuyên mục lồng nhau rất sâu").encode(),  # a listing
    }
    pages.update({f"/mau/bai-{n}-a{n}.html": _article(n) for n in range(1, LINKS)})
    return pages


@pytest.fixture(scope="module")
def newspaper() -> Iterator[tuple[str, list[str]]]:
    """The newspaper's base URL on 127.0.0.1, and the paths it was asked for."""
    pages, asked = _pages(), []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            kind = "text/plain" if self.path.endswith(".txt") else "text/html; charset=utf-8"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mau/", asked
    finally:
        server.shutdown()
        server.server_close()


def _crawl(base: str, tmp: Path, *settings: str) -> tuple[str, dict[str, object], str]:
    """Crawl ``mau`` with ``settings``: the crawl table, the crawl record, ``status``."""
    sites, db = tmp / "sites", tmp / "a.db"
    sites.mkdir()
    (sites / "mau.toml").write_text(SITE.format(base=base), encoding="utf-8")
    common = ("--db", str(db), "--sites-dir", str(sites))
    table = run_cli("crawl", "mau", *common, *(f"-s{s}" for s in settings)).stdout
    with open_store(str(db)) as store:
        record = store.last_crawls()["mau"]["stats"]
    status = run_cli("status", *common, "--feeds-dir", str(tmp / "feeds")).stdout
    return table, record, status


def test_bounds_hit_by_a_crawl_are_counted_and_reported(
    newspaper: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, asked = newspaper
    table, record, status = _crawl(
        base, tmp_path,
        "AGGREGATOR_ROBOTSTXT_MAX_BYTES=65536", "AGGREGATOR_LISTING_MAX_LINKS=20",
        "AGGREGATOR_ARTICLE_MAX_CHARS=1000", "AGGREGATOR_BODY_HTML_MAX_CHARS=2000",
    )  # fmt: skip
    capped = record["capped"]
    assert isinstance(capped, dict)
    assert capped["robots_txt"] == 1
    assert capped["listing_links"] == 1
    assert capped["body_text"] == capped["body_html"] == 19  # 20 taken, the nested one failed
    errors = record["error_detail"]
    # the article nested too deep, and the listing
    assert isinstance(errors, dict) and errors == {"aggregator/errors/too_complex": 2}
    articles = [p for p in asked if p.endswith(".html")]
    assert len(articles) == 20 and "/mau/bai-0-a0.html" in articles
    with open_store(str(tmp_path / "a.db")) as store:
        stored = list(store.articles())
    assert len(stored) == 19
    assert all(len(a.body_text) <= 1000 and "truncated:body_text" in a.flags for a in stored)
    assert "mau: bounds hit: " in table
    lines = status.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("mau "))
    assert lines[row + 1] == "  errors: too_complex 2"
    assert lines[row + 2].startswith("  capped: ") and "listing_links 1" in lines[row + 2]


def test_a_sites_queue_is_capped(newspaper: tuple[str, list[str]], tmp_path: Path) -> None:
    base, asked = newspaper
    before = len(asked)
    _, record, _ = _crawl(base, tmp_path, "AGGREGATOR_SITE_MAX_QUEUED=5")
    assert record["capped"] == {"queue": 1, "robots_txt": 1}  # 1 MiB over 500 KiB too
    articles = [p for p in asked[before:] if p.endswith(".html")]
    assert len(articles) == 5, articles
