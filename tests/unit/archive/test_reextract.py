"""Re-extraction's choice of a site definition for an archived page, and the page it
hands on (re-extractions of a crawl's WARC files: tests/integration/archive/)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.http import JsonResponse, TextResponse

from aggregator.archive.reextract import ReextractReport, _page, response_of, site_for
from aggregator.archive.warc import ArchivedResponse
from aggregator.extract.article import PageLimits
from aggregator.extract.limits import declares_html
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


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        ("bai-a1.html", [("Content-Type", "text/html; charset=utf-8")], b"<p>a</p>"),
        ("bai-a1.html", [("content-type", "text/plain"), ("Content-Type", "text/html")], b""),
        ("bai-a1.html", [("Content-Type", "application/json")], b"{}"),
        ("bai-a1.json", [], b"{}"),
        ("bai-a1.html", [("Content-Type", "application/pdf")], b"%PDF"),
        ("bai-a1.html", [], b"<p>a</p>"),
        ("bai-a1", [], b"<html><p>a</p></html>"),
        ("bai-a1", [], b"\x00\x01\x02binary"),
        ("bai-a1", [("Content-Disposition", "attachment; filename=a.pdf")], b"x"),
        ("bai-a1", [("Content-Disposition", "inline; filename=a.html")], b"x"),
        ("bai-a1", [("Content-Type", "text/html; charset=\u0111")], b"<p>a</p>"),
    ],
)
def test_page_is_what_the_spiders_response_gives(
    path: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    """The page handed on without building a Scrapy response: HTML or not as the
    response's class and type say, its Content-Type the response's own (the last)."""
    archived = ArchivedResponse(
        file="baden-20261127T010203Z-00001.warc.gz", offset=0, record_id="<urn:uuid:1>",
        url=f"http://127.0.0.1:8047/baden/{path}", date=datetime(2026, 11, 27, tzinfo=UTC),
        status=200, headers=headers, body=body, crawl="baden-20261127T010203Z",
    )  # fmt: skip
    response = response_of(archived)
    html = isinstance(response, TextResponse) and declares_html(
        archived.header("Content-Type"), json=isinstance(response, JsonResponse)
    )
    report = ReextractReport()
    page = _page(archived, PageLimits(), report)
    assert (page is not None) == html and report.not_html == (not html)
    if page is not None:
        declared = response.headers.get(b"Content-Type")
        assert page.content_type == (declared.decode("latin-1") if declared else None)
        assert (page.url, page.body) == (response.url, response.body)
