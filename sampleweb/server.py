"""The sample web's HTTP server: a stdlib ThreadingHTTPServer in a daemon thread."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import parse_qsl, urlencode, urlsplit

from sampleweb.base import Page, html_page
from sampleweb.groundtruth import GroundTruthArticle
from sampleweb.hostile import HostilePlan, HostileWeb, hostile_site_definition
from sampleweb.render import article_path, load_all_ground_truth, render_web
from sampleweb.render import site_definition as _site_definition

__all__ = ["SampleWeb"]

_NOT_FOUND = html_page(
    '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>404</title></head>'
    '<body><h1>404 - Không tìm thấy trang</h1><p><a href="/">Trang chủ</a></p></body></html>\n',
    status=404,
)


def _canonical_query(query: str) -> str:
    """Query string with sorted parameters and without blank ones."""
    return urlencode(sorted((k, v) for k, v in parse_qsl(query) if v))


class _Pages:
    """Page lookup: exact path+query, then canonical query, then query-agnostic pages."""

    def __init__(self, pages: Mapping[str, Page]) -> None:
        self.exact = dict(pages)
        self.canonical: dict[str, Page] = {}
        for key, page in pages.items():
            path, _, query = key.partition("?")
            self.canonical.setdefault(self._key(path, query), page)

    @staticmethod
    def _key(path: str, query: str) -> str:
        q = _canonical_query(query)
        return f"{path}?{q}" if q else path

    def get(self, target: str) -> Page:
        if target in self.exact:
            return self.exact[target]
        parts = urlsplit(target)
        if found := self.canonical.get(self._key(parts.path, parts.query)):
            return found
        found = self.exact.get(parts.path)
        if found is not None and found.any_query:
            return found
        return _NOT_FOUND


class SampleWeb:
    """The sample provincial web on ``http://host:port/``; a context manager.

    >>> with SampleWeb() as web:  # doctest: +SKIP
    ...     web.base_url("tamdao")
    'http://127.0.0.1:41234/tamdao/'

    ``ground_truth`` (site id -> articles) replaces the bundled ground truth, for
    tests; ``access_log`` is a file that gets one line per request. ``hostile`` (a
    seed) serves the hostile web instead (:mod:`sampleweb.hostile`): the same
    newspapers with faults, bad input and attacks, recorded in :attr:`hostile_plan`.
    The newspapers of ``redesigned`` are served with every class and id renamed
    (:mod:`sampleweb.redesign`).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        access_log: str | os.PathLike[str] | None = None,
        *,
        ground_truth: Mapping[str, Sequence[GroundTruthArticle]] | None = None,
        hostile: int | None = None,
        redesigned: Collection[str] = (),
    ) -> None:
        self.host = host
        self.port = port
        self.access_log = Path(access_log) if access_log is not None else None
        self._ground_truth = ground_truth
        self._server: ThreadingHTTPServer | None = None
        self._other: ThreadingHTTPServer | None = None  # hostile: the other port
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._requests: list[str] = []
        self._log: IO[str] | None = None
        self._url = ""
        self._sites: list[str] = []
        self._pages = _Pages({})
        self.hostile = hostile
        self.redesigned = frozenset(redesigned)
        self._hostile: HostileWeb | None = None
        self._stopping = threading.Event()

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> SampleWeb:
        """Bind, render every page and serve in a daemon thread."""
        if self._server is not None:
            return self
        ground_truth = self._ground_truth
        if ground_truth is None:
            ground_truth = load_all_ground_truth()
        server = ThreadingHTTPServer((self.host, self.port), self._handler())
        server.daemon_threads = True
        host, port = server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        shown = f"[{host}]" if ":" in host else host
        self._url = f"http://{shown}:{port}/"
        try:
            if self.hostile is not None:
                # the hostile web's other port: what its pages point to off the site's scope
                other = ThreadingHTTPServer((self.host, 0), self._handler())
                other.daemon_threads = True
                self._other = other
                other_url = f"http://{shown}:{other.server_address[1]}/"
                self._stopping.clear()
                self._hostile = HostileWeb(
                    self.hostile, self._url, ground_truth, stopping=self._stopping,
                    other_origin=other_url,
                )  # fmt: skip
                self._pages = _Pages(self._hostile.pages)
            else:
                self._pages = _Pages(render_web(self._url, ground_truth, self.redesigned))
            if self.access_log is not None:
                self._log = self.access_log.open("a", encoding="utf-8")
        except BaseException:
            server.server_close()
            if self._other is not None:
                self._other.server_close()
                self._other = None
            raise
        self._sites = sorted(ground_truth)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        if self._other is not None:
            threading.Thread(
                target=self._other.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
            ).start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (and the access log)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # hostile hangs give up
        for listening in (server, self._other):
            if listening is not None:
                listening.shutdown()
                listening.server_close()
        self._other = None
        if self._hostile is not None:
            self._hostile.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None

    def __enter__(self) -> SampleWeb:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- URLs ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://host:port/`` of the running server."""
        if not self._url:
            raise RuntimeError("SampleWeb is not started")
        return self._url

    @property
    def sites(self) -> list[str]:
        """Ids of the newspapers served (those with ground truth)."""
        return list(self._sites)

    def base_url(self, site_id: str) -> str:
        """Root URL of one newspaper, e.g. ``http://127.0.0.1:PORT/tamdao/``."""
        if site_id not in self._sites:
            raise KeyError(f"site {site_id!r} is not served; served: {', '.join(self._sites)}")
        return f"{self.url}{site_id}/"

    def article_url(self, article: GroundTruthArticle) -> str:
        """Absolute URL of a ground-truth article's page."""
        return self.url + article_path(article).lstrip("/")

    def site_definition(self, site_id: str) -> str:
        """The site-definition TOML of a newspaper with this server's base URL."""
        toml = _site_definition(site_id, self.base_url(site_id))
        return toml if self._hostile is None else hostile_site_definition(site_id, toml)

    @property
    def hostile_plan(self) -> HostilePlan | None:
        """The hostile web's ground truth (every fault), or None for the normal web."""
        return self._hostile.plan if self._hostile is not None else None

    def write_site_definitions(self, dest_dir: str | os.PathLike[str]) -> list[Path]:
        """Write ``<id>.toml`` for every served newspaper into ``dest_dir``."""
        dest = Path(dest_dir)
        dest.mkdir(parents=True, exist_ok=True)
        paths = []
        for site_id in self._sites:
            path = dest / f"{site_id}.toml"
            path.write_text(self.site_definition(site_id), encoding="utf-8")
            paths.append(path)
        return paths

    # -- requests -----------------------------------------------------------------------

    @property
    def requests(self) -> list[str]:
        """Paths (with query) requested so far, in order; a copy."""
        with self._lock:
            return list(self._requests)

    def _record(self, client: str, line: str, target: str, status: int, size: int) -> None:
        with self._lock:
            self._requests.append(target)
            if self._log is not None:
                stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z")
                self._log.write(f'{client} - - [{stamp}] "{line}" {status} {size}\n')
                self._log.flush()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        web = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "SampleWeb/1.0"

            def _respond(self, *, with_body: bool) -> None:
                hostile = web._hostile
                if hostile is not None and hostile.serve(self, with_body=with_body, record=_record):
                    return
                page = web._pages.get(self.path)
                # validators like a real CMS behind a cache: a strong ETag of the bytes,
                # and If-None-Match answered with 304 (If-Modified-Since is ignored: the
                # sample web has no modification times to compare)
                etag = '"' + hashlib.sha1(page.body).hexdigest()[:16] + '"'
                # recorded before answering: a client that has its answer finds it recorded
                if page.status == 200 and self.headers.get("If-None-Match") == etag:
                    web._record(self.client_address[0], self.requestline, self.path, 304, 0)
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                web._record(
                    self.client_address[0], self.requestline, self.path, page.status, len(page.body)
                )
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(page.body)))
                if page.status == 200:
                    self.send_header("ETag", etag)
                for name, value in page.headers:
                    self.send_header(name, value)
                self.end_headers()
                if with_body:
                    self.wfile.write(page.body)

            def handle_one_request(self) -> None:
                if web._hostile is None:
                    return super().handle_one_request()
                try:
                    super().handle_one_request()
                except OSError:  # a client that gave up on a hostile answer
                    self.close_connection = True

            def do_GET(self) -> None:
                self._respond(with_body=True)

            def do_HEAD(self) -> None:
                self._respond(with_body=False)

            def log_message(self, format: str, *args: object) -> None:
                pass  # requests go to SampleWeb.requests and the access log

        def _record(handler: BaseHTTPRequestHandler, status: int, size: int) -> None:
            web._record(handler.client_address[0], handler.requestline, handler.path, status, size)

        return Handler
