"""``aggregator sites test``: saved fixtures, one page against its fixture, ``--live``.

The sample web's fixtures are generated from its ground truth (the page as the server
renders it, and the fields a perfect extraction gives), so the comparison runs on every
sample newspaper without saving HTML in the repository.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from aggregator.app.cli import main
from aggregator.app.sitetest import compare_fields, fixtures_dir, load_fixtures
from aggregator.sites.definition import load_site
from sampleweb.groundtruth import GroundTruthArticle, load_ground_truth
from sampleweb.render import article_path, render_web, site_definition
from tests.conftest import SampleWebProcess

SAMPLE_SITES = ("baden", "caonguyen", "songcau", "tamdao")
OFFLINE_ORIGIN = "http://127.0.0.1:8047/"


@pytest.fixture(autouse=True)
def _no_sites_dirs_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGGREGATOR_SITES_DIRS", raising=False)


def expected_fields(a: GroundTruthArticle) -> dict[str, object]:
    """What extraction must give for a ground-truth article (as the evaluation counts it);
    every sample definition has a body selector, so the body must come from it."""
    return {
        "title": a.title,
        "lead": a.lead,
        "source_tag": (a.source_tag or "").rstrip(" -–") or None,
        "published": a.published.isoformat(),
        "authors": list(a.authors),
        "category": a.category,
        "categories": list(a.categories),
        "body_text": a.body_text,
        "layers": {"body": "selector"},
    }


def write_sample_fixtures(
    sites_dir: Path,
    origin: str,
    site_ids: tuple[str, ...] = SAMPLE_SITES,
    count: int = 3,
    layers: dict[str, str] | None = None,
) -> None:
    """Definitions of the sample newspapers served at ``origin`` in ``sites_dir``, each with
    ``count`` fixtures (``fixtures/<id>/<key>.html`` + ``.json``) from the ground truth,
    expecting ``layers`` too if given (as `sites test --record` writes them)."""
    pages = render_web(origin)
    for site_id in site_ids:
        path = sites_dir / f"{site_id}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(site_definition(site_id, f"{origin}{site_id}/"), encoding="utf-8")
        folder = sites_dir / "fixtures" / site_id
        folder.mkdir(parents=True, exist_ok=True)
        for a in load_ground_truth(site_id)[:count]:
            page = pages[article_path(a)]
            (folder / f"{a.key}.html").write_bytes(page.body)
            expected = {**expected_fields(a), **({"layers": layers} if layers else {})}
            record = {"url": origin.rstrip("/") + article_path(a), "expected": expected}
            (folder / f"{a.key}.json").write_text(
                json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8"
            )


def break_selector(sites_dir: Path, site_id: str, name: str, value: str) -> None:
    """A template change as the crawler sees it: one selector no longer matches."""
    path = sites_dir / f"{site_id}.toml"
    text, n = re.subn(rf"(?m)^{name} = .*$", f'{name} = "{value}"', path.read_text("utf-8"))
    assert n == 1, f"{site_id} has no {name} selector"
    path.write_text(text, encoding="utf-8")


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


# -- one page, fetched ----------------------------------------------------------------


def test_page_compared_with_its_fixture(
    sample_web: SampleWebProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_sample_fixtures(tmp_path, sample_web.url, ("tamdao",))
    article = load_ground_truth("tamdao")[0]
    url = sample_web.url.rstrip("/") + article_path(article)
    assert main(["sites", "test", "tamdao", url, "--sites-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"the live page matches fixture {article.key}" in out
    assert re.search(r"^title\s+\[selector \] " + re.escape(article.title[:40]), out, re.M)
    assert "3/3 fixtures match" in out
    # the template changed: the fetched page no longer gives the saved fields
    break_selector(tmp_path, "tamdao", "body", "div.article-detail div.noi-dung-moi")
    assert main(["sites", "test", "tamdao", url, "--sites-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"the live page DIFFERS from fixture {article.key}" in out
    assert "layers.body: expected selector, got generic" in out


def test_save_a_page_as_fixture(
    sample_web: SampleWebProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "songcau.toml").write_text(
        site_definition("songcau", sample_web.url + "songcau/"), encoding="utf-8"
    )
    article = load_ground_truth("songcau")[5]
    url = sample_web.url.rstrip("/") + article_path(article)
    argv = ["sites", "test", "songcau", url, "--sites-dir", str(tmp_path), "--save", "bai-1"]
    assert main(argv) == 0
    saved = json.loads((tmp_path / "fixtures" / "songcau" / "bai-1.json").read_text("utf-8"))
    assert saved["url"] == url
    assert saved["expected"]["title"] == article.title
    assert saved["expected"]["categories"] == list(article.categories)
    assert (tmp_path / "fixtures" / "songcau" / "bai-1.html").stat().st_size > 1000
    capsys.readouterr()
    assert main(["sites", "test", "songcau", "--sites-dir", str(tmp_path)]) == 0
    assert "1/1 fixtures match" in capsys.readouterr().out


def test_page_outside_the_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tamdao.toml").write_text(
        site_definition("tamdao", OFFLINE_ORIGIN + "tamdao/"), encoding="utf-8"
    )
    argv = ["sites", "test", "tamdao", "https://example.org/x.html", "--sites-dir", str(tmp_path)]
    assert main(argv) == 1
    assert "is outside tamdao's domains" in capsys.readouterr().err


# -- --live ---------------------------------------------------------------------------


@pytest.mark.parametrize("site_id", SAMPLE_SITES)
def test_live_coverage_table(
    site_id: str, sample_web: SampleWebProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sites", "test", site_id, "--live", "--sites-dir", str(sample_web.sites_dir)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^listing: {re.escape(sample_web.url)}{site_id}/\S+ \(\d+ article", out)
    assert len(re.findall(rf"^\[\d\] {re.escape(sample_web.url)}{site_id}/", out, re.M)) == 3
    for name in ("title*", "lead", "published*", "authors", "section", "image", "body*"):
        row = re.search(rf"^{re.escape(name)}\s+(\S+)\s+(\S+)\s+(\S+)\s+(.+)$", out, re.M)
        assert row, (name, out)
    body = re.search(r"^body\*\s+(\S+)\s+(\S+)\s+(\S+)\s+\d+ lines, \d+ chars: ", out, re.M)
    assert body and set(body.groups()) == {"selector"}, out
    assert out.rstrip().endswith("OK: title, body, published found on all 3 pages")


def test_live_with_a_broken_template_exits_1(
    sample_web: SampleWebProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "caonguyen.toml").write_text(
        site_definition("caonguyen", sample_web.url + "caonguyen/"), encoding="utf-8"
    )
    # a redesign of a site without metadata: neither the title nor the body selector
    # matches any more, and no other layer has a title
    break_selector(tmp_path, "caonguyen", "title", "td.tieu-de")
    break_selector(tmp_path, "caonguyen", "body", "td.noi-dung")
    argv = ["sites", "test", "caonguyen", "--live", "--sites-dir", str(tmp_path)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert re.search(r"^title\*\s+error\s+error\s+error", out, re.M), out
    assert "[1] error: not an article" in out
    assert "FAILED: title missing on [1], [2], [3]; body missing on [1], [2], [3]" in out


def test_live_with_no_article_links_exits_1(
    sample_web: SampleWebProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = site_definition("tamdao", sample_web.url + "tamdao/")
    article = "article = '/bai-viet/[0-9]+[.]html$'"
    text = re.sub(r"(?m)^article = .*$", lambda _: article, text)
    (tmp_path / "tamdao.toml").write_text(text, encoding="utf-8")
    argv = ["sites", "test", "tamdao", "--live", "--sites-dir", str(tmp_path)]
    assert main(argv) == 1
    assert "FAILED: no link on the listing matches links.article" in capsys.readouterr().out
