"""JSON Feed 1.1 documents of a feed, with this project's ``_aggregator`` extension
(the source newspaper, category keys and the other copies of a story).
"""

from __future__ import annotations

from typing import Any

from aggregator.normalize.sanitize import json_text
from aggregator.publish.feeds.entries import MAX_NAME, Entry, plain, rfc3339
from aggregator.publish.feeds.feed import Feed, label_of, terms_of

__all__ = ["JSON_EXTENSION", "JSON_FEED_VERSION", "render_json"]

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
#: The JSON Feed extension object of this project (items and feed).
JSON_EXTENSION = "_aggregator"


def _json_item(entry: Entry, feed: Feed) -> dict[str, Any]:
    item: dict[str, Any] = {"id": entry.id, "url": entry.link, "title": entry.title}
    if entry.content:
        item["content_html"] = entry.content
    else:  # one of content_html and content_text is required
        item["content_text"] = entry.lead or entry.title
    if entry.lead:
        item["summary"] = entry.lead
    if entry.image is not None:
        item["image"] = entry.image[0]
    item["date_published"] = rfc3339(entry.published)
    item["date_modified"] = rfc3339(entry.updated)
    item["authors"] = [{"name": name} for name in entry.authors]
    terms = terms_of(feed, entry)
    if terms:
        item["tags"] = list(dict.fromkeys(label_of(t) for t in terms))
    item["language"] = "vi"
    item[JSON_EXTENSION] = {
        "source": {
            "site": plain(entry.site, MAX_NAME),
            "name": entry.site_name,
            "url": entry.site_url,
        },
        "categories": [{"key": t, "label": label_of(t)} for t in terms],
        "also_at": [{"url": c.url, "site": c.site, "name": c.name} for c in entry.also_at],
    }
    return item


def render_json(feed: Feed, base: str) -> bytes:
    """JSON Feed 1.1, written with the json module."""
    doc = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": feed.home,
        "feed_url": base + feed.href("json"),
        "description": feed.description,
        "language": "vi",
        JSON_EXTENSION: {"id": feed.id, "updated": rfc3339(feed.updated), "ttl": feed.ttl},
        "items": [_json_item(entry, feed) for entry in feed.entries],
    }
    # compact: the C encoder (indent falls back to the pure-Python one, 10x slower)
    return (json_text(doc) + "\n").encode("utf-8")
