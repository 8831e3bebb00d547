"""Ground truth of the sample provincial web.

Every page of the sample web is generated from the JSON files in ``groundtruth/``,
one per newspaper (``<site-id>.json``). They hold our own Vietnamese articles and
what a perfect extraction must return for each of them. Format::

    {
      "site": "tamdao",
      "articles": [
        {
          "key": "tamdao-001",              # unique in the whole sample web, stable
          "id": 81234,                       # site-local integer id, used to build the URL
          "slug": "doi-moi-sinh-hoat-chi-bo", # ASCII slug of the title (a-z0-9 and '-')
          "sections": ["xay-dung-dang", "thoi-su"],  # first: the section shown on the page;
                                             # the others list the article too
          "category": "xay-dung-dang",       # expected category key (primary section mapped)
          "categories": ["xay-dung-dang"],   # expected keys (a mixed section maps to two)
          "title": "...",
          "lead": "...",                     # as a reader sees it, without the source tag
          "source_tag": "(BBĐ) -",           # printed before the lead, or null
          "body": [                          # in page order
            {"type": "p", "text": "..."},    # paragraph
            {"type": "h", "text": "..."},    # subheading
            {"type": "img", "caption": "...", "credit": "Trường Khanh"}  # photo
          ],
          "byline": "Thực hiện: Ái Kiều - Th.Hậu",   # printed alone on the last line
          "authors": ["Ái Kiều", "Th.Hậu"],  # expected authors
          "published": "2026-11-20T08:15:00+07:00",
          "tags": ["chuyển đổi số"],
          "wire": "w1"                        # id of the wire story this copies, or null
        }
      ]
    }

Expected texts are in NFC with U+0110 for Đ and keep the tone-mark style the
newspaper uses ("hoà" stays "hoà"); a template that prints decomposed text or
U+00D0 does so when rendering, never in this file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "Block",
    "GroundTruthArticle",
    "load_ground_truth",
    "load_ground_truth_file",
    "sites_in_ground_truth",
]


@dataclass(frozen=True)
class Block:
    """One element of an article body: paragraph, subheading or photo."""

    type: str
    text: str = ""
    caption: str = ""
    credit: str = ""


@dataclass(frozen=True)
class GroundTruthArticle:
    """One article of the sample web and the fields its extraction must yield."""

    site: str
    key: str
    id: int
    slug: str
    sections: tuple[str, ...]
    category: str
    categories: tuple[str, ...]
    title: str
    lead: str
    source_tag: str | None
    body: tuple[Block, ...]
    byline: str
    authors: tuple[str, ...]
    published: datetime
    tags: tuple[str, ...] = field(default=())
    wire: str | None = None

    @property
    def section(self) -> str:
        """The section shown on the article page."""
        return self.sections[0]

    @property
    def body_text(self) -> str:
        """Expected body text: paragraphs and subheadings, one per line."""
        return "\n".join(b.text for b in self.body if b.type in ("p", "h"))

    @property
    def images(self) -> tuple[Block, ...]:
        return tuple(b for b in self.body if b.type == "img")


def _article(site: str, raw: dict[str, Any]) -> GroundTruthArticle:
    published = datetime.fromisoformat(raw["published"])
    if published.tzinfo is None:
        raise ValueError(f"{site}/{raw['key']}: published has no UTC offset")
    return GroundTruthArticle(
        site=site,
        key=raw["key"],
        id=int(raw["id"]),
        slug=raw["slug"],
        sections=tuple(raw["sections"]),
        category=raw["category"],
        categories=tuple(raw["categories"]),
        title=raw["title"],
        lead=raw["lead"],
        source_tag=raw.get("source_tag"),
        body=tuple(Block(**b) for b in raw["body"]),
        byline=raw["byline"],
        authors=tuple(raw["authors"]),
        published=published,
        tags=tuple(raw.get("tags", ())),
        wire=raw.get("wire"),
    )


def sites_in_ground_truth() -> list[str]:
    """Ids of the newspapers that have a ground-truth file, sorted."""
    folder = resources.files(__package__).joinpath("groundtruth")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load_ground_truth(site: str) -> list[GroundTruthArticle]:
    """Articles of one newspaper, in file order."""
    path = resources.files(__package__).joinpath("groundtruth", f"{site}.json")
    return _parse(json.loads(path.read_text(encoding="utf-8")), site, str(path))


def load_ground_truth_file(path: str | os.PathLike[str]) -> list[GroundTruthArticle]:
    """Articles of a ground-truth file anywhere (e.g. a test fixture); site id from the file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return _parse(data, str(data.get("site", "")), str(path))


def _parse(data: dict[str, Any], site: str, where: str) -> list[GroundTruthArticle]:
    if not site or data.get("site") != site:
        raise ValueError(f"{where}: 'site' is {data.get('site')!r}, expected {site!r}")
    return [_article(site, raw) for raw in data["articles"]]
