"""Feeds built from the store (see :mod:`.build`); this package exports what the rest of
the project uses."""

from aggregator.publish.feeds.build import (
    DEFAULT_BASE_URL,
    DEFAULT_INTERVAL,
    FORMATS,
    MAX_TITLE,
    MEDIA_TYPES,
    FeedBuildReport,
    SiteInfo,
    build_feeds,
    feed_path,
    render_feed,
    site_infos,
    valid_key,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_INTERVAL",
    "FORMATS",
    "MAX_TITLE",
    "MEDIA_TYPES",
    "FeedBuildReport",
    "SiteInfo",
    "build_feeds",
    "feed_path",
    "render_feed",
    "site_infos",
    "valid_key",
]
