"""The normalized category scheme shared by every newspaper (``categories.toml``).

Site definitions map their own sections onto these keys, so one category feed
spans all provinces. Lookup order for a section: the site's ``[categories]``, then
the scheme's known section slugs; a section in neither has no category.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources

from aggregator.normalize.text import slugify

__all__ = [
    "CATEGORIES_FILE",
    "categories_for_section",
    "category_label",
    "category_labels",
    "section_slug",
]

#: A file, or a file inside a zip (an egg deployed to Scrapyd).
CATEGORIES_FILE = resources.files("aggregator.sites").joinpath("categories.toml")
_TRAILING_ID = re.compile(r"-\d+$")


@cache
def _scheme() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    data = tomllib.loads(CATEGORIES_FILE.read_text(encoding="utf-8"))
    labels: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    for key, entry in data.items():
        labels[key] = entry["name"]
        for section in (key, *entry.get("sections", ())):
            keys = sections.setdefault(slugify(section), [])
            if key not in keys:
                keys.append(key)
    return labels, {s: tuple(k) for s, k in sections.items()}


def category_labels() -> dict[str, str]:
    """Every known key with its Vietnamese display name, in scheme order."""
    return dict(_scheme()[0])


def category_label(key: str) -> str:
    """Vietnamese display name of a category key (the key itself if unknown)."""
    return _scheme()[0].get(key, key)


def section_slug(section: str) -> str:
    """``"Thoi-su-215.html"`` → ``"thoi-su"``: the comparable form of a section."""
    slug = slugify(re.sub(r"\.\w{2,5}$", "", section.strip()))
    return _TRAILING_ID.sub("", slug)


def categories_for_section(section: str) -> tuple[str, ...]:
    """Keys the scheme knows for a section name or URL segment (empty if none)."""
    return _scheme()[1].get(section_slug(section), ())
