"""The ``aggregator`` commands: each takes the parsed arguments, resolves its options
(:mod:`aggregator.app.config`), runs, and returns the exit status.

Exit codes: 0 success; 1 failure (every crawl failed, a file that cannot be written);
2 usage (bad flags, unknown ids, a store that cannot be used: busy, missing, corrupt,
a PostgreSQL server out of reach); 3 partial (some sites failed, or a broken definition
was skipped: the others carried on); 130 interrupted (SIGINT / SIGTERM). A URL's
password never appears in messages.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path
from typing import Any

from aggregator.app import config
from aggregator.normalize.urls import mask_password
from aggregator.sites.definition import SiteDefinitionError, SiteRegistry, load_sites

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "CommandError",
    "ConfigurationError",
    "UsageError",
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


class UsageError(ConfigurationError):
    """Flags that contradict each other, an unknown id: exit code 2."""


EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL, EXIT_INTERRUPTED = 1, 2, 3, 130


def _error(message: str) -> None:
    print(f"aggregator: error: {message}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"aggregator: warning: {message}", file=sys.stderr)


def partial(args: argparse.Namespace) -> bool:
    """True when a command carried on past a problem (a definition skipped): exit 3."""
    return bool(getattr(args, "skipped_definitions", None))


# -- shared options -------------------------------------------------------------------


def _db(args: argparse.Namespace) -> str:
    """``--db``: a SQLite file's folder must exist (no store is made in a mistyped place)."""
    from aggregator.store import is_postgres

    db = config.db(args.db)
    if not is_postgres(db) and db != ":memory:":
        path = Path(db)
        if path.is_dir():
            raise UsageError(f"--db {db} is a folder: give the store's file inside it")
        if not path.parent.is_dir():
            raise UsageError(
                f"--db {db}: no folder {path.parent} (create it, or give another --db)"
            )
    return db


def _feeds_dir(args: argparse.Namespace) -> Path:
    folder = config.feeds_dir(args.feeds_dir)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--feeds-dir {folder} is not a folder")
    return folder


def _sites_dirs(args: argparse.Namespace) -> list[Path]:
    return config.sites_dirs(args.sites_dir)


def _jobs(args: argparse.Namespace) -> int | None:
    try:
        return config.jobs(getattr(args, "jobs", None))
    except config.ConfigError as exc:
        raise CommandError(str(exc)) from None


def _registry(args: argparse.Namespace) -> SiteRegistry:
    """Every definition that loads; each broken one is reported once (file, key,
    problem) and left out, and the command carries on with the others (exit 3)."""
    cached = getattr(args, "registry", None)
    if isinstance(cached, SiteRegistry):
        return cached
    registry = load_sites(_sites_dirs(args), strict=False)
    for problem in registry.problems:
        _error(f"{problem} (definition skipped)")
    args.skipped_definitions = list(registry.problems)
    args.registry = registry
    return registry


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
        raise UsageError(f"no store at {db}: crawl first (or give --db)")


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
        raise UsageError(exc.args[0]) from None


def _broken_ids(registry: SiteRegistry) -> set[str]:
    """Ids that the broken definitions' files stand for (``<id>.toml``)."""
    return {Path(p).stem for p in registry.broken}


def _crawl_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {"AGGREGATOR_DB": _db(args)}
    dirs = _sites_dirs(args)
    overrides["AGGREGATOR_SITES_DIRS"] = os.pathsep.join(str(d) for d in dirs)
    jobs = _jobs(args)
    overrides["AGGREGATOR_JOBS"] = "" if jobs is None else jobs
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
        _check_number(key, value)
        overrides[key] = value
    return overrides


def _check_number(key: str, value: str) -> None:
    """A number the project's own numeric setting ``key`` takes (each is >= 0), checked
    before any crawl starts: a crawl would meet a bad one mid-start, in a signal handler.
    ``AGGREGATOR_JOBS`` takes a whole number, or nothing for one worker per core."""
    from aggregator import settings

    default = 0 if key == "AGGREGATOR_JOBS" else getattr(settings, key, None)
    if not key.startswith("AGGREGATOR_") or type(default) not in (int, float):
        return
    if key == "AGGREGATOR_JOBS" and not value:
        return
    kind: type[int] | type[float] = int if type(default) is int else float
    try:
        ok = kind(value) >= 0
    except ValueError:
        ok = False
    if not ok:
        what = "a whole number" if kind is int else "a number"
        raise UsageError(f"-s {key}={value}: expected {what} (>= 0)")


def _redis_url(args: argparse.Namespace) -> str:
    return config.redis_url(getattr(args, "redis", None))


def _check_redis(url: str) -> None:
    """Redis unreachable at start: one line naming it (password masked), exit 2."""
    from aggregator.crawl.redisqueue import RedisUnavailable, check_redis

    try:
        check_redis(url)
    except RedisUnavailable as exc:
        raise ConfigurationError(str(exc)) from None


def _check_crawl_flags(args: argparse.Namespace) -> None:
    """Flags that contradict each other are refused, never silently ignored."""
    if args.sites and args.all:
        raise UsageError("name the sites to crawl or use --all, not both")
    if args.due and (args.full or args.resume):
        flag = "--full" if args.full else "--resume"
        raise UsageError(f"--due crawls what changed since each site's last crawl: not {flag}")
    if args.full and args.resume:
        raise UsageError("--resume already reads every listing: not with --full")
    if args.include_unverified and not (args.all or args.due):
        raise UsageError("--include-unverified goes with --all or --due (a named site is crawled)")
    if args.idle is not None and args.idle < 0:
        raise UsageError(f"--idle {args.idle}: expected seconds (>= 0)")


def skipped_sites(registry: SiteRegistry, *, include_unverified: bool) -> list[str]:
    """Lines naming the sites that every-site selections leave out, and the flag (or
    command) that includes them."""
    inactive = [s.id for s in registry if not s.active]
    unverified = [s.id for s in registry if s.active and not s.verified]
    lines = []
    if unverified and not include_unverified:
        lines.append(
            f"skipped {len(unverified)} unverified site(s) (--include-unverified includes "
            f"them): {', '.join(unverified)}"
        )
    if inactive:
        lines.append(
            f"skipped {len(inactive)} inactive site(s) (`aggregator crawl ID` crawls one): "
            f"{', '.join(inactive)}"
        )
    return lines


def _say_skipped(args: argparse.Namespace, registry: SiteRegistry) -> None:
    """Name once what an every-site selection left out, with the flag that includes it."""
    if args.all and not args.quiet:
        for line in skipped_sites(registry, include_unverified=args.include_unverified):
            print(f"aggregator: {line}", file=sys.stderr)


def _site_ids(args: argparse.Namespace, registry: SiteRegistry) -> list[str]:
    if args.all:
        return [s.id for s in registry if s.active and (s.verified or args.include_unverified)]
    if not args.sites:
        raise UsageError("name the sites to crawl, or use --all")
    broken = _broken_ids(registry)
    ids = []
    for site_id in dict.fromkeys(args.sites):
        if site_id not in registry and site_id in broken:
            continue  # its definition's problem is reported; the others carry on
        _get_site(registry, site_id)
        ids.append(site_id)
    return ids


def _due_only(
    args: argparse.Namespace, registry: SiteRegistry, ids: list[str], db: str
) -> list[str]:
    """The sites of ``ids`` whose interval has elapsed; named ones that are not due yet
    are said so."""
    from aggregator.crawl.runner import due_sites
    from aggregator.store import open_store

    with open_store(db) as store:
        due = due_sites([registry.get(i) for i in ids], store)
    if args.sites and not args.quiet and (waiting := [i for i in ids if i not in due]):
        print(
            f"aggregator: not due yet: {', '.join(waiting)} (without --due they are crawled now)",
            file=sys.stderr,
        )
    return due


def _progress_wanted(args: argparse.Namespace) -> bool:
    """A live display on a terminal; plain log lines elsewhere or with -q / -v."""
    return sys.stderr.isatty() and not args.quiet and not args.verbose


def cmd_crawl(args: argparse.Namespace) -> int:
    from aggregator.crawl.runner import StoreBusy, crawl_sites, results_table, store_lock

    _check_crawl_flags(args)
    registry = _registry(args)
    if args.due and not args.sites:
        args.all = True
    ids = _site_ids(args, registry)
    db = _db(args)
    redis_url = _redis_url(args)
    if args.idle is not None and not redis_url:
        raise UsageError("--idle goes with --redis (a shared crawl queue)")
    overrides = _crawl_overrides(args)  # its bad input refused before the store is made
    if not ids:
        from aggregator.store import is_postgres

        if is_postgres(db) or Path(db).exists():  # a store given is usable (none is made)
            _check_store(db)
        _say_skipped(args, registry)
        if not args.quiet:
            print("no site to crawl")
        return 0
    if redis_url:
        _check_redis(redis_url)
    unpublished: CommandError | None = None
    try:
        # crawls sharing a Redis queue run side by side: the lock is shared among them
        with store_lock(db, shared=bool(redis_url)):
            _check_store(db)
            _say_skipped(args, registry)
            if args.due:
                ids = _due_only(args, registry, ids, db)
                if not ids:
                    if not args.quiet:
                        print("no site is due")
                    return 0
            results = crawl_sites(ids, overrides, progress=_progress_wanted(args))
            # cron and timers get fresh feeds without a second command; health always.
            # With a shared queue the feed builder does both, once for every crawler.
            if not redis_url:
                try:
                    _publish(args, feeds=args.due)
                except CommandError as exc:  # what was crawled is stored: show it first
                    unpublished = exc
    except StoreBusy as exc:
        raise ConfigurationError(str(exc)) from None
    if not args.quiet:
        print(results_table(results))
    if unpublished is not None:
        _error(str(unpublished))
        return EXIT_FAILED
    return _crawl_outcome(results, redis_url)


def _crawl_outcome(results: dict[str, dict[str, Any]], redis_url: str) -> int:
    """The exit status of crawls, with a line for what went wrong."""
    from aggregator.crawl.runner import site_failed, site_interrupted

    lost = [site_id for site_id, s in results.items() if s.get("finish_reason") == "redis_lost"]
    if lost:
        print(
            f"aggregator: lost the Redis queue at {mask_password(redis_url)} while crawling "
            f"{', '.join(lost)}; what was queued is left there for the next run",
            file=sys.stderr,
        )
    stopped = [site_id for site_id, summary in results.items() if site_interrupted(summary)]
    if stopped:
        print(
            f"aggregator: interrupted; `aggregator crawl {' '.join(stopped)} --resume` continues",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    failed = [
        site_id
        for site_id, summary in results.items()
        if site_failed(summary, shared=bool(redis_url))
    ]
    if failed:
        print(f"aggregator: crawl failed for {', '.join(failed)}", file=sys.stderr)
        return EXIT_FAILED if len(failed) == len(results) else EXIT_PARTIAL
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

    folder = _feeds_dir(args)
    try:
        report, _ = publish(
            _db(args),
            folder,
            registry or _registry(args),
            base_url=config.base_url(getattr(args, "base_url", None)),
            limit=getattr(args, "limit", 50),
            feeds=feeds,
            health=health,
        )
    except OSError as exc:
        raise CommandError(f"cannot write in {folder}: {describe_os_error(exc)}") from None
    return report


def describe_os_error(exc: OSError) -> str:
    """An OSError as a person reads it: what, where, and what to do."""
    import errno

    where = f" ({exc.filename})" if exc.filename else ""
    hint = {
        errno.EACCES: "check the permissions, or choose another folder",
        errno.EPERM: "check the permissions, or choose another folder",
        errno.EROFS: "the file system is read-only: choose another folder",
        errno.ENOSPC: "the disk is full: free some space",
        errno.EDQUOT: "the disk quota is used up: free some space",
        errno.ENOTDIR: "a file stands where a folder should be",
        errno.EEXIST: "a file stands where a folder should be",
    }.get(exc.errno or 0)
    return f"{exc.strerror or exc}{where}" + (f"; {hint}" if hint else "")


def cmd_run(args: argparse.Namespace) -> int:
    from aggregator.crawl.runner import StoreBusy, store_lock
    from aggregator.crawl.scheduler import Scheduler

    registry = _registry(args)  # broken definitions are reported, the others run
    # it runs until stopped: a definition broken at start and fixed later is no reason to
    # exit 3 then; the scheduler reports what it skips as it reloads
    args.skipped_definitions = []
    if not args.quiet:
        for line in skipped_sites(registry, include_unverified=args.include_unverified):
            print(f"aggregator: {line}", file=sys.stderr)
    if _redis_url(args):  # its crawls would share a queue under an exclusive store lock
        raise ConfigurationError(
            "aggregator run does not share a Redis queue (AGGREGATOR_REDIS_URL is set): "
            "run `aggregator crawl --due --redis URL` from a timer on each crawler instead"
        )
    db = _db(args)
    scheduler = Scheduler(
        lambda: load_sites(_sites_dirs(args), strict=False),
        _crawl_overrides(args),
        include_unverified=args.include_unverified,
        reported=registry.problems,
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
    from aggregator.publish.feeds import DEFAULT_BASE_URL, is_loopback
    from aggregator.publish.feeds.entries import MAX_CONTENT

    _require_store(_db(args))
    report = _publish(args, health=False)  # _health.atom: crawl, run and status
    print(f"{len(report.written)} feeds written, {len(report.unchanged)} unchanged")
    for path in report.written:
        print(f"  {path}")
    if report.cut:  # a bound hit: said, with the first article it cut
        print(f"{len(report.cut)} entries cut at {MAX_CONTENT} characters: {report.cut[0]} ...")
    base = config.base_url(args.base_url) or DEFAULT_BASE_URL
    if is_loopback(base):  # said once the feeds are written (an error comes alone)
        print(
            f"aggregator: warning: links point at {base}, which only this machine reaches; "
            "for readers elsewhere give the public URL of the feeds folder "
            "(--base-url or AGGREGATOR_FEEDS_BASE_URL)",
            file=sys.stderr,
        )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from aggregator.publish.serve import Limits, serve

    try:
        interval = config.crawl_interval(args.interval)
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: must be 0-65535")
    for flag, value in (
        ("--max-connections", args.max_connections),
        ("--max-per-client", args.max_per_client),
        ("--header-timeout", args.header_timeout),
    ):
        if not value > 0:
            raise UsageError(f"{flag} {value}: must be above 0")
    limits = Limits(args.max_connections, args.max_per_client, args.header_timeout)
    log = Path(args.access_log) if args.access_log else None
    db = None  # search feeds when a store is named (--db or AGGREGATOR_DB)
    if args.db or os.environ.get("AGGREGATOR_DB"):
        db = _db(args)
        _require_store(db)
    return serve(
        _feeds_dir(args),
        args.host,
        args.port,
        max_age=round(interval),
        access_log=log,
        limits=limits,
        db=db,
    )


def _check_export_filters(args: argparse.Namespace, store: Any) -> None:
    """``--site`` and ``--category`` must name something that exists: a defined site or
    one with stored articles; a category of the shared scheme or of stored articles."""
    from aggregator.sites.categories import category_labels

    if args.site:
        defined = load_sites(_sites_dirs(args), strict=False)
        for site_id in args.site:
            if site_id not in defined and not store.count(site_id):
                known = sorted(set(defined.sites) | {s for s in args.site if store.count(s)})
                raise UsageError(
                    f"--site {site_id}: unknown site; known sites: {', '.join(known) or '(none)'}"
                )
    if args.category:
        known_keys = set(category_labels()) | {key for key, _ in store.categories()}
        for key in args.category:
            if key not in known_keys:
                raise UsageError(
                    f"--category {key}: unknown category; known: {', '.join(sorted(known_keys))}"
                )


def _read_cursor_file(path: Path) -> str | None:
    """The cursor saved by an earlier export with ``--cursor-file`` (None: no file yet)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--cursor-file {path}: cannot read: {exc}") from None
    return text or None


def cmd_export(args: argparse.Namespace) -> int:
    """Current state (default) or, with --since/--until, the stream of versions.

    ``--cursor-file FILE``: the start cursor is read from FILE (absent: the beginning)
    and the end cursor written to it atomically once the output is complete, so a
    timer can export what changed since its last run."""
    import json
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
    from aggregator.publish.files import write_if_changed
    from aggregator.store import open_store

    db = _db(args)
    _require_store(db)
    sites, categories = args.site or (), args.category or ()
    cursor_file = Path(args.cursor_file) if args.cursor_file else None
    if cursor_file is not None and args.since is not None:
        raise UsageError("--cursor-file gives the start cursor: not with --since")
    since_text = args.since
    if cursor_file is not None:
        since_text = _read_cursor_file(cursor_file) or "0"
    stream = since_text is not None or args.until is not None
    try:
        since = parse_cursor(since_text, "--since") if since_text is not None else 0
        until = parse_cursor(args.until, "--until") if args.until is not None else None
        with open_store(db) as store:
            _check_export_filters(args, store)
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
        raise UsageError(str(exc)) from None
    except BrokenPipeError:
        raise  # the reader went away (`| head`): silent (see cli.main)
    except OSError as exc:
        where = args.output or "stdout"
        raise CommandError(f"cannot write {where}: {describe_os_error(exc)}") from None
    if cursor_file is not None:
        try:
            write_if_changed(cursor_file, f"{result.cursor}\n".encode())
        except OSError as exc:
            raise CommandError(
                f"--cursor-file {cursor_file}: cannot write: {describe_os_error(exc)}"
            ) from None
    what = "versions" if stream else "articles"
    if args.json_summary:
        summary = {
            "kind": what,
            "count": result.count,
            "since": since if stream else None,
            "cursor": result.cursor,
            "output": args.output,
        }
        print(json.dumps(summary), file=sys.stderr)
    else:
        print(f"{result.count} {what} exported; last cursor: {result.cursor}", file=sys.stderr)
    return 0


def cmd_reextract(args: argparse.Namespace) -> int:
    """Today's extraction over archived pages, into the store; no network."""
    from aggregator.archive.reextract import ReextractReport, reextract
    from aggregator.archive.warc import warc_files
    from aggregator.crawl.runner import StoreBusy, store_lock
    from aggregator.process.pool import default_jobs
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

    jobs = _jobs(args)
    live = sys.stderr.isatty()
    shown = [0.0]

    def progress(report: ReextractReport) -> None:
        if live and time.monotonic() - shown[0] >= 1:
            shown[0] = time.monotonic()
            print(f"\r{report.progress()}", end="", file=sys.stderr, flush=True)

    db = _db(args)
    try:
        with store_lock(db), open_store(db) as store:
            report = reextract(
                files,
                store,
                registry,
                sites=args.site or (),
                warn=warn,
                jobs=default_jobs() if jobs is None else jobs,
                progress=progress,
            )
    except StoreBusy as exc:
        raise ConfigurationError(str(exc)) from None
    if shown[0]:
        print(file=sys.stderr)
    print(report.summary())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """One row per site with its verdict (see :mod:`aggregator.publish.health`)."""
    import json

    from aggregator.publish.health import format_table, update_health
    from aggregator.store import open_store

    registry = _registry(args)
    wanted = [_get_site(registry, i).id for i in dict.fromkeys(args.sites)]
    db = _db(args)
    _require_store(db)
    base_url = config.base_url(args.base_url)
    folder = _feeds_dir(args)
    try:
        with open_store(db) as store:
            report = update_health(store, folder, registry, base_url=base_url)
    except OSError as exc:
        raise CommandError(f"cannot write in {folder}: {describe_os_error(exc)}") from None
    if wanted:
        report.sites = [s for s in report.sites if s.site in wanted]
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
