"""The one scope check: scheme, host and port of a definition's origins."""

from __future__ import annotations

import pytest

from aggregator.sites.scope import Scope, internal_address

SITE = Scope.of("https://baotayninh.vn/", ["m.baotayninh.vn"])
LOOPBACK = Scope.of("http://127.0.0.1:8123/tayninh/")


@pytest.mark.parametrize(
    "url",
    [
        "https://baotayninh.vn/a-1.html",
        "http://baotayninh.vn/a-1.html",  # the other scheme on its default port
        "https://BAOTAYNINH.VN./a-1.html",
        "https://baotayninh.vn:443/a-1.html",
        "https://m.baotayninh.vn/a-1.html",  # listed
    ],
)
def test_in_scope(url: str) -> None:
    assert url in SITE and SITE.refusal(url) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file://baotayninh.vn/etc/passwd?x=-a1.html", "scheme file"),
        ("ftp://baotayninh.vn/a-1.html", "scheme ftp"),
        ("javascript:alert(1)", "scheme javascript"),
        ("data:text/html,<p>x</p>", "scheme data"),
        ("file:///etc/passwd", "scheme file"),
        ("https://baotayninh.vn:8443/a-1.html", "port 8443"),
        ("http://baotayninh.vn:443/a-1.html", "port 443"),
        ("https://www.baotayninh.vn/a-1.html", "host www.baotayninh.vn"),  # not listed
        ("https://evil.baotayninh.vn/a-1.html", "host evil.baotayninh.vn"),
        ("https://baotayninh.vn.evil.vn/", "host baotayninh.vn.evil.vn"),
        ("https://baotayninh.vn@evil.vn/", "host evil.vn"),
        ("https://baotayninh.vn:99999/", "unparsable URL"),
        ("http://[::1/", "unparsable URL"),
        ("//baotayninh.vn/a", "scheme (none)"),
    ],
)
def test_out_of_scope(url: str, why: str) -> None:
    assert url not in SITE
    assert SITE.refusal(url) == why


def test_an_explicit_port_is_the_only_one() -> None:
    assert "http://127.0.0.1:8123/tayninh/a-1.html" in LOOPBACK
    assert "https://127.0.0.1:8123/x" in LOOPBACK
    assert LOOPBACK.refusal("http://127.0.0.1:8124/x") == "port 8124"
    assert LOOPBACK.refusal("http://127.0.0.1/x") == "port 80"
    assert LOOPBACK.refusal("http://127.0.0.2:8123/x") == "host 127.0.0.2"


def test_own_host() -> None:
    assert SITE.own_host("file://baotayninh.vn/etc/passwd")
    assert SITE.own_host("https://baotayninh.vn:8443/")
    assert not SITE.own_host("sms:123") and not SITE.own_host("https://evil.vn/")


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        ("127.0.0.1", True),
        ("127.0.0.5", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),  # cloud metadata
        ("100.64.0.1", True),  # shared (CGNAT)
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("::1", True),
        ("fe80::1%eth0", True),
        ("fc00::1", True),
        ("::ffff:127.0.0.1", True),
        ("203.113.131.1", False),
        ("2001:4860:4860::8888", False),
        ("not-an-address", False),
    ],
)
def test_internal_address(address: str, internal: bool) -> None:
    assert internal_address(address) is internal
