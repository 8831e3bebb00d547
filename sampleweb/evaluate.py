"""Score a store against the sample web's ground truth (the evaluation gate).

Used by the full-crawl tests and the benchmarks: every ground-truth article must be
stored exactly once, with exact title, publication time and category, and bodies
and leads close to the truth by token F1; every story (wire copies, republications,
a page under two URLs) must have exactly one original, and no original may hold
two stories (hard negatives: different articles on the same event).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from aggregator.normalize.text import token_f1, tokens
from aggregator.normalize.urls import canonicalize_url
from aggregator.store import StoredArticle
from sampleweb.groundtruth import GroundTruthArticle

__all__ = ["Evaluation", "evaluate", "token_f1", "tokens"]


@dataclass
class Evaluation:
    """Per-field agreement between stored articles and the ground truth."""

    expected: int = 0
    found: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    exact: Counter[str] = field(default_factory=Counter)
    mismatches: dict[str, list[str]] = field(default_factory=dict)
    body_f1: list[float] = field(default_factory=list)
    lead_f1: list[float] = field(default_factory=list)
    #: rows that are copies of an earlier row of their story, and how many point right
    copies_expected: int = 0
    copies_found: int = 0
    #: stories stored with more than one original (missed duplicates)
    split_stories: list[str] = field(default_factory=list)
    #: originals holding rows of two stories (false merges)
    false_merges: list[str] = field(default_factory=list)

    def share(self, name: str) -> float:
        """Share of found articles with ``name`` exact."""
        return self.exact[name] / self.found if self.found else 0.0

    @property
    def mean_body_f1(self) -> float:
        return sum(self.body_f1) / len(self.body_f1) if self.body_f1 else 0.0

    @property
    def mean_lead_f1(self) -> float:
        return sum(self.lead_f1) / len(self.lead_f1) if self.lead_f1 else 0.0

    @property
    def duplicate_recall(self) -> float:
        return self.copies_found / self.copies_expected if self.copies_expected else 1.0

    def summary(self) -> str:
        return (
            f"{self.found}/{self.expected} articles found, {len(self.extra)} extra; exact: title {self.share('title'):.1%}, published "
            f"{self.share('published'):.1%}, category {self.share('category'):.1%}, authors "
            f"{self.share('authors'):.1%}; token F1: body {self.mean_body_f1:.4f}, "
            f"lead {self.mean_lead_f1:.4f}; duplicates: {self.copies_found}/"
            f"{self.copies_expected} found, {len(self.split_stories)} stories split, "
            f"{len(self.false_merges)} false merges"
        )


def evaluate(
    truth: Iterable[GroundTruthArticle],
    stored: Iterable[StoredArticle],
    urls_of: Callable[[GroundTruthArticle], Sequence[str]],
) -> Evaluation:
    """Compare ground truth with stored articles.

    ``urls_of`` gives every URL a ground-truth article is served at, its own first;
    rows are matched by canonical URL, the fields checked on the row at its own URL.
    """
    rows = {a.canonical_url: a for a in stored}
    owner: dict[str, GroundTruthArticle] = {}
    primary: dict[str, str] = {}
    for gt in truth:
        urls = [canonicalize_url(u) for u in urls_of(gt)]
        primary[gt.key] = urls[0]
        for url in urls:
            owner[url] = gt
    result = Evaluation()

    def miss(name: str, key: str, got: object, want: object) -> None:
        result.mismatches.setdefault(name, []).append(f"{key}: got {got!r}, want {want!r}")

    for gt in {g.key: g for g in owner.values()}.values():
        result.expected += 1
        got = rows.get(primary[gt.key])
        if got is None:
            result.missing.append(f"{gt.key} {primary[gt.key]}")
            continue
        result.found += 1
        checks: dict[str, tuple[object, object]] = {
            "title": (got.title, gt.title),
            "published": (got.published, gt.published),
            "category": (got.category, gt.category),
            "categories": (sorted(got.categories), sorted(gt.categories)),
            "authors": (list(got.authors), list(gt.authors)),
            "lead": (got.lead, gt.lead),
            "source_tag": (got.source_tag, (gt.source_tag or "").rstrip(" -–") or None),
        }
        for name, (have, want) in checks.items():
            if have == want:
                result.exact[name] += 1
            else:
                miss(name, gt.key, have, want)
        result.body_f1.append(token_f1(got.body_text, gt.body_text))
        result.lead_f1.append(token_f1(got.lead, gt.lead))
    result.extra = sorted(u for u in rows if u not in owner)

    # stories: one original each, never shared
    story_rows: dict[str, list[StoredArticle]] = {}
    for url, row in rows.items():
        if url in owner:
            story_rows.setdefault(owner[url].story, []).append(row)
    root_stories: dict[str, set[str]] = {}
    for story, members in sorted(story_rows.items()):
        roots = {m.duplicate_of or m.id for m in members}
        for root in roots:
            root_stories.setdefault(root, set()).add(story)
        if len(roots) > 1:
            result.split_stories.append(story)
        ids = {m.id for m in members}
        originals = [m for m in members if m.duplicate_of is None]
        result.copies_expected += len(members) - 1
        if len(originals) == 1:
            result.copies_found += sum(
                1 for m in members if m.duplicate_of == originals[0].id and m.id in ids
            )
    result.false_merges = sorted(
        f"{root}: {', '.join(sorted(s))}" for root, s in root_stories.items() if len(s) > 1
    )
    return result
