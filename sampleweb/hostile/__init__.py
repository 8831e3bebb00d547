"""The hostile sample web: the four newspapers with faults, bad input and attacks.

``aggregator sampleweb --hostile SEED`` (``SampleWeb(hostile=SEED)``) serves the sample web
with the faults real provincial sites show, chosen deterministically from SEED: which
article or page gets which fault depends only on the seed (and the ground truth), so a
failing crawl can be replayed. Pages without a fault are the normal web's bytes.

Every fault is recorded in the hostile ground truth (:class:`HostilePlan`, written as JSON
with ``--write-truth FILE``): the path it is served at, the article it concerns, whether
a polite crawl can store that article (``servable``: after Scrapy's retries), and the
failure class (``failure``) the crawl must record, and ``aggregator status`` name, when it
cannot. The faults:

Served per request (the server counts the requests of each path):

``burst``      5xx for the first 1-2 requests, then the page (cleared by retries)
``429``        429 with ``Retry-After: 1`` for the first request, then the page
``slow``       the page dripped out over :data:`SLOW_SECONDS` (under the crawl's timeout)
``hang-once``  the first request gets no answer until the client gives up (a timeout)
``reset``      the first connection is reset (TCP RST) before any byte of the answer
``truncated-once`` the first answer promises more bytes (Content-Length) than it sends
``http-500``   500 on every request (not servable: ``http_500``)
``hang``       never answered (not servable: ``timeout``)
``truncated``  always cut short (not servable: ``truncated``; never stored half)

Pages rendered differently:

``no-charset``     no charset in the header nor in the page (UTF-8 found by detection)
``wrong-charset``  the header says ``iso-8859-1`` for UTF-8 bytes: stored, flagged
                   ``encoding_garbled`` (the documented behaviour, see README)
``windows-1258``   the page in windows-1258 (tone marks as combining characters), declared
                   in the header; ``windows-1258-meta`` declared in ``<meta>`` only
``octet-stream``   an article served as ``application/octet-stream`` (sniffed as HTML)
``malformed``      unclosed ``<p>``/``<b>``/``<i>``/``<span>``/``<font>``, nested ``<form>``s,
                   unquoted and duplicate attributes; ``stray-end-tags``: ``</body></html>``
                   in the middle of the article (browsers ignore them)
``xml-invalid``    C0 controls, U+FFFE and ``&#1;``-style references in title and body
``payload``        ``script``, ``iframe``, ``svg``, ``object``, ``embed``, ``onerror=``,
                   ``javascript:`` and ``data:`` payloads in the body and an ``og:image``
``many-urls``      the article linked under several URLs (tracking and session parameters,
                   a percent-encoded path): stored once

New pages, linked from the first listing page of a section:

``payload-article`` an article whose title, lead and body carry markup payloads typed into
                    the CMS (escaped in title and lead: stored whole as text,
                    ``expected_title``; raw in the body: removed)
``gzip-bomb``       ``Content-Encoding: gzip``, 64 KB that inflate to 64 MB (``too_large``)
``oversize``        20 MB with its Content-Length; ``oversize-stream`` without (``too_large``)
``redirect-loop``   two URLs redirecting to each other; ``redirect-chain`` an endless chain
                    of new URLs (``redirect_loop``)
``redirect-offsite`` an article URL (and songcau's kinh-te RSS feed, a start URL) redirecting
                    to another host (``offsite_redirect``; nothing under ``/evil/`` may ever
                    be requested)
``not-html``        a PDF, a JPEG and JSON on article URLs (``not_html``)
``billion-laughs`` / ``xxe``  songcau's y-te and giao-duc RSS feeds, and the sitemaps its
                    hostile definition names, with entity expansion bombs and external
                    entities (``file:///etc/passwd``, ``/evil/xxe``)
``calendar-trap``   a "day before" link on a listing, endless (``?p=1&d=<date>``)
``pagination-trap`` a "next page" link after a section's last page, endless

Pages that cost a parser more than their size (:mod:`~sampleweb.hostile.costly`), on baden:

``costly-figures``  4,000 figures and no text (read in time: ``extraction``, not an article)
``costly-nesting``  ``<div>`` nested 2,048 levels deep (``too_complex``: over the depth bound)
``costly-links``    8,000 article links in one ``<div>`` of a listing, each redirecting to an
                    article: read in time, at most ``AGGREGATOR_LISTING_MAX_LINKS`` taken
                    (its ``bound``; ``status`` shows ``capped: listing_links 1``)

Off the site's scope (the hostile web listens on a second port, serving ``/evil/`` there
too; nothing under ``/evil/`` may ever be requested):

``file-link``       a listing link ``file://<host><local file>`` to an article page the
                    hostile web writes to a temporary folder, carrying
                    :data:`LOCAL_SECRET` (refused: ``link``)
``port-link``       a listing link to an article path on the other port (refused: ``link``)
``port-redirect``   an article URL redirecting to the other port (``offsite_redirect``)
``meta-refresh-javascript`` / ``-file`` / ``-port``  an article page with a meta refresh
                    to ``javascript:``, ``file:///etc/passwd`` or the other port: not
                    followed (refused: ``meta_refresh``), the article stored

Traps carry ``bound``: the most requests a crawl may make to them (the site's
``max_listing_pages``). Baden's dead link (404) and soft 404 of the normal web are in the
plan too (``http_404``, ``extraction``).

The crawl needs a download timeout below :data:`HANG_SECONDS` for hangs to be timeouts
(:data:`CRAWL_SETTINGS`; the project default of 30 s works, slowly).

The package: :mod:`~sampleweb.hostile.plan` chooses the faults from the seed (the ground
truth, pure), :mod:`~sampleweb.hostile.payloads` holds the bad input itself,
:mod:`~sampleweb.hostile.pages` renders the faults into pages, and
:mod:`~sampleweb.hostile.handlers` answers the requests a fault takes over.
"""

from sampleweb.hostile.handlers import HostileWeb
from sampleweb.hostile.pages import to_windows_1258
from sampleweb.hostile.payloads import EVIL, LOCAL_SECRET, PAYLOAD_HTML, PAYLOAD_MARK, PAYLOAD_TEXT
from sampleweb.hostile.plan import (
    CRAWL_SETTINGS,
    HANG_SECONDS,
    SLOW_SECONDS,
    Fault,
    HostilePlan,
    hostile_site_definition,
    plan_hostile_web,
)

__all__ = [
    "CRAWL_SETTINGS",
    "EVIL",
    "HANG_SECONDS",
    "LOCAL_SECRET",
    "PAYLOAD_HTML",
    "PAYLOAD_MARK",
    "PAYLOAD_TEXT",
    "SLOW_SECONDS",
    "Fault",
    "HostilePlan",
    "HostileWeb",
    "hostile_site_definition",
    "plan_hostile_web",
    "to_windows_1258",
]
