"""Normalization + dedup cost per article against stores of 10k and 100k articles.

    python -m benchmarks.bench_dedup [--sizes 10000 100000] [--probes 1000] [--runs 3]

For each size a store is filled directly (articles, fingerprints and LSH bands, in
bulk transactions; the articles are made and fingerprinted by ``--workers`` processes)
with synthetic articles made of sentences from the sample web's
ground truth, shuffled and renumbered, 350-600 words each. Then ``probes`` new
articles go through exactly what the pipelines do before storing: normalization
(:func:`normalize_article`) and dedup (:meth:`Chain.dedup`: fingerprint, exact and
LSH lookups in the store, signature checks). One in ten probes is a near-duplicate
of a stored article (a sentence dropped, words changed). Reported: the median and
p95 per article (median of ``runs`` runs, with min and max), the 100k/10k ratio, the
baseline of the same run (parsel parse + select of title, date and body of one
sample article page, the cheapest extraction there is), and memory: Python's
traced peak during the probes and the process RSS growth.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import re
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from parsel import Selector

from aggregator.dedup.fingerprints import Fingerprint, fingerprint
from aggregator.items import Article
from aggregator.process.chain import Chain, normalize_article
from aggregator.sites.definition import SiteDefinition, load_site
from aggregator.store import SQLiteStore
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


def _articles(job: tuple[int, int, int, str]) -> list[tuple[int, Article, Fingerprint]]:
    """Articles ``start``-``end`` (corpus seeded for the chunk), normalized and fingerprinted."""
    start, end, seed, site_path = job
    if "corpus" not in _WORKER:  # once per worker process
        _WORKER["corpus"], _WORKER["site"] = Corpus(seed), load_site(Path(site_path))
    corpus, site = _WORKER["corpus"], _WORKER["site"]
    corpus.rng.seed(seed)
    out = []
    for n in range(start, end):
        article = normalize_article(corpus.article(n), site)
        out.append((n, article, fingerprint(article.body_text)))
    return out


def fill(store: SQLiteStore, size: int, site_path: Path, seed: int, workers: int = 2) -> list[str]:
    """Write ``size`` articles with their dedup keys; returns a sample of bodies.

    Articles are made, normalized and fingerprinted by ``workers`` processes in chunks
    of 2,000 (each chunk's corpus seeded from ``seed`` and its start: the same store
    for the same seed), and written here in one transaction a chunk.
    """
    sample: list[str] = []
    conn = store.conn
    jobs = [(start, min(size, start + 2000), seed * 1_000_003 + start, str(site_path))
            for start in range(0, size, 2000)]  # fmt: skip
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for chunk in pool.imap(_articles, jobs):
            conn.execute("BEGIN")
            for n, article, fp in chunk:
                store._write(article, f"bulk-{n}", None)
                store._write_fingerprint(article.id, fp)
                if n % 97 == 0:
                    sample.append(article.body_text)
            conn.execute("COMMIT")
    return sample


def probe(store: SQLiteStore, corpus: Corpus, stored: list[str], count: int,
          site: SiteDefinition) -> dict[str, Any]:  # fmt: skip
    """Per-article time of normalization + dedup for ``count`` new articles."""
    articles = []
    for i in range(count):
        body = corpus.near_copy(corpus.rng.choice(stored)) if i % 10 == 0 else None
        articles.append(corpus.article(10_000_000 + i, body))
    times, kinds = [], {"exact": 0, "near": 0, None: 0}
    rss_before = _rss_kb()
    chain = Chain(store)
    for article in articles:
        article = replace(article, flags=[], images=[])
        start = time.perf_counter()
        normalize_article(article, site)
        kinds[chain.dedup(article).kind] += 1
        times.append(time.perf_counter() - start)
    rss_growth = _rss_kb() - rss_before
    # memory in a second pass: tracing slows every allocation down
    tracemalloc.start()
    for article in articles[:200]:
        article = replace(article, flags=[], images=[])
        normalize_article(article, site)
        chain.dedup(article)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    times.sort()
    return {
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": times[int(len(times) * 0.95)] * 1000,
        "near_found": kinds["near"] + kinds["exact"],
        "near_expected": (count + 9) // 10,
        "traced_peak_kb": traced_peak // 1024,
        "rss_growth_kb": rss_growth,
    }


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
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="processes filling the store")
    parser.add_argument("--output", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tamdao.toml"
        path.write_text(site_definition("tamdao", ORIGIN + "tamdao/"), encoding="utf-8")
        site = load_site(path)
        for size in args.sizes:
            corpus = Corpus(seed=size)
            with SQLiteStore(Path(tmp) / f"store-{size}.db") as store:
                t0 = time.perf_counter()
                stored = fill(store, size, path, seed=size, workers=args.workers)
                fill_s = time.perf_counter() - t0
                runs = [probe(store, corpus, stored, args.probes, site) for _ in range(args.runs)]
            medians = sorted(r["median_ms"] for r in runs)
            results["sizes"][size] = {
                "median_ms": statistics.median(medians),
                "min_ms": medians[0],
                "max_ms": medians[-1],
                "p95_ms": statistics.median(r["p95_ms"] for r in runs),
                "near_found": runs[-1]["near_found"],
                "near_expected": runs[-1]["near_expected"],
                "traced_peak_kb": max(r["traced_peak_kb"] for r in runs),
                "rss_growth_kb": max(r["rss_growth_kb"] for r in runs),
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
