"""Feeds built from the store: RSS 2.0 and Atom 1.0 (feedgen stays in :mod:`.xmlfeed`),
JSON Feed 1.1, an OPML 2.0 list and a human index page.

Layout of the feeds folder::

    index.html                      the reading page: newest headlines, filters, every
                                    feed (<link rel="alternate"> autodiscovery)
    headlines.json                  the page's index, filtered in the browser
    page.css, page.js               the page's style and script (no inline script)
    feed.xsl                        shows an RSS or Atom file as a page in a browser
    feeds.opml                      one RSS subscription per feed, grouped by category,
                                    province and newspaper
    all.{rss,atom,json}             every newspaper
    category/<key>.{rss,atom,json}  one per category, spanning all sites
    province/<key>.{rss,atom,json}  one per 2025 province, spanning its newspapers
    site/<site-id>.{rss,atom,json}  one per newspaper

Links are absolute, under ``base_url``: by default ``http://127.0.0.1:8080/``, where
``aggregator serve`` with no flags serves the folder, so a plain ``serve`` works;
a public server needs its own URL of the folder (``--base-url``). The page's own links
(feeds, script, index) are relative, so it works wherever it is served.

The output is a pure function of the stored articles (and of the site names and
crawl intervals passed in): no clock is read, so a rebuild with the same articles
gives byte-identical files, and a file is only rewritten (atomically) when its bytes
change. That lets any static server answer conditional requests with 304. Entry ids
come from the article id, derived once from the canonical URL, so an edited article
keeps its id.

``all`` and category feeds show the original of each story only, ending with links
to its other copies. A site feed shows that newspaper's own articles: its originals,
and its copies of stories first published by another newspaper (linking to the
original); a second URL of a page of the same site is left out. A province feed does
the same for all the newspapers of the province. Feed files of a category, province or
site that no longer has any article are removed, so ``feeds.opml`` and ``index.html``
list exactly the feed files present.

The modules, each one concern: :mod:`.layout` (file names, paths, the build report),
:mod:`.entries` (an article as an entry), :mod:`.feed` (a feed and its labels),
:mod:`.select` (which articles go in which feed), :mod:`.xmlfeed` (RSS and Atom),
:mod:`.jsonfeed` (JSON Feed), :mod:`.index` (OPML and index.html) and :mod:`.build`
(the whole build). This package exports what the rest of the project uses.
"""

from aggregator.publish.feeds.build import build_feeds, render_feed
from aggregator.publish.feeds.entries import MAX_CONTENT, MAX_TITLE, READ_ON_LABEL
from aggregator.publish.feeds.layout import (
    DEFAULT_BASE_URL,
    FORMATS,
    MEDIA_TYPES,
    FeedBuildReport,
    feed_path,
    is_loopback,
    valid_key,
)
from aggregator.publish.feeds.select import SiteInfo, site_infos
from aggregator.sites.definition import DEFAULT_INTERVAL

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_INTERVAL",
    "FORMATS",
    "MAX_CONTENT",
    "MAX_TITLE",
    "MEDIA_TYPES",
    "READ_ON_LABEL",
    "FeedBuildReport",
    "SiteInfo",
    "build_feeds",
    "feed_path",
    "is_loopback",
    "render_feed",
    "site_infos",
    "valid_key",
]
