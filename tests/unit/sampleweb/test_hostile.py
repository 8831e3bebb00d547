"""The hostile sample web's pure parts: its windows-1258 encoder, the command line passing
its seed on (the hostile web served and crawled: tests/integration/sampleweb/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sampleweb.hostile import to_windows_1258


def test_windows_1258_round_trip() -> None:
    text = "Đồng chí Nguyễn Thị Hường, Ủy viên Ban Thường vụ Tỉnh ủy, phát biểu tại hội nghị"
    data = to_windows_1258(text)
    assert b"&#" not in data
    import unicodedata

    assert unicodedata.normalize("NFC", data.decode("cp1258")) == text


def test_the_command_line_forwards_the_seed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``aggregator sampleweb --hostile SEED --write-truth FILE`` and ``demo --hostile``."""
    monkeypatch.chdir(tmp_path)  # the demo opens its store in the current folder
    monkeypatch.delenv("AGGREGATOR_DB", raising=False)
    import sampleweb.__main__ as sampleweb_main
    import sampleweb.demo
    from aggregator.app.cli import main

    seen: list[object] = []

    def record(value: object) -> int:
        seen.append(value)
        return 0

    monkeypatch.setattr(sampleweb_main, "main", record)
    monkeypatch.setattr(sampleweb.demo, "run_demo", lambda **kw: record(kw["hostile"]))
    assert main(["sampleweb", "--hostile", "5", "--write-truth", "t.json"]) == 0
    assert main(["demo", "--hostile", "6"]) == 0
    argv = seen[0]
    assert isinstance(argv, list) and argv[-4:] == ["--hostile", "5", "--write-truth", "t.json"]
    assert seen[1] == 6
