"""What extraction gives: the fields of one page with the layer of each, the crawler's hints,
and the error for a page that is not an article.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aggregator.items import Article
from aggregator.sites.definition import SiteDefinition

__all__ = ["Extracted", "ExtractionError", "Hints"]


class ExtractionError(ValueError):
    """The page is not an article we can extract (the reason is the message)."""


@dataclass(frozen=True)
class Hints:
    """What the crawler knew of the page before fetching it."""

    section: str | None = None  # the listing's section
    listing_date: str | None = None  # date printed next to the link
    feed_date: str | None = None  # RSS pubDate / Atom published
    feed_section: str | None = None
    #: the text of the listing link, or the feed item's title: where the headline is
    anchor_text: str | None = None


@dataclass
class Extracted:
    """Raw article fields as found on the page, with the layer of each."""

    url: str
    title: str = ""
    lead: str = ""
    body_lines: list[str] = field(default_factory=list)
    body_html: str = ""
    byline: str = ""
    authors: list[str] = field(default_factory=list)
    section: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    image: str | None = None
    images: list[dict[str, str]] = field(default_factory=list)
    canonical_url: str | None = None
    layers: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def to_article(self, site: SiteDefinition, *, fetched_at: datetime, **http: Any) -> Article:
        """The item the pipelines take, as the spider, re-extraction and ``sites test``
        build it; ``http`` fills the fetch's own fields (etag, last_modified, warc)."""
        return Article(
            url=self.url,
            site=site.id,
            site_name=site.name,
            province=site.province,
            canonical_url=self.canonical_url or "",
            title=self.title,
            lead=self.lead,
            body_text="\n".join(self.body_lines),
            body_html=self.body_html,
            byline=self.byline,
            authors=list(self.authors),
            section=self.section,
            published=self.published,
            updated=self.updated,
            fetched_at=fetched_at,
            image=self.image,
            images=list(self.images),
            layers=dict(self.layers),
            flags=list(self.flags),
            **http,
        )
