"""The store lock of crawls: crawls sharing a Redis queue take it shared, a crawl or
scheduler of one process takes it alone."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_crawls_sharing_a_queue_share_the_store_lock(tmp_path: Path) -> None:
    """Crawls with --redis take the SQLite store's lock shared: they run side by side,
    and keep out a crawl or scheduler of one process (exclusive), which keeps them out."""
    from aggregator.crawl.runner import StoreBusy, store_lock

    db = tmp_path / "a.db"
    with (
        store_lock(db, shared=True),
        store_lock(db, shared=True),
        pytest.raises(StoreBusy),
        store_lock(db),
    ):
        pass
    with store_lock(db), pytest.raises(StoreBusy), store_lock(db, shared=True):
        pass


def test_a_crawl_runs_no_remote_control() -> None:
    """Scrapy's remote control (an HTTP endpoint running the Python code it is sent, on by
    default since Scrapy 2.19) is not among a crawl's extensions, nor the telnet console."""
    from scrapy.crawler import CrawlerProcess

    from aggregator.crawl.runner import project_settings
    from aggregator.crawl.spider import NewsSpider

    crawler = CrawlerProcess(project_settings()).create_crawler(NewsSpider)
    crawler._apply_settings()
    assert crawler.extensions is not None
    names = {type(extension).__name__ for extension in crawler.extensions.middlewares}
    assert "CoreStats" in names  # the extensions were built
    assert not names & {"RemoteControl", "TelnetConsole"}
