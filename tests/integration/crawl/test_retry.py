"""Retry-After through a real crawl: a loopback server answers one article 429 with
``Retry-After: 2`` first, then the page; the retry must come after the wait, and the crawl
record and ``status`` count it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sampleweb.base import Page
from sampleweb.groundtruth import load_ground_truth
from sampleweb.render import article_path, render_web, site_definition
from tests.support.cli import run_cli

SITE = "tamdao"


class Web:
    """The sample newspaper served from memory; ``throttled`` answers 429 once."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.pages: dict[str, Page] = render_web(self.origin, {SITE: load_ground_truth(SITE)})
        self.throttled = article_path(load_ground_truth(SITE)[0])
        self.log: list[tuple[float, str, int]] = []  # (monotonic time, path, status)
        self.lock = threading.Lock()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        web = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with web.lock:
                    first = path == web.throttled and not any(p == path for _, p, _ in web.log)
                    page = web.pages.get(path)
                    status = 429 if first else (page.status if page else 404)
                    web.log.append((time.monotonic(), path, status))
                body = b"slow down" if first or page is None else page.body
                self.send_response(status)
                if first:
                    self.send_header("Retry-After", "2")
                self.send_header(
                    "Content-Type", page.content_type if page and not first else "text/plain"
                )
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def times(self, path: str) -> list[tuple[float, int]]:
        return [(t, s) for t, p, s in self.log if p == path]


@pytest.fixture
def web() -> Iterator[Web]:
    w = Web()
    thread = threading.Thread(target=w.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield w
    finally:
        w.server.shutdown()
        w.server.server_close()


def test_retry_after_is_waited_for_and_counted(web: Web, tmp_path: Path) -> None:
    assert web.throttled in web.pages, web.throttled
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / f"{SITE}.toml").write_text(
        site_definition(SITE, f"{web.origin}{SITE}/"), encoding="utf-8"
    )
    db = tmp_path / "a.db"
    result = run_cli("crawl", SITE, "--db", str(db), "--sites-dir", str(sites),
                     "--feeds-dir", str(tmp_path / "feeds"))  # fmt: skip
    assert "Traceback" not in result.stderr
    assert "Disabled" not in result.stderr  # no warning for WARC capture left off
    hits = web.times(web.throttled)
    assert [s for _, s in hits] == [429, 200], hits
    assert hits[1][0] - hits[0][0] >= 1.9  # the server asked for 2 s

    status = run_cli("status", SITE, "--json", "--db", str(db), "--sites-dir", str(sites),
                     "--feeds-dir", str(tmp_path / "feeds"))  # fmt: skip
    (site,) = json.loads(status.stdout)["sites"]
    retries = site["last_crawl"]["retries"]
    assert retries["count"] == 1 and retries["waited"] == 1 and retries["recovered"] == 1
    assert retries["gave_up"] == 0 and retries["waited_seconds"] >= 1.9
    table = run_cli("status", SITE, "--db", str(db), "--sites-dir", str(sites),
                    "--feeds-dir", str(tmp_path / "feeds"))  # fmt: skip
    assert "retries: 1 (1 then succeeded, 0 given up); waited 1× as Retry-After asked" in (
        table.stdout
    )
