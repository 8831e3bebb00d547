"""The processing chain: normalize → validate → deduplicate → store.

Every article takes this one path, whoever fetched it: the Scrapy pipelines (one step
each, for their stats and ``DropItem``), re-extraction of archived pages, and ``sites
test`` (which stops before the store). The steps are plain functions over
:class:`~aggregator.items.Article`; :class:`Chain` adds what needs a store and a
memory of the run:

- ``first_time``: the same canonical URL twice in one run is skipped (across runs the
  store updates the row);
- ``dedup``: fingerprint the body and decide its story from the stored copies, outside
  the write lock (the lookup is the slow part);
- ``store``: one write transaction holds the article, its version record, its dedup
  keys, its page records and its story merge, so a kill between any two writes leaves
  none of them; when another writer stored or merged since the lookup (the store's
  cursor moved) the story is decided again inside the transaction, where no one else
  can write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Literal, Protocol, TypeVar
from urllib.parse import urlsplit

from aggregator.dedup.fingerprints import fingerprint
from aggregator.dedup.stories import CopyIndex, StoryDecision, assign_story
from aggregator.extract.article import Hints, extract_article
from aggregator.extract.encoding import decode_html
from aggregator.extract.limits import PageLimits
from aggregator.items import Article, article_id
from aggregator.normalize.dates import to_vn
from aggregator.normalize.rules import split_source_tag
from aggregator.normalize.text import clean_text, looks_garbled
from aggregator.normalize.urls import canonicalize_url
from aggregator.sites.definition import SiteDefinition
from aggregator.store.base import StoreUnavailable
from aggregator.store.records import PageRecord, UpsertResult, store_form

__all__ = [
    "FUTURE_TOLERANCE",
    "HEALTH_FIELDS",
    "Chain",
    "ChainStore",
    "Outcome",
    "Page",
    "Rejected",
    "SeenURLs",
    "marks",
    "normalize_article",
    "page_records",
    "prepare",
    "validate",
]

_T = TypeVar("_T")

#: A publication time further in the future than this is not believed.
FUTURE_TOLERANCE = timedelta(hours=1)

#: Fields whose extraction layer is recorded for the health view.
HEALTH_FIELDS = ("title", "lead", "body", "published", "authors", "section", "image")

#: Flags of a date its page's sources do not agree on (or do not give at all): such a
#: date gets no tolerance when a copy seen later claims to be a story's original.
_UNSURE_DATE = frozenset({"date_only", "date_first_seen"})

#: An article needs these; without one it is not an article.
REQUIRED_FIELDS = ("url", "title", "body_text")


class Rejected(Exception):
    """An article the chain does not store. ``reason`` names why, as the crawl counts it
    (``empty_title``, ``same_url``, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# -- the pure steps ------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A fetched article page, as the pure steps take it (in this process or a worker's):
    its URL and body as received (decoded by :attr:`text`, in the worker), the crawler's
    hints and the fetch's own fields."""

    url: str
    body: bytes
    hints: Hints | None
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    warc: dict[str, str] | None = None
    #: the bounds of the page (size, elements, depth, CPU, article size)
    limits: PageLimits = field(default_factory=PageLimits)
    #: the response's Content-Type header, whose charset decodes the body
    content_type: str | None = None

    @property
    def text(self) -> str:
        """The body decoded as the spider's response decodes it."""
        return decode_html(self.body, self.content_type)


def prepare(page: Page, site: SiteDefinition) -> Article:
    """Every step that needs no store: extract, normalize, fingerprint the body, and what
    the store derives from the article alone (:func:`~aggregator.store.records.store_form`).
    :class:`~aggregator.extract.model.ExtractionError` when the page is not an article
    (:class:`~aggregator.extract.limits.TooComplex` when it is over a bound)."""
    found = extract_article(page.url, page.text, site, page.hints, page.limits)
    article = found.to_article(
        site,
        fetched_at=page.fetched_at,
        etag=page.etag,
        last_modified=page.last_modified,
        warc=page.warc,
    )
    normalize_article(article, site)
    article.fingerprint = fingerprint(article.body_text)
    page_url = (site.id, article.url, _canonical(article.url, site))
    # only outputs read the body HTML: it travels to the writer in its safe form alone
    form = store_form(article, early=("body_html",))
    article.prepared = replace(form, page_url=page_url)
    return article


def normalize_article(article: Article, site: SiteDefinition | None = None) -> Article:
    """Clean texts, split the source tag, map categories, set canonical URL and id."""
    article.title = clean_text(article.title)
    lead, tag = split_source_tag(clean_text(article.lead))
    article.lead, article.source_tag = lead, tag
    article.body_text = clean_text(article.body_text, multiline=True)
    article.authors = [a for a in (clean_text(a) for a in article.authors) if a]
    if article.section:
        article.section = clean_text(article.section)
    article.categories = list(site.categories_for(article.section)) if site else []
    article.category = article.categories[0] if article.categories else None
    for image in article.images:
        for key in ("caption", "credit"):
            image[key] = clean_text(image.get(key, ""))
    _flag_encoding(article)
    _normalize_dates(article)
    article.canonical_url = _canonical_url(article, site)
    article.id = article_id(article.canonical_url)
    article.flags = list(dict.fromkeys(article.flags))
    return article


def _flag_encoding(article: Article) -> None:
    text = " ".join((article.title, article.lead, article.body_text))
    if "\ufffd" in text:
        article.flags.append("encoding_errors")
    if looks_garbled(text):
        article.flags.append("encoding_garbled")


def _normalize_dates(article: Article) -> None:
    fetched = article.fetched_at or datetime.now(UTC)
    article.fetched_at = fetched
    if article.published is not None:
        if article.published > fetched + FUTURE_TOLERANCE:
            article.flags.append("date_in_future")
            article.published = None
        else:
            article.published = to_vn(article.published)
    if article.published is None:
        # the store dates it by the first time it was seen
        article.flags.append("date_first_seen")
    if article.updated is not None:
        article.updated = to_vn(article.updated)


def _canonical(url: str, site: SiteDefinition | None) -> str:
    return site.canonical_url(url) if site else canonicalize_url(url)


def _canonical_url(article: Article, site: SiteDefinition | None) -> str:
    canonical = _canonical(article.url, site)
    if article.canonical_url:
        # rel=canonical counts only when it points to a web page of the same site: in
        # the site's scope (host and port), else on the fetched URL's host and port
        candidate = _canonical(article.canonical_url, site)
        parts = urlsplit(candidate)
        if site is not None:
            if site.in_scope(candidate):
                return candidate
        elif parts.scheme in ("http", "https") and parts.netloc == urlsplit(canonical).netloc:
            return candidate
    return canonical


def marks(article: Article, *, valid: bool) -> tuple[str, ...]:
    """What a crawl counts of a prepared article, as stat keys under ``aggregator/``: the
    layer that gave each of :data:`HEALTH_FIELDS` (``layers/<field>/<layer>``, ``missing``
    when none did), each bound of its size it hit (``capped/<bound>``) and, for a ``valid``
    article, a date only its first sighting gave (``date_first_seen``)."""
    layers = article.layers
    found = [f"layers/{name}/{layers.get(name, 'missing')}" for name in HEALTH_FIELDS]
    for flag in article.flags:
        if flag.startswith("truncated:"):
            found.append(f"capped/{flag.removeprefix('truncated:')}")
    if valid and "date_first_seen" in article.flags:
        found.append("date_first_seen")
    return tuple(found)


def validate(article: Article) -> Article:
    """The article itself, when it has a URL, a title and a body; else :class:`Rejected`
    (reason ``empty_<first missing field>``)."""
    missing = [f for f in REQUIRED_FIELDS if not str(getattr(article, f) or "").strip()]
    if missing:
        raise Rejected(
            f"empty_{missing[0]}", f"invalid article {article.url}: empty {', '.join(missing)}"
        )
    return article


def page_records(article: Article, site: SiteDefinition | None) -> list[PageRecord]:
    """What the store remembers of the article's URLs (the fetched one and the canonical
    one) for incremental crawls: the article they gave and their HTTP validators."""
    published = article.published.timestamp() if article.published else None
    checked = (article.fetched_at or datetime.now(UTC)).isoformat()
    form = article.prepared
    if form and form.page_url and form.page_url[:2] == (site and site.id, article.url):
        fetched = form.page_url[2]  # found when it was prepared
    else:
        fetched = _canonical(article.url, site)
    urls = {fetched, article.canonical_url}
    return [
        PageRecord(url, article.site, article.id, "article", article.etag,
                   article.last_modified, published, checked)
        for url in sorted(urls)
    ]  # fmt: skip


# -- the steps that need a store -------------------------------------------------------------


class ChainStore(CopyIndex, Protocol):
    """What the chain needs of a store: the copy index, one write transaction, and the
    writes it holds."""

    def transaction(self, work: Callable[[], _T]) -> _T: ...
    def upsert(self, article: Article) -> UpsertResult: ...
    def record_pages(self, records: Sequence[PageRecord]) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """What the chain did with one article: ``result`` of the store, and ``duplicate``
    ("exact" or "near") when it is a copy of a stored story."""

    article: Article
    result: UpsertResult
    duplicate: Literal["exact", "near"] | None


def _keys(story: StoryDecision) -> set[object]:
    """What a story decision read or names: its exact key, its band hashes, the articles
    of its story."""
    fp = story.fingerprint
    keys: set[object] = {fp.exact, *fp.bands, *story.merge_roots}
    if story.duplicate_of:
        keys.add(story.duplicate_of)
    return keys


class SeenURLs:
    """The canonical URLs each run has had so far (a run: a crawl, one crawl's WARC files)."""

    def __init__(self) -> None:
        self._seen: dict[str, set[str]] = {}

    def first(self, url: str, run: str = "") -> bool:
        """True the first time ``url`` comes in ``run`` (it is remembered), else False."""
        seen = self._seen.get(run)
        if seen is None:
            seen = self._seen[run] = set()
        elif url in seen:
            return False
        seen.add(url)
        return True

    def forget(self, run: str) -> None:
        """The run is over: its URLs are forgotten."""
        self._seen.pop(run, None)


class Chain:
    """The chain over one store, for one run (a crawl, a re-extraction)."""

    def __init__(self, store: ChainStore) -> None:
        self.store = store
        #: the same canonical URL twice in one run is skipped (across runs the store
        #: updates the row)
        self.seen = SeenURLs()

    def first_time(self, article: Article, run: str = "") -> Article:
        """The article, unless its canonical URL was seen before in ``run``
        (:class:`Rejected`, reason ``same_url``)."""
        if not self.seen.first(article.canonical_url, run):
            # expected (an old URL with rel=canonical, a tracking link): not a warning
            raise Rejected("same_url", f"duplicate URL {article.canonical_url}")
        return article

    def dedup(self, article: Article) -> StoryDecision:
        """Decide the article's story from the stored copies; sets ``story`` and
        ``duplicate_of``."""
        seen = article.fetched_at or datetime.now(UTC)
        published = article.published or seen
        decision = assign_story(
            self.store,
            article.id,
            article.fingerprint or fingerprint(article.body_text),
            published.timestamp(),
            seen.timestamp(),
            site=article.site,
            trusted=not any(f in _UNSURE_DATE or f.startswith("date_stale") for f in article.flags),
            urls=sorted({article.canonical_url, article.url} - {""}),
        )
        article.story, article.duplicate_of = decision, decision.duplicate_of
        if decision.disbelieved and "date_disbelieved" not in article.flags:
            article.flags.append("date_disbelieved")
        return decision

    def store_article(self, article: Article, site: SiteDefinition | None) -> UpsertResult:
        """Write the article with its story and page records in one transaction."""
        result = self.store_batch([(article, site)])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def store_batch(
        self, batch: Sequence[tuple[Article, SiteDefinition | None]]
    ) -> list[UpsertResult | Exception]:
        """Write several articles, each with its story and page records, in one
        transaction; in order, so that each story sees the articles before it.

        An error that is not the store's (:class:`~aggregator.store.StoreUnavailable`,
        raised) fails the batch: each article is then written in its own transaction,
        and the error of one is its entry in the list."""
        try:
            return list(self.store.transaction(partial(self._write, batch)))
        except Exception as exc:
            if len(batch) == 1 or isinstance(exc, StoreUnavailable):
                raise
        results: list[UpsertResult | Exception] = []
        for one in batch:
            try:
                results.extend(self.store.transaction(partial(self._write, [one])))
            except Exception as exc:
                if isinstance(exc, StoreUnavailable):
                    raise
                results.append(exc)
        return results

    def _write(self, batch: Sequence[tuple[Article, SiteDefinition | None]]) -> list[UpsertResult]:
        start = self.store.last_cursor()
        written: set[object] = set()  # the batch's articles and their dedup keys
        results: list[UpsertResult] = []
        pages: list[PageRecord] = []
        for article, site in batch:
            story = article.story
            if story is None or story.cursor != start or not written.isdisjoint(_keys(story)):
                # the lookup missed a write: another writer's since, or this batch's (the
                # same or a near text, or a story it touches): decide again, now that no
                # one else can write
                story = self.dedup(article)
            written.update(_keys(story), (article.id,))
            results.append(self.store.upsert(article))
            pages.extend(page_records(article, site))
        self.store.record_pages(pages)  # nothing in the batch reads them
        return results

    def process(self, article: Article, site: SiteDefinition | None, run: str = "") -> Outcome:
        """Every step, in order; :class:`Rejected` for an article that is not stored."""
        return self.admit(normalize_article(article, site), site, run)

    def admit(self, article: Article, site: SiteDefinition | None, run: str = "") -> Outcome:
        """The steps after :func:`prepare` (or :func:`normalize_article`): validate, the
        same URL again, dedup, store."""
        self.first_time(validate(article), run)
        decision = self.dedup(article)
        result = self.store_article(article, site)
        story = article.story or decision
        return Outcome(article, result, story.kind)
