"""One crawl in this process, measured: ``ours`` (the aggregator) or ``bare`` (the baseline).

    python -m benchmarks.crawlproc ours --sites-dir DIR --db PATH [--full] SITE... \
        [--marks 10000 20000] [--output FILE]
    python -m benchmarks.crawlproc bare --sites-dir DIR SITE... [--output FILE]

``ours`` is :func:`aggregator.crawl.runner.crawl_sites`, what ``aggregator crawl`` runs (one
crawler per site in one process, the project's settings, every pipeline). ``bare``
is :class:`BareSpider` in a process built the same way with the same settings and
the same per-site politeness, but no item pipeline: it follows the same listing and
feed links and only extracts title, date and body with parsel.

Both get :class:`Probe` as a Scrapy extension. Given ``marks`` (a memory run), it reads
the crawlers' response counts and every process's memory every 0.2 s (from Scrapy's stats
and ``/proc``: nothing runs per response; a throughput run is not sampled) and records, at
each of ``marks`` responses, the RSS and the size of the bounded sets
(:meth:`Probe.state_bytes`). The JSON printed at the end (or written to ``--output``)
holds the crawl time (first spider opened to last spider closed), responses, requests,
items, the marks and the peak RSS (``VmHWM``).

Each mark is read after a full garbage-collector pass and ``malloc_trim(0)`` (what the
crawl's :class:`~aggregator.crawl.memory.TrimMemory` does every 5 s), so that garbage
and freed heap waiting for the next trim do not count; a mark also records the C heap
(glibc's ``mallinfo2``: bytes in use and free), SQLite's own heap, the responses in
flight (Scrapy's scraper slots and downloaders) and the count of Python objects by type.
With ``BENCH_TRACEMALLOC=N`` in the environment, :mod:`tracemalloc` traces the crawl
(``N`` frames; slow: diagnosis only) and each mark holds the 20 tracebacks whose memory
grew most since the previous mark.
"""

from __future__ import annotations

import argparse
import cProfile
import ctypes
import gc
import importlib
import json
import os
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sized
from pathlib import Path
from typing import Any, ClassVar, cast
from urllib.parse import urldefrag, urljoin

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.http import Response, TextResponse
from twisted.internet import task

from aggregator.crawl.memory import malloc_trim
from aggregator.crawl.runner import crawl_sites, project_settings
from aggregator.crawl.spider import load_site_for
from aggregator.crawl.writing import ChunkWriter
from aggregator.extract.article import section_from_url
from aggregator.process.chain import SeenURLs
from aggregator.sites.definition import SiteDefinition

__all__ = ["BareSpider", "Probe", "main"]

PROBE = "benchmarks.crawlproc.Probe"


def proc_status() -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS), RssAnon and RssFile of this process, in KiB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            found[name] = int(value.split()[0])
    return found


def _stat(pid: int | str) -> tuple[int, int]:
    """(parent pid, RSS in KiB) of a process, from ``/proc/N/stat`` (one short line)."""
    data = Path(f"/proc/{pid}/stat").read_bytes()
    # the command name (in parentheses) may hold spaces: split after its ")"
    fields = data.rpartition(b")")[2].split()
    return int(fields[1]), int(fields[21]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def rollup(pid: int | str) -> dict[str, int]:
    """Rss, Pss, Pss_Anon and Pss_File of a process in KiB, from ``/proc/N/smaps_rollup``.
    PSS divides each page among the processes sharing it (the fork server's preloaded
    modules in every worker, the interpreter's files), so PSS figures add up."""
    found = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, value = line.partition(":")
        if name in ("Rss", "Pss", "Pss_Anon", "Pss_File"):
            found[name] = int(value.split()[0])
    return found


def _role(pid: int, parent: int) -> str:
    """What a descendant of the crawl process is: its children are the fork server and
    multiprocessing's resource tracker (by their command lines); the fork server's are
    the workers."""
    if parent != os.getpid():
        return "worker"
    command = Path(f"/proc/{pid}/cmdline").read_bytes()
    for role in (b"forkserver", b"resource_tracker"):
        if role in command:
            return role.decode()
    return "child"


#: descendant pid -> its role ("forkserver", "worker", ...)
_descendants: dict[int, str] = {}
_scans = 0
#: ticks between two scans of every process for new descendants (workers are replaced
#: seldom); the known ones are read at every tick
RESCAN = 25


def descendants() -> dict[int, str]:
    """This process's descendants (the extraction workers, their fork server, the resource
    tracker) with their roles. Cheap on the reactor's thread, where the probe runs every
    0.2 s: all of ``/proc`` is read every :data:`RESCAN` calls only; one that is gone is
    forgotten (its replacement is found at the next scan)."""
    global _scans
    if _scans % RESCAN == 0:
        parents: dict[int, int] = {}
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                parents[int(entry.name)] = _stat(entry.name)[0]
            except (OSError, ValueError, IndexError):
                continue
        found: set[int] = set()
        frontier = {os.getpid()}
        while frontier:
            frontier = {p for p, parent in parents.items() if parent in frontier} - found
            found |= frontier
        for pid in set(_descendants) - found:
            del _descendants[pid]
        for pid in found - set(_descendants):
            try:
                _descendants[pid] = _role(pid, parents[pid])
            except OSError:
                continue
    _scans += 1
    return _descendants


def processes() -> list[dict[str, Any]]:
    """RSS and PSS (KiB) of this process (role "crawl") and of each of its descendants."""
    found = [{"role": "crawl", "pid": os.getpid(), **rollup("self")}]
    for pid, role in list(descendants().items()):
        try:
            found.append({"role": role, "pid": pid, **rollup(pid)})
        except (OSError, ValueError, IndexError):
            _descendants.pop(pid, None)
    return found


def _seen_bytes(seen: SeenURLs | None) -> int:
    """Memory of the canonical URLs of each run (:class:`SeenURLs`)."""
    runs = getattr(seen, "_seen", None)
    if not isinstance(runs, dict):
        return 0
    return sys.getsizeof(runs) + sum(map(_set_bytes, runs.values()))


def _set_bytes(items: object) -> int:
    """Memory of a set and its members: bytes or str, or tuples of them."""
    if not isinstance(items, set | frozenset):
        return 0
    return sys.getsizeof(items) + sum(
        sys.getsizeof(x) + (sum(map(sys.getsizeof, x)) if isinstance(x, tuple) else 0)
        for x in items
    )


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost",
    )]  # fmt: skip


def native_heap() -> dict[str, int]:
    """The C heap (glibc's ``mallinfo2``, all arenas) and SQLite's heap, in bytes: ``heap_used``
    (blocks in use, from brk and mmap), ``heap_free`` (free blocks kept inside the arenas)
    and ``sqlite_used`` (``sqlite3_memory_used()``: page caches, statements, schemas). Empty
    where they are not available (another C library, SQLite built without statistics)."""
    found: dict[str, int] = {}
    try:
        libc = ctypes.CDLL(None)
        libc.mallinfo2.restype = _Mallinfo2
        info = libc.mallinfo2()
        found["heap_used"] = info.uordblks + info.hblkhd
        found["heap_free"] = info.fordblks
    except (AttributeError, OSError):
        pass
    try:
        sqlite = ctypes.CDLL("libsqlite3.so.0")
        sqlite.sqlite3_memory_used.restype = ctypes.c_int64
        found["sqlite_used"] = int(sqlite.sqlite3_memory_used())
    except (AttributeError, OSError):
        pass
    return found


def pymalloc() -> dict[str, int]:
    """Python's small-object allocator, in bytes (from ``sys._debugmallocstats()``, which
    writes to file descriptor 2): its arenas (mapped apart from the C heap) and the blocks in
    use in them; an arena is returned only when all of its blocks are free. Empty while
    tracemalloc traces (its hooks stand in front of the allocator)."""
    found: dict[str, int] = {}
    with tempfile.TemporaryFile() as out:
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")
    for line in text.splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "# arenas allocated current":
            found["pymalloc_arenas"] = int(value.replace(",", ""))
        elif name.strip() == "# bytes in allocated blocks":
            found["pymalloc_used"] = int(value.replace(",", ""))
    if "pymalloc_arenas" in found:
        found["pymalloc_arena_bytes"] = found["pymalloc_arenas"] * 2**20  # 1 MiB arenas
    return found


def object_counts() -> Counter[str]:
    """Python objects tracked by the garbage collector, by type (what was frozen before the
    crawls, in the permanent generation, is not counted)."""
    return Counter(type(o).__qualname__ for o in gc.get_objects())


class Probe:
    """Scrapy extension: crawl time, responses and memory at response-count marks."""

    crawlers: ClassVar[list[Crawler]] = []
    marks: ClassVar[list[int]] = []
    samples: ClassVar[list[dict[str, Any]]] = []
    #: the largest anonymous and file-backed RSS of the crawl process seen by the 0.2 s
    #: ticks, and the largest sums over all processes (RSS: shared pages counted in each)
    peaks: ClassVar[dict[str, int]] = {"RssAnon": 0, "RssFile": 0, "AllRss": 0, "AllPss": 0}
    #: each process's largest RSS and PSS ("role pid" -> KiB)
    process_peaks: ClassVar[dict[str, dict[str, int]]] = {}
    opened: ClassVar[float | None] = None
    closed: ClassVar[float | None] = None
    #: CPU seconds of the reactor's thread and of this whole process (not its workers),
    #: from the first spider opened to the last one closed
    cpu: ClassVar[dict[str, float]] = {"reactor": 0.0, "process": 0.0}
    running: ClassVar[int] = 0
    _loop: ClassVar[task.LoopingCall | None] = None
    _trim: ClassVar[Any] = None
    #: at the previous mark: the objects by type and the tracemalloc snapshot
    _objects: ClassVar[Counter[str] | None] = None
    _snapshot: ClassVar[tracemalloc.Snapshot | None] = None

    def __init__(self, crawler: Crawler) -> None:
        Probe.crawlers.append(crawler)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Probe:
        return cls(crawler)

    def spider_opened(self) -> None:
        if Probe.opened is None:
            frames = int(os.environ.get("BENCH_TRACEMALLOC", "0") or 0)
            if frames and Probe.marks:
                tracemalloc.start(frames)
            Probe._trim = malloc_trim()
            Probe.opened = time.perf_counter()
            Probe.cpu = {"reactor": -time.thread_time(), "process": -time.process_time()}
        Probe.running += 1
        # memory runs only (marks given): reading every process's smaps_rollup costs the
        # reactor's thread ~4 ms a tick, which a throughput run would count against ours
        # (four child processes) and not against bare (none)
        if Probe._loop is None and Probe.marks:
            Probe._loop = task.LoopingCall(Probe.sample)
            Probe._loop.start(0.2, now=False)

    def spider_closed(self) -> None:
        Probe.running -= 1
        if Probe.running == 0:
            Probe.closed = time.perf_counter()
            Probe.cpu["reactor"] += time.thread_time()
            Probe.cpu["process"] += time.process_time()
            Probe.sample(final=True)
            if Probe._loop is not None and Probe._loop.running:
                Probe._loop.stop()

    @staticmethod
    def responses() -> int:
        return sum(int(c.stats.get_value("downloader/response_count", 0)) for c in Probe.crawlers
                   if c.stats is not None)  # fmt: skip

    @staticmethod
    def state_bytes() -> dict[str, int]:
        """The bounded sets, in bytes: the request-fingerprint sets, the dedup URL sets, the
        dedup word cache, the site definitions' URL caches, the spiders' URL sets; and the
        requests queued."""
        fingerprints = seen = count = pending = urls = entries = links = 0
        for c in Probe.crawlers:
            # the spider's own URL sets (article links met, links matching no pattern, links
            # refused, the store's URLs under --resume): one entry per URL, for the crawl
            spider = getattr(c, "spider", None)
            for name in ("article_urls", "unmatched_urls", "refused_urls", "stored_urls"):
                links += _set_bytes(getattr(spider, name, None))
            # the site definition's URL caches (link and canonical forms, each bounded at
            # CANONICAL_CACHE URLs): filled as the crawl meets new URLs
            site = getattr(getattr(c, "spider", None), "site_def", None)
            for cache in getattr(site, "__dict__", {}).get("_url_caches", ()):
                entries += len(cache)
                # a normal form is the value of each of its forms and its own key: each
                # string counted once
                strings = {id(s): s for pair in cache.items() for s in pair}
                urls += sys.getsizeof(cache) + sum(map(sys.getsizeof, strings.values()))
            engine = c.engine
            slot = getattr(engine, "_slot", None) or getattr(engine, "slot", None)
            scheduler = getattr(slot, "scheduler", None)
            df = getattr(scheduler, "df", None)
            fps = getattr(df, "_fingerprints", None)  # a set of 20-byte digests
            fingerprints += _set_bytes(fps)
            count += len(fps) if isinstance(fps, set) else 0
            # requests found and not yet fetched: the crawl's frontier
            pending += len(scheduler) if isinstance(scheduler, Sized) else 0
            scraper = getattr(engine, "scraper", None)
            itemproc = getattr(scraper, "itemproc", None)
            for component in getattr(itemproc, "middlewares", ()):
                # the run's canonical URLs (without workers that write): the chain's
                seen += _seen_bytes(getattr(getattr(component, "chain", None), "seen", None))
        # with workers that write: the writing pool's, one for the crawls of the process
        for writer, _ in ChunkWriter._shared.values():
            seen += _seen_bytes(writer.pool.seen)
        from aggregator.dedup import (
            fingerprints as dedup,  # the word-hash cache, capped at _TOKEN_CACHE_MAX words
        )

        words = dedup._TOKEN_HASHES
        word_bytes = sys.getsizeof(words) + sum(sys.getsizeof(w) + 32 for w in words)
        return {"fingerprint_bytes": fingerprints, "fingerprints": count, "seen_url_bytes": seen,
                "word_cache_bytes": word_bytes, "word_cache_words": len(words),
                "url_cache_bytes": urls, "url_cache_entries": entries,
                "spider_url_bytes": links,
                "pending_requests": pending}  # fmt: skip

    @staticmethod
    def in_flight() -> dict[str, int]:
        """Responses held by the crawlers: in the scrapers' slots (bytes counted as Scrapy's
        back-pressure counts them, and requests) and being downloaded (requests)."""
        size = scraping = downloading = 0
        for c in Probe.crawlers:
            engine = c.engine
            slot = getattr(getattr(engine, "scraper", None), "slot", None)
            size += getattr(slot, "active_size", 0)
            scraping += len(getattr(slot, "active", ()))
            downloading += len(getattr(getattr(engine, "downloader", None), "active", ()))
        return {"scraping_bytes": size, "scraping": scraping, "downloading": downloading}

    @staticmethod
    def settle() -> dict[str, Any]:
        """Before a mark is read: a full collection and the free heap back to the system;
        then what the crawl process holds (C heap, SQLite, responses in flight, objects and,
        when traced, where Python's allocations grew since the previous mark)."""
        gc.collect()
        if Probe._trim is not None:
            Probe._trim()
        found: dict[str, Any] = {**native_heap(), **pymalloc(), **Probe.in_flight()}
        objects = object_counts()
        found["objects"] = sum(objects.values())
        if Probe._objects is not None:
            change = Counter(objects)
            change.subtract(Probe._objects)
            found["objects_growth"] = dict(sorted(change.items(), key=lambda kv: -abs(kv[1]))[:20])
        Probe._objects = objects
        if tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]
            )
            found["traced_bytes"] = tracemalloc.get_traced_memory()[0]
            if Probe._snapshot is not None:
                top = snapshot.compare_to(Probe._snapshot, "traceback")[:20]
                found["traced_growth"] = [
                    {"kb": round(d.size_diff / 1024, 1), "count": d.count_diff,
                     "traceback": [f"{f.filename}:{f.lineno}" for f in d.traceback]}
                    for d in top
                ]  # fmt: skip
            Probe._snapshot = snapshot
        return found

    @staticmethod
    def sample(final: bool = False) -> None:
        done = Probe.responses()
        detail: dict[str, Any] = {}
        if final or (Probe.marks and done >= Probe.marks[0]):
            # a mark (or the end) is read settled: no garbage, no free heap kept; the RSS
            # just before shows what waited for the next collection and trim
            unsettled = proc_status()["VmRSS"]
            detail = {"unsettled_rss_kb": unsettled, **Probe.settle()}
        status = proc_status()
        procs = processes()
        status["AllRss"] = sum(p.get("Rss", 0) for p in procs)
        status["AllPss"] = sum(p.get("Pss", 0) for p in procs)
        for key in Probe.peaks:
            Probe.peaks[key] = max(Probe.peaks[key], status.get(key, 0))
        for p in procs:
            peak = Probe.process_peaks.setdefault(f"{p['role']} {p['pid']}", {})
            for key in ("Rss", "Pss"):
                peak[key] = max(peak.get(key, 0), p.get(key, 0))
        while Probe.marks and done >= Probe.marks[0]:
            record = Probe._record(Probe.marks.pop(0), done, status, procs)
            Probe.samples.append({**record, **detail})
        if final:
            Probe.samples.append({**Probe._record("end", done, status, procs), **detail})

    @staticmethod
    def _record(
        mark: int | str, done: int, status: dict[str, int], procs: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {"mark": mark, "responses": done, "rss_kb": status["VmRSS"],
                "all_rss_kb": status.get("AllRss", 0), "all_pss_kb": status.get("AllPss", 0),
                "processes": procs,
                "hwm_kb": status["VmHWM"], "anon_kb": status.get("RssAnon", 0),
                "file_kb": status.get("RssFile", 0), **Probe.state_bytes(),
                "t_s": time.perf_counter() - (Probe.opened or 0)}  # fmt: skip

    @staticmethod
    def report() -> dict[str, Any]:
        def total(key: str) -> int:
            return sum(int(c.stats.get_value(key, 0)) for c in Probe.crawlers
                       if c.stats is not None)  # fmt: skip

        seconds = (Probe.closed or time.perf_counter()) - (Probe.opened or 0)
        responses = total("downloader/response_count")
        return {
            "seconds": seconds,
            "responses": responses,
            "requests": total("downloader/request_count"),
            "items": total("item_scraped_count"),
            "pages_per_s": responses / seconds if seconds else 0.0,
            "reactor_cpu_s": Probe.cpu["reactor"],
            "process_cpu_s": Probe.cpu["process"],
            "samples": Probe.samples,
            "peak_rss_kb": proc_status()["VmHWM"],
            "peak_anon_kb": Probe.peaks["RssAnon"],
            "peak_file_kb": Probe.peaks["RssFile"],
            # sampled: the crawl process and its descendants together; RSS counts a
            # shared page in each process, PSS divides it among them
            "peak_all_rss_kb": Probe.peaks["AllRss"],
            "peak_all_pss_kb": Probe.peaks["AllPss"],
            "process_peaks_kb": Probe.process_peaks,
        }


class BareSpider(scrapy.Spider):
    """The baseline: the site's listing and feed links, title + date + body with parsel."""

    name = "bare"
    site_def: SiteDefinition
    allowed_domains: list[str]
    title_q: str
    date_q: str
    body_q: str

    def __init__(self, site: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.site_id = site
        self.listing_pages: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> BareSpider:
        spider = cast(BareSpider, super().from_crawler(crawler, *args, **kwargs))
        site = spider.site_def = load_site_for(crawler, spider.site_id)
        spider.allowed_domains = list(site.allowed_domains)
        # the same per-site politeness as the news spider
        settings = crawler.settings
        settings.set("DOWNLOAD_DELAY", site.politeness.delay, priority="spider")
        settings.set(
            "CONCURRENT_REQUESTS_PER_DOMAIN", site.politeness.concurrency, priority="spider"
        )
        settings.set("AUTOTHROTTLE_ENABLED", site.politeness.autothrottle, priority="spider")
        settings.set("AUTOTHROTTLE_START_DELAY", max(site.politeness.delay, 0.1), "spider")
        sel = site.selectors
        spider.title_q = sel.title or "h1"
        spider.date_q = sel.published or "meta[property='article:published_time']::attr(content)"
        spider.body_q = sel.body or "article, body"
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for url in self.site_def.start_urls["listings"]:
            yield scrapy.Request(url, self.parse_listing, cb_kwargs={"source": url},
                                 dont_filter=True)  # fmt: skip
        for url in self.site_def.start_urls["feeds"]:
            yield scrapy.Request(url, self.parse_feed, dont_filter=True)

    def parse_listing(self, response: Response, source: str) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            return
        self.listing_pages[source] = self.listing_pages.get(source, 0) + 1
        site, base = self.site_def, self.site_def.base_url
        seen: set[str] = set()
        for href in response.css("a::attr(href)").getall():
            url = urldefrag(urljoin(response.url, href.strip()))[0]
            if url in seen or not site.in_scope(url):
                continue
            seen.add(url)
            if site.is_article(url):
                yield scrapy.Request(url, self.parse_article)
            elif (
                site.is_listing(url)
                and section_from_url(url, base) == section_from_url(source, base)
                and self.listing_pages[source] < site.links.max_listing_pages
            ):
                yield scrapy.Request(url, self.parse_listing, cb_kwargs={"source": source})

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            return
        sel = scrapy.Selector(response=response, type="xml")
        sel.remove_namespaces()
        for link in sel.xpath("//item/link/text() | //entry/link/@href").getall():
            url = urldefrag(urljoin(response.url, link.strip()))[0]
            if self.site_def.in_scope(url) and self.site_def.is_article(url):
                yield scrapy.Request(url, self.parse_article)

    def _first(self, response: TextResponse, query: str) -> str:
        found = response.xpath(query[6:]) if query.startswith("xpath:") else response.css(query)
        return found.xpath("string()").get("") if found else ""

    def parse_article(self, response: Response) -> Iterator[dict[str, str]]:
        if not isinstance(response, TextResponse):
            return
        yield {
            "url": response.url,
            "title": self._first(response, self.title_q).strip(),
            "date": self._first(response, self.date_q).strip(),
            "body": self._first(response, self.body_q).strip(),
        }


def _bare(site_ids: list[str], overrides: dict[str, Any]) -> None:
    settings = project_settings({**overrides, "ITEM_PIPELINES": {}})
    process = CrawlerProcess(settings)
    for site_id in site_ids:
        process.crawl(process.create_crawler(BareSpider), site=site_id)
    process.start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("kind", choices=("ours", "bare"))
    parser.add_argument("sites", nargs="+")
    parser.add_argument("--sites-dir", required=True)
    parser.add_argument("--db", default=":memory:", help="the store (ours)")
    parser.add_argument("--full", action="store_true", help="incremental off (ours)")
    parser.add_argument("--marks", type=int, nargs="*", default=[])
    parser.add_argument("-s", "--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the crawl here")
    args = parser.parse_args(argv)
    # run as ``python -m``, this module is ``__main__``: Scrapy loads the extension
    # from ``benchmarks.crawlproc``, a second copy with its own class attributes
    probe: type[Probe] = importlib.import_module("benchmarks.crawlproc").Probe
    probe.marks = sorted(args.marks)
    overrides: dict[str, Any] = {
        "AGGREGATOR_SITES_DIRS": args.sites_dir,
        "AGGREGATOR_DB": args.db,
        "AGGREGATOR_FULL_CRAWL": args.full or args.kind == "bare",
        "LOG_LEVEL": "WARNING",
        "EXTENSIONS": {**project_settings().getdict("EXTENSIONS"), PROBE: 0},
    }
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = value
    summaries: dict[str, Any] = {}
    # CPU time of the reactor's thread: waits (and other processes on a loaded machine) do not count
    profiler = cProfile.Profile(time.thread_time) if args.profile else None
    if profiler is not None:
        profiler.enable()
    if args.kind == "ours":
        summaries = crawl_sites(args.sites, overrides)
    else:
        _bare(args.sites, overrides)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    result = {"kind": args.kind, **probe.report(), "sites": summaries}
    text = json.dumps(result, default=str)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
