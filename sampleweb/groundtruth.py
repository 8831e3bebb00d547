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
          "wire": "w1",                       # id of the wire story this copies, or null
          "story": "w1",                      # optional, see below
          "event": "e1",                      # optional, see below
          "aliases": ["old-scheme"]           # optional, see below
        }
      ]
    }

Expected texts are in NFC with U+0110 for Đ and keep the tone-mark style the
newspaper uses ("hoà" stays "hoà"); a template that prints decomposed text or
U+00D0 does so when rendering, never in this file.

What deduplication must do is recorded with three optional fields (files without
them load as before):

``story``
    Articles with the same story are copies of one story (wire copies, a
    republication under a new URL with light edits) and must be merged into one
    story; the earliest published copy is the original. Default: the article's
    own ``key`` (a story of its own). Wire copies carry ``"story": "<wire id>"``.
``event``
    Hard negatives: different articles about the same event (same names, places
    and date; written independently). Articles sharing an event must NOT be
    merged, unless they also share a story.
``aliases``
    Extra kinds of URL under which the same page is ALSO served, as the site's
    template interprets them (``SiteTemplate.alias_paths``):
    ``"old-scheme"``, the site's previous URL scheme, still online with the same
    content and linked from the listing page of the article's section (a "Tin cũ"
    box); whether that page prints ``<link rel="canonical">`` to the current URL
    is the template's choice. ``"tracking"``, the article URL with
    ``?utm_source=zalo&utm_medium=social&fbclid=...`` appended: listings link that
    URL instead of the clean one, and the page is the same under both.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

#: the kinds of URL alias a ground-truth article may have
ALIAS_KINDS = ("old-scheme", "tracking")

__all__ = [
    "ALIAS_KINDS",
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
    #: the story this article is a copy of ("" means its own key)
    story: str = ""
    #: the event it reports, shared with other stories about the same event (hard negatives)
    event: str | None = None
    #: extra URL kinds serving the same page, see ALIAS_KINDS
    aliases: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.story:
            object.__setattr__(self, "story", self.key)
        unknown = [x for x in self.aliases if x not in ALIAS_KINDS]
        if unknown or len(set(self.aliases)) != len(self.aliases):
            raise ValueError(f"{self.key}: bad aliases {list(self.aliases)}; known: {ALIAS_KINDS}")

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
        story=_optional_str(raw, "story") or "",
        event=_optional_str(raw, "event"),
        aliases=tuple(raw.get("aliases") or ()),
    )


def _optional_str(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"{raw.get('key')}: {name!r} must be a non-empty string or absent")
    return value


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
