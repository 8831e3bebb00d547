"""Health of every site: a verdict per site from its recent crawls, and a feed of changes.

Every crawl records its figures per site in the store's ``crawls`` table (see
:func:`aggregator.crawl.pipelines.crawl_summary`), among them, for each field, how many pages
each extraction layer gave it. From the latest crawl, the few before it and the site's
definition, :func:`judge` gives one verdict:

``inactive``
    the definition says ``active = false``;
``never-crawled``
    no crawl of the site is recorded;
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
``ok``
    none of the above.

Layer shares are judged on windows of at least :data:`MIN_PAGES` pages: a full crawl
is a window of its own, the few new articles of successive incremental crawls are
pooled. The latest window is compared with the median of the :data:`HISTORY` windows
before it; so a change that persists becomes the new normal after that many windows,
except for a title or body selector that matches nothing (always reported).

The judging functions are pure (crawl figures in, findings out). :func:`update_health`
evaluates every site, appends a row to the ``health_events`` table when a site's
verdict (or the fields it names) changed, and rewrites ``_health.atom`` in the feeds
folder (atomically, only when its bytes change) with one entry per change.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from lxml import etree

from aggregator.normalize.dates import ICT, iso
from aggregator.process.chain import HEALTH_FIELDS
from aggregator.publish.files import write_if_changed
from aggregator.sites.definition import SiteDefinition, SiteRegistry
from aggregator.store.articles import SQLStore
from aggregator.store.records import CrawlRecord, HealthRecord

__all__ = [
    "DEFAULT_STALE_HOURS",
    "HEALTH_FEED",
    "REQUIRED_FIELDS",
    "Finding",
    "HealthEvent",
    "HealthReport",
    "Judgement",
    "SiteHealth",
    "articles_seen",
    "broken_findings",
    "degraded_findings",
    "evaluate",
    "format_table",
    "judge",
    "layer_shares",
    "render_health_feed",
    "stale_finding",
    "update_health",
    "windows",
]

Verdict = Literal["ok", "degraded", "broken", "stale", "inactive", "never-crawled"]

#: File name of the health feed in the feeds folder.
HEALTH_FEED = "_health.atom"
#: Fields an article cannot do without.
REQUIRED_FIELDS = ("title", "body", "published")
#: Hours without a new article before a site is stale, unless its definition says.
DEFAULT_STALE_HOURS = 72
#: Earlier windows of pages (see :func:`windows`) the latest one is compared with.
HISTORY = 10
#: Pages of a field pooled into one window: fewer say nothing about its layers.
MIN_PAGES = 3
#: Crawl records read per site (incremental crawls may each bring only an article or two).
CRAWLS_READ = 60
#: A usual layer is compared only when it gave the field on at least this share of pages.
MIN_BASELINE = 0.3
#: "Errors rose" needs at least this many errors in the latest crawl.
MIN_ERRORS = 3
#: Entries kept in the health feed.
FEED_ENTRIES = 100

#: Most severe first: the verdict of a site is that of its most severe finding.
_SEVERITY: tuple[Verdict, ...] = ("broken", "stale", "degraded")
#: Counts of a crawl that mean "met an article already known" (incremental crawls).
_KNOWN_KEYS = ("skipped_known", "conditional", "listing_all_known")
_TAG = "tag:aggregator,2026:health"
_ATOM = "http://www.w3.org/2005/Atom"
_DEFAULT_BASE_URL = "http://localhost/feeds/"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The verdict history lives in the store's health_events table (store.MIGRATIONS, 4).


# -- figures of one crawl -------------------------------------------------------------


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def field_counts(stats: Mapping[str, Any], name: str) -> dict[str, int]:
    """Pages of one crawl by the layer that gave field ``name`` (``missing``: none)."""
    layers = stats.get("layers") or {}
    raw = layers.get(name) or {}
    return {layer: _int(n) for layer, n in raw.items() if _int(n) > 0}


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
    stored = sum(_int(stats.get(k)) for k in ("inserted", "updated", "unchanged"))
    return max(extracted, stored)


def known_seen(stats: Mapping[str, Any]) -> int:
    """Articles the crawl met but did not extract because they are known (incremental)."""
    incremental = stats.get("incremental") or {}
    return _int(stats.get("not_modified")) + sum(_int(incremental.get(k)) for k in _KNOWN_KEYS)


def error_classes(stats: Mapping[str, Any]) -> dict[str, int]:
    """The failed requests and pages of one crawl by failure class (``http_500``,
    ``timeout``, ``truncated``, ``too_large``, ``redirect_loop``, ``offsite_redirect``,
    ``not_html``, ``extraction``...; see :func:`aggregator.crawl.spider.failure_class`),
    most frequent first."""
    detail = stats.get("error_detail") or {}
    counts = {
        k.removeprefix("aggregator/errors/"): _int(v) for k, v in detail.items() if _int(v) > 0
    }
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def error_rate(stats: Mapping[str, Any]) -> float:
    """Errors per request of one crawl."""
    return _int(stats.get("errors")) / max(_int(stats.get("requests")), 1)


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


def broken_findings(crawls: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """No article in the last crawl, or a required field missing on most of the latest
    pages (``crawls``: newest first)."""
    latest = crawls[0]
    if articles_seen(latest) == 0 and known_seen(latest) == 0:
        requests, errors = _int(latest.get("requests")), _int(latest.get("errors"))
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
    for name in HEALTH_FIELDS:
        pooled = windows(crawls, name)
        if not pooled:
            continue
        current, past = pooled[0], pooled[1 : HISTORY + 1]
        layers = {layer for w in past for layer in w} - {"missing"}
        medians = {layer: statistics.median(_ratio(w, layer) for w in past) for layer in layers}
        if medians:
            usual = max(sorted(medians), key=lambda layer: medians[layer])
            baseline, share = medians[usual], _ratio(current, usual)
            if baseline >= MIN_BASELINE and share < baseline / 2:
                instead = max(sorted(current), key=lambda layer: current[layer])
                found.append(
                    Finding(
                        "degraded",
                        name,
                        f"{name}: {usual} gave it on {_pct(share)} of pages "
                        f"(usually {_pct(baseline)}); now mostly {instead}",
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
    errors = _int(latest.get("errors"))
    rate = error_rate(latest)
    rates = [error_rate(s) for s in history if _int(s.get("requests"))]
    usual_rate = statistics.median(rates) if rates else 0.0
    if errors >= MIN_ERRORS and rate > max(2 * usual_rate, usual_rate + 0.1):
        found.append(
            Finding(
                "degraded",
                "errors",
                f"errors: {errors} in {_int(latest.get('requests'))} requests "
                f"({_pct(rate)}; usually {_pct(usual_rate)})",
            )
        )
    return found


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
    findings = broken_findings(crawls)
    if stale := stale_finding(last_new, now, stale_after_hours):
        findings.append(stale)
    if not any(f.field == "articles" for f in findings):
        findings += degraded_findings(crawls, selector_fields)
    for verdict in _SEVERITY:
        fields = tuple(dict.fromkeys(f.field for f in findings if f.verdict == verdict))
        if fields:
            return Judgement(verdict, fields, tuple(f.reason for f in findings))
    return Judgement("ok")


# -- the store ------------------------------------------------------------------------


# -- evaluation -----------------------------------------------------------------------


@dataclass(frozen=True)
class SiteHealth:
    """What ``aggregator status`` shows of one site."""

    site: str
    name: str
    verdict: Verdict
    fields: tuple[str, ...]
    reasons: tuple[str, ...]
    active: bool
    verified: bool
    stale_after_hours: float
    last_crawl: CrawlRecord | None = None
    last_new_article: datetime | None = None

    @property
    def selector_share(self) -> dict[str, float | None]:
        """Share of the last crawl's pages whose field came from a selector."""
        stats = self.last_crawl.stats if self.last_crawl else {}
        out: dict[str, float | None] = {}
        for name in HEALTH_FIELDS:
            counts = field_counts(stats, name)
            total = sum(counts.values())
            out[name] = counts.get("selector", 0) / total if total else None
        return out

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``aggregator status --json``)."""
        last: dict[str, Any] | None = None
        if self.last_crawl is not None:
            s = self.last_crawl.stats
            last = {
                "started_at": iso(self.last_crawl.started_at),
                "finished_at": iso(self.last_crawl.finished_at),
                **{k: s.get(k) for k in _LAST_CRAWL_KEYS},
                "articles": articles_seen(s),
                "error_classes": error_classes(s),
                "layers": layer_shares(s),
            }
        return {
            "site": self.site,
            "name": self.name,
            "verdict": self.verdict,
            "fields": list(self.fields),
            "reasons": list(self.reasons),
            "active": self.active,
            "verified": self.verified,
            "stale_after_hours": self.stale_after_hours,
            "last_new_article": iso(self.last_new_article),
            "last_crawl": last,
            "selector_share": self.selector_share,
        }


#: Figures of the last crawl shown by ``status --json``.
_LAST_CRAWL_KEYS = (
    "requests", "pages", "inserted", "updated", "unchanged", "duplicates", "errors",
    "error_detail", "duration_s", "finish_reason",
)  # fmt: skip


def _stale_after(site: SiteDefinition) -> float:
    value = getattr(site, "stale_after", None)  # optional key of the definition
    return float(value) if isinstance(value, int | float) and value > 0 else DEFAULT_STALE_HOURS


def _selector_fields(site: SiteDefinition) -> set[str]:
    return {name for name in HEALTH_FIELDS if getattr(site.selectors, name, None)}


def evaluate(
    store: SQLStore, registry: SiteRegistry, now: datetime | None = None
) -> list[SiteHealth]:
    """The health of every site of ``registry`` (by id), from the store's crawl records."""
    now = now or datetime.now(UTC)
    out = []
    for site in registry:
        crawls = store.crawl_history(site.id, CRAWLS_READ)
        last_new = store.last_first_seen(site.id)
        stale_after = _stale_after(site)
        verdict = judge(
            active=site.active,
            crawls=[c.stats for c in crawls],
            last_new=last_new,
            now=now,
            stale_after_hours=stale_after,
            selector_fields=_selector_fields(site),
        )
        out.append(
            SiteHealth(
                site=site.id,
                name=site.name,
                verdict=verdict.verdict,
                fields=verdict.fields,
                reasons=verdict.reasons,
                active=site.active,
                verified=site.verified,
                stale_after_hours=stale_after,
                last_crawl=crawls[0] if crawls else None,
                last_new_article=last_new,
            )
        )
    return out


# -- verdict history ------------------------------------------------------------------


@dataclass(frozen=True)
class HealthEvent(HealthRecord):
    """A change of a site's verdict, as the health feed and page show it."""

    @property
    def entry_id(self) -> str:
        """Stable Atom id: the site and the instant of the change."""
        return f"{_TAG}/{self.site}/{self.at.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}"

    @property
    def title(self) -> str:
        named = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.site}: {self.previous} → {self.verdict}{named}"

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "at": iso(self.at),
            "verdict": self.verdict,
            "previous": self.previous,
            "fields": list(self.fields),
            "reasons": list(self.reasons),
        }


#: Verdicts a site may start in without an event (nothing happened to it yet).
_QUIET_START = ("never-crawled", "inactive")


def record_changes(
    store: SQLStore, sites: Sequence[SiteHealth], now: datetime
) -> list[HealthEvent]:
    """Append an event for every site whose verdict or named fields changed."""

    def work() -> list[HealthEvent]:  # one write transaction: two processes must not
        events: list[HealthEvent] = []  # both record one change
        for s in sites:
            last = store.last_health_event(s.site)
            if last is None:
                if s.verdict in _QUIET_START:
                    continue
                previous, previous_fields = "never-crawled", tuple[str, ...]()
            else:
                previous, previous_fields = last.verdict, last.fields
            if (previous, previous_fields) == (s.verdict, s.fields):
                continue
            event = HealthEvent(s.site, now, s.verdict, previous, s.fields, s.reasons)
            store.add_health_event(event)
            events.append(event)
        return events

    return store.transaction(work)


def recent_events(store: SQLStore, limit: int = FEED_ENTRIES) -> list[HealthEvent]:
    """The newest events, newest first."""
    return [HealthEvent(**vars(e)) for e in store.health_events(limit)]


# -- the health feed ------------------------------------------------------------------


def _atom_time(value: datetime) -> str:
    return value.astimezone(ICT).replace(microsecond=0).isoformat()


def render_health_feed(
    events: Sequence[HealthEvent],
    base_url: str = _DEFAULT_BASE_URL,
    site_urls: Mapping[str, str] | None = None,
) -> bytes:
    """Atom 1.0, one entry per event (newest first); the same events give the same bytes."""
    base = base_url if base_url.endswith("/") else base_url + "/"

    def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> Any:
        el = etree.SubElement(parent, f"{{{_ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    feed = etree.Element(f"{{{_ATOM}}}feed", nsmap={None: _ATOM})
    sub(feed, "id", _TAG)
    sub(feed, "title", "Site health — Báo địa phương")
    sub(feed, "subtitle", "One entry each time a site's verdict changes (aggregator status)")
    sub(feed, "link", rel="self", type="application/atom+xml", href=base + HEALTH_FEED)
    newest = max((e.at for e in events), default=_EPOCH)
    sub(feed, "updated", _atom_time(newest))
    sub(sub(feed, "author"), "name", "aggregator")
    sub(feed, "generator", "aggregator")
    for event in sorted(events, key=lambda e: (e.at, e.site), reverse=True):
        entry = sub(feed, "entry")
        sub(entry, "id", event.entry_id)
        sub(entry, "title", event.title)
        sub(entry, "published", _atom_time(event.at))
        sub(entry, "updated", _atom_time(event.at))
        if site_urls and event.site in site_urls:
            sub(entry, "link", rel="alternate", type="text/html", href=site_urls[event.site])
        sub(entry, "category", term=event.verdict)
        lines = [f"{event.site}: {event.previous} → {event.verdict}", *event.reasons]
        sub(entry, "content", "\n".join(lines), type="text")
    data: bytes = etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return data


# -- the whole job --------------------------------------------------------------------


@dataclass
class HealthReport:
    """What :func:`update_health` found and did."""

    sites: list[SiteHealth]
    events: list[HealthEvent] = field(default_factory=list)  # recorded by this call
    feed: Path | None = None
    feed_written: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "sites": [s.to_json() for s in self.sites],
            "events": [e.to_json() for e in self.events],
            "feed": str(self.feed) if self.feed else None,
            "feed_written": self.feed_written,
        }


def update_health(
    store: SQLStore,
    feeds_dir: Path | str,
    registry: SiteRegistry,
    *,
    now: datetime | None = None,
    base_url: str | None = None,
) -> HealthReport:
    """Judge every site, record verdict changes, rewrite ``_health.atom`` if it changed.

    Call it after crawls (``crawl``, ``run``) and from ``aggregator status``.
    ``base_url`` is the public URL of ``feeds_dir`` (for the feed's self link).
    """
    now = now or datetime.now(UTC)
    sites = evaluate(store, registry, now)
    events = record_changes(store, sites, now)
    site_urls = {s.id: s.base_url for s in registry}
    data = render_health_feed(recent_events(store), base_url or _DEFAULT_BASE_URL, site_urls)
    path = Path(feeds_dir) / HEALTH_FEED
    written = write_if_changed(path, data)
    return HealthReport(sites, events, path, written)


# -- the status table -----------------------------------------------------------------

_SHORT = {
    "title": "title", "lead": "lead", "body": "body", "published": "pub", "authors": "auth",
    "section": "sect", "image": "img",
}  # fmt: skip


def format_table(sites: Sequence[SiteHealth]) -> str:
    """One row per site: last crawl, new/updated/duplicate articles, errors, the share
    of each field given by a selector (percent; ``-``: no page), verdict and why."""
    header = (
        f"{'site':<14} {'verdict':<13} {'last crawl (+07)':<16} {'new':>4} {'upd':>4} "
        f"{'dup':>4} {'err':>4}  " + " ".join(f"{_SHORT[n]:>5}" for n in HEALTH_FIELDS) + "  why"
    )
    lines = [header, "-" * len(header)]
    for s in sites:
        stats = s.last_crawl.stats if s.last_crawl else {}
        when = s.last_crawl.finished_at if s.last_crawl else None
        shown = when.astimezone(ICT).strftime("%Y-%m-%d %H:%M") if when else "-"
        figures = " ".join(
            f"{_int(stats.get(k)) if s.last_crawl else '-':>4}"
            for k in ("inserted", "updated", "duplicates", "errors")
        )
        shares = " ".join(
            f"{'-' if v is None else f'{v * 100:.0f}':>5}" for v in s.selector_share.values()
        )
        why = list(s.reasons) if s.verdict not in ("ok", "never-crawled") else []
        if not s.verified:
            why.append("definition not verified")
        row = f"{s.site:<14} {s.verdict:<13} {shown:<16} {figures}  {shares}  {'; '.join(why)}"
        lines.append(row.rstrip())
        if classes := error_classes(stats):  # each failure class of the last crawl, counted
            lines.append("  errors: " + ", ".join(f"{k} {n}" for k, n in classes.items()))
    counts: dict[str, int] = {}
    for s in sites:
        counts[s.verdict] = counts.get(s.verdict, 0) + 1
    lines.append("")
    lines.append(", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
    return "\n".join(lines)
