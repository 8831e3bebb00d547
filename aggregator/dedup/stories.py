"""Stories: which stored articles an article is a copy of, and which copy is the original.

:func:`assign_story` reads the copies of a fingerprint through a narrow index (the store
implements it) and decides: the earliest published copy is the original, every other copy
points to it, and stories this article turns out to predate are merged into it. The
decision carries the store's cursor at the time of the lookup, so that a writer can tell
whether another process stored or merged since and the decision must be taken again
inside its write transaction.

A publication date is what a page claims; what the store saw is what it knows. A copy
seen after the story's first copy, on a site the store had already crawled through to
the end after the date it claims (plus :data:`TAKEOVER_TOLERANCE`), would have been seen
then had it been there: its claim is not believed and it is ranked by when it was first
seen (a site that republishes another paper's newest story with an older date does not
become its original). A crawl that fetched the page and stored nothing from it (an
error, a lost worker) met it, so it is no evidence that the page was not there: a page
whose URL a crawl first missed at some time, and which claims to be no newer than that,
is measured against the site's last finished crawl before that miss. A claim its page's
date sources do not agree on gets no tolerance. A site's first crawl has nothing to
compare with: its claims are believed (copies seen in one crawl are ranked by their
dates, whatever order they came in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from aggregator.dedup.fingerprints import Fingerprint

__all__ = [
    "TAKEOVER_TOLERANCE",
    "Copy",
    "CopyIndex",
    "StoryDates",
    "StoryDecision",
    "assign_story",
]

#: How long before a site's last finished crawl a page first seen after it may claim
#: to have been published (seconds): a listing shows a new article late (a cache, a
#: moderation queue, a date set before publishing), hours late, not days.
TAKEOVER_TOLERANCE = 6 * 3600.0


@dataclass(frozen=True)
class Copy:
    """A stored article that shares its text with another."""

    id: str
    duplicate_of: str | None
    published_ts: float
    kind: Literal["exact", "near"]
    similarity: float

    @property
    def root(self) -> str:
        """The original of this copy's story."""
        return self.duplicate_of or self.id


@dataclass(frozen=True)
class StoryDates:
    """When a stored article says it was published, and when the store first saw it
    (epoch seconds)."""

    published_ts: float
    first_seen_ts: float


class CopyIndex(Protocol):
    """What deciding a story reads: the copies of a text, their dates, the store's cursor."""

    def find_copies(self, fp: Fingerprint, exclude_id: str) -> list[Copy]: ...
    def story_dates(self, article_ids: Sequence[str]) -> dict[str, StoryDates]: ...
    def crawled_through(self, site: str, before: float) -> float | None: ...
    def first_missed(self, urls: Sequence[str]) -> float | None: ...
    def last_cursor(self) -> int: ...


@dataclass(frozen=True)
class StoryDecision:
    """Where an article stands among its copies.

    ``kind``: "exact" or "near" when it has copies, None for a new story;
    ``duplicate_of``: the original (None when this article is the earliest copy);
    ``merge_roots``: stories whose original this article predates; ``cursor``: the
    store's newest version cursor when the copies were looked up; ``disbelieved``: the
    article's date was not believed (it claimed to predate a story seen before it, on a
    site crawled since that date without meeting it).
    """

    fingerprint: Fingerprint
    kind: Literal["exact", "near"] | None
    duplicate_of: str | None
    merge_roots: tuple[str, ...]
    cursor: int
    disbelieved: bool = False


def _believed(
    own: StoryDates, first_sighting: float, watched_since: float | None, trusted: bool
) -> float:
    """The date the article is ranked by among the copies: its claim, unless it was first
    seen after the story's first copy while its site had been crawled through since its
    claimed date (``watched_since``: the start of the site's last crawl that ran to its
    end before a crawl first met the article); then when it was first seen."""
    if own.first_seen_ts <= first_sighting or watched_since is None:
        return own.published_ts
    tolerance = TAKEOVER_TOLERANCE if trusted else 0.0
    if own.published_ts < watched_since - tolerance:
        return own.first_seen_ts
    return own.published_ts


def _met(index: CopyIndex, urls: Sequence[str], own: StoryDates, trusted: bool) -> float:
    """When a crawl first met the article's page: first seen, or earlier, when a crawl
    fetched one of its ``urls`` and stored nothing while the page claims to be no newer
    than that (a URL missed long before the date its page now claims excuses nothing)."""
    missed = index.first_missed(urls) if urls else None
    tolerance = TAKEOVER_TOLERANCE if trusted else 0.0
    if missed is not None and own.published_ts <= missed + tolerance:
        return min(missed, own.first_seen_ts)
    return own.first_seen_ts


def assign_story(
    index: CopyIndex,
    article_id: str,
    fp: Fingerprint,
    published_ts: float,
    seen_ts: float,
    *,
    site: str = "",
    trusted: bool = True,
    urls: Sequence[str] = (),
) -> StoryDecision:
    """Find the story of article ``article_id`` (text ``fp``, published at ``published_ts``,
    fetched at ``seen_ts``, epoch seconds, from ``site`` at ``urls``) among the stored
    articles. ``trusted``: the page's date sources agree on its date (see
    :func:`_believed`)."""
    cursor = index.last_cursor()
    copies = index.find_copies(fp, exclude_id=article_id)
    if not copies:
        return StoryDecision(fp, None, None, (), cursor)
    roots = {c.root for c in copies} - {article_id}
    known = index.story_dates(sorted(roots | {article_id}))
    # a re-fetched article was first seen when the store first stored it
    stored = known.get(article_id)
    own = StoryDates(published_ts, min(seen_ts, stored.first_seen_ts) if stored else seen_ts)
    dates = {article_id: own, **{r: known[r] for r in roots if r in known}}
    first_sighting = min(d.first_seen_ts for d in dates.values())
    ranked = {i: d.published_ts for i, d in dates.items()}
    if own.first_seen_ts > first_sighting:
        watched = None
        if site:
            met = _met(index, urls, own, trusted)
            watched = index.crawled_through(site, met)
        ranked[article_id] = _believed(own, first_sighting, watched, trusted)
    earliest = min((ts, i) for i, ts in ranked.items())[1]
    kind: Literal["exact", "near"] = "exact" if any(c.kind == "exact" for c in copies) else "near"
    return StoryDecision(
        fp,
        kind,
        earliest if earliest != article_id else None,
        tuple(sorted(roots - {earliest})),
        cursor,
        disbelieved=ranked[article_id] != published_ts,
    )
