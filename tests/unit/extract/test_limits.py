"""What one page may cost extraction: the pages that grew quadratically are read within a
CPU budget, pages over a bound are abandoned as ``too_complex``, long articles are cut and
flagged (pure: generated pages, no network; no timing is asserted, only whether the CPU
budget, read from the thread's own clock, ran out)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html
from lxml.etree import _Element

from aggregator.extract.article import PageLimits, TooComplex, extract_article
from aggregator.extract.limits import check_tree, checkpoint, page_budget
from aggregator.extract.listings import date_near, links
from aggregator.sites.definition import SiteDefinition, load_site
from sampleweb.hostile.costly import figures_page, links_block, nested_page

SITE = """
id = "mau"
name = "Báo Mẫu"
province = "Vĩnh Phúc"
base_url = "https://bao.example.vn/"
[links]
article = '-\\d+\\.html?$'
[selectors]
title = "article.news-detail h1.news-title"
body = "div.news-content"
"""

URL = "https://bao.example.vn/xa-hoi/phong-su-anh-1.html"
TITLE = "Phóng sự ảnh: một ngày ở làng nghề gốm cổ bên sông"
PARAGRAPH = (
    "Từ sáng sớm, những người thợ gốm đã nhóm lò, nặn từng chiếc bình theo cách ông cha "
    "truyền lại, giữ nghề qua bao thế hệ giữa những đổi thay của làng quê."
)
#: well over what a linear pass needs for these pages, far under what the quadratic ones
#: took (21 s, 106 s): a regression runs out of it
BUDGET = 3.0


@pytest.fixture
def site(tmp_path: Path) -> SiteDefinition:
    path = tmp_path / "mau.toml"
    path.write_text(SITE, encoding="utf-8")
    return load_site(path)


def test_thousands_of_figures_are_matched_within_the_budget(site: SiteDefinition) -> None:
    page = figures_page(TITLE, 4000, paragraphs=[PARAGRAPH] * 3)
    got = extract_article(URL, page, site, limits=PageLimits(cpu_seconds=BUDGET, max_images=0))
    assert len(got.images) == 4000
    assert got.images[3999] == {
        "url": "https://bao.example.vn/anh/3999.jpg",
        "caption": "Ảnh 3999 của phóng sự",
        "credit": "",
    }
    assert got.body_lines == [PARAGRAPH] * 3  # captions stay out of the text
    capped = extract_article(URL, page, site)
    assert capped.images == got.images[:100] and "truncated:images" in capped.flags


def test_thousands_of_links_in_one_block_get_their_dates_within_the_budget(
    site: SiteDefinition,
) -> None:
    page = f"<html><body>{links_block('/tin/bai-{i}.html', 8000)}</body></html>"
    root = lxml_html.fromstring(page)
    found = list(links(root, URL, site))
    assert len(found) == 8000
    seen: dict[_Element, str | None] = {}
    with page_budget(BUDGET):
        dates = [date_near(a, seen) for _, a in found]
    assert dates == ["12/11/2026"] * 8000


def test_a_deeply_nested_page_is_too_complex(site: SiteDefinition) -> None:
    page = nested_page(TITLE)  # 2,048 levels as parsed
    with pytest.raises(TooComplex, match="levels deep"):
        extract_article(URL, page, site, limits=PageLimits(cpu_seconds=BUDGET))


def test_nesting_under_the_depth_bound_is_read_within_the_budget(tmp_path: Path) -> None:
    """The generic body scorer checks each paragraph's parent for furniture once, not once
    per paragraph up every level."""
    path = tmp_path / "chung.toml"
    path.write_text(SITE.split("[selectors]")[0], encoding="utf-8")  # no body selector
    page = nested_page(TITLE, 30 * 250, per_level=30)  # 250 levels, 7,500 paragraphs
    limits = PageLimits(cpu_seconds=BUDGET, max_text=0, max_html=0)
    got = extract_article(URL, page, load_site(path), limits=limits)
    assert got.layers["body"] == "generic"
    assert len(got.body_lines) == 7500


def test_size_and_element_bounds_are_checked_before_the_passes(site: SiteDefinition) -> None:
    page = figures_page(TITLE, 2000, paragraphs=[PARAGRAPH])
    with pytest.raises(TooComplex, match="over 1000 elements"):
        extract_article(URL, page, site, limits=PageLimits(max_elements=1000))
    with pytest.raises(TooComplex, match="characters, over the bound"):
        extract_article(URL, page, site, limits=PageLimits(max_chars=len(page) - 1))
    assert extract_article(URL, page, site).images  # the defaults let it through


def test_a_spent_cpu_budget_abandons_the_page(site: SiteDefinition) -> None:
    page = figures_page(TITLE, 500, paragraphs=[PARAGRAPH] * 3)
    with pytest.raises(TooComplex, match="CPU budget"):
        extract_article(URL, page, site, limits=PageLimits(cpu_seconds=1e-9))


def test_checkpoints_cost_nothing_outside_an_extraction() -> None:
    for _ in range(100):
        checkpoint()  # no budget: never raises
    root = lxml_html.fromstring("<div>" * 200 + "x")
    check_tree(root, PageLimits(max_depth=0))  # 0: no bound
    with pytest.raises(TooComplex):
        check_tree(root, PageLimits(max_depth=199))


def test_tree_bounds_are_exact() -> None:
    root = node = etree.Element("div")
    for _ in range(49):  # 50 levels
        node = etree.SubElement(node, "div")
    for _ in range(10):  # 60 elements
        etree.SubElement(root, "p").append(etree.Comment("not an element"))
    check_tree(root, PageLimits(max_elements=60, max_depth=50))
    with pytest.raises(TooComplex, match="over 59 elements"):
        check_tree(root, PageLimits(max_elements=59))
    with pytest.raises(TooComplex, match="nested over 49 levels"):
        check_tree(root, PageLimits(max_depth=49))


@pytest.mark.parametrize(
    ("depth", "siblings", "bound"),
    [(20, 0, 20), (20, 0, 19), (33, 0, 32), (33, 400, 33), (33, 400, 32), (300, 0, 299),
     (300, 50, 300), (40, 400, 300)],
)  # fmt: skip
def test_the_depth_bound_is_exact_whatever_the_count(depth: int, siblings: int, bound: int) -> None:
    """Fewer elements than the bound, nesting within the usual depth or beyond it."""
    root = node = etree.Element("div")
    for _ in range(depth - 1):
        node = etree.SubElement(node, "div")
    for _ in range(siblings):
        etree.SubElement(root, "p")
    if depth > bound:
        with pytest.raises(TooComplex, match=f"nested over {bound} levels"):
            check_tree(root, PageLimits(max_depth=bound))
    else:
        check_tree(root, PageLimits(max_depth=bound))


def test_a_long_article_is_cut_and_flagged(site: SiteDefinition) -> None:
    paragraphs = [f"{n}. {PARAGRAPH}" for n in range(100)]
    page = figures_page(TITLE, 0, paragraphs=paragraphs)
    whole = extract_article(URL, page, site)
    assert len(whole.body_lines) == 100
    assert not [f for f in whole.flags if f.startswith("truncated")]
    cut = extract_article(URL, page, site, limits=PageLimits(max_text=2000, max_html=3000))
    assert cut.body_lines == whole.body_lines[: len(cut.body_lines)]
    assert 0 < len("\n".join(cut.body_lines)) <= 2000
    assert len(cut.body_html) <= 3000
    assert whole.body_html.startswith(cut.body_html)
    assert cut.body_html.endswith("</p>")  # cut at an element's end
    assert {"truncated:body_text", "truncated:body_html"} <= set(cut.flags)
