"""FetchOrder: articles take their turn in ticket order, whatever order they finish in."""

from __future__ import annotations

import asyncio

from aggregator.crawl.order import FetchOrder
from tests.support.factory import make_article


def test_turns_follow_the_tickets_and_skipped_tickets_give_way() -> None:
    order = FetchOrder()
    tickets = [order.take() for _ in range(5)]
    articles = {t: make_article(f"https://a.vn/{t}.html") for t in tickets}
    done: list[int] = []

    async def one(ticket: int, delay: float) -> None:
        await asyncio.sleep(delay)  # finishing out of order, as workers do
        if ticket == 2:  # failed extraction: no article, the ticket is settled at once
            order.settle(ticket)
            return
        order.own(articles[ticket], ticket)
        await order.turn(articles[ticket])
        done.append(ticket)
        order.settle_article(articles[ticket])

    async def run() -> None:
        delays = (0.04, 0.0, 0.05, 0.01, 0.02)
        await asyncio.gather(*(one(t, d) for t, d in zip(tickets, delays, strict=True)))

    asyncio.run(run())
    assert done == [0, 1, 3, 4]
    assert order.next == 5 and not order.waiting and not order.owners


def test_a_ticket_never_settled_costs_a_pause_not_a_hang() -> None:
    order = FetchOrder(patience=0.05)
    forgotten, mine = order.take(), order.take()
    article = make_article("https://a.vn/x.html")
    order.own(article, mine)

    async def run() -> None:
        await asyncio.wait_for(order.turn(article), timeout=5)

    asyncio.run(run())
    assert order.next == mine and forgotten < mine
