"""The archive export: versions in the store, the schema, the resumable stream, atomic files."""

from __future__ import annotations

import errno
import gzip
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pytest

from aggregator.app.cli import main
from aggregator.items import Article
from aggregator.publish import export
from aggregator.publish.export import (
    SCHEMA_VERSION,
    ExportError,
    export_jsonl,
    export_stream,
    parse_cursor,
    write_atomic,
)
from aggregator.store import SQLStore, open_store
from tests.support.exportcheck import validate
from tests.support.factory import VN, make_article

WARC = {"file": "tamdao-20261127T010000Z-00001.warc.gz", "record_id": "<urn:uuid:1-2-3>"}


def make(n: int, **kw: Any) -> Article:
    """Article ``n`` of Báo Tam Đảo's economy section, published on 1 + n November, with
    an image, the layers it was read by and its WARC record."""
    fields: dict[str, Any] = {
        "title": f"Tiêu đề {n}",
        "body_text": f"Đoạn {n}.",
        "body_html": f"<p>Đoạn {n}.</p>",
        "published": datetime(2026, 11, 1 + n, 8, 0, tzinfo=VN),
        "images": [{"url": "https://tamdao.example.vn/a.jpg", "caption": "Ảnh", "credit": "T.T"}],
        "layers": {"title": "selector", "body": "selector", "published": "jsonld"},
        "warc": WARC,
    }
    fields.update(kw)
    return make_article(f"https://tamdao.example.vn/kinh-te/bai-{n}.html", **fields)


@pytest.fixture
def store(store_target: str) -> Iterator[SQLStore]:
    """A fresh store (SQLite; PostgreSQL in tests/integration)."""
    with open_store(store_target) as s:
        yield s


def stream(store: SQLStore, **kw: Any) -> tuple[list[dict[str, Any]], int]:
    out = io.StringIO()
    result = export_stream(store, out, **kw)
    lines = [validate(line) for line in out.getvalue().splitlines()]
    assert len(lines) == result.count
    return lines, result.cursor


def current(store: SQLStore, **kw: Any) -> tuple[list[dict[str, Any]], int]:
    out = io.StringIO()
    result = export_jsonl(store, out, **kw)
    return [validate(line) for line in out.getvalue().splitlines()], result.cursor


# -- versions --------------------------------------------------------------------------------


def test_every_insert_and_update_records_a_version(store: SQLStore) -> None:
    a = make(1)
    store.upsert(a)
    store.upsert(make(2, warc=None))
    assert store.upsert(make(1)) == "unchanged"  # no new version
    assert store.upsert(make(1, body_text="Đoạn 1, đã sửa.")) == "updated"
    lines, last = stream(store)
    assert [(r["id"], r["version"], r["cursor"]) for r in lines] == [
        (a.id, 1, 1), (make(2).id, 1, 2), (a.id, 2, 3),
    ]  # fmt: skip
    assert last == 3 == store.last_cursor()
    assert lines[0]["warc"] == WARC and lines[1]["warc"] is None
    assert lines[2]["body_text"] == "Đoạn 1, đã sửa." and lines[0]["body_text"] == "Đoạn 1."
    assert all(r["schema_version"] == SCHEMA_VERSION for r in lines)
    # the current state: each article once, with its latest cursor
    now, last = current(store)
    assert sorted((r["id"], r["version"], r["cursor"]) for r in now) == sorted(
        [(a.id, 2, 3), (make(2).id, 1, 2)]
    )
    assert last == 3


def test_story_merges_make_new_versions_of_the_articles_they_change(store: SQLStore) -> None:
    original, copy, earlier = make(5), make(6), make(1)
    store.upsert(original)
    store.upsert(make(6, duplicate_of=original.id))
    store.upsert(earlier)
    # the earlier copy turns up: it becomes the original of the whole story
    assert store.merge_stories(earlier.id, [original.id]) == 2
    store.merge_stories(earlier.id, [original.id])  # changes nothing now: no version
    lines, _ = stream(store)
    assert len(lines) == 5
    changes = [(r["id"], r["version"], r["duplicate_of"]) for r in lines[3:]]
    assert sorted(changes) == sorted([(original.id, 2, earlier.id), (copy.id, 2, earlier.id)])
    assert lines[3]["warc"] == WARC  # a merge keeps the capture the content came from
    # an unchanged re-crawl that finds another original: a new version, still "unchanged"
    assert store.upsert(make(6, duplicate_of=None)) == "unchanged"
    lines, _ = stream(store, since=5)
    assert [(r["id"], r["version"], r["duplicate_of"]) for r in lines] == [(copy.id, 3, None)]
    got = store.get(copy.id)
    assert got is not None and got.version == 3
    now, _ = current(store)
    by_id = {r["id"]: r for r in now}
    assert by_id[earlier.id]["also_at"] == [original.url]
    assert by_id[earlier.id]["duplicate_of"] is None


def test_a_store_from_before_versions_gets_them_on_export(store: SQLStore) -> None:
    store.upsert(make(1))
    store.upsert(make(2))
    store.execute("DELETE FROM article_versions")
    now, last = current(store)
    # cursors are never reused (AUTOINCREMENT): an archive's cursor never comes back
    assert sorted(r["cursor"] for r in now) == [3, 4] and last == 4
    assert all(r["version"] == 1 and r["warc"] is None for r in now)
    assert store.backfill_versions() == 0


def test_the_export_strips_what_the_feeds_strip_and_escapes_markup(store: SQLStore) -> None:
    """A store written before text was cleaned at the door still holds bidi overrides
    and controls: the export shows its texts as the feeds do; "<" stays text, escaped."""
    store.upsert(make(1, title="Tiêu đề <script>x</script>", authors=["Tác giả"]))
    rlo = "Tệp \u202egpj.exe\u202c và\u2066 cô lập\u2069\x0b"
    store.execute(
        "UPDATE articles SET title = ?, lead = ?, site_name = ?, authors = ?",
        (rlo, rlo, rlo, json.dumps([rlo])),
    )
    for cursor, record in list(store.versions()):
        record.update(title=rlo, lead=rlo, body_text=f"{rlo}\n{rlo}", authors=[rlo])
        store.execute(
            "UPDATE article_versions SET record = ? WHERE cursor = ?",
            (json.dumps(record, ensure_ascii=False), cursor),
        )
    shown = "Tệp gpj.exe và cô lập"
    for lines in (stream(store)[0], current(store)[0]):
        record = lines[0]
        assert (record["title"], record["lead"], record["authors"]) == (shown, shown, [shown])
        assert "\u202e" not in json.dumps(record, ensure_ascii=False)
    out = io.StringIO()
    store.upsert(make(2, title="Cảnh báo <script>alert(1)</script> & ]]>"))
    export_stream(store, out)
    line = out.getvalue().splitlines()[-1]
    assert "<" not in line and "\\u003cscript\\u003e" in line
    assert json.loads(line)["title"] == "Cảnh báo <script>alert(1)</script> & ]]>"


# -- the stream --------------------------------------------------------------------------------


def test_two_halves_equal_one_export_and_the_last_cursor_yields_nothing(
    store: SQLStore,
) -> None:
    for n in range(6):
        store.upsert(make(n))
    store.upsert(make(2, title="Tiêu đề mới"))
    everything, last = stream(store)
    assert len(everything) == 7 and last == 7
    first, middle = stream(store, until=4)
    second, end = stream(store, since=middle)
    assert (middle, end) == (4, 7)
    assert first + second == everything
    again, same = stream(store, since=end)
    assert again == [] and same == end
    store.upsert(make(3, lead="Sapo mới"))
    later, newest = stream(store, since=end)
    assert [(r["id"], r["version"]) for r in later] == [(make(3).id, 2)] and newest == 8


def test_filters_apply_to_the_stream_but_the_cursor_moves_on(store: SQLStore) -> None:
    store.upsert(make(1))
    store.upsert(make(2, site="baden", categories=["xa-hoi"], category="xa-hoi"))
    store.upsert(make(3))
    lines, last = stream(store, sites=["baden"])
    assert [r["site"] for r in lines] == ["baden"] and last == 3
    lines, _ = stream(store, categories=["kinh-te"])
    assert len(lines) == 2
    now, _ = current(store, categories=["xa-hoi"])
    assert [r["site"] for r in now] == ["baden"]


def test_bad_cursors_are_clear_errors(store: SQLStore) -> None:
    store.upsert(make(1))
    for text in ("abc", "-1", "1.5", "", "１"):
        with pytest.raises(ExportError, match="cursor"):
            parse_cursor(text)
    assert parse_cursor(" 7 ") == 7
    with pytest.raises(ExportError, match="no such cursor"):
        stream(store, since=99)
    with pytest.raises(ExportError, match="no such cursor"):
        stream(store, until=99)
    assert stream(store, since=0)[1] == 1  # 0 is the beginning


# -- the command ---------------------------------------------------------------------------------


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_export_since_until_output_gzip(
    store: SQLStore, store_target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(4):
        store.upsert(make(n))
    db = store_target
    code, out, err = run(["export", "--db", db, "--since", "0"], capsys)
    assert code == 0 and len(out.splitlines()) == 4
    assert err.strip() == "4 versions exported; last cursor: 4"
    for line in out.splitlines():
        validate(line)
    target = tmp_path / "out" / "half.jsonl.gz"
    target.parent.mkdir()
    code, _, err = run(
        ["export", "--db", db, "--since", "1", "--until", "3", "-o", str(target), "--gzip"],
        capsys,
    )
    assert code == 0 and "last cursor: 3" in err
    lines = gzip.decompress(target.read_bytes()).decode("utf-8").splitlines()
    assert [json.loads(line)["cursor"] for line in lines] == [2, 3]
    assert lines == out.splitlines()[1:3]
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temp file left
    code, out, err = run(["export", "--db", db], capsys)
    assert code == 0 and len(out.splitlines()) == 4
    assert err.strip() == "4 articles exported; last cursor: 4"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "abc"], "--since 'abc': a cursor is a whole number"),
        (["--since", "42"], "--since 42: no such cursor"),
        (["--since", "0", "--until", "-3"], "--until '-3'"),
        (["--since", "2", "--until", "1"], "--until 1 is before --since 2"),
    ],
)
def test_cli_bad_cursor_is_one_line_and_exit_2(
    store: SQLStore,
    store_target: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    store.upsert(make(1))
    store.upsert(make(2))
    target = tmp_path / "never.jsonl"
    code, out, err = run(["export", "--db", store_target, *args, "-o", str(target)], capsys)
    assert code == 2 and out == ""  # usage
    assert len(err.splitlines()) == 1 and message in err, err
    assert not target.exists()


def test_cli_export_without_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["export", "--db", str(tmp_path / "none.db")], capsys)
    assert code == 2 and "no store at" in err
    assert not (tmp_path / "none.db").exists()


# -- atomic output ---------------------------------------------------------------------------------


class FullDisk(io.RawIOBase):
    """A file that takes ``room`` bytes, then fails like a full disk."""

    def __init__(self, inner: IO[bytes], room: int) -> None:
        self.inner, self.room = inner, room

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.inner.write(data)

    def fileno(self) -> int:
        return self.inner.fileno()

    def close(self) -> None:
        self.inner.close()
        super().close()


@pytest.mark.parametrize("compress", [False, True])
def test_full_disk_fails_the_export_and_leaves_no_file(
    store: SQLStore,
    store_target: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    compress: bool,
) -> None:
    for n in range(30):
        store.upsert(make(n, body_text=f"Đoạn {n}. " * 200))
    real = export._open_fd
    monkeypatch.setattr(export, "_open_fd", lambda fd: FullDisk(real(fd), room=1000))
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "all.jsonl"
    args = ["export", "--db", store_target, "--since", "0", "-o", str(target)]
    code, _, err = run(args + (["--gzip"] if compress else []), capsys)
    assert code == 1
    assert "No space left on device" in err and len(err.splitlines()) == 1
    assert list(folder.iterdir()) == []  # neither the file nor a partial temp file
    # an earlier export at the same path stays as it was
    target.write_text("earlier\n", encoding="utf-8")
    code, _, _ = run(args, capsys)
    assert code == 1 and target.read_text(encoding="utf-8") == "earlier\n"
    assert list(folder.iterdir()) == [target]


def test_write_atomic_replaces_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "x.jsonl"
    target.write_text("old\n", encoding="utf-8")

    def fails(out: Any) -> None:
        out.write("half a line")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_atomic(target, fails)
    assert target.read_text(encoding="utf-8") == "old\n"
    assert write_atomic(target, lambda out: out.write("Đà Nẵng\n")) == 8
    assert target.read_text(encoding="utf-8") == "Đà Nẵng\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.jsonl"]
    assert target.stat().st_mode & 0o044  # not the temp file's 0600


# -- for machines: the cursor in a file, the summary as JSON -------------------------------------


def test_cli_cursor_file_continues_where_the_last_export_ended(
    store: SQLStore, store_target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cursor = tmp_path / "state" / "cursor"
    cursor.parent.mkdir()
    for n in range(3):
        store.upsert(make(n))
    args = ["export", "--db", store_target, "--cursor-file", str(cursor), "--json-summary"]
    code, out, err = run([*args, "-o", str(tmp_path / "1.jsonl")], capsys)
    assert code == 0 and out == ""
    assert json.loads(err) == {
        "kind": "versions", "count": 3, "since": 0, "cursor": 3,
        "output": str(tmp_path / "1.jsonl"),
    }  # fmt: skip
    assert cursor.read_text() == "3\n"
    store.upsert(make(3))
    code, out, err = run(args, capsys)  # to stdout: only what changed since
    assert code == 0 and [json.loads(line)["cursor"] for line in out.splitlines()] == [4]
    assert json.loads(err)["since"] == 3 and cursor.read_text() == "4\n"
    assert sorted(p.name for p in cursor.parent.iterdir()) == ["cursor"]  # no temp file
    code, out, err = run(args, capsys)  # nothing new: the cursor stays
    assert code == 0 and out == "" and json.loads(err)["count"] == 0
    assert cursor.read_text() == "4\n"


def test_cli_cursor_file_is_not_moved_when_the_output_fails(
    store: SQLStore, store_target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cursor = tmp_path / "cursor"
    cursor.write_text("0\n")
    store.upsert(make(1))
    target = tmp_path / "no" / "such" / "folder.jsonl"
    code, _, err = run(
        ["export", "--db", store_target, "--cursor-file", str(cursor), "-o", str(target)], capsys
    )
    assert code == 1 and err.startswith("aggregator: error: cannot write")
    assert cursor.read_text() == "0\n"
    code, _, err = run(
        ["export", "--db", store_target, "--cursor-file", str(cursor), "--since", "0"], capsys
    )
    assert code == 2 and "not with --since" in err


def test_cli_unknown_site_or_category_is_a_usage_error(
    store: SQLStore, store_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store.upsert(make(1))
    stored = make(1).site
    code, _, err = run(["export", "--db", store_target, "--site", "khong-co"], capsys)
    assert code == 2 and "--site khong-co: unknown site" in err
    code, _, err = run(["export", "--db", store_target, "--category", "khong-co"], capsys)
    assert code == 2 and "--category khong-co: unknown category" in err
    code, out, _ = run(["export", "--db", store_target, "--site", stored], capsys)
    assert code == 0 and len(out.splitlines()) == 1
