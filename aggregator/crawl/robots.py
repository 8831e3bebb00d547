"""robots.txt read up to a size bound: Scrapy has no setting for it, so this parser
(``ROBOTSTXT_PARSER``) hands Protego only the first ``AGGREGATOR_ROBOTSTXT_MAX_BYTES``
(500 KiB by default, the bound Google applies), cut at a line's end; the rest is ignored,
counted as ``aggregator/capped/robots_txt``. A 7 MB robots.txt would otherwise cost
seconds to parse and tens of milliseconds on every request checked against it.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.robotstxt import ProtegoRobotParser

__all__ = ["BoundedRobotParser", "bounded"]

DEFAULT_MAX_BYTES = 500 * 1024


def bounded(body: bytes, limit: int) -> bytes:
    """The first ``limit`` bytes of ``body`` up to the last whole line (all if shorter)."""
    if not limit or len(body) <= limit:
        return body
    head = body[:limit]
    end = max(head.rfind(b"\n"), head.rfind(b"\r"))
    return head[: end + 1] if end >= 0 else b""


class BoundedRobotParser(ProtegoRobotParser):
    """Scrapy's Protego parser over the bounded robots.txt."""

    @classmethod
    def from_crawler(cls, crawler: Crawler, robotstxt_body: bytes) -> Any:
        limit = crawler.settings.getint("AGGREGATOR_ROBOTSTXT_MAX_BYTES", DEFAULT_MAX_BYTES)
        body = bounded(robotstxt_body, limit)
        if len(body) < len(robotstxt_body) and crawler.stats is not None:
            crawler.stats.inc_value("aggregator/capped/robots_txt")
        return cls(body, crawler.spider)
