"""The ``aggregator`` command line: the parser and the dispatch to
:mod:`aggregator.app.commands`.

Subcommands: ``sampleweb``, ``sites list|check|test|new|learn``, ``crawl``, ``run``, ``feeds``,
``serve``, ``status``, ``export``, ``reextract`` and ``demo``. ``--db`` (or
``AGGREGATOR_DB``) is a SQLite path or a ``postgresql://`` URL.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aggregator.app.commands import (
    CommandError,
    ConfigurationError,
    cmd_crawl,
    cmd_demo,
    cmd_export,
    cmd_feeds,
    cmd_reextract,
    cmd_run,
    cmd_sampleweb,
    cmd_serve,
    cmd_sites,
    cmd_status,
)

__all__ = ["build_parser", "main"]


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        help="store: a SQLite file or a postgresql://user@host/dbname URL "
        "(default $AGGREGATOR_DB or ./aggregator.db)",
    )


def _add_sites_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sites-dir",
        action="append",
        metavar="DIR",
        help="extra folder of site definitions (repeatable; overrides bundled ids)",
    )


def _add_jobs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="worker processes extracting pages (default $AGGREGATOR_JOBS or the number of "
        "cores; 0: in this process)",
    )


def _add_run_options(p: argparse.ArgumentParser) -> None:
    _add_jobs(p)
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE", help="Scrapy setting")
    p.add_argument("-v", "--verbose", action="store_true", help="Scrapy's INFO log")
    p.add_argument("-q", "--quiet", action="store_true", help="errors only")
    _add_db(p)
    _add_sites_dir(p)


def _add_feeds_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--feeds-dir", help="output folder (default $AGGREGATOR_FEEDS_DIR or ./feeds)")


def _add_fetch_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--max-requests", type=int, default=40, help="requests at most (default 40)")
    sp.add_argument(
        "--delay", type=float, help="seconds between requests (default DOWNLOAD_DELAY, 0.5)"
    )
    _add_sites_dir(sp)
    sp.set_defaults(func=cmd_sites)


def _add_sites_new(sites_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sp = sites_sub.add_parser(
        "new", help="propose a definition from a home page (patterns, listings, categories)"
    )
    sp.add_argument("site", metavar="ID")
    sp.add_argument("url", metavar="HOME_URL")
    sp.add_argument("--name", help="display name (default: og:site_name or <title>)")
    sp.add_argument("--province", help="province the paper publishes under")
    sp.add_argument(
        "-o", "--output", metavar="FILE", help="default ID.toml in the first --sites-dir, or ."
    )
    sp.add_argument("--force", action="store_true", help="replace an existing file")
    _add_fetch_options(sp)
    sp = sites_sub.add_parser(
        "learn", help="propose a definition again from an existing one's base URL; print a diff"
    )
    sp.add_argument("site", metavar="ID")
    sp.add_argument("--write", action="store_true", help="replace the definition's file")
    _add_fetch_options(sp)


# -- parser ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aggregator",
        description="Crawl Vietnamese provincial newspapers and publish feeds per category.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "sampleweb",
        help="serve the bundled sample provincial web (its options: sampleweb --help)",
        add_help=False,
    )
    p.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_sampleweb)

    p = sub.add_parser("sites", help="list, check or test site definitions")
    sites_sub = p.add_subparsers(dest="sites_command", required=True)
    for name, help_text in (("list", "list the definitions"), ("check", "validate them all")):
        sp = sites_sub.add_parser(name, help=help_text)
        _add_sites_dir(sp)
        sp.set_defaults(func=cmd_sites)
    sp = sites_sub.add_parser(
        "test",
        help="show what one page gives, check saved fixtures, or --live: a coverage table",
    )
    sp.add_argument("site")
    sp.add_argument("url", nargs="?", help="a page to fetch (without: run the saved fixtures)")
    sp.add_argument(
        "--live",
        action="store_true",
        help="fetch the first listing and three articles; exit 1 if a required field is missing",
    )
    sp.add_argument("--save", metavar="NAME", help="save the page as fixture NAME")
    _add_sites_dir(sp)
    sp.set_defaults(func=cmd_sites)

    _add_sites_new(sites_sub)

    p = sub.add_parser("crawl", help="crawl sites into the store")
    p.add_argument("sites", nargs="*", metavar="ID")
    p.add_argument("--all", action="store_true", help="every active, verified site")
    p.add_argument(
        "--include-unverified",
        action="store_true",
        help="with --all: also sites whose definition is not verified yet",
    )
    p.add_argument(
        "--full", action="store_true", help="crawl every listing, ignoring what is known"
    )
    p.add_argument("--warc", metavar="DIR", help="archive every response as WARC files in DIR")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue a crawl that was killed: read every listing again, fetch only the "
        "articles the store does not hold yet",
    )
    p.add_argument(
        "--due",
        action="store_true",
        help="only the sites whose interval has elapsed (for cron or a systemd timer); "
        "rebuilds the feeds after (not with --redis: the feed builder does)",
    )
    p.add_argument(
        "--redis",
        metavar="URL",
        help="share the crawl queue with other crawl processes through this Redis "
        "(redis://[:password@]host:6379/0; default $AGGREGATOR_REDIS_URL)",
    )
    p.add_argument(
        "--idle",
        type=float,
        metavar="SECONDS",
        help="with --redis: close when the shared queue stayed empty this long "
        "(default $AGGREGATOR_REDIS_IDLE_SECONDS or 10)",
    )
    _add_run_options(p)
    _add_feeds_dir(p)
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("run", help="crawl every site at its interval until stopped")
    p.add_argument(
        "--interval",
        type=float,
        metavar="SECONDS",
        help="one interval for every site instead of each definition's",
    )
    p.add_argument("--max-crawls", type=int, help="stop after starting this many crawls")
    _add_run_options(p)
    _add_feeds_dir(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("feeds", help="write the feeds from the store")
    p.add_argument("--limit", type=int, default=50, help="entries per feed (default 50)")
    p.add_argument(
        "--base-url",
        help="public URL of the feeds folder, for self links and the OPML list "
        "(default $AGGREGATOR_FEEDS_BASE_URL or http://localhost/feeds/)",
    )
    _add_db(p)
    _add_feeds_dir(p)
    _add_sites_dir(p)
    p.set_defaults(func=cmd_feeds)

    p = sub.add_parser("serve", help="serve the feeds folder over HTTP (ETag, 304, gzip)")
    _add_feeds_dir(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")
    p.add_argument(
        "--interval",
        type=int,
        metavar="MINUTES",
        help="crawl interval: Cache-Control max-age (default $AGGREGATOR_CRAWL_INTERVAL or 30)",
    )
    p.add_argument("--access-log", metavar="FILE", help="append one line per request to FILE")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "export",
        help="write stored articles as JSON Lines (schemas/article.schema.json); "
        "--since CURSOR: every version after it",
    )
    p.add_argument("--site", action="append", metavar="ID")
    p.add_argument("--category", action="append", metavar="KEY")
    p.add_argument(
        "--since",
        metavar="CURSOR",
        help="every version recorded after CURSOR, in store order (0: from the beginning)",
    )
    p.add_argument("--until", metavar="CURSOR", help="stop at CURSOR (included)")
    p.add_argument("-o", "--output", metavar="FILE", help="write FILE atomically (default stdout)")
    p.add_argument("--gzip", action="store_true", help="gzip the output")
    _add_db(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "reextract", help="re-run extraction, normalization and dedup over WARC files (no network)"
    )
    p.add_argument(
        "--warc",
        nargs="+",
        required=True,
        metavar="FILE",
        help="WARC files written by `crawl --warc` (a folder: its *.warc.gz)",
    )
    p.add_argument("--site", action="append", metavar="ID", help="only this site (repeatable)")
    _add_jobs(p)
    _add_db(p)
    _add_sites_dir(p)
    p.set_defaults(func=cmd_reextract)

    p = sub.add_parser("status", help="health of every site; updates _health.atom")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--base-url", help="public URL of the feeds folder (for self links)")
    _add_db(p)
    _add_sites_dir(p)
    _add_feeds_dir(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("demo", help="sample web → crawl → store → feeds, end to end")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument(
        "--hostile", type=int, metavar="SEED", help="against the hostile sample web of SEED"
    )
    _add_db(p)
    _add_feeds_dir(p)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sampleweb"]:  # every option is the sample web's own
        argv = ["sampleweb", "--", *argv[1:]]
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CommandError as exc:
        print(f"aggregator: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigurationError) else 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from aggregator.store import StoreUnavailable  # not imported before it is needed

        if not isinstance(exc, StoreUnavailable):
            raise
        print(f"aggregator: error: {exc}", file=sys.stderr)  # names the store, masked
        return 2


if __name__ == "__main__":
    sys.exit(main())
