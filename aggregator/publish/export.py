"""Export stored articles as JSON Lines, one article (or one version of one) per line.

Every line is an object described by ``schemas/article.schema.json`` (its
``schema_version`` is :data:`SCHEMA_VERSION`). Two ways to export:

- :func:`export_jsonl`: the current state of every matching article (newest first),
  each with the ``cursor`` of its latest version;
- :func:`export_stream`: every version recorded after a cursor, in store order (the
  ``article_versions`` table the store appends to on every insert, update and story
  merge), so that an archive can follow the store: run it again with the last cursor
  and it gives exactly what came after.

Both return the last cursor (to resume from). :func:`write_output` writes to stdout
or, atomically (temp file + rename in the same folder), to a file, optionally gzipped.
"""

from __future__ import annotations

import gzip
import io
import itertools
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TextIO, TypeVar

from aggregator.normalize.sanitize import BIDI_CONTROLS, json_text, safe_text
from aggregator.store.articles import SQLStore
from aggregator.store.records import EXPORT_FIELDS, SCHEMA_VERSION, article_record

__all__ = [
    "EXPORT_FIELDS",
    "SCHEMA_VERSION",
    "ExportError",
    "ExportResult",
    "article_record",
    "export_jsonl",
    "export_stream",
    "parse_cursor",
    "stream_bounds",
    "write_atomic",
    "write_output",
]

T = TypeVar("T")


class ExportError(ValueError):
    """Bad export input (a malformed or unknown cursor): one line for the user."""


@dataclass(frozen=True)
class ExportResult:
    """How many lines were written, and the cursor to resume from."""

    count: int
    cursor: int


#: Text fields of a record, shown as the feeds show them (one line; the body in lines).
_LINE_FIELDS = ("site_name", "section", "title", "lead", "source_tag")
_URL_FIELDS = ("url", "canonical_url", "image")


def _shown(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record with its texts as the feeds write them
    (:func:`~aggregator.normalize.sanitize.safe_text`: no bidi overrides or control
    characters, whatever an older store holds); URLs without bidi marks."""
    out = dict(record)
    for key in _LINE_FIELDS:
        if isinstance(out.get(key), str):
            out[key] = safe_text(out[key])
    if isinstance(out.get("body_text"), str):
        out["body_text"] = safe_text(out["body_text"], multiline=True)
    if isinstance(out.get("authors"), list):
        out["authors"] = [safe_text(a) if isinstance(a, str) else a for a in out["authors"]]
    for key in _URL_FIELDS:
        if isinstance(out.get(key), str):
            out[key] = BIDI_CONTROLS.sub("", out[key])
    if isinstance(out.get("images"), list):
        out["images"] = [
            {k: safe_text(v) if k in ("caption", "credit") and isinstance(v, str) else v
             for k, v in image.items()} if isinstance(image, dict) else image
            for image in out["images"]
        ]  # fmt: skip
    return out


def _line(record: Mapping[str, Any], cursor: int) -> str:
    return json_text({**_shown(record), "cursor": cursor}) + "\n"


def _matches(record: Mapping[str, Any], sites: Sequence[str], categories: Sequence[str]) -> bool:
    if sites and record.get("site") not in sites:
        return False
    return not categories or bool(set(record.get("categories") or ()) & set(categories))


# -- cursors --------------------------------------------------------------------------


def parse_cursor(text: str, option: str = "--since") -> int:
    """A cursor given on the command line: a whole number >= 0 (0: the beginning)."""
    value = text.strip()
    if not value.isascii() or not value.isdigit():
        raise ExportError(f"{option} {text!r}: a cursor is a whole number printed by an export")
    return int(value)


def stream_bounds(store: SQLStore, since: int, until: int | None = None) -> tuple[int, int]:
    """Checked ``(since, last)``: both cursors must exist in the store (0 is the
    beginning); ``last`` is ``until`` or the newest cursor."""
    for option, cursor in (("--since", since), ("--until", until)):
        if cursor is not None and cursor != 0 and not store.has_cursor(cursor):
            newest = store.last_cursor()
            raise ExportError(
                f"{option} {cursor}: no such cursor in {store.location} (its cursors go up to "
                f"{newest}; 0 is the beginning)"
            )
    if until is not None and until < since:
        raise ExportError(f"--until {until} is before --since {since}")
    return since, until if until is not None else max(store.last_cursor(), since)


# -- the two exports --------------------------------------------------------------------


def export_jsonl(
    store: SQLStore,
    out: TextIO,
    *,
    sites: Sequence[str] = (),
    categories: Sequence[str] = (),
) -> ExportResult:
    """Write the current state of matching articles (newest first) to ``out``.

    Each line has the cursor of the article's latest version; the result's cursor is
    the newest in the store (follow it with :func:`export_stream`).
    """
    store.backfill_versions()
    count = 0
    with store.snapshot():
        last = store.last_cursor()
        articles = store.articles(sites=sites, categories=categories)
        while batch := list(itertools.islice(articles, 500)):
            latest = store.latest_versions([a.id for a in batch])
            for article in batch:
                cursor, version = latest.get(article.id, (last, {}))
                record = article_record(article, warc=version.get("warc"))
                out.write(_line(record, cursor))
                count += 1
    return ExportResult(count, last)


def export_stream(
    store: SQLStore,
    out: TextIO,
    *,
    since: int = 0,
    until: int | None = None,
    sites: Sequence[str] = (),
    categories: Sequence[str] = (),
) -> ExportResult:
    """Write every version recorded after ``since`` (up to ``until``), in store order.

    An update is a new line with the same ``id`` and a higher ``version``; a copy of
    a story has ``duplicate_of`` set. The result's cursor is where the stream stopped
    (``until``, else the newest cursor), even when filters left out its last lines.
    Raises :class:`ExportError` for a cursor that does not exist.
    """
    store.backfill_versions()
    since, last = stream_bounds(store, since, until)
    count = 0
    with store.snapshot():  # one read: PostgreSQL streams it from a server-side cursor
        for cursor, record in store.versions(since, last):
            if _matches(record, sites, categories):
                out.write(_line(record, cursor))
                count += 1
    return ExportResult(count, last)


# -- output -----------------------------------------------------------------------------


def _open_fd(fd: int) -> IO[bytes]:
    """The binary file object of a temp file (a seam for tests: a full disk)."""
    return os.fdopen(fd, "wb")


def _write_text(raw: IO[bytes], write: Callable[[TextIO], T], *, compress: bool) -> T:
    """Run ``write`` on a UTF-8 text layer over ``raw`` (gzip in between if asked);
    everything is flushed to ``raw`` when it returns, ``raw`` stays open."""
    if compress:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
            text = io.TextIOWrapper(packed, encoding="utf-8", newline="\n")
            result = write(text)
            text.flush()
            text.detach()
    else:
        plain = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
        result = write(plain)
        plain.flush()
        plain.detach()
    raw.flush()
    return result


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(
    path: str | os.PathLike[str], write: Callable[[TextIO], T], *, compress: bool = False
) -> T:
    """Write a file through ``write`` as a whole or not at all.

    The text goes to a temp file in the same folder, which is synced and renamed over
    ``path`` only when everything was written; on any error (a full disk, an
    interrupted export) the temp file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temp = Path(name)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with _open_fd(fd) as raw:
            result = _write_text(raw, write, compress=compress)
            os.fsync(raw.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return result


def write_output(
    path: str | os.PathLike[str] | None,
    write: Callable[[TextIO], T],
    *,
    compress: bool = False,
) -> T:
    """``write`` to ``path`` atomically, or to stdout when ``path`` is None or "-"."""
    if path is not None and str(path) != "-":
        return write_atomic(path, write, compress=compress)
    if not compress:
        result = write(sys.stdout)
        sys.stdout.flush()
        return result
    return _write_text(sys.stdout.buffer, write, compress=True)
