"""Which copy of a story is its original: the dates pages claim, against what the store
saw (when it first saw each copy, and when it last crawled each site to the end)."""

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
    """Stored copies of one text (id -> published, first seen, duplicate_of), the
    finished crawls of each site (site -> [(started, finished)]) and the article URLs
    crawls fetched without storing anything (URL -> when first)."""

    rows: dict[str, tuple[float, float, str | None]] = field(default_factory=dict)
    crawls: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    missed: dict[str, float] = field(default_factory=dict)

    def find_copies(self, fp: Fingerprint, exclude_id: str) -> list[Copy]:
        return [
            Copy(i, dup, pub, "exact", 1.0)
            for i, (pub, _, dup) in self.rows.items()
            if i != exclude_id
        ]

    def story_dates(self, article_ids: Sequence[str]) -> dict[str, StoryDates]:
        return {i: StoryDates(*self.rows[i][:2]) for i in article_ids if i in self.rows}

    def crawled_through(self, site: str, before: float) -> float | None:
        done = [start for start, end in self.crawls.get(site, []) if end < before]
        return max(done) if done else None

    def first_missed(self, urls: Sequence[str]) -> float | None:
        times = [self.missed[u] for u in urls if u in self.missed]
        return min(times) if times else None

    def last_cursor(self) -> int:
        return 7


def story(crawled_at: float | None = None) -> Index:
    """The real article, published at 100:00, first seen at 100:30; the site "ac" last
    crawled to the end at ``crawled_at`` (never, if None)."""
    crawls = {"ac": [(crawled_at, crawled_at + 0.1 * HOUR)]} if crawled_at is not None else {}
    return Index({"real": (100 * HOUR, 100.5 * HOUR, None)}, crawls)


def test_a_copy_claiming_a_date_its_site_was_crawled_since_does_not_take_the_story() -> None:
    # "ac" was crawled to the end at 99:00 without it; an hour after the real article,
    # it shows a copy that says it is three days old
    decision = assign_story(story(99 * HOUR), "copy", FP, 28 * HOUR, 101.5 * HOUR, site="ac")
    assert decision.duplicate_of == "real" and decision.merge_roots == ()
    assert decision.disbelieved and decision.kind == "exact" and decision.cursor == 7


def test_an_honest_earlier_original_seen_late_takes_the_story() -> None:
    # published at 97:00 on a paper last crawled at 99:00 (its listing showed it late)
    decision = assign_story(story(99 * HOUR), "earlier", FP, 97 * HOUR, 103 * HOUR, site="ac")
    assert decision.duplicate_of is None and decision.merge_roots == ("real",)
    assert not decision.disbelieved
    # the same claim from a page whose date sources disagree gets no tolerance
    unsure = assign_story(
        story(99 * HOUR), "earlier", FP, 97 * HOUR, 103 * HOUR, site="ac", trusted=False
    )
    assert unsure.duplicate_of == "real" and unsure.disbelieved


def test_the_tolerance_is_measured_from_the_sites_last_finished_crawl() -> None:
    crawled = 99 * HOUR
    inside, outside = crawled - TAKEOVER_TOLERANCE + 60, crawled - TAKEOVER_TOLERANCE - 60
    for claim, original in ((inside, None), (outside, "real")):
        got = assign_story(story(crawled), "x", FP, claim, 120 * HOUR, site="ac")
        assert got.duplicate_of == original, claim


def test_a_sites_first_crawl_is_believed_whatever_order_copies_come_in() -> None:
    """Nothing to compare with: an older claim seen seconds after a copy is the original
    (a first crawl, or one resumed after a crash, fetches in any order)."""
    decision = assign_story(story(None), "old", FP, 28 * HOUR, 100.6 * HOUR, site="ac")
    assert decision.duplicate_of is None and not decision.disbelieved
    # a crawl that ended after the copy was first seen does not count either
    during = Index(story().rows, {"ac": [(100 * HOUR, 102 * HOUR)]})
    assert assign_story(during, "old", FP, 28 * HOUR, 100.6 * HOUR, site="ac").duplicate_of is None


def test_a_refetched_copy_keeps_its_first_sighting() -> None:
    """A copy stored before the real one (it was seen first) stays the original when
    fetched again, however old its claim and however often its site was crawled."""
    index = Index(
        {"old": (10 * HOUR, 11 * HOUR, None), "real": (100 * HOUR, 100 * HOUR, "old")},
        {"ac": [(50 * HOUR, 51 * HOUR), (150 * HOUR, 151 * HOUR)]},
    )
    decision = assign_story(index, "old", FP, 10 * HOUR, 200 * HOUR, site="ac")
    assert decision.duplicate_of is None and not decision.disbelieved


def test_a_later_copy_with_a_later_date_is_a_copy_and_a_new_text_a_new_story() -> None:
    later = assign_story(story(99 * HOUR), "copy", FP, 101 * HOUR, 101 * HOUR, site="ac")
    assert later.duplicate_of == "real" and not later.disbelieved
    alone = assign_story(Index(), "new", FP, 1.0, 2.0, site="ac")
    assert (alone.kind, alone.duplicate_of, alone.merge_roots) == (None, None, ())


def test_a_copy_a_finished_crawl_fetched_and_lost_keeps_its_date_when_fetched_next_time() -> None:
    """A crawl of "ac" from 99:00 to 101:00 fetched an old page at 99:30 and stored nothing
    (an error, a lost worker): it met the page, so it is no evidence that the page was not
    there. Fetched by the next crawl, the page keeps its date and takes the story."""
    url = "https://ac.example/tin/cu.html"
    index = Index(story().rows, {"ac": [(99 * HOUR, 101 * HOUR)]}, {url: 99.5 * HOUR})
    old = assign_story(index, "old", FP, 90 * HOUR, 110 * HOUR, site="ac", urls=[url])
    assert old.duplicate_of is None and old.merge_roots == ("real",) and not old.disbelieved
    # the miss excuses only the crawls that met the page: one before it still counts
    index.crawls["ac"].insert(0, (50 * HOUR, 51 * HOUR))
    older = assign_story(index, "old", FP, 40 * HOUR, 110 * HOUR, site="ac", urls=[url])
    assert older.duplicate_of == "real" and older.disbelieved
    # a URL no crawl met gains nothing from it
    other = assign_story(index, "old", FP, 90 * HOUR, 110 * HOUR, site="ac", urls=["x"])
    assert other.duplicate_of == "real" and other.disbelieved


def test_a_url_missed_long_before_the_date_its_page_claims_excuses_nothing() -> None:
    """A site that lists a failing URL for days, then fills it with another paper's story
    and a date after that first failure (but before the story), does not take the story."""
    url = "https://ac.example/tin/giu-cho.html"
    index = Index(story().rows, {"ac": [(99 * HOUR, 99.1 * HOUR)]}, {url: 20 * HOUR})
    decision = assign_story(index, "copy", FP, 28 * HOUR, 101.5 * HOUR, site="ac", urls=[url])
    assert decision.duplicate_of == "real" and decision.disbelieved
