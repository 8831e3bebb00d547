"""Reporting site health: every site judged from the store's crawl records, the verdict
history, the ``_health.atom`` feed, the ``aggregator status`` table and JSON.

:func:`update_health` evaluates every site (see :mod:`.judge` for the verdicts), appends a
row to the ``health_events`` table when a site's verdict (or the fields it names) changed,
and rewrites ``_health.atom`` in the feeds folder (atomically, only when its bytes change)
with one entry per change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from aggregator.normalize.dates import ICT, iso
from aggregator.process.chain import HEALTH_FIELDS
from aggregator.publish.feeds.layout import DEFAULT_BASE_URL
from aggregator.publish.files import write_if_changed
from aggregator.publish.health.judge import (
    DEFAULT_STALE_HOURS,
    Verdict,
    articles_seen,
    as_int,
    capped_bounds,
    error_classes,
    field_counts,
    judge,
    layer_shares,
)
from aggregator.sites.definition import SiteDefinition, SiteRegistry
from aggregator.store.articles import SQLStore
from aggregator.store.records import CrawlRecord, HealthRecord

__all__ = [
    "CRAWLS_READ",
    "FEED_ENTRIES",
    "HEALTH_FEED",
    "HealthEvent",
    "HealthReport",
    "SiteHealth",
    "evaluate",
    "format_table",
    "recent_events",
    "record_changes",
    "render_health_feed",
    "update_health",
]

#: File name of the health feed in the feeds folder.
HEALTH_FEED = "_health.atom"
#: Crawl records read per site (incremental crawls may each bring only an article or two).
CRAWLS_READ = 60
#: Entries kept in the health feed.
FEED_ENTRIES = 100

_TAG = "tag:aggregator,2026:health"
_ATOM = "http://www.w3.org/2005/Atom"
_DEFAULT_BASE_URL = DEFAULT_BASE_URL  # the feeds' (where `aggregator serve` serves them)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The verdict history lives in the store's health_events table (store.MIGRATIONS, 4).


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
    "error_detail", "retries", "capped", "refused", "duration_s", "finish_reason",
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


def _retries_line(retries: Any) -> str | None:
    """The retries of a crawl and how they ended (None: there were none)."""
    if not isinstance(retries, dict) or not as_int(retries.get("count")):
        return None
    line = (
        f"  retries: {as_int(retries.get('count'))} ({as_int(retries.get('recovered'))} "
        f"then succeeded, {as_int(retries.get('gave_up'))} given up)"
    )
    if waited := as_int(retries.get("waited")):
        seconds = float(retries.get("waited_seconds") or 0)
        line += f"; waited {waited}× as Retry-After asked ({seconds:.0f} s)"
    if too_long := as_int(retries.get("too_long")):
        line += f"; {too_long} Retry-After over the bound, not retried"
    return line


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
            f"{as_int(stats.get(k)) if s.last_crawl else '-':>4}"
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
        if line := _retries_line(stats.get("retries")):
            lines.append(line)
        if capped := capped_bounds(stats):  # each bound the last crawl hit, counted
            lines.append("  capped: " + ", ".join(f"{k} {n}" for k, n in capped.items()))
        if refused := {k: n for k, n in (stats.get("refused") or {}).items() if as_int(n) > 0}:
            lines.append("  refused: " + ", ".join(f"{k} {n}" for k, n in sorted(refused.items())))
    counts: dict[str, int] = {}
    for s in sites:
        counts[s.verdict] = counts.get(s.verdict, 0) + 1
    lines.append("")
    lines.append(", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
    return "\n".join(lines)
