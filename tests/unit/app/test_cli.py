"""The command line, in-process: bad input gives one clear line, nothing crawled."""

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aggregator.app.cli import build_parser, main
from aggregator.store import open_store

BAD = """
id = "xau"
name = "Báo Xấu"
province = "Hà Nội"
base_url = "http://127.0.0.1:9/"
[links]
article = '(('
"""


def test_sites_check_reports_file_key_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "xau.toml").write_text(BAD, encoding="utf-8")
    assert main(["sites", "check", "--sites-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith(f"{tmp_path / 'xau.toml'}: links.article: bad regex '((': ")


def test_sites_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sites", "check"]) == 0
    assert "site definitions OK" in capsys.readouterr().out


def test_crawl_of_a_broken_definition_is_skipped_and_partial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "xau.toml").write_text(BAD, encoding="utf-8")
    db = tmp_path / "a.db"
    code = main(["crawl", "xau", "--db", str(db), "--sites-dir", str(tmp_path)])
    assert code == 3  # partial: the broken definition was skipped, nothing else to do
    err = capsys.readouterr().err
    assert "xau.toml: links.article: bad regex" in err and "(definition skipped)" in err
    assert not db.exists()


def test_unknown_site_lists_known_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crawl", "khong-co", "--db", str(tmp_path / "a.db")]) == 2
    err = capsys.readouterr().err
    assert "unknown site 'khong-co'" in err and "tayninh" in err


def test_the_default_base_url_is_where_serve_serves_the_folder() -> None:
    """`aggregator feeds` with no base URL writes links that `aggregator serve` with no
    address answers (it serves the folder at /)."""
    from aggregator.app.cli import build_parser
    from aggregator.publish.feeds import DEFAULT_BASE_URL

    serve = build_parser().parse_args(["serve"])
    assert f"http://{serve.host}:{serve.port}/" == DEFAULT_BASE_URL


@pytest.mark.parametrize(
    ("base", "warned"),
    [
        (None, True),  # the default: serve's address
        ("http://localhost/feeds/", True),
        ("http://[::1]:8080/", True),
        ("https://tin.example.vn/feeds/", False),
    ],
)
def test_feeds_warns_once_about_links_to_this_machine(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    base: str | None,
    warned: bool,
) -> None:
    monkeypatch.delenv("AGGREGATOR_FEEDS_BASE_URL", raising=False)
    with open_store(str(tmp_path / "a.db")):  # feeds needs a store, even an empty one
        pass
    args = ["feeds", "--db", str(tmp_path / "a.db"), "--feeds-dir", str(tmp_path / "feeds")]
    assert main([*args, *(["--base-url", base] if base else [])]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == int(warned)
    if warned:
        assert err[0].startswith("aggregator: warning: links point at ")
        assert "--base-url" in err[0]


def _actions(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, Any]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, f"{path} {name}")
        else:
            yield path, action


def test_every_argument_has_help() -> None:
    missing = [
        f"{path}: {action.option_strings or action.dest}"
        for path, action in _actions(build_parser(), "aggregator")
        if not action.help and action.dest not in ("help", "version")
    ]
    assert missing == []


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("aggregator ")


def test_all_names_the_sites_it_skips_and_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aggregator.sites.definition import load_sites

    bundled = load_sites()
    unverified = [s.id for s in bundled if s.active and not s.verified]
    inactive = [s.id for s in bundled if not s.active]
    assert unverified and inactive  # the catalogue: every site unverified, old papers inactive
    db = tmp_path / "a.db"
    for args in (["--all"], ["--due"]):
        assert main(["crawl", *args, "--db", str(db)]) == 0
        out, err = capsys.readouterr()
        assert out.strip() == "no site to crawl"
        lines = err.strip().splitlines()
        assert len(lines) == 2, err
        assert lines[0].startswith(
            f"aggregator: skipped {len(unverified)} unverified site(s) (--include-unverified "
            f"includes them): {unverified[0]}, "
        )
        assert lines[1].startswith(f"aggregator: skipped {len(inactive)} inactive site(s)")
        assert all(i in lines[1] for i in inactive)
    assert not db.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["tamdao", "--due", "--full"],
        ["tamdao", "--due", "--resume"],
        ["tamdao", "--all"],
        ["tamdao", "--full", "--resume"],
        ["tamdao", "--include-unverified"],
        ["--all", "--idle", "-1"],
    ],
)
def test_contradictory_crawl_flags_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    db = tmp_path / "a.db"
    assert main(["crawl", *args, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("aggregator: error: ") and err.count("\n") == 1
    assert not db.exists()


@pytest.mark.parametrize(
    "setting",
    [
        "AGGREGATOR_WORKER_MAX_PAGES=-1",
        "AGGREGATOR_WORKER_MAX_PAGES=abc",
        "AGGREGATOR_JOBS=abc",
        "AGGREGATOR_BATCH_SIZE=2.5",
        "AGGREGATOR_WORKER_TIMEOUT=soon",
    ],
)
def test_a_bad_number_for_a_setting_is_refused_before_crawling(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str
) -> None:
    # a site on a port nothing listens on: were the setting taken, nothing would be fetched
    (tmp_path / "xau.toml").write_text(BAD.replace("'(('", r"'/a-\d+\.html$'"), "utf-8")
    db = tmp_path / "a.db"
    args = ["crawl", "xau", "--db", str(db), "--sites-dir", str(tmp_path), "-s", setting]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err == f"aggregator: error: -s {setting}: expected " + (
        "a number (>= 0)\n" if "TIMEOUT" in setting else "a whole number (>= 0)\n"
    )
    assert not db.exists()
