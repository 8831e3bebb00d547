"""The build: :func:`build_feeds` selects the feeds, renders each in every format and
writes the feeds folder with its OPML list and index page; :func:`render_feed` renders
one category feed on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from aggregator.publish.feeds.entries import Entries
from aggregator.publish.feeds.feed import ALL_LABEL, Feed, category_feed
from aggregator.publish.feeds.index import render_index, render_opml
from aggregator.publish.feeds.jsonfeed import render_json
from aggregator.publish.feeds.layout import (
    DEFAULT_BASE_URL,
    FORMATS,
    INDEX_FILE,
    OPML_FILE,
    FeedBuildReport,
    Format,
    feed_path,
    remove_stale,
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
) -> FeedBuildReport:
    """Write every feed, ``feeds.opml`` and ``index.html`` under ``feeds_dir``.

    Each feed holds its ``limit`` newest entries, newest first. ``base_url`` is the
    public URL of ``feeds_dir`` (default :data:`DEFAULT_BASE_URL`), used for self
    links and the OPML list. ``sites`` (see :func:`site_infos`) gives newspapers'
    names, home pages and crawl intervals (RSS ``<ttl>``; a feed spanning sites
    takes the smallest); a site with stored articles but no entry there gets a feed
    when its articles appear in another feed. Only files whose bytes change are
    rewritten; feed files of categories and sites without articles are removed.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    root = Path(feeds_dir)
    for kind in ("category", "site"):  # a symlinked folder raises before anything is written
        feed_path(root, "x", "rss", kind)
    base = _base(base_url)
    build = FeedSelection(store, limit, base, dict(sites or {}))
    report = FeedBuildReport()

    everything = build.all_feed()
    categories: list[Feed] = []
    for key, _count in store.categories():
        if not valid_key(key):
            logger.warning("skipping category %r: not a [a-z0-9-]+ file name", key)
            report.rejected.append(key)
            continue
        categories.append(build.category_feed(key))
    seen = {e.site for f in (everything, *categories) for e in f.entries}
    seen |= {c.site for f in (everything, *categories) for e in f.entries for c in e.also_at}
    site_feeds: list[Feed] = []
    for site in sorted(set(build.sites) | seen):
        if not valid_key(site):
            logger.warning("skipping site %r: not a [a-z0-9-]+ file name", site)
            report.rejected_sites.append(site)
            continue
        entries = build.site_entries(site)
        if entries:
            site_feeds.append(build.site_feed(site, entries))

    feeds = (everything, *categories, *site_feeds)
    report.cut = sorted({e.link for feed in feeds for e in feed.entries if e.cut})
    kept: set[Path] = set()
    for feed in feeds:
        for fmt in FORMATS:
            path = feed_path(root, feed.key, fmt, feed.kind)
            kept.add(path)
            data = _render(feed, fmt, base)
            (report.written if write_if_changed(path, data) else report.unchanged).append(path)
    groups = [(ALL_LABEL, [everything]), ("Chuyên mục", categories), ("Báo", site_feeds)]
    for name, data in (
        (OPML_FILE, render_opml(groups, base)),
        (INDEX_FILE, render_index(groups)),
    ):
        path = root / name
        (report.written if write_if_changed(path, data) else report.unchanged).append(path)
    remove_stale(root, kept, report)
    return report
