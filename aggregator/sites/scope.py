"""What may be fetched for a site: the origins of its definition.

A URL is in a site's scope when its scheme is ``http`` or ``https``, its host is the
base URL's host or a host the definition lists (``urls.same_hosts``, ``domains``: a
subdomain, ``www.`` included, is in scope only when listed), and its port is
the base URL's explicit port, else the default port of the URL's scheme (80, 443).
Every request a crawl, ``sites test --live`` or ``sites new`` makes passes this one
check: links, redirects, meta refreshes, canonical links, feed items, sitemaps.

Hosts that resolve to an internal address (loopback, private, link-local...) are
refused unless the base URL's own host is one: :func:`internal_address`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["SCHEMES", "Scope", "internal_address", "ip_literal"]

#: The only schemes ever fetched (the crawl's download handlers are these two too).
SCHEMES = {"http": 80, "https": 443}


def _host(name: str | None) -> str:
    return (name or "").lower().rstrip(".")


def ip_literal(host: str) -> bool:
    """Whether a URL's host is an IP address rather than a name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Scope:
    """The origins of a site: its hosts and the one port they are served on."""

    hosts: frozenset[str]
    #: the base URL's explicit port; None: the scheme's default (80 or 443)
    port: int | None = None

    @classmethod
    def of(cls, base_url: str, hosts: Iterable[str] = ()) -> Scope:
        """The scope of a base URL and the other hosts a definition lists."""
        parts = urlsplit(base_url)
        host = _host(parts.hostname)
        names = {host, *(_host(h) for h in hosts)} - {""}
        return cls(frozenset(names), parts.port)

    def refusal(self, url: str) -> str | None:
        """Why ``url`` is out of scope (``host x.vn``, ``scheme file``, ``port 8081``,
        ``no host``), or None when it is in scope."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # an invalid IPv6 host or port
            return "unparsable URL"
        host, scheme = _host(parts.hostname), parts.scheme.lower()
        if host and host not in self.hosts:
            return f"host {host}"
        if scheme not in SCHEMES:
            return f"scheme {scheme or '(none)'}"
        if not host:
            return "no host"
        expected = self.port if self.port is not None else SCHEMES[scheme]
        port = port if port is not None else SCHEMES[scheme]
        if port != expected:
            return f"port {port}"
        return None

    def own_host(self, url: str) -> bool:
        """Whether ``url`` names one of the site's hosts (in scope or not: ``file://``
        with the site's host, another port of it)."""
        try:
            return _host(urlsplit(url).hostname) in self.hosts
        except ValueError:
            return False

    def __contains__(self, url: object) -> bool:
        return isinstance(url, str) and self.refusal(url) is None


def internal_address(address: str) -> bool:
    """An address no public site is served from: loopback, private, link-local,
    shared (CGNAT), multicast, reserved or unspecified; an IPv4-mapped IPv6 address
    by its IPv4 address. Not an address: False."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast
