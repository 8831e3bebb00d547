"""The feed server's pure parts (tests/integration/publish/ speaks to it over HTTP)."""

import json
from pathlib import Path

import pytest

from aggregator.publish.serve import _accepts_gzip, _for_browser, base_warning


def test_accept_encoding_parsing() -> None:
    assert _accepts_gzip("gzip") and _accepts_gzip("deflate, GZIP ; q=0.5")
    assert _accepts_gzip("*") and _accepts_gzip("x-gzip")
    assert not _accepts_gzip("gzip;q=0") and not _accepts_gzip("*;q=0, br")
    assert not _accepts_gzip("gzip;q=abc") and not _accepts_gzip("")
    assert not _accepts_gzip("*, gzip;q=0")


def test_browsers_and_readers_told_apart_by_accept() -> None:
    assert _for_browser("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert not _for_browser("application/rss+xml, text/html;q=0.5")
    assert not _for_browser("text/html;q=0") and not _for_browser("*/*")
    assert not _for_browser("")


@pytest.mark.parametrize(
    ("feed_url", "port", "warned"),
    [
        ("http://127.0.0.1:8080/all.json", 8080, False),
        ("http://127.0.0.1:8080/all.json", 9000, True),
        ("http://localhost/feeds/all.json", 8080, True),  # port 80
        ("https://tin.example.vn/feeds/all.json", 9000, False),  # behind a proxy: its own
        (None, 9000, False),
        (42, 9000, False),
    ],
)
def test_serve_warns_when_the_feeds_link_to_another_port(
    tmp_path: Path, feed_url: object, port: int, warned: bool
) -> None:
    assert base_warning(tmp_path, port) is None  # no feeds yet
    doc = [1] if feed_url is None else {"feed_url": feed_url}  # None: not a JSON Feed
    (tmp_path / "all.json").write_text(json.dumps(doc), encoding="utf-8")
    warning = base_warning(tmp_path, port)
    assert (warning is not None) == warned
    if warning:
        assert warning.startswith("aggregator: warning: the feeds link to ")
        assert "\n" not in warning and f"port {port}" in warning
