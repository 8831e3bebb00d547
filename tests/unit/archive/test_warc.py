"""WARC capture: the writer, the downloader middleware, reading back (a real crawl:
tests/integration/archive/)."""

from __future__ import annotations

import gzip
import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy import Spider
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from aggregator.archive import warc
from aggregator.archive.warc import (
    _HTTP,
    _WARC_PARSER,
    HINTS_HEADER,
    Exchange,
    WarcArchive,
    WarcMiddleware,
    _header_fields,
    _http_of,
    read_warc,
    warc_files,
)
from aggregator.extract.article import Hints
from tests.support.warccheck import NAME, raw_records, warcio_check

PAGE = "<html><head><title>Tin</title></head><body><p>Xin chào Đắk Lắk</p></body></html>"


def exchange(n: int, **kw: object) -> Exchange:
    fields: dict[str, object] = {
        "url": f"http://bao.example.vn/kinh-te/bai-{n}-a{n}.html?x=1",
        "method": "GET",
        "request_headers": [("User-Agent", "aggregator/0.1"), ("Accept", "text/html")],
        "request_body": b"",
        "status": 200,
        "response_headers": [("Content-Type", "text/html; charset=utf-8")],
        "body": PAGE.encode("utf-8") * (n + 1),
        "hints": {"section": "Kinh tế", "listing_date": "09:04, 28/04/2014"},
    }
    fields.update(kw)
    return Exchange(**fields)  # type: ignore[arg-type]


# -- the writer ---------------------------------------------------------------------------


def test_archive_writes_request_and_response_records_that_read_back(tmp_path: Path) -> None:
    started = datetime(2026, 11, 27, 1, 2, 3, tzinfo=UTC)
    archive = WarcArchive(tmp_path, "baden", started=started)
    when = datetime(2026, 11, 27, 1, 2, 4, 123456, tzinfo=UTC)
    ref = archive.write(exchange(1), date=when)
    archive.write(exchange(2, status=404, hints=None))
    archive.close()
    assert [p.name for p in archive.files] == ["baden-20261127T010203Z-00001.warc.gz"]
    assert ref.file == archive.files[0].name and ref.record_id.startswith("<urn:uuid:")
    records = list(raw_records(archive.files[0]))
    assert [r.headers["WARC-Type"] for r in records] == [
        "warcinfo", "response", "request", "response", "request",
    ]  # fmt: skip
    assert all(r.block_length == r.content_length for r in records)
    info = records[0].block.decode()
    assert "isPartOf: baden-20261127T010203Z" in info and "WARC File Format 1.1" in info
    response, request = records[1], records[2]
    assert response.headers["WARC-Record-ID"] == ref.record_id
    assert request.headers["WARC-Concurrent-To"] == ref.record_id
    assert response.headers["WARC-Date"] == "2026-11-27T01:02:04.123456Z"
    assert json.loads(response.headers[HINTS_HEADER])["section"] == "Kinh tế"
    assert response.headers[HINTS_HEADER].isascii()
    assert request.block.startswith(b"GET /kinh-te/bai-1-a1.html?x=1 HTTP/1.1\r\n")
    assert b"Host: bao.example.vn\r\n" in request.block
    assert warcio_check(*archive.files).returncode == 0

    back = list(read_warc(archive.files[0]))
    assert [(r.status, r.url) for r in back] == [(200, exchange(1).url), (404, exchange(2).url)]
    assert back[0].date == when and back[0].record_id == ref.record_id
    assert back[0].body == exchange(1).body
    assert back[0].hints == {"section": "Kinh tế", "listing_date": "09:04, 28/04/2014"}
    assert back[0].header("content-type") == "text/html; charset=utf-8"
    assert (back[0].crawl, back[0].site) == ("baden-20261127T010203Z", "baden")
    assert back[1].hints == {}


def test_files_rotate_at_the_size_limit_and_each_crawl_gets_new_files(tmp_path: Path) -> None:
    started = datetime(2026, 11, 27, 1, 2, 3, tzinfo=UTC)
    archive = WarcArchive(tmp_path, "tamdao", max_bytes=2000, started=started)
    refs = [archive.write(exchange(n)) for n in range(6)]
    archive.close()
    assert len(archive.files) >= 3
    assert [p.name for p in archive.files] == [
        f"tamdao-20261127T010203Z-{n:05d}.warc.gz" for n in range(1, len(archive.files) + 1)
    ]
    # every file but the last is closed once past the limit; each starts with a warcinfo
    for path in archive.files:
        assert NAME.match(path.name)
        assert next(raw_records(path)).headers["WARC-Type"] == "warcinfo"
    assert {r.file for r in refs} == {p.name for p in archive.files}
    assert warcio_check(*archive.files).returncode == 0
    # a second crawl started in the same second never appends to the first one's files
    again = WarcArchive(tmp_path, "tamdao", started=started)
    again.write(exchange(9))
    again.close()
    assert again.files[0].name == "tamdao-20261127T010204Z-00001.warc.gz"
    assert len(list(tmp_path.iterdir())) == len(archive.files) + 1


def test_truncated_warc_reads_up_to_the_last_whole_record_with_a_warning(
    tmp_path: Path,
) -> None:
    archive = WarcArchive(tmp_path, "songcau")
    for n in range(4):
        archive.write(exchange(n))
    archive.close()
    path = archive.files[0]
    records = list(raw_records(path))
    responses = [r for r in records if r.headers["WARC-Type"] == "response"]
    data = path.read_bytes()
    # cut inside the third response record (a crash while writing it)
    cut_at = responses[2].offset + 40
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[:cut_at])
    warnings: list[str] = []
    got = list(read_warc(cut, warn=warnings.append))
    assert [r.offset for r in got] == [responses[0].offset, responses[1].offset]
    assert len(warnings) == 1 and "truncated" in warnings[0] and str(cut) in warnings[0]
    # warcio check does not notice some cuts: the lengths must be checked by the reader
    for cut_at in (len(data) - 1, responses[3].offset + 5, 10):
        cut.write_bytes(data[:cut_at])
        warnings.clear()
        got = list(read_warc(cut, warn=warnings.append))
        assert len(warnings) == 1, cut_at
        assert all(r.body == exchange(i).body for i, r in enumerate(got))
    # an uncompressed WARC cut inside a block is read up to it as well
    plain = tmp_path / "plain.warc"
    plain.write_bytes(gzip.decompress(data)[:-200])
    warnings.clear()
    assert len(list(read_warc(plain, warn=warnings.append))) == 4
    assert len(warnings) == 1


def test_warc_files_expand_folders(tmp_path: Path) -> None:
    archive = WarcArchive(tmp_path / "w", "baden", max_bytes=1500)
    for n in range(3):
        archive.write(exchange(n))
    archive.close()
    assert warc_files([tmp_path / "w"]) == archive.files
    assert warc_files([archive.files[1], archive.files[1]]) == [archive.files[1]]


# -- the downloader middleware ------------------------------------------------------------


class _Spider(Spider):
    name = "news"
    site_id = "baden"


def test_middleware_archives_responses_and_tells_the_spider(tmp_path: Path) -> None:
    crawler = get_crawler(_Spider, {"AGGREGATOR_WARC_DIR": str(tmp_path)})
    crawler.spider = _Spider()
    mw = WarcMiddleware.from_crawler(crawler)
    url = "http://bao.example.vn/kinh-te/bai-a1.html"
    hints = Hints(section="kinh-te", listing_date="28/04/2014")
    request = Request(url, cb_kwargs={"hints": hints}, headers={"User-Agent": "ua"})
    response = HtmlResponse(
        url, body=PAGE.encode(), headers={"Content-Type": "text/html; charset=utf-8"}
    )
    before = datetime.now(UTC)
    assert mw.process_response(request, response) is response
    cached = HtmlResponse(url, body=b"<html></html>", flags=["cached"])
    assert mw.process_response(Request(url), cached) is cached  # not archived again
    mw.spider_closed()
    ref = request.meta["warc"]
    assert set(ref) == {"file", "record_id"} and NAME.match(ref["file"])
    assert ref["file"].startswith("baden-")
    fetched = request.meta["warc_date"]
    assert before <= fetched <= datetime.now(UTC) + timedelta(seconds=1)
    [back] = read_warc(tmp_path / ref["file"])
    assert back.record_id == ref["record_id"] and back.date == fetched
    assert back.hints == {"section": "kinh-te", "listing_date": "28/04/2014"}
    assert back.body == PAGE.encode()


def test_middleware_is_off_without_a_folder() -> None:
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        WarcMiddleware.from_crawler(get_crawler(_Spider, {"AGGREGATOR_WARC_DIR": ""}))


def test_reading_is_bounded_by_max_body(tmp_path: Path) -> None:
    """A body over ``max_body`` (as received, or once inflated) comes ``too_large`` and
    empty; a record whose own gzip member inflates beyond the bound is skipped with a
    warning, the records after it still read."""
    archive = WarcArchive(tmp_path, "baden")
    bomb = gzip.compress(b"<p>" + b" " * (8 << 20), mtime=0)
    archive.write(exchange(1, body=bomb, response_headers=[("Content-Encoding", "gzip")]))
    archive.write(exchange(2, body=b"x" * (3 << 19)))  # 1.5 MiB as received
    archive.close()
    path = archive.files[0]
    # a crafted record: 8 MiB of block in one gzip member, then a whole file's records
    big = b"WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: %d\r\n\r\n" % (8 << 20)
    crafted = tmp_path / "crafted.warc.gz"
    crafted.write_bytes(gzip.compress(big + b" " * (8 << 20) + b"\r\n\r\n") + path.read_bytes())
    warnings: list[str] = []
    got = list(read_warc(crafted, warn=warnings.append, max_body=1 << 20))
    assert [(r.too_large, r.body) for r in got] == [(True, b""), (True, b"")]
    assert len(warnings) == 1 and "inflates beyond" in warnings[0]
    whole = list(read_warc(path, max_body=0))  # no bound
    assert len(whole[0].body) == 3 + (8 << 20) and not whole[0].too_large


# -- the reader: plain records read here, any other form as warcio reads it ----------------


def _member(head: str | bytes, block: bytes) -> bytes:
    """One record in a gzip member of its own, its Content-Length the block's."""
    raw = head.encode("utf-8") if isinstance(head, str) else head
    length = b"Content-Length: %d\r\n\r\n" % len(block)
    return gzip.compress(raw + length + block + b"\r\n\r\n", mtime=0)


def _response(n: int, http_head: bytes, body: bytes, *, version: str = "WARC/1.1") -> bytes:
    head = (
        f"{version}\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{n}>\r\n"
        f"WARC-Target-URI: http://bao.example.vn/bai-a{n}.html\r\n"
        f"WARC-Date: 2026-11-27T01:02:0{n}Z\r\n"
    )
    return _member(head, http_head + body)


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)


def _warcio_responses(path: Path) -> list[tuple[object, ...]]:
    """The response records as warcio's own iterator reads them."""
    out: list[tuple[object, ...]] = []
    with path.open("rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type != "response":
                continue
            http = rec.http_headers
            headers = [(k, v) for k, v in http.headers
                       if k.lower() not in ("content-encoding", "transfer-encoding")]  # fmt: skip
            out.append((rec.rec_headers.get_header("WARC-Target-URI"),
                        int(http.get_statuscode()), headers, rec.content_stream().read()))  # fmt: skip
    return out


def test_other_writers_records_read_as_warcio_reads_them(tmp_path: Path) -> None:
    """Forms we do not write (WARC/1.0, folded and colon-less lines, LF line ends, Latin-1
    bytes, chunked gzip bodies) go to warcio's parser: the same as warcio's iterator."""
    gz = gzip.compress(PAGE.encode(), mtime=0)
    records = [
        _response(1, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", b"<p>1</p>",
                  version="WARC/1.0"),
        _response(2, b"HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\nX-Dup: 1\r\nx-dup: 2\r\n"
                     b"no colon here\r\nX-Pad: \t v \xc2\xa0\r\n\r\n", b"<p>2</p>"),
        _response(3, b"HTTP/1.1 200 OK\r\nX-Name: Ph\xfa Th\xe1i\r\n\r\n", b"<p>3</p>"),
        _response(4, b"HTTP/1.0 200 OK\nContent-Type: text/html\n\n", b"<p>4</p>"),
        _response(5, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                     b"Content-Encoding: gzip\r\n\r\n", _chunked(gz)),
        _response(6, b"HTTP/1.1 404\r\n\r\n", b""),
        _member("WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: http://bao.example.vn/\r\n"
                "X-Folded: a\r\n b\r\nWARC-Date: 2026-11-27T01:02:07Z\r\n",
                b"HTTP/1.1 200 OK\r\n\r\n<p>7</p>"),
    ]  # fmt: skip
    path = tmp_path / "other.warc.gz"
    path.write_bytes(b"".join(records))
    warnings: list[str] = []
    got = [(r.url, r.status, r.headers, r.body) for r in read_warc(path, warn=warnings.append)]
    assert not warnings
    assert got == _warcio_responses(path)
    assert got[4][3] == PAGE.encode() and got[1][2][0] == ("X-Long", "a  b")


@pytest.mark.parametrize(
    "head",
    [
        "WARC/1.1\r\nWARC-Type: response\r\nwarc-type: request\r\nContent-Length: 3\r\n\r\n",
        "WARC/1.1\r\nA :  x \t\r\nB:\r\nC: é\xa0\r\nContent-Length: 3\r\n\r\n",
        "WARC/1.1\r\nA: x\r\n  folded\r\nContent-Length: 3\r\n\r\n",
        "WARC/1.1\r\nA: x\r\n\x0c\r\nContent-Length: 3\r\n\r\n",  # a blank line ends them
        "WARC/1.1\r\nno colon\r\nA: x\rB: y\r\nContent-Length: 3\r\n\r\n",
        "WARC/1.1\r\nA: x\nB: y\r\nContent-Length: 3\r\n\r\n",
        "WARC/0.18\r\nA: x\r\nContent-Length: 3\r\n\r\n",
        "warc/1.0\r\nA: x\r\nContent-Length: 3\r\n\r\n",
        "WARC/1.1\r\n\r\n",
    ],
)
def test_warc_headers_read_as_warcios_parser_reads_them(head: str) -> None:
    raw = head.encode("utf-8")
    expected = _WARC_PARSER.parse(io.BytesIO(raw)).headers
    assert _header_fields(raw) == {k.lower(): v for k, v in reversed(expected)}


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nA: x\r\nA: y\r\n",
        b"HTTP/2 404\r\n",
        b"HTTP/1.1 200 \r\nA:x\r\n",
        b"HTTP/1.1  200 OK\r\n",
        b"HTTP/1.1 200OK\r\n",
        b"HTTP/1.1 20x OK\r\n",
        b"HTTP/1.1\t200 301 x\r\n",
        b"HTTP/1.1 200 OK\r\nA: x\r\n\tfolded\r\n",
        b"HTTP/1.1 200 OK\r\nA: caf\xe9\r\n",
        b"HTTP/1.1 200 OK\r\n \r\nA: after a blank line\r\n",
        b"HTTP/1.1 200 OK\nA: x\n",
        b"\r\n",
        b"",
    ],
)
def test_http_heads_read_as_warcios_parser_reads_them(head: bytes) -> None:
    block = head + b"\r\n<p>body\r\n\r\n</p>"
    stream = io.BytesIO(block)
    try:
        http = _HTTP.parse(stream)
        expected: object = (int(http.get_statuscode() or 0), http.headers, stream.read())
    except (ValueError, EOFError) as exc:
        expected = type(exc)
    try:
        got: object = _http_of(block)
    except (ValueError, EOFError) as exc:
        got = type(exc)
    assert got == expected


def test_our_own_records_never_need_warcios_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = WarcArchive(tmp_path, "baden")
    for n in range(3):
        archive.write(exchange(n, response_headers=[("Content-Type", "text/html"), ("X", "1")]))
    archive.close()

    def refuse(*_: object) -> None:
        raise AssertionError("warcio's parser was asked")

    monkeypatch.setattr(_WARC_PARSER, "parse", refuse)
    monkeypatch.setattr(_HTTP, "parse", refuse)
    got = list(read_warc(archive.files[0]))
    assert [r.body for r in got] == [exchange(n).body for n in range(3)]
    assert got[0].headers == [("Content-Type", "text/html"), ("X", "1")]


def test_members_across_read_and_window_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inflating reads the file and feeds zlib in pieces: any piece sizes read the same."""
    archive = WarcArchive(tmp_path, "baden")
    bodies = [PAGE.encode() * n for n in range(1, 40)]
    bodies.append(random.Random(8).randbytes(300_000))  # does not compress: many pieces
    for n, body in enumerate(bodies):
        archive.write(exchange(n, body=body))
    archive.close()
    path = archive.files[0]
    offsets = [r.offset for r in raw_records(path) if r.headers["WARC-Type"] == "response"]
    whole = [(r.offset, r.body) for r in read_warc(path)]
    assert whole == list(zip(offsets, bodies, strict=True))
    for chunk, window in ((997, 101), (4096, 1 << 16), (1 << 16, 7)):
        monkeypatch.setattr(warc, "_CHUNK", chunk)
        monkeypatch.setattr(warc, "_WINDOW", window)
        assert [(r.offset, r.body) for r in read_warc(path)] == whole, (chunk, window)


def test_bad_records_give_a_line_each_and_lose_nothing_else(tmp_path: Path) -> None:
    """A gzip member whose record does not parse is skipped, one line naming the file and
    the record's offset; the members after it are read; a cut member ends the file."""
    good = [_response(n, b"HTTP/1.1 200 OK\r\n\r\n", b"<p>%d</p>" % n) for n in (1, 2)]
    bad = [
        gzip.compress(b"hello, not a WARC record\r\n\r\n", mtime=0),  # no headers
        gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n\r\nabc\r\n\r\n", mtime=0),
        gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\nContent-Length: 99\r\n\r\nab"),
        gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n", mtime=0),  # no blank line
        _member("WARC/1.1\r\nWARC-Type: response\r\nWARC-Date: 2026-11-27T01:02:03Z\r\n", b""),
        _member("WARC/1.1\r\nWARC-Type: response\r\nWARC-Date: mai\r\n",
                b"HTTP/1.1 200 OK\r\n\r\n<p>x</p>"),
    ]  # fmt: skip
    cut = _response(4, b"HTTP/1.1 200 OK\r\n\r\n", b"<p>4</p>")
    path = tmp_path / "bad.warc.gz"
    members = [good[0], *bad, good[1]]
    path.write_bytes(b"".join(members) + cut[:-12])
    warnings: list[str] = []
    got = list(read_warc(path, warn=warnings.append))
    assert [r.body for r in got] == [b"<p>1</p>", b"<p>2</p>"]
    assert len(warnings) == len(bad) + 1
    assert all(w.startswith(f"{path}: ") and "\n" not in w for w in warnings)
    offsets = [sum(map(len, members[:i])) for i in range(1, len(bad) + 1)]
    for offset, warning in zip(offsets, warnings, strict=False):
        assert f"record at offset {offset} " in warning
        assert "skipped" in warning or "bad WARC-Date" in warning
    assert "cut short" in warnings[-1] and "the rest of the file is ignored" in warnings[-1]
