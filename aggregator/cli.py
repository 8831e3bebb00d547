"""The ``aggregator`` command: parse arguments, map them to settings, run.

Subcommands: ``sampleweb``, ``sites list|check|test``, ``crawl``, ``feeds``,
``export`` and ``demo``. Exit codes: 0 success, 1 bad input (definitions, ids),
2 usage errors (argparse).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aggregator.sitedef import SiteDefinitionError, SiteRegistry, load_sites, sites_dirs_from_env

__all__ = ["main"]


class CommandError(Exception):
    """A user-facing error: printed as one line, exit code 1."""


# -- shared options -------------------------------------------------------------------


def _db(args: argparse.Namespace) -> str:
    return str(args.db or os.environ.get("AGGREGATOR_DB") or "aggregator.db")


def _feeds_dir(args: argparse.Namespace) -> Path:
    return Path(args.feeds_dir or os.environ.get("AGGREGATOR_FEEDS_DIR") or "feeds")


def _sites_dirs(args: argparse.Namespace) -> list[Path]:
    return sites_dirs_from_env() + [Path(d) for d in (args.sites_dir or [])]


def _registry(args: argparse.Namespace) -> SiteRegistry:
    try:
        return load_sites(_sites_dirs(args))
    except SiteDefinitionError as exc:
        raise CommandError(str(exc)) from None


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="store: SQLite file (default $AGGREGATOR_DB or ./aggregator.db)")


def _add_sites_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sites-dir",
        action="append",
        metavar="DIR",
        help="extra folder of site definitions (repeatable; overrides bundled ids)",
    )


def _add_feeds_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--feeds-dir", help="output folder (default $AGGREGATOR_FEEDS_DIR or ./feeds)")


# -- commands -------------------------------------------------------------------------


def cmd_sampleweb(args: argparse.Namespace) -> int:
    from aggregator.sampleweb.__main__ import main as sampleweb_main

    argv = ["--port", str(args.port), "--host", args.host]
    if args.write_sites:
        argv += ["--write-sites", args.write_sites]
    return sampleweb_main(argv)


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
    return _sites_test(registry, args.site, args.url)


def _sites_test(registry: SiteRegistry, site_id: str, url: str) -> int:
    """Fetch one page and print every extracted field with the layer that gave it."""
    import urllib.request

    from aggregator.extract import ExtractionError, extract_article
    from aggregator.settings import USER_AGENT

    site = _get_site(registry, site_id)
    if not site.in_domain(url):
        domains = ", ".join(site.allowed_domains)
        raise CommandError(f"{url} is outside {site.id}'s domains ({domains})")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            charset = response.headers.get_content_charset() or "utf-8"
            html = response.read().decode(charset, errors="replace")
    except OSError as exc:
        raise CommandError(f"cannot fetch {url}: {exc}") from None
    print(f"article URL: {'yes' if site.is_article(url) else 'no (links.article does not match)'}")
    try:
        found = extract_article(url, html, site)
    except ExtractionError as exc:
        raise CommandError(f"extraction failed for {url}: {exc}") from None
    categories = site.categories_for(found.section)
    rows: list[tuple[str, Any]] = [
        ("title", found.title),
        ("lead", found.lead),
        ("published", found.published.isoformat() if found.published else None),
        ("updated", found.updated.isoformat() if found.updated else None),
        ("authors", ", ".join(found.authors)),
        ("section", found.section),
        ("categories", ", ".join(categories)),
        ("image", found.image),
        ("canonical_url", found.canonical_url),
        ("body", f"{len(found.body_lines)} lines, {sum(map(len, found.body_lines))} chars"),
    ]
    for name, value in rows:
        layer = found.layers.get(name.replace("categories", "section"), "-")
        print(f"{name:<14} [{layer:<9}] {value if value not in (None, '') else '(none)'}")
    for line in found.body_lines[:3]:
        print(f"{'':<14}  | {line[:100]}")
    if found.flags:
        print(f"{'flags':<14}  {', '.join(found.flags)}")
    return 0


def _get_site(registry: SiteRegistry, site_id: str) -> Any:
    try:
        return registry.get(site_id)
    except KeyError as exc:
        raise CommandError(exc.args[0]) from None


def _crawl_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {"AGGREGATOR_DB": _db(args)}
    dirs = _sites_dirs(args)
    overrides["AGGREGATOR_SITES_DIRS"] = os.pathsep.join(str(d) for d in dirs)
    overrides["LOG_LEVEL"] = "INFO" if getattr(args, "verbose", False) else "WARNING"
    if getattr(args, "full", False):
        overrides["AGGREGATOR_FULL_CRAWL"] = True
    for item in getattr(args, "set", None) or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise CommandError(f"-s {item!r}: expected KEY=VALUE")
        overrides[key] = value
    return overrides


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


def cmd_crawl(args: argparse.Namespace) -> int:
    from aggregator.crawl import crawl_sites

    registry = _registry(args)
    ids = _site_ids(args, registry)
    results = crawl_sites(ids, _crawl_overrides(args))
    _print_table(results)
    return 0


def _print_table(results: dict[str, dict[str, Any]]) -> None:
    header = f"{'site':<12} {'pages':>6} {'articles':>9} {'new':>5} {'updated':>8} "
    header += f"{'duplicates':>11} {'errors':>7}"
    print(header)
    print("-" * len(header))
    for site_id, r in results.items():
        articles = r["inserted"] + r["updated"] + r["unchanged"]
        print(
            f"{site_id:<12} {r['pages']:>6} {articles:>9} {r['inserted']:>5} {r['updated']:>8} "
            f"{r['duplicates']:>11} {r['errors']:>7}"
        )


def cmd_feeds(args: argparse.Namespace) -> int:
    from aggregator.feeds import build_feeds
    from aggregator.store import open_store

    base_url = args.base_url or os.environ.get("AGGREGATOR_FEEDS_BASE_URL")
    with open_store(_db(args)) as store:
        report = build_feeds(store, _feeds_dir(args), limit=args.limit, base_url=base_url)
    print(f"{len(report.written)} feeds written, {len(report.unchanged)} unchanged")
    for path in report.written:
        print(f"  {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from aggregator.export import export_jsonl
    from aggregator.store import open_store

    with open_store(_db(args)) as store:
        count = export_jsonl(
            store, sys.stdout, sites=args.site or (), categories=args.category or ()
        )
    print(f"{count} articles exported", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from aggregator.demo import run_demo

    return run_demo(db=_db(args), feeds_dir=_feeds_dir(args), verbose=args.verbose)


# -- parser ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aggregator",
        description="Crawl Vietnamese provincial newspapers and publish feeds per category.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sampleweb", help="serve the bundled sample provincial web")
    p.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--write-sites", metavar="DIR", help="write its site definitions to DIR")
    p.set_defaults(func=cmd_sampleweb)

    p = sub.add_parser("sites", help="list, check or test site definitions")
    sites_sub = p.add_subparsers(dest="sites_command", required=True)
    for name, help_text in (("list", "list the definitions"), ("check", "validate them all")):
        sp = sites_sub.add_parser(name, help=help_text)
        _add_sites_dir(sp)
        sp.set_defaults(func=cmd_sites)
    sp = sites_sub.add_parser("test", help="fetch one page and show what is extracted")
    sp.add_argument("site")
    sp.add_argument("url")
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
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE", help="Scrapy setting")
    p.add_argument("-v", "--verbose", action="store_true", help="Scrapy's INFO log")
    _add_db(p)
    _add_sites_dir(p)
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("feeds", help="write the feeds from the store")
    p.add_argument("--limit", type=int, default=50, help="entries per feed (default 50)")
    p.add_argument("--base-url", help="public URL of the feeds folder (for self links)")
    _add_db(p)
    _add_feeds_dir(p)
    p.set_defaults(func=cmd_feeds)

    p = sub.add_parser("export", help="write stored articles as JSON Lines to stdout")
    p.add_argument("--site", action="append", metavar="ID")
    p.add_argument("--category", action="append", metavar="KEY")
    _add_db(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("demo", help="sample web → crawl → store → feeds, end to end")
    p.add_argument("-v", "--verbose", action="store_true")
    _add_db(p)
    _add_feeds_dir(p)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CommandError as exc:
        print(f"aggregator: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
