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


def test_crawls_run_with_the_loaded_objects_out_of_garbage_collection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While the crawls run, what was loaded before is frozen out of the collector and the
    young generation is collected less often; afterwards the caller's settings are back."""
    import gc

    from aggregator.crawl import runner

    seen: list[tuple[int, int]] = []

    class Process:
        """Stands in for Scrapy's CrawlerProcess: records the collector's state at start."""

        def __init__(self, settings: object) -> None:
            pass

        def create_crawler(self, spider: object) -> object:
            return type("Crawler", (), {"stats": None})()

        def crawl(self, crawler: object, **kwargs: object) -> None:
            pass

        def start(self) -> None:
            seen.append((gc.get_threshold()[0], gc.get_freeze_count()))

    before = gc.get_threshold()
    monkeypatch.setattr(runner, "CrawlerProcess", Process)
    runner.crawl_sites(["a", "b"])
    [(young, frozen)] = seen
    assert young == runner.YOUNG_THRESHOLD != before[0]
    assert frozen > 10_000  # the modules loaded, at least
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_garbage_collection_is_restored_when_the_crawls_raise() -> None:
    import gc

    from aggregator.crawl.runner import collect_less

    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collect_less():
        assert gc.get_freeze_count() > 0
        raise RuntimeError("the reactor stopped")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
