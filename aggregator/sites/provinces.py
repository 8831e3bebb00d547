"""The 34 provincial-level units of Vietnam since 1 July 2025 (``provinces.toml``).

Each unit has a key (an ASCII slug such as ``phutho``), its Vietnamese name and the
pre-2025 provinces merged into it (63 in all, each in exactly one unit). A site
definition's ``province_key`` names its unit; a paper of a province that was merged away
(Báo Vĩnh Phúc) belongs to the unit it merged into (``phutho``), so feeds of today's
province span the archives of all its former papers.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from aggregator.normalize.text import slugify

__all__ = [
    "OLD_PROVINCE_COUNT",
    "PROVINCES_FILE",
    "UNIT_COUNT",
    "Province",
    "ProvinceTableError",
    "parse_provinces",
    "province",
    "province_key_for",
    "provinces",
]

#: A file, or a file inside a zip (an egg deployed to Scrapyd).
PROVINCES_FILE = resources.files("aggregator.sites").joinpath("provinces.toml")
#: provincial-level units since 1 July 2025 (Resolution 202/2025/QH15)
UNIT_COUNT = 34
#: provinces and centrally-run cities before 1 July 2025
OLD_PROVINCE_COUNT = 63
_KINDS = ("tỉnh", "thành phố")
_KEY = re.compile(r"^[a-z]+$")
_PREFIX = re.compile(r"^(?:tinh|thanh-pho|tp)-")


class ProvinceTableError(ValueError):
    """``provinces.toml`` is inconsistent; one line per problem."""


@dataclass(frozen=True)
class Province:
    """One provincial-level unit since 1 July 2025."""

    key: str
    name: str
    kind: str  # "tỉnh" or "thành phố"
    merged: tuple[str, ...]  # the pre-2025 provinces it covers, its own former self first
    aliases: tuple[str, ...] = ()

    @property
    def is_merged(self) -> bool:
        """Formed by merging two or three provinces (23 of the 34)."""
        return len(self.merged) > 1


def _name_key(name: str) -> str:
    """``"Tỉnh Bà Rịa - Vũng Tàu"`` → ``"bariavungtau"``: names compared without case,
    diacritics, tone-mark placement, spaces, hyphens or a "tỉnh"/"thành phố" prefix."""
    return _PREFIX.sub("", slugify(name)).replace("-", "")


def parse_provinces(text: str) -> tuple[dict[str, Province], dict[str, str]]:
    """Units by key and unit keys by name key (unit names, old names, aliases);
    raises :class:`ProvinceTableError` listing every problem."""
    data = tomllib.loads(text)
    units: dict[str, Province] = {}
    names: dict[str, str] = {}
    problems: list[str] = []
    old_seen: dict[str, str] = {}
    for key, entry in data.items():
        if not _KEY.match(key):
            problems.append(f"{key}: key must be lowercase ASCII letters")
        unknown = set(entry) - {"name", "kind", "merged", "aliases"}
        if unknown:
            problems.append(f"{key}: unknown keys {sorted(unknown)}")
        if entry.get("kind") not in _KINDS:
            problems.append(f"{key}: kind must be one of {_KINDS}")
        unit = Province(
            key=key,
            name=str(entry.get("name", "")),
            kind=str(entry.get("kind", "")),
            merged=tuple(entry.get("merged", ())),
            aliases=tuple(entry.get("aliases", ())),
        )
        if not unit.name or not unit.merged:
            problems.append(f"{key}: needs a name and the provinces merged into it")
        for old in unit.merged:
            if _name_key(old) in old_seen:
                problems.append(f"{key}: {old!r} is already merged into {old_seen[_name_key(old)]}")
            old_seen[_name_key(old)] = key
        for name in (unit.name, *unit.merged, *unit.aliases):
            if names.setdefault(_name_key(name), key) != key:
                problems.append(f"{key}: name {name!r} also names {names[_name_key(name)]}")
        units[key] = unit
    if len(units) != UNIT_COUNT:
        problems.append(f"{len(units)} units, expected {UNIT_COUNT}")
    if len(old_seen) != OLD_PROVINCE_COUNT:
        problems.append(f"{len(old_seen)} pre-2025 provinces, expected {OLD_PROVINCE_COUNT}")
    if problems:
        raise ProvinceTableError("\n".join(f"{PROVINCES_FILE.name}: {p}" for p in problems))
    return units, names


@cache
def _table() -> tuple[dict[str, Province], dict[str, str]]:
    return parse_provinces(PROVINCES_FILE.read_text(encoding="utf-8"))


def provinces() -> dict[str, Province]:
    """The 34 units by key, in table order (the 11 unchanged first)."""
    return dict(_table()[0])


def province(key: str) -> Province:
    """The unit of a key; ``KeyError`` naming the known keys otherwise."""
    try:
        return _table()[0][key]
    except KeyError:
        known = ", ".join(sorted(_table()[0]))
        raise KeyError(f"unknown province key {key!r}; one of: {known}") from None


@lru_cache(maxsize=1024)  # a store asks for every article it writes; names are few
def province_key_for(name: str) -> str | None:
    """The key of the unit a province name belongs to since 1 July 2025, or ``None``.

    The name may be a unit's (``"Phú Thọ"``), a pre-2025 province's (``"Vĩnh Phúc"`` →
    ``"phutho"``) or an alias, spelt with or without diacritics or a "Tỉnh" prefix.
    """
    return _table()[1].get(_name_key(name))
