"""A resolver stub for crawls in tests: names resolve only to the addresses the test
gives (``-s STUB_HOSTS=name=127.0.0.1,other=127.0.0.5``); any other name fails without
a lookup, so no test sends a DNS query anywhere.

``-s TWISTED_DNS_RESOLVER=tests.support.stubdns.StubResolver`` installs it: the crawl's
connections and its scope check (:mod:`aggregator.crawl.scope`) both resolve through it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from scrapy.crawler import Crawler
from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

__all__ = ["StubResolver", "stub_hosts"]


def stub_hosts(value: str) -> dict[str, str]:
    """``name=address,...`` as a mapping."""
    pairs = (item.split("=", 1) for item in value.split(",") if "=" in item)
    return {name.strip().lower(): address.strip() for name, address in pairs}


class StubResolver(CachingThreadedResolver):
    """Resolves the names of ``STUB_HOSTS`` only; never asks the system's resolver."""

    hosts: dict[str, str]

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> StubResolver:
        resolver = cls(reactor, 0, 1.0)
        resolver.hosts = stub_hosts(crawler.settings.get("STUB_HOSTS") or "")
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        try:
            ipaddress.ip_address(name)
        except ValueError:
            address = self.hosts.get(name.lower())
            if address is None:
                return defer.fail(DNSLookupError(f"{name}: not a stub host"))
            return defer.succeed(address)
        return defer.succeed(name)
