"""The bundled catalogue of real newspapers: every definition loads, none is verified yet,
and each one's link rules fit the URL shapes of the reference notes
(``../shared/reference/provincial-sites.md``; slugs and unknown ids filled in)."""

from __future__ import annotations

import pytest

from aggregator.app.cli import main
from aggregator.sites.definition import BUNDLED_SITES_DIR, load_sites

#: id -> (article URLs, URLs that are not articles, listing/pagination URLs)
SHAPES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "tayninh": (
        ["https://baotayninh.vn/bai-viet-mau-a169010.html"],
        ["https://baotayninh.vn/thoi-su-chinh-tri/"],
        ["https://baotayninh.vn/thoi-su-chinh-tri/?p=2&d="],
    ),
    "nghean": (
        [
            "https://baonghean.vn/bai-viet-mau-post95853.html",
            "https://baonghean.vn/thoi-su/201708/bai-viet-mau-2835874/",
            "https://baonghean.vn/bai-viet-mau-303978.html",
            "https://baonghean.vn/bai-viet-mau-10282171.html",
        ],
        ["https://baonghean.vn/thoi-su", "https://baonghean.vn/video/bai-viet-mau-303978.html"],
        [],
    ),
    "thainguyen": (
        ["https://baothainguyen.vn/thoi-su-thai-nguyen/202604/bai-viet-mau-3ac6d79/"],
        ["https://baothainguyen.vn/thoi-su-thai-nguyen/"],
        ["https://baothainguyen.vn/thoi-su-thai-nguyen/trang-2.html"],
    ),
    "phutho": (
        ["https://baophutho.vn/bai-viet-mau-244359.htm"],
        ["https://baophutho.vn/topic/chu-de-mau-140103", "https://baophutho.vn/tag/phu-tho"],
        ["https://baophutho.vn/phutho24h/?page=3"],
    ),
    "quangninh": (
        [
            "https://baoquangninh.vn/bai-viet-mau-3354446.html",
            "https://baoquangninh.vn/bai-viet-mau-post3349315.html",
        ],
        ["https://baoquangninh.vn/thoi-su-215.html", "https://baoquangninh.vn/rss/kinh-te.rss"],
        ["https://baoquangninh.vn/kinh-te/?page=34"],
    ),
    "bacgiang": (
        [
            "https://baobacgiang.vn/bg/suc-khoe/371838/bai-viet-mau.html",
            "https://baobacgiang.vn/bai-viet-mau-postid413098.bbg",
        ],
        ["https://baobacgiang.vn/bg/suc-khoe/"],
        ["https://baobacgiang.vn/bg/suc-khoe/p/3"],
    ),
    "quangngai": (
        [
            "https://baoquangngai.vn/channel/2104/201404/bai-viet-mau-2309115",
            "https://baoquangngai.vn/bai-viet-mau-3145678.htm",
        ],
        ["https://baoquangngai.vn/channel/2023/"],
        ["https://baoquangngai.vn/channel/2023/"],
    ),
    "tuyenquang": (
        ["https://baotuyenquang.com.vn/xa-hoi/202404/bai-viet-mau-191122/"],
        ["https://baotuyenquang.com.vn/xa-hoi/trang-19.html"],
        ["https://baotuyenquang.com.vn/xa-hoi/trang-19.html"],
    ),
    "hatinh": (
        ["https://baohatinh.vn/bai-viet-mau-post283715.html"],
        ["https://baohatinh.vn/thoi-su/"],
        ["https://baohatinh.vn/thoi-su/?page=34", "https://baohatinh.vn/thoi-su/p/3"],
    ),
    "gialai": (
        ["https://baogialai.com.vn/bai-viet-mau-post312345.html"],
        ["https://baogialai.com.vn/thoi-su/"],
        ["https://baogialai.com.vn/thoi-su/?page=34"],
    ),
    "binhduong": (
        ["https://baobinhduong.vn/bai-viet-mau-a345678.html"],
        ["https://baobinhduong.vn/kinh-te/"],
        ["https://baobinhduong.vn/kinh-te/p/3"],
    ),
    "cantho": (
        ["https://baocantho.com.vn/bai-viet-mau-a187654.html"],
        ["https://baocantho.com.vn/kinh-te/"],
        ["https://baocantho.com.vn/kinh-te/?page=34"],
    ),
}

#: provinces that merged into another on 1 July 2025
MERGED_AWAY = {"bacgiang", "binhduong"}


def test_catalogue_is_complete() -> None:
    bundled = {p.stem for p in BUNDLED_SITES_DIR.glob("*.toml")}
    assert bundled == set(SHAPES), "every bundled definition needs its URL shapes here"
    assert len(bundled) >= 10


def test_sites_check_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sites", "check"]) == 0
    assert f"{len(SHAPES)} site definitions OK" in capsys.readouterr().out


@pytest.mark.parametrize("site_id", sorted(SHAPES))
def test_definition_fits_its_url_shapes(site_id: str) -> None:
    site = load_sites().get(site_id)
    assert site.path is not None and site.path.stem == site_id
    assert site.verified is False, "nobody has run it against the live site yet"
    assert site.active is (site_id not in MERGED_AWAY)
    articles, others, listings = SHAPES[site_id]
    for url in articles:
        assert site.in_domain(url), url
        assert site.is_article(url), f"{site_id}: links.article misses {url}"
    for url in others:
        assert not site.is_article(url), f"{site_id}: {url} is not an article"
    for url in listings:
        assert site.is_listing(url), f"{site_id}: links.listing misses {url}"
    # every source is on the site
    for urls in site.start_urls.values():
        assert all(site.in_domain(u) for u in urls)
