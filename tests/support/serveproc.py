"""``aggregator serve`` in a subprocess on a free port of 127.0.0.1, spoken to over real
HTTP: shared by the server tests and the newsboat test."""

from __future__ import annotations

import http.client
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.env import REPO

__all__ = ["Server", "start_server", "stop_server"]


@dataclass
class Server:
    url: str
    host: str
    port: int
    feeds: Path
    log: Path
    proc: subprocess.Popen[str]

    def request(
        self, path: str, method: str = "GET", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request with the path sent exactly as given (no client normalization)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            conn.endheaders()
            response = conn.getresponse()
            body = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        finally:
            conn.close()


def start_server(feeds: Path, log: Path, *extra: str, nofile: int | None = None) -> Server:
    """``aggregator serve`` with ``extra`` options; ``nofile``: its descriptor limit."""

    def limit() -> None:
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    proc = subprocess.Popen(
        [sys.executable, "-m", "aggregator.app.cli", "serve", "--feeds-dir", str(feeds),
         "--port", "0", "--access-log", str(log), *extra],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        preexec_fn=limit,
    )  # fmt: skip
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        raise AssertionError(f"unexpected first line {url!r}")
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return Server(url, parts.hostname, parts.port, feeds, log, proc)


def stop_server(server: Server, sig: int = signal.SIGTERM) -> int:
    if server.proc.poll() is None:
        server.proc.send_signal(sig)
    return server.proc.wait(timeout=15)
