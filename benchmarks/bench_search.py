"""Search feeds at 100k stored articles, and ``aggregator serve`` under 200 polling readers.

    python -m benchmarks.bench_search [--size 100000] [--queries 300] [--readers 200]
                                      [--seconds 20] [--no-postgresql]

A SQLite store is filled with synthetic articles from the sample web's ground-truth
sentences (:func:`benchmarks.bench_feeds.make_article`: 10 newspapers in 10 provinces, 12
categories, 350-600 words, one in 20 a copy): the newest ``block`` (10,000) are written
one by one through the store (folding and indexing included); older ones are copies of
that block made in SQL with new ids, older dates and the same words (full bodies: the
index is as large as real articles make it). The same rows are then copied into a
PostgreSQL server started for the run (tests/support/pgserver.py) and measured too
(``--no-postgresql``: not).

1. **Search feed**: ``queries`` different searches, each answered whole by
   :class:`~aggregator.publish.search.SearchFeeds` (store lookup, search, rendering to
   JSON Feed; never from its feed cache, entries prepared by earlier searches reused;
   ``cold``: the same with nothing prepared before): 1-2 words of a random title as
   typed (diacritics), the same with a site, category or province filter, and one of the
   20 most frequent words (the worst case: tens of thousands match, the newest 50 are
   kept); the store's search alone is timed inside each answer too (the rest is
   rendering). Figure: p50, p95 and the slowest, per kind and overall (target: p95 ≤
   50 ms); baseline: the static ``all`` feed's work for its 50 entries (read, prepare,
   render), same store, same run.
2. **Serve**: ``aggregator serve --db`` in a subprocess; ``readers`` clients on loopback
   (asyncio, one keep-alive connection each) poll for ``seconds``: each takes a search
   feed (20 searches in all) or a static feed, then asks again with ``If-None-Match``
   every 0-200 ms. Figures: requests, 200/304 answers, errors (refused or reset
   connections, timeouts, any other status) and the latency p50/p99/max of the whole
   exchange. Baseline: the same readers polling the static feeds only. The clients
   share the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aggregator.publish.feeds import SiteInfo, build_feeds
from aggregator.publish.feeds.entries import Entries
from aggregator.publish.feeds.feed import Feed
from aggregator.publish.feeds.jsonfeed import render_json
from aggregator.publish.search import SearchFeeds, parse_search
from aggregator.store import SQLiteStore, SQLStore, open_store
from aggregator.store.search import WORDS_KEY_STEP, words
from benchmarks.bench_dedup import Corpus
from benchmarks.bench_feeds import CATEGORIES, SITES, make_article

ROOT = Path(__file__).resolve().parent.parent
PROVINCES = ["Phú Thọ", "Tây Ninh", "Hà Nội", "Lào Cai", "Đồng Nai", "Huế", "Cà Mau",
             "Gia Lai", "Nghệ An", "Quảng Ninh"]  # fmt: skip
PROVINCE_KEYS = ["phutho", "tayninh", "hanoi", "laocai", "dongnai", "hue", "camau",
                 "gialai", "nghean", "quangninh"]  # fmt: skip


def fill(store: SQLiteStore, corpus: Corpus, block: int) -> None:
    conn = store.conn
    for start in range(0, block, 2000):
        conn.execute("BEGIN")
        for n in range(start, min(block, start + 2000)):
            article = make_article(corpus, n)
            article.province = PROVINCES[n % len(SITES)]
            store._write(article, f"bulk-{n}", None)
        conn.execute("COMMIT")


def replicate(store: SQLiteStore, block: int, size: int) -> None:
    """Older copies of the first ``block`` articles, with their categories and words."""
    conn = store.conn
    columns = [r[1] for r in conn.execute("PRAGMA table_info(articles)")]
    conn.execute("PRAGMA synchronous=OFF")
    for k in range(1, size // block):
        shift = k * block * 7 * 60
        expr = {c: c for c in columns}
        expr.update(
            id=f"'z{k:03d}' || substr(id, 5)",
            canonical_url=f"replace(canonical_url, 'https://', 'https://r{k}.')",
            url=f"replace(url, 'https://', 'https://r{k}.')",
            published_ts=f"published_ts - {shift}",
            published=f"strftime('%Y-%m-%dT%H:%M:%S+00:00', published_ts - {shift}, 'unixepoch')",
            duplicate_of="CASE WHEN duplicate_of IS NULL THEN NULL "
            f"ELSE 'z{k:03d}' || substr(duplicate_of, 5) END",
        )
        new_id = f"'z{k:03d}' || substr(article_id, 5)"
        conn.execute("BEGIN")
        conn.execute(
            f"INSERT INTO articles ({', '.join(columns)}) SELECT "
            f"{', '.join(expr[c] for c in columns)} FROM articles WHERE id NOT LIKE 'z%'"
        )
        conn.execute(
            "INSERT INTO article_categories (article_id, category, published_ts) "
            f"SELECT {new_id}, category, published_ts - {shift} FROM article_categories "
            "WHERE article_id NOT LIKE 'z%'"
        )
        conn.execute(  # keyed by the copy's publication second, as the store keys them
            "INSERT INTO article_words (key, article_id, province, words) "
            f"SELECT key - {shift * WORDS_KEY_STEP}, {new_id}, province, words "
            "FROM article_words WHERE article_id NOT LIKE 'z%'"
        )
        conn.execute("COMMIT")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("ANALYZE")


def copy_to_postgresql(source: SQLiteStore, url: str) -> None:
    """The same rows in PostgreSQL (its own search index built from the same words, the
    filters of each search row by the store's trigger)."""
    with open_store(url) as target:
        conn = target.conn
        columns = [r[1] for r in source.conn.execute("PRAGMA table_info(articles)")]
        marks = ", ".join(["%s"] * len(columns))
        with conn.transaction():
            cur = conn.cursor()
            for rows in _chunks(source.conn.execute("SELECT * FROM articles")):
                cur.executemany(f"INSERT INTO articles VALUES ({marks})", [tuple(r) for r in rows])
            for rows in _chunks(source.conn.execute("SELECT * FROM article_categories")):
                cur.executemany("INSERT INTO article_categories VALUES (%s, %s, %s)",
                                [tuple(r) for r in rows])  # fmt: skip
            for rows in _chunks(source.conn.execute(
                "SELECT key, article_id, province, words FROM article_words"
            )):  # fmt: skip
                cur.executemany(
                    "INSERT INTO article_words (key, article_id, province, words) "
                    "VALUES (%s, %s, %s, array_to_tsvector(%s::text[]))",
                    [(r[0], r[1], r[2], r[3].split(" ")) for r in rows],
                )
        # as autovacuum leaves a store: no vacuum of the copy running during the searches
        conn.execute("VACUUM ANALYZE")


def _chunks(cursor: Any) -> Any:
    while rows := cursor.fetchmany(2000):
        yield rows


def queries(corpus: Corpus, store: SQLStore, count: int) -> list[tuple[str, str]]:
    """``(kind, query string)`` of ``count`` different searches."""
    rng = random.Random(7)
    frequent = Counter(w for t in corpus.titles for w in words(t)).most_common(20)
    out: dict[str, str] = {}
    while len(out) < count:
        roll = rng.random()
        title_words = [w for w in rng.choice(corpus.titles).split() if len(w) > 2]
        q = " ".join(rng.sample(title_words, min(len(title_words), rng.choice((1, 2)))))
        params = f"q={q}"
        kind = "title words"
        if roll < 0.15:
            kind, params = "frequent word", f"q={rng.choice(frequent)[0]}"
        elif roll < 0.25:
            kind, params = "with site", f"{params}&site={rng.choice(SITES)}"
        elif roll < 0.35:
            kind, params = "with category", f"{params}&category={rng.choice(CATEGORIES)}"
        elif roll < 0.45:
            kind, params = "with province", f"{params}&province={rng.choice(PROVINCE_KEYS)}"
        out.setdefault(params, kind)
    return [(kind, params) for params, kind in out.items()]


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _latencies(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50_ms": _pct(values, 50) * 1000,
            "p95_ms": _pct(values, 95) * 1000, "p99_ms": _pct(values, 99) * 1000,
            "max_ms": max(values) * 1000, "mean_ms": statistics.fmean(values) * 1000}  # fmt: skip


def baseline_ms(store: SQLStore, runs: int = 21) -> float:
    """The static ``all`` feed's work for the same 50 entries: read the newest originals,
    prepare their entries, render JSON Feed (median, ms)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        prepare = Entries()
        entries = tuple(prepare(a) for a in store.articles(limit=50, include_duplicates=False))
        feed = Feed("all", "", "Tất cả", "", "http://127.0.0.1:8080/", entries, 30)
        render_json(feed, "http://127.0.0.1:8080/")
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def cold_figures(store: SQLStore, searches: list[tuple[str, str]]) -> dict[str, float]:
    """The same searches with nothing prepared before: every entry prepared anew."""
    times = []
    for _, params in searches:
        feeds = SearchFeeds(store, "http://127.0.0.1:8080/", 30)
        search = parse_search("json", params.encode())
        start = time.perf_counter()
        feeds.answer(search)
        times.append(time.perf_counter() - start)
    return _latencies(times)


def search_figures(store: SQLStore, searches: list[tuple[str, str]]) -> dict[str, Any]:
    feeds = SearchFeeds(store, "http://127.0.0.1:8080/", 30)
    in_store: list[float] = []  # the store's search alone, within each answer
    store_search = store.search

    def timed_search(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return store_search(*args, **kwargs)
        finally:
            in_store.append(time.perf_counter() - start)

    setattr(store, "search", timed_search)  # noqa: B010
    by_kind: dict[str, list[float]] = {}
    found: list[int] = []
    for kind, params in searches:
        search = parse_search("json", params.encode())
        feeds._cache.clear()  # every search answered whole
        start = time.perf_counter()
        data = feeds.answer(search)
        by_kind.setdefault(kind, []).append(time.perf_counter() - start)
        found.append(len(json.loads(data)["items"]))
    every = [t for ts in by_kind.values() for t in ts]
    delattr(store, "search")
    return {
        "all": _latencies(every),
        "store_search": _latencies(in_store),
        "kinds": {k: _latencies(v) for k, v in sorted(by_kind.items())},
        "cold": cold_figures(store, searches),
        "baseline_all_feed_ms": baseline_ms(store),
        "results_mean": statistics.fmean(found),
        "empty": sum(1 for n in found if n == 0),
    }


async def _reader(host: str, port: int, paths: list[str], until: float, rng: random.Random,
                  out: dict[str, Any]) -> None:  # fmt: skip
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        out["errors"]["connect"] += 1
        return
    etags: dict[str, str] = {}
    try:
        while time.monotonic() < until:
            path = rng.choice(paths)
            head = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept-Encoding: gzip\r\n"
            if path in etags:
                head += f"If-None-Match: {etags[path]}\r\n"
            start = time.perf_counter()
            writer.write((head + "\r\n").encode())
            status_line = await asyncio.wait_for(reader.readline(), 10)
            headers: dict[str, str] = {}
            while (line := await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if length:
                await asyncio.wait_for(reader.readexactly(length), 10)
            out["latency"].append(time.perf_counter() - start)
            status = int(status_line.split()[1]) if status_line else 0
            out["status"][status] += 1
            if status == 200:
                etags[path] = headers["etag"]
            elif status != 304:
                out["errors"][f"status {status}"] += 1
            await asyncio.sleep(rng.uniform(0, 0.2))
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        out["errors"][type(exc).__name__] += 1
    finally:
        writer.close()


async def _poll(
    host: str, port: int, paths: list[str], readers: int, seconds: float
) -> dict[str, Any]:
    out: dict[str, Any] = {"latency": [], "status": Counter(), "errors": Counter()}
    until = time.monotonic() + seconds
    await asyncio.gather(*(
        _reader(host, port, paths, until, random.Random(i), out) for i in range(readers)
    ))  # fmt: skip
    return out


STATIC = ["/all.json", "/all.rss", "/site/bao-1.atom", "/category/kinh-te.json"]


def serve_figures(db: str, feeds: Path, searches: list[tuple[str, str]], readers: int,
                  seconds: float) -> dict[str, Any]:  # fmt: skip
    """Readers polling searches and static feeds; then static feeds only (the baseline)."""
    paths = [f"/search.json?{urlencode(parse_qsl(p))}" for _, p in searches[:20]]
    return {
        "with_search": _serve(db, feeds, paths + STATIC, readers, seconds),
        "static_only": _serve(db, feeds, STATIC, readers, seconds),
    }


def _serve(db: str, feeds: Path, paths: list[str], readers: int, seconds: float) -> dict[str, Any]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aggregator.app.cli", "serve", "--feeds-dir", str(feeds),
         "--port", "0", "--db", db, "--max-connections", str(readers + 50),
         "--max-per-client", str(readers + 50)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
        started = time.perf_counter()
        out = asyncio.run(_poll(host, int(port), paths, readers, seconds))
        elapsed = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    return {
        "readers": readers, "seconds": elapsed, "requests": len(out["latency"]),
        "requests_per_s": len(out["latency"]) / elapsed,
        "status": dict(out["status"]), "errors": dict(out["errors"]),
        "latency": _latencies(out["latency"]) if out["latency"] else None,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--block", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--no-postgresql",
        dest="postgresql",
        action="store_false",
        help="SQLite only (by default PostgreSQL too, when its binaries are installed)",
    )
    parser.add_argument("--output", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"size": args.size}
    corpus = Corpus(seed=args.size)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        db = tmp / "store.db"
        with SQLiteStore(db) as store:
            start = time.perf_counter()
            fill(store, corpus, min(args.block, args.size))
            if args.size > args.block:
                replicate(store, args.block, args.size)
            results["fill_s"] = time.perf_counter() - start
            results["store_mb"] = sum(p.stat().st_size for p in tmp.glob("store.db*")) / 2**20
            searches = queries(corpus, store, args.queries)
            results["sqlite"] = search_figures(store, searches)
            print(f"search, SQLite: {json.dumps(results['sqlite']['all'])}", flush=True)
            sites = {s: SiteInfo(f"Báo số {s[4:]}", 30) for s in SITES}
            build_feeds(store, tmp / "feeds", sites=sites)
            if args.postgresql:
                results["postgresql"] = _postgresql(store, searches)
        results["serve"] = serve_figures(str(db), tmp / "feeds", searches, args.readers,
                                         args.seconds)  # fmt: skip
        print(f"serve: {json.dumps(results['serve'])}", flush=True)
    print(json.dumps(results, indent=1))
    if args.output:
        args.output.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


def _postgresql(store: SQLiteStore, searches: list[tuple[str, str]]) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tests.support.pgserver import PgServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        return {"skipped": "no PostgreSQL binaries"}
    server = PgServer(bindir)
    server.start()
    try:
        url = server.create_database("bench_search")
        copy_to_postgresql(store, url)
        with open_store(url) as pg:
            figures = search_figures(pg, searches)
        print(f"search, PostgreSQL: {json.dumps(figures['all'])}", flush=True)
        return figures
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
