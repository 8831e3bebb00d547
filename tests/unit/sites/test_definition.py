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
    assert site.categories_for("Đời sống") == ("xa-hoi",)  # through the shared scheme
    # in neither: no category (page text never mints a key)
    assert site.categories_for("Chuyện lạ") == ()
    assert site.in_scope("https://baotayninh.vn/x") and site.in_scope("http://baotayninh.vn/x")
    assert not site.in_scope("https://evil.vn/")
    # subdomains only when listed
    assert not site.in_scope("https://www.baotayninh.vn/x")


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


def test_province_key_derived_from_the_province_name(tmp_path: Path) -> None:
    assert load_site(write(tmp_path, "t.toml", GOOD)).province_key == "tayninh"
    old = GOOD.replace('province = "Tây Ninh"', 'province = "Long An"')
    assert load_site(write(tmp_path, "t.toml", old)).province_key == "tayninh"  # merged in 2025
    other = GOOD.replace('province = "Tây Ninh"', 'province = "Tỉnh Mẫu"')
    assert load_site(write(tmp_path, "t.toml", other)).province_key is None  # not a real one
    given = other.replace('province = "Tỉnh Mẫu"', 'province = "Tỉnh Mẫu"\nprovince_key = "hue"')
    assert load_site(write(tmp_path, "t.toml", given)).province_key == "hue"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("vinhphuc", "province_key: unknown province key 'vinhphuc'; one of: angiang"),
        ("hanoi", "province_key: 'hanoi', but province 'Tây Ninh' is part of 'tayninh' since"),
    ],
)
def test_bad_province_key(tmp_path: Path, key: str, problem: str) -> None:
    text = GOOD.replace('province = "Tây Ninh"', f'province = "Tây Ninh"\nprovince_key = "{key}"')
    with pytest.raises(SiteDefinitionError) as exc:
        load_site(write(tmp_path, "t.toml", text))
    assert problem in str(exc.value) and len(exc.value.problems) == 1


def _paper(site_id: str, province: str, merged_into: str) -> str:
    return (
        GOOD.replace('id = "tayninh"', f'id = "{site_id}"')
        .replace('province = "Tây Ninh"', f'province = "{province}"')
        .replace("base_url", f'active = false\nmerged_into = "{merged_into}"\nbase_url')
    )


def test_merged_into_names_an_outlet_of_the_same_province(tmp_path: Path) -> None:
    write(tmp_path, "tayninh.toml", GOOD)
    write(tmp_path, "longan.toml", _paper("longan", "Long An", "tayninh"))
    registry = load_sites([tmp_path], bundled=False)
    assert registry.get("longan").merged_into == "tayninh"
    assert registry.get("longan").province_key == "tayninh"


@pytest.mark.parametrize(
    ("site_id", "province", "merged_into", "problem"),
    [
        ("haiduong", "Hải Dương", "hai-phong", "merged_into: 'hai-phong' names no loaded definition"),
        ("haiduong", "Hải Dương", "haiduong", "merged_into: 'haiduong' names itself"),
        ("haiduong", "Hải Dương", "Hải Phòng", "merged_into: 'Hải Phòng' must be a site id"),
        ("vinhphuc", "Vĩnh Phúc", "tayninh",
         "merged_into: 'tayninh' is an outlet of 'tayninh', this paper's province is 'phutho'"),
        ("baden", "Tây Ninh", "longan", "merged_into: 'longan' merged into 'tayninh' itself"),
    ],
)  # fmt: skip
def test_bad_merged_into(
    tmp_path: Path, site_id: str, province: str, merged_into: str, problem: str
) -> None:
    write(tmp_path, "tayninh.toml", GOOD)
    write(tmp_path, "longan.toml", _paper("longan", "Long An", "tayninh"))
    write(tmp_path, "z.toml", _paper(site_id, province, merged_into))
    with pytest.raises(SiteDefinitionError) as exc:
        load_sites([tmp_path], bundled=False)
    assert len(exc.value.problems) == 1, exc.value.problems
    assert exc.value.problems[0].startswith(str(tmp_path / "z.toml"))
    assert problem in exc.value.problems[0]


def test_deeply_nested_toml_is_one_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "sau.toml", "a = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(SiteDefinitionError) as info:
        load_site(path)
    assert info.value.problems == [f"{path}: (file): invalid TOML: nested too deeply"]


def test_lenient_loading_leaves_the_broken_out_and_keeps_the_rest(tmp_path: Path) -> None:
    write(tmp_path, "tayninh.toml", GOOD)
    broken = write(tmp_path, "hong.toml", GOOD.replace('"tayninh"', '"hong"').replace("'-a", "'(("))
    nested = write(tmp_path, "sau.toml", "a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n")
    with pytest.raises(SiteDefinitionError):
        load_sites([tmp_path], bundled=False)
    registry = load_sites([tmp_path], bundled=False, strict=False)
    assert list(registry.sites) == ["tayninh"]
    assert registry.broken == {str(broken), str(nested)}
    assert len(registry.problems) == 2
    assert registry.problems[0].startswith(f"{broken}: links.article: bad regex")
    assert registry.problems[1] == f"{nested}: (file): invalid TOML: nested too deeply"


def test_lenient_loading_drops_a_bad_merged_into(tmp_path: Path) -> None:
    write(tmp_path, "tayninh.toml", GOOD.replace("base_url", 'merged_into = "nowhere"\nbase_url'))
    registry = load_sites([tmp_path], bundled=False, strict=False)
    assert len(registry) == 0 and registry.broken == {str(tmp_path / "tayninh.toml")}
    assert "merged_into: 'nowhere' names no loaded definition" in registry.problems[0]
