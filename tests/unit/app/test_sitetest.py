"""``aggregator sites test`` offline: saved fixtures of every sample newspaper, generated
from its ground truth (tests/support/sitefixtures.py). One page fetched and compared with
its fixture, and ``--live``: tests/integration/app/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aggregator.app.cli import main
from aggregator.app.sitetest import compare_fields, fixtures_dir, load_fixtures
from aggregator.sites.definition import load_site
from sampleweb.render import site_definition
from tests.support.sitefixtures import (
    OFFLINE_ORIGIN,
    SAMPLE_SITES,
    break_selector,
    write_sample_fixtures,
)


@pytest.fixture(autouse=True)
def _no_sites_dirs_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGGREGATOR_SITES_DIRS", raising=False)


# -- saved fixtures (offline) ---------------------------------------------------------


@pytest.mark.parametrize("site_id", SAMPLE_SITES)
def test_every_sample_site_matches_its_fixtures(
    site_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_sample_fixtures(tmp_path, OFFLINE_ORIGIN, (site_id,))
    site = load_site(tmp_path / f"{site_id}.toml")
    assert fixtures_dir(site) == tmp_path / "fixtures" / site_id
    assert len(load_fixtures(site)) == 3
    assert main(["sites", "test", site_id, "--sites-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "3/3 fixtures match" in out, out


def test_a_changed_template_fails_its_fixtures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_sample_fixtures(tmp_path, OFFLINE_ORIGIN, ("caonguyen",), layers={"title": "selector"})
    break_selector(tmp_path, "caonguyen", "title", "td.tieude-moi")
    assert main(["sites", "test", "caonguyen", "--sites-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "0/3 fixtures match" in out, out
    # the generic layer still finds the title (from <title>): the layer tells
    assert re.search(r"FAILED\n\s+layers.title: expected selector, got generic", out), out


def test_compare_fields_rules() -> None:
    expected = {
        "title": "Đổi mới sinh hoạt chi bộ",
        "published": "2026-11-20T08:15:00+07:00",
        "body_text": "một hai ba bốn năm sáu bảy tám chín mười " * 10,
    }
    same = {**expected, "published": "2026-11-20T01:15:00+00:00"}  # the same instant
    assert compare_fields(expected, same) == []
    assert compare_fields({"authors": ["A"]}, {"authors": ["A", "B"]}) == [
        "authors: expected 'A', got 'A, B'"
    ]
    other = {**expected, "body_text": "khác hẳn", "published": None}
    problems = compare_fields(expected, other)
    assert problems[0] == "published: expected 2026-11-20T08:15:00+07:00, got None"
    assert problems[1].startswith("body_text: token F1 0.000")


def test_no_fixtures_and_no_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tamdao.toml").write_text(
        site_definition("tamdao", OFFLINE_ORIGIN + "tamdao/"), encoding="utf-8"
    )
    assert main(["sites", "test", "tamdao", "--sites-dir", str(tmp_path)]) == 0
    assert "no fixtures" in capsys.readouterr().out


def test_bad_fixture_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_sample_fixtures(tmp_path, OFFLINE_ORIGIN, ("tamdao",), count=1)
    broken = next((tmp_path / "fixtures" / "tamdao").glob("*.json"))
    broken.write_text('{"url": "x", "expected": {"titel": "?"}}', encoding="utf-8")
    assert main(["sites", "test", "tamdao", "--sites-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{broken}: unknown expected fields ['titel']" in err


def test_page_outside_the_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tamdao.toml").write_text(
        site_definition("tamdao", OFFLINE_ORIGIN + "tamdao/"), encoding="utf-8"
    )
    argv = ["sites", "test", "tamdao", "https://example.org/x.html", "--sites-dir", str(tmp_path)]
    assert main(argv) == 1
    assert "is outside tamdao's domains" in capsys.readouterr().err
