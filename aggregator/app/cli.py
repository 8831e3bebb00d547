"""The ``aggregator`` command line: the parser and the dispatch to
:mod:`aggregator.app.commands`.

Subcommands: ``sampleweb``, ``sites list|check|test|new|learn``, ``crawl``, ``run``, ``feeds``,
``serve``, ``status``, ``export``, ``reextract`` and ``demo``. ``--db`` (or
``AGGREGATOR_DB``) is a SQLite path or a ``postgresql://`` URL.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from aggregator.app import config
from aggregator.app.commands import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_PARTIAL,
    EXIT_USAGE,
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
    describe_os_error,
    partial,
)

__all__ = ["build_parser", "main"]

#: Exit status after the reader of our output went away (``aggregator ... | head``).
EXIT_BROKEN_PIPE = 141


def _interval(text: str) -> float:
    """``--interval``: seconds, or a number with ``s``, ``m``, ``h`` or ``d``."""
    try:
        return config.parse_interval(text)
    except config.ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text}: expected at least 1")
    return number


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aggregator")
    except PackageNotFoundError:
        return "unknown (not installed)"


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


def _add_include_unverified(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--include-unverified",
        action="store_true",
        help="with --all or --due (and for run): also sites whose definition is not verified yet",
    )


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
    sp.add_argument("site", metavar="ID", help="id of the new site (file ID.toml)")
    sp.add_argument("url", metavar="HOME_URL", help="the newspaper's home page")
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
    sp.add_argument("site", metavar="ID", help="id of a defined site")
    sp.add_argument("--write", action="store_true", help="replace the definition's file")
    _add_fetch_options(sp)


# -- parser ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aggregator",
        description="Crawl Vietnamese provincial newspapers and publish feeds per category.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
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
    sp.add_argument("site", metavar="ID", help="id of a defined site")
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
    p.add_argument("sites", nargs="*", metavar="ID", help="ids of the sites to crawl")
    p.add_argument("--all", action="store_true", help="every active, verified site")
    _add_include_unverified(p)
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
        type=_interval,
        metavar="SECONDS",
        help="one interval for every site instead of each definition's "
        "(seconds; 15m, 2h and 1d also work)",
    )
    p.add_argument("--max-crawls", type=_positive_int, help="stop after starting this many crawls")
    _add_include_unverified(p)
    _add_run_options(p)
    _add_feeds_dir(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("feeds", help="write the feeds from the store")
    p.add_argument("--limit", type=_positive_int, default=50, help="entries per feed (default 50)")
    p.add_argument(
        "--base-url",
        help="public URL of the feeds folder, for self links and the OPML list "
        "(default $AGGREGATOR_FEEDS_BASE_URL or http://127.0.0.1:8080/, where "
        "`aggregator serve` serves it)",
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
        type=_interval,
        metavar="SECONDS",
        help="crawl interval, the feeds' Cache-Control max-age: seconds, or 15m, 2h... "
        "(default $AGGREGATOR_CRAWL_INTERVAL or 30m)",
    )
    p.add_argument("--access-log", metavar="FILE", help="append one line per request to FILE")
    p.add_argument(
        "--max-connections", type=int, default=128, metavar="N",
        help="open connections at most; more are closed at once (default 128)",
    )  # fmt: skip
    p.add_argument(
        "--max-per-client", type=int, default=16, metavar="N",
        help="open connections from one address at most (default 16; behind a reverse "
        "proxy, every client has the proxy's address)",
    )  # fmt: skip
    p.add_argument(
        "--header-timeout", type=float, default=10.0, metavar="SECONDS",
        help="a request's head must arrive within this long, else the connection is "
        "dropped (default 10)",
    )  # fmt: skip
    p.add_argument(
        "--db",
        help="store that answers search feeds, /search.{rss,atom,json}?q=... (a SQLite file "
        "or a postgresql:// URL; default $AGGREGATOR_DB; none: no search)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "export",
        help="write stored articles as JSON Lines (schemas/article.schema.json); "
        "--since CURSOR: every version after it",
    )
    p.add_argument(
        "--site", action="append", metavar="ID", help="only this site's articles (repeatable)"
    )
    p.add_argument(
        "--category", action="append", metavar="KEY", help="only this category (repeatable)"
    )
    p.add_argument(
        "--since",
        metavar="CURSOR",
        help="every version recorded after CURSOR, in store order (0: from the beginning)",
    )
    p.add_argument("--until", metavar="CURSOR", help="stop at CURSOR (included)")
    p.add_argument("-o", "--output", metavar="FILE", help="write FILE atomically (default stdout)")
    p.add_argument("--gzip", action="store_true", help="gzip the output")
    p.add_argument(
        "--cursor-file",
        metavar="FILE",
        help="read the start cursor from FILE (none yet: from the beginning) and write the "
        "end cursor there, atomically, once the output is complete",
    )
    p.add_argument(
        "--json-summary",
        action="store_true",
        help="the closing summary as one JSON line on stderr (count, since, cursor)",
    )
    _add_db(p)
    _add_sites_dir(p)
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
    p.add_argument("sites", nargs="*", metavar="ID", help="only these sites (default: all)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--base-url", help="public URL of the feeds folder (for self links)")
    _add_db(p)
    _add_sites_dir(p)
    _add_feeds_dir(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("demo", help="sample web → crawl → store → feeds, end to end")
    p.add_argument("-v", "--verbose", action="store_true", help="Scrapy's INFO log")
    p.add_argument(
        "--hostile", type=int, metavar="SEED", help="against the hostile sample web of SEED"
    )
    _add_db(p)
    _add_feeds_dir(p)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every error a person can cause is one ``aggregator: error:``
    line and an exit status: 0 ok, 1 failure, 2 usage, 3 partial, 130 interrupted."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sampleweb"]:  # every option is the sample web's own
        argv = ["sampleweb", "--", *argv[1:]]
    args = build_parser().parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()
    except ConfigurationError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except CommandError as exc:
        return _fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`aggregator ... | head`): stop quietly; nothing more
        # may reach the closed pipe, not even when Python flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        return _unexpected(exc, args)
    return EXIT_PARTIAL if code == 0 and partial(args) else code


def _fail(message: str, code: int) -> int:
    print(f"aggregator: error: {message}", file=sys.stderr)
    return code


def _unexpected(exc: Exception, args: argparse.Namespace) -> int:
    """The store (unreachable, corrupt, read-only, disk full) or the system refused:
    one line. Anything else is a bug, reported as one line too, with the way to see
    where it happened."""
    import sqlite3

    from aggregator.store import StoreUnavailable, mask_target

    if isinstance(exc, StoreUnavailable):
        return _fail(str(exc), EXIT_USAGE)  # names the store, masked
    if isinstance(exc, sqlite3.Error):
        db = config.db(getattr(args, "db", None))
        return _fail(f"cannot use the store {mask_target(db)}: {_sqlite_hint(exc)}", EXIT_USAGE)
    if isinstance(exc, OSError):
        return _fail(describe_os_error(exc), EXIT_FAILED)
    if os.environ.get("AGGREGATOR_TRACEBACK"):
        raise exc
    return _fail(
        f"unexpected {type(exc).__name__}: {exc} (a bug: AGGREGATOR_TRACEBACK=1 shows where)",
        EXIT_FAILED,
    )


def _sqlite_hint(exc: Exception) -> str:
    message = str(exc)
    lower = message.lower()
    if "not a database" in lower or "malformed" in lower:
        return f"{message} (the file is damaged or not a store: restore a backup or give --db)"
    if "readonly" in lower or "read-only" in lower:
        return f"{message} (the store is read-only: this command must write to it)"
    if "full" in lower:
        return f"{message} (free some disk space)"
    return message


if __name__ == "__main__":
    sys.exit(main())
