"""Re-extraction's choice of a site definition for an archived page (re-extractions of a
crawl's WARC files: tests/integration/archive/)."""

from __future__ import annotations

from pathlib import Path

from aggregator.archive.reextract import site_for
from aggregator.sites.definition import SiteDefinition, load_site


def test_site_for_prefers_the_crawled_site_then_the_base_url(tmp_path: Path) -> None:
    def site(site_id: str) -> SiteDefinition:
        path = tmp_path / f"{site_id}.toml"
        path.write_text(
            f'id = "{site_id}"\nname = "Báo"\nprovince = "Tỉnh"\n'
            f'base_url = "http://127.0.0.1:8047/{site_id}/"\n'
            "[links]\narticle = '-a\\d+\\.html$'\n",
            encoding="utf-8",
        )
        return load_site(path)

    a, b = site("baden"), site("tamdao")
    url = "http://127.0.0.1:8047/tamdao/tin-a1.html"
    assert site_for(url, [a, b]) is b
    assert site_for(url, [a, b], crawl_site="baden") is a
    assert site_for("http://127.0.0.1:8047/tamdao/muc/", [a, b]) is None
    assert site_for("http://other.vn/tin-a1.html", [a, b]) is None
