"""``aggregator serve``: the feeds folder over HTTP, with Twisted's web server.

Twisted (which ships with Scrapy) parses HTTP; this module only maps a request
path to a file of the folder and answers the way feed readers need:

- media types ``application/rss+xml``, ``application/atom+xml``,
  ``application/feed+json``, ``text/x-opml``, ``text/html`` and the reading page's
  ``text/css``, ``text/javascript`` and ``text/xsl``; any other file, a
  hidden or temporary file (``.name``), a folder and anything outside the folder
  (``..``, ``%2e%2e``, encoded slashes, absolute paths, symlinks leading out) is 404;
- a strong ``ETag`` (SHA-256 of the bytes; ``-gzip`` appended for the gzip
  representation) and ``Last-Modified`` (the file's mtime, which the feed builder
  only changes with the content), with 304 for ``If-None-Match`` or, without it,
  ``If-Modified-Since``;
- RSS and Atom as ``application/xml`` to a browser (``Accept`` takes HTML and names
  no feed type), so that it applies the feeds' stylesheet and shows a page;
- gzip when ``Accept-Encoding`` asks for it (``Vary: Accept-Encoding``, and ``Accept``
  for RSS and Atom);
- ``Cache-Control: public, max-age`` of the crawl interval.

Abuse is bounded in the HTTP plumbing (:class:`BoundedSite`), before any resource is
asked: GET and HEAD only (another method is 405) and no request body (a
``Content-Length`` above 0 or a chunked body is 413), both answered without reading
the body and the connection closed; the request head must arrive within
``header_timeout`` seconds of the connection (or of the previous response); at most
``max_connections`` connections, ``max_per_client`` from one address: a connection
over either cap is closed at once, the others are served.

At start, a feeds folder whose links point at this machine on another port is one
warning line (stderr): its links would not resolve on this server.

With a store (``serve --db``), every file carries ``X-Aggregator-Search: 1`` (so the
reading page knows it may ask ``search.json``), and
``/search.{rss,atom,json}?q=…&province=…&category=…&site=…``
is a search feed made on demand (:mod:`aggregator.publish.search`), with the same ETag,
304, gzip and media types as the files; a request that is not a search is 400, a search
over its time bound or a store that cannot be read 503, each with one line of text.

Each request reads its file whole (feeds are small and replaced atomically), so a
rebuilt feed is served at once and body and ETag always belong together.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import urlsplit

from twisted.internet.interfaces import IAddress
from twisted.python.failure import Failure
from twisted.web.http import NOT_MODIFIED, HTTPChannel
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from aggregator.publish.feeds import DEFAULT_BASE_URL, is_loopback
from aggregator.publish.feeds.layout import Format
from aggregator.publish.search import BadSearch, SearchFeeds, parse_search, search_format
from aggregator.sites.definition import DEFAULT_INTERVAL
from aggregator.store.search import SearchTimeout

__all__ = ["MEDIA_TYPES", "BoundedSite", "FeedsResource", "Limits", "serve"]
MEDIA_TYPES: dict[str, str] = {
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/feed+json",
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    # the reading page's style and script, and the stylesheet browsers apply to a feed
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
}
#: RSS and Atom as a browser gets them (see :func:`_for_browser`)
BROWSER_XML = "application/xml; charset=utf-8"
INDEX = "index.html"
_NOT_FOUND = (
    b'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>404</title></head>'
    b"<body><h1>404 - Kh\xc3\xb4ng t\xc3\xacm th\xe1\xba\xa5y</h1></body></html>\n"
)
_GZIP_CACHE_SIZE = 64
#: a search feed's Cache-Control max-age at most (seconds): the store changes under it
_SEARCH_MAX_AGE = 300


def _weights(header: str) -> dict[str, float]:
    """The quality of each value of an ``Accept``-style header (lowercase; q=1 if unsaid,
    0 if unreadable)."""
    weights: dict[str, float] = {}
    for part in header.split(","):
        coding, _, params = part.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        weights[coding] = weight
    return weights


def _accepts_gzip(header: str) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (``gzip;q=0`` does not)."""
    weights = _weights(header)
    for coding in ("gzip", "x-gzip"):
        if coding in weights:
            return weights[coding] > 0
    return weights.get("*", 0.0) > 0


def _for_browser(accept: str) -> bool:
    """Whether an ``Accept`` value is a browser's page request: it takes HTML and names no
    feed type. Browsers show ``application/rss+xml`` as text (or download it) but apply the
    feed's stylesheet to ``application/xml``; readers get the feed type."""
    weights = _weights(accept)
    feeds = ("application/rss+xml", "application/atom+xml")
    return weights.get("text/html", 0.0) > 0 and not any(t in weights for t in feeds)


def _etags(header: str) -> set[str]:
    """The opaque tags of an ``If-None-Match`` value (weak comparison: ``W/`` dropped)."""
    tags = set()
    for raw in header.split(","):
        tag = raw.strip()
        tags.add(tag[2:] if tag.startswith("W/") else tag)
    return tags


class FeedsResource(Resource):
    """Every file of one folder, by path; nothing outside it."""

    isLeaf = True
    allowedMethods = (b"GET", b"HEAD")

    def __init__(self, root: Path, max_age: int, search: SearchFeeds | None = None) -> None:
        super().__init__()
        self.root = Path(root).resolve(strict=True)
        self.max_age = max_age
        self.search = search
        self._gzipped: OrderedDict[str, bytes] = OrderedDict()

    def locate(self, segments: list[bytes]) -> tuple[Path, str] | None:
        """The file and media type for a request path's (decoded) segments, or None."""
        if segments == [b""]:
            segments = [INDEX.encode()]
        names = []
        for raw in segments:
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError:
                return None
            # empty (//, a trailing /), ., .., hidden and temporary files; an encoded
            # slash or backslash or NUL inside one segment
            if not name or name.startswith(".") or any(c in name for c in "/\\\x00"):
                return None
            names.append(name)
        media_type = MEDIA_TYPES.get(Path(names[-1]).suffix)
        if media_type is None:
            return None
        real = self.root
        for name in names:  # every step stays inside: no symlink out (and back in)
            try:
                real = (real / name).resolve(strict=True)
            except (OSError, RuntimeError):  # missing, a symlink loop
                return None
            if not real.is_relative_to(self.root):
                return None
        return (real, media_type) if real.is_file() else None

    def _gzip(self, digest: str, data: bytes) -> bytes:
        body = self._gzipped.get(digest)
        if body is None:
            body = gzip.compress(data, compresslevel=6, mtime=0)
            self._gzipped[digest] = body
            while len(self._gzipped) > _GZIP_CACHE_SIZE:
                self._gzipped.popitem(last=False)
        else:
            self._gzipped.move_to_end(digest)
        return body

    def render_GET(self, request: Request) -> bytes | int:
        segments = list(request.postpath or [])
        if self.search is not None and len(segments) == 1:
            fmt = search_format(segments[0].decode("latin-1"))
            if fmt is not None:
                return self._search(request, self.search, fmt)
        found = self.locate(segments)
        if found is None:
            return self._not_found(request)
        path, media_type = found
        try:
            with path.open("rb") as handle:
                data = handle.read()
                mtime = int(os.fstat(handle.fileno()).st_mtime)
        except OSError:
            return self._not_found(request)
        if self.search is not None:  # the reading page asks search.json only when told so
            request.setHeader(b"x-aggregator-search", b"1")
        return self._respond(request, data, media_type, path.suffix, self.max_age, mtime)

    def _search(self, request: Request, search: SearchFeeds, fmt: Format) -> bytes | int:
        """A search feed, or one line: 400 for a bad request, 503 when the store fails."""
        query_string = (request.uri or b"").partition(b"?")[2]
        try:
            data = search.answer(parse_search(fmt, query_string))
        except BadSearch as exc:
            return self._plain(request, 400, f"bad search: {exc}")
        except SearchTimeout as exc:
            return self._plain(request, 503, f"search unavailable: {exc}")
        except Exception as exc:  # the store's own errors (lost, damaged): never a 500
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            return self._plain(request, 503, f"search unavailable: the store failed ({reason})")
        max_age = min(self.max_age, _SEARCH_MAX_AGE)
        return self._respond(request, data, MEDIA_TYPES["." + fmt], "." + fmt, max_age, None)

    def _respond(
        self, request: Request, data: bytes, media_type: str, suffix: str, max_age: int,
        mtime: int | None,
    ) -> int:  # fmt: skip
        """Answer with ``data``: validators, negotiation, 304, gzip (``mtime``: the file's,
        for Last-Modified; None for a made feed)."""
        digest = hashlib.sha256(data).hexdigest()[:40]
        accept = b",".join(request.requestHeaders.getRawHeaders(b"accept-encoding", []))
        compress = _accepts_gzip(accept.decode("latin-1"))
        etag = f'"{digest}-gzip"' if compress else f'"{digest}"'
        negotiated = suffix in (".rss", ".atom")
        if negotiated:
            wanted = b",".join(request.requestHeaders.getRawHeaders(b"accept", []))
            if _for_browser(wanted.decode("latin-1")):
                media_type = BROWSER_XML
        headers = request.responseHeaders
        headers.setRawHeaders(b"content-type", [media_type.encode()])
        headers.setRawHeaders(b"etag", [etag.encode()])
        if mtime is not None:
            headers.setRawHeaders(b"last-modified", [formatdate(mtime, usegmt=True).encode()])
        headers.setRawHeaders(b"cache-control", [f"public, max-age={max_age}".encode()])
        vary = b"Accept, Accept-Encoding" if negotiated else b"Accept-Encoding"
        headers.setRawHeaders(b"vary", [vary])
        if self._not_modified(request, digest, mtime):
            request.setResponseCode(NOT_MODIFIED)
            request.finish()  # no body and no Content-Length (it would have to be the 200's)
            return NOT_DONE_YET
        body = self._gzip(digest, data) if compress else data
        if compress:
            headers.setRawHeaders(b"content-encoding", [b"gzip"])
        headers.setRawHeaders(b"content-length", [str(len(body)).encode()])
        if request.method != b"HEAD":
            request.write(body)
        request.finish()
        return NOT_DONE_YET

    render_HEAD = render_GET

    @staticmethod
    def _not_modified(request: Request, digest: str, mtime: int | None) -> bool:
        """RFC 9110 13.2.2: If-None-Match decides when present, else If-Modified-Since."""
        none_match = request.requestHeaders.getRawHeaders(b"if-none-match")
        if none_match:
            tags = _etags(b",".join(none_match).decode("latin-1"))
            return "*" in tags or bool(tags & {f'"{digest}"', f'"{digest}-gzip"'})
        since = request.requestHeaders.getRawHeaders(b"if-modified-since")
        if not since or mtime is None:
            return False
        try:
            when = parsedate_to_datetime(since[-1].decode("latin-1"))
        except (TypeError, ValueError, IndexError):
            return False  # an invalid date is ignored
        if when.tzinfo is None:
            return False
        return mtime <= when.timestamp()

    @staticmethod
    def _plain(request: Request, status: int, line: str) -> bytes:
        request.setResponseCode(status)
        request.responseHeaders.setRawHeaders(b"content-type", [b"text/plain; charset=utf-8"])
        request.responseHeaders.setRawHeaders(b"cache-control", [b"no-store"])
        return (line + "\n").encode("utf-8")

    @staticmethod
    def _not_found(request: Request) -> bytes:
        request.setResponseCode(404)
        request.responseHeaders.setRawHeaders(b"content-type", [b"text/html; charset=utf-8"])
        return _NOT_FOUND


@dataclass(frozen=True)
class Limits:
    """What one server grants its clients (``aggregator serve`` options)."""

    max_connections: int = 128
    max_per_client: int = 16
    #: seconds for a request head (line and headers) to arrive
    header_timeout: float = 10.0
    #: seconds an idle keep-alive connection is kept
    idle_timeout: float = 60.0


#: how long a refused request's connection is kept half-closed (the client reads the
#: answer; its body is never read) before it is dropped
_LINGER = 2.0
_REASONS = {405: b"Method Not Allowed", 413: b"Content Too Large"}


class _BoundedChannel(HTTPChannel):
    """Twisted's HTTP/1.1 channel with a deadline for each request head and no bodies."""

    site: BoundedSite
    _deadline: Any = None  # the IDelayedCall of the pending deadline
    _refused = False
    _peer = ""

    def connectionMade(self) -> None:
        super().connectionMade()
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.callLater(self.site.limits.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport is not None:
            self.transport.abortConnection()

    def allHeadersReceived(self) -> None:
        self._disarm()
        if self._command not in (b"GET", b"HEAD"):
            self._refuse(405)
        elif self.length is None or self.length > 0:  # chunked, or a Content-Length
            self._refuse(413)
        else:
            super().allHeadersReceived()

    def _refuse(self, status: int) -> None:
        """Answer ``status`` and close, the body unread: reading stops, the answer and a
        FIN go out, the connection is dropped after a short linger."""
        self._refused = True
        self.length = -1  # not 0: the channel would take the request as complete
        transport = cast(Any, self.transport)
        transport.pauseProducing()
        transport.write(
            b"HTTP/1.1 %d %s\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n"
            b"Connection: close\r\n\r\n" % (status, _REASONS[status])
        )
        transport.loseWriteConnection()
        self._deadline = self.callLater(_LINGER, self._too_slow)

    def rawDataReceived(self, data: bytes) -> None:
        if not self._refused:
            super().rawDataReceived(data)

    def requestDone(self, request: Request) -> None:
        super().requestDone(request)
        if self.persistent:  # the next request's head has its own deadline
            self._arm()

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        self._disarm()
        self.site.closed(self._peer)
        super().connectionLost(reason)


class BoundedSite(Site):
    """A Twisted ``Site`` that caps connections, in all and per client address."""

    protocol = _BoundedChannel  # type: ignore[assignment]

    def __init__(self, resource: Resource, limits: Limits, **kwargs: Any) -> None:
        super().__init__(resource, timeout=limits.idle_timeout, **kwargs)
        self.limits = limits
        self.open: dict[str, int] = {}

    def buildProtocol(self, addr: IAddress) -> _BoundedChannel | None:  # type: ignore[override]
        peer = str(getattr(addr, "host", ""))
        if (
            sum(self.open.values()) >= self.limits.max_connections
            or self.open.get(peer, 0) >= self.limits.max_per_client
        ):
            return None  # Twisted closes the connection at once
        channel = cast(_BoundedChannel, super().buildProtocol(addr))
        channel._peer = peer
        self.open[peer] = self.open.get(peer, 0) + 1
        return channel

    def closed(self, peer: str) -> None:
        left = self.open.get(peer, 0) - 1
        if left > 0:
            self.open[peer] = left
        else:
            self.open.pop(peer, None)


def _feed_url(feeds_dir: Path) -> str | None:
    """``all.json``'s ``feed_url``: where the feeds say they are published."""
    try:
        with (Path(feeds_dir) / "all.json").open("rb") as handle:
            feed_url = json.load(handle).get("feed_url", "")
    except (OSError, ValueError, AttributeError):
        return None  # no feeds yet, or not ours
    return feed_url if isinstance(feed_url, str) and feed_url.endswith("/all.json") else None


def base_warning(feeds_dir: Path, port: int) -> str | None:
    """One line when the feeds link to this machine on another port than the one served
    (their links would not resolve here), read from ``all.json``'s ``feed_url``."""
    feed_url = _feed_url(feeds_dir)
    if feed_url is None:
        return None
    try:
        linked = urlsplit(feed_url).port or 80
    except ValueError:
        return None
    if not is_loopback(feed_url) or linked == port:
        return None
    base = feed_url.removesuffix("all.json")
    return (
        f"aggregator: warning: the feeds link to {base}, not to port {port}: rebuild them "
        f"with --base-url for this address, or serve on port {linked}"
    )


def serve(
    feeds_dir: Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    max_age: int = DEFAULT_INTERVAL * 60,
    access_log: Path | None = None,
    out: IO[str] | None = None,
    limits: Limits | None = None,
    db: str | None = None,
) -> int:
    """Serve ``feeds_dir`` until SIGTERM or Ctrl-C (exit status 0).

    The first line written to ``out`` (stdout) is the server's URL; with port 0 it
    carries the port chosen. ``access_log`` gets one combined-format line per request.
    ``db``: the store that answers search feeds (none: no search).
    """
    from twisted.internet import reactor as _reactor
    from twisted.internet.error import CannotListenError

    out = out or sys.stdout
    reactor = cast(Any, _reactor)
    if not Path(feeds_dir).is_dir():
        print(f"aggregator: error: feeds folder {feeds_dir} not found", file=sys.stderr)
        return 1
    log_path = str(access_log) if access_log is not None else None
    search = None
    if db is not None:
        search = _search_feeds(db, Path(feeds_dir), max_age)
        if search is None:
            return 2
    site = BoundedSite(
        FeedsResource(Path(feeds_dir), max_age, search), limits or Limits(), logPath=log_path
    )
    site.displayTracebacks = False
    try:
        listening = reactor.listenTCP(port, site, interface=host)
    except CannotListenError as exc:
        print(f"aggregator: error: cannot serve on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    address = listening.getHost()
    shown = f"[{address.host}]" if ":" in address.host else address.host
    print(f"http://{shown}:{address.port}/", file=out, flush=True)
    warning = base_warning(Path(feeds_dir), address.port)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    reactor.run()  # its own SIGINT/SIGTERM handlers stop it
    return 0


def _search_feeds(db: str, feeds_dir: Path, max_age: int) -> SearchFeeds | None:
    """Search feeds from the store ``db``, linked where the feeds folder says it is
    published (None, after one line on stderr, when the store cannot be opened)."""
    from aggregator.store import open_store

    # the server waits for the store: a lost PostgreSQL is retried briefly, then 503
    store = open_store(db, retry_seconds=5.0)
    try:
        store.open()
    except Exception as exc:  # StoreUnavailable, a damaged or foreign SQLite file
        reason = " ".join(str(exc).split())
        print(f"aggregator: error: cannot search the store: {reason}", file=sys.stderr)
        return None
    feed_url = _feed_url(feeds_dir)
    base = feed_url.removesuffix("all.json") if feed_url else DEFAULT_BASE_URL
    return SearchFeeds(store, base, max(1, max_age // 60))
