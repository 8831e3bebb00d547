"""Log lines an operator can read: an article is named by its URL, not dumped whole."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, logformatter
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

__all__ = ["LogFormatter", "one_line_errors"]


def _url(item: Any) -> str:
    return str(getattr(item, "url", "") or "?")


def _debug(crawler: Crawler) -> bool:
    """Whether the crawl's log takes DEBUG lines (``LOG_LEVEL``, ``LOG_ENABLED``)."""
    settings = crawler.settings
    level = settings.get("LOG_LEVEL", "DEBUG")
    number = level if isinstance(level, int) else logging.getLevelName(str(level).upper())
    return settings.getbool("LOG_ENABLED", True) and (
        not isinstance(number, int) or number <= logging.DEBUG
    )


class LogFormatter(logformatter.LogFormatter):
    """Scrapy's formatter with one-line messages for dropped and failed items, and no
    "Crawled" / "Scraped" record (DEBUG, one of each a page) unless the log shows DEBUG:
    the logging module would build both for the handler to throw away."""

    def __init__(self, debug: bool = True) -> None:
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LogFormatter:
        return cls(debug=_debug(crawler))

    def crawled(  # type: ignore[override]
        self, request: Request, response: Response, spider: Any
    ) -> logformatter.LogFormatterResult | None:
        return super().crawled(request, response, spider) if self.debug else None

    def scraped(  # type: ignore[override]
        self, item: Any, response: Response | Failure | None, spider: Any
    ) -> logformatter.LogFormatterResult | None:
        return super().scraped(item, response, spider) if self.debug else None

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


def _one_line(record: logging.LogRecord) -> logging.LogRecord:
    """``record`` with the exception it carries folded into its message."""
    if record.exc_info and record.exc_info[1] is not None:
        exc, message = record.exc_info[1], record.getMessage()
        said = str(exc) and str(exc) in message  # Scrapy often quotes it already
        record.msg = f"{message} ({type(exc).__name__}{'' if said else f': {exc}'})"
        record.args = None
        record.exc_info = None
        record.exc_text = None
    return record


def one_line_errors(verbose: bool = False) -> None:
    """Every log record of this process as one line: the exception a record carries (a
    DNS failure, a refused connection, an error in a callback) is appended to its
    message as ``Type: message`` instead of a traceback. Scrapy's own components log
    some network failures with the whole traceback; an operator needs the line, not
    the stack. Set on the record factory, since Scrapy replaces its log handler as each
    crawler starts. With ``verbose`` (debugging) tracebacks stay."""
    factory = logging.getLogRecordFactory()
    if verbose or getattr(factory, "one_line", False):
        return

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _one_line(factory(*args, **kwargs))

    make.one_line = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make)
