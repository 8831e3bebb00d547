"""Propose a site definition from a newspaper's home page: ``aggregator sites new`` and
``aggregator sites learn``.

``aggregator sites new ID HOME_URL``
    reads robots.txt (and obeys it), the home page and its RSS feed, proposes
    ``links.article`` (the most common article-like link shape), the main menu's sections
    as listings (those whose page links to articles), the listings' pagination and the
    sections' categories; then reads a sample of articles from two or more listings with
    the zero-configuration extraction (as ``sites test --live`` does), prints the coverage
    table, and writes a commented, unverified definition. At most ``max_requests``
    requests, ``delay`` seconds apart.
``aggregator sites learn ID``
    the same from an existing definition's base URL; prints a unified diff against the
    file (``--write`` replaces it).
"""

from __future__ import annotations

import difflib
import re
import time
import urllib.error
import urllib.request
import urllib.robotparser
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml.etree import _Element
from parsel import Selector

from aggregator.app.learnsel import SamplePage, learn_selectors
from aggregator.app.sitetest import (
    LivePage,
    SiteTestError,
    _article_links,
    _coverage_table,
    _live_verdict,
    extract_page,
)
from aggregator.extract.article import ExtractionError, Hints
from aggregator.settings import DOWNLOAD_DELAY, USER_AGENT
from aggregator.sites.categories import categories_for_section
from aggregator.sites.definition import SiteDefinition, load_site
from aggregator.sites.infer import article_pattern, menu_sections, page_pattern, relative_path
from aggregator.sites.scope import Scope

__all__ = [
    "PLACEHOLDER_PROVINCE", "Fetcher", "Proposal", "learn", "new_definition", "propose",
    "render_toml",
]  # fmt: skip

#: ``province`` is required; without --province the definition says this (and a comment)
PLACEHOLDER_PROVINCE = "chưa rõ"
#: listings read at most, and a listing's links to articles at least
MAX_LISTINGS = 8
MIN_LISTING_ARTICLES = 2
_MENU = re.compile(r"menu|nav", re.IGNORECASE)
_TITLE_SPLIT = re.compile(r"\s+[-–—|:]\s+")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


#: redirects followed for one URL (each one a request of the budget)
MAX_REDIRECTS = 3
#: bytes read of one response at most
MAX_BYTES = 8 * 1024 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are returned, not followed: the fetcher checks and counts each one."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _open(url: str, timeout: float) -> tuple[str | None, str]:
    """One request: ``(Location, "")`` for a redirect, else ``(None, text)``."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            charset = response.headers.get_content_charset() or "utf-8"
            data: bytes = response.read(MAX_BYTES)
    except urllib.error.HTTPError as exc:
        exc.close()
        location = exc.headers.get("Location") if 300 <= exc.code < 400 else None
        if location:
            return location.strip(), ""
        raise SiteTestError(f"cannot fetch {url}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise SiteTestError(f"cannot fetch {url}: {exc}") from None
    try:
        return None, data.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return None, data.decode("utf-8", errors="replace")


def same_site(url: str, other: str) -> bool:
    """Both on one site: the same host but for ``www.``, the same port when both name
    one (``http://bao.vn/`` → ``https://www.bao.vn/`` is the same site)."""
    a, b = urlsplit(url), urlsplit(other)
    if b.scheme not in ("http", "https"):
        return False
    if (a.hostname or "").removeprefix("www.") != (b.hostname or "").removeprefix("www."):
        return False
    return a.port is None or b.port is None or a.port == b.port


def home_base(url: str) -> str:
    """A home page's URL as a base URL: its folder (``/baden`` → ``/baden/``,
    ``/index.html`` → ``/``), without query or fragment."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if not path.endswith("/"):
        head, _, last = path.rpartition("/")
        path = f"{head}/" if "." in last else f"{path}/"
    return parts._replace(path=path, query="", fragment="").geturl()


class Fetcher:
    """Polite, bounded fetching: robots.txt obeyed, ``delay`` seconds between requests,
    at most ``max_requests`` requests (robots.txt and each redirect included); redirects
    followed within the site only; none off the site (``scope``, once set: other URLs and
    redirects are refused, counted in ``refused``)."""

    def __init__(self, max_requests: int = 40, delay: float = 0.5) -> None:
        self.max_requests, self.delay = max_requests, delay
        self.requests = 0
        self.scope: Scope | None = None
        self.refused: list[str] = []
        self.robots: urllib.robotparser.RobotFileParser | None = None
        self._last = 0.0

    @property
    def left(self) -> int:
        return self.max_requests - self.requests

    def allowed(self, url: str) -> bool:
        return self.robots is None or self.robots.can_fetch(USER_AGENT, url)

    def get(self, url: str) -> str | None:
        """The page's text; None when the budget is spent, robots.txt forbids it, it
        cannot be fetched or it is (or redirects) off the site."""
        found = self.fetch(url)
        return found[1] if found is not None else None

    def fetch(self, url: str) -> tuple[str, str] | None:
        """The page's final URL (after redirects within the site) and text; None as
        :meth:`get`."""
        for _ in range(MAX_REDIRECTS + 1):
            if self.left <= 0 or not self.allowed(url):
                return None
            if self.scope is not None and (why := self.scope.refusal(url)):
                self.refused.append(f"{url} ({why})")
                return None
            wait = self._last + self.delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.requests += 1
            try:
                location, text = _open(url, timeout=20)
            except SiteTestError:
                return None
            finally:
                self._last = time.monotonic()
            if location is None:
                return url, text
            target = urldefrag(urljoin(url, location))[0]
            if not same_site(url, target):
                self.refused.append(f"{target}, another site")
                return None
            url = target
        return None

    def read_robots(self, url: str) -> None:
        robots_url = urljoin(url, "/robots.txt")
        text = self.get(robots_url)
        if text is not None:
            parser = urllib.robotparser.RobotFileParser(robots_url)
            parser.parse(text.splitlines())
            self.robots = parser


@dataclass
class Proposal:
    """What ``sites new`` proposes, and what it read to propose it."""

    site_id: str
    home: str
    name: str
    province: str | None
    article: str | None = None
    article_links: int = 0
    listing: str | None = None
    sections: list[tuple[str, str]] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    categories: dict[str, list[str]] = field(default_factory=dict)
    delay: float | None = None
    selectors: dict[str, str] = field(default_factory=dict)
    pages: list[LivePage] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    refused: list[str] = field(default_factory=list)  # requests refused: off the site

    @property
    def ok(self) -> bool:
        """An article pattern, and title, body and date on every sampled page."""
        required = ("title", "body", "published")
        return bool(self.article and self.pages) and all(
            p.layer(name) not in ("missing", "error") for p in self.pages for name in required
        )

    def data(self) -> dict[str, object]:
        """The definition as loaded from TOML."""
        links: dict[str, object] = {"article": self.article or r"(?!)"}
        if self.listing:
            links["listing"] = self.listing
        data: dict[str, object] = {
            "id": self.site_id,
            "name": self.name,
            "province": self.province or PLACEHOLDER_PROVINCE,
            "base_url": self.home,
            "verified": False,
            "sources": {"listings": [rel for rel, _ in self.sections], "feeds": self.feeds},
            "links": links,
            "categories": dict(self.categories),
        }
        if self.selectors:
            data["selectors"] = dict(self.selectors)
        if self.delay is not None:
            data["politeness"] = {"delay": self.delay}
        return data

    def site(self) -> SiteDefinition:
        return SiteDefinition.model_validate(self.data())


# -- reading the home page ------------------------------------------------------------


def _in_menu(anchor: _Element) -> bool:
    node: _Element | None = anchor
    for _ in range(8):
        if node is None or not isinstance(node.tag, str):
            return False
        if node.tag in ("nav", "header"):
            return True
        if _MENU.search(f"{node.get('class', '')} {node.get('id', '')}"):
            return True
        node = node.getparent()
    return False


def page_links(html: str, url: str) -> list[tuple[str, str, bool]]:
    """``(absolute URL, text, in a menu)`` of every link of a page, in page order."""
    root = Selector(text=html, base_url=url).root
    if not isinstance(root, _Element):
        return []
    out = []
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        text = " ".join("".join(anchor.itertext()).split())
        out.append((urldefrag(urljoin(url, href))[0], text, _in_menu(anchor)))
    return out


def site_name(html: str) -> str:
    """og:site_name, else the <title> before its first separator."""
    sel = Selector(text=html)
    name = sel.css("meta[property='og:site_name']::attr(content)").get()
    if not name:
        title = " ".join((sel.css("title::text").get() or "").split())
        name = _TITLE_SPLIT.split(title)[0] if title else ""
    return name.strip()


def _feed_urls(html: str, home: str) -> list[str]:
    sel = Selector(text=html)
    hrefs = sel.xpath(
        "//link[contains(@rel, 'alternate')][contains(@type, 'rss') or contains(@type, 'atom')]"
        "/@href"
    ).getall()
    return [u for h in hrefs if relative_path(u := urljoin(home, h.strip()), home) is not None]


#: child sitemaps of a sitemap index read at most (the newest by ``lastmod`` first)
MAX_CHILD_SITEMAPS = 2
#: requests kept for the listings and the articles when reading sitemaps
_SITEMAP_RESERVE = 10
#: pages of one sitemap read at most
_SITEMAP_PAGES = 500


def _sitemap_xml(xml: str) -> Selector:
    sel = Selector(text=xml, type="xml")
    sel.remove_namespaces()
    return sel


def _child_sitemaps(sel: Selector, home: str) -> list[str]:
    """A sitemap index's sitemaps under the base URL, the newest first."""
    children = [
        (
            (s.xpath("lastmod/text()").get() or "").strip(),
            (s.xpath("loc/text()").get() or "").strip(),
        )
        for s in sel.xpath("//sitemapindex/sitemap")
    ]
    inside = [(mod, loc) for mod, loc in children if relative_path(loc, home) is not None]
    return [loc for _, loc in sorted(inside, key=lambda c: c[0], reverse=True)]


def _read_sitemap(proposal: Proposal, fetcher: Fetcher, seen: list[str]) -> list[str]:
    """The first sitemap robots.txt names under the base URL (a sitemap index: its newest
    :data:`MAX_CHILD_SITEMAPS` sitemaps too): its pages join the links seen, and are
    returned; it becomes a source when it lists pages of the site."""
    named = fetcher.robots.site_maps() if fetcher.robots is not None else None
    home = proposal.home
    for sitemap in [s for s in named or [] if relative_path(s, home) is not None][:1]:
        if fetcher.left <= _SITEMAP_RESERVE or (xml := fetcher.get(sitemap)) is None:
            continue
        sel = _sitemap_xml(xml)
        locs = sel.xpath("//url/loc/text()").getall()[:_SITEMAP_PAGES]
        for child in _child_sitemaps(sel, home)[:MAX_CHILD_SITEMAPS]:
            if fetcher.left <= _SITEMAP_RESERVE or (text := fetcher.get(child)) is None:
                continue
            locs += _sitemap_xml(text).xpath("//url/loc/text()").getall()[:_SITEMAP_PAGES]
        pages = [u for loc in locs if relative_path(u := loc.strip(), home) is not None]
        if pages:
            seen.extend(pages)
            proposal.sitemaps.append(relative_path(sitemap, home) or sitemap)
            return pages
    return []


def _feed_links(xml: str, source: str) -> list[str]:
    sel = Selector(text=xml, type="xml")
    sel.remove_namespaces()
    hrefs = sel.xpath("//item/link/text() | //entry/link/@href").getall()
    return [urljoin(source, h.strip()) for h in hrefs]


# -- proposing ------------------------------------------------------------------------


def _categories(sections: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rel, text in sections:
        slug = re.sub(r"\.\w{2,5}$", "", rel.strip("/").split("/")[-1])
        # "Văn hóa - Xã hội": the keys in the order the menu names them
        parts = [categories_for_section(part) for part in _TITLE_SPLIT.split(text)]
        if len(parts) > 1 and all(parts):
            keys = tuple(dict.fromkeys(k for part in parts for k in part))
        else:
            keys = categories_for_section(slug) or categories_for_section(text)
        if keys:
            out[slug] = list(keys)
    return out


def _read_listings(
    proposal: Proposal, fetcher: Fetcher, candidates: list[tuple[str, str]], seen: list[str]
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Fetch the menu's sections; ``(rel, text, html)`` of those linking to articles and
    the ``(listing, link)`` pairs for the pagination."""
    listings: list[tuple[str, str, str]] = []
    pairs: list[tuple[str, str]] = []
    reserve = 6  # articles to sample
    for rel, text in candidates[:MAX_LISTINGS]:
        if fetcher.left <= reserve:
            break
        url = urljoin(proposal.home, rel)
        html = fetcher.get(url)
        if html is None:
            continue
        links = [u for u, _, _ in page_links(html, url)]
        seen.extend(links)
        pairs.extend((url, u) for u in links)
        listings.append((rel, text, html))
    return listings, pairs


def propose(
    site_id: str,
    home: str,
    out: TextIO,
    *,
    name: str | None = None,
    province: str | None = None,
    fetcher: Fetcher | None = None,
    articles: int = 6,
    selectors: bool = True,
) -> Proposal:
    """Read the site and propose a definition; prints the coverage table of the sample."""
    fetcher = fetcher or Fetcher()
    started = time.monotonic()
    fetcher.read_robots(home)
    if (found_home := fetcher.fetch(home)) is None:
        if fetcher.refused:
            raise SiteTestError(
                f"{home} redirects to {fetcher.refused[-1]}: give that URL if it is the "
                "paper's home page"
            )
        raise SiteTestError(f"cannot fetch {home} (or robots.txt disallows it)")
    # the base URL is where the home page is (after redirects within the site, which
    # may move it to https or www.), a folder; every later request stays on its origin
    home, html = home_base(found_home[0]), found_home[1]
    if fetcher.scope is None:
        fetcher.scope = Scope.of(home)
    proposal = Proposal(site_id, home, name or site_name(html) or site_id, province)
    links = page_links(html, found_home[0])
    seen = [u for u, _, _ in links]
    feeds: list[tuple[str, str]] = []  # (URL, text) of the feed read
    for feed in _feed_urls(html, home)[:1]:
        if (xml := fetcher.get(feed)) is not None and (found := _feed_links(xml, feed)):
            seen.extend(found)
            feeds.append((feed, xml))
            proposal.feeds.append(relative_path(feed, home) or feed)
    mapped = _read_sitemap(proposal, fetcher, seen)
    listings, pairs = _read_listings(proposal, fetcher, menu_sections(links, home), seen)
    if (found_pattern := article_pattern(seen, home)) is not None:
        proposal.article, proposal.article_links = found_pattern
    site = proposal.site()
    kept = []
    for rel, text, page in listings:
        if len(_article_links(site, urljoin(home, rel), page)) >= MIN_LISTING_ARTICLES:
            kept.append((rel, text, page))
    proposal.sections = [(rel, text) for rel, text, _ in kept]
    proposal.listing = page_pattern(pairs, home, [rel for rel, _ in proposal.sections])
    proposal.categories = _categories(proposal.sections)
    proposal.delay = fetcher.delay if fetcher.delay != DOWNLOAD_DELAY else None
    site = proposal.site()
    queues = [_article_links(site, urljoin(home, rel), page) for rel, _, page in kept]
    if not any(queues):
        # no menu section links to articles: the feed's items, else the sitemap's pages
        queues = [_article_links(site, url, xml) for url, xml in feeds]
        queues.append([(u, Hints()) for u in mapped if site.is_article(u)])
    samples = _sample(site, fetcher, queues, articles)
    proposal.pages = [
        LivePage(p.url, p.result) if isinstance(p, SamplePage) else p for p in samples
    ]
    if selectors:
        good = [p for p in samples if isinstance(p, SamplePage)]
        proposal.selectors = learn_selectors(site, good)
    proposal.requests = fetcher.requests
    proposal.refused = list(fetcher.refused)
    proposal.seconds = time.monotonic() - started
    _report(proposal, out)
    return proposal


def _sample(
    site: SiteDefinition, fetcher: Fetcher, queues: list[list[tuple[str, Hints]]], articles: int
) -> list[LivePage | SamplePage]:
    """Articles taken in turn from each source's links, extracted with their hints."""
    pages: list[LivePage | SamplePage] = []
    done: set[str] = set()
    while len(pages) < articles and any(queues) and fetcher.left > 0:
        for queue in queues:
            if not queue or len(pages) >= articles:
                continue
            url, hints = queue.pop(0)
            if url in done:
                continue
            done.add(url)
            html = fetcher.get(url)
            if html is None:
                pages.append(LivePage(url, error="not fetched (budget or robots.txt)"))
                continue
            try:
                pages.append(SamplePage(url, html, hints, extract_page(url, html, site, hints)))
            except ExtractionError as exc:
                pages.append(LivePage(url, error=str(exc)))
    return pages


def _report(proposal: Proposal, out: TextIO) -> None:
    print(f"base URL: {proposal.home}", file=out)
    print(f"name: {proposal.name}", file=out)
    print(f"article links: {proposal.article} ({proposal.article_links} links)", file=out)
    print(f"listing pages: {proposal.listing or '(no pagination seen)'}", file=out)
    for rel, text in proposal.sections:
        print(f"section: {rel} ({text})", file=out)
    for key, css in proposal.selectors.items():
        print(f"selector: {key} = {css!r}", file=out)
    for n, page in enumerate(proposal.pages, 1):
        print(f"[{n}] {page.url}", file=out)
    if proposal.pages:
        print(file=out)
        print(_coverage_table(proposal.pages), file=out)
        _live_verdict(proposal.pages, out)
    print(f"{proposal.requests} requests in {proposal.seconds:.1f} s", file=out)
    if proposal.refused:
        print(f"refused {len(proposal.refused)} off the site, e.g. {proposal.refused[0]}", file=out)


# -- the TOML file --------------------------------------------------------------------


def _q(value: str) -> str:
    """A TOML basic string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _lit(regex: str) -> str:
    """A TOML literal string for a regex (a basic string when it holds a quote)."""
    return f"'{regex}'" if "'" not in regex and "\n" not in regex else _q(regex)


def _list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


def render_toml(proposal: Proposal, now: datetime | None = None) -> str:
    """The commented definition."""
    day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    p = proposal
    lines = [
        f"# {p.name}: generated by `aggregator sites new` on {day} from {p.home}",
        "# verified = false until someone checked it against the live site:",
        f"#   aggregator sites test {p.site_id} --live --sites-dir <this folder>",
        f'id = "{p.site_id}"',
        f"name = {_q(p.name)}",
    ]
    if p.province:
        lines.append(f"province = {_q(p.province)}")
    else:
        lines.append(f"province = {_q(PLACEHOLDER_PROVINCE)}  # a placeholder: give --province")
    lines += [f"base_url = {_q(p.home)}", "verified = false", "", "[sources]"]
    if p.sections:
        lines.append("# the main menu's sections whose pages link to articles")
    else:
        lines.append("# no section of the main menu links to articles: the feed and sitemap")
    lines.append(f"listings = {_list(rel for rel, _ in p.sections)}")
    if p.feeds:
        lines.append(f"feeds = {_list(p.feeds)}")
    if p.sitemaps:
        lines.append(f"sitemaps = {_list(p.sitemaps)}")
    lines += ["", "[links]"]
    if p.article:
        lines.append(f"# the most common article-like link shape ({p.article_links} links seen)")
        lines.append(f"article = {_lit(p.article)}")
    else:
        lines.append("# no link looked like an article: write this pattern by hand")
        lines.append("article = '(?!)'")
    if p.listing:
        lines.append("# the sections' numbered pages")
        lines.append(f"listing = {_lit(p.listing)}")
    lines.append("max_listing_pages = 10")
    if p.categories:
        lines += ["", "[categories]", "# menu sections the category scheme knows"]
        for slug, keys in p.categories.items():
            value = _q(keys[0]) if len(keys) == 1 else _list(keys)
            lines.append(f"{_q(slug)} = {value}")
    if p.selectors:
        lines += ["", "[selectors]"]
        lines.append(f"# learned: they give what the generic layers gave on {len(p.pages)} pages")
        for key, css in p.selectors.items():
            lines.append(f"{key} = {_lit(css)}")
    if p.delay is not None:
        lines += ["", "[politeness]", f"delay = {p.delay:g}"]
    return "\n".join(lines) + "\n"


# -- the commands ---------------------------------------------------------------------


def new_definition(
    site_id: str,
    home: str,
    path: Path,
    fetcher: Fetcher,
    out: TextIO,
    *,
    name: str | None = None,
    province: str | None = None,
) -> int:
    """``sites new``: propose, write ``path`` and check that it loads; 0, or 1 when the
    sample lacked a required field (the file is written all the same)."""
    if not _ID.match(site_id):
        raise SiteTestError(f"{site_id!r} is no site id: [a-z0-9][a-z0-9-]*")
    parts = urlsplit(home)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SiteTestError(f"{home!r} is no home page: give an http(s) URL")
    proposal = propose(site_id, home, out, name=name, province=province, fetcher=fetcher)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_toml(proposal), encoding="utf-8")
    load_site(path)  # raises SiteDefinitionError: a bug here, never the operator's
    print(f"wrote {path} (verified = false; check it: aggregator sites test {site_id} --live)",
          file=out)  # fmt: skip
    if not proposal.province:
        print(f"province: a placeholder ({PLACEHOLDER_PROVINCE!r}); give --province", file=out)
    return 0 if proposal.ok else 1


def learn(site: SiteDefinition, fetcher: Fetcher, out: TextIO, *, write: bool = False) -> int:
    """``sites learn``: propose again from the definition's base URL; print a unified diff
    against its file; ``write`` replaces the file."""
    province = None if site.province == PLACEHOLDER_PROVINCE else site.province
    fetcher.scope = site.scope
    proposal = propose(
        site.id, site.base_url, out, name=site.name, province=province, fetcher=fetcher
    )
    new = render_toml(proposal)
    if site.path is None:
        print(new, file=out, end="")
        return 0
    old = site.path.read_text(encoding="utf-8")
    diff = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        str(site.path), f"{site.path} (proposed)",
    )  # fmt: skip
    out.writelines(diff)
    if write:
        site.path.write_text(new, encoding="utf-8")
        load_site(site.path)
        print(f"wrote {site.path}", file=out)
    return 0 if proposal.ok else 1
