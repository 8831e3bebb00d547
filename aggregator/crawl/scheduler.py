"""``aggregator run``: crawl every site at its interval, in one long-running process.

Scrapy's ``CrawlerRunner`` on the Twisted reactor: no threads or subprocesses of our
own. Each site is crawled when its interval (from its definition, or ``--interval``)
has passed since its last crawl, with a little jitter, never twice at once; a site
whose crawls keep failing waits longer each time (doubling, at most a day). The
definition is read again before each crawl: a broken edit keeps the last good one
and is reported (once). After each crawl the feeds are rebuilt. SIGTERM or Ctrl-C stops
scheduling, lets running crawls close cleanly, and exits 0; if the scheduling loop
itself dies, the process exits 1 (so that a service manager restarts it).
"""

from __future__ import annotations

import logging
import random
import signal
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aggregator.crawl.logformatter import one_line_errors
from aggregator.crawl.pipelines import crawl_summary
from aggregator.crawl.runner import collect_less, due_sites, project_settings, site_failed
from aggregator.crawl.spider import NewsSpider
from aggregator.sites.definition import SiteDefinition, SiteRegistry
from aggregator.store import open_store

__all__ = ["Scheduler", "SiteState"]

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(days=1)


def _reactor() -> Any:
    """The installed Twisted reactor (its interfaces are untyped)."""
    from twisted.internet import reactor

    return reactor


@dataclass
class SiteState:
    """What the scheduler knows of one site between crawls."""

    site: SiteDefinition
    next_at: datetime
    running: bool = False
    failures: int = 0
    crawls: list[dict[str, Any]] = field(default_factory=list)


class Scheduler:
    """Crawls sites at their intervals until stopped."""

    def __init__(
        self,
        load_registry: Callable[[], SiteRegistry],
        overrides: Mapping[str, Any],
        *,
        db: str,
        feeds_dir: Path | None,
        interval: float | None = None,
        jitter: float = 0.1,
        tick: float = 1.0,
        max_crawls: int | None = None,
        on_crawl: Callable[[str, dict[str, Any]], None] | None = None,
        publish: Callable[[SiteRegistry], Any] | None = None,
        progress: bool = False,
        include_unverified: bool = False,
        reported: Iterable[str] = (),
    ) -> None:
        self.load_registry = load_registry
        self.include_unverified = include_unverified
        self.reported = set(reported)  # definition problems reported already
        self.exit_code = 0
        self.overrides = dict(overrides)
        self.db = db
        self.feeds_dir = feeds_dir
        self.interval = interval  # seconds, overrides every definition's (for tests, demos)
        self.jitter = jitter
        self.tick = tick
        self.max_crawls = max_crawls
        self.on_crawl = on_crawl
        self.publish = publish
        self.publishing = self.publish_again = False
        self.states: dict[str, SiteState] = {}
        self.progress = progress
        self.crawlers: dict[str, Any] = {}  # the latest crawler of each site (progress table)
        self.registry = SiteRegistry()  # the last definitions that loaded cleanly
        self.stopping = False
        self.total_crawls = 0
        self.rng = random.Random()

    # -- timing ---------------------------------------------------------------------------

    def _interval(self, site: SiteDefinition) -> timedelta:
        seconds = self.interval if self.interval is not None else site.interval * 60
        return timedelta(seconds=seconds * (1 + self.rng.uniform(-self.jitter, self.jitter)))

    def _backoff(self, state: SiteState) -> timedelta:
        base = self._interval(state.site)
        return min(base * (2**state.failures), max(MAX_BACKOFF, base))

    # -- definitions ------------------------------------------------------------------------

    def _load(self) -> SiteRegistry | None:
        """The definitions as they are on disk now; a broken one keeps its last good
        version (by file). Each problem is logged once, while it lasts."""
        try:
            registry = self.load_registry()
        except Exception as exc:  # a folder gone, a definition that cannot load at all
            message = f"site definitions not reloaded, keeping the last good ones: {exc}"
            if message not in self.reported:
                logger.error("%s", message)
            self.reported = {message}
            return None
        problems = set(registry.problems)
        for problem in sorted(problems - self.reported):
            logger.error("%s (keeping the last good definition, if any)", problem)
        self.reported = problems
        for site in self.registry:
            if str(site.path) in registry.broken and site.id not in registry:
                registry.sites[site.id] = site
        return registry

    def _refresh_sites(self) -> None:
        """Read the definitions again; on error keep the last good ones."""
        registry = self._load()
        if registry is None:
            return
        self.registry = registry
        now = datetime.now(UTC)
        wanted = {s.id: s for s in registry if s.active and (s.verified or self.include_unverified)}
        new = [s for i, s in wanted.items() if i not in self.states]
        if new:
            with open_store(self.db) as store:
                due = set(due_sites(new, store, now))
                last = store.last_crawls()
        for site in new:
            finished = (last.get(site.id) or {}).get("finished_at")
            if site.id in due or self.interval is not None or not finished:
                start = now
            else:  # crawled recently by someone else: wait out its interval
                start = datetime.fromisoformat(finished) + self._interval(site)
            self.states[site.id] = SiteState(site, start)
        for site_id, site in wanted.items():
            self.states[site_id].site = site
        for site_id in list(self.states):
            if site_id not in wanted and not self.states[site_id].running:
                del self.states[site_id]

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> int:
        """Install the reactor, schedule until stopped, return the exit code."""
        from scrapy.utils.log import configure_logging
        from scrapy.utils.reactor import install_reactor

        settings = project_settings(self.overrides)
        install_reactor(settings["TWISTED_REACTOR"])
        configure_logging(settings)
        one_line_errors(verbose=settings.get("LOG_LEVEL") == "DEBUG")
        from scrapy.crawler import CrawlerRunner
        from twisted.internet import task

        reactor = _reactor()

        self.runner = CrawlerRunner(settings)
        self._refresh_sites()
        self.loop = task.LoopingCall(self._tick)
        self.loop.start(self.tick, now=True).addErrback(self._loop_died)
        display = None
        if self.progress:
            from aggregator.crawl.progress import Progress  # rich loads only for a terminal

            display = Progress(self.crawlers)  # the dict fills as crawls start
            display.start()
            reactor.addSystemEventTrigger("before", "shutdown", display.stop)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: reactor.callFromThread(self.stop))
        with collect_less():
            reactor.run(installSignalHandlers=False)
        return self.exit_code

    def _loop_died(self, failure: Any) -> None:
        """The scheduling loop raised: nothing would be crawled again, so stop the
        process with exit code 1 (a service manager restarts it) instead of idling."""
        logger.error("the scheduler stopped on an error: %s", failure.getErrorMessage())
        logger.debug("where it stopped:\n%s", failure.getTraceback())
        self.exit_code = 1
        self.stop()

    def _tick(self) -> None:
        if self.stopping:
            return
        now = datetime.now(UTC)
        self._refresh_sites()
        for state in self.states.values():
            if state.running or state.next_at > now:
                continue
            if self.max_crawls is not None and self.total_crawls >= self.max_crawls:
                self.stop()
                return
            self._start(state)

    def _start(self, state: SiteState) -> None:
        state.running = True
        self.total_crawls += 1
        crawler = self.runner.create_crawler(NewsSpider)
        self.crawlers[state.site.id] = crawler
        started = datetime.now(UTC)
        logger.info("crawl of %s started", state.site.id)
        # the definition validated at the last reload: a broken edit on disk since then
        # does not stop this site's crawls
        d = self.runner.crawl(crawler, site_def=state.site)

        def done(result: Any) -> Any:
            summary = crawl_summary(crawler.stats.get_stats() if crawler.stats else {})
            summary["started_at"] = started.isoformat()
            self._finished(state, summary)
            return None

        d.addBoth(done)

    def _finished(self, state: SiteState, summary: dict[str, Any]) -> None:
        state.running = False
        state.crawls.append(summary)
        failed = site_failed(summary)
        state.failures = state.failures + 1 if failed else 0
        wait = self._backoff(state) if failed else self._interval(state.site)
        state.next_at = datetime.now(UTC) + wait
        logger.log(
            logging.WARNING if failed else logging.INFO,
            "crawl of %s %s: %s new, %s updated, %s errors; next in %.0f s",
            state.site.id,
            "failed" if failed else "done",
            summary.get("inserted"),
            summary.get("updated"),
            summary.get("errors"),
            wait.total_seconds(),
        )
        if self.on_crawl is not None:
            self.on_crawl(state.site.id, summary)
        if self.publish is not None and not self.stopping:
            self._publish()

    def _publish(self) -> None:
        """Feeds and health after a crawl, in a thread (it has its own store connection);
        one at a time: crawls finishing meanwhile are covered by one more run."""
        from twisted.internet import threads

        assert self.publish is not None
        if self.publishing:
            self.publish_again = True
            return
        self.publishing, self.publish_again = True, False

        def done(result: Any) -> None:
            self.publishing = False
            if self.publish_again and not self.stopping:
                self._publish()

        d = threads.deferToThread(self.publish, self.registry)
        d.addErrback(lambda f: logger.error("feed rebuild failed: %s", f.getErrorMessage()))
        d.addBoth(done)

    def stop(self) -> None:
        """Stop scheduling; running crawls close cleanly, then the reactor stops."""
        reactor = _reactor()
        if self.stopping:
            return
        self.stopping = True
        logger.info("stopping: %d crawl(s) running", sum(s.running for s in self.states.values()))
        if self.loop.running:
            self.loop.stop()
        d = self.runner.stop()
        d.addBoth(lambda _: reactor.stop())
