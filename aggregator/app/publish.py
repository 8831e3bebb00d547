"""After crawls: rebuild the feeds and judge every site's health, from the store."""

from __future__ import annotations

from pathlib import Path

from aggregator.publish.feeds import FeedBuildReport, build_feeds, site_infos
from aggregator.publish.health import HealthReport, update_health
from aggregator.sites.definition import SiteRegistry, known_categories
from aggregator.store import open_store

__all__ = ["publish"]


def publish(
    db: str,
    feeds_dir: Path,
    registry: SiteRegistry,
    *,
    base_url: str | None = None,
    limit: int = 50,
    feeds: bool = True,
    health: bool = True,
) -> tuple[FeedBuildReport | None, HealthReport | None]:
    """Rebuild the feeds (when ``feeds``) and the health view (when ``health``); opens its
    own store connection, so a scheduler can run it in a thread."""
    report, judged = None, None
    with open_store(db) as store:
        if feeds:
            report = build_feeds(
                store,
                feeds_dir,
                limit=limit,
                base_url=base_url,
                sites=site_infos(registry),
                categories=known_categories(registry),
            )
        if health:
            judged = update_health(store, feeds_dir, registry, base_url=base_url)
    return report, judged
