"""The feed server's pure parts (tests/integration/publish/ speaks to it over HTTP)."""

from aggregator.publish.serve import _accepts_gzip


def test_accept_encoding_parsing() -> None:
    assert _accepts_gzip("gzip") and _accepts_gzip("deflate, GZIP ; q=0.5")
    assert _accepts_gzip("*") and _accepts_gzip("x-gzip")
    assert not _accepts_gzip("gzip;q=0") and not _accepts_gzip("*;q=0, br")
    assert not _accepts_gzip("gzip;q=abc") and not _accepts_gzip("")
    assert not _accepts_gzip("*, gzip;q=0")
