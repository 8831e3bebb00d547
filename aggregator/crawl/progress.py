"""A live table of the running crawls on the terminal (rich), refreshed by the reactor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from scrapy.crawler import Crawler
from twisted.internet import task

__all__ = ["Progress"]


def _stat(crawler: Crawler, key: str) -> int:
    stats = crawler.stats.get_stats() if crawler.stats else {}
    if key.endswith("/"):
        return sum(v for k, v in stats.items() if k.startswith(key) and isinstance(v, int))
    return int(stats.get(key, 0))


class Progress:
    """Pages, articles and errors per site while the crawls run."""

    def __init__(self, crawlers: Mapping[str, Crawler], console: Console | None = None) -> None:
        self.crawlers = crawlers
        self.console = console or Console(stderr=True)
        self.live: Live | None = None
        self.loop: task.LoopingCall | None = None

    def table(self) -> Table:
        table = Table(title="aggregator crawl", expand=False)
        for column in ("site", "pages", "new", "updated", "duplicates", "errors", "state"):
            table.add_column(column, justify="left" if column in ("site", "state") else "right")
        for site_id, crawler in self.crawlers.items():
            stats = crawler.stats.get_stats() if crawler.stats else {}
            state = stats.get("finish_reason") or ("crawling" if crawler.crawling else "waiting")
            table.add_row(
                site_id,
                str(_stat(crawler, "downloader/response_count")),
                str(_stat(crawler, "aggregator/articles/inserted")),
                str(_stat(crawler, "aggregator/articles/updated")),
                str(_stat(crawler, "aggregator/duplicates/")),
                str(_stat(crawler, "aggregator/errors/")),
                str(state),
            )
        return table

    def refresh(self) -> None:
        if self.live is not None:
            self.live.update(self.table())

    def start(self) -> None:
        self.live = Live(self.table(), console=self.console, refresh_per_second=4, transient=True)
        self.live.start()
        self.loop = task.LoopingCall(self.refresh)
        self.loop.start(0.25, now=False).addErrback(lambda _: None)

    def stop(self, *_: Any) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.live is not None:
            self.live.stop()
            self.live = None
