from pathlib import Path

from aggregator.sites.categories import categories_for_section, category_label, category_labels
from aggregator.sites.definition import known_categories, load_site


def test_scheme_labels() -> None:
    labels = category_labels()
    assert labels["xay-dung-dang"] == "Xây dựng Đảng"
    assert labels["quoc-phong-an-ninh"] == "Quốc phòng - An ninh"
    assert category_label("khong-co") == "khong-co"
    assert len(labels) >= 18


def test_sections_seen_on_real_sites_map_through_the_scheme() -> None:
    assert categories_for_section("thoi-su-thai-nguyen") == ("thoi-su",)
    assert categories_for_section("Thoi-su") == ("thoi-su",)
    assert categories_for_section("/thoi-su-215.html".strip("/")) == ("thoi-su",)
    assert categories_for_section("xay-dung-ang") == ("xay-dung-dang",)  # Đ lost in a slug
    assert categories_for_section("Văn hóa - Xã hội") == ("xa-hoi", "van-hoa")
    assert categories_for_section("Nông nghiệp") == ("kinh-te",)
    assert categories_for_section("emagazine") == ()


def test_site_map_then_scheme_and_nothing_minted_from_page_text(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        'id = "s"\nname = "S"\nprovince = "P"\nbase_url = "https://s.vn/"\n'
        '[links]\narticle = \'x\'\n[categories]\n"nong-nghiep" = "nong-nghiep"\n',
        encoding="utf-8",
    )
    site = load_site(path)
    assert site.categories_for("Nông nghiệp") == ("nong-nghiep",)  # the site's map wins
    assert site.categories_for("suc-khoe") == ("y-te",)  # the shared scheme
    # a section in neither gets no key: not a hostile one, not a charset-garbled one
    for section in ("Đời sống mới", "/etc/passwd", "Thời sự <script>alert('sec')</script>",
                    "Thá»i sá»±", "Thêi sù", "x" * 5000):  # fmt: skip
        assert site.categories_for(section) == (), section
    assert site.category_keys == {"nong-nghiep"}
    known = known_categories([site])
    assert known == set(category_labels()) | {"nong-nghiep"}
    assert "etc-passwd" not in known and "thoi-su" in known
