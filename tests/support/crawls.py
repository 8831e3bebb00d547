"""What the session fixtures of tests/conftest.py hand out: the sample web running in a
subprocess, a crawl of it, a crawl of it archived as WARC."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Archived", "Crawl", "SampleWebProcess"]


@dataclass
class SampleWebProcess:
    url: str
    sites_dir: Path
    access_log: Path
    site_ids: list[str]


@dataclass
class Crawl:
    web: SampleWebProcess
    db: Path
    output: str
    log: str


@dataclass
class Archived:
    db: Path
    warc_dir: Path
    web: SampleWebProcess

    @property
    def files(self) -> list[str]:
        return sorted(str(p) for p in self.warc_dir.glob("*.warc.gz"))
