"""End-to-end crawl against a bare Scrapy spider, incremental recrawl, crawl memory.

    python -m benchmarks.bench_crawl [--articles 5000] [--runs 3] [--jobs 2] \
        [--reextract-runs 3] [--memory-articles 17500] [--memory-runs 1] [--output FILE]

A generated sample web (:mod:`benchmarks.bigweb`: the bundled articles plus
``articles`` generated ones, four newspapers) is served by its own process. Every
crawl runs in a process of its own (:mod:`benchmarks.crawlproc`), one crawler per
newspaper, the project's settings and each site's politeness (4 connections, no
delay), incremental crawling off and a fresh store:

1. **End-to-end** (``runs`` times, alternating): ``ours`` (``crawl_sites``: extract,
   normalize, fingerprint in ``jobs`` worker processes, dedup and store in batches; one
   extra run with no worker for comparison) against ``bare`` (the same links, title + date + body
   with parsel, no pipeline). Pages/s is responses over the time from the first
   spider opened to the last one closed; CPU per page is the crawl process's user +
   system time over its responses. The first of ours' stores is scored against the
   ground truth (:func:`sampleweb.evaluate.evaluate`).
2. **Incremental recrawl**: after each of ours' crawls, the same store crawls the
   unchanged web again with incremental crawling on; figure: its requests as a
   share of the first crawl's.
3. **Re-extraction**: one more crawl of ours archives the web as WARC; ``aggregator
   reextract`` of those files into a fresh store then runs with 1 and 2 worker processes
   (``reextract_runs`` times each, alternating). Figure: article pages/s, 2 jobs over 1.
4. **Memory**: a larger web (``memory-articles``, about 20,000 pages), crawled by
   ours ``memory-runs`` times with RSS and the bounded sets (:data:`SETS`) recorded at
   5k, 10k, 15k and 20k responses, each mark read after a full garbage collection and
   ``malloc_trim`` (see :mod:`benchmarks.crawlproc`), and the peak RSS (VmHWM). All
   processes (the crawl, its fork server, workers and resource tracker) are sampled every
   0.2 s: the peak of their summed PSS (a page shared after the fork counted once: the
   figure against the target), of their summed RSS (shared pages counted in each) and each
   one's own peaks. The growth from the 10k to the 20k mark, per run: the crawl process's
   RSS less the sets' growth ("beyond the sets"), and the processes' PSS, the workers
   (each replaced after a number of pages) apart.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aggregator.store import SQLiteStore
from benchmarks.bigweb import article_urls, generate
from sampleweb.evaluate import evaluate

ROOT = Path(__file__).resolve().parent.parent
SITES = ["baden", "caonguyen", "songcau", "tamdao"]
MARKS = [5_000, 10_000, 15_000, 20_000]
RUN_CRAWLPROC = "from benchmarks.crawlproc import main; raise SystemExit(main())"


class Server:
    """``python -m benchmarks.bigweb`` in a subprocess."""

    def __init__(self, articles: int, sites_dir: Path, seed: int) -> None:
        self.articles, self.seed = articles, seed
        self.sites_dir = sites_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bigweb", "--articles", str(articles),
             "--seed", str(seed), "--write-sites", str(sites_dir)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        line = ""
        while not line.startswith("ready"):
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the sample web server stopped")
        _, pages, total, self.startup = line.split()
        self.pages, self.total = int(pages), int(total)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@contextmanager
def serving(articles: int, sites_dir: Path, seed: int) -> Iterator[Server]:
    server = Server(articles, sites_dir, seed)
    try:
        yield server
    finally:
        server.stop()


def crawl(kind: str, sites_dir: Path, db: Path | None, out: Path, *extra: str) -> dict[str, Any]:
    """One crawl in its own process; its report plus the process's CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # not ``-m benchmarks.crawlproc``: multiprocessing makes each worker import the main
    # module by name (Scrapy with it, ~20 MB a worker), which ``aggregator crawl``'s workers
    # do not (``python -m aggregator`` is skipped, the console script imports the light CLI)
    command = [sys.executable, "-c", RUN_CRAWLPROC, kind, *SITES,
               "--sites-dir", str(sites_dir), "--output", str(out), *extra]  # fmt: skip
    if db is not None:
        command += ["--db", str(db)]
    subprocess.run(command, cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    report["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report["cpu_ms_per_page"] = report["cpu_s"] / max(report["responses"], 1) * 1000
    return report


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _brief(r: dict[str, Any]) -> dict[str, Any]:
    keys = ("seconds", "responses", "requests", "items", "pages_per_s", "cpu_s",
            "cpu_ms_per_page", "peak_rss_kb")  # fmt: skip
    return {k: r[k] for k in keys}


def end_to_end(
    tmp: Path, articles: int, runs: int, seed: int, jobs: int, reextract_runs: int
) -> dict[str, Any]:
    sites = tmp / "sites"
    workers = f"AGGREGATOR_JOBS={jobs}"
    ours: list[dict[str, Any]] = []
    bare: list[dict[str, Any]] = []
    again: list[dict[str, Any]] = []
    quality: dict[str, Any] = {}
    with serving(articles, sites, seed) as server:
        print(f"web: {server.url} {server.total} articles, {server.pages} pages "
              f"(rendered in {server.startup})", flush=True)  # fmt: skip
        for run in range(runs):
            db = tmp / f"ours-{run}.db"
            first = crawl("ours", sites, db, tmp / "o.json", "--full", "-s", workers)
            ours.append(first)
            recrawl = crawl("ours", sites, db, tmp / "i.json", "-s", workers)
            recrawl["share"] = recrawl["requests"] / first["requests"]
            again.append(recrawl)
            bare.append(crawl("bare", sites, None, tmp / "b.json"))
            print(f"run {run + 1}: ours {first['pages_per_s']:.1f} pages/s, bare "
                  f"{bare[-1]['pages_per_s']:.1f}, recrawl {recrawl['requests']} requests "
                  f"({recrawl['share']:.2%})", flush=True)  # fmt: skip
            if run == 0:
                quality = score(db, server.url, articles, seed)
                print(f"ours vs ground truth: {quality['summary']}", flush=True)
        in_process = crawl("ours", sites, tmp / "jobs0.db", tmp / "z.json", "--full",
                           "-s", "AGGREGATOR_JOBS=0")  # fmt: skip
        print(f"ours with no worker: {in_process['pages_per_s']:.1f} pages/s", flush=True)
        rebuilt = reextraction(tmp, sites, reextract_runs, jobs) if reextract_runs else {}
    ratio = statistics.median(o["pages_per_s"] for o in ours) / statistics.median(
        b["pages_per_s"] for b in bare
    )
    return {
        "articles": server.total,
        "pages_served": server.pages,
        "jobs": jobs,
        "ours_no_worker": _brief(in_process),
        "reextract": rebuilt,
        "ours_pages_per_s": _spread([o["pages_per_s"] for o in ours]),
        "bare_pages_per_s": _spread([b["pages_per_s"] for b in bare]),
        "ratio": ratio,
        "ratio_per_run": [
            o["pages_per_s"] / b["pages_per_s"] for o, b in zip(ours, bare, strict=True)
        ],
        "ours_cpu_ms_per_page": _spread([o["cpu_ms_per_page"] for o in ours]),
        "bare_cpu_ms_per_page": _spread([b["cpu_ms_per_page"] for b in bare]),
        "ours_runs": [_brief(o) for o in ours],
        "bare_runs": [_brief(b) for b in bare],
        "quality": quality,
        "incremental": {
            "share": _spread([r["share"] for r in again]),
            "requests": [r["requests"] for r in again],
            "first_requests": [o["requests"] for o in ours],
            "statuses": [{s: v.get("statuses", {}) for s, v in r["sites"].items()} for r in again],
            "incremental_stats": [
                {s: v.get("incremental", {}) for s, v in r["sites"].items()} for r in again
            ],
        },
    }


def reextraction(tmp: Path, sites: Path, runs: int, jobs: int) -> dict[str, Any]:
    """Archive one crawl as WARC, then re-extract it with 1 and ``jobs`` workers."""
    warc = tmp / "warc"
    crawl("ours", sites, tmp / "archived.db", tmp / "w.json", "--full",
          "-s", f"AGGREGATOR_WARC_DIR={warc}", "-s", f"AGGREGATOR_JOBS={jobs}")  # fmt: skip
    rates: dict[int, list[float]] = {1: [], jobs: []}
    pages = 0
    for run in range(runs):
        for n in rates:
            db = tmp / f"rebuilt-{n}-{run}.db"
            start = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "aggregator.app.cli", "reextract", "--warc", str(warc),
                 "--db", str(db), "--sites-dir", str(sites), "--jobs", str(n)],
                cwd=ROOT, check=True, capture_output=True, text=True,
                env={**os.environ, "AGGREGATOR_SITES_DIRS": ""},
            )  # fmt: skip
            seconds = time.perf_counter() - start
            pages = int(result.stdout.split()[0])
            rates[n].append(pages / seconds)
            db.unlink()
        print(f"reextract run {run + 1}: " + ", ".join(
            f"{n} jobs {r[-1]:.1f} pages/s" for n, r in rates.items()), flush=True)  # fmt: skip
    return {
        "pages": pages,
        "jobs": jobs,
        "pages_per_s": {str(n): _spread(r) for n, r in rates.items()},
        "ratio": statistics.median(rates[jobs]) / statistics.median(rates[1]),
        "ratio_per_run": [b / a for a, b in zip(rates[1], rates[jobs], strict=True)],
    }


def score(db: Path, origin: str, articles: int, seed: int) -> dict[str, Any]:
    truth = [a for site in generate(articles, seed).values() for a in site]
    with SQLiteStore(db) as store:
        stored = list(store.articles())
    ev = evaluate(truth, stored, lambda a: article_urls(origin, a))
    return {
        "expected": ev.expected, "found": ev.found, "extra": len(ev.extra),
        "title_exact": ev.share("title"), "published_exact": ev.share("published"),
        "body_f1": ev.mean_body_f1, "duplicates_found": ev.copies_found,
        "duplicates_expected": ev.copies_expected, "false_merges": len(ev.false_merges),
        "summary": ev.summary(),
    }  # fmt: skip


def memory(tmp: Path, articles: int, runs: int, seed: int) -> dict[str, Any]:
    sites = tmp / "sites-memory"
    reports = []
    with serving(articles, sites, seed) as server:
        print(f"memory web: {server.total} articles, {server.pages} pages", flush=True)
        for run in range(runs):
            db = tmp / f"memory-{run}.db"
            at_marks = [str(m) for m in MARKS]
            report = crawl("ours", sites, db, tmp / "m.json", "--full", "--marks", *at_marks)
            reports.append(report)
            db.unlink()
            print(f"memory run {run + 1}: {report['responses']} pages, peak RSS "
                  f"{report['peak_rss_kb'] / 1024:.0f} MB, all processes' PSS "
                  f"{report.get('peak_all_pss_kb', 0) / 1024:.0f} MB", flush=True)  # fmt: skip
    at = {s["mark"]: s for s in reports[0]["samples"]}
    result: dict[str, Any] = {
        "articles": server.total,
        "pages_served": server.pages,
        "responses": [r["responses"] for r in reports],
        "peak_rss_mb": _spread([r["peak_rss_kb"] / 1024 for r in reports]),
        "peak_all_rss_mb": _spread([r.get("peak_all_rss_kb", 0) / 1024 for r in reports]),
        # the target's figure: shared pages counted once
        "peak_all_pss_mb": _spread([r.get("peak_all_pss_kb", 0) / 1024 for r in reports]),
        "process_peaks_mb": [_by_role(r.get("process_peaks_kb", {})) for r in reports],
        # anonymous memory (Python, lxml, SQLite's page caches) and file pages (SQLite's mmap)
        "peak_anon_mb": _spread([r["peak_anon_kb"] / 1024 for r in reports]),
        "peak_file_mb": _spread([r["peak_file_kb"] / 1024 for r in reports]),
        "pages_per_s": _spread([r["pages_per_s"] for r in reports]),
        "samples": [r["samples"] for r in reports],
    }
    if 10_000 in at and 20_000 in at:
        growth = [_growth(r, 10_000, 20_000) for r in reports]
        result["growth_10k_20k"] = growth
    return result


#: the sets a crawl fills by design, each bounded (by the site's URLs, or a cap), measured
#: at each mark in bytes: request fingerprints (dupefilters), the dedup pipeline's URL set,
#: the dedup word-hash cache, the site definitions' URL caches, the spiders' URL sets
SETS = {
    "fingerprints_mb": "fingerprint_bytes",
    "seen_urls_mb": "seen_url_bytes",
    "word_cache_mb": "word_cache_bytes",
    "url_caches_mb": "url_cache_bytes",
    "spider_urls_mb": "spider_url_bytes",
}


def _growth(report: dict[str, Any], low_mark: int, high_mark: int) -> dict[str, Any]:
    """Memory growth between two marks of one run (MB): the crawl process's RSS (read after
    a full collection and a heap trim; also as read just before), each bounded set, and what
    is left beyond them; the C heap, Python's allocator and SQLite's heap; the processes'
    PSS, the workers apart (each replaced after a number of pages: its growth is bounded by
    its lifetime, and which part of it a mark meets is chance)."""
    by_mark = {s["mark"]: s for s in report["samples"]}
    low, high = by_mark[low_mark], by_mark[high_mark]

    def mb(key: str, scale: int = 1) -> float:
        return (high.get(key, 0) - low.get(key, 0)) * scale / 2**20

    sets = {name: mb(key) for name, key in SETS.items()}
    rss = mb("rss_kb", 1024)
    workers = _pss_sum(high, "worker") - _pss_sum(low, "worker")
    everywhere = mb("all_pss_kb", 1024)
    found: dict[str, Any] = {
        "rss_mb": rss,
        "unsettled_rss_mb": mb("unsettled_rss_kb", 1024) if "unsettled_rss_kb" in low else None,
        **sets,
        "sets_mb": sum(sets.values()),
        "beyond_sets_mb": rss - sum(sets.values()),
        "word_cache_words": [low.get("word_cache_words"), high.get("word_cache_words")],
        "pending_requests": [low.get("pending_requests"), high.get("pending_requests")],
        "in_flight_mb": mb("scraping_bytes"),
        "heap_used_mb": mb("heap_used"),
        "pymalloc_used_mb": mb("pymalloc_used"),
        "sqlite_used_mb": mb("sqlite_used"),
        "all_pss_mb": everywhere,
        "workers_pss_mb": workers / 1024,
        # the crawl process, the fork server, the resource tracker
        "others_pss_mb": everywhere - workers / 1024,
        "others_beyond_sets_mb": everywhere - workers / 1024 - sum(sets.values()),
        # each process's PSS growth; a worker replaced in between has none
        "pss_by_process_mb": _pss_growth(low, high),
    }
    return found


def _pss_sum(sample: dict[str, Any], role: str) -> int:
    """The summed PSS (KiB) of the processes of one role at a mark."""
    return sum(p.get("Pss", 0) for p in sample.get("processes", []) if p["role"] == role)


def _by_role(peaks: dict[str, dict[str, int]]) -> dict[str, dict[str, float]]:
    """Per-process peaks ("role pid" -> KiB) in MB, workers numbered in start order."""
    found: dict[str, dict[str, float]] = {}
    workers = 0
    for name, values in sorted(peaks.items(), key=lambda kv: int(kv[0].split()[-1])):
        role = name.split()[0]
        if role == "worker":
            workers += 1
            role = f"worker {workers}"
        found[role] = {k.lower() + "_mb": round(v / 1024, 1) for k, v in values.items()}
    return found


def _pss_growth(low: dict[str, Any], high: dict[str, Any]) -> dict[str, float]:
    """PSS growth (MB) of each process seen at both marks, by role and pid."""
    before = {(p["role"], p["pid"]): p.get("Pss", 0) for p in low.get("processes", [])}
    return {
        f"{p['role']} {p['pid']}": round(
            (p.get("Pss", 0) - before[(p["role"], p["pid"])]) / 1024, 1
        )
        for p in high.get("processes", [])
        if (p["role"], p["pid"]) in before
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes of ours")
    parser.add_argument("--reextract-runs", type=int, default=3)
    parser.add_argument("--memory-articles", type=int, default=18_800)
    parser.add_argument("--memory-runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--skip", nargs="*", default=[], choices=("e2e", "memory"))
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"cpus": os.cpu_count()}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as name:
        tmp = Path(name)
        if "e2e" not in args.skip:
            results["end_to_end"] = end_to_end(
                tmp, args.articles, args.runs, args.seed, args.jobs, args.reextract_runs
            )
        if "memory" not in args.skip and args.memory_runs > 0:
            results["memory"] = memory(tmp, args.memory_articles, args.memory_runs, args.seed)
    results["seconds"] = time.perf_counter() - t0
    text = json.dumps(results, indent=1, default=str)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
