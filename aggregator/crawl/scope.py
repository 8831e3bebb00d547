"""The crawl stays on the site it was given: every request passes the site's scope.

:class:`ScopeMiddleware` (a downloader middleware, before robots.txt; it replaces
Scrapy's offsite middleware, which ignores ports, lets ``dont_filter`` requests through
and drops redirects uncounted) checks every request the engine downloads (start URLs,
links, feed items, sitemaps, robots.txt, each HTTP redirect) against
:meth:`SiteDefinition.in_scope`, then the address its host resolves to: an internal
address (loopback, private, link-local...) is refused unless the base URL's host has
it. Both are checked before connecting; the resolver is the crawl's own (cached), so
the connection uses the address checked. A refused request fails with
``IgnoreRequest`` (``aggregator/errors/offsite_redirect``, ``out_of_scope``,
``internal_address`` in the crawl record and ``aggregator status``).

:class:`MetaRefreshMiddleware` (Scrapy's, scoped): a meta refresh out of scope
(``javascript:``, ``file:``, another port or host) is not followed; the page itself
is processed, and the refusal counted (``aggregator/refused/meta_refresh``). A page
whose first bytes hold no "refresh" is passed on undecoded: Scrapy's check decodes the
whole body (and the response keeps the text) to read its first 4,096 characters, and an
article page's body is decoded in a worker process.
"""

from __future__ import annotations

import logging
from typing import Any, cast
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import (
    MetaRefreshMiddleware as ScrapyMetaRefreshMiddleware,
)
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import get_meta_refresh

from aggregator.sites.definition import SiteDefinition
from aggregator.sites.scope import internal_address, ip_literal

__all__ = ["MetaRefreshMiddleware", "ScopeMiddleware"]

logger = logging.getLogger(__name__)


#: Bytes that hold a page's first 4,096 characters (Scrapy's meta refresh scan) in any
#: encoding of at most 4 bytes a character
REFRESH_SCAN = 4 * 4096

#: Origins whose verdict a crawl remembers (each host resolves once, the crawl's resolver
#: caches it: the verdict of an origin does not change during a crawl)
VERDICTS = 10_000


def _site(crawler: Crawler) -> SiteDefinition | None:
    site = getattr(crawler.spider, "site_def", None)
    return site if isinstance(site, SiteDefinition) else None


def _may_refresh(body: bytes) -> bool:
    """Whether the start of a page may declare a meta refresh. False only when the scanned
    bytes hold no "refresh" in ASCII and no NUL byte (UTF-16 or UTF-32 text spells it
    otherwise)."""
    head = body[:REFRESH_SCAN]
    return b"\0" in head or b"refresh" in head.lower()


def _count(crawler: Crawler, key: str) -> None:
    if crawler.stats is not None:
        crawler.stats.inc_value(key)


class ScopeMiddleware:
    """Refuse, before connecting, a request out of the site's scope or to an internal
    address the site is not served from."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._addresses: dict[str, str | None] = {}  # host: the address it resolved to
        self._base_addresses: set[str] | None = None
        #: the verdict for each origin met (the URL up to its path: all scope looks at)
        self._verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        site = _site(self.crawler)
        if site is None:  # not a site's crawl (no definition to hold it to)
            return
        origin = "/".join(request.url.split("/", 3)[:3])
        try:
            why = self._verdicts[origin]
        except KeyError:
            why = site.scope.refusal(request.url)
            if why is None:
                why = await self._address_refusal(site, request)
            if len(self._verdicts) >= VERDICTS:
                self._verdicts.clear()
            self._verdicts[origin] = why
        if why is None:
            return
        chain = request.meta.get("redirect_urls")
        if chain:
            logger.warning(
                "redirect off the site refused (%s): %s -> %s", why, chain[-1], request.url
            )
            raise IgnoreRequest(f"redirect off the site ({why}) to {request.url}")
        logger.warning("request off the site refused (%s): %s", why, request.url)
        raise IgnoreRequest(f"request off the site ({why}): {request.url}")

    async def _address_refusal(self, site: SiteDefinition, request: Request) -> str | None:
        """``internal address A`` when the request's host resolves to an internal address
        that the base URL's host does not have."""
        if self._base_addresses is None:
            base = await self._resolve(site.host)
            self._base_addresses = {base} if base else set()
        address = await self._resolve((urlsplit(request.url).hostname or "").rstrip("."))
        if address is None or not internal_address(address) or address in self._base_addresses:
            return None
        return f"internal address {address}"

    async def _resolve(self, name: str) -> str | None:
        """The address the crawl's resolver gives ``name`` (an address: itself); None
        when it does not resolve (the download then fails as ``dns``)."""
        if name in self._addresses:
            return self._addresses[name]
        if ip_literal(name):
            self._addresses[name] = name
            return name
        from twisted.internet import reactor

        try:
            found = await maybe_deferred_to_future(cast(Any, reactor).resolve(name))
        except Exception:  # any resolution failure: the download reports it
            found = None
        self._addresses[name] = str(found) if found else None
        return self._addresses[name]


class MetaRefreshMiddleware(ScrapyMetaRefreshMiddleware):
    """Scrapy's meta refresh, not followed out of the site's scope: the page is kept."""

    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if isinstance(response, HtmlResponse) and not _may_refresh(response.body):
            return response  # nothing to follow: the body is left undecoded
        site = _site(self.crawler)
        if (
            site is not None
            and isinstance(response, HtmlResponse)
            and request.method != "HEAD"
            and not request.meta.get("dont_redirect", False)
        ):
            interval, url = get_meta_refresh(response, ignore_tags=self._ignore_tags)
            if url and interval is not None and interval < self._maxdelay:
                why = site.scope.refusal(url)
                if why is not None:
                    logger.warning(
                        "meta refresh off the site not followed (%s): %s -> %s; the page is kept",
                        why, response.url, url,
                    )  # fmt: skip
                    _count(self.crawler, "aggregator/refused/meta_refresh")
                    return response
        return super().process_response(request, response)
