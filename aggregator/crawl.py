"""Run the news spider for several sites in one process and collect their figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings

from aggregator.pipelines import crawl_summary
from aggregator.spiders.news import NewsSpider

__all__ = ["crawl_sites", "project_settings"]


def project_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """The project's Scrapy settings plus command-line overrides."""
    settings = Settings()
    settings.setmodule("aggregator.settings", priority="project")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def crawl_sites(
    site_ids: Sequence[str], overrides: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Crawl each site (one crawler per site, all in this process); figures per site.

    Blocks until every crawl has finished. The Twisted reactor can run only once per
    process, so call this once.
    """
    settings = project_settings(overrides)
    process = CrawlerProcess(settings)
    crawlers: dict[str, Crawler] = {}
    for site_id in site_ids:
        crawler = process.create_crawler(NewsSpider)
        crawlers[site_id] = crawler
        process.crawl(crawler, site=site_id)
    process.start()
    return {
        site_id: crawl_summary(crawler.stats.get_stats() if crawler.stats else {})
        for site_id, crawler in crawlers.items()
    }
