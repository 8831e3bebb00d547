"""A small web site on 127.0.0.1 for tests of what may be fetched: pages by path, each
request's Host header and path recorded."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["ARTICLE", "DEFINITION", "Web", "article", "refresh"]

ARTICLE = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">{head}
<title>{title}</title></head><body><h1>{title}</h1>
<time datetime="2026-01-10T08:00:00+07:00">10/01/2026 08:00</time>
<div class="body"><p>{title}: đoạn thứ nhất của bài viết, đủ dài để là một bài báo thật sự.</p>
<p>Đoạn thứ hai kể thêm chi tiết về sự việc ở tỉnh, với những con số cụ thể.</p>
<p>Đoạn thứ ba kết thúc bài viết bằng ý kiến của người dân địa phương.</p></div>
</body></html>"""


@dataclass
class Web:
    """A threaded HTTP server on 127.0.0.1 recording each request's Host and path."""

    pages: dict[str, tuple[int, dict[str, str], str]] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.server_address[1]

    def start(self) -> None:
        web = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                web.seen.append((self.headers.get("Host", ""), self.path))
                status, headers, body = web.pages.get(self.path, (404, {}, "not found"))
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def article(title: str, head: str = "") -> tuple[int, dict[str, str], str]:
    """An article page (``h1``, ``time``, ``div.body``) with ``head`` in its head."""
    return 200, {}, ARTICLE.format(title=title, head=head)


def refresh(target: str) -> str:
    """A meta refresh to ``target``, at once."""
    return f'<meta http-equiv="refresh" content="0; url={target}">'


#: A definition of a Web at ``base_url`` (the selectors of :data:`ARTICLE`).
DEFINITION = """id = "{id}"
name = "Báo Thử"
province = "Tây Ninh"
base_url = "{base_url}"

[sources]
listings = [""]

[links]
article = '-a\\d+\\.html$'

[selectors]
title = "h1"
body = "div.body"
published = "time::attr(datetime)"

[politeness]
delay = 0
autothrottle = false
{extra}"""
