"""Full feed build (every feed in every format, OPML, index) from stores of 10k and 100k.

    python -m benchmarks.bench_feeds [--sizes 10000 100000] [--runs 3] [--limit 50]

For each size a store is filled directly (article rows and their category rows, in
bulk transactions, no dedup keys) with synthetic articles from the sample web's
ground-truth sentences (:class:`benchmarks.bench_dedup.Corpus`): 10 newspapers, 12
categories (one or two an article), 350-600 words as paragraphs, a lead image, and
one article in 20 a copy of an earlier one on another newspaper (so originals list
their copies). Then :func:`build_feeds` writes everything into a fresh folder,
``runs`` times (figure: the median, with min and max), and once more into the same
folder (nothing changes: the cost of a rebuild with no new article). ``reads`` is
the store queries of one build alone (the same calls, no rendering). Reported: the
figures per size and the 100k/10k ratio (target: at most 2x).
"""

from __future__ import annotations

import argparse
import html
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aggregator.feeds import SiteInfo, build_feeds
from aggregator.items import Article, article_id
from aggregator.store import SQLiteStore
from benchmarks.bench_dedup import Corpus

SITES = [f"bao-{i}" for i in range(10)]
CATEGORIES = [
    "thoi-su", "xay-dung-dang", "kinh-te", "xa-hoi", "van-hoa", "giao-duc", "y-te",
    "the-thao", "phap-luat", "quoc-phong-an-ninh", "nong-nghiep", "ban-doc",
]  # fmt: skip
COPY_EVERY = 20


def make_article(corpus: Corpus, n: int) -> Article:
    """Article ``n``: newest for n = 0, seven minutes older each step."""
    site = SITES[n % len(SITES)]
    url = f"https://{site}.example.vn/tin-tuc/bai-viet-so-{n}-{80000 + n}.html"
    body = corpus.body()
    first = CATEGORIES[corpus.rng.randrange(len(CATEGORIES))]
    categories = [first]
    if corpus.rng.random() < 0.3:
        categories.append(CATEGORIES[corpus.rng.randrange(len(CATEGORIES))])
    duplicate_of = None
    if n % COPY_EVERY == COPY_EVERY - 1:  # a copy of an older story on another site
        original = n + 1 + corpus.rng.randrange(5)
        if original % len(SITES) != n % len(SITES):
            duplicate_of = article_id(
                f"https://{SITES[original % len(SITES)]}.example.vn/tin-tuc/"
                f"bai-viet-so-{original}-{80000 + original}.html"
            )
    published = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(minutes=7 * n)
    return Article(
        url=url,
        canonical_url=url,
        id=article_id(url),
        site=site,
        site_name=f"Báo số {site[4:]}",
        province="Tỉnh",
        title=f"{corpus.rng.choice(corpus.titles)} ({n})",
        lead=corpus.rng.choice(corpus.sentences),
        body_text=body,
        body_html="".join(f"<p>{html.escape(p)}</p>" for p in body.split("\n")),
        authors=["Thanh Tuyền"],
        category=first,
        categories=list(dict.fromkeys(categories)),
        published=published,
        fetched_at=published + timedelta(minutes=30),
        image=f"/uploads/{n}.jpg",
        duplicate_of=duplicate_of,
    )


def fill(store: SQLiteStore, corpus: Corpus, size: int) -> None:
    """Write ``size`` article rows (and their category rows) in bulk transactions."""
    conn = store.conn
    for start in range(0, size, 5000):
        conn.execute("BEGIN")
        for n in range(start, min(size, start + 5000)):
            store._write(make_article(corpus, n), f"bulk-{n}", None)
        conn.execute("COMMIT")
    conn.execute("ANALYZE")


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def reads(store: SQLiteStore, limit: int) -> None:
    """The store queries of one build, without rendering."""
    list(store.articles(limit=limit, include_duplicates=False))
    for key, _ in store.categories():
        list(store.articles(categories=[key], limit=limit, include_duplicates=False))
    for site in SITES:
        list(store.articles(sites=[site], limit=limit, include_duplicates=True))


def _figure(values: list[float]) -> dict[str, float]:
    return {"median_s": statistics.median(values), "min_s": min(values), "max_s": max(values)}


def measure(store: SQLiteStore, tmp: Path, runs: int, limit: int) -> dict[str, Any]:
    sites = {s: SiteInfo(f"Báo số {s[4:]}", 30) for s in SITES}
    fresh, files = [], 0
    for run in range(runs):
        folder = tmp / f"feeds-{run}"
        report = None

        def build(folder: Path = folder) -> None:
            nonlocal report
            report = build_feeds(store, folder, limit=limit, sites=sites)

        fresh.append(timed(build))
        assert report is not None and not report.unchanged
        files = len(report.written)
    unchanged = [timed(lambda: build_feeds(store, tmp / "feeds-0", limit=limit, sites=sites))
                 for _ in range(runs)]  # fmt: skip
    query = [timed(lambda: reads(store, limit)) for _ in range(runs)]
    return {"build": _figure(fresh), "rebuild_unchanged": _figure(unchanged),
            "reads": _figure(query), "files": files}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--output", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"limit": args.limit, "sizes": {}}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for size in args.sizes:
            with SQLiteStore(tmp / f"store-{size}.db") as store:
                fill_s = timed(lambda: fill(store, Corpus(seed=size), size))  # noqa: B023
                figures = measure(store, tmp / f"out-{size}", args.runs, args.limit)
            figures["fill_s"] = fill_s
            results["sizes"][size] = figures
            print(f"{size:>7} stored: {json.dumps(figures)}", flush=True)
    sizes = sorted(results["sizes"])
    if len(sizes) >= 2:
        small, large = results["sizes"][sizes[0]], results["sizes"][sizes[-1]]
        for key in ("build", "rebuild_unchanged", "reads"):
            results[f"growth_{key}"] = large[key]["median_s"] / small[key]["median_s"]
    print(json.dumps(results, indent=1))
    if args.output:
        args.output.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
