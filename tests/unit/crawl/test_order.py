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


def test_a_backlog_of_waiting_articles_moves_in_one_pass_of_the_loop() -> None:
    """Settling the head wakes the whole run of articles waiting behind it, each in turn:
    a backlog drains in one pass of the event loop, not one article per pass."""
    order = FetchOrder()
    tickets = [order.take() for _ in range(30)]
    articles = {t: make_article(f"https://a.vn/{t}.html") for t in tickets}
    done: list[int] = []
    passes: list[int] = []

    async def one(ticket: int) -> None:
        order.own(articles[ticket], ticket)
        await order.turn(articles[ticket])
        done.append(ticket)
        if ticket != 17:  # one settles later, elsewhere: those behind it wait again
            order.settle_article(articles[ticket])

    async def run() -> None:
        waiting = [asyncio.ensure_future(one(t)) for t in tickets[1:]]
        await asyncio.sleep(0)  # all of them wait behind ticket 0
        assert done == []
        order.settle(tickets[0])
        for _ in range(3):
            await asyncio.sleep(0)
            passes.append(len(done))
        order.settle_article(articles[17])
        await asyncio.gather(*waiting)

    asyncio.run(run())
    assert done == tickets[1:]
    # one pass took the run up to the ticket not settled at once; the rest waited for it
    assert passes == [17, 17, 17]
    assert order.next == 30 and not order.waiting
