"""WARC capture of every fetched response, and reading the archives back.

With ``AGGREGATOR_WARC_DIR`` (``aggregator crawl --warc DIR``) the
:class:`WarcMiddleware` writes each response the crawler receives (articles,
listings, feeds, sitemaps, robots.txt, error pages, 304s) together with its request
as WARC/1.1 ``response`` + ``request`` records (warcio, one gzip member per record).
Each crawl of a site gets its own files, ``<site>-<UTC timestamp>-<n>.warc.gz``,
starting with a ``warcinfo`` record; a file is closed and the next one started once
it reaches ``AGGREGATOR_WARC_MAX_BYTES`` (default 1 GiB). Every record is flushed
when written, so a crash loses at most the record being written.

The response record carries ``WARC-Date`` with microseconds (the article's
``fetched_at``) and, for article pages, an ``Aggregator-Hints`` field: what the
crawler knew of the page before fetching it (listing section and date, feed date
and category), as ASCII JSON. The spider finds the record in
``response.meta["warc"]`` (``{"file", "record_id"}``) and its date in
``response.meta["warc_date"]``.

:func:`read_warc` reads response records back (any WARC, not only ours). It checks
each record's block against its ``Content-Length`` itself (``warcio check`` does not
notice a truncated file) and stops at the last whole record with a warning.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from warcio.bufferedreaders import ChunkedDataReader, DecompressingBufferedReader
from warcio.statusandheaders import (
    StatusAndHeaders,
    StatusAndHeadersParser,
    StatusAndHeadersParserException,
)
from warcio.warcwriter import WARCWriter

__all__ = [
    "DEFAULT_MAX_BYTES",
    "HINTS_HEADER",
    "ArchivedResponse",
    "Exchange",
    "WarcArchive",
    "WarcMiddleware",
    "WarcRef",
    "read_warc",
    "warc_files",
]

logger = logging.getLogger(__name__)

#: Default size at which a WARC file is closed and the next one started (1 GiB).
DEFAULT_MAX_BYTES = 1 << 30
#: Response-record field with the crawler's hints for an article page (ASCII JSON).
HINTS_HEADER = "Aggregator-Hints"
_HINTS_FIELD = HINTS_HEADER.lower()
_SOFTWARE = "aggregator/0.1 (warcio)"
_WARC_1_1 = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
#: HTTP headers that describe the transfer, not the payload as recorded (Scrapy has
#: already undone the chunking when a middleware sees the body).
_TRANSFER_HEADERS = frozenset({"transfer-encoding"})
_NAME = re.compile(r"^(?P<crawl>(?P<site>[a-z0-9][a-z0-9-]*)-\d{8}T\d{6}Z)-(?P<n>\d+)\.warc\.gz$")


# -- writing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WarcRef:
    """Where a response was archived: the file (its name) and the record id."""

    file: str
    record_id: str
    date: datetime

    def as_meta(self) -> dict[str, str]:
        """The reference kept with an article (its ``warc`` field)."""
        return {"file": self.file, "record_id": self.record_id}


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its response, as the crawler saw them."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    response_headers: list[tuple[str, str]]
    body: bytes
    protocol: str = "HTTP/1.1"
    ip_address: str | None = None
    hints: Mapping[str, Any] | None = None


def _warc_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class WarcArchive:
    """The rotating WARC files of one crawl: ``<prefix>-<UTC timestamp>-<n>.warc.gz``.

    Files are opened on the first write and created exclusively (an existing file is
    never appended to: a crawl after a crash starts a new file).
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        prefix: str,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        started: datetime | None = None,
        info: Mapping[str, str] | None = None,
    ) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.folder = Path(folder)
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.started = (started or datetime.now(UTC)).astimezone(UTC)
        self.info = dict(info or {})
        self.files: list[Path] = []
        self.records = 0
        self._stamp: str | None = None
        self._fh: IO[bytes] | None = None
        self._writer: WARCWriter | None = None

    @property
    def crawl_id(self) -> str:
        """``<prefix>-<timestamp>``: the name every file of this crawl starts with."""
        return f"{self.prefix}-{self._crawl_stamp()}"

    def _crawl_stamp(self) -> str:
        if self._stamp is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = self.started.replace(microsecond=0)
            # two crawls of one site started within the same second: the later one moves on
            while any(self.folder.glob(f"{self.prefix}-{stamp:%Y%m%dT%H%M%SZ}-*.warc.gz")):
                stamp += timedelta(seconds=1)
            self._stamp = f"{stamp:%Y%m%dT%H%M%SZ}"
        return self._stamp

    def _open(self) -> WARCWriter:
        if self._writer is not None:
            return self._writer
        crawl = self.crawl_id
        n = len(self.files) + 1
        while True:
            path = self.folder / f"{crawl}-{n:05d}.warc.gz"
            try:
                fh = open(path, "xb")  # noqa: SIM115 - kept open across writes, closed in close()
            except FileExistsError:
                n += 1
                continue
            break
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        info = {
            "software": _SOFTWARE,
            "format": "WARC File Format 1.1",
            "conformsTo": _WARC_1_1,
            "isPartOf": crawl,
            **self.info,
        }
        writer.write_record(writer.create_warcinfo_record(path.name, info))
        self._fh, self._writer = fh, writer
        self.files.append(path)
        return writer

    def write(self, exchange: Exchange, date: datetime | None = None) -> WarcRef:
        """Append the exchange as a response record and its request record."""
        writer = self._open()
        assert self._fh is not None
        date = (date or datetime.now(UTC)).astimezone(UTC)
        path = self.files[-1]
        warc_headers = {"WARC-Date": _warc_date(date)}
        if exchange.ip_address:
            warc_headers["WARC-IP-Address"] = exchange.ip_address
        if exchange.hints:
            warc_headers[HINTS_HEADER] = json.dumps(
                dict(exchange.hints), ensure_ascii=True, sort_keys=True
            )
        try:
            reason = HTTPStatus(exchange.status).phrase
        except ValueError:
            reason = "Unknown"
        response = writer.create_warc_record(
            exchange.url,
            "response",
            payload=io.BytesIO(exchange.body),
            length=len(exchange.body),
            warc_headers_dict=warc_headers,
            http_headers=StatusAndHeaders(
                f"{exchange.status} {reason}",
                [h for h in exchange.response_headers if h[0].lower() not in _TRANSFER_HEADERS],
                protocol=exchange.protocol,
            ),
        )
        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = list(exchange.request_headers)
        if not any(name.lower() == "host" for name, _ in headers):
            headers.insert(0, ("Host", parts.netloc))
        request = writer.create_warc_record(
            exchange.url,
            "request",
            payload=io.BytesIO(exchange.request_body),
            length=len(exchange.request_body),
            http_headers=StatusAndHeaders(
                f"{exchange.method} {target} {exchange.protocol}", headers, is_http_request=True
            ),
        )
        try:
            writer.write_request_response_pair(request, response)
        except BaseException:
            # the file may end inside a record: readers stop there; never append to it
            self._close_file()
            raise
        self.records += 2
        if self._fh.tell() >= self.max_bytes:
            self._close_file()
        return WarcRef(path.name, str(response.rec_headers.get_header("WARC-Record-ID")), date)

    def _close_file(self) -> None:
        fh, self._fh, self._writer = self._fh, None, None
        if fh is not None:
            try:
                fh.close()
            except OSError as exc:
                logger.error("closing %s failed: %s", self.files[-1], exc)

    def close(self) -> None:
        """Close the current file (the next write would start a new one)."""
        self._close_file()


def _headers_of(headers: Any) -> list[tuple[str, str]]:
    """Scrapy's bytes headers as (name, value) strings (latin-1, as sent)."""
    out: list[tuple[str, str]] = []
    for name, values in headers.items():
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        for value in values:
            out.append((key, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return out


def _hints_of(request: Request) -> dict[str, Any] | None:
    hints = request.cb_kwargs.get("hints")
    if hints is None or not is_dataclass(hints) or isinstance(hints, type):
        return None
    return {k: v for k, v in asdict(hints).items() if v is not None}


class WarcMiddleware:
    """Downloader middleware: archive every response with its request (see above).

    Placed next to the downloader (priority 950), so that it records the headers
    actually sent and the body as received (before decompression); responses served
    from Scrapy's HTTP cache are not archived again.
    """

    def __init__(self, crawler: Crawler, folder: Path, max_bytes: int) -> None:
        self.crawler = crawler
        self.folder = folder
        self.max_bytes = max_bytes
        self.archive: WarcArchive | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcMiddleware:
        folder = crawler.settings.get("AGGREGATOR_WARC_DIR")
        if not folder:
            raise NotConfigured  # WARC off: no message, Scrapy would log it as a warning
        max_bytes = crawler.settings.getint("AGGREGATOR_WARC_MAX_BYTES", DEFAULT_MAX_BYTES)
        if max_bytes < 1:
            raise ValueError(f"AGGREGATOR_WARC_MAX_BYTES must be positive, got {max_bytes}")
        return cls(crawler, Path(folder), max_bytes)

    def _archive(self) -> WarcArchive:
        if self.archive is None:
            spider = self.crawler.spider
            prefix = str(getattr(spider, "site_id", None) or getattr(spider, "name", "crawl"))
            user_agent = self.crawler.settings.get("USER_AGENT") or ""
            self.archive = WarcArchive(
                self.folder,
                prefix,
                max_bytes=self.max_bytes,
                info={"robots": "obey", "http-header-user-agent": user_agent},
            )
        return self.archive

    def _count(self, key: str, n: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"aggregator/warc/{key}", n)

    def process_response(self, request: Request, response: Response) -> Response:
        if "cached" in response.flags:
            return response
        exchange = Exchange(
            url=response.url,
            method=request.method,
            request_headers=_headers_of(request.headers),
            request_body=request.body,
            status=response.status,
            response_headers=_headers_of(response.headers),
            body=response.body,
            protocol=response.protocol or "HTTP/1.1",
            ip_address=str(response.ip_address) if response.ip_address else None,
            hints=_hints_of(request),
        )
        archive = self._archive()
        files = len(archive.files)
        try:
            ref = archive.write(exchange)
        except OSError as exc:
            # a full disk must not stop the crawl; the next record starts a new file
            logger.error("WARC capture failed for %s: %s", response.url, exc)
            self._count("errors")
            return response
        self._count("records", 2)
        self._count("files", len(archive.files) - files)
        request.meta["warc"] = ref.as_meta()
        request.meta["warc_date"] = ref.date
        return response

    def spider_closed(self) -> None:
        if self.archive is not None:
            self.archive.close()


# -- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchivedResponse:
    """A response record read back, with its HTTP body decoded (chunking, compression)."""

    file: str
    offset: int
    record_id: str
    url: str
    date: datetime
    status: int
    #: HTTP headers (latin-1 strings), without Content-Encoding / Transfer-Encoding
    headers: list[tuple[str, str]]
    body: bytes
    #: the crawl the file belongs to (warcinfo ``isPartOf``, else the file name)
    crawl: str
    #: the site the crawl was of, when the file says so (our file names)
    site: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)
    #: the body is (or inflates to) more than the reader's bound: not read (``body`` empty)
    too_large: bool = False

    def header(self, name: str) -> str | None:
        """The first value of an HTTP header (case-insensitive)."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


Warn = Callable[[str], None]


def _default_warn(message: str) -> None:
    logger.warning("%s", message)


@dataclass(frozen=True)
class _Record:
    offset: int
    #: the WARC header fields by lower-cased name (the first of a repeated one)
    fields: dict[str, str]
    block: bytes


class _Truncated(Exception):
    pass


#: bytes read from the file at a time, and inflated at a time
_CHUNK = 1 << 20
#: compressed bytes handed to zlib at a time: at the end of each member it copies what it
#: was given beyond it (its ``unused_data``), so not the whole chunk read
_WINDOW = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"
_WARC_PARSER = StatusAndHeadersParser(["WARC/1.1", "WARC/1.0", "WARC/0.18", "WARC/0.17"])
_HTTP = StatusAndHeadersParser(
    ["HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/2.0", "HTTP/3"], verify=False
)
_WARC_VERSIONS = ("WARC/1.1\r\n", "WARC/1.0\r\n")
_HTTP_STATUS = re.compile(r"HTTP/[^ ]* ([0-9]{3})(?: .*)?")
_CODINGS = ("content-encoding", "transfer-encoding")


def _gzip_members(fh: IO[bytes], limit: int = 0) -> Iterator[tuple[int, bytes | None]]:
    """(offset, decompressed data) of each gzip member; raises _Truncated on a cut one.
    A member that inflates beyond ``limit`` bytes (0: no bound) gives None: it is
    inflated in pieces and thrown away, never held whole."""
    buf, base, pos = b"", 0, 0  # the file from offset ``base``; the next input at ``pos``
    view = memoryview(buf)
    while True:
        if pos >= len(buf):
            base, buf, pos = base + len(buf), fh.read(_CHUNK), 0
            if not buf:
                return
            view = memoryview(buf)
        start = base + pos
        decompressor = zlib.decompressobj(wbits=31)  # gzip only
        out: list[bytes] = []
        size = 0
        data: bytes | memoryview = view[pos : pos + _WINDOW]
        pos += len(data)
        while True:
            piece = decompressor.decompress(data, _CHUNK)
            size += len(piece)
            if not limit or size <= limit:
                out.append(piece)
            if decompressor.eof:
                pos -= len(decompressor.unused_data)
                break
            if decompressor.unconsumed_tail:
                data = decompressor.unconsumed_tail
            elif piece:
                data = b""  # the output stopped at _CHUNK: more may come without input
            else:
                if pos >= len(buf):
                    base, buf, pos = base + len(buf), fh.read(_CHUNK), 0
                    if not buf:
                        raise _Truncated(f"the gzip member at offset {start} is cut short")
                    view = memoryview(buf)
                data = view[pos : pos + _WINDOW]
                pos += len(data)
        yield start, (b"".join(out) if not limit or size <= limit else None)


def _plain_fields(text: str) -> list[tuple[str, str]] | None:
    """The (name, value) fields of header lines as we (and most writers) write them, one
    "Name: value" a line, lines separated by CRLF, read as warcio's parser reads them;
    None when they are not that plain (a folded line, a CR or LF alone, a blank line)."""
    crlf = text.count("\r\n")
    if text.count("\r") != crlf or text.count("\n") != crlf:
        return None
    if "\n " in text or "\n\t" in text or text.startswith((" ", "\t")):
        return None
    fields = []
    for line in text.split("\r\n") if text else ():
        name, colon, value = line.partition(":")
        if colon:
            fields.append((name.rstrip(" \t"), value.strip()))
        elif not line.strip():
            return None  # the end of the headers for warcio
    return fields


def _header_fields(head: bytes) -> dict[str, str]:
    """The fields of a record's header block (its version line to the blank line) by
    lower-cased name, the first of a repeated one. The plain form is read here, any other
    by warcio's parser."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    fields = _plain_fields(text[10:-4]) if text.startswith(_WARC_VERSIONS) else None
    if fields is None:
        fields = _WARC_PARSER.parse(io.BytesIO(head)).headers
    return {name.lower(): value for name, value in reversed(fields)}


def _parse_records(data: bytes, member_offset: int | None) -> Iterator[_Record]:
    """The records in ``data``: a gzip member at ``member_offset``, or (None) a whole
    uncompressed file."""
    pos = 0
    while True:
        while pos < len(data) and data[pos] in b"\r\n":
            pos += 1  # the blank lines that end the previous record
        if pos >= len(data):
            return
        offset = pos if member_offset is None else member_offset
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            raise _Truncated(f"record at offset {offset}: its WARC headers are cut short")
        fields = _header_fields(data[pos : end + 4])
        length_text = fields.get("content-length")
        if length_text is None or not length_text.strip().isdigit():
            raise _Truncated(f"record at offset {offset}: bad Content-Length {length_text!r}")
        length = int(length_text)
        block = data[end + 4 : end + 4 + length]
        if len(block) != length:
            raise _Truncated(
                f"record at offset {offset} has {len(block)} of {length} bytes of its block"
            )
        yield _Record(offset, fields, block)
        pos = end + 4 + length


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


#: what a record that does not parse raises
_BAD_RECORD = (_Truncated, StatusAndHeadersParserException, EOFError, ValueError)


def _records(path: Path, warn: Warn, limit: int = 0) -> Iterator[_Record]:
    """Whole records of a WARC file (gzip per record, or uncompressed), each checked
    against its Content-Length. A gzip member whose record does not parse is skipped with
    a warning (the next member starts a record of its own); a truncated or corrupt tail
    ends the file with a warning. A record that inflates beyond ``limit`` bytes (0: no
    bound) is skipped with a warning."""
    count = 0
    with open(path, "rb") as fh:
        try:
            if fh.read(2) == _GZIP_MAGIC:
                fh.seek(0)
                for offset, data in _gzip_members(fh, limit):
                    if data is None:
                        warn(f"{path}: record at offset {offset} inflates beyond {limit} bytes")
                        continue
                    try:
                        for record in _parse_records(data, offset):
                            count += 1
                            yield record
                    except _BAD_RECORD as exc:
                        warn(f"{path}: record at offset {offset} skipped: {_reason(exc)}")
            else:
                fh.seek(0)
                # uncompressed (not what we write): read whole
                for record in _parse_records(fh.read(), None):
                    count += 1
                    yield record
        except (*_BAD_RECORD, zlib.error) as exc:
            warn(
                f"{path}: truncated or corrupt after {count} whole records: {_reason(exc)}; "
                "the rest of the file is ignored"
            )


def _http_of(block: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """The status, headers and body (as recorded) of an HTTP response block. The plain
    form is read here, any other by warcio's parser."""
    end = block.find(b"\r\n\r\n")
    if end >= 0:
        try:
            text = block[:end].decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        line, _, rest = text.partition("\r\n")
        status = _HTTP_STATUS.fullmatch(line)
        fields = _plain_fields(rest) if status else None
        if status and fields is not None:
            return int(status[1]), fields, block[end + 4 :]
    stream = io.BytesIO(block)
    http = _HTTP.parse(stream)
    return int(http.get_statuscode() or 0), http.headers, stream.read()


def _first(fields: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of a field (``name`` in lower case)."""
    return next((v for k, v in fields if k.lower() == name), None)


def _decode_body(
    raw: bytes, encoding: str | None, transfer: str | None, limit: int = 0
) -> bytes | None:
    """The HTTP body without its transfer and content codings (the values of its
    Transfer-Encoding and Content-Encoding headers); None when it is (or inflates to) more
    than ``limit`` bytes (0: no bound), read no further than that."""
    encoding = (encoding or "").strip().lower() or None
    if encoding not in (None, *DecompressingBufferedReader.get_supported_decompressors()):
        encoding = None  # unknown coding: keep the bytes as they are
    stream: Any
    # 1 KiB of compressed input at a time: a bomb inflates ~1,000 times, so one step holds
    # ~1 MiB, not the 16 MiB of warcio's default block
    if (transfer or "").lower() == "chunked":
        stream = ChunkedDataReader(io.BytesIO(raw), decomp_type=encoding, block_size=1024)
    elif encoding:
        stream = DecompressingBufferedReader(io.BytesIO(raw), decomp_type=encoding, block_size=1024)
    else:
        return None if limit and len(raw) > limit else raw
    body = bytes(stream.read(limit + 1) if limit else stream.read())
    return None if limit and len(body) > limit else body


def _crawl_of(name: str, info: Mapping[str, str]) -> tuple[str, str | None]:
    m = _NAME.match(name)
    crawl = info.get("isPartOf") or (m.group("crawl") if m else name)
    site = m.group("site") if m else None
    return crawl, site


def _warc_fields(block: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            out.setdefault(name.strip(), value.strip())
    return out


#: what a record may hold beyond its HTTP body (WARC and HTTP headers)
_RECORD_HEADROOM = 1 << 20


def read_warc(
    path: str | os.PathLike[str], *, warn: Warn | None = None, max_body: int = 0
) -> Iterator[ArchivedResponse]:
    """The response records of a WARC file, in file order (whole records only).

    ``max_body`` (0: no bound) bounds what is inflated, as the crawl's DOWNLOAD_MAXSIZE
    bounds what it reads: a response whose body is or inflates to more (a gzip bomb the
    crawl rejected, yet archived as received) comes ``too_large`` with no body, and a
    record whose own compression inflates beyond it is skipped with a warning."""
    path = Path(path)
    warn = warn or _default_warn
    info: dict[str, str] = {}
    crawl, site = _crawl_of(path.name, info)
    limit = max_body + _RECORD_HEADROOM if max_body else 0
    for rec in _records(path, warn, limit):
        kind = rec.fields.get("warc-type")
        if kind == "warcinfo":
            if not info:
                info = _warc_fields(rec.block)
                crawl, site = _crawl_of(path.name, info)
            continue
        if kind != "response":
            continue
        try:
            status, http_headers, raw = _http_of(rec.block)
        except (StatusAndHeadersParserException, ValueError, EOFError) as exc:
            warn(f"{path}: record at offset {rec.offset} is not an HTTP response ({exc}); skipped")
            continue
        body = _decode_body(
            raw,
            _first(http_headers, "content-encoding"),
            _first(http_headers, "transfer-encoding"),
            max_body,
        )
        headers = [(k, v) for k, v in http_headers if k.lower() not in _CODINGS]
        raw_hints = rec.fields.get(_HINTS_FIELD)
        try:
            hints = json.loads(raw_hints) if raw_hints else {}
        except json.JSONDecodeError:
            hints = {}
        date_text = rec.fields.get("warc-date") or ""
        try:
            date = datetime.fromisoformat(date_text).astimezone(UTC)
        except ValueError:
            warn(f"{path}: record at offset {rec.offset} has a bad WARC-Date {date_text!r}")
            continue
        yield ArchivedResponse(
            file=path.name,
            offset=rec.offset,
            record_id=rec.fields.get("warc-record-id") or "",
            url=rec.fields.get("warc-target-uri") or "",
            date=date,
            status=status,
            headers=headers,
            body=body or b"",
            crawl=crawl,
            site=site,
            hints=hints if isinstance(hints, dict) else {},
            too_large=body is None,
        )


def warc_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files named on the command line; a folder stands for its ``*.warc.gz`` / ``*.warc``."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted([*p.glob("*.warc.gz"), *p.glob("*.warc")]))
        else:
            out.append(p)
    return list(dict.fromkeys(out))
