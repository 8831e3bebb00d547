"""Scrapy settings of the aggregator project (``scrapy crawl news -a site=ID``).

The project's own settings (all overridable with ``-s``):

- ``AGGREGATOR_DB``: the store: a SQLite file path (default ``aggregator.db``) or a
  ``postgresql://user@host/dbname`` URL.
- ``AGGREGATOR_DB_RETRY_SECONDS``: how long a lost PostgreSQL connection is retried before
  the crawl stops (reason ``store_unavailable``), default 60.
- ``AGGREGATOR_SITES_DIRS``: extra folders of site definitions, ``os.pathsep``-separated
  (a definition there overrides a bundled one with the same id).
- ``AGGREGATOR_FEEDS_DIR``: where feeds are written, default ``feeds``.
- ``AGGREGATOR_JOBS``: worker processes that extract, normalize, fingerprint, dedup and
  write article pages (``aggregator crawl --jobs N``; default the number of cores, 0 in the
  crawl's own process); ``AGGREGATOR_WORKER_TIMEOUT``: seconds a worker may spend on one page before
  it is replaced and the page counted as failed (``aggregator/errors/worker_lost``);
  ``AGGREGATOR_WORKER_MAX_PAGES``: pages a worker extracts before a fresh process replaces
  it, bounding its memory (0: never).
  ``AGGREGATOR_BATCH_SIZE`` / ``AGGREGATOR_BATCH_MS``: article pages per worker's chunk
  (articles written per transaction), and how long the first of them waits for the others.
- ``AGGREGATOR_FULL_CRAWL``: ignore what the store knows and crawl every listing.
- ``AGGREGATOR_RESUME``: continue a killed crawl (``aggregator crawl --resume``): article
  URLs the store holds already are not fetched again.
- ``AGGREGATOR_RECHECK_HOURS``: known articles younger than this are re-checked with
  conditional requests (default 48).
- ``AGGREGATOR_WARC_DIR``: when set, every fetched response is archived there as WARC
  (``aggregator crawl --warc DIR``); ``AGGREGATOR_WARC_MAX_BYTES``: file size limit.
- ``AGGREGATOR_REDIS_URL``: share the crawl queue with other processes through this Redis
  (``aggregator crawl --redis URL``; see :mod:`aggregator.crawl.redisqueue`), with
  ``AGGREGATOR_REDIS_IDLE_SECONDS`` (close when the shared queue stayed empty that long),
  ``AGGREGATOR_REDIS_HEARTBEAT`` (a worker silent that long is dead and its requests are
  requeued), ``AGGREGATOR_REDIS_LOST_SECONDS`` (give up on a lost Redis after that long)
  and ``AGGREGATOR_REDIS_PREFIX`` (of every key).

Bounds on what one page or site may cost (see :mod:`aggregator.extract.limits`); a page
over a page bound is abandoned and counted ``too_complex``, the other bounds cut or leave
out and count ``aggregator/capped/<bound>``; ``aggregator status`` shows both:

- ``AGGREGATOR_PAGE_MAX_CHARS``, ``AGGREGATOR_PAGE_MAX_ELEMENTS``,
  ``AGGREGATOR_PAGE_MAX_DEPTH``: a page's size (decoded characters), elements and nesting
  depth, checked before the expensive passes; ``AGGREGATOR_PAGE_CPU_SECONDS``: the CPU
  time extracting one page (or reading one listing page) may take.
- ``AGGREGATOR_ARTICLE_MAX_CHARS``, ``AGGREGATOR_BODY_HTML_MAX_CHARS``,
  ``AGGREGATOR_ARTICLE_MAX_IMAGES``: an article's text, body HTML and pictures kept
  (``body_text``, ``body_html``, ``images``).
- ``AGGREGATOR_LISTING_MAX_LINKS``: article links taken from one listing page or feed
  (``listing_links``); ``AGGREGATOR_SITE_MAX_QUEUED``: requests a site's queue may hold
  (``queue``); ``AGGREGATOR_ROBOTSTXT_MAX_BYTES``: robots.txt read (``robots_txt``).
"""

import os

#: The settings the environment may set, with their defaults. Every ``aggregator`` command
#: resolves them one way (:mod:`aggregator.app.config`): its flag, else the environment
#: variable of the same name, else this default; ``scrapy crawl`` and Scrapyd read the same.
ENVIRONMENT = {
    "AGGREGATOR_DB": "aggregator.db",
    "AGGREGATOR_SITES_DIRS": "",
    "AGGREGATOR_FEEDS_DIR": "feeds",
    "AGGREGATOR_FEEDS_BASE_URL": "",
    "AGGREGATOR_WARC_DIR": "",
    "AGGREGATOR_REDIS_URL": "",
    "AGGREGATOR_REDIS_IDLE_SECONDS": "10",
    "AGGREGATOR_CRAWL_INTERVAL": "",
    "AGGREGATOR_JOBS": "",
}


def from_environment(name: str) -> str:
    """The environment's value of ``name`` (an empty one counts as unset), else its default."""
    return os.environ.get(name) or ENVIRONMENT[name]


BOT_NAME = "aggregator"
SPIDER_MODULES = ["aggregator.crawl.spider"]
NEWSPIDER_MODULE = "aggregator.crawl.spider"

AGGREGATOR_DB = from_environment("AGGREGATOR_DB")
AGGREGATOR_DB_RETRY_SECONDS = 60.0
AGGREGATOR_SITES_DIRS = from_environment("AGGREGATOR_SITES_DIRS")
AGGREGATOR_FEEDS_DIR = from_environment("AGGREGATOR_FEEDS_DIR")

# ASCII only: HTTP header values are latin-1.
USER_AGENT = "aggregator/0.1 (provincial news feed aggregator; Scrapy)"
ROBOTSTXT_OBEY = True

# Politeness defaults; a site definition's [politeness] overrides them per crawl.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_TIMES = 2
AGGREGATOR_RETRY_AFTER_MAX = 120.0  # longest Retry-After (429 / 503) waited for, seconds
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy's remote control (an HTTP endpoint that runs the Python code sent to it) is off as
# the telnet console is; left out, its module and web server (aiohttp, ~6 MB) are not loaded.
REMOTE_CONTROL_ENABLED = False
EXTENSIONS = {
    "scrapy.extensions.remote_control.RemoteControl": None,
    "aggregator.crawl.memory.TrimMemory": 500,
}
# Scrapy makes ~100 asyncio tasks per response at the default; one item per response here.
CONCURRENT_ITEMS = 1
# Article pages go to worker processes (aggregator.process.pool); in flight at most what
# Scrapy's scraper holds (SCRAPER_SLOT_MAX_ACTIVE_SIZE of responses), its back-pressure.
AGGREGATOR_JOBS = from_environment("AGGREGATOR_JOBS")
# Bytes of responses one crawler's scraper holds (Scrapy: 5 MB): a response in flight costs
# its body, its page and its prepared article (~3x the body); a process runs a crawler per
# site. 1 MB (~90 generated pages a site) keeps two workers fed.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 1_000_000
AGGREGATOR_WORKER_TIMEOUT = 60.0
# A worker's native memory (libxml2, allocator fragments) grows ~1 MB per 1,000 pages; a
# new one costs tens of ms of forking.
AGGREGATOR_WORKER_MAX_PAGES = 1000
# Articles written per transaction (aggregator.crawl.pipelines.StorePipeline).
AGGREGATOR_BATCH_SIZE = 50
AGGREGATOR_BATCH_MS = 100

# Bounds per page and per site (aggregator.extract.limits; 0 switches one off).
AGGREGATOR_PAGE_MAX_CHARS = 5_000_000
AGGREGATOR_PAGE_MAX_ELEMENTS = 60_000
AGGREGATOR_PAGE_MAX_DEPTH = 256
AGGREGATOR_PAGE_CPU_SECONDS = 5.0
AGGREGATOR_ARTICLE_MAX_CHARS = 200_000
AGGREGATOR_BODY_HTML_MAX_CHARS = 500_000
AGGREGATOR_ARTICLE_MAX_IMAGES = 100
AGGREGATOR_LISTING_MAX_LINKS = 500
AGGREGATOR_SITE_MAX_QUEUED = 20_000
# Scrapy has no bound on robots.txt: this parser reads its first 500 KiB (as Google does)
ROBOTSTXT_PARSER = "aggregator.crawl.robots.BoundedRobotParser"
AGGREGATOR_ROBOTSTXT_MAX_BYTES = 500 * 1024

# Incremental crawling (aggregator.crawl.incremental): off with AGGREGATOR_FULL_CRAWL / --full.
AGGREGATOR_FULL_CRAWL = False
# `aggregator crawl --resume`: continue a killed crawl; with AGGREGATOR_FULL_CRAWL every listing
# is read again, and the article URLs the store holds already are not fetched.
AGGREGATOR_RESUME = False
AGGREGATOR_RECHECK_HOURS = 48  # known articles younger than this are re-checked (304s)
SPIDER_MIDDLEWARES = {
    "aggregator.crawl.incremental.IncrementalMiddleware": 950,
}

# WARC capture (aggregator.archive.warc): every response with its request, when a folder is set
# (`aggregator crawl --warc DIR`); files are rotated at AGGREGATOR_WARC_MAX_BYTES (1 GiB).
AGGREGATOR_WARC_DIR = from_environment("AGGREGATOR_WARC_DIR")
AGGREGATOR_WARC_MAX_BYTES = 1 << 30
DOWNLOADER_MIDDLEWARES = {
    # cookies are off (COOKIES_ENABLED): left out, its module (tldextract, requests) is not loaded
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    # every request of a site's crawl in the site's scope, before robots.txt and connecting:
    # the one check (Scrapy's offsite check knows no ports and drops redirects uncounted)
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "aggregator.crawl.scope.ScopeMiddleware": 50,
    # a meta refresh out of the site's scope is not followed (the page is kept)
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "aggregator.crawl.scope.MetaRefreshMiddleware": 580,
    # next to the downloader: the headers sent, the body as received
    "aggregator.archive.warc.WarcMiddleware": 950,
    # retries that wait as a 429 / 503 Retry-After asks (aggregator.crawl.retry)
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "aggregator.crawl.retry.RetryAfterMiddleware": 550,
    # an article page's place in the store's order: that of the WARC records
    "aggregator.crawl.order.FetchOrderMiddleware": 960,
}
# http and https only: Scrapy's file handler reads local files whatever the URL's host.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "s3": None, "ftp": None}

# Shared crawl queue (aggregator.crawl.redisqueue): off unless a Redis URL is set; the add-on
# switches the scheduler to scrapy-redis and caps what one process holds.
AGGREGATOR_REDIS_URL = from_environment("AGGREGATOR_REDIS_URL")
AGGREGATOR_REDIS_IDLE_SECONDS = float(from_environment("AGGREGATOR_REDIS_IDLE_SECONDS"))
AGGREGATOR_REDIS_HEARTBEAT = 10.0
AGGREGATOR_REDIS_LOST_SECONDS = 60.0
AGGREGATOR_REDIS_PREFIX = "aggregator"
ADDONS = {
    "aggregator.crawl.redisqueue.RedisQueueAddon": 0,
}

ITEM_PIPELINES = {
    "aggregator.crawl.pipelines.ValidatePipeline": 200,
    "aggregator.crawl.pipelines.DedupPipeline": 300,
    "aggregator.crawl.pipelines.StorePipeline": 400,
}

LOG_LEVEL = "INFO"
LOG_FORMATTER = "aggregator.crawl.logformatter.LogFormatter"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
