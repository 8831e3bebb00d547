"""Stories: which stored articles an article is a copy of, and which copy is the original.

:func:`assign_story` reads the copies of a fingerprint through a narrow index (the store
implements it) and decides: the earliest published copy is the original, every other copy
points to it, and stories this article turns out to predate are merged into it. The
decision carries the store's cursor at the time of the lookup, so that a writer can tell
whether another process stored or merged since and the decision must be taken again
inside its write transaction.

A publication date is what a page claims; when the store first saw a copy is what it
knows. A copy seen after the story's first copy may take the story over with an earlier
date only within :data:`TAKEOVER_TOLERANCE` of that first sighting, and only when its
page's date sources agree; otherwise it is ranked by when it was first seen (a site that
republishes another paper's newest story with an older date does not become its
original).
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

#: How long before the story's first sighting a copy seen later may claim to have been
#: published and still become the original (seconds): an honest paper crawled less often
#: than the one that copied it is seen hours late, not days.
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
    def last_cursor(self) -> int: ...


@dataclass(frozen=True)
class StoryDecision:
    """Where an article stands among its copies.

    ``kind``: "exact" or "near" when it has copies, None for a new story;
    ``duplicate_of``: the original (None when this article is the earliest copy);
    ``merge_roots``: stories whose original this article predates; ``cursor``: the
    store's newest version cursor when the copies were looked up; ``disbelieved``: the
    article's date was not believed (it claimed to predate a story seen before it).
    """

    fingerprint: Fingerprint
    kind: Literal["exact", "near"] | None
    duplicate_of: str | None
    merge_roots: tuple[str, ...]
    cursor: int
    disbelieved: bool = False


def _believed(dates: StoryDates, first_sighting: float, trusted: bool) -> float:
    """The date a copy is ranked by: its claim, unless it was seen after the story's
    first copy and claims to predate that sighting by more than the tolerance (by any
    amount when its page's date sources disagree): then when it was first seen."""
    if dates.first_seen_ts <= first_sighting:
        return dates.published_ts
    tolerance = TAKEOVER_TOLERANCE if trusted else 0.0
    if dates.published_ts < first_sighting - tolerance:
        return dates.first_seen_ts
    return dates.published_ts


def assign_story(
    index: CopyIndex,
    article_id: str,
    fp: Fingerprint,
    published_ts: float,
    seen_ts: float,
    *,
    trusted: bool = True,
) -> StoryDecision:
    """Find the story of article ``article_id`` (text ``fp``, published at ``published_ts``,
    fetched at ``seen_ts``, epoch seconds) among the stored articles. ``trusted``: the
    page's date sources agree on its date (see :func:`_believed`)."""
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
    ranked = {
        i: _believed(d, first_sighting, trusted if i == article_id else True)
        for i, d in dates.items()
    }
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
