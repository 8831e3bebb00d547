"""Test a site definition before deploying it: one page, saved fixtures, or the live site.

``aggregator sites test ID URL``
    fetches one page and prints every field with the layer that gave it; when the
    page is one of the site's fixtures, compares it with the saved expected fields;
    ``--save NAME`` keeps the page and what was extracted as a new fixture.
``aggregator sites test ID``
    runs every saved fixture through the current definition (no network).
``aggregator sites test ID --live``
    fetches the site's first listing and its first three article pages and prints a
    coverage table (field x page: the layer that gave the field, with an excerpt);
    exit 0 only when every required field (title, body, published) was found on
    every page.

Fixtures live beside the definition: ``<definition folder>/fixtures/<id>/<name>.html``
(the page as fetched) and ``<name>.json``::

    {"url": "https://baotayninh.vn/...-a169010.html",
     "fetched_at": "2026-01-14T08:08:00+00:00",        # optional
     "expected": {"title": "...", "published": "2026-01-14T07:30:00+07:00",
                  "categories": ["thoi-su"], "body_text": "..."}}

Only the fields in ``expected`` are compared: exactly, except ``body_text`` (token F1
of at least :data:`BODY_MIN_F1`) and dates (the same instant). ``layers`` (field ->
layer, e.g. ``{"body": "selector"}``) checks which layer gave a field, so that a selector
that stopped matching fails its fixture even when a fallback layer finds the same text.
"""

from __future__ import annotations

import json
import urllib.request
import urllib.robotparser
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from http.client import HTTPMessage
from pathlib import Path
from typing import IO, Any, TextIO
from urllib.parse import urldefrag, urljoin

from lxml.etree import _Element
from parsel import Selector

from aggregator.extract.article import (
    Extracted,
    ExtractionError,
    Hints,
    extract_article,
    section_from_url,
)
from aggregator.extract.listings import anchor_texts, date_near
from aggregator.extract.listings import links as listing_links
from aggregator.items import Article
from aggregator.normalize.text import token_f1
from aggregator.process.chain import normalize_article
from aggregator.settings import USER_AGENT
from aggregator.sites.definition import SiteDefinition
from aggregator.sites.links import link_shape, unmatched_reason
from aggregator.sites.scope import Scope

__all__ = [
    "BODY_MIN_F1",
    "COMPARED_FIELDS",
    "REQUIRED_FIELDS",
    "Fixture",
    "FixtureResult",
    "PageResult",
    "SiteTestError",
    "check_live",
    "check_page",
    "compare_fields",
    "extract_page",
    "fixtures_dir",
    "load_fixtures",
    "run_fixtures",
    "save_fixture",
]

#: Fields a page must have for ``--live`` to pass.
REQUIRED_FIELDS = ("title", "body", "published")
#: Fields a fixture may name in ``expected``.
COMPARED_FIELDS = (
    "title", "lead", "source_tag", "published", "updated", "authors", "section", "category",
    "categories", "image", "canonical_url", "body_text", "layers",
)  # fmt: skip
#: A body matches its fixture from this token F1 on (whitespace and clutter may vary).
BODY_MIN_F1 = 0.98
#: Rows of the coverage table, in order (``body`` is ``body_text``).
_COVERAGE = ("title", "lead", "published", "updated", "authors", "section", "image", "body")
_DATES = ("published", "updated")


class SiteTestError(Exception):
    """A page or listing that cannot be fetched or read (a one-line message)."""


# -- one page -------------------------------------------------------------------------


@dataclass
class PageResult:
    """One page extracted and normalized like a crawl does it."""

    url: str
    extracted: Extracted
    article: Article

    @property
    def fields(self) -> dict[str, Any]:
        """The comparable fields (JSON values)."""
        a = self.article
        return {
            "title": a.title,
            "lead": a.lead,
            "source_tag": a.source_tag,
            "published": a.published.isoformat() if a.published else None,
            "updated": a.updated.isoformat() if a.updated else None,
            "authors": list(a.authors),
            "section": a.section,
            "category": a.category,
            "categories": list(a.categories),
            "image": a.image,
            "canonical_url": a.canonical_url,
            "body_text": a.body_text,
            "layers": dict(self.extracted.layers),
        }

    def layer(self, name: str) -> str:
        return self.extracted.layers.get(name, "missing")


def extract_page(
    url: str,
    html: str,
    site: SiteDefinition,
    hints: Hints | None = None,
    fetched_at: datetime | None = None,
) -> PageResult:
    """Extract one page as the spider does, and normalize it with the processing chain.

    Raises :class:`~aggregator.extract.article.ExtractionError` when it is not an article.
    """
    found = extract_article(url, html, site, hints)
    article = found.to_article(site, fetched_at=fetched_at or datetime.now(UTC))
    return PageResult(url, found, normalize_article(article, site))


class _ScopedRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects followed only inside the site's scope."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if why := self.scope.refusal(newurl):
            raise SiteTestError(f"redirect off the site ({why}): {req.full_url} -> {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(scope: Scope) -> urllib.request.OpenerDirector:
    """http and https only (no file:, ftp:, data:, no proxy), redirects in ``scope``."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.UnknownHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _ScopedRedirects(scope),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _fetch(url: str, scope: Scope, timeout: float = 30) -> str:
    """The text of ``url``, a page of the site ``scope`` holds: a URL or a redirect out
    of it is refused (:class:`SiteTestError`) before connecting."""
    if why := scope.refusal(url):
        raise SiteTestError(f"not fetched: {url} is off the site ({why})")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with _opener(scope).open(request, timeout=timeout) as response:
            charset = response.headers.get_content_charset() or "utf-8"
            data: bytes = response.read()
    except OSError as exc:
        raise SiteTestError(f"cannot fetch {url}: {exc}") from None
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return data.decode("utf-8", errors="replace")


def _short(value: Any, width: int = 60) -> str:
    if value in (None, "", []):
        return "(none)"
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- fixtures -------------------------------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    """A saved page with the fields its extraction must give."""

    name: str
    url: str
    html_path: Path
    expected: dict[str, Any]
    fetched_at: datetime | None = None

    @property
    def html(self) -> str:
        return self.html_path.read_text(encoding="utf-8")


@dataclass
class FixtureResult:
    """A fixture run through the current definition."""

    fixture: Fixture
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def fixtures_dir(site: SiteDefinition) -> Path | None:
    """``<definition folder>/fixtures/<id>/`` (None for a definition not read from a file)."""
    return site.path.parent / "fixtures" / site.id if site.path is not None else None


def load_fixtures(site: SiteDefinition) -> list[Fixture]:
    """The site's saved pages, by name; a malformed one raises :class:`SiteTestError`."""
    folder = fixtures_dir(site)
    if folder is None or not folder.is_dir():
        return []
    out = []
    for meta in sorted(folder.glob("*.json")):
        html = meta.with_suffix(".html")
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            url, expected = str(data["url"]), dict(data["expected"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SiteTestError(f"{meta}: not a fixture ({exc!r})") from None
        if not html.is_file():
            raise SiteTestError(f"{meta}: {html.name} is missing")
        unknown = sorted(set(expected) - set(COMPARED_FIELDS))
        if unknown:
            raise SiteTestError(f"{meta}: unknown expected fields {unknown}")
        fetched = data.get("fetched_at")
        out.append(
            Fixture(
                meta.stem, url, html, expected, datetime.fromisoformat(fetched) if fetched else None
            )
        )
    return out


def _same_instant(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    try:
        return datetime.fromisoformat(str(a)) == datetime.fromisoformat(str(b))
    except ValueError:
        return False


def compare_fields(expected: Mapping[str, Any], got: Mapping[str, Any]) -> list[str]:
    """One line per expected field that the extraction does not give."""
    problems = []
    for name, want in expected.items():
        have = got.get(name)
        if name == "layers":
            layers = have if isinstance(have, dict) else {}
            for key, layer in dict(want).items():
                if layers.get(key, "missing") != layer:
                    got_layer = layers.get(key, "missing")
                    problems.append(f"layers.{key}: expected {layer}, got {got_layer}")
        elif name == "body_text":
            f1 = token_f1(str(have or ""), str(want or ""))
            if f1 < BODY_MIN_F1:
                problems.append(f"body_text: token F1 {f1:.3f} < {BODY_MIN_F1}")
        elif name in _DATES:
            if not _same_instant(have, want):
                problems.append(f"{name}: expected {want}, got {have}")
        elif have != want:
            problems.append(f"{name}: expected {_short(want)!r}, got {_short(have)!r}")
    return problems


def run_fixture(site: SiteDefinition, fixture: Fixture) -> FixtureResult:
    """Extract a saved page with the current definition and compare."""
    try:
        page = extract_page(fixture.url, fixture.html, site, fetched_at=fixture.fetched_at)
    except ExtractionError as exc:
        return FixtureResult(fixture, [f"extraction failed: {exc}"])
    return FixtureResult(fixture, compare_fields(fixture.expected, page.fields))


def run_fixtures(site: SiteDefinition, out: TextIO) -> int:
    """Every saved fixture through the current definition; 0 when all match, else 1."""
    fixtures = load_fixtures(site)
    if not fixtures:
        where = fixtures_dir(site)
        print(
            f"{site.id}: no fixtures in {where}; give a URL (--save NAME keeps it), or --live",
            file=out,
        )
        return 0
    failed = 0
    for fixture in fixtures:
        result = run_fixture(site, fixture)
        failed += not result.ok
        print(f"fixture {fixture.name:<24} {'ok' if result.ok else 'FAILED'}", file=out)
        for problem in result.problems:
            print(f"    {problem}", file=out)
    print(f"{len(fixtures) - failed}/{len(fixtures)} fixtures match", file=out)
    return 1 if failed else 0


def save_fixture(
    site: SiteDefinition, name: str, page: PageResult, html: str, folder: Path | None = None
) -> Path:
    """Save ``html`` and the fields extracted from it as fixture ``name``; its JSON path.

    Review the expected fields in the JSON file before relying on them.
    """
    folder = folder or fixtures_dir(site)
    if folder is None:
        raise SiteTestError(f"{site.id}: the definition has no file, so no fixtures folder")
    if not name or "/" in name or name.startswith("."):
        raise SiteTestError(f"bad fixture name {name!r}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.html").write_text(html, encoding="utf-8")
    fetched = page.article.fetched_at
    record = {
        "url": page.url,
        "fetched_at": fetched.isoformat() if fetched else None,
        "expected": {k: v for k, v in page.fields.items() if v not in (None, "", [])},
    }
    path = folder / f"{name}.json"
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


# -- aggregator sites test ID URL -----------------------------------------------------


def check_page(site: SiteDefinition, url: str, out: TextIO, *, save: str | None = None) -> int:
    """Fetch one page, print each field with its layer; compare with its fixture, if any.

    Returns 0, or 1 when the page differs from its saved fixture or a fixture fails.
    """
    if why := site.scope.refusal(url):
        domains = ", ".join(site.allowed_domains)
        raise SiteTestError(f"{url} is outside {site.id}'s domains ({domains}): {why}")
    html = _fetch(url, site.scope)
    matches = "yes" if site.is_article(url) else "no (links.article does not match)"
    print(f"article URL: {matches}", file=out)
    try:
        page = extract_page(url, html, site)
    except ExtractionError as exc:
        raise SiteTestError(f"extraction failed for {url}: {exc}") from None
    found, fields = page.extracted, page.fields
    rows: list[tuple[str, str, Any]] = [
        ("title", "title", fields["title"]),
        ("lead", "lead", fields["lead"]),
        ("source_tag", "lead", fields["source_tag"]),
        ("published", "published", fields["published"]),
        ("updated", "updated", fields["updated"]),
        ("authors", "authors", fields["authors"]),
        ("section", "section", fields["section"]),
        ("categories", "section", fields["categories"]),
        ("image", "image", fields["image"]),
        ("canonical_url", "-", fields["canonical_url"]),
        ("body", "body", f"{len(found.body_lines)} lines, {sum(map(len, found.body_lines))} chars"),
    ]
    for name, layer_of, value in rows:
        layer = found.layers.get(layer_of, "-")
        print(f"{name:<14} [{layer:<9}] {_short(value, 100)}", file=out)
    for line in found.body_lines[:3]:
        print(f"{'':<14}  | {line[:100]}", file=out)
    if page.article.flags:
        print(f"{'flags':<14}  {', '.join(page.article.flags)}", file=out)
    status = 0
    fixtures = load_fixtures(site)
    canonical = site.canonical_url(url)
    for fixture in fixtures:
        if site.canonical_url(fixture.url) == canonical:
            problems = compare_fields(fixture.expected, fields)
            verdict = "matches" if not problems else "DIFFERS from"
            print(f"\nthe live page {verdict} fixture {fixture.name}", file=out)
            for problem in problems:
                print(f"    {problem}", file=out)
            status |= bool(problems)
    if fixtures:
        print(file=out)
        status |= run_fixtures(site, out)
    if save:
        path = save_fixture(site, save, page, html)
        print(f"\nsaved fixture {path} (review its expected fields)", file=out)
    return status


# -- aggregator sites test ID --live --------------------------------------------------


def _robots(url: str, scope: Scope) -> urllib.robotparser.RobotFileParser | None:
    """The host's robots.txt rules, or None when it cannot be read (allowed)."""
    robots_url = urljoin(url, "/robots.txt")
    try:
        text = _fetch(robots_url, scope, timeout=15)
    except SiteTestError:
        return None
    parser = urllib.robotparser.RobotFileParser(robots_url)
    parser.parse(text.splitlines())
    return parser


def _article_links(
    site: SiteDefinition, source: str, text: str, unmatched: Counter[str] | None = None
) -> list[tuple[str, Hints]]:
    """Article links of a listing page or feed, in page order, with the spider's hints.

    ``unmatched`` (a listing page): counts the distinct links that match no pattern and
    look like articles or listing pages, by ``"<kind> <shape>"`` (see
    :func:`aggregator.sites.links.link_shape`), as the spider does."""

    links: dict[str, tuple[str, Hints]] = {}
    if text.lstrip().startswith("<?xml") or "<rss" in text[:500] or "<feed" in text[:500]:
        xml = Selector(text=text, type="xml")
        xml.remove_namespaces()
        for item in xml.xpath("//item | //entry"):
            href = item.xpath("link/@href").get() or item.xpath("link/text()").get() or ""
            date = item.xpath("pubDate/text() | published/text()").get()
            title = (item.xpath("title/text()").get() or "").strip() or None
            url = urldefrag(urljoin(source, href.strip()))[0]
            if url and site.in_scope(url) and site.is_article(url):
                hints = Hints(feed_date=date, anchor_text=title)
                links.setdefault(site.canonical_url(url), (url, hints))
        return list(links.values())
    root = Selector(text=text, base_url=source).root
    section = section_from_url(source, site.base_url)
    missed: set[str] = set()
    found = list(listing_links(root, source, site)) if isinstance(root, _Element) else []
    texts = anchor_texts(found)
    dates: dict[_Element, str | None] = {}
    for url, anchor in found:
        if site.is_article(url):
            hints = Hints(
                section=section, listing_date=date_near(anchor, dates), anchor_text=texts.get(url)
            )
            links.setdefault(site.canonical_url(url), (url, hints))
        elif unmatched is not None and not site.is_listing(url) and not site.is_excluded(url):
            shape, kind = link_shape(url)
            if kind is not None and url not in missed:
                missed.add(url)
                unmatched[f"{kind} {shape}"] += 1
    return list(links.values())


def _unmatched_report(
    links: Sequence[tuple[str, Hints]], unmatched: Counter[str], out: TextIO
) -> str | None:
    """Print the shapes of the listing's links that match no pattern; the reason the
    definition's patterns look wrong (:func:`aggregator.sites.links.unmatched_reason`)."""
    if not unmatched:
        return None
    shapes = dict(sorted(unmatched.items(), key=lambda kv: (-kv[1], kv[0])))
    print(
        f"unmatched: {sum(shapes.values())} links look like articles or listing pages "
        "and match no pattern: " + ", ".join(f"{k} ({n})" for k, n in shapes.items()),
        file=out,
    )
    detail = {kind: 0 for kind in ("article", "page")}
    for key, n in shapes.items():
        detail[key.split(" ", 1)[0]] += n
    summary = {"links_article": len(links), "unmatched_detail": detail, "unmatched_shapes": shapes}
    return unmatched_reason(summary, min_pages=1)


@dataclass
class LivePage:
    """One article page of a live test: what it gave, or why it gave nothing."""

    url: str
    result: PageResult | None = None
    error: str | None = None

    def layer(self, name: str) -> str:
        if self.result is None:
            return "error"
        return self.result.layer(name)

    def value(self, name: str) -> Any:
        if self.result is None:
            return None
        if name == "body":
            lines = self.result.extracted.body_lines
            chars = sum(map(len, lines))
            return f"{len(lines)} lines, {chars} chars: {lines[0] if lines else ''}"
        return self.result.fields.get(name)


def check_live(site: SiteDefinition, out: TextIO, *, articles: int = 3) -> int:
    """Fetch the first listing (or feed) and its first article pages; print coverage.

    Returns 0 when every required field was found on every page, else 1.
    """
    sources = site.start_urls["listings"] or site.start_urls["feeds"]
    if not sources:
        raise SiteTestError(f"{site.id}: the definition has no listing and no feed")
    source = sources[0]
    robots = _robots(source, site.scope)

    def allowed(url: str) -> bool:
        return robots is None or robots.can_fetch(USER_AGENT, url)

    if not allowed(source):
        raise SiteTestError(f"robots.txt disallows {source}")
    unmatched: Counter[str] = Counter()
    links = _article_links(site, source, _fetch(source, site.scope), unmatched)
    print(f"listing: {source} ({len(links)} article links)", file=out)
    wrong_links = _unmatched_report(links, unmatched, out)
    if not links:
        print("FAILED: no link on the listing matches links.article", file=out)
        return 1
    pages = _live_pages(site, links, allowed, articles, out)
    for n, page in enumerate(pages, 1):
        print(f"[{n}] {page.url}", file=out)
    print(file=out)
    print(_coverage_table(pages), file=out)
    verdict = _live_verdict(pages, out)
    if wrong_links:  # the pages are fine, but a crawl would miss articles
        print(f"FAILED: {wrong_links}", file=out)
        return 1
    return verdict


def _live_pages(
    site: SiteDefinition,
    links: Sequence[tuple[str, Hints]],
    allowed: Callable[[str], bool],
    articles: int,
    out: TextIO,
) -> list[LivePage]:
    """The first ``articles`` article pages that robots.txt allows, each extracted."""
    pages: list[LivePage] = []
    for url, hints in links:
        if len(pages) == articles:
            break
        if not allowed(url):
            print(f"skipped (robots.txt): {url}", file=out)
            continue
        try:
            pages.append(LivePage(url, extract_page(url, _fetch(url, site.scope), site, hints)))
        except (ExtractionError, SiteTestError) as exc:
            pages.append(LivePage(url, error=str(exc)))
    return pages


def _pages_where(pages: Sequence[LivePage], test: Callable[[LivePage], bool]) -> str:
    return ", ".join(f"[{n}]" for n, p in enumerate(pages, 1) if test(p))


def _lacks(page: LivePage, field: str) -> bool:
    return page.layer(field) in ("missing", "error")


def _flagged(page: LivePage, flag: str) -> bool:
    return page.result is not None and flag in page.result.extracted.flags


def _live_verdict(pages: Sequence[LivePage], out: TextIO) -> int:
    """Errors, flags, layers and selectors that matched nothing; 0 when every required
    field was found on every page."""
    for n, page in enumerate(pages, 1):
        if page.error:
            print(f"[{n}] error: {page.error}", file=out)
        elif page.result is not None and page.result.article.flags:
            print(f"[{n}] flags: {', '.join(page.result.article.flags)}", file=out)
    missing = []
    for name in REQUIRED_FIELDS:
        if where := _pages_where(pages, partial(_lacks, field=name)):
            missing.append(f"{name} missing on {where}")
    counts = Counter(page.layer(name) for page in pages for name in _COVERAGE)
    print("layers: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=out)
    missed = []
    for name in _COVERAGE:
        if where := _pages_where(pages, partial(_flagged, flag=f"selector_missed:{name}")):
            missed.append(f"{name} on {where}")
    if missed:
        # another layer may have found the field: the definition still needs a look
        print(f"warning: selectors that matched nothing: {'; '.join(missed)}", file=out)
    if missing:
        print(f"FAILED: {'; '.join(missing)}", file=out)
        return 1
    print(f"OK: {', '.join(REQUIRED_FIELDS)} found on all {len(pages)} pages", file=out)
    return 0


def _coverage_table(pages: Sequence[LivePage]) -> str:
    """Field x page: the layer that gave the field; then an excerpt of the first value."""
    head = f"{'field':<10} " + " ".join(f"{f'[{n}]':<10}" for n in range(1, len(pages) + 1))
    lines = [f"{head} excerpt", "-" * (len(head) + 40)]
    for name in _COVERAGE:
        cells = " ".join(f"{page.layer(name):<10}" for page in pages)
        value = next((v for p in pages if (v := p.value(name)) not in (None, "", [])), None)
        mark = "*" if name in REQUIRED_FIELDS else " "
        lines.append(f"{name + mark:<10} {cells} {_short(value, 60)}")
    lines.append("(* required)")
    return "\n".join(lines)
