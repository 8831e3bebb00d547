"""A few fixed pages served on 127.0.0.1 (a free port) in a thread: for sites the sample
web does not model (a feed-only paper, a sitemap index, a redirecting home page)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

__all__ = ["StaticWeb"]

#: a response: status, headers, body
Response = tuple[int, dict[str, str], bytes]


class StaticWeb:
    """Serves ``pages`` (path with query → response, or text served as HTML); other
    paths are 404. ``requests`` lists the paths asked for, in order."""

    def __init__(self, pages: dict[str, Response | str] | None = None) -> None:
        self.pages: dict[str, Response | str] = dict(pages or {})
        self.requests: list[str] = []
        web = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                web.requests.append(self.path)
                found = web.pages.get(self.path)
                if isinstance(found, str):
                    found = (200, {"Content-Type": "text/html; charset=utf-8"}, found.encode())
                status, headers, body = found or (404, {}, b"not found")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StaticWeb:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
