"""The feeds folder: formats and media types, file names and paths, what a build did, and
the removal of feed files no longer built.

Files themselves are written by :func:`aggregator.publish.files.write_if_changed`
(atomically, and only when their bytes change).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = [
    "DEFAULT_BASE_URL",
    "FORMATS",
    "INDEX_FILE",
    "MAX_KEY",
    "MEDIA_TYPES",
    "OPML_FILE",
    "FeedBuildReport",
    "Format",
    "Kind",
    "feed_path",
    "remove_stale",
    "valid_key",
]

Format = Literal["rss", "atom", "json"]
Kind = Literal["all", "category", "site"]

#: Where the feeds are published when no ``base_url`` is given (self links need
#: an absolute URL; pass the real public URL of ``feeds_dir`` in production).
DEFAULT_BASE_URL = "http://localhost/feeds/"

FORMATS: tuple[Format, ...] = ("rss", "atom", "json")
MEDIA_TYPES: dict[str, str] = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
    "opml": "text/x-opml",
    "html": "text/html",
}
INDEX_FILE = "index.html"
OPML_FILE = "feeds.opml"

#: Longest key used as a file name (well under the 255-byte name limit).
MAX_KEY = 100

_KEY = re.compile(r"[a-z0-9][a-z0-9-]*")
#: Device names Windows reserves whatever the extension: never file names here.
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)
_FEED_FILE = re.compile(r"[a-z0-9][a-z0-9-]*\.(?:rss|atom|json)")


@dataclass
class FeedBuildReport:
    """What a build did: files written (new or changed), left as they were, removed."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    #: feed files of categories or sites that have no article any more
    removed: list[Path] = field(default_factory=list)
    #: category keys not usable as file names (see :func:`valid_key`), skipped
    rejected: list[str] = field(default_factory=list)
    #: site ids not usable as file names, skipped
    rejected_sites: list[str] = field(default_factory=list)
    #: links of the entries whose content was cut (see ``entries.MAX_CONTENT``)
    cut: list[str] = field(default_factory=list)


def valid_key(key: str) -> bool:
    """``[a-z0-9][a-z0-9-]*``, at most :data:`MAX_KEY` long, no Windows device name."""
    return len(key) <= MAX_KEY and bool(_KEY.fullmatch(key)) and key not in _RESERVED


def feed_path(feeds_dir: Path, key: str, fmt: Format, kind: Kind = "category") -> Path:
    """``feeds_dir/<kind>/<key>.<fmt>`` (``feeds_dir/all.<fmt>`` for ``all``).

    ``ValueError`` for a key that is not :func:`valid_key` or a folder that leads
    out of ``feeds_dir`` (a symlink).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown feed format {fmt!r}")
    root = Path(feeds_dir)
    if kind == "all":
        return root / f"all.{fmt}"
    if kind not in ("category", "site"):
        raise ValueError(f"unknown feed kind {kind!r}")
    if not valid_key(key):
        raise ValueError(f"{kind} key {key!r} is not a [a-z0-9-]+ file name")
    path = root / kind / f"{key}.{fmt}"
    if path.parent.resolve() != root.resolve() / kind:  # belt and braces
        raise ValueError(f"{root / kind} leads out of {root}")
    return path


def remove_stale(root: Path, kept: set[Path], report: FeedBuildReport) -> None:
    """Remove the category and site feed files under ``root`` that are not in ``kept``."""
    for kind in ("category", "site"):
        folder = root / kind
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if _FEED_FILE.fullmatch(path.name) and path not in kept and not path.is_dir():
                path.unlink()
                report.removed.append(path)
