from pathlib import Path

from aggregator.sites.categories import categories_for_section, category_label, category_labels
from aggregator.sites.definition import load_site


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


def test_site_map_then_scheme_then_own_key(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        'id = "s"\nname = "S"\nprovince = "P"\nbase_url = "https://s.vn/"\n'
        '[links]\narticle = \'x\'\n[categories]\n"nong-nghiep" = "nong-nghiep"\n',
        encoding="utf-8",
    )
    site = load_site(path)
    assert site.categories_for("Nông nghiệp") == ("nong-nghiep",)  # the site's map wins
    assert site.categories_for("suc-khoe") == ("y-te",)  # the shared scheme
    assert site.categories_for("Đời sống mới") == ("doi-song-moi",)  # a new key
