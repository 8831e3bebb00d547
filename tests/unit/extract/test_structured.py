"""Structured data as real pages write it, on small hand-written pages: character references
in JSON-LD, the paper credited as its own author, odd ISO dates, JSON-LD nested too deep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from parsel import Selector

from aggregator.extract.article import extract_article
from aggregator.extract.structured import read_structured
from aggregator.sites.definition import SiteDefinition, load_site

SITE = """
id = "mau"
name = "Báo Mẫu"
province = "Vĩnh Phúc"
base_url = "https://baomau.vn/"
[links]
article = '-\\d+\\.htm$'
"""
URL = "https://baomau.vn/kinh-te/gia-lua-tang-12345.htm"
BODY = "".join(
    f"<p>Đoạn văn thứ {i} kể chuyện giá lúa ở đồng bằng trong vụ đông xuân năm nay.</p>"
    for i in range(1, 6)
)


def page(jsonld: object = None, meta: str = "", body: str = BODY) -> str:
    script = (
        f'<script type="application/ld+json">{json.dumps(jsonld, ensure_ascii=False)}</script>'
        if jsonld is not None
        else ""
    )
    return (
        f"<html><head><title>Giá lúa tăng</title>{meta}{script}</head>"
        f"<body><h1>Giá lúa tăng</h1><article>{body}</article></body></html>"
    )


@pytest.fixture
def site(tmp_path: Path) -> SiteDefinition:
    path = tmp_path / "mau.toml"
    path.write_text(SITE, encoding="utf-8")
    return load_site(path)


def news(**fields: object) -> dict[str, object]:
    return {"@context": "https://schema.org", "@type": "NewsArticle", **fields}


def test_character_references_in_jsonld_and_twice_escaped_meta_are_text() -> None:
    html = page(
        news(
            headline="Gi&#225; l&#250;a t&#259;ng", author={"@type": "Person", "name": "L&#202; AN"}
        ),
        meta='<meta property="og:description" content="M&amp;#7897;t v&amp;#7909;">',
    )
    found = read_structured(Selector(html))
    assert found["title"].value == "Giá lúa tăng"
    assert found["authors"].value == ["LÊ AN"]
    assert found["lead"].value == "Một vụ"


def test_an_ampersand_that_is_no_reference_stays() -> None:
    found = read_structured(Selector(page(news(headline="AT&T và R&D"))))
    assert found["title"].value == "AT&T và R&D"


@pytest.mark.parametrize(
    ("author", "meta"),
    [
        ({"@type": "Organization", "name": "Báo Mẫu Online"}, ""),  # = the publisher's name
        ({"@type": "Person", "name": ""}, '<meta name="author" content="BAOMAU.VN">'),
        ({"@type": "Person", "name": ""}, '<meta name="author" content="XCorp.vn">'),
        (None, '<meta name="author" content="Báo Mẫu Online">'),
    ],
)
def test_the_publication_is_not_taken_as_the_author(author: object, meta: str) -> None:
    obj = news(
        headline="Giá lúa tăng", publisher={"@type": "Organization", "name": "Báo Mẫu Online"}
    )
    if author is not None:
        obj["author"] = author
    found = read_structured(Selector(page(obj, meta)))
    assert "authors" not in found


def test_the_site_definitions_name_is_not_the_author(site: SiteDefinition) -> None:
    # the paper names itself as the author and prints the reporter's name under the body
    html = page(
        news(headline="Giá lúa tăng", author={"@type": "Organization", "name": "BÁO MẪU"}),
        body=BODY + "<p>Trần Bình</p>",
    )
    got = extract_article(URL, html, site)
    assert got.authors == ["Trần Bình"]
    assert got.layers["authors"] == "heuristic"


def test_a_wire_agency_credited_as_an_organization_is_an_author(site: SiteDefinition) -> None:
    obj = news(headline="Giá lúa tăng", author={"@type": "Organization", "name": "TTXVN"})
    assert extract_article(URL, page(obj), site).authors == ["TTXVN"]


def test_a_byline_prefix_in_structured_names_is_not_the_name() -> None:
    found = read_structured(Selector(page(news(author={"@type": "Person", "name": "Theo Hồ An"}))))
    assert found["authors"].value == ["Hồ An"]


def test_a_jsonld_date_with_a_space_before_the_offset(site: SiteDefinition) -> None:
    obj = news(headline="Giá lúa tăng", datePublished="2026-03-07T08:52:11.000 +07:00")
    got = extract_article(URL, page(obj), site)
    assert got.published is not None
    assert got.published.isoformat() == "2026-03-07T08:52:11+07:00"
    assert got.layers["published"] == "jsonld"


def _nested(depth: int, inner: object) -> object:
    for _ in range(depth):
        inner = [inner]
    return inner


@pytest.mark.parametrize("depth", [300, 5_000, 200_000])
def test_deeply_nested_jsonld_is_no_crash(site: SiteDefinition, depth: int) -> None:
    """Hundreds of thousands of levels: ``json`` gives up (RecursionError), the walk stops
    at a fixed depth (the author and image nested 900 deep are not looked for); either
    way the page is read from the rest, with no RecursionError."""
    deep = "[" * depth + "]" * depth
    author = json.dumps(_nested(min(depth, 900), {"name": "X"}))
    html = page(None).replace(
        "</head>",
        f'<script type="application/ld+json">{deep}</script>'
        f'<script type="application/ld+json">{{"@type": "NewsArticle", "author": {author}, '
        f'"image": {author}, "headline": "Giá lúa tăng"}}</script></head>',
    )
    got = extract_article(URL, html, site)
    assert got.title == "Giá lúa tăng"
    assert got.layers["title"] == "jsonld"


@pytest.mark.parametrize(
    "byline",
    [
        '<p class="name" data-role="author">Trần Bình </p>',
        '<a href="" class="author cl_green">Trần Bình</a>',
        '<span itemprop="author" itemscope><span itemprop="name">Trần Bình</span></span>',
        '<a rel="author" href="/tac-gia/tran-binh">Trần Bình</a>',
        '<div class="byline">Theo Trần Bình (tổng hợp)</div>',
    ],
)
def test_the_element_marked_as_the_byline_gives_the_authors(
    site: SiteDefinition, byline: str
) -> None:
    got = extract_article(URL, page(news(headline="Giá lúa tăng"), body=byline + BODY), site)
    assert got.authors == ["Trần Bình"]
    assert got.layers["authors"] == "markup"


@pytest.mark.parametrize(
    "byline",
    [
        '<div class="author">Bài viết của bạn đọc gửi về toà soạn, xin cảm ơn.</div>',
        '<div class="comment-list"><span class="author">Lê Văn Cư</span></div>',
        '<span class="author">Báo Mẫu Online</span>',
    ],
)
def test_no_author_from_what_is_not_a_byline(site: SiteDefinition, byline: str) -> None:
    obj = news(
        headline="Giá lúa tăng", publisher={"@type": "Organization", "name": "Báo Mẫu Online"}
    )
    got = extract_article(URL, page(obj, body=BODY + byline), site)
    assert got.layers.get("authors") != "markup"
