"""Health on the small windows of incremental crawls, through real crawls of tamdao: a
body selector that broke is seen on the 2 new pages of an incremental crawl; an optional
lead absent from a few new pages is no alarm."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from aggregator.publish.health import HEALTH_FEED
from sampleweb import SampleWeb
from sampleweb.groundtruth import GroundTruthArticle, load_ground_truth
from tests.support.cli import run_cli
from tests.support.feedcheck import assert_valid_atom, atom_entries

ATOM = "{http://www.w3.org/2005/Atom}"


class Tamdao:
    """tamdao served in-process on a fixed port (URLs survive a restart), its definition
    editable between crawls."""

    def __init__(self, tmp_path: Path) -> None:
        with SampleWeb(ground_truth={"tamdao": []}) as web:
            self.port = int(web.url.rsplit(":", 1)[1].strip("/"))
        self.sites, self.db, self.feeds = tmp_path / "sites", tmp_path / "a.db", tmp_path / "feeds"
        self.body_selector: str | None = None

    def crawl(self, articles: list[GroundTruthArticle]) -> dict[str, Any]:
        """Crawl (incremental after the first), then the site's status."""
        with SampleWeb(port=self.port, ground_truth={"tamdao": articles}) as web:
            web.write_site_definitions(self.sites)
            if self.body_selector:
                path = self.sites / "tamdao.toml"
                text, n = re.subn(r'(?m)^body = ".*"$', f'body = "{self.body_selector}"',
                                  path.read_text(encoding="utf-8"))  # fmt: skip
                assert n == 1
                path.write_text(text, encoding="utf-8")
            common = ("--db", str(self.db), "--sites-dir", str(self.sites))
            run_cli("crawl", "tamdao", *common, "--feeds-dir", str(self.feeds))
        out = run_cli("status", "--json", *common, "--feeds-dir", str(self.feeds)).stdout
        site: dict[str, Any] = next(s for s in json.loads(out)["sites"] if s["site"] == "tamdao")
        return site


def newest_first() -> list[GroundTruthArticle]:
    return sorted(load_ground_truth("tamdao"), key=lambda a: a.published, reverse=True)


def test_a_body_selector_broken_on_two_new_pages_is_degraded_at_once(tmp_path: Path) -> None:
    articles = newest_first()
    site = Tamdao(tmp_path)
    first = site.crawl(articles[2:])
    assert first["verdict"] == "ok" and first["selector_share"]["body"] == 1.0
    site.body_selector = "div.article-detail div.noi-dung-moi"  # the template changed
    second = site.crawl(articles)
    assert second["last_crawl"]["inserted"] == 2, second["last_crawl"]
    assert second["verdict"] == "degraded" and second["fields"] == ["body"], second
    reason = "body: the definition's selector matched 0 of 2 new pages (before: 100% of pages)"
    assert any(r.startswith(reason) for r in second["reasons"]), second["reasons"]
    # the health feed's entry names the field and the evidence
    assert_valid_atom(site.feeds / HEALTH_FEED)
    entry = atom_entries(site.feeds / HEALTH_FEED)[0]
    assert (entry.findtext(f"{ATOM}title") or "").startswith("tamdao: ok → degraded")
    assert reason in (entry.findtext(f"{ATOM}content") or "")


def test_an_optional_lead_absent_from_new_pages_stays_ok(tmp_path: Path) -> None:
    """tamdao's articles have a sapo on two pages of three; the new ones have none."""
    articles = [replace(a, lead="") if i % 3 == 0 else a for i, a in enumerate(newest_first())]
    articles[:3] = [replace(a, lead="") for a in articles[:3]]
    site = Tamdao(tmp_path)
    first = site.crawl(articles[3:])
    assert first["verdict"] == "ok", first
    assert 0.5 < first["selector_share"]["lead"] < 0.8, first["selector_share"]
    second = site.crawl(articles[1:])  # 2 new pages without a lead
    assert second["last_crawl"]["inserted"] == 2
    assert second["verdict"] == "ok", second
    third = site.crawl(articles)  # 1 more: 0 of 3 pooled, still as likely as 1 in 30
    assert third["last_crawl"]["inserted"] == 1
    assert third["verdict"] == "ok", third
