"""The ``aggregator`` commands: each takes the parsed arguments, resolves its options
(:mod:`aggregator.app.config`), runs, and returns the exit status.

Exit codes: 0 success; 1 a crawl failed, or bad input (definitions, ids); 2 usage errors
and an unusable store (busy, or a PostgreSQL server out of reach). A URL's password never
appears in messages.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import Any

from aggregator.app import config
from aggregator.normalize.urls import mask_password
from aggregator.sites.definition import SiteDefinitionError, SiteRegistry, load_sites

__all__ = [
    "CommandError",
    "ConfigurationError",
    "cmd_crawl",
    "cmd_demo",
    "cmd_export",
    "cmd_feeds",
    "cmd_reextract",
    "cmd_run",
    "cmd_sampleweb",
    "cmd_serve",
    "cmd_sites",
    "cmd_status",
]


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
    if args.sites_command in ("new", "learn"):
        return _sites_new(args)
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
            # the province published under, then the 2025 province (or the outlet merged into)
            now = f"→ {site.merged_into}" if site.merged_into else (site.province_key or "?")
            print(
                f"{site.id:<14} {site.name:<42} {site.province:<16} {now:<12} "
                f"{site.base_url}{state}"
            )
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


def _sites_new(args: argparse.Namespace) -> int:
    """``sites new ID URL`` and ``sites learn ID``: see :mod:`aggregator.app.sitenew`."""
    from aggregator.app.sitenew import Fetcher, learn, new_definition
    from aggregator.app.sitetest import SiteTestError
    from aggregator.settings import DOWNLOAD_DELAY

    if args.max_requests < 1:
        raise CommandError(f"--max-requests {args.max_requests}: expected at least 1")
    if args.delay is not None and args.delay < 0:
        raise CommandError(f"--delay {args.delay}: expected seconds (>= 0)")
    fetcher = Fetcher(args.max_requests, DOWNLOAD_DELAY if args.delay is None else args.delay)
    try:
        if args.sites_command == "learn":
            site = _get_site(_registry(args), args.site)
            return learn(site, fetcher, sys.stdout, write=args.write)
        folder = Path(args.sites_dir[0]) if args.sites_dir else Path.cwd()
        path = Path(args.output) if args.output else folder / f"{args.site}.toml"
        if path.exists() and not args.force:
            raise CommandError(f"{path} exists (--force replaces it)")
        return new_definition(
            args.site, args.url, path, fetcher, sys.stdout, name=args.name, province=args.province
        )
    except (SiteTestError, SiteDefinitionError) as exc:
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
    from aggregator.publish.feeds.entries import MAX_CONTENT

    print(f"{len(report.written)} feeds written, {len(report.unchanged)} unchanged")
    for path in report.written:
        print(f"  {path}")
    if report.cut:  # a bound hit: said, with the first article it cut
        print(f"{len(report.cut)} entries cut at {MAX_CONTENT} characters: {report.cut[0]} ...")
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
