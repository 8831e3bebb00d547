"""Which stored articles go in which feed: the originals of every story in ``all``; in a
category feed, every story filed there (by its original, else by a copy filed there); a
newspaper's own articles, originals and copies, in its site feed; each feed's crawl
interval (RSS ``<ttl>``).

A copy of another newspaper's story links to the original and the other copies; a
second URL of a page of the same site is left out of the site feed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aggregator.publish.feeds.entries import (
    MAX_NAME,
    Copy,
    Entries,
    Entry,
    clean_url,
    copies_of,
    newest_first,
    plain,
)
from aggregator.publish.feeds.feed import ALL_LABEL, Feed, category_feed, province_feed
from aggregator.sites.definition import DEFAULT_INTERVAL, SiteDefinition
from aggregator.store.records import StoredArticle

__all__ = ["ArticleSource", "FeedSelection", "SiteInfo", "site_infos"]


class ArticleSource(Protocol):
    """The part of the store the feeds read."""

    def categories(self) -> list[tuple[str, int]]: ...
    def articles(
        self,
        *,
        sites: Sequence[str] = (),
        categories: Sequence[str] = (),
        limit: int | None = None,
        include_duplicates: bool = True,
    ) -> Iterable[StoredArticle]: ...
    def get(self, article_id: str) -> StoredArticle | None: ...


@dataclass(frozen=True)
class SiteInfo:
    """What the feeds need to know of a newspaper beyond its stored articles."""

    name: str
    #: minutes between crawls: RSS ``<ttl>``
    interval: int = DEFAULT_INTERVAL
    #: the newspaper's home page (a site feed's alternate link)
    url: str | None = None
    #: its province since 1 July 2025 (a key of provinces.toml): its province feed
    province_key: str | None = None


def site_infos(definitions: Iterable[SiteDefinition]) -> dict[str, SiteInfo]:
    """Name, crawl interval, home page and 2025 province of every site definition, by id."""
    return {d.id: SiteInfo(d.name, d.interval, d.base_url, d.province_key) for d in definitions}


class FeedSelection:
    """One run of :func:`~aggregator.publish.feeds.build_feeds`: reads the store, collects
    the feeds."""

    def __init__(
        self, store: ArticleSource, limit: int, base: str, sites: Mapping[str, SiteInfo]
    ) -> None:
        self.store, self.limit, self.base, self.sites = store, limit, base, sites
        self.prepare = Entries()
        self._originals: dict[str, StoredArticle | None] = {}
        #: the copies of every original read so far (site feeds link them from a copy)
        self._stories: dict[str, tuple[Copy, ...]] = {}

    def interval(self, site: str) -> int:
        info = self.sites.get(site)
        return info.interval if info is not None else DEFAULT_INTERVAL

    def ttl(self, entries: Iterable[Entry]) -> int:
        """The smallest crawl interval of the sites in a feed."""
        intervals = [self.interval(site) for site in {e.site for e in entries}]
        if not intervals:
            intervals = [i.interval for i in self.sites.values()] or [DEFAULT_INTERVAL]
        return max(1, min(intervals))

    def originals(self, **filters: Any) -> list[Entry]:
        articles = self.store.articles(limit=self.limit, include_duplicates=False, **filters)
        entries = []
        for article in articles:
            if self.prepare.usable(article):
                entries.append(self.prepare(article))
                if entries[-1].also_at:
                    self._stories[article.id] = entries[-1].also_at
        return entries

    def all_feed(self) -> Feed:
        entries = newest_first(self.originals())
        return Feed(
            "all", "", ALL_LABEL, "Tin mới nhất từ các báo địa phương", self.base,
            tuple(entries), self.ttl(entries),
        )  # fmt: skip

    def category_feed(self, key: str) -> Feed:
        entries = self.category_entries(key)
        return category_feed(key, entries, self.base, self.ttl(entries))

    def category_entries(self, key: str) -> list[Entry]:
        """The stories in a category, newest first: its originals, and for a story whose
        original is filed elsewhere (or is gone), its newest copy in the category — a
        story stays in the category whichever copy is its original.

        Copies are read too, so the store is asked for more rows (doubling) until
        ``limit`` entries are kept or the category has no more articles.
        """
        return self._fill(
            lambda n: self.store.articles(categories=[key], limit=n),
            lambda rows: self._category_kept(key, rows),
        )

    def _category_kept(self, key: str, rows: Iterable[StoredArticle]) -> list[Entry]:
        kept: list[Entry] = []
        stories: set[str] = set()
        for article in rows:
            if not self.prepare.usable(article):
                continue
            if article.duplicate_of is None:
                kept.append(self.prepare(article))
                if kept[-1].also_at:
                    self._stories[article.id] = kept[-1].also_at
                continue
            original = self._original(article.duplicate_of)
            usable = original is not None and self.prepare.usable(original)
            if usable and original is not None and key in original.categories:
                continue  # the original stands for the story here
            if article.duplicate_of in stories:
                continue
            stories.add(article.duplicate_of)
            others = self._others(article, original) if original is not None else ()
            kept.append(self.prepare(article, others))
        return kept

    def _fill(
        self,
        read: Callable[[int], Iterable[StoredArticle]],
        keep: Callable[[list[StoredArticle]], list[Entry]],
    ) -> list[Entry]:
        """The ``limit`` newest entries ``keep`` makes of ``read(n)`` rows: copies are read
        too, so the store is asked for twice as many rows until ``limit`` entries are kept
        or it has no more."""
        fetch = self.limit
        while True:
            rows = list(read(fetch))
            kept = keep(rows)
            if len(kept) >= self.limit or len(rows) < fetch:
                return newest_first(kept)[: self.limit]
            fetch *= 2

    def _original(self, article_id: str) -> StoredArticle | None:
        if article_id not in self._originals:
            self._originals[article_id] = self.store.get(article_id)
        return self._originals[article_id]

    def _others(self, copy: StoredArticle, original: StoredArticle) -> tuple[Copy, ...]:
        """The other copies of a copy's story: the original first, then the rest that
        this build has seen (the original's entry in another feed lists them)."""
        first = {"url": original.canonical_url or original.url, "site": original.site,
                 "site_name": original.site_name}  # fmt: skip
        rest = self._stories.get(original.id) or copies_of(original.also_at)
        own = {clean_url(copy.url), clean_url(copy.canonical_url)}
        return copies_of([first]) + tuple(c for c in rest if c.url not in own)

    def site_entries(self, site: str) -> list[Entry]:
        """The site's originals and its copies of other sites' stories, newest first."""
        return self.own_entries([site])

    def own_entries(self, sites: Sequence[str]) -> list[Entry]:
        """The originals of ``sites`` and their copies of stories first published
        elsewhere (each such story once), newest first.

        Copies are read too, so the store is asked for more rows (doubling) until
        ``limit`` entries are kept or the sites have no more articles.
        """
        return self._fill(
            lambda n: self.store.articles(sites=sites, limit=n, include_duplicates=True),
            lambda rows: self._own_kept(sites, rows),
        )

    def _own_kept(self, sites: Sequence[str], rows: Iterable[StoredArticle]) -> list[Entry]:
        kept: list[Entry] = []
        stories: set[str] = set()
        for article in rows:
            if not self.prepare.usable(article):
                continue
            if article.duplicate_of is None:
                kept.append(self.prepare(article))
                continue
            original = self._original(article.duplicate_of)
            if original is None:  # a dangling link: show the copy on its own
                kept.append(self.prepare(article, ()))
            elif original.site not in sites and original.id not in stories:
                stories.add(original.id)
                kept.append(self.prepare(article, self._others(article, original)))
        return kept

    def province_of(self, site: str, entries: Iterable[Entry] = ()) -> str:
        """A site's 2025 province: its definition's, else its stored articles'."""
        info = self.sites.get(site)
        if info is not None and info.province_key:
            return info.province_key
        return next((e.province for e in entries if e.site == site and e.province), "")

    def province_feed(self, key: str, sites: Sequence[str]) -> Feed | None:
        """The feed of one 2025 province across its newspapers (None without entries)."""
        entries = self.own_entries(sorted(sites))
        if not entries:
            return None
        ttl = min(self.interval(site) for site in sites)
        return province_feed(key, entries, self.base, max(1, ttl))

    def site_feed(self, site: str, entries: Sequence[Entry]) -> Feed:
        info = self.sites.get(site)
        name = (plain(info.name, MAX_NAME) if info else "") or entries[0].site_name or site
        home = info.url if info is not None and info.url else entries[0].site_url
        return Feed(
            "site", site, name, f"Tin mới nhất của {name}", clean_url(home), tuple(entries),
            self.interval(site),
        )  # fmt: skip
