"""Log lines an operator can read: an article is named by its URL, not dumped whole."""

from __future__ import annotations

from typing import Any

from scrapy import logformatter
from scrapy.http import Response
from twisted.python.failure import Failure

__all__ = ["LogFormatter"]


def _url(item: Any) -> str:
    return str(getattr(item, "url", "") or "?")


class LogFormatter(logformatter.LogFormatter):
    """Scrapy's formatter with one-line messages for dropped and failed items."""

    def dropped(
        self, item: Any, exception: BaseException, response: Response | Failure | None, spider: Any
    ) -> logformatter.LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        # the DropItem message names the URL and the reason
        return {**result, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}

    def item_error(
        self, item: Any, exception: BaseException, response: Response | Failure | None, spider: Any
    ) -> logformatter.LogFormatterResult:
        result = super().item_error(item, exception, response, spider)
        return {**result, "msg": "Error processing %(url)s", "args": {"url": _url(item)}}
