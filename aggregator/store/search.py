"""Search over the stored articles: which words an article is found by, and what a query
asks for.

An article is indexed by the words of its title, lead and body text, folded
(:func:`~aggregator.normalize.text.fold` without diacritics: lowercase, marks removed,
đ → d), so "hoa" finds "hòa" and "Hoà". A word is a run of letters and digits; a query
finds the articles that have every one of its words, whole. Both backends index the same
words: SQLite in an FTS5 table over the space-separated words, PostgreSQL as the lexemes of
a ``tsvector`` (``array_to_tsvector``: no parser, no dictionary between), so they find the
same articles. A query is words only: quotes, operators and SQL in it are text.

PostgreSQL keeps a search's filters beside the words too: each row's ``filters`` holds
``site:<key>``, ``province:<key>`` and ``category:<key>`` lexemes (a word has no colon),
so that a filtered search is one index scan (:func:`filters_tsquery`).
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable

from aggregator.normalize.text import fold

__all__ = [
    "MAX_QUERY",
    "MAX_QUERY_WORDS",
    "MAX_WORD",
    "WORDS_KEY_STEP",
    "SearchError",
    "SearchTimeout",
    "filters_tsquery",
    "fts5_match",
    "indexed_words",
    "query_words",
    "tsquery",
    "words",
    "words_key",
]

#: Longer words are not indexed (nor searched for): no lexeme over PostgreSQL's limit.
MAX_WORD = 100
#: A query's bounds: characters, and distinct words.
MAX_QUERY = 500
MAX_QUERY_WORDS = 10

_WORD = re.compile(r"[^\W_]+")
#: keys of one publication second: the index's key is its second times this, plus a hash
WORDS_KEY_STEP = 4096


class SearchError(ValueError):
    """A query that cannot be run: one line saying why."""


class SearchTimeout(RuntimeError):
    """A search that ran over its time bound."""


def words_key(published_ts: float, article_id: str) -> int:
    """An article's key in the search index: its publication second (floor) times
    :data:`WORDS_KEY_STEP`, plus a hash of its id (the store steps past a key in use), so
    that key order is publication order to the second."""
    return math.floor(published_ts) * WORDS_KEY_STEP + zlib.crc32(article_id.encode()) % 2048


#: The words of each whitespace-separated chunk of text seen ("Hoà,", "năm", "2025."):
#: Vietnamese is written in a few thousand syllables, so most chunks are folded once per
#: process (600 pages of the sample web: 7,800 chunks). Bounded: emptied when full, long
#: chunks (URLs, junk) not kept; about 230 bytes a chunk, so at most ~5 MB a process.
_CHUNK_WORDS: dict[str, tuple[str, ...]] = {}
_CHUNK_CACHE_MAX = 20_000
_CHUNK_CACHED_LEN = 32


def _chunk_words(chunk: str) -> tuple[str, ...]:
    folded = fold(chunk, diacritics=False)
    found = _WORD.findall(folded)
    if len(folded) <= MAX_WORD:  # no word of it is longer
        return tuple(found)
    return tuple(w for w in found if len(w) <= MAX_WORD)


def words(text: str) -> list[str]:
    """The folded words of ``text``, in order (words over :data:`MAX_WORD` left out).

    The words of ``fold(text, diacritics=False)``, folded chunk by chunk: no step of
    :func:`~aggregator.normalize.text.fold` (cleaning, lowercase, the tone placement, NFD
    without marks) reads a character across whitespace, and no word spans it."""
    found: list[str] = []
    cache = _CHUNK_WORDS
    for chunk in text.split():
        chunk_words = cache.get(chunk)
        if chunk_words is None:
            chunk_words = _chunk_words(chunk)
            if len(chunk) <= _CHUNK_CACHED_LEN:
                if len(cache) >= _CHUNK_CACHE_MAX:
                    cache.clear()
                cache[chunk] = chunk_words
        found += chunk_words
    return found


def indexed_words(*texts: str | None) -> list[str]:
    """The distinct words an article is found by (of its title, lead and body text)."""
    return list(dict.fromkeys(words(" ".join(text or "" for text in texts))))


def query_words(query: str) -> tuple[str, ...]:
    """The distinct words a query asks for; :class:`SearchError` when there are none or
    too many, or the query or one of its words is too long."""
    if len(query) > MAX_QUERY:
        raise SearchError(f"the query is too long (at most {MAX_QUERY} characters)")
    folded = fold(query, diacritics=False)
    found = tuple(dict.fromkeys(_WORD.findall(folded)))
    if not found:
        raise SearchError("the query has no words to search for")
    if len(found) > MAX_QUERY_WORDS:
        raise SearchError(f"the query has too many words (at most {MAX_QUERY_WORDS})")
    if any(len(w) > MAX_WORD for w in found):
        raise SearchError(f"a word of the query is too long (at most {MAX_WORD} characters)")
    return found


def _checked(found: Iterable[str]) -> list[str]:
    out = list(found)
    if not out or any(not _WORD.fullmatch(w) for w in out):
        raise SearchError("search words must be letters and digits")
    return out


def fts5_match(found: Iterable[str]) -> str:
    """An FTS5 query: every word, each a quoted string (never an operator)."""
    return " ".join(f'"{w}"' for w in _checked(found))


def tsquery(found: Iterable[str]) -> str:
    """A PostgreSQL ``tsquery``: every word, each a quoted lexeme, joined by ``&``."""
    return " & ".join(f"'{w}'" for w in _checked(found))


def filters_tsquery(
    *, province: str | None = None, category: str | None = None, site: str | None = None
) -> str | None:
    """A PostgreSQL ``tsquery`` of a search's filters (None: no filter), each a quoted
    lexeme ``<filter>:<value>`` (quotes and backslashes in a value escaped: text)."""
    given = (("province", province), ("category", category), ("site", site))
    lexemes = [f"{name}:{value}" for name, value in given if value is not None]
    if not lexemes:
        return None
    return " & ".join("'" + x.replace("\\", "\\\\").replace("'", "''") + "'" for x in lexemes)
