"""Re-extraction: today's extraction, normalization and dedup over archived pages.

``aggregator reextract --warc FILE...`` reads the response records of WARC files
written by a crawl (:mod:`aggregator.archive.warc`), picks the article pages of known
sites (a 2xx response whose URL is in a site's domains and matches its article regex; the
crawl's own site first, then the site whose base URL the URL starts with) and runs
them through what the crawl runs: :func:`extract_article` with the hints the crawler
had, then the processing chain (:class:`~aggregator.process.chain.Chain`: normalize,
validate, dedup, and one write transaction per article). ``fetched_at`` is the record's
``WARC-Date``, so a rebuilt store equals the one the crawl wrote, and an unchanged
article makes no new version.

Records of several files are replayed in ``WARC-Date`` order (files are merged, not
read one after the other), as the crawl saw them; the "same URL twice" check is per
crawl, as in the crawl. No network request is made.
"""

from __future__ import annotations

import heapq
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scrapy.http import Headers, Response, TextResponse
from scrapy.responsetypes import responsetypes

from aggregator.archive.warc import ArchivedResponse, read_warc
from aggregator.extract.article import ExtractionError, Hints, extract_article
from aggregator.items import Article
from aggregator.process.chain import Chain, Rejected
from aggregator.sites.definition import SiteDefinition, SiteRegistry
from aggregator.store import SQLStore

__all__ = ["ReextractReport", "hints_of", "reextract", "response_of", "site_for"]

logger = logging.getLogger(__name__)

_HINT_FIELDS = ("section", "listing_date", "feed_date", "feed_section", "anchor_text")


@dataclass
class ReextractReport:
    """What a re-extraction read and did."""

    files: int = 0
    responses: int = 0  # response records read
    pages: int = 0  # article pages of known sites among them
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0  # copies of a story (exact or near)
    same_url: int = 0  # the same canonical URL again in one crawl: skipped, as in the crawl
    failed: int = 0  # not an article (extraction failed, empty title or body)
    by_site: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"{self.pages} article pages in {self.responses} responses from {self.files} "
            f"WARC files: {self.inserted} new, {self.updated} updated, {self.unchanged} "
            f"unchanged, {self.duplicates} duplicates, {self.same_url} same URL again, "
            f"{self.failed} not articles"
        )


def site_for(
    url: str, sites: Sequence[SiteDefinition], crawl_site: str | None = None
) -> SiteDefinition | None:
    """The site an archived URL is an article of, if any.

    Among the sites whose domains and article regex match: the site the crawl was of,
    else the one whose base URL is the longest prefix of the URL, else the first.
    """
    candidates = [s for s in sites if s.in_scope(url) and s.is_article(url)]
    if not candidates:
        return None
    for site in candidates:
        if site.id == crawl_site:
            return site
    prefixed = [s for s in candidates if _under(url, s.base_url)]
    if prefixed:
        return max(prefixed, key=lambda s: len(s.base_url))
    return candidates[0]


def _under(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return a.netloc.lower() == b.netloc.lower() and a.path.startswith(b.path)


def response_of(archived: ArchivedResponse) -> Response:
    """The Scrapy response the spider would have got (same class, same decoding)."""
    headers = Headers()
    for name, value in archived.headers:
        headers.appendlist(name, value.encode("latin-1", "replace"))
    cls = responsetypes.from_args(headers=headers, url=archived.url, body=archived.body)
    return cls(url=archived.url, status=archived.status, headers=headers, body=archived.body)


def hints_of(archived: ArchivedResponse) -> Hints:
    values = {k: archived.hints.get(k) for k in _HINT_FIELDS}
    return Hints(**{k: str(v) for k, v in values.items() if v is not None})


def _article(archived: ArchivedResponse, site: SiteDefinition) -> Article | None:
    """Extract the archived page as the spider does (None: not an article)."""
    response = response_of(archived)
    if not isinstance(response, TextResponse):
        return None
    try:
        found = extract_article(response.url, response.text, site, hints_of(archived))
    except ExtractionError as exc:
        logger.info("not an article: %s: %s", archived.url, exc)
        return None
    except Exception as exc:  # a broken page must never stop the run
        logger.warning("extraction crashed on %s: %s", archived.url, exc)
        return None
    return found.to_article(
        site,
        fetched_at=archived.date,
        etag=archived.header("ETag"),
        last_modified=archived.header("Last-Modified"),
        warc={"file": archived.file, "record_id": archived.record_id},
    )


def _responses(
    paths: Sequence[str | os.PathLike[str]], warn: Callable[[str], None] | None
) -> Iterator[ArchivedResponse]:
    """The response records of every file, merged in WARC-Date order."""
    streams = [read_warc(p, warn=warn) for p in paths]
    return heapq.merge(*streams, key=lambda r: r.date)


def reextract(
    paths: Iterable[str | os.PathLike[str]],
    store: SQLStore,
    registry: SiteRegistry,
    *,
    sites: Sequence[str] = (),
    warn: Callable[[str], None] | None = None,
) -> ReextractReport:
    """Re-extract the article pages archived in ``paths`` into ``store``.

    ``sites`` limits it to those site ids (default: every known site). Truncated files
    are read up to their last whole record (``warn`` is told).
    """
    files = list(paths)
    known = [registry.get(s) for s in sites] if sites else list(registry)
    report = ReextractReport(files=len(files))
    chain = Chain(store)
    for archived in _responses(files, warn):
        report.responses += 1
        if not 200 <= archived.status < 300:
            continue
        site = site_for(archived.url, known, archived.site)
        if site is None:
            continue
        report.pages += 1
        report.by_site[site.id] += 1
        article = _article(archived, site)
        if article is None:
            report.failed += 1
            continue
        try:
            outcome = chain.process(article, site, run=archived.crawl)
        except Rejected as exc:
            if exc.reason == "same_url":
                report.same_url += 1
            else:
                report.failed += 1
            continue
        if outcome.duplicate is not None:
            report.duplicates += 1
        setattr(report, outcome.result, getattr(report, outcome.result) + 1)
    return report
