"""The table of the 34 provincial-level units since 1 July 2025 (``provinces.toml``)."""

from __future__ import annotations

import pytest

from aggregator.sites.provinces import (
    PROVINCES_FILE,
    ProvinceTableError,
    parse_provinces,
    province,
    province_key_for,
    provinces,
)


def test_34_units_cover_the_63_old_provinces_once() -> None:
    units = provinces()
    assert len(units) == 34
    old = [name for unit in units.values() for name in unit.merged]
    assert len(old) == 63 and len(set(old)) == 63
    assert sum(u.kind == "thành phố" for u in units.values()) == 6
    assert sum(u.kind == "tỉnh" for u in units.values()) == 28
    assert sum(u.is_merged for u in units.values()) == 23
    # the unit's own former self comes first where it kept its name (Huế was Thừa Thiên Huế)
    assert all(u.merged[0] == u.name for u in units.values() if u.key != "hue")


def test_mergers_named_in_the_reference_notes() -> None:
    assert province("phutho").merged == ("Phú Thọ", "Vĩnh Phúc", "Hòa Bình")
    for old, key in [
        ("Hà Giang", "tuyenquang"), ("Yên Bái", "laocai"), ("Bắc Kạn", "thainguyen"),
        ("Bắc Giang", "bacninh"), ("Thái Bình", "hungyen"), ("Hải Dương", "haiphong"),
        ("Hà Nam", "ninhbinh"), ("Nam Định", "ninhbinh"), ("Quảng Bình", "quangtri"),
        ("Long An", "tayninh"), ("Bình Dương", "hochiminh"), ("Đắk Nông", "lamdong"),
    ]:  # fmt: skip
        assert province_key_for(old) == key, old


def test_names_match_loosely() -> None:
    assert province_key_for("Vinh Phuc") == "phutho"
    assert province_key_for("Tỉnh Hoà Bình") == "phutho"  # old tone-mark placement, prefix
    assert province_key_for("Đăk Nông") == province_key_for("Dak Nong") == "lamdong"
    assert province_key_for("Bà Rịa-Vũng Tàu") == "hochiminh"
    assert province_key_for("TP. Hồ Chí Minh") == province_key_for("TPHCM") == "hochiminh"
    assert province_key_for("Thừa Thiên Huế") == province_key_for("Thành phố Huế") == "hue"
    assert province_key_for("Tỉnh") is None and province_key_for("P") is None


def test_unknown_key_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown province key 'vinhphuc'; one of: angiang"):
        province("vinhphuc")


def test_the_table_is_checked_on_load() -> None:
    text = PROVINCES_FILE.read_text(encoding="utf-8")
    broken = text.replace('merged = ["Cà Mau", "Bạc Liêu"]', 'merged = ["Cà Mau", "Vĩnh Phúc"]')
    with pytest.raises(ProvinceTableError) as exc:
        parse_provinces(broken)
    lines = str(exc.value).splitlines()
    assert "provinces.toml: camau: 'Vĩnh Phúc' is already merged into phutho" in lines
    assert "provinces.toml: 62 pre-2025 provinces, expected 63" in lines
    with pytest.raises(ProvinceTableError, match="33 units, expected 34"):
        parse_provinces(text.split("[angiang]")[0])  # the last unit left out
