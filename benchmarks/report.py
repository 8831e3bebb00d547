"""Write the summary table of ``benchmarks/RESULTS.md`` from ``benchmarks/results/*.json``.

    python -m benchmarks.report [--results DIR] [--markdown FILE]

The table sits between two HTML comments (``<!-- summary:start -->`` and
``<!-- summary:end -->``); everything else in the file (methods, profiles, the
before/after history) is left as it is. Without the comments the table is inserted
before the first section.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

HERE = Path(__file__).resolve().parent
START, END = "<!-- summary:start -->", "<!-- summary:end -->"

Row = tuple[str, str, str, str, str, str]


def _load(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _met(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def _range(d: dict[str, float], fmt: str, unit: str = "") -> str:
    return f"{d['median']:{fmt}}{unit} ({d['min']:{fmt}}-{d['max']:{fmt}})"


def crawl_rows(crawl: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    e2e = crawl.get("end_to_end")
    if e2e:
        ratio = e2e["ratio"]
        runs = len(e2e["ours_runs"])
        pages = e2e["ours_runs"][0]["responses"]
        jobs = e2e.get("jobs")
        alone = e2e.get("ours_no_worker")
        rows.append((
            f"1. End-to-end crawl, {pages:,} pages ({e2e['articles']:,} articles, 4 sites), "
            f"median of {runs}",
            f"`aggregator crawl`{f' --jobs {jobs}' if jobs is not None else ''}: "
            f"{_range(e2e['ours_pages_per_s'], '.0f')} pages/s; "
            f"CPU {e2e['ours_cpu_ms_per_page']['median']:.1f} ms/page"
            + (f" (--jobs 0, 1 run: {alone['pages_per_s']:.0f} pages/s)" if alone else ""),
            f"bare Scrapy + parsel: {_range(e2e['bare_pages_per_s'], '.0f')} pages/s; "
            f"CPU {e2e['bare_cpu_ms_per_page']['median']:.1f} ms/page",
            f"{ratio:.2f}", "≥ 1.0", _met(ratio >= 1.0),
        ))  # fmt: skip
        rx = e2e.get("reextract")
        if rx:
            two, one = rx["pages_per_s"][str(rx["jobs"])], rx["pages_per_s"]["1"]
            rows.append((
                f"1. `reextract` of the crawl's WARC, {rx['pages']:,} article pages, "
                f"median of {len(rx['ratio_per_run'])}",
                f"--jobs {rx['jobs']}: {_range(two, '.0f')} pages/s",
                f"--jobs 1: {_range(one, '.0f')} pages/s",
                f"{rx['ratio']:.2f}", "≥ 1.7", _met(rx["ratio"] >= 1.7),
            ))  # fmt: skip
        inc = e2e["incremental"]
        share = inc["share"]["median"]
        rows.append((
            "6. Incremental recrawl of the unchanged web",
            f"{sorted(inc['requests'])[len(inc['requests']) // 2]} requests",
            f"first crawl: {sorted(inc['first_requests'])[len(inc['first_requests']) // 2]:,} "
            "requests",
            f"{share:.2%}", "≤ 5%", _met(share <= 0.05),
        ))  # fmt: skip
    mem = crawl.get("memory")
    if mem:
        peak = mem["peak_rss_mb"]["median"]
        every = mem.get("peak_all_rss_mb")
        pss = mem.get("peak_all_pss_mb")
        if pss:  # all processes' PSS: a page shared after the fork counted once
            rows.append((
                f"7. Peak memory of a crawl of {max(mem['responses']):,} pages, all processes "
                f"({len(mem['responses'])} run{'s' if len(mem['responses']) > 1 else ''})",
                f"PSS summed {pss['median']:.0f} MB (RSS summed, shared pages counted in each: "
                f"{every['median']:.0f} MB); the crawl process's peak RSS {peak:.0f} MB",
                "-", "-", "≤ 300 MB, all processes", _met(pss["median"] <= 300),
            ))  # fmt: skip
        elif every:  # measured with the extraction workers
            rows.append((
                f"7. Peak RSS of a crawl of {max(mem['responses']):,} pages "
                f"({len(mem['responses'])} run{'s' if len(mem['responses']) > 1 else ''})",
                f"{peak:.0f} MB; with its workers (sampled, shared pages counted in each) "
                f"{every['median']:.0f} MB",
                "-", "-", "≤ 300 MB, all processes", _met(every["median"] <= 300),
            ))  # fmt: skip
        else:
            rows.append((
                f"7. Peak RSS of a crawl of {max(mem['responses']):,} pages "
                f"({len(mem['responses'])} run{'s' if len(mem['responses']) > 1 else ''})",
                f"{peak:.0f} MB", "-", "-", "≤ 400 MB", _met(peak <= 400),
            ))  # fmt: skip
        growth = mem.get("growth_10k_20k")
        if growth:
            rows.append(_growth_row(growth, mem))
    return rows


def _growth_row(growth: list[dict[str, Any]], mem: dict[str, Any]) -> Row:
    """The crawl process's RSS growth from the 10k to the 20k mark (each mark read after a
    full collection and a heap trim), the bounded sets' growth, and what is left beyond
    them: in each run (the median of several, with the range)."""
    if "sets_mb" not in growth[0]:  # measured before the marks were settled
        g = growth[0]
        return ("7. RSS growth from the 10k to the 20k mark", f"{g['rss_mb']:+.1f} MB",
                "-", f"{g['beyond_sets_mb']:+.1f} MB beyond the sets",
                "no growth beyond the sets (≤ 2 MB)", _met(g["beyond_sets_mb"] <= 2.0))  # fmt: skip

    def spread(key: str) -> str:
        values = [g[key] for g in growth]
        if len(values) == 1:
            return f"{values[0]:+.1f} MB"
        return f"{median(values):+.1f} MB ({min(values):+.1f} to {max(values):+.1f})"

    beyond = median(g["beyond_sets_mb"] for g in growth)
    others = median(g["others_beyond_sets_mb"] for g in growth)
    unsettled = [g["unsettled_rss_mb"] for g in growth if g.get("unsettled_rss_mb") is not None]
    runs = f"{len(growth)} run{'s' if len(growth) > 1 else ''}"
    return (
        f"7. RSS growth from the 10k to the 20k mark ({runs}; each mark read after a full "
        "garbage collection and malloc_trim)",
        f"crawl process {spread('rss_mb')}"
        + (f" (read just before: {spread('unsettled_rss_mb')})" if unsettled else "")
        + f"; all processes' PSS {spread('all_pss_mb')}, of which the workers "
        f"{spread('workers_pss_mb')}",
        f"bounded sets {spread('sets_mb')}: request fingerprints {spread('fingerprints_mb')}, "
        f"dedup URL set {spread('seen_urls_mb')}, dedup word cache {spread('word_cache_mb')}, "
        f"site URL caches {spread('url_caches_mb')}, spiders' URL sets "
        f"{spread('spider_urls_mb')}",
        f"{spread('beyond_sets_mb')} beyond the sets (crawl process); the crawl process, fork "
        f"server and resource tracker's PSS {spread('others_beyond_sets_mb')} beyond them",
        "no growth beyond the sets (≤ 2 MB)",
        _met(beyond <= 2.0)
        + f"; all processes but the workers {_met(others <= 2.0)}"
        # the workers' growth is bounded by their lifetime (replaced after N pages)
        + _worker_peaks(mem),
    )


def _worker_peaks(mem: dict[str, Any]) -> str:
    """The peak PSS of each worker process of the crawl, as a range: workers replaced
    after a number of pages each show one lifetime's growth."""
    peaks = [p["pss_mb"] for run in mem.get("process_peaks_mb", [])
             for role, p in run.items() if role.startswith("worker")]  # fmt: skip
    if len(peaks) <= 2:
        return ""
    return (
        f" (the workers, replaced as they go: peak PSS {min(peaks):.0f}-{max(peaks):.0f} MB"
        f" each over {len(peaks)} workers)"
    )


def extract_rows(ex: dict[str, Any]) -> list[Row]:
    e, g = ex["extraction"], ex["generic"]
    ours, traf, fast = e["ours"], e["trafilatura"], e["trafilatura_fast"]
    speed_ok, f1_ok = e["speedup"] >= 5, ours["body_f1"] >= traf["body_f1"]
    rows: list[Row] = [(
        f"2. Extraction per page ({ex['pages']} pages, 4 sites)",
        f"{ours['median_ms']:.2f} ms ({ours['min_ms']:.2f}-{ours['max_ms']:.2f}), "
        f"body F1 {ours['body_f1']:.3f}",
        f"`trafilatura.extract`: {traf['median_ms']:.2f} ms, F1 {traf['body_f1']:.3f} "
        f"(`fast=True`: {fast['median_ms']:.2f} ms)",
        f"{e['speedup']:.1f}× faster", "≥ 5× faster, F1 ≥ trafilatura's",
        f"speed {_met(speed_ok)}, F1 {_met(f1_ok)}",
    )]  # fmt: skip
    og, tg = g["ours_generic"], g["trafilatura"]
    rows.append((
        f"3. Generic layer: legacy site, no selectors ({g['pages']} pages)",
        f"{og['median_ms']:.2f} ms, body F1 {og['body_f1']:.3f}",
        f"`trafilatura.extract`: {tg['median_ms']:.2f} ms, F1 {tg['body_f1']:.3f}",
        f"{tg['median_ms'] / og['median_ms']:.2f}× the speed",
        "none set; F1 ≥ trafilatura's", _met(og["body_f1"] >= tg["body_f1"]),
    ))  # fmt: skip
    return rows


def realpages_rows(r: dict[str, Any]) -> list[Row]:
    """Zero-configuration extraction of real pages, per field, against trafilatura."""
    if "aggregator" not in r:
        return []
    ours, traf = r["aggregator"], r["trafilatura"]

    def fields(d: dict[str, Any]) -> str:
        return (
            f"title {d['title']:.0%}, published {d['published']:.0%}, authors "
            f"{d['authors']:.0%}, lead F1 {d['lead']:.3f}, body F1 {d['body']:.3f}"
        )

    at_least = all(ours[f] >= traf[f] for f in ("title", "published", "authors", "lead", "body"))
    return [(
        f"3. Real pages, zero-configuration definitions ({r['pages']} pages, 8 sites)",
        f"{fields(ours)}; {ours['median_ms']:.1f} ms/page",
        f"`trafilatura.bare_extraction` {r['trafilatura_version']}: {fields(traf)}; "
        f"{traf['median_ms']:.1f} ms/page",
        "-", "none set; each field ≥ trafilatura's", _met(at_least),
    )]  # fmt: skip


def dedup_rows(d: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    base = d["baseline_parsel_ms"]
    sizes = sorted(d["sizes"], key=int)
    for size in sizes:
        s = d["sizes"][size]
        rows.append((
            f"4. Normalize + dedup per article, {int(size):,} stored",
            f"{s['median_ms']:.2f} ms ({s['min_ms']:.2f}-{s['max_ms']:.2f}), "
            f"p95 {s['p95_ms']:.2f} ms"
            + (f"; CPU {s['cpu_median_ms']:.2f} ms, p95 {s['cpu_p95_ms']:.2f} ms"
               if "cpu_p95_ms" in s else ""),
            f"parsel parse + select of one page: {base:.2f} ms",
            f"{s['median_ms'] / base:.2f}", "≤ 1 ms", _met(s["median_ms"] <= 1.0),
        ))  # fmt: skip
    if "growth" in d:
        rows.append((
            f"4. Growth {int(sizes[0]):,} → {int(sizes[-1]):,} stored", f"{d['growth']:.2f}×",
            "-", "-", "≤ 1.5×", _met(d["growth"] <= 1.5),
        ))  # fmt: skip
    return rows


def feeds_rows(f: dict[str, Any]) -> list[Row]:
    sizes = sorted(f["sizes"], key=int)
    builds = " / ".join(f"{f['sizes'][s]['build']['median_s']:.2f}" for s in sizes)
    labels = " / ".join(f"{int(s) // 1_000_000}M" if int(s) >= 1_000_000 else f"{int(s) // 1000}k"
                        for s in sizes)  # fmt: skip
    rows: list[Row] = [(
        f"5. Full feed build ({f['sizes'][sizes[0]]['files']} files), {labels} stored",
        f"{builds} s",
        f"build at {int(sizes[0]):,}: {f['sizes'][sizes[0]]['build']['median_s']:.2f} s",
        f"growth {f.get('growth_build', 1.0):.2f}×", "growth ≤ 2× (10k → 1M)",
        _met(f.get("growth_build", 1.0) <= 2.0),
    )]  # fmt: skip
    if "100000" in f["sizes"]:
        b = f["sizes"]["100000"]["build"]
        rows.append((
            "5. Full feed build from 100k stored",
            f"{b['median_s']:.2f} s ({b['min_s']:.2f}-{b['max_s']:.2f})",
            "-", "-", "≤ 2 s", _met(b["median_s"] <= 2.0),
        ))  # fmt: skip
    return rows


def hostile_rows(h: dict[str, Any]) -> list[Row]:
    """A normal newspaper crawled beside a hostile one, against alone (bench_hostile)."""
    ratio = h["ratio"]["median"]
    return [(
        f"8. `{h['site']}` crawled beside a hostile newspaper (costly pages), "
        f"median of {h['runs']}",
        f"beside: {_range(h['beside_s'], '.1f', ' s')}",
        f"alone: {_range(h['alone_s'], '.1f', ' s')}",
        f"{ratio:.2f}", "about 1 (≤ 1.5)", _met(ratio <= 1.5),
    )]  # fmt: skip


def search_rows(s: dict[str, Any]) -> list[Row]:
    """Search feeds at 100k stored, and serve under polling readers (bench_search)."""
    rows: list[Row] = []
    for backend, name in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        f = s.get(backend)
        if not f or "all" not in f:
            continue
        a, base, st = f["all"], f["baseline_all_feed_ms"], f.get("store_search")
        rows.append((
            f"9. Search feed, {s['size']:,} stored, {name} ({a['n']} searches)",
            f"p95 {a['p95_ms']:.1f} ms (p50 {a['p50_ms']:.1f}, max {a['max_ms']:.1f})"
            + (f"; the store's search alone p95 {st['p95_ms']:.1f} ms" if st else ""),
            f"the `all` feed's read + render of 50 entries: {base:.1f} ms",
            f"{a['p95_ms'] / base:.2f}", "p95 ≤ 50 ms", _met(a["p95_ms"] <= 50),
        ))  # fmt: skip
    serve = s.get("serve")
    if serve:
        w, b = serve["with_search"], serve["static_only"]
        errors = sum(w["errors"].values())
        rows.append((
            f"9. `serve --db`, {w['readers']} readers polling with If-None-Match "
            f"({w['seconds']:.0f} s)",
            f"{w['requests']:,} requests ({w['status'].get('304', 0):,} × 304), "
            f"p99 {w['latency']['p99_ms']:.0f} ms, {errors} errors",
            f"static feeds only: {b['requests']:,} requests, "
            f"p99 {b['latency']['p99_ms']:.0f} ms, {sum(b['errors'].values())} errors",
            f"{w['latency']['p99_ms'] / b['latency']['p99_ms']:.2f}",
            "no errors; p99 reported", _met(errors == 0),
        ))  # fmt: skip
    return rows


def table(folder: Path) -> str:
    rows: list[Row] = []
    missing = []
    for name, make in (("crawl", crawl_rows), ("extract", extract_rows),
                       ("realpages", realpages_rows), ("dedup", dedup_rows),
                       ("feeds", feeds_rows), ("hostile", hostile_rows),
                       ("search", search_rows)):  # fmt: skip
        data = _load(folder, name)
        if data is None:
            missing.append(name)
        else:
            rows.extend(make(data))
    rows.sort(key=lambda r: r[0][:2])
    timing = _load(folder, "timing") or {}
    lines = [
        START,
        f"Last `make bench`: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python "
        f"{platform.python_version()}, {_cpus()} CPUs"
        + (f"; {sum(timing.values()) / 60:.1f} min in all (" + ", ".join(
            f"{k} {v:.0f} s" for k, v in timing.items()) + ")" if timing else "")
        + ". Medians of at least 3 runs (min-max), each against a baseline measured in "
        "the same run.",
        "",
        "| figure | measured | baseline (same run) | ratio | target | |",
        "|---|---|---|---|---|---|",
        *(f"| {' | '.join(r)} |" for r in rows),
    ]  # fmt: skip
    if missing:
        lines += ["", f"Not run: {', '.join(missing)}."]
    lines.append(END)
    return "\n".join(lines)


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def update(markdown: Path, block: str) -> None:
    text = markdown.read_text(encoding="utf-8") if markdown.exists() else "# Benchmark results\n"
    if START in text and END in text:
        text = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text,
                      flags=re.DOTALL)  # fmt: skip
    else:
        at = text.find("\n## ")
        text = (text + "\n" + block + "\n") if at < 0 else (
            text[: at + 1] + block + "\n" + text[at:])  # fmt: skip
    markdown.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    block = table(args.results)
    update(args.markdown, block)
    print(block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
