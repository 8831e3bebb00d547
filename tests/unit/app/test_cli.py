"""The command line, in-process: bad input gives one clear line, nothing crawled."""

from pathlib import Path

import pytest

from aggregator.app.cli import main
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
