"""Link patterns proposed from the links a site shows (``aggregator sites new``)."""

from __future__ import annotations

import re

from aggregator.sites.infer import article_pattern, menu_sections, page_pattern, relative_path

BASE = "https://example.vn/"


def _matches(pattern: str, url: str) -> bool:
    return re.search(pattern, url) is not None


def test_relative_path_stays_under_the_base() -> None:
    assert relative_path("https://example.vn/a/b.html", BASE) == "a/b.html"
    assert relative_path("https://www.example.vn/a/?p=2", BASE) == "a/?p=2"
    assert relative_path("https://other.vn/a/", BASE) is None
    assert relative_path("https://h.vn/x/a/", "https://h.vn/y/") is None


def test_article_pattern_ends_with_the_id_prefix() -> None:
    urls = [f"{BASE}tin-nong-tinh-ta-mo-rong-duong-vanh-dai-so-{i}-a1699{i:02d}.html"
            for i in range(5)] + [f"{BASE}kinh-te/", f"{BASE}"]  # fmt: skip
    found = article_pattern(urls, BASE)
    assert found is not None
    pattern, n = found
    assert n == 5
    assert pattern == r"/[^/]*-a\d+\.html$"
    assert not _matches(pattern, f"{BASE}kinh-te/")


def test_article_pattern_generalizes_sections_and_dates() -> None:
    urls = [
        f"{BASE}{section}/2026{m:02d}/mot-hai-ba-bon-nam-sau-bay-tam-{m}f3a{m}c/"
        for section in ("kinh-te", "y-te", "giao-duc")
        for m in range(1, 4)
    ]
    pattern, n = article_pattern(urls, BASE) or ("", 0)
    assert n == 9
    assert pattern == r"/(?:giao-duc|kinh-te|y-te)/\d{6}/[^/]*-[0-9a-f]{6,}/$"
    assert all(_matches(pattern, u) for u in urls)


def test_article_pattern_ignores_media_and_other_sites() -> None:
    urls = [f"{BASE}video/{n}/mot-hai-ba-bon-nam-sau-bay.htm" for n in range(9001, 9010)]
    urls += [f"https://other.vn/xa-hoi/{n}/mot-hai-ba-bon-nam-sau-bay.htm" for n in range(9)]
    urls += [f"{BASE}xa-hoi/{n}/mot-hai-ba-bon-nam-sau-bay.htm" for n in (7618, 812, 10001)]
    pattern, n = article_pattern(urls, "https://example.vn/") or ("", 0)
    assert n == 3
    assert pattern == r"/xa-hoi/\d+/[^/]+\.htm$"
    assert article_pattern([f"{BASE}kinh-te/", BASE], BASE) is None


def test_menu_sections_are_short_menu_links_to_section_pages() -> None:
    links = [
        (BASE, "Trang chủ", True),
        (f"{BASE}thoi-su/", "Thời sự", True),
        (f"{BASE}kinh-te/", "Kinh tế", True),
        (f"{BASE}video/", "Media", True),
        (f"{BASE}tim-kiem?q=x", "Tìm kiếm", True),
        (f"{BASE}van-hoa/", "Văn hóa", False),
        (f"{BASE}mot-hai-ba-bon-nam-sau-bay-a12345.html", "Một hai", True),
        ("https://other.vn/the-thao/", "Thể thao", True),
        (f"{BASE}thoi-su/", "Thời sự", True),
    ]
    assert menu_sections(links, BASE) == [("thoi-su/", "Thời sự"), ("kinh-te/", "Kinh tế")]


def test_page_pattern_from_query_and_path_pages() -> None:
    pairs = [(f"{BASE}kinh-te/", f"{BASE}kinh-te/?p=2&d="), (f"{BASE}kinh-te/", f"{BASE}x/")]
    pattern = page_pattern(pairs, BASE, ["kinh-te/", "van-hoa/"])
    assert pattern == r"/(?:kinh-te/|van-hoa/)\?(?:.*&)?p=\d+"
    assert _matches(pattern or "", f"{BASE}van-hoa/?p=7")
    pairs = [(f"{BASE}the-thao/", f"{BASE}the-thao/trang-2.html")]
    pattern = page_pattern(pairs, BASE, ["the-thao/"])
    assert pattern == r"/(?:the-thao/)trang-\d+\.html$"
    assert page_pattern([(f"{BASE}a/", f"{BASE}a/b/")], BASE, ["a/"]) is None
