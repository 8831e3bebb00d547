"""The Scrapy add-on that switches a crawl to the shared queue when a Redis URL is set."""

from __future__ import annotations

from scrapy.settings import BaseSettings


class RedisQueueAddon:
    """Switches a crawl to the shared queue when ``AGGREGATOR_REDIS_URL`` is set (a Scrapy
    add-on: it runs after the spider set its per-site politeness, before the settings
    freeze)."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not settings.get("AGGREGATOR_REDIS_URL"):
            return
        settings.set("SCHEDULER", "aggregator.crawl.redisqueue.RedisScheduler", priority="spider")
        per_domain = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 2)
        # hold no more than the site's concurrency, so that the other processes get work
        settings.set("CONCURRENT_REQUESTS", max(per_domain, 1), priority="spider")
