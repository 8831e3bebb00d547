"""The feeds folder: formats and media types, file names and paths, what a build did, and
the removal of feed files no longer built.

Files themselves are written by :func:`aggregator.publish.files.write_if_changed`
(atomically, and only when their bytes change).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from ipaddress import ip_address
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from aggregator.publish.files import remove_leftovers

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "FORMATS",
    "HEADLINES_FILE",
    "INDEX_FILE",
    "MAX_KEY",
    "MEDIA_TYPES",
    "OPML_FILE",
    "STATIC_FILES",
    "STYLESHEET_FILE",
    "FeedBuildReport",
    "Format",
    "Kind",
    "feed_path",
    "is_loopback",
    "remove_stale",
    "static_file",
    "valid_key",
]

Format = Literal["rss", "atom", "json"]
#: "search": a search feed, answered on demand by ``aggregator serve`` (no file)
Kind = Literal["all", "category", "province", "site", "search"]
_KINDS: tuple[Kind, ...] = ("category", "province", "site")

#: ``aggregator serve``'s default address: it serves the feeds folder at ``/``.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
#: Where the feeds are published when no ``base_url`` is given: where ``aggregator
#: serve`` with no flags publishes them, so its links resolve out of the box (self links
#: and OPML need absolute URLs; a public server needs its real URL of ``feeds_dir``).
DEFAULT_BASE_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}/"

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
#: The reading page's compact index of headlines, filtered by ``page.js``.
HEADLINES_FILE = "headlines.json"
#: Files copied as they are into the feeds folder: the reading page's style and script,
#: and the stylesheet that shows an RSS or Atom file as a page in a browser.
STYLESHEET_FILE = "feed.xsl"
STATIC_FILES = ("page.css", "page.js", STYLESHEET_FILE)

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


def is_loopback(url: str) -> bool:
    """Whether a URL points at this machine (localhost, 127.0.0.0/8, ::1): links there
    only work for a reader on the machine that serves them."""
    try:
        host = urlsplit(url).hostname or ""
        return host == "localhost" or host.endswith(".localhost") or ip_address(host).is_loopback
    except ValueError:
        return False


def static_file(name: str) -> bytes:
    """The bytes of one of :data:`STATIC_FILES` (package data, also inside a zip)."""
    if name not in STATIC_FILES:
        raise ValueError(f"unknown static file {name!r}")
    return resources.files("aggregator.publish.feeds").joinpath("static", name).read_bytes()


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
    if kind not in _KINDS:
        raise ValueError(f"unknown feed kind {kind!r}")
    if not valid_key(key):
        raise ValueError(f"{kind} key {key!r} is not a [a-z0-9-]+ file name")
    path = root / kind / f"{key}.{fmt}"
    if path.parent.resolve() != root.resolve() / kind:  # belt and braces
        raise ValueError(f"{root / kind} leads out of {root}")
    return path


def remove_stale(root: Path, kept: set[Path], report: FeedBuildReport) -> None:
    """Remove the category, province and site feed files under ``root`` not in ``kept``,
    and the temporary files a killed build left behind."""
    for folder in (root, *(root / kind for kind in _KINDS)):
        if folder.is_dir():
            report.removed.extend(remove_leftovers(folder))
    for kind in _KINDS:
        folder = root / kind
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if _FEED_FILE.fullmatch(path.name) and path not in kept and not path.is_dir():
                path.unlink()
                report.removed.append(path)
