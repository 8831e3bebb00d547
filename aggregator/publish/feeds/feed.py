"""One feed as every format shows it: its kind and key, label, description, home page,
entries and crawl interval; the labels of feeds and categories.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from aggregator.publish.feeds.entries import (
    MAX_NAME,
    TAG_PREFIX,
    Entry,
    local_time,
    newest_first,
    plain,
)
from aggregator.publish.feeds.layout import Format, Kind
from aggregator.sites.categories import category_label
from aggregator.sites.provinces import provinces

__all__ = [
    "ALL_LABEL",
    "FEED_SUFFIX",
    "Feed",
    "category_feed",
    "label_of",
    "province_feed",
    "province_name",
    "terms_of",
]

FEED_SUFFIX = "Báo địa phương"
ALL_LABEL = "Tất cả"
#: ``updated`` of a feed with no entries (never the build time).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Feed:
    """A feed as every format renders it."""

    kind: Kind
    key: str  # category key or site id; "" for all
    label: str
    description: str
    home: str  # the alternate (HTML) link
    entries: tuple[Entry, ...]
    ttl: int

    @property
    def name(self) -> str:
        """Path of the feed under the feeds folder, without the extension."""
        return self.kind if self.kind in ("all", "search") else f"{self.kind}/{self.key}"

    @property
    def id(self) -> str:
        # a search feed's key is its query string: one id per search
        return TAG_PREFIX + self.name + (f"?{self.key}" if self.kind == "search" else "")

    @property
    def title(self) -> str:
        return f"{self.label} — {FEED_SUFFIX}"

    @property
    def updated(self) -> datetime:
        """The newest change among the entries (or a fixed epoch): never the build time."""
        return max((e.updated for e in self.entries), default=local_time(_EPOCH))

    def href(self, fmt: Format) -> str:
        path = f"{self.name}.{fmt}"
        return f"{path}?{self.key}" if self.kind == "search" and self.key else path

    @property
    def up(self) -> str:
        """From the feed's file back to the feeds folder ("" or "../")."""
        return "" if self.kind in ("all", "search") else "../"


def terms_of(feed: Feed, entry: Entry) -> list[str]:
    """Category keys of an entry, the feed's own first."""
    own = [feed.key] if feed.kind == "category" else []
    return list(dict.fromkeys([*own, *entry.categories]))


def label_of(key: str) -> str:
    """The display label of a category key (the key itself when it has none)."""
    return plain(category_label(key), MAX_NAME) or key


def category_feed(key: str, entries: Iterable[Entry], base: str, ttl: int) -> Feed:
    """The feed of category ``key``: its entries, newest first."""
    label = label_of(key)
    return Feed(
        "category", key, label, f"Tin {label} mới nhất từ các báo địa phương", base,
        tuple(newest_first(entries)), ttl,
    )  # fmt: skip


def province_name(key: str) -> str:
    """The name of a 2025 province (the key itself when it names none)."""
    unit = provinces().get(key)
    return unit.name if unit is not None else key


def province_feed(key: str, entries: Iterable[Entry], base: str, ttl: int) -> Feed:
    """The feed of one 2025 province: the articles of all its newspapers, newest first."""
    unit = provinces().get(key)
    name = unit.name if unit is not None else key
    kind = unit.kind if unit is not None else "tỉnh"
    return Feed(  # its page: the reading page filtered to the province
        "province", key, name, f"Tin mới nhất của các báo {kind} {name}",
        f"{base}?province={key}", tuple(newest_first(entries)), ttl,
    )  # fmt: skip
