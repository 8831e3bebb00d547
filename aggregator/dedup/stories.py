"""Stories: which stored articles an article is a copy of, and which copy is the original.

:func:`assign_story` reads the copies of a fingerprint through a narrow index (the store
implements it) and decides: the earliest published copy is the original, every other copy
points to it, and stories this article turns out to predate are merged into it. The
decision carries the store's cursor at the time of the lookup, so that a writer can tell
whether another process stored or merged since and the decision must be taken again
inside its write transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from aggregator.dedup.fingerprints import Fingerprint

__all__ = ["Copy", "CopyIndex", "StoryDecision", "assign_story"]


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


class CopyIndex(Protocol):
    """What deciding a story reads: the copies of a text, their dates, the store's cursor."""

    def find_copies(self, fp: Fingerprint, exclude_id: str) -> list[Copy]: ...
    def published_ts(self, article_ids: Sequence[str]) -> dict[str, float]: ...
    def last_cursor(self) -> int: ...


@dataclass(frozen=True)
class StoryDecision:
    """Where an article stands among its copies.

    ``kind``: "exact" or "near" when it has copies, None for a new story;
    ``duplicate_of``: the original (None when this article is the earliest copy);
    ``merge_roots``: stories whose original this article predates; ``cursor``: the
    store's newest version cursor when the copies were looked up.
    """

    fingerprint: Fingerprint
    kind: Literal["exact", "near"] | None
    duplicate_of: str | None
    merge_roots: tuple[str, ...]
    cursor: int


def assign_story(
    index: CopyIndex, article_id: str, fp: Fingerprint, published_ts: float
) -> StoryDecision:
    """Find the story of article ``article_id`` (text ``fp``, published at ``published_ts``,
    epoch seconds) among the stored articles."""
    cursor = index.last_cursor()
    copies = index.find_copies(fp, exclude_id=article_id)
    if not copies:
        return StoryDecision(fp, None, None, (), cursor)
    roots = {c.root for c in copies} - {article_id}
    times = index.published_ts(sorted(roots))
    candidates = [(published_ts, article_id), *((times[r], r) for r in roots if r in times)]
    earliest = min(candidates)[1]
    kind: Literal["exact", "near"] = "exact" if any(c.kind == "exact" for c in copies) else "near"
    return StoryDecision(
        fp,
        kind,
        earliest if earliest != article_id else None,
        tuple(sorted(roots - {earliest})),
        cursor,
    )
