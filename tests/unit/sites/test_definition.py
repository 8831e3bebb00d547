from pathlib import Path

import pytest

from aggregator.sites.definition import (
    BUNDLED_SITES_DIR,
    SiteDefinitionError,
    load_site,
    load_sites,
)

GOOD = """
id = "tayninh"
name = "Báo Tây Ninh"
province = "Tây Ninh"
base_url = "https://baotayninh.vn/"
[sources]
listings = ["thoi-su-chinh-tri/"]
[links]
article = '-a\\d+\\.html$'
listing = '[?&]p=\\d+'
max_listing_pages = 10
[categories]
"thoi-su-chinh-tri" = "thoi-su"
"Văn hóa - Xã hội" = ["van-hoa", "xa-hoi"]
[selectors]
title = "h1.post-title"
body = "div.post-content"
section = "div.bread a:last-of-type"
remove = [".tags", "form"]
published = "xpath://span[@class='post-time']/text()"
[politeness]
delay = 0.5
concurrency = 2
autothrottle = true
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_definition(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, "tayninh.toml", GOOD))
    assert site.start_urls["listings"] == ["https://baotayninh.vn/thoi-su-chinh-tri/"]
    assert site.allowed_domains == ["baotayninh.vn"]
    assert site.is_article("https://baotayninh.vn/abc-a169010.html")
    assert site.is_listing("https://baotayninh.vn/thoi-su-chinh-tri/?p=2&d=")
    assert not site.is_listing("https://baotayninh.vn/abc-a169010.html")
    assert site.categories_for("thoi-su-chinh-tri") == ("thoi-su",)
    # case and diacritics do not matter; tone-mark placement neither
    assert site.categories_for("VĂN HOÁ - XÃ HỘI") == ("van-hoa", "xa-hoi")
    assert site.categories_for("van-hoa-xa-hoi") == ("van-hoa", "xa-hoi")
    # unmapped: its own ASCII key
    assert site.categories_for("Đời sống") == ("xa-hoi",)  # through the shared scheme
    assert site.categories_for("Chuyện lạ") == ("chuyen-la",)
    assert site.in_domain("https://www.baotayninh.vn/x") and not site.in_domain("https://evil.vn/")


def test_loopback_base_url_with_port(tmp_path: Path) -> None:
    text = GOOD.replace("https://baotayninh.vn/", "http://127.0.0.1:8123/tayninh/")
    site = load_site(write(tmp_path, "t.toml", text))
    assert site.allowed_domains == ["127.0.0.1"]
    assert site.start_urls["listings"] == ["http://127.0.0.1:8123/tayninh/thoi-su-chinh-tri/"]


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (('name = "Báo Tây Ninh"\n', ""), "name", "missing required key"),
        (("article = '-a\\d+\\.html$'", "article = '(['"), "links.article", "bad regex"),
        (('title = "h1.post-title"', 'title = "h1[["'), "selectors.title", "bad selector"),
        (('id = "tayninh"', 'id = "Tây Ninh"'), "id", "must match"),
        (
            ('base_url = "https://baotayninh.vn/"', 'base_url = "baotayninh.vn"'),
            "base_url",
            "not an absolute",
        ),
        (("delay = 0.5", "delay = 0.5\nspeed = 3"), "politeness.speed", "unknown key"),
        (("delay = 0.5", "delay = -1"), "politeness.delay", "greater than or equal"),
        (('province = "Tây Ninh"', 'province = "Tây Ninh'), "(file)", "invalid TOML"),
    ],
)
def test_bad_definition_one_line(
    tmp_path: Path, change: tuple[str, str], key: str, problem: str
) -> None:
    path = write(tmp_path, "bad.toml", GOOD.replace(*change))
    with pytest.raises(SiteDefinitionError) as info:
        load_site(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}: {key}: ")
    assert problem in lines[0]


def test_duplicate_id_and_override(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write(a, "one.toml", GOOD)
    write(b, "two.toml", GOOD.replace("Báo Tây Ninh", "Báo Tây Ninh (mới)"))
    registry = load_sites([a, b], bundled=False)
    assert registry.get("tayninh").name == "Báo Tây Ninh (mới)"  # later folder overrides
    write(a, "three.toml", GOOD)
    with pytest.raises(SiteDefinitionError, match=r"three.toml: id: duplicate id 'tayninh'"):
        load_sites([a], bundled=False)


def test_unknown_site_lists_known(tmp_path: Path) -> None:
    write(tmp_path, "t.toml", GOOD)
    registry = load_sites([tmp_path], bundled=False)
    with pytest.raises(KeyError, match="known sites: tayninh"):
        registry.get("nope")


def test_bundled_definitions_load() -> None:
    registry = load_sites()
    assert len(registry) == len(list(BUNDLED_SITES_DIR.glob("*.toml")))
