"""Search feeds on demand: ``search.{rss,atom,json}?q=…&province=…&category=…&site=…``
answered from the store by ``aggregator serve --db``.

A search finds the originals of the stories that have every word of ``q`` (folded: "hoa"
finds "hòa" and "Hoà"; see :mod:`aggregator.store.search`), newest first, at most
:data:`MAX_RESULTS`, optionally of one 2025 province, category or newspaper. The feed is
rendered by the same code as the static feeds, so an entry's id and content are those
of the story's entry in ``all``. A request is parsed strictly: an unknown or repeated
parameter, a percent-escape that is not UTF-8, a malformed key, an unknown province or a
query without words is :class:`BadSearch` (one line); a well-formed site or category
key the store does not know finds nothing.

The store is asked for its newest version cursor (one index lookup) on each request; a
search already answered at that cursor is served from a small cache, so readers polling
with conditional requests cost no search. Prepared entries are kept too, bounded in count
and content size, keyed by article id, version and copies (a rewritten row has a new
version): the newest articles appear in most results and are sanitized once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from aggregator.publish.feeds.entries import Copy, Entries, Entry, copies_of, newest_first, plain
from aggregator.publish.feeds.feed import Feed
from aggregator.publish.feeds.jsonfeed import render_json
from aggregator.publish.feeds.layout import FORMATS, Format, valid_key
from aggregator.publish.feeds.xmlfeed import render_xml
from aggregator.sites.provinces import provinces
from aggregator.store import SQLStore
from aggregator.store.records import StoredArticle
from aggregator.store.search import SearchError, query_words

__all__ = [
    "MAX_RESULTS",
    "PARAMETERS",
    "SEARCH_TIMEOUT",
    "BadSearch",
    "SearchFeeds",
    "SearchRequest",
    "parse_search",
    "search_format",
]

#: the parameters a search takes, in the order of its canonical query string
PARAMETERS = ("q", "province", "category", "site")
#: entries of a search feed at most; seconds a search may take
MAX_RESULTS = 50
SEARCH_TIMEOUT = 2.0
_CACHE_SIZE = 256
#: prepared entries kept between searches: how many, and their content's characters
_ENTRIES_KEPT = 2000
_ENTRIES_CHARS = 16_000_000  # Vietnamese text: 2 bytes a character, ~32 MB
_MAX_QUERY_STRING = 4096
_MAX_LABEL = 100


class BadSearch(ValueError):
    """A search request that cannot be answered: one line saying why."""


@dataclass(frozen=True)
class SearchRequest:
    """One search, checked."""

    fmt: Format
    #: the query as given, its spaces collapsed
    q: str
    words: tuple[str, ...]
    province: str | None = None
    category: str | None = None
    site: str | None = None

    @property
    def canonical(self) -> str:
        """The search's query string, its parameters in one order (a feed's key)."""
        values = {"q": self.q, "province": self.province,
                  "category": self.category, "site": self.site}  # fmt: skip
        return urlencode([(k, values[k]) for k in PARAMETERS if values[k]])


def search_format(name: str) -> Format | None:
    """The format of a search feed's file name (``search.atom``...), else None."""
    stem, _, suffix = name.partition(".")
    return suffix if stem == "search" and suffix in FORMATS else None


def parse_search(fmt: Format, query_string: bytes) -> SearchRequest:
    """The search a request's query string asks for; :class:`BadSearch` if it is not one."""
    if len(query_string) > _MAX_QUERY_STRING:
        raise BadSearch(f"the query string is too long (at most {_MAX_QUERY_STRING} bytes)")
    try:
        pairs = parse_qsl(
            query_string.decode("utf-8"), keep_blank_values=True, errors="strict",
            max_num_fields=len(PARAMETERS),
        )  # fmt: skip
    except UnicodeDecodeError:
        raise BadSearch("the query string is not UTF-8") from None
    except ValueError:
        raise BadSearch(f"too many parameters (a search takes {', '.join(PARAMETERS)})") from None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name not in PARAMETERS:
            raise BadSearch(f"unknown parameter {plain(name, 40)!r} (use {', '.join(PARAMETERS)})")
        if name in values:
            raise BadSearch(f"parameter {name} given twice")
        values[name] = value
    try:
        words = query_words(values.get("q", ""))
    except SearchError as exc:
        raise BadSearch(f"q: {exc}") from None
    keys: dict[str, str | None] = {}
    for name in ("province", "category", "site"):
        key = values.get(name) or None
        if key is not None and not valid_key(key):
            raise BadSearch(f"{name}: {plain(key, 40)!r} is not a [a-z0-9-]+ key")
        keys[name] = key
    if keys["province"] is not None and keys["province"] not in provinces():
        raise BadSearch(f"province: no province has the key {keys['province']!r}")
    return SearchRequest(fmt, " ".join(values["q"].split()), words, **keys)


class SearchFeeds:
    """Answers search requests from one open store; ``base``: the public URL of the feeds
    folder (self links), ``ttl``: the feeds' RSS ``<ttl>`` (minutes)."""

    def __init__(self, store: SQLStore, base: str, ttl: int) -> None:
        self.store, self.base, self.ttl = store, base, max(1, ttl)
        self._cache: OrderedDict[tuple[str, str], tuple[int, bytes]] = OrderedDict()
        self._entries = _EntryCache(_ENTRIES_KEPT, _ENTRIES_CHARS)
        self._cursor = 0

    def answer(self, search: SearchRequest) -> bytes:
        """The search feed's bytes (the same bytes while the store does not change).

        Raises :class:`~aggregator.store.search.SearchTimeout` past the time bound, and
        the store's errors when it cannot be read.
        """
        key = (search.fmt, search.canonical)
        cursor = self.store.last_cursor()
        cached = self._cache.get(key)
        if cached is not None and cached[0] == cursor:
            self._cache.move_to_end(key)
            return cached[1]
        if cursor < self._cursor:  # another store file: its versions are not these
            self._entries.clear()
        self._cursor = cursor
        found = self.store.search(
            search.words, province=search.province, category=search.category,
            site=search.site, limit=MAX_RESULTS, timeout=SEARCH_TIMEOUT,
        )  # fmt: skip
        entries = newest_first(self._entries(a) for a in found if Entries.usable(a))
        feed = self._feed(search, tuple(entries))
        fmt = search.fmt
        data = render_json(feed, self.base) if fmt == "json" else render_xml(feed, fmt, self.base)
        self._cache[key] = (cursor, data)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return data

    def _feed(self, search: SearchRequest, entries: tuple[Entry, ...]) -> Feed:
        """The search as a feed; its page: the reading page with the same search."""
        words = plain(search.q, _MAX_LABEL)
        return Feed(
            "search", search.canonical, f"Tìm: {words}", f"Tin mới nhất khớp “{words}”",
            f"{self.base}?{search.canonical}", entries, self.ttl,
        )  # fmt: skip


class _EntryCache:
    """Prepared entries, least recently used dropped first past ``count`` entries or
    ``chars`` characters of content."""

    def __init__(self, count: int, chars: int) -> None:
        self.count, self.chars = count, chars
        self._kept: OrderedDict[tuple[str, int, tuple[Copy, ...]], Entry] = OrderedDict()
        self._chars = 0

    def __call__(self, article: StoredArticle) -> Entry:
        copies = copies_of(article.also_at)
        key = (article.id, article.version, copies)
        entry = self._kept.get(key)
        if entry is not None:
            self._kept.move_to_end(key)
            return entry
        entry = Entries()(article, copies)
        self._kept[key] = entry
        self._chars += len(entry.content)
        while len(self._kept) > self.count or self._chars > self.chars:
            self._chars -= len(self._kept.popitem(last=False)[1].content)
        return entry

    def clear(self) -> None:
        self._kept.clear()
        self._chars = 0
