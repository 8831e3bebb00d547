"""The build: :func:`build_feeds` selects the feeds, renders each in every format and
writes the feeds folder with its OPML list and index page; :func:`render_feed` renders
one category feed on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from aggregator.normalize.text import fold
from aggregator.publish.feeds.entries import Entries
from aggregator.publish.feeds.feed import ALL_LABEL, Feed, category_feed
from aggregator.publish.feeds.index import Headlines, render_headlines, render_index, render_opml
from aggregator.publish.feeds.jsonfeed import render_json
from aggregator.publish.feeds.layout import (
    DEFAULT_BASE_URL,
    FORMATS,
    HEADLINES_FILE,
    INDEX_FILE,
    OPML_FILE,
    STATIC_FILES,
    FeedBuildReport,
    Format,
    feed_path,
    remove_stale,
    static_file,
    valid_key,
)
from aggregator.publish.feeds.select import ArticleSource, FeedSelection, SiteInfo
from aggregator.publish.feeds.xmlfeed import render_xml
from aggregator.publish.files import write_if_changed
from aggregator.sites.definition import DEFAULT_INTERVAL
from aggregator.store.records import StoredArticle

__all__ = ["build_feeds", "render_feed"]

# The package's name: logging configuration and log readers know the feeds by it.
logger = logging.getLogger("aggregator.publish.feeds")

#: At most this many category feeds (the keys with the most articles).
MAX_CATEGORY_FEEDS = 200


def _render(feed: Feed, fmt: Format, base: str) -> bytes:
    return render_json(feed, base) if fmt == "json" else render_xml(feed, fmt, base)


def _base(base_url: str | None) -> str:
    base = base_url or DEFAULT_BASE_URL
    return base if base.endswith("/") else base + "/"


def render_feed(
    key: str,
    articles: Iterable[StoredArticle],
    fmt: Format,
    base_url: str = DEFAULT_BASE_URL,
    *,
    ttl: int = DEFAULT_INTERVAL,
) -> bytes:
    """One category feed as bytes: the same articles always give the same bytes."""
    if not valid_key(key):
        raise ValueError(f"category key {key!r} is not a [a-z0-9-]+ file name")
    if fmt not in FORMATS:
        raise ValueError(f"unknown feed format {fmt!r}")
    prepare = Entries()
    entries = [prepare(a) for a in articles if prepare.usable(a)]
    return _render(category_feed(key, entries, _base(base_url), ttl), fmt, _base(base_url))


def build_feeds(
    store: ArticleSource,
    feeds_dir: Path,
    *,
    limit: int = 50,
    base_url: str | None = None,
    sites: Mapping[str, SiteInfo] | None = None,
    categories: Collection[str] | None = None,
) -> FeedBuildReport:
    """Write every feed, ``feeds.opml``, the reading page (``index.html``, ``headlines.json``
    and its static files) and ``feed.xsl`` under ``feeds_dir``.

    Each feed holds its ``limit`` newest entries, newest first. ``base_url`` is the
    public URL of ``feeds_dir`` (default :data:`DEFAULT_BASE_URL`), used for self
    links and the OPML list. ``sites`` (see :func:`site_infos`) gives newspapers'
    names, home pages, 2025 provinces and crawl intervals (RSS ``<ttl>``; a feed
    spanning sites takes the smallest); a site with stored articles but no entry there
    gets a feed when its articles appear in another feed. A province feed spans the
    newspapers of one 2025 province. Only files whose bytes change are rewritten; feed
    files of categories, provinces and sites without articles are removed.
    ``categories`` (see :func:`~aggregator.sites.definition.known_categories`): the
    only keys that get a feed, when given (a store may hold keys minted from page text
    by older versions); at most :data:`MAX_CATEGORY_FEEDS` in any case, the keys with
    the most articles.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    root = Path(feeds_dir)
    for kind in ("category", "province", "site"):  # a symlinked folder raises first
        feed_path(root, "x", "rss", kind)
    base = _base(base_url)
    build = FeedSelection(store, limit, base, dict(sites or {}))
    report = FeedBuildReport()

    everything = build.all_feed()
    category_feeds = [build.category_feed(key) for key in _category_keys(store, categories, report)]
    site_feeds = _site_feeds(build, (everything, *category_feeds), report)
    site_provinces = {f.key: build.province_of(f.key, f.entries) for f in site_feeds}
    province_feeds = _province_feeds(build, site_provinces)

    feeds = (everything, *category_feeds, *province_feeds, *site_feeds)
    report.cut = sorted({e.link for feed in feeds for e in feed.entries if e.cut})
    kept: set[Path] = set()
    for feed in feeds:
        for fmt in FORMATS:
            path = feed_path(root, feed.key, fmt, feed.kind)
            kept.add(path)
            data = _render(feed, fmt, base)
            (report.written if write_if_changed(path, data) else report.unchanged).append(path)
    groups = [
        (ALL_LABEL, [everything]),
        ("Chuyên mục", category_feeds),
        ("Tỉnh, thành phố", province_feeds),
        ("Báo", site_feeds),
    ]
    headlines = Headlines.of(groups, site_provinces)
    for name, data in (
        *((name, static_file(name)) for name in STATIC_FILES),
        (HEADLINES_FILE, render_headlines(headlines)),
        (OPML_FILE, render_opml(groups, base)),
        (INDEX_FILE, render_index(groups, headlines)),
    ):
        path = root / name
        (report.written if write_if_changed(path, data) else report.unchanged).append(path)
    remove_stale(root, kept, report)
    return report


def _category_keys(
    store: ArticleSource, categories: Collection[str] | None, report: FeedBuildReport
) -> list[str]:
    """The category keys that get a feed: valid file names, named by ``categories`` when
    given, at most :data:`MAX_CATEGORY_FEEDS` (those with the most articles); the others
    are logged once and reported."""
    unknown: list[str] = []
    keys: list[tuple[str, int]] = []
    for key, count in store.categories():
        if not valid_key(key):
            logger.warning("skipping category %r: not a [a-z0-9-]+ file name", key)
            report.rejected.append(key)
        elif categories is not None and key not in categories:
            unknown.append(key)
        else:
            keys.append((key, count))
    if len(keys) > MAX_CATEGORY_FEEDS:
        keys.sort(key=lambda kc: (-kc[1], kc[0]))
        unknown += [k for k, _ in keys[MAX_CATEGORY_FEEDS:]]
        keys = sorted(keys[:MAX_CATEGORY_FEEDS])
    if unknown:
        shown = ", ".join(repr(k) for k in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        logger.warning(
            "skipping %d categories neither the shared scheme nor a definition names "
            "(or over the cap of %d feeds): %s", len(unknown), MAX_CATEGORY_FEEDS, shown,
        )  # fmt: skip
        report.rejected += unknown
    return [key for key, _count in keys]


def _site_feeds(build: FeedSelection, shown: Iterable[Feed], report: FeedBuildReport) -> list[Feed]:
    """A feed for every defined site and every site whose articles the ``shown`` feeds
    hold (as an entry or a copy), when it has entries."""
    shown = list(shown)
    seen = {e.site for f in shown for e in f.entries}
    seen |= {c.site for f in shown for e in f.entries for c in e.also_at}
    site_feeds: list[Feed] = []
    for site in sorted(set(build.sites) | seen):
        if not valid_key(site):
            logger.warning("skipping site %r: not a [a-z0-9-]+ file name", site)
            report.rejected_sites.append(site)
            continue
        entries = build.site_entries(site)
        if entries:
            site_feeds.append(build.site_feed(site, entries))
    return site_feeds


def _province_feeds(build: FeedSelection, site_provinces: Mapping[str, str | None]) -> list[Feed]:
    """One feed per 2025 province spanning its newspapers, sorted by name."""
    by_province: dict[str, list[str]] = {}
    for site, key in site_provinces.items():
        if key:
            by_province.setdefault(key, []).append(site)
    province_feeds = [
        feed
        for key, members in by_province.items()
        if (feed := build.province_feed(key, members)) is not None
    ]
    province_feeds.sort(key=lambda f: (fold(f.label, diacritics=False), f.key))
    return province_feeds
