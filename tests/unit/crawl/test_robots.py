"""robots.txt read up to its bound, cut at a line's end (the crawl counts it: see
tests/integration/crawl/test_bounds.py)."""

from __future__ import annotations

from aggregator.crawl.robots import bounded


def test_a_long_robots_txt_is_cut_at_the_end_of_a_line() -> None:
    body = b"User-agent: *\nDisallow: /admin/\nDisallow: /tim-kiem/\n"
    assert bounded(body, 0) == body  # no bound
    assert bounded(body, len(body)) == body
    assert bounded(body, 40) == b"User-agent: *\nDisallow: /admin/\n"
    assert bounded(b"Disallow: /x\r\nAllow: /", 16) == b"Disallow: /x\r\n"
    assert bounded(b"x" * 100, 10) == b""  # no whole line within the bound
