"""Judging a site's health: a verdict from its recent crawl figures and its definition.

Pure: crawl figures in, findings out; no store, no files, no clock.

Every crawl records its figures per site in the store's ``crawls`` table (see
:func:`aggregator.crawl.pipelines.crawl_summary`), among them, for each field, how many pages
each extraction layer gave it. From the latest crawl, the few before it and the site's
definition, :func:`judge` gives one verdict:

``inactive``
    the definition says ``active = false``;
``never-crawled``
    no crawl of the site is recorded;
``interrupted``
    the last crawl was stopped (SIGINT / SIGTERM) before it finished;
``broken``
    the last crawl saw no article at all (an incremental crawl that only met known
    articles does not count), or a required field (title, body, published) was
    missing on most of its pages;
``stale``
    no new article for longer than the definition's ``stale_after`` hours (default 72);
``degraded``
    a field's usual layer (the one that gave it most often over the site's recent
    history, e.g. ``selector``) now gives it on less than half as many pages as its
    median share; or the definition's title or body selector matched fewer than half
    of the latest pages; or errors rose sharply (over 3, and over twice the usual rate
    plus 10 points);
    or links of the listing pages that look like articles or listing pages match
    neither pattern of the definition, many of them against what the crawl stored (a
    wrong article or pagination pattern: the crawl missed articles with no error);
``ok``
    none of the above.

Layer shares are judged on windows of at least :data:`MIN_PAGES` pages: a full crawl
is a window of its own, the few new articles of successive incremental crawls are
pooled. The latest window is compared with the median of the :data:`HISTORY` windows
before it; so a change that persists becomes the new normal after that many windows,
except for a title or body selector that matches nothing (always reported).

Small windows are judged by the strength of their evidence. The newest crawl is judged
on its own when it is strong: a title or body selector that gave the field on at least
:data:`SURE_SHARE` of the pages before and on none of at least 2 new pages is
``degraded`` at once (not pooled away with the previous full crawl). A field its
articles do not always have (a lead on 67 % of pages) falls only when so few hits are
unlikely at its usual share: :data:`ALARM_CHANCE` or less (0 of 2 at 67 % is 11 %: no
alarm; 0 of 30 is).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from aggregator.process.chain import HEALTH_FIELDS
from aggregator.sites.links import unmatched_reason

__all__ = [
    "ALARM_CHANCE",
    "DEFAULT_STALE_HOURS",
    "HISTORY",
    "MIN_BASELINE",
    "MIN_ERRORS",
    "MIN_PAGES",
    "REQUIRED_FIELDS",
    "SURE_SHARE",
    "Finding",
    "Judgement",
    "Verdict",
    "articles_seen",
    "as_int",
    "broken_findings",
    "capped_bounds",
    "degraded_findings",
    "error_classes",
    "error_rate",
    "field_counts",
    "judge",
    "known_seen",
    "layer_shares",
    "links_finding",
    "stale_finding",
    "windows",
]

Verdict = Literal["ok", "degraded", "broken", "stale", "inactive", "never-crawled", "interrupted"]

#: Fields an article cannot do without.
REQUIRED_FIELDS = ("title", "body", "published")
#: Hours without a new article before a site is stale, unless its definition says.
DEFAULT_STALE_HOURS = 72
#: Earlier windows of pages (see :func:`windows`) the latest one is compared with.
HISTORY = 10
#: Pages of a field pooled into one window: fewer say nothing about its layers.
MIN_PAGES = 3
#: A usual layer is compared only when it gave the field on at least this share of pages.
MIN_BASELINE = 0.3
#: "Errors rose" needs at least this many errors in the latest crawl.
MIN_ERRORS = 3
#: A title or body selector this sure before is judged on the newest pages alone.
SURE_SHARE = 0.9
#: A layer's drop is reported only when so few hits at its usual share are this unlikely.
ALARM_CHANCE = 0.01

#: Most severe first: the verdict of a site is that of its most severe finding.
_SEVERITY: tuple[Verdict, ...] = ("broken", "stale", "degraded")
#: Counts of a crawl that mean "met an article already known" (incremental crawls).
_KNOWN_KEYS = ("skipped_known", "conditional", "listing_all_known")


# -- figures of one crawl -------------------------------------------------------------


def as_int(value: Any) -> int:
    """A figure of a crawl record as a count: a number truncated, anything else 0."""
    return int(value) if isinstance(value, int | float) else 0


def field_counts(stats: Mapping[str, Any], name: str) -> dict[str, int]:
    """Pages of one crawl by the layer that gave field ``name`` (``missing``: none)."""
    layers = stats.get("layers") or {}
    raw = layers.get(name) or {}
    return {layer: as_int(n) for layer, n in raw.items() if as_int(n) > 0}


def layer_shares(stats: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """For each field, the share of the crawl's article pages each layer gave it."""
    out: dict[str, dict[str, float]] = {}
    for name in stats.get("layers") or {}:
        counts = field_counts(stats, name)
        total = sum(counts.values())
        if total:
            out[name] = {layer: n / total for layer, n in sorted(counts.items())}
    return out


def articles_seen(stats: Mapping[str, Any]) -> int:
    """Article pages extracted by the crawl (stored or not: copies count too)."""
    extracted = sum(field_counts(stats, "title").values())
    stored = sum(as_int(stats.get(k)) for k in ("inserted", "updated", "unchanged"))
    return max(extracted, stored)


def known_seen(stats: Mapping[str, Any]) -> int:
    """Articles the crawl met but did not extract because they are known (incremental)."""
    incremental = stats.get("incremental") or {}
    return as_int(stats.get("not_modified")) + sum(as_int(incremental.get(k)) for k in _KNOWN_KEYS)


def error_classes(stats: Mapping[str, Any]) -> dict[str, int]:
    """The failed requests and pages of one crawl by failure class (``http_500``,
    ``timeout``, ``truncated``, ``too_large``, ``redirect_loop``, ``offsite_redirect``,
    ``not_html``, ``extraction``...; see :func:`aggregator.crawl.spider.failure_class`),
    most frequent first."""
    detail = stats.get("error_detail") or {}
    counts = {
        k.removeprefix("aggregator/errors/"): as_int(v) for k, v in detail.items() if as_int(v) > 0
    }
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def capped_bounds(stats: Mapping[str, Any]) -> dict[str, int]:
    """The bounds one crawl hit (``body_text``, ``body_html``, ``listing_links``, ``queue``,
    ``robots_txt``; see :mod:`aggregator.settings`) with how often, most frequent first."""
    counts = {k: as_int(v) for k, v in (stats.get("capped") or {}).items() if as_int(v) > 0}
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def error_rate(stats: Mapping[str, Any]) -> float:
    """Errors per request of one crawl."""
    return as_int(stats.get("errors")) / max(as_int(stats.get("requests")), 1)


# -- judging --------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One problem: the verdict it calls for, the field it names, why."""

    verdict: Verdict
    field: str
    reason: str


@dataclass(frozen=True)
class Judgement:
    """A site's verdict, the fields it names and every finding's reason."""

    verdict: Verdict
    fields: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def windows(crawls: Sequence[Mapping[str, Any]], name: str) -> list[dict[str, int]]:
    """Pages of field ``name`` by layer, pooled newest first into windows of at least
    :data:`MIN_PAGES` pages (a full crawl is a window of its own; the few new articles
    of several incremental crawls make one together). An incomplete oldest window is
    left out."""
    out: list[dict[str, int]] = []
    pool: dict[str, int] = {}
    for stats in crawls:
        for layer, n in field_counts(stats, name).items():
            pool[layer] = pool.get(layer, 0) + n
        if sum(pool.values()) >= MIN_PAGES:
            out.append(pool)
            pool = {}
    return out


def _ratio(counts: Mapping[str, int], layer: str) -> float:
    return counts.get(layer, 0) / max(sum(counts.values()), 1)


def at_most_chance(hits: int, pages: int, share: float) -> float:
    """The chance of ``hits`` or fewer among ``pages`` pages when a layer gives the field
    on ``share`` of pages (binomial tail)."""
    if share >= 1.0:
        return 1.0 if hits >= pages else 0.0
    if share <= 0.0:
        return 1.0
    log_n = math.lgamma(pages + 1)
    total = sum(
        math.exp(
            log_n - math.lgamma(i + 1) - math.lgamma(pages - i + 1)
            + i * math.log(share) + (pages - i) * math.log1p(-share)
        )
        for i in range(min(hits, pages) + 1)
    )  # fmt: skip
    return min(total, 1.0)


def _newest_selector_finding(crawls: Sequence[Mapping[str, Any]], name: str) -> Finding | None:
    """A title or body selector that gave the field on :data:`SURE_SHARE` of the pages
    before and on none of the newest crawl's (at least 2) pages."""
    newest = field_counts(crawls[0], name)
    pages = sum(newest.values())
    if not 2 <= pages < MIN_PAGES or newest.get("selector", 0):
        return None  # (a crawl of MIN_PAGES pages or more is a window of its own)
    past = windows(crawls[1:], name)[:HISTORY]
    if not past:
        return None
    before = statistics.median(_ratio(w, "selector") for w in past)
    if before < SURE_SHARE:
        return None
    instead = max(sorted(newest), key=lambda layer: newest[layer])
    return Finding(
        "degraded",
        name,
        f"{name}: the definition's selector matched 0 of {pages} new pages "
        f"(before: {_pct(before)} of pages); now {instead}",
    )


def broken_findings(crawls: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """No article in the last crawl, or a required field missing on most of the latest
    pages (``crawls``: newest first)."""
    latest = crawls[0]
    if articles_seen(latest) == 0 and known_seen(latest) == 0:
        requests, errors = as_int(latest.get("requests")), as_int(latest.get("errors"))
        reason = f"no articles in the last crawl ({requests} requests, {errors} errors)"
        return [Finding("broken", "articles", reason)]
    found = []
    for name in REQUIRED_FIELDS:
        current = windows(crawls[:HISTORY], name)[:1]
        missing = _ratio(current[0], "missing") if current else 0.0
        if missing > 0.5:
            found.append(Finding("broken", name, f"{name}: missing on {_pct(missing)} of pages"))
    return found


def degraded_findings(
    crawls: Sequence[Mapping[str, Any]], selector_fields: Collection[str] = ()
) -> list[Finding]:
    """Layer shares and errors of the latest pages against the site's history.

    ``crawls`` are the site's crawl figures, newest first; ``selector_fields`` the
    fields its definition has a selector for. For each field, the latest window of
    pages (see :func:`windows`) is compared with the median of up to :data:`HISTORY`
    windows before it.
    """
    found: list[Finding] = []
    named: set[str] = set()
    for name in ("title", "body"):
        if name in selector_fields and (newest := _newest_selector_finding(crawls, name)):
            found.append(newest)
            named.add(name)
    for name in HEALTH_FIELDS:
        if name in named:
            continue
        pooled = windows(crawls, name)
        if not pooled:
            continue
        current, past = pooled[0], pooled[1 : HISTORY + 1]
        layers = {layer for w in past for layer in w} - {"missing"}
        medians = {layer: statistics.median(_ratio(w, layer) for w in past) for layer in layers}
        if medians:
            usual = max(sorted(medians), key=lambda layer: medians[layer])
            baseline, share = medians[usual], _ratio(current, usual)
            hits, pages = current.get(usual, 0), sum(current.values())
            if (
                baseline >= MIN_BASELINE
                and share < baseline / 2
                and at_most_chance(hits, pages, baseline) <= ALARM_CHANCE
            ):
                instead = max(sorted(current), key=lambda layer: current[layer])
                found.append(
                    Finding(
                        "degraded",
                        name,
                        f"{name}: {usual} gave it on {_pct(share)} of pages ({hits} of "
                        f"{pages}; usually {_pct(baseline)}); now mostly {instead}",
                    )
                )
                named.add(name)
        # a selector the definition names for a required field, matching almost nothing
        if name in ("title", "body") and name in selector_fields and name not in named:
            share = _ratio(current, "selector")
            if share < 0.5:
                reason = f"{name}: the definition's selector matched {_pct(share)} of pages"
                found.append(Finding("degraded", name, reason))
    latest, history = crawls[0], crawls[1 : HISTORY + 1]
    errors = as_int(latest.get("errors"))
    rate = error_rate(latest)
    rates = [error_rate(s) for s in history if as_int(s.get("requests"))]
    usual_rate = statistics.median(rates) if rates else 0.0
    if errors >= MIN_ERRORS and rate > max(2 * usual_rate, usual_rate + 0.1):
        found.append(
            Finding(
                "degraded",
                "errors",
                f"errors: {errors} in {as_int(latest.get('requests'))} requests "
                f"({_pct(rate)}; usually {_pct(usual_rate)})",
            )
        )
    return found


def links_finding(stats: Mapping[str, Any]) -> Finding | None:
    """Links of the crawl's listing pages that look like articles (or numbered listing
    pages) and match neither pattern: what a wrong ``links.article`` or ``links.listing``
    loses without an error (see :func:`aggregator.sites.links.unmatched_reason`)."""
    reason = unmatched_reason(stats)
    return Finding("degraded", "links", reason) if reason else None


def stale_finding(
    last_new: datetime | None, now: datetime, stale_after_hours: float
) -> Finding | None:
    """No new article for longer than ``stale_after_hours``."""
    if last_new is None:
        return Finding("stale", "new articles", "no article stored yet")
    age = now - last_new
    if age > timedelta(hours=stale_after_hours):
        hours = age.total_seconds() / 3600
        return Finding(
            "stale",
            "new articles",
            f"no new article for {hours:.0f} h (allowed: {stale_after_hours:g} h)",
        )
    return None


def judge(
    *,
    active: bool,
    crawls: Sequence[Mapping[str, Any]],
    last_new: datetime | None,
    now: datetime,
    stale_after_hours: float = DEFAULT_STALE_HOURS,
    selector_fields: Collection[str] = (),
) -> Judgement:
    """The verdict of one site from its crawls' figures (``crawls``: newest first)."""
    if not active:
        return Judgement("inactive", (), ("the definition says active = false",))
    if not crawls:
        return Judgement("never-crawled")
    if crawls[0].get("finish_reason") in ("interrupted", "shutdown"):
        reason = "the last crawl was interrupted: `aggregator crawl ID --resume` continues it"
        return Judgement("interrupted", ("crawl",), (reason,))
    findings = broken_findings(crawls)
    if stale := stale_finding(last_new, now, stale_after_hours):
        findings.append(stale)
    if not any(f.field == "articles" for f in findings):
        findings += degraded_findings(crawls, selector_fields)
    if links := links_finding(crawls[0]):
        findings.append(links)
    for verdict in _SEVERITY:
        fields = tuple(dict.fromkeys(f.field for f in findings if f.verdict == verdict))
        if fields:
            return Judgement(verdict, fields, tuple(f.reason for f in findings))
    return Judgement("ok")
