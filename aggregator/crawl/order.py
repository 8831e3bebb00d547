"""The order articles reach the store: the order their pages were fetched.

Pages are extracted in parallel (:mod:`aggregator.process.pool`) and finish in any order;
the store still takes them in the order their responses arrived, the order of the WARC
records, so that "the same URL twice", stories and the store's version order are those
of an in-process crawl and of re-extracting its WARC files.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from aggregator.items import Article

__all__ = ["FETCH_ORDER", "TICKET", "FetchOrder", "FetchOrderMiddleware"]

logger = logging.getLogger(__name__)

#: ``request.meta`` key of an article page's place in :data:`FETCH_ORDER`
TICKET = "aggregator_ticket"


class FetchOrder:
    """Tickets in fetch order: an article page takes one when its response arrives
    (:class:`FetchOrderMiddleware`), the dedup step waits for its :meth:`turn`, and the
    ticket is settled (:meth:`settle`) once the article is in the store's batch, or when
    it ends anywhere before (failed, dropped). One per process: crawls in one process
    share the store and its order.

    A ticket left unsettled ``patience`` seconds (a path that forgot it) is settled with
    a warning, so a mistake costs a pause, never a hung crawl."""

    def __init__(self, patience: float = 120.0) -> None:
        self.patience = patience
        self.issued = 0
        self.next = 0
        self.settled: set[int] = set()
        self.owners: dict[int, int] = {}  # id(article) -> its ticket
        self.waiting: dict[int, asyncio.Future[None]] = {}
        self.watch: asyncio.TimerHandle | None = None

    def take(self) -> int:
        self.issued += 1
        return self.issued - 1

    def own(self, article: Article, ticket: int) -> None:
        """``article`` holds ``ticket`` from now on."""
        self.owners[id(article)] = ticket

    def ticket_of(self, article: Article) -> int | None:
        return self.owners.get(id(article))

    async def turn(self, article: Article) -> None:
        """Return when every article fetched before this one is settled."""
        await self.turn_of(self.ticket_of(article))

    async def turn_of(self, ticket: int | None) -> None:
        """Return when every page fetched before the one holding ``ticket`` is settled."""
        if ticket is None:
            return
        while ticket > self.next:  # woken early (see settle): the ones before may not be done
            loop = asyncio.get_running_loop()
            waiter = self.waiting[ticket] = loop.create_future()
            self._watch(loop)
            await waiter

    def settle(self, ticket: int | None) -> None:
        if ticket is None or ticket < self.next:
            return
        self.settled.add(ticket)
        while self.next in self.settled:
            self.settled.discard(self.next)
            self.next += 1
        # wake the whole run of consecutive waiting tickets, in order: each resumes in the
        # loop's next pass in that order, and settles before the next one runs (a ticket
        # still ahead when it runs waits again). Waking only the head would move a backlog
        # by one article per pass of the event loop: slower than pages arrive.
        ticket = self.next
        while (waiter := self.waiting.pop(ticket, None)) is not None:
            if not waiter.done():
                waiter.set_result(None)
            ticket += 1

    def settle_article(self, item: Any) -> None:
        """Settle the ticket ``item`` holds, if any (also the item_dropped and item_error
        signals' handler: hence the name of the argument)."""
        self.settle(self.owners.pop(id(item), None))

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.watch is None:
            self.watch = loop.call_later(self.patience, self._unstick, self.next)

    def _unstick(self, head: int) -> None:
        self.watch = None
        if self.next == head and self.waiting:
            logger.warning("article page %d was never settled: going on without it", head)
            self.settle(head)
        if self.waiting:
            self._watch(asyncio.get_running_loop())


#: this process's order of fetched articles
FETCH_ORDER = FetchOrder()


class FetchOrderMiddleware:
    """A downloader middleware next to the WARC capture: an article page's response takes
    its ticket in the order the WARC records are written (a retried or redirected
    request's earlier ticket is given up)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FetchOrderMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if request.callback == getattr(self.crawler.spider, "parse_article", None):
            earlier = request.meta.get(TICKET)
            request.meta[TICKET] = FETCH_ORDER.take()
            FETCH_ORDER.settle(earlier)
        return response
