"""Normalization + dedup cost per article against stores of 10k, 100k and 1M articles.

    python -m benchmarks.bench_dedup [--sizes 10000 100000 1000000] [--probes 1000]
        [--runs 3] [--cache DIR | --no-cache]

For each size a store is filled directly, in a process of its own (see :func:`_fill`):
one article in 97 is a synthetic article made of sentences from the sample web's
ground truth, shuffled and renumbered, 350-600 words, normalized, fingerprinted and
written as the chain writes it; the others are copies of such an article's row under
their own URL, id and date, with the dedup keys of an unrelated text (random MinHash
signatures and their LSH bands). Filled stores are kept in ``--cache`` (a folder under
the temporary directory) by size and seed, so a second run does not fill them again.
Then ``probes`` new articles go through exactly what the pipelines do before storing:
normalization (:func:`normalize_article`) and dedup (:meth:`Chain.dedup`: fingerprint,
exact and LSH lookups in the store, signature checks). One in ten probes is a
near-duplicate of a stored real article (a sentence dropped, words changed).
Each run opens the stores one after the other, each warmed by 200 untimed probes, then
probes them in turn, article by article (so that a busy machine weighs on all sizes
alike). Reported: the median and p95 per article, wall and CPU time (median of ``runs``
runs, with min and max), the largest/smallest ratio, the baseline of the same run
(parsel parse + select of title, date and body of one sample article page, the cheapest
extraction there is), the store file's size, and memory: Python's traced peak during
the probes, the process RSS growth during them (all stores together) and the RSS once
each store is opened and warmed, in size order (its page cache included).

Each store file is read once before it is opened, so that the operating system's page
cache holds it as on a server that has run for a while: without that, the figure at 1M
depends on what the machine did before (after the cache was dropped: 1.04-1.15 ms median,
p95 3.6-4.2 ms, mostly waiting for the disk; CPU 0.63-0.69 ms).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import multiprocessing
import random
import re
import statistics
import tempfile
import time
import tracemalloc
from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from parsel import Selector

from aggregator.dedup.fingerprints import BANDS, NUM_PERM, Fingerprint, band_hashes, fingerprint
from aggregator.items import Article, article_id
from aggregator.process.chain import Chain, normalize_article
from aggregator.sites.definition import SiteDefinition, load_site
from aggregator.store import SQLiteStore
from aggregator.store.migrations import MIGRATIONS
from sampleweb import render_web
from sampleweb.groundtruth import load_ground_truth, sites_in_ground_truth
from sampleweb.render import article_path, site_definition

ORIGIN = "http://127.0.0.1:8047/"
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
_NUMBER = re.compile(r"\d+")


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Corpus:
    """Synthetic provincial-news articles from the ground truth's sentences."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        truth = [a for s in sites_in_ground_truth() for a in load_ground_truth(s)]
        self.sentences = [s for a in truth for p in a.body_text.split("\n") for s in
                          _SENTENCE.split(p) if len(s.split()) >= 6]  # fmt: skip
        self.titles = [a.title for a in truth]

    def _renumber(self, sentence: str) -> str:
        return _NUMBER.sub(lambda m: str(self.rng.randint(2, 9999)), sentence)

    def body(self) -> str:
        words, lines = 0, []
        target = self.rng.randint(350, 600)
        while words < target:
            paragraph = " ".join(self._renumber(self.rng.choice(self.sentences)) for _ in range(3))
            lines.append(paragraph)
            words += len(paragraph.split())
        return "\n".join(lines)

    def article(self, n: int, body: str | None = None) -> Article:
        url = f"{ORIGIN}tamdao/kinh-te/bai-viet-so-{n}-{80000 + n}.html"
        published = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(minutes=7 * n)
        return Article(
            url=url,
            site="tamdao",
            site_name="Báo Tam Đảo",
            province="Vĩnh Phúc",
            title=f"{self.rng.choice(self.titles)} ({n})",
            lead="(BTĐ) - " + self._renumber(self.rng.choice(self.sentences)),
            body_text=body if body is not None else self.body(),
            authors=["Thanh Tuyền"],
            section="Kinh tế",
            published=published,
            fetched_at=datetime(2026, 11, 27, tzinfo=UTC),
        )

    def near_copy(self, body: str) -> str:
        """A wire-style edit: one paragraph dropped, a few words changed."""
        paragraphs = body.split("\n")
        if len(paragraphs) > 3:
            paragraphs.pop(self.rng.randrange(len(paragraphs)))
        words = "\n".join(paragraphs).split(" ")
        for _ in range(5):
            words[self.rng.randrange(len(words))] = "được"
        return " ".join(words)


_WORKER: dict[str, Any] = {}
#: Every STRIDE-th stored article is a real one: made, normalized, fingerprinted and
#: written as the chain writes it. Near-copies are made of these.
STRIDE = 97
CHUNK = 5000
#: Bump when what ``fill`` writes changes: a cached store of another version is not used.
FILL_VERSION = 3

_Filler = tuple[list[int], list[bytes], npt.NDArray[np.int64]]
_Chunk = tuple[list[tuple[int, Article, Fingerprint]], _Filler]


def _chunk(
    job: tuple[int, int, int, str],
) -> tuple[list[tuple[int, Article, Fingerprint]], _Filler]:
    """Articles ``start``-``end`` (corpus seeded for the chunk): the real ones normalized
    and fingerprinted; for the others, the dedup keys of unrelated texts (exact keys,
    signatures and their LSH bands, from uniform random signatures: what MinHash gives
    texts that share no shingles)."""
    start, end, seed, site_path = job
    if "corpus" not in _WORKER:  # once per worker process
        _WORKER["corpus"], _WORKER["site"] = Corpus(seed), load_site(Path(site_path))
    corpus, site = _WORKER["corpus"], _WORKER["site"]
    corpus.rng.seed(seed)
    real = []
    for n in range(-(-start // STRIDE) * STRIDE, end, STRIDE):
        article = normalize_article(corpus.article(n), site)
        real.append((n, article, fingerprint(article.body_text)))
    rng = np.random.default_rng(seed)
    count = end - start - len(real)
    signatures = [s.tobytes() for s in rng.integers(0, 2**32, (count, NUM_PERM), "<u4")]
    exact = rng.integers(0, 2**63 - 1, count, dtype=np.int64).tolist()
    bands = np.array([band_hashes(s) for s in signatures], dtype=np.int64).reshape(count, BANDS)
    return real, (exact, signatures, bands)


def _bounded(pool: Any, jobs: list[tuple[int, int, int, str]], workers: int) -> Iterator[_Chunk]:
    """``pool.imap(_chunk, jobs)`` with at most two chunks a worker made ahead of the
    writer: memory stays flat however large the store."""
    ahead: deque[Any] = deque()
    for job in jobs:
        ahead.append(pool.apply_async(_chunk, (job,)))
        if len(ahead) > 2 * workers:
            yield ahead.popleft().get()
    while ahead:
        yield ahead.popleft().get()


def _read_through(path: Path) -> None:
    """Read the file once (into the operating system's page cache)."""
    with path.open("rb", buffering=0) as f:
        while f.read(1 << 24):
            pass


def _fill(path: Path, size: int, site_path: Path, seed: int, workers: int) -> list[str]:
    """Write ``size`` articles with their dedup keys to a new store at ``path``; returns
    the bodies of the real ones.

    One in :data:`STRIDE` is a real article (stored with the store's own writes,
    search words included); the others are copies of a real article's row under their
    own URL, id, title and date, with the dedup keys of an unrelated text, inserted in
    bulk (neither search words nor versions: dedup does not read them). Chunks are made
    by ``workers`` processes, each seeded from ``seed`` and its start (the same store for
    the same seed), and written here in one transaction a chunk; the band index is
    written last, in its own order (its pages full, as after a ``VACUUM``)."""
    sample: list[str] = []
    with SQLiteStore(path) as store:
        conn = store.conn
        # this process only: a new file, thrown away if the filling fails
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")  # 256 MiB
        columns = [r[1] for r in conn.execute("PRAGMA table_info(articles)")]
        changed = ("id", "canonical_url", "url", "title", "published", "published_ts",
                   "updated", "first_seen", "content_hash")  # fmt: skip
        kept = [c for c in columns if c not in changed]
        copy = (
            f"INSERT INTO articles ({', '.join(changed + tuple(kept))}) "
            f"SELECT {', '.join('?' * len(changed))}, {', '.join(kept)} FROM articles "
            "WHERE id = ?"
        )
        band_keys: list[npt.NDArray[np.int64]] = []
        band_fps: list[npt.NDArray[np.int32]] = []
        jobs = [(start, min(size, start + CHUNK), seed * 1_000_003 + start, str(site_path))
                for start in range(0, size, CHUNK)]  # fmt: skip
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for job, (real, (exact, signatures, bands)) in zip(
                jobs, _bounded(pool, jobs, workers), strict=True
            ):
                conn.execute("BEGIN")
                for n, article, fp in real:
                    store._write(article, f"bulk-{n}", None)
                    store._write_fingerprint(article.id, fp)
                    sample.append(article.body_text)
                template = real[0][1]
                rows, ids = [], []
                for n in range(job[0], job[1]):
                    if n % STRIDE:
                        url = f"{ORIGIN}tamdao/kinh-te/bai-viet-so-{n}-{80000 + n}.html"
                        when = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(minutes=7 * n)
                        ids.append(article_id(url))
                        rows.append((ids[-1], url, url, f"{template.title} ({n})",
                                     when.isoformat(), when.timestamp(), when.isoformat(),
                                     when.isoformat(), f"bulk-{n}", template.id))  # fmt: skip
                conn.executemany(copy, rows)
                first = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM fingerprints")
                key = first.fetchone()[0]
                conn.executemany(
                    "INSERT INTO fingerprints (id, article_id, exact, signature) "
                    "VALUES (?, ?, ?, ?)",
                    zip(range(key, key + len(ids)), ids, exact, signatures, strict=True),
                )
                band_keys.append(bands.ravel())
                band_fps.append(np.repeat(np.arange(key, key + len(ids), dtype=np.int32), BANDS))
                conn.execute("COMMIT")
        # in index order at the end: several times faster than in random order
        keys, fps = np.concatenate(band_keys), np.concatenate(band_fps)
        del band_keys, band_fps
        order = np.lexsort((fps, keys))
        conn.execute("BEGIN")
        for start in range(0, len(order), 1_000_000):
            part = order[start : start + 1_000_000]
            conn.executemany(
                "INSERT INTO lsh_bands (band_hash, fingerprint) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING",
                zip(keys[part].tolist(), fps[part].tolist(), strict=True),
            )
        conn.execute("COMMIT")
    return sample


def _cached_fill(size: int, site_path: Path, seed: int, workers: int, cache: Path
                 ) -> tuple[Path, list[str], float]:  # fmt: skip
    """The store of ``size`` articles for ``seed`` (filled in a process of its own, so
    that its memory is not the probing process's), its real articles' bodies and the
    seconds the filling took (0.0: found in ``cache``). Stores in ``cache`` are named
    by size, seed and everything that changes what is written."""
    name = f"store-{size}-{seed}-f{FILL_VERSION}-m{len(MIGRATIONS)}-{NUM_PERM}x{BANDS}"
    cache.mkdir(parents=True, exist_ok=True)
    path, sample_path = cache / f"{name}.db", cache / f"{name}.json"
    if path.exists() and sample_path.exists():
        return path, json.loads(sample_path.read_text(encoding="utf-8")), 0.0
    partial = cache / f"{name}.partial.db"
    for old in cache.glob(f"store-{size}-*"):  # a failed fill, or of another version
        old.unlink()
    started = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("fork")
    ) as filler:
        sample = filler.submit(_fill, partial, size, site_path, seed, workers).result()
    took = time.perf_counter() - started
    sample_path.write_text(json.dumps(sample), encoding="utf-8")
    partial.rename(path)  # closed, with no journal
    return path, sample, took


class Target(NamedTuple):
    """A filled store to probe, its corpus and the bodies of its real articles."""

    store: SQLiteStore
    corpus: Corpus
    stored: list[str]


def _probes(target: Target, count: int) -> list[Article]:
    """``count`` new articles, one in ten a near-copy of one of the target's."""
    corpus, stored = target.corpus, target.stored
    return [
        corpus.article(10_000_000 + i, corpus.near_copy(corpus.rng.choice(stored)))
        if i % 10 == 0
        else corpus.article(10_000_000 + i)
        for i in range(count)
    ]


def probe(targets: dict[int, Target], count: int, site: SiteDefinition) -> dict[int, Any]:
    """Per-article time of normalization + dedup for ``count`` new articles a store, the
    stores taking turns article by article (a busy machine slows them alike)."""
    articles = {size: _probes(target, count) for size, target in targets.items()}
    chains = {size: Chain(target.store) for size, target in targets.items()}
    times: dict[int, list[float]] = {size: [] for size in targets}
    cpu: dict[int, list[float]] = {size: [] for size in targets}
    found = dict.fromkeys(targets, 0)
    rss_before = _rss_kb()
    for i in range(count):
        for size in targets:
            article = replace(articles[size][i], flags=[], images=[])
            start, start_cpu = time.perf_counter(), time.process_time()
            normalize_article(article, site)
            found[size] += chains[size].dedup(article).kind is not None
            cpu[size].append(time.process_time() - start_cpu)
            times[size].append(time.perf_counter() - start)
    rss_growth = _rss_kb() - rss_before
    results = {}
    for size in targets:
        # memory in a second pass: tracing slows every allocation down
        tracemalloc.start()
        for article in articles[size][:200]:
            article = replace(article, flags=[], images=[])
            normalize_article(article, site)
            chains[size].dedup(article)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        wall, used = sorted(times[size]), sorted(cpu[size])
        results[size] = {
            "median_ms": statistics.median(wall) * 1000,
            "p95_ms": wall[int(len(wall) * 0.95)] * 1000,
            "cpu_median_ms": statistics.median(used) * 1000,
            "cpu_p95_ms": used[int(len(used) * 0.95)] * 1000,
            "near_found": found[size],
            "near_expected": (count + 9) // 10,
            "traced_peak_kb": traced_peak // 1024,
            "rss_growth_kb": rss_growth,
        }
    return results


def baseline_ms(runs: int = 300) -> float:
    """parsel: parse one sample article page and select title, date and body."""
    article = load_ground_truth("tamdao")[0]
    page = render_web(ORIGIN)[article_path(article)].body.decode("utf-8")
    start = time.perf_counter()
    for _ in range(runs):
        sel = Selector(text=page)
        sel.css("h1::text").get()
        sel.css(".article-date::text").get()
        sel.css(".article-content").xpath("string()").get()
    return (time.perf_counter() - start) / runs * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="processes filling the store")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "aggregator-bench-dedup",
        help="keep the filled stores here between runs (by size and seed)",
    )  # fmt: skip
    parser.add_argument("--no-cache", action="store_true", help="fill new stores, keep none")
    parser.add_argument("--output", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tamdao.toml"
        path.write_text(site_definition("tamdao", ORIGIN + "tamdao/"), encoding="utf-8")
        site = load_site(path)
        cache = Path(tmp) if args.no_cache else args.cache
        filled = {size: _cached_fill(size, path, size, args.workers, cache) for size in args.sizes}
        corpora = {size: Corpus(seed=size) for size in args.sizes}
        probed: dict[int, list[dict[str, Any]]] = {size: [] for size in args.sizes}
        rss: dict[int, int] = {}
        for _ in range(args.runs):
            with contextlib.ExitStack() as stack:
                targets = {}
                for size in args.sizes:  # each opened and warmed in turn: its share of RSS
                    db, stored, _ = filled[size]
                    _read_through(db)
                    store = stack.enter_context(SQLiteStore(db))
                    targets[size] = Target(store, corpora[size], stored)
                    probe({size: targets[size]}, 200, site)  # warms the cache: untimed
                    rss.setdefault(size, _rss_kb())
                for size, figures in probe(targets, args.probes, site).items():
                    probed[size].append(figures)
        for size in args.sizes:
            runs, (db, _, fill_s) = probed[size], filled[size]
            medians = sorted(r["median_ms"] for r in runs)
            results["sizes"][size] = {
                "median_ms": statistics.median(medians),
                "min_ms": medians[0],
                "max_ms": medians[-1],
                "p95_ms": statistics.median(r["p95_ms"] for r in runs),
                "cpu_median_ms": statistics.median(r["cpu_median_ms"] for r in runs),
                "cpu_p95_ms": statistics.median(r["cpu_p95_ms"] for r in runs),
                "near_found": runs[-1]["near_found"],
                "near_expected": runs[-1]["near_expected"],
                "traced_peak_kb": max(r["traced_peak_kb"] for r in runs),
                "rss_growth_kb": max(r["rss_growth_kb"] for r in runs),
                "rss_kb": rss[size],
                "store_mb": db.stat().st_size / 2**20,
                "fill_s": fill_s,
            }
            print(f"{size:>7} stored: {json.dumps(results['sizes'][size])}", flush=True)
    base = statistics.median(baseline_ms() for _ in range(3))
    results["baseline_parsel_ms"] = base
    sizes = sorted(results["sizes"])
    if len(sizes) >= 2:
        small, large = results["sizes"][sizes[0]], results["sizes"][sizes[-1]]
        results["growth"] = large["median_ms"] / small["median_ms"]
    for size in sizes:
        results["sizes"][size]["ratio_to_baseline"] = results["sizes"][size]["median_ms"] / base
    print(json.dumps(results, indent=1))
    if args.output:
        args.output.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
