"""WARC capture: the writer, the downloader middleware, reading back (a real crawl:
tests/integration/archive/)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy import Spider
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from aggregator.archive.warc import (
    HINTS_HEADER,
    Exchange,
    WarcArchive,
    WarcMiddleware,
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
