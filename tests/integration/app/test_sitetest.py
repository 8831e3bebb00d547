"""``aggregator sites test`` against the sample web served over HTTP: one page fetched and
compared with its fixture, saved as a fixture, and ``--live`` on a site's listing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.app.cli import main
from sampleweb.groundtruth import load_ground_truth
from sampleweb.render import article_path, site_definition
from tests.support.crawls import SampleWebProcess
from tests.support.loopweb import DEFINITION, Web, article
from tests.support.sitefixtures import SAMPLE_SITES, break_selector, write_sample_fixtures


@pytest.fixture(autouse=True)
def _no_sites_dirs_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGGREGATOR_SITES_DIRS", raising=False)


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


# -- what sites test fetches ------------------------------------------------------------


@pytest.fixture
def two_webs() -> Iterator[tuple[Web, Web]]:
    """A site on 127.0.0.1 and, on another port, an internal service it points to."""
    site, internal = Web(), Web()
    site.start()
    internal.start()
    internal.pages["/noi-bo-a9.html"] = article("Bí mật nội bộ của cơ quan")
    yield site, internal
    site.stop()
    internal.stop()


def test_live_follows_no_redirect_off_the_site(
    two_webs: tuple[Web, Web], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site, internal = two_webs
    off = f"http://127.0.0.1:{internal.port}/noi-bo-a9.html"
    site.pages.update({
        "/": (200, {}, '<a href="/tin-a1.html">Một</a><a href="/tin-a2.html">Hai</a>'),
        "/tin-a1.html": (302, {"Location": off}, ""),
        "/tin-a2.html": article("Tin hai ở tỉnh nhà hôm nay"),
        "/robots.txt": (302, {"Location": f"http://127.0.0.1:{internal.port}/robots.txt"}, ""),
    })  # fmt: skip
    base = f"http://127.0.0.1:{site.port}/"
    (tmp_path / "news.toml").write_text(DEFINITION.format(id="news", base_url=base, extra=""))
    main(["sites", "test", "news", "--live", "--sites-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert internal.seen == []
    assert f"redirect off the site (port {internal.port})" in out
    assert (f"127.0.0.1:{site.port}", "/tin-a2.html") in site.seen  # the rest is read


@pytest.mark.parametrize("path", ["file://127.0.0.1/etc/passwd?x=-a1.html", "other-port"])
def test_one_page_off_the_site_is_refused(
    two_webs: tuple[Web, Web], tmp_path: Path, path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    site, internal = two_webs
    url = path if path.startswith("file:") else f"http://127.0.0.1:{internal.port}/noi-bo-a9.html"
    base = f"http://127.0.0.1:{site.port}/"
    (tmp_path / "news.toml").write_text(DEFINITION.format(id="news", base_url=base, extra=""))
    assert main(["sites", "test", "news", url, "--sites-dir", str(tmp_path)]) != 0
    assert "outside news's domains" in capsys.readouterr().err
    assert internal.seen == []
