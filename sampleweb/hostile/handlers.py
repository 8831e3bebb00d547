"""How the hostile server answers: :class:`HostileWeb` holds the hostile pages and answers
the requests a per-request fault, a trap or an off-site path takes over (5xx bursts, 429,
slow drips, hangs, resets, truncated bodies, gzip bombs, oversize bodies, redirect chains).
"""

from __future__ import annotations

import gzip
import re
import select
import shutil
import socket
import struct
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

from sampleweb.base import HTML, Page
from sampleweb.groundtruth import GroundTruthArticle
from sampleweb.hostile.pages import local_files, redirect_page, render_faults, trap_page
from sampleweb.hostile.payloads import EVIL, PAYLOAD_HTML
from sampleweb.hostile.plan import HANG_SECONDS, SLOW_SECONDS, Fault, plan_hostile_web
from sampleweb.render import TEMPLATES, render_web

#: Bytes a gzip bomb inflates to, and the size of an oversize page (DOWNLOAD_MAXSIZE: 16 MiB).
BOMB_BYTES = 64 * 1024 * 1024
OVERSIZE_BYTES = 20 * 1024 * 1024

#: How the server logs an answer: (request, status, bytes sent).
Record = Callable[[BaseHTTPRequestHandler, int, int], None]


class HostileWeb:
    """The pages of the hostile web and its per-request faults, for :class:`SampleWeb`.

    ``pages`` are static (the normal web with changed and added pages); :meth:`serve`
    answers the requests that a per-request fault, a trap or a redirect takes over.
    """

    def __init__(
        self,
        seed: int,
        origin: str,
        ground_truth: Mapping[str, Sequence[GroundTruthArticle]] | None = None,
        *,
        stopping: threading.Event | None = None,
        other_origin: str | None = None,
    ) -> None:
        self.plan = plan_hostile_web(seed, ground_truth)
        self.origin = origin.rstrip("/")
        #: the hostile web's other port (links and redirects there must not be followed)
        self.other_origin = (other_origin or origin).rstrip("/")
        #: the local files ``file-link`` faults name (removed by :meth:`close`)
        self.local_dir = tempfile.mkdtemp(prefix="sampleweb-hostile-")
        self.stopping = stopping or threading.Event()
        self.templates = {
            s: TEMPLATES[s](arts, origin) for s, arts in self.plan.ground_truth.items()
        }
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._bomb = b""
        self.pages = render_web(origin, self.plan.ground_truth)
        #: path -> the fault answered per request there (the rest is in ``pages``)
        self._dynamic: dict[str, Fault] = render_faults(
            self.plan, self.templates, self.origin, self.pages,
            other_origin=self.other_origin, local_dir=self.local_dir,
        )  # fmt: skip
        for path, body in local_files(self.plan, self.templates, self.pages).items():
            target = Path(self.local_dir + path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)

    def close(self) -> None:
        """Remove the local files."""
        shutil.rmtree(self.local_dir, ignore_errors=True)

    def serve(self, handler: BaseHTTPRequestHandler, *, with_body: bool, record: Record) -> bool:
        """Answer a request a fault takes over; False: serve the page as usual."""
        target = handler.path
        parts = urlsplit(target)
        if parts.path.startswith(EVIL):
            page = Page(
                200, HTML, f"<html><body><h1>{PAYLOAD_HTML}</h1><p>x</p></body></html>".encode()
            )
            _send(handler, page, with_body)
            record(handler, 200, len(page.body))
            return True
        fault = self._dynamic.get(target) or self._dynamic.get(parts.path)
        if fault is None:
            trap = trap_page(self.plan, self.templates, self.pages, parts.path, parts.query)
            if trap is None:
                return False
            _send(handler, trap, with_body)
            record(handler, trap.status, len(trap.body))
            return True
        with self._lock:
            self._hits[fault.path] += 1
            n = self._hits[fault.path]
        return self._fault(handler, fault, n, with_body, record)

    def _fault(
        self, h: BaseHTTPRequestHandler, f: Fault, n: int, with_body: bool, record: Record
    ) -> bool:
        page = self.pages.get(f.path)
        failing = n <= f.fails
        if f.kind in ("burst", "http-500", "429") and failing:
            status = 429 if f.kind == "429" else 500 if f.kind == "http-500" else (503, 502)[n % 2]
            headers = (("Retry-After", "1"),) if f.kind == "429" else ()
            body = f"<html><body><h1>{status}</h1></body></html>".encode()
            _send(h, Page(status, HTML, body, headers=headers), with_body)
            record(h, status, len(body))
            return True
        if f.kind == "slow" and page is not None:
            _send(h, page, with_body, drip=SLOW_SECONDS)
            record(h, page.status, len(page.body))
            return True
        if f.kind in ("hang", "hang-once") and failing:
            self._hang(h)
            record(h, 0, 0)
            return True
        if f.kind == "reset" and failing:
            _reset(h)
            record(h, 0, 0)
            return True
        if f.kind in ("truncated", "truncated-once") and failing and page is not None:
            h.send_response(200)
            h.send_header("Content-Type", page.content_type)
            h.send_header("Content-Length", str(len(page.body) + 4096))
            h.end_headers()
            if with_body:
                h.wfile.write(page.body[: len(page.body) // 2])
            h.close_connection = True
            record(h, 200, len(page.body) // 2)
            return True
        if f.kind == "gzip-bomb":
            if not self._bomb:
                self._bomb = _gzip_bomb()
            bomb = Page(200, HTML, self._bomb, headers=(("Content-Encoding", "gzip"),))
            _send(h, bomb, with_body)
            record(h, 200, len(self._bomb))
            return True
        if f.kind in ("oversize", "oversize-stream"):
            h.send_response(200)
            h.send_header("Content-Type", HTML)
            if f.kind == "oversize":
                h.send_header("Content-Length", str(OVERSIZE_BYTES))
            h.send_header("Connection", "close")
            h.end_headers()
            sent = 0
            if with_body:
                try:
                    for chunk in _filler(OVERSIZE_BYTES):
                        h.wfile.write(chunk)
                        sent += len(chunk)
                except OSError:  # the client stopped reading at its size limit
                    pass
            h.close_connection = True
            record(h, 200, sent)
            return True
        if f.kind == "redirect-chain":
            m = re.search(r"-(\d+)$", urlsplit(h.path).query) or None
            step = int(m.group(1)) if m else 0
            location = f"{f.path}?buoc-{step + 1}"
            _send(h, redirect_page(location), with_body)
            record(h, 301, 0)
            return True
        return False  # a transient fault that has cleared: the page as usual

    def _hang(self, h: BaseHTTPRequestHandler) -> None:
        """Hold the connection without answering until the client gives up."""
        deadline = time.monotonic() + HANG_SECONDS
        conn = h.connection
        while not self.stopping.is_set() and time.monotonic() < deadline:
            readable, _, _ = select.select([conn], [], [], 0.2)
            if readable:
                try:
                    if not conn.recv(1024, socket.MSG_PEEK):
                        break  # the client closed the connection
                except OSError:
                    break
                time.sleep(0.05)
        h.close_connection = True
        _reset(h)


def _send(h: BaseHTTPRequestHandler, page: Page, with_body: bool, drip: float = 0.0) -> None:
    """Write a whole response (``drip``: the body in pieces over that many seconds)."""
    h.send_response(page.status)
    h.send_header("Content-Type", page.content_type)
    h.send_header("Content-Length", str(len(page.body)))
    for name, value in page.headers:
        h.send_header(name, value)
    h.end_headers()
    if not with_body:
        return
    try:
        if drip:
            pieces = 8
            size = -(-len(page.body) // pieces)
            for i in range(pieces):
                time.sleep(drip / pieces)
                h.wfile.write(page.body[i * size : (i + 1) * size])
        else:
            h.wfile.write(page.body)
    except OSError:
        h.close_connection = True


def _reset(h: BaseHTTPRequestHandler) -> None:
    """Close the connection with a TCP RST (SO_LINGER 0) and nothing sent."""
    try:
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
    except OSError:
        pass
    h.close_connection = True


def _filler(size: int) -> Iterator[bytes]:
    """An HTML page of ``size`` bytes, in 64 KiB chunks."""
    head = b"<!DOCTYPE html><html><head><title>Trang lon</title></head><body>"
    chunk = b"<p>" + b"x" * 65530 + b"</p>"
    yield head
    sent = len(head)
    while sent < size:
        piece = chunk[: size - sent]
        yield piece
        sent += len(piece)


def _gzip_bomb() -> bytes:
    """A gzip member of ~64 KiB that inflates to :data:`BOMB_BYTES` of HTML."""
    head = b"<!DOCTYPE html><html><head><title>Bom</title></head><body><p>"
    return gzip.compress(head + b" " * (BOMB_BYTES - len(head)), compresslevel=9, mtime=0)
