"""Full feed build (every feed in every format, OPML, index) from stores of 10k to 1M.

    python -m benchmarks.bench_feeds [--sizes 10000 100000 1000000] [--runs 3] [--limit 50]

For each size a store is filled directly (article rows and their category rows, in
bulk transactions, no dedup keys) with synthetic articles from the sample web's
ground-truth sentences (:class:`benchmarks.bench_dedup.Corpus`): 10 newspapers, 12
categories (one or two an article), 350-600 words as paragraphs, a lead image, and
one article in 20 a copy of an earlier one on another newspaper (so originals list
their copies). The newest ``block`` (10,000) articles are written one by one through
the store; older ones are copies of that block made in SQL (``INSERT ... SELECT``,
secondary indexes dropped and rebuilt), each copy with new ids and URLs, published
``block`` x 7 minutes earlier than the one before, and its body cut to its first 400
characters (a 1M store is 2.4 GB instead of 8 GB, and fills in about 40 s instead of
three minutes; the build reads only the newest 50 articles of each feed, all in the
first block). Then :func:`build_feeds` writes everything into a fresh folder,
``runs`` times (figure: the median, with min and max), and once more into the same
folder (nothing changes: the cost of a rebuild with no new article). ``reads`` is
the store queries of one build alone (the same calls, no rendering). Reported: the
figures per size and the growth from the smallest to the largest size (target: at
most 2x), and the full build at 100k (target: within 2 s).
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

from aggregator.items import Article, article_id
from aggregator.publish.feeds import SiteInfo, build_feeds
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


def replicate(store: SQLiteStore, block: int, size: int) -> None:
    """Grow a store of ``block`` articles to ``size`` with older copies of them, in SQL.

    Copy ``k`` gets ids ``z<k>...`` (never a hex id), URLs prefixed with ``r<k>.``,
    publication times ``k * block * 7`` minutes earlier, and bodies cut to 400
    characters. Secondary indexes are dropped during the copy and rebuilt after it.
    """
    conn = store.conn
    columns = [r[1] for r in conn.execute("PRAGMA table_info(articles)")]
    category_rows = conn.execute("SELECT MAX(rowid) FROM article_categories").fetchone()[0]
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('articles', 'article_categories')"
    ).fetchall()
    conn.execute("PRAGMA synchronous=OFF")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    for k in range(1, size // block):
        shift = k * block * 7 * 60
        expr = {c: c for c in columns}
        expr.update(
            id=f"'z{k:03d}' || substr(id, 5)",
            canonical_url=f"'r{k}.' || canonical_url",
            url=f"'r{k}.' || url",
            published_ts=f"published_ts - {shift}",
            body_text="substr(body_text, 1, 400)",
            body_html="'<p>' || substr(body_text, 1, 400) || '</p>'",
            duplicate_of=f"CASE WHEN duplicate_of IS NULL THEN NULL "
            f"ELSE 'z{k:03d}' || substr(duplicate_of, 5) END",
        )
        conn.execute("BEGIN")
        conn.execute(
            f"INSERT INTO articles ({', '.join(columns)}) "
            f"SELECT {', '.join(expr[c] for c in columns)} FROM articles WHERE rowid <= {block}"
        )
        conn.execute(
            "INSERT INTO article_categories (article_id, category, published_ts) "
            f"SELECT 'z{k:03d}' || substr(article_id, 5), category, published_ts - {shift} "
            f"FROM article_categories WHERE rowid <= {category_rows}"
        )
        conn.execute("COMMIT")
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("PRAGMA synchronous=NORMAL")
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
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--block", type=int, default=10_000, help="articles written one by one")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--output", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"limit": args.limit, "block": args.block, "sizes": {}}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for size in args.sizes:
            path = tmp / f"store-{size}.db"
            with SQLiteStore(path) as store:
                block = min(size, args.block)
                fill_s = timed(lambda: fill(store, Corpus(seed=size), block))  # noqa: B023
                if size > block:
                    fill_s += timed(lambda: replicate(store, block, size))  # noqa: B023
                figures = measure(store, tmp / f"out-{size}", args.runs, args.limit)
            figures["fill_s"] = fill_s
            figures["store_mb"] = (
                sum(p.stat().st_size for p in tmp.glob(f"store-{size}.db*")) / 2**20
            )
            results["sizes"][size] = figures
            print(f"{size:>7} stored: {json.dumps(figures)}", flush=True)
            for p in tmp.glob(f"store-{size}.db*"):
                p.unlink()
    sizes = sorted(results["sizes"])
    if len(sizes) >= 2:
        small, large = results["sizes"][sizes[0]], results["sizes"][sizes[-1]]
        for key in ("build", "rebuild_unchanged", "reads"):
            results[f"growth_{key}"] = large[key]["median_s"] / small[key]["median_s"]
        results["growth_sizes"] = [sizes[0], sizes[-1]]
    print(json.dumps(results, indent=1))
    if args.output:
        args.output.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
