"""A real feed reader: newsboat subscribes to the category feeds of a real crawl,
served by ``aggregator serve``, and reloads three times without a terminal; and it
imports ``feeds.opml`` of a plain ``aggregator feeds`` + ``aggregator serve`` (no base
URL, serve's default address).

newsboat stores ETag / Last-Modified only from its second fetch of a feed on, so the
third fetch of every feed must get 304. Its cache keeps one row per guid whatever
the feed (an article in two categories is stored once, under one of them), so the
check is: every entry of every feed stored, with its title and link, under a feed
that has it.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from tests.support.cli import run_cli
from tests.support.crawls import Crawl
from tests.support.env import unavailable
from tests.support.feedcheck import feed_files
from tests.support.serveproc import Server, start_server, stop_server

NEWSBOAT = Path("/usr/bin/newsboat")
RELOADS = 3

pytestmark = pytest.mark.skipif(
    not NEWSBOAT.is_file(),
    reason=f"{NEWSBOAT} not installed (apt-get install newsboat; .ci/run installs it)",
)


@pytest.fixture(scope="module")
def served(crawled: Crawl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The sample web's crawl, as feeds built by the CLI, served on a free port."""
    root = tmp_path_factory.mktemp("newsboat")
    feeds = root / "feeds"
    feeds.mkdir()
    server = start_server(feeds, root / "access.log")
    try:
        run_cli("feeds", "--db", str(crawled.db), "--feeds-dir", str(feeds),
                "--base-url", server.url, "--sites-dir", str(crawled.web.sites_dir))  # fmt: skip
        yield server
    finally:
        assert stop_server(server) == 0


def _environment(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
        "no_proxy": "*",
    }  # no proxy variables: nothing leaves 127.0.0.1


def _reload(home: Path, urls: list[str] | None = None, reloads: int = RELOADS) -> None:
    """``reloads`` runs of ``newsboat -x reload`` over ``urls`` (default: the urls file as
    it is)."""
    if urls is not None:
        (home / "urls").write_text("\n".join(urls) + "\n", encoding="utf-8")
    (home / "config").write_text(
        "reload-threads 4\nuse-proxy no\ndownload-timeout 30\ndownload-retries 1\n",
        encoding="utf-8",
    )
    for _ in range(reloads):
        result = subprocess.run(
            [str(NEWSBOAT), "-x", "reload", "-C", "config", "-u", "urls", "-c", "cache.db"],
            cwd=home, env=_environment(home), stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=180,
        )  # fmt: skip
        assert result.returncode == 0, (result.stdout, result.stderr)


def _fetches(log: Path, path: str) -> list[str]:
    """Statuses of newsboat's requests for one path, in order."""
    pattern = re.compile(rf'"GET {re.escape(path)} HTTP/1\.[01]" (\d{{3}}) .*newsboat')
    lines = log.read_text(encoding="utf-8").splitlines()
    return [m.group(1) for line in lines if (m := pattern.search(line))]


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_newsboat_reads_every_category_feed(served: Server, tmp_path: Path, fmt: str) -> None:
    files = sorted((served.feeds / "category").glob(f"*.{fmt}"))
    assert len(files) >= 5
    urls = [f"{served.url}category/{p.name}" for p in files]
    # what every feed holds, read by feedparser: guid -> (title, link), feeds having it
    expected: dict[str, tuple[str, str]] = {}
    holders: dict[str, set[str]] = defaultdict(set)
    for path, url in zip(files, urls, strict=True):
        for entry in feedparser.parse(path.read_bytes()).entries:
            expected[entry.id] = (entry.title, entry.link)
            holders[entry.id].add(url)
    assert len(expected) >= 100

    _reload(tmp_path, urls)

    for url in urls:
        served_path = url.removeprefix(served.url.rstrip("/"))
        assert _fetches(served.log, served_path) == ["200", "200", "304"], served_path
    with sqlite3.connect(tmp_path / "cache.db") as db:
        feeds = dict(db.execute("SELECT rssurl, etag FROM rss_feed").fetchall())
        rows = db.execute("SELECT guid, title, url, feedurl FROM rss_item").fetchall()
    assert sorted(feeds) == sorted(urls)
    assert all(etag for etag in feeds.values()), feeds  # it kept the ETags it was sent
    stored = {guid: (title, link) for guid, title, link, _ in rows}
    assert len(rows) == len(stored) == len(expected)
    assert stored == expected
    for guid, _, _, feed in rows:
        assert feed in holders[guid], (guid, feed)


SERVE_DEFAULT = ("127.0.0.1", 8080)  # `aggregator serve` with no --host or --port


def _port_free(address: tuple[str, int]) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(address)
        except OSError:
            return False
    return True


def test_newsboat_imports_the_opml_of_a_plain_serve(crawled: Crawl, tmp_path: Path) -> None:
    """``aggregator feeds`` without a base URL, ``aggregator serve`` without an address:
    newsboat imports ``feeds.opml`` (one subscription per feed) and gets every entry of
    every feed."""
    if not _port_free(SERVE_DEFAULT):
        unavailable(f"{SERVE_DEFAULT[0]}:{SERVE_DEFAULT[1]} is in use (serve's default port)")
    feeds = tmp_path / "feeds"
    result = run_cli("feeds", "--db", str(crawled.db), "--feeds-dir", str(feeds),
                     "--sites-dir", str(crawled.web.sites_dir))  # fmt: skip
    assert "warning: links point at http://127.0.0.1:8080/" in result.stderr
    server = start_server(feeds, tmp_path / "access.log", "--port", "8080")
    try:
        assert server.url == "http://127.0.0.1:8080/"
        status, _, opml = server.request("/feeds.opml")
        assert status == 200
        home = tmp_path / "newsboat"
        home.mkdir()
        (home / "feeds.opml").write_bytes(opml)
        imported = subprocess.run(
            [str(NEWSBOAT), "-i", "feeds.opml", "-u", "urls", "-c", "cache.db"],
            cwd=home, env=_environment(home), stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=60,
        )  # fmt: skip
        assert imported.returncode == 0, (imported.stdout, imported.stderr)
        _reload(home, reloads=1)
    finally:
        assert stop_server(server) == 0

    files = [p for p in feed_files(feeds) if p.suffix == ".rss"]
    served = sorted(server.url + p.relative_to(feeds).as_posix() for p in files)
    assert len(served) >= 15  # all, categories, provinces, newspapers: one format each
    subscribed = [line.split()[0] for line in (home / "urls").read_text().splitlines() if line]
    assert sorted(subscribed) == served  # one subscription per feed, each URL resolves
    expected: dict[str, tuple[str, str]] = {}
    for path in files:
        entries = feedparser.parse(path.read_bytes()).entries
        assert entries, path  # every feed has articles
        expected |= {e.id: (e.title, e.link) for e in entries}
    with sqlite3.connect(home / "cache.db") as db:
        fetched = [url for (url,) in db.execute("SELECT rssurl FROM rss_feed")]
        rows = db.execute("SELECT guid, title, url FROM rss_item").fetchall()
    assert sorted(fetched) == served
    assert {guid: (title, link) for guid, title, link in rows} == expected
