"""WARC files read without the code under test: each gzip member with zlib alone, and
``warcio check`` (the digest checker of ``warcio``) run in-process."""

from __future__ import annotations

import contextlib
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from warcio.checker import Checker

__all__ = ["NAME", "RawRecord", "WarcCheck", "raw_records", "warcio_check"]

#: the name of a file the archive writes: ``<site>-<crawl start>-<serial>.warc.gz``
NAME = re.compile(r"^[a-z0-9-]+-\d{8}T\d{6}Z-\d{5}\.warc\.gz$")


@dataclass
class RawRecord:
    """A record read with zlib alone (no warcio): what a test can trust."""

    offset: int
    headers: dict[str, str]
    block_length: int
    content_length: int
    block: bytes


def raw_records(path: Path) -> Iterator[RawRecord]:
    """Every gzip member of the file, each holding one WARC record; the block length is
    what is between the header block and the closing CRLF CRLF."""
    data = path.read_bytes()
    offset = 0
    while offset < len(data):
        d = zlib.decompressobj(wbits=31)
        member = d.decompress(data[offset:])
        assert d.eof, f"{path}: gzip member at {offset} is cut short"
        head, sep, rest = member.partition(b"\r\n\r\n")
        assert sep and rest.endswith(b"\r\n\r\n"), f"{path}: bad record at {offset}"
        lines = head.decode("utf-8").split("\r\n")
        assert lines[0] == "WARC/1.1", lines[0]
        headers = dict(line.split(": ", 1) for line in lines[1:])
        block = rest[:-4]
        yield RawRecord(offset, headers, len(block), int(headers["Content-Length"]), block)
        offset = len(data) - len(d.unused_data)


@dataclass
class WarcCheck:
    """What ``warcio check FILE...`` would exit with and print."""

    returncode: int
    stdout: str


def warcio_check(*paths: Path) -> WarcCheck:
    """``warcio check`` on the files: the checker of its command line, in this process."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = Checker(SimpleNamespace(inputs=[str(p) for p in paths], verbose=False)).process_all()
    return WarcCheck(int(code), out.getvalue())
