"""Configuration: one resolution for every command and option.

A value comes from its command-line flag, else from the environment variable of the same
name as the Scrapy setting (``AGGREGATOR_DB``, ...), else from the default declared once
in :data:`aggregator.settings.ENVIRONMENT`.
"""

from __future__ import annotations

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


def crawl_interval(flag: int | None = None) -> int:
    """Minutes between crawls when no definition says (``serve``'s cache lifetime)."""
    raw = str(flag) if flag is not None else value("AGGREGATOR_CRAWL_INTERVAL")
    if not raw:
        return DEFAULT_INTERVAL
    source = "--interval" if flag is not None else "AGGREGATOR_CRAWL_INTERVAL="
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{source}{raw if flag is None else ' ' + raw}: expected minutes (>= 1)")
    return int(raw)


def jobs(flag: int | None = None) -> int | None:
    """Worker processes for extraction: None for one per core, 0 for none (in-process)."""
    raw = str(flag) if flag is not None else value("AGGREGATOR_JOBS")
    if not raw:
        return None
    source = "--jobs " if flag is not None else "AGGREGATOR_JOBS="
    if not raw.isdigit():
        raise ConfigError(f"{source}{raw}: expected a number of processes (>= 0)")
    return int(raw)
