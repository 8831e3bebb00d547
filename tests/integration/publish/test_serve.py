"""``aggregator serve`` in a subprocess, spoken to over real HTTP on loopback."""

from __future__ import annotations

import gzip
import hashlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from aggregator.publish.feeds import build_feeds
from aggregator.store import SQLiteStore
from tests.support.env import REPO
from tests.support.feedcheck import MEDIA_TYPES, check_feed_file, feed_files
from tests.support.feedsample import ARTICLES, BASE_URL, DUPLICATE
from tests.support.serveproc import Server, start_server, stop_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve")
    feeds = root / "feeds"
    with SQLiteStore(root / "store.db") as store:
        for article in [*ARTICLES, DUPLICATE]:
            store.upsert(article)
        build_feeds(store, feeds, base_url=BASE_URL)
    # things that must never be served: a file beside the folder, symlinks leading
    # out, a hidden (temporary) file and a file of another type
    (root / "secret.rss").write_text("<rss>secret</rss>")
    (feeds / "leak.rss").symlink_to(root / "secret.rss")
    (feeds / "category" / "leak.json").symlink_to(Path("..") / ".." / "store.db")
    (feeds / "up").symlink_to(root, target_is_directory=True)
    (feeds / ".all.rss.x1y2.tmp").write_text("half-written")
    (feeds / ".hidden.rss").write_text("hidden")
    (feeds / "notes.txt").write_text("notes")
    (feeds / "inside.rss").symlink_to("all.rss")  # a symlink within the folder is fine
    srv = start_server(feeds, root / "access.log", "--interval", "20m")
    try:
        yield srv
    finally:
        assert stop_server(srv) == 0


def _files(server: Server) -> list[str]:
    built = [p for p in feed_files(server.feeds) if not p.is_symlink()]
    files = [p.relative_to(server.feeds).as_posix() for p in built]
    return [f for f in files if not f.startswith(".")] + [
        "feeds.opml",
        "index.html",
        "headlines.json",
        "page.css",
        "page.js",
        "feed.xsl",
    ]


def test_every_file_served_with_its_media_type(server: Server) -> None:
    files = _files(server)
    assert len(files) == 3 * 7 + 6
    feeds = {p.relative_to(server.feeds).as_posix() for p in feed_files(server.feeds)}
    for name in files:
        status, headers, body = server.request("/" + name)
        assert status == 200, name
        suffix = "." + name.rsplit(".", 1)[1]
        assert headers["content-type"].split(";")[0] == MEDIA_TYPES[suffix], name
        assert body == (server.feeds / name).read_bytes()
        assert headers["content-length"] == str(len(body))
        if name in feeds:
            check_feed_file(server.feeds / name)
    status, headers, body = server.request("/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert body == (server.feeds / "index.html").read_bytes()


def test_strong_etag_and_304(server: Server) -> None:
    data = (server.feeds / "category" / "thoi-su.atom").read_bytes()
    status, headers, _ = server.request("/category/thoi-su.atom")
    etag = headers["etag"]
    assert status == 200 and not etag.startswith("W/")
    assert etag == f'"{hashlib.sha256(data).hexdigest()[:40]}"'
    assert server.request("/category/thoi-su.atom")[1]["etag"] == etag  # stable
    for value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        status, headers, body = server.request(
            "/category/thoi-su.atom", headers={"If-None-Match": value}
        )
        assert (status, body) == (304, b""), value
        assert headers["etag"] == etag and "content-length" not in headers
        assert headers["cache-control"] == "public, max-age=1200"
    status, _, body = server.request("/category/thoi-su.atom", headers={"If-None-Match": '"x"'})
    assert status == 200 and body == data


def test_last_modified_and_304(server: Server) -> None:
    path = server.feeds / "all.rss"
    headers = server.request("/all.rss")[1]
    assert headers["last-modified"] == formatdate(int(path.stat().st_mtime), usegmt=True)
    same = {"If-Modified-Since": headers["last-modified"]}
    assert server.request("/all.rss", headers=same)[0] == 304
    later = {"If-Modified-Since": formatdate(path.stat().st_mtime + 3600, usegmt=True)}
    assert server.request("/all.rss", headers=later)[0] == 304
    earlier = {"If-Modified-Since": formatdate(path.stat().st_mtime - 3600, usegmt=True)}
    assert server.request("/all.rss", headers=earlier)[0] == 200
    assert server.request("/all.rss", headers={"If-Modified-Since": "not a date"})[0] == 200
    # If-None-Match decides when both are sent (RFC 9110 13.2.2)
    both = {**same, "If-None-Match": '"stale"'}
    assert server.request("/all.rss", headers=both)[0] == 200


def test_a_rebuilt_feed_gets_a_new_etag(server: Server, tmp_path: Path) -> None:
    path = server.feeds / "site" / "tamdao.json"
    old = path.read_bytes()
    etag = server.request("/site/tamdao.json")[1]["etag"]
    try:
        tmp = path.with_name(".tamdao.json.test.tmp")
        tmp.write_bytes(old.replace(b"Tam \xc4\x90\xe1\xba\xa3o", b"Tam Dao", 1))
        os.replace(tmp, path)
        status, headers, body = server.request("/site/tamdao.json", headers={"If-None-Match": etag})
        assert status == 200 and headers["etag"] != etag and body == path.read_bytes()
    finally:
        path.write_bytes(old)


def test_gzip_when_asked(server: Server) -> None:
    data = (server.feeds / "category" / "thoi-su.rss").read_bytes()
    plain_etag = server.request("/category/thoi-su.rss")[1]["etag"]
    status, headers, body = server.request(
        "/category/thoi-su.rss", headers={"Accept-Encoding": "br, gzip;q=0.8"}
    )
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == data and len(body) < len(data)
    assert headers["content-length"] == str(len(body))
    assert headers["vary"] == "Accept, Accept-Encoding"
    assert headers["etag"] == plain_etag[:-1] + '-gzip"'  # another representation, another tag
    again = server.request(
        "/category/thoi-su.rss",
        headers={"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]},
    )
    assert again[0] == 304
    for refused in ("gzip;q=0", "identity", "br", ""):
        _, headers, body = server.request(
            "/category/thoi-su.rss", headers={"Accept-Encoding": refused}
        )
        assert "content-encoding" not in headers and body == data, refused


def test_head_gives_the_headers_only(server: Server) -> None:
    get = server.request("/all.atom")
    head = server.request("/all.atom", method="HEAD")
    assert head[0] == 200 and head[2] == b""
    for name in ("content-type", "etag", "last-modified", "cache-control", "content-length"):
        assert head[1][name] == get[1][name], name
    assert server.request("/all.atom", "HEAD", {"If-None-Match": get[1]["etag"]})[0] == 304
    gz = server.request("/all.atom", "HEAD", {"Accept-Encoding": "gzip"})
    assert gz[1]["content-encoding"] == "gzip" and gz[2] == b""
    assert server.request("/nothing.rss", method="HEAD")[0] == 404


def test_cache_control_from_the_crawl_interval(server: Server) -> None:
    for name in ("/all.json", "/feeds.opml", "/"):
        assert server.request(name)[1]["cache-control"] == "public, max-age=1200"


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.rss",
        "/../../etc/passwd",
        "/%2e%2e/secret.rss",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/.%2e/secret.rss",
        "/category/../../secret.rss",
        "/category/..%2F..%2Fsecret.rss",
        "/category%2F..%2F..%2Fsecret.rss",
        "/%2e%2e%2fsecret.rss",
        "/..%5Csecret.rss",
        "/..\\secret.rss",
        "//etc/passwd",
        "/%2Fetc%2Fpasswd",
        "/%2Fetc/hostname.rss",
        "http://127.0.0.1/../secret.rss",
        "/leak.rss",  # a symlink leading out
        "/category/leak.json",
        "/up/secret.rss",  # through a symlinked folder leading out
        "/up/feeds/all.rss",
        "/.hidden.rss",
        "/.all.rss.x1y2.tmp",
        "/notes.txt",  # not a feed type
        "/category/",
        "/category",
        "/site/",
        "/missing.rss",
        "/category/missing.atom",
        "/all.rss%00.txt",
        "/%00",
        "/all.rss/",
        "/%ff%fe.rss",
        "/ALL.RSS",
    ],
)
def test_nothing_outside_the_folder(server: Server, path: str) -> None:
    status, _, body = server.request(path)
    assert status in (400, 404), (path, status)
    assert b"secret" not in body and b"root:" not in body and b"SQLite" not in body


def test_a_symlink_inside_the_folder_is_served(server: Server) -> None:
    status, _, body = server.request("/inside.rss")
    assert status == 200 and body == (server.feeds / "all.rss").read_bytes()


def test_only_get_and_head(server: Server) -> None:
    for method in ("POST", "PUT", "DELETE"):
        status = server.request("/all.rss", method=method)[0]
        assert status in (405, 501), method
    assert server.request("/all.rss", method="POST")[1]["allow"] == "GET, HEAD"


def test_access_log_records_status(server: Server) -> None:
    server.request("/all.json", headers={"User-Agent": "log-probe"})
    lines = server.log.read_text(encoding="utf-8").splitlines()
    assert any('"GET /all.json HTTP/1.1" 200' in line and "log-probe" in line for line in lines)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stops_cleanly(server: Server, tmp_path: Path, sig: int) -> None:
    other = start_server(server.feeds, tmp_path / "log")
    assert other.request("/all.rss")[0] == 200
    assert stop_server(other, sig) == 0


def test_missing_folder_and_bad_options(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "aggregator.app.cli", "serve", *args],
            capture_output=True, text=True, cwd=REPO, timeout=30,
        )  # fmt: skip

    missing = run("--feeds-dir", str(tmp_path / "nope"), "--port", "0")
    assert missing.returncode == 1 and "not found" in missing.stderr
    assert run("--feeds-dir", str(tmp_path), "--interval", "0").returncode == 2  # usage
    assert run("--feeds-dir", str(tmp_path), "--port", "70000").returncode == 2


# -- abuse: bodies, slow clients, connection caps ------------------------------------


def _connect(server: Server, source: str = "127.0.0.1", timeout: float = 10) -> socket.socket:
    """A raw connection to the server from ``source`` (a loopback address)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect((server.host, server.port))
    return sock


def _status_line(sock: socket.socket) -> bytes:
    """The first line the server answers, b"" when it closed the connection first."""
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    return data.split(b"\r\n", 1)[0]


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"POST /all.rss HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n", b"405"),
        (b"PUT /all.rss HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n", b"405"),
        (b"GET /all.rss HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n", b"413"),
        (b"GET /all.rss HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", b"413"),
    ],
)
def test_a_request_body_is_refused_unread(server: Server, head: bytes, status: bytes) -> None:
    with _connect(server) as sock:
        sock.sendall(head)
        assert _status_line(sock).startswith(b"HTTP/1.1 " + status)
    # the body is never read: a client pushing 64 MiB is stopped far short of it (the
    # kernel buffers a few MiB), where a server spooling bodies would take it all
    sent = 0
    with _connect(server) as sock:
        sock.sendall(head)
        chunk = b"x" * (1 << 20)
        try:
            for _ in range(64):
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:  # reset, or the send blocked until the socket's timeout
            pass
    assert sent < 32 << 20, sent
    assert server.request("/all.rss")[0] == 200


def test_a_slow_request_head_is_dropped(feeds_server_factory: Any) -> None:
    server = feeds_server_factory("--header-timeout", "1")
    with _connect(server, timeout=5) as sock:
        sock.sendall(b"GET /all.rss HTTP/1.1\r\n")
        closed = False
        for byte in b"X-Slow: " + b"a" * 100:  # one byte every 0.2 s: the head takes 20 s
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.2)
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                closed = _status_line(sock) == b""
                break
        assert closed, "the server waited for the whole slow head"
    assert server.request("/all.rss")[0] == 200


def test_slow_clients_do_not_lock_others_out(feeds_server_factory: Any) -> None:
    """More slow connections from one address than the server has descriptors: the
    per-client cap closes them at once, and another client is still served."""
    server = feeds_server_factory("--max-per-client", "4", "--header-timeout", "60", nofile=64)
    slow = []
    try:
        for _ in range(80):
            try:
                sock = _connect(server, "127.0.0.2", timeout=2)
                sock.sendall(b"GET /all.rss HTTP/1.1\r\nX-Slow: ")
            except OSError:
                continue
            slow.append(sock)
        with _connect(server, "127.0.0.3") as sock:
            sock.sendall(b"GET /all.rss HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert _status_line(sock) == b"HTTP/1.1 200 OK"
    finally:
        for sock in slow:
            sock.close()


def test_over_the_connection_cap_closed_at_once(feeds_server_factory: Any) -> None:
    server = feeds_server_factory("--max-connections", "6", "--max-per-client", "4")
    held = [_connect(server, "127.0.0.2") for _ in range(4)]
    held += [_connect(server, "127.0.0.3") for _ in range(2)]
    try:
        for sock in held:
            sock.sendall(b"GET /all.rss HTTP/1.1\r\nX-Slow: ")
        with _connect(server, "127.0.0.4") as sock:  # closed, not left waiting
            sock.sendall(b"GET /all.rss HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _status_line(sock) == b""
    finally:
        for sock in held:
            sock.close()
    for _ in range(50):  # the held connections' close reaches the server
        with _connect(server, "127.0.0.4") as sock:
            sock.sendall(b"GET /all.rss HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if _status_line(sock) == b"HTTP/1.1 200 OK":
                break
        time.sleep(0.1)
    else:
        raise AssertionError("the server never served again after the held connections closed")


@pytest.fixture
def feeds_server_factory(server: Server, tmp_path: Path) -> Iterator[Any]:
    """Servers of the module's feeds with other options, stopped after the test."""
    started: list[Server] = []

    def start(*extra: str, nofile: int | None = None) -> Server:
        srv = start_server(
            server.feeds, tmp_path / f"access{len(started)}.log", *extra, nofile=nofile
        )
        started.append(srv)
        return srv

    yield start
    for srv in started:
        assert stop_server(srv) == 0


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("name", ["all.rss", "category/thoi-su.atom"])
def test_a_browser_gets_rss_and_atom_as_xml_to_apply_the_stylesheet(
    server: Server, name: str
) -> None:
    """Browsers show application/rss+xml as text; as application/xml they apply feed.xsl.
    Readers (feed types named, no HTML, or no Accept at all) get the feed type."""
    data = (server.feeds / name).read_bytes()
    assert b'<?xml-stylesheet type="text/xsl" href="' in data
    status, headers, body = server.request("/" + name, headers={"Accept": BROWSER_ACCEPT})
    assert status == 200 and body == data
    assert headers["content-type"] == "application/xml; charset=utf-8"
    assert headers["vary"] == "Accept, Accept-Encoding"
    feed_type = MEDIA_TYPES["." + name.rsplit(".", 1)[1]]
    accepts: tuple[str | None, ...] = (
        None,
        "*/*",
        "application/rss+xml, application/atom+xml, text/html;q=0.1",
        "text/html;q=0, */*",
    )
    for accept in accepts:
        headers_sent: dict[str, str] = {"Accept": accept} if accept is not None else {}
        status, headers, body = server.request("/" + name, headers=headers_sent)
        assert status == 200 and body == data
        assert headers["content-type"].split(";")[0] == feed_type, accept
