"""Score a store against the sample web's ground truth (the evaluation gate).

Used by the full-crawl tests and the benchmarks: every ground-truth article must be
stored exactly once, with exact title, publication time and category, and bodies
and leads close to the truth by token F1.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aggregator.sampleweb.groundtruth import GroundTruthArticle
from aggregator.store import StoredArticle

__all__ = ["Evaluation", "evaluate", "token_f1", "tokens"]

_WORD = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    """Lowercase word tokens of NFC text."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


def token_f1(predicted: str, expected: str) -> float:
    """Bag-of-words F1 between two texts (1.0 when both are empty)."""
    p, e = Counter(tokens(predicted)), Counter(tokens(expected))
    if not p and not e:
        return 1.0
    overlap = sum((p & e).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(e.values())
    return 2 * precision * recall / (precision + recall)


@dataclass
class Evaluation:
    """Per-field agreement between stored articles and the ground truth."""

    expected: int = 0
    found: int = 0
    stored_twice: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    exact: Counter[str] = field(default_factory=Counter)
    mismatches: dict[str, list[str]] = field(default_factory=dict)
    body_f1: list[float] = field(default_factory=list)
    lead_f1: list[float] = field(default_factory=list)

    def share(self, name: str) -> float:
        """Share of found articles with ``name`` exact."""
        return self.exact[name] / self.found if self.found else 0.0

    @property
    def mean_body_f1(self) -> float:
        return sum(self.body_f1) / len(self.body_f1) if self.body_f1 else 0.0

    @property
    def mean_lead_f1(self) -> float:
        return sum(self.lead_f1) / len(self.lead_f1) if self.lead_f1 else 0.0

    def summary(self) -> str:
        return (
            f"{self.found}/{self.expected} articles found, {len(self.stored_twice)} stored twice, "
            f"{len(self.extra)} extra; exact: title {self.share('title'):.1%}, published "
            f"{self.share('published'):.1%}, category {self.share('category'):.1%}, authors "
            f"{self.share('authors'):.1%}; token F1: body {self.mean_body_f1:.4f}, "
            f"lead {self.mean_lead_f1:.4f}"
        )


def evaluate(
    truth: Iterable[GroundTruthArticle],
    stored: Iterable[StoredArticle],
    url_of: Callable[[GroundTruthArticle], str],
) -> Evaluation:
    """Compare ground truth with stored articles, matched by the article's URL."""
    by_url: dict[str, list[StoredArticle]] = {}
    for article in stored:
        by_url.setdefault(article.canonical_url, []).append(article)
    result = Evaluation()
    matched: set[str] = set()

    def miss(name: str, key: str, got: object, want: object) -> None:
        result.mismatches.setdefault(name, []).append(f"{key}: got {got!r}, want {want!r}")

    for gt in truth:
        result.expected += 1
        url = url_of(gt)
        copies = by_url.get(url, [])
        if not copies:
            result.missing.append(f"{gt.key} {url}")
            continue
        matched.add(url)
        if len(copies) > 1:
            result.stored_twice.append(gt.key)
        got = copies[0]
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
    result.extra = sorted(u for u in by_url if u not in matched)
    return result
