"""Configuration: one resolution for every command and option.

A value comes from its command-line flag, else from the environment variable of the same
name as the Scrapy setting (``AGGREGATOR_DB``, ...), else from the default declared once
in :data:`aggregator.settings.ENVIRONMENT`.
"""

from __future__ import annotations

import re
from pathlib import Path

from aggregator.settings import from_environment
from aggregator.sites.definition import DEFAULT_INTERVAL, split_dirs

__all__ = [
    "ConfigError",
    "base_url",
    "crawl_interval",
    "db",
    "feeds_dir",
    "jobs",
    "parse_interval",
    "redis_url",
    "sites_dirs",
    "value",
]


class ConfigError(ValueError):
    """A value that cannot be used: one line for the user."""


def value(name: str, flag: object = None) -> str:
    """``flag`` when given, else the environment's ``name``, else its default."""
    if flag is not None and flag != "":
        return str(flag)
    return from_environment(name)


def db(flag: str | None = None) -> str:
    """The store: a SQLite path or a ``postgresql://`` URL."""
    return value("AGGREGATOR_DB", flag)


def feeds_dir(flag: str | None = None) -> Path:
    """Where feeds, the index page and the health feed are written."""
    return Path(value("AGGREGATOR_FEEDS_DIR", flag))


def base_url(flag: str | None = None) -> str | None:
    """The public URL of the feeds folder, when one is set."""
    return value("AGGREGATOR_FEEDS_BASE_URL", flag) or None


def redis_url(flag: str | None = None) -> str:
    """The shared crawl queue's Redis URL ("" for none)."""
    return value("AGGREGATOR_REDIS_URL", flag)


def sites_dirs(flags: list[str] | None = None) -> list[Path]:
    """Folders of site definitions: the environment's, then the flags' (later ones win)."""
    return split_dirs(value("AGGREGATOR_SITES_DIRS")) + [Path(d) for d in flags or ()]


_INTERVAL = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``15m``, ``2h`` or ``1d`` (more than 0); every
    ``--interval`` takes this one unit."""
    match = _INTERVAL.fullmatch(text.strip().lower())
    seconds = float(match[1]) * _UNIT_SECONDS[match[2]] if match else 0.0
    if seconds <= 0:
        raise ConfigError(f"{text!r}: expected seconds (> 0), or a number with s, m, h or d")
    return seconds


def crawl_interval(flag: float | None = None) -> float:
    """Seconds between crawls when no definition says (``serve``'s cache lifetime):
    ``--interval``, else ``AGGREGATOR_CRAWL_INTERVAL`` (same syntax), else the
    definitions' default."""
    if flag is not None:
        return flag
    raw = value("AGGREGATOR_CRAWL_INTERVAL")
    if not raw:
        return DEFAULT_INTERVAL * 60.0
    try:
        return parse_interval(raw)
    except ConfigError as exc:
        raise ConfigError(f"AGGREGATOR_CRAWL_INTERVAL={exc}") from None


def jobs(flag: int | None = None) -> int | None:
    """Worker processes for extraction: None for one per core, 0 for none (in-process)."""
    raw = str(flag) if flag is not None else value("AGGREGATOR_JOBS")
    if not raw:
        return None
    source = "--jobs " if flag is not None else "AGGREGATOR_JOBS="
    if not raw.isdigit():
        raise ConfigError(f"{source}{raw}: expected a number of processes (>= 0)")
    return int(raw)
