"""The ``aggregator`` command: parse arguments, map them to settings, run.

Subcommands: ``sampleweb``, ``sites list|check|test``, ``crawl``, ``run``, ``feeds``,
``serve``, ``status``, ``export``, ``reextract`` and ``demo``. Exit codes: 0 success;
1 a crawl failed, or bad input (definitions, ids); 2 usage errors and an unusable store
(busy, or a PostgreSQL server out of reach).

``--db`` (or ``AGGREGATOR_DB``) is a SQLite path or a ``postgresql://`` URL; a URL's
password never appears in messages.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aggregator.app import config
from aggregator.normalize.urls import mask_password
from aggregator.sites.definition import SiteDefinitionError, SiteRegistry, load_sites

__all__ = ["main"]


class CommandError(Exception):
    """A user-facing error: printed as one line, exit code 1."""


class ConfigurationError(CommandError):
    """The store or the environment cannot be used: exit code 2."""


# -- shared options -------------------------------------------------------------------


def _db(args: argparse.Namespace) -> str:
    return config.db(args.db)


def _feeds_dir(args: argparse.Namespace) -> Path:
    return config.feeds_dir(args.feeds_dir)


def _sites_dirs(args: argparse.Namespace) -> list[Path]:
    return config.sites_dirs(args.sites_dir)


def _registry(args: argparse.Namespace) -> SiteRegistry:
    try:
        return load_sites(_sites_dirs(args))
    except SiteDefinitionError as exc:
        raise CommandError(str(exc)) from None


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        help="store: a SQLite file or a postgresql://user@host/dbname URL "
        "(default $AGGREGATOR_DB or ./aggregator.db)",
    )


def _check_store(db: str) -> None:
    """Open the store once before work starts in other processes (crawls): an
    unreachable server is one line and exit 2 here, and the schema is migrated once."""
    from aggregator.store import open_store

    with open_store(db):
        pass


def _require_store(db: str) -> None:
    """Commands that only read: a SQLite file must exist (a database URL is checked on
    opening)."""
    from aggregator.store import is_postgres

    if not is_postgres(db) and not Path(db).exists():
        raise CommandError(f"no store at {db}: crawl first (or give --db)")


def _add_sites_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sites-dir",
        action="append",
        metavar="DIR",
        help="extra folder of site definitions (repeatable; overrides bundled ids)",
    )


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE", help="Scrapy setting")
    p.add_argument("-v", "--verbose", action="store_true", help="Scrapy's INFO log")
    p.add_argument("-q", "--quiet", action="store_true", help="errors only")
    _add_db(p)
    _add_sites_dir(p)


def _add_feeds_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--feeds-dir", help="output folder (default $AGGREGATOR_FEEDS_DIR or ./feeds)")


# -- commands -------------------------------------------------------------------------


def _sample_web(module: str) -> Any:
    """A module of the sample web: a package of its own (the runtime never imports it),
    loaded only by the commands that serve it."""
    try:
        return importlib.import_module(f"sampleweb.{module}")
    except ImportError as exc:
        raise CommandError(f"the sample web is not installed ({exc})") from None


def cmd_sampleweb(args: argparse.Namespace) -> int:
    """Its options are the sample web's own (``aggregator sampleweb --help``)."""
    rest = args.args[1:] if args.args[:1] == ["--"] else args.args
    return int(_sample_web("__main__").main(rest))


def cmd_sites(args: argparse.Namespace) -> int:
    if args.sites_command == "check":
        try:
            registry = load_sites(_sites_dirs(args))
        except SiteDefinitionError as exc:
            for line in exc.problems:
                print(line)
            return 1
        print(f"{len(registry)} site definitions OK")
        return 0
    registry = _registry(args)
    if args.sites_command == "list":
        for site in registry:
            state = ("" if site.active else "  (inactive)") + (
                "" if site.verified else "  (unverified)"
            )
            print(f"{site.id:<16} {site.name:<28} {site.province:<16} {site.base_url}{state}")
        return 0
    return _sites_test(registry, args)


def _sites_test(registry: SiteRegistry, args: argparse.Namespace) -> int:
    """``sites test ID [URL] [--live] [--save NAME]``: see :mod:`aggregator.app.sitetest`."""
    from aggregator.app.sitetest import SiteTestError, check_live, check_page, run_fixtures

    site = _get_site(registry, args.site)
    try:
        if args.live:
            return check_live(site, sys.stdout)
        if args.url:
            return check_page(site, args.url, sys.stdout, save=args.save)
        if args.save:
            raise CommandError("--save needs the URL of the page to save")
        return run_fixtures(site, sys.stdout)
    except SiteTestError as exc:
        raise CommandError(str(exc)) from None


def _get_site(registry: SiteRegistry, site_id: str) -> Any:
    try:
        return registry.get(site_id)
    except KeyError as exc:
        raise CommandError(exc.args[0]) from None


def _crawl_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {"AGGREGATOR_DB": _db(args)}
    dirs = _sites_dirs(args)
    overrides["AGGREGATOR_SITES_DIRS"] = os.pathsep.join(str(d) for d in dirs)
    overrides["LOG_LEVEL"] = (
        "INFO"
        if getattr(args, "verbose", False)
        else "ERROR"
        if getattr(args, "quiet", False)
        else "WARNING"
    )
    if getattr(args, "full", False):
        overrides["AGGREGATOR_FULL_CRAWL"] = True
    if getattr(args, "resume", False):  # every listing again, stored articles not fetched
        overrides["AGGREGATOR_FULL_CRAWL"] = True
        overrides["AGGREGATOR_RESUME"] = True
    if getattr(args, "warc", None):
        overrides["AGGREGATOR_WARC_DIR"] = args.warc
    redis_url = _redis_url(args)
    if redis_url:  # a crawl sharing its queue (aggregator.crawl.redisqueue)
        overrides["AGGREGATOR_REDIS_URL"] = redis_url
        if getattr(args, "idle", None) is not None:
            overrides["AGGREGATOR_REDIS_IDLE_SECONDS"] = args.idle
    for item in getattr(args, "set", None) or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise CommandError(f"-s {item!r}: expected KEY=VALUE")
        overrides[key] = value
    return overrides


def _redis_url(args: argparse.Namespace) -> str:
    return config.redis_url(getattr(args, "redis", None))


def _check_redis(url: str) -> None:
    """Redis unreachable at start: one line naming it (password masked), exit 2."""
    from aggregator.crawl.redisqueue import RedisUnavailable, check_redis

    try:
        check_redis(url)
    except RedisUnavailable as exc:
        raise ConfigurationError(str(exc)) from None


def _site_ids(args: argparse.Namespace, registry: SiteRegistry) -> list[str]:
    if args.all:
        return [
            s.id
            for s in registry
            if s.active and (s.verified or getattr(args, "include_unverified", False))
        ]
    if not args.sites:
        raise CommandError("name the sites to crawl, or use --all")
    for site_id in args.sites:
        _get_site(registry, site_id)
    return list(dict.fromkeys(args.sites))


def _progress_wanted(args: argparse.Namespace) -> bool:
    """A live display on a terminal; plain log lines elsewhere or with -q / -v."""
    return sys.stderr.isatty() and not args.quiet and not args.verbose


def cmd_crawl(args: argparse.Namespace) -> int:
    from aggregator.crawl.runner import (
        StoreBusy,
        crawl_sites,
        due_sites,
        results_table,
        site_failed,
        store_lock,
    )
    from aggregator.store import open_store

    registry = _registry(args)
    if args.due and not args.sites:
        args.all = True
    ids = _site_ids(args, registry)
    db = _db(args)
    redis_url = _redis_url(args)
    if args.idle is not None and args.idle < 0:
        raise CommandError(f"--idle {args.idle}: expected seconds (>= 0)")
    if redis_url:
        _check_redis(redis_url)
    try:
        # crawls sharing a Redis queue run side by side: the lock is shared among them
        with store_lock(db, shared=bool(redis_url)):
            _check_store(db)
            if args.due:
                with open_store(db) as store:
                    ids = due_sites([registry.get(i) for i in ids], store)
                if not ids:
                    if not args.quiet:
                        print("no site is due")
                    return 0
            results = crawl_sites(ids, _crawl_overrides(args), progress=_progress_wanted(args))
            # cron and timers get fresh feeds without a second command; health always.
            # With a shared queue the feed builder does both, once for every crawler.
            if not redis_url:
                _publish(args, feeds=args.due)
    except StoreBusy as exc:
        raise ConfigurationError(str(exc)) from None
    if not args.quiet:
        print(results_table(results))
    lost = [site_id for site_id, s in results.items() if s.get("finish_reason") == "redis_lost"]
    if lost:
        print(
            f"aggregator: lost the Redis queue at {mask_password(redis_url)} while crawling "
            f"{', '.join(lost)}; what was queued is left there for the next run",
            file=sys.stderr,
        )
    failed = [
        site_id
        for site_id, summary in results.items()
        if site_failed(summary, shared=bool(redis_url))
    ]
    if failed:
        print(f"aggregator: crawl failed for {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _publish(
    args: argparse.Namespace,
    *,
    feeds: bool = True,
    health: bool = True,
    registry: SiteRegistry | None = None,
) -> Any:
    """After crawls: rebuild the feeds (when asked) and judge every site's health
    (:func:`aggregator.app.publish.publish`); returns the feed build report (or None)."""
    from aggregator.app.publish import publish

    report, _ = publish(
        _db(args),
        _feeds_dir(args),
        registry or _registry(args),
        base_url=config.base_url(getattr(args, "base_url", None)),
        limit=getattr(args, "limit", 50),
        feeds=feeds,
        health=health,
    )
    return report


def cmd_run(args: argparse.Namespace) -> int:
    from aggregator.crawl.runner import StoreBusy, store_lock
    from aggregator.crawl.scheduler import Scheduler

    _registry(args)  # a broken definition at start is an error; later ones are reported
    if _redis_url(args):  # its crawls would share a queue under an exclusive store lock
        raise ConfigurationError(
            "aggregator run does not share a Redis queue (AGGREGATOR_REDIS_URL is set): "
            "run `aggregator crawl --due --redis URL` from a timer on each crawler instead"
        )
    db = _db(args)
    scheduler = Scheduler(
        lambda: load_sites(_sites_dirs(args)),
        _crawl_overrides(args),
        db=db,
        feeds_dir=_feeds_dir(args),
        interval=args.interval,
        max_crawls=args.max_crawls,
        on_crawl=None if args.quiet else _print_crawl_line,
        publish=lambda registry: _publish(args, registry=registry),
        progress=_progress_wanted(args),
    )
    try:
        with store_lock(db):
            _check_store(db)
            return scheduler.run()
    except StoreBusy as exc:
        raise ConfigurationError(str(exc)) from None


def _print_crawl_line(site_id: str, summary: dict[str, Any]) -> None:
    print(
        f"{summary.get('started_at', '')[:19]} {site_id:<12} pages {summary['pages']:>4}  "
        f"new {summary['inserted']:>3}  updated {summary['updated']:>3}  "
        f"duplicates {summary['duplicates']:>3}  errors {summary['errors']:>3}",
        flush=True,
    )


def cmd_feeds(args: argparse.Namespace) -> int:
    report = _publish(args, health=False)  # _health.atom: crawl, run and status
    print(f"{len(report.written)} feeds written, {len(report.unchanged)} unchanged")
    for path in report.written:
        print(f"  {path}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from aggregator.publish.serve import serve

    try:
        interval = config.crawl_interval(args.interval)
    except config.ConfigError as exc:
        raise CommandError(str(exc)) from None
    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port {args.port}: must be 0-65535")
    log = Path(args.access_log) if args.access_log else None
    return serve(_feeds_dir(args), args.host, args.port, max_age=interval * 60, access_log=log)


def cmd_export(args: argparse.Namespace) -> int:
    """Current state (default) or, with --since/--until, the stream of versions."""
    from typing import TextIO

    from aggregator.publish.export import (
        ExportError,
        ExportResult,
        export_jsonl,
        export_stream,
        parse_cursor,
        stream_bounds,
        write_output,
    )
    from aggregator.store import open_store

    db = _db(args)
    _require_store(db)
    sites, categories = args.site or (), args.category or ()
    stream = args.since is not None or args.until is not None
    try:
        since = parse_cursor(args.since, "--since") if args.since is not None else 0
        until = parse_cursor(args.until, "--until") if args.until is not None else None
        with open_store(db) as store:
            if stream:
                since, until = stream_bounds(store, since, until)  # checked before writing

            def write(out: TextIO) -> ExportResult:
                if not stream:
                    return export_jsonl(store, out, sites=sites, categories=categories)
                return export_stream(
                    store, out, since=since, until=until, sites=sites, categories=categories
                )

            result = write_output(args.output, write, compress=args.gzip)
    except ExportError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot write {args.output or 'stdout'}: {exc}") from None
    what = "versions" if stream else "articles"
    print(f"{result.count} {what} exported; last cursor: {result.cursor}", file=sys.stderr)
    return 0


def cmd_reextract(args: argparse.Namespace) -> int:
    """Today's extraction over archived pages, into the store; no network."""
    from aggregator.archive.reextract import reextract
    from aggregator.archive.warc import warc_files
    from aggregator.crawl.runner import StoreBusy, store_lock
    from aggregator.store import open_store

    registry = _registry(args)
    for site_id in args.site or ():
        _get_site(registry, site_id)
    files = warc_files(args.warc)
    missing = [str(p) for p in files if not p.is_file()]
    if missing or not files:
        raise CommandError(f"no such WARC file: {', '.join(missing) or ' '.join(args.warc)}")

    def warn(message: str) -> None:
        print(f"aggregator: warning: {message}", file=sys.stderr)

    db = _db(args)
    try:
        with store_lock(db), open_store(db) as store:
            report = reextract(files, store, registry, sites=args.site or (), warn=warn)
    except StoreBusy as exc:
        raise ConfigurationError(str(exc)) from None
    print(report.summary())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """One row per site with its verdict (see :mod:`aggregator.publish.health`)."""
    import json

    from aggregator.publish.health import format_table, update_health
    from aggregator.store import open_store

    registry = _registry(args)
    db = _db(args)
    _require_store(db)
    base_url = config.base_url(args.base_url)
    with open_store(db) as store:
        report = update_health(store, _feeds_dir(args), registry, base_url=base_url)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return 0
    print(format_table(report.sites))
    state = "written" if report.feed_written else "unchanged"
    print(f"health feed: {report.feed} ({state}, {len(report.events)} new entries)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    demo = _sample_web("demo")
    _check_store(_db(args))
    return int(
        demo.run_demo(
            db=_db(args), feeds_dir=_feeds_dir(args), verbose=args.verbose, hostile=args.hostile
        )
    )


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
