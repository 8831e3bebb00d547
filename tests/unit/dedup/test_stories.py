"""Which copy of a story is its original: dates a page claims against when the store
first saw each copy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aggregator.dedup.fingerprints import Fingerprint, fingerprint
from aggregator.dedup.stories import TAKEOVER_TOLERANCE, Copy, StoryDates, assign_story
from tests.support.factory import STORY_TEXT

HOUR = 3600.0
FP = fingerprint(STORY_TEXT)


@dataclass
class Index:
    """Stored copies of one text: id -> (published, first seen, duplicate_of)."""

    rows: dict[str, tuple[float, float, str | None]] = field(default_factory=dict)

    def find_copies(self, fp: Fingerprint, exclude_id: str) -> list[Copy]:
        return [
            Copy(i, dup, pub, "exact", 1.0)
            for i, (pub, _, dup) in self.rows.items()
            if i != exclude_id
        ]

    def story_dates(self, article_ids: Sequence[str]) -> dict[str, StoryDates]:
        return {i: StoryDates(*self.rows[i][:2]) for i in article_ids if i in self.rows}

    def last_cursor(self) -> int:
        return 7


def real_seen_at(published: float, seen: float) -> Index:
    """The real article, published at ``published``, first seen at ``seen``."""
    return Index({"real": (published, seen, None)})


def test_a_later_copy_claiming_a_much_older_date_does_not_take_the_story() -> None:
    index = real_seen_at(100 * HOUR, 100.5 * HOUR)
    # the hostile copy, fetched an hour after the real one, says it is three days old
    decision = assign_story(index, "copy", FP, 28 * HOUR, 101.5 * HOUR)
    assert decision.duplicate_of == "real" and decision.merge_roots == ()
    assert decision.disbelieved and decision.kind == "exact" and decision.cursor == 7


def test_an_honest_earlier_original_seen_late_within_the_tolerance_takes_it() -> None:
    index = real_seen_at(100 * HOUR, 100.5 * HOUR)
    # a paper crawled less often published it at 97:00; seen at 103:00
    decision = assign_story(index, "earlier", FP, 97 * HOUR, 103 * HOUR)
    assert decision.duplicate_of is None and decision.merge_roots == ("real",)
    assert not decision.disbelieved
    # the same claim from a page whose date sources disagree does not
    unsure = assign_story(index, "earlier", FP, 97 * HOUR, 103 * HOUR, trusted=False)
    assert unsure.duplicate_of == "real" and unsure.disbelieved


def test_the_tolerance_is_measured_from_the_first_sighting() -> None:
    index = real_seen_at(100 * HOUR, 100 * HOUR)
    inside = 100 * HOUR - TAKEOVER_TOLERANCE + 60
    outside = 100 * HOUR - TAKEOVER_TOLERANCE - 60
    assert assign_story(index, "x", FP, inside, 120 * HOUR).duplicate_of is None
    assert assign_story(index, "x", FP, outside, 120 * HOUR).duplicate_of == "real"


def test_a_refetched_copy_keeps_its_first_sighting() -> None:
    """A copy stored before the real one (it was seen first) is believed when fetched
    again, however old its claim: the store saw it first."""
    index = Index({"old": (10 * HOUR, 11 * HOUR, None), "real": (100 * HOUR, 100 * HOUR, "old")})
    decision = assign_story(index, "old", FP, 10 * HOUR, 200 * HOUR)
    assert decision.duplicate_of is None and not decision.disbelieved


def test_a_later_copy_with_a_later_date_is_a_copy_and_a_new_text_a_new_story() -> None:
    index = real_seen_at(100 * HOUR, 100 * HOUR)
    later = assign_story(index, "copy", FP, 101 * HOUR, 101 * HOUR)
    assert later.duplicate_of == "real" and not later.disbelieved
    alone = assign_story(Index(), "new", FP, 1.0, 2.0)
    assert (alone.kind, alone.duplicate_of, alone.merge_roots) == (None, None, ())
