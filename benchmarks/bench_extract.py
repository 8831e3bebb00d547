"""Extraction cost and accuracy against trafilatura, and the generic layer alone.

    python -m benchmarks.bench_extract [--per-site 100] [--runs 3] [--output FILE]

Pages: ``per-site`` article pages of each newspaper of the generated sample web
(:mod:`benchmarks.bigweb`, rendered in this process, no server), picked with a fixed
seed among the bundled and generated articles.

- **Extraction**: :func:`aggregator.extract.article.extract_article` with the newspaper's
  site definition (selectors, then JSON-LD / OpenGraph / meta, then the generic
  layer where a field is missing) against ``trafilatura.extract(html, url=url)``
  with its defaults (and, for information, ``fast=True``) on the same pages.
- **Generic layer**: the legacy newspaper (Báo Cao Nguyên: no metadata at all) with a
  site definition whose selectors are all removed, so that our body comes from the
  generic layer (trafilatura with ``favor_precision``, then our clutter, lead and
  byline clean-up), against ``trafilatura.extract`` on the same pages.

Time: CPU time of this process for each call (``time.process_time``: other processes'
load does not count), one warm-up pass, then ``runs`` passes alternating between the
extractors; per pass the median and the mean per page, the figure is the median over
the passes (min-max). Accuracy: bag-of-words
token F1 of the body against the ground truth (:func:`token_f1`); every output goes
through :func:`aggregator.normalize.text.clean_text` first (NFC, U+00D0 as Đ), so that
Unicode quirks of the legacy site are not counted as extraction errors.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trafilatura

from aggregator.extract.article import ExtractionError, extract_article
from aggregator.normalize.text import clean_text
from aggregator.sites.definition import SiteDefinition, load_site
from benchmarks.bigweb import fast_templates, generate
from sampleweb.evaluate import token_f1
from sampleweb.groundtruth import GroundTruthArticle
from sampleweb.render import article_path, render_web
from sampleweb.render import site_definition as site_template

ORIGIN = "http://127.0.0.1:8047/"
LEGACY = "caonguyen"
_SELECTORS = re.compile(r"^\[selectors\]\n(?:(?!\[).*\n)*", re.MULTILINE)

Page = tuple[str, str, GroundTruthArticle]  # url, html, truth
Extractor = Callable[[str, str], str]


def pages(per_site: int, articles: int, seed: int) -> dict[str, list[Page]]:
    """``per_site`` article pages of each newspaper, with their ground truth."""
    truth = generate(articles, seed)
    with fast_templates():
        web = render_web(ORIGIN, truth)
    rng = random.Random(seed)
    picked: dict[str, list[Page]] = {}
    for site, items in sorted(truth.items()):
        chosen = rng.sample(items, min(per_site, len(items)))
        picked[site] = [
            (ORIGIN + article_path(a).lstrip("/"), web[article_path(a)].body.decode(), a)
            for a in chosen
        ]
    return picked


def site_definition(site_id: str, folder: Path, *, selectors: bool = True) -> SiteDefinition:
    text = site_template(site_id, f"{ORIGIN}{site_id}/")
    if not selectors:
        text = _SELECTORS.sub("", text)
    path = folder / f"{site_id}{'' if selectors else '-noselectors'}.toml"
    path.write_text(text, encoding="utf-8")
    return load_site(path)


def ours(site: SiteDefinition) -> Extractor:
    def run(url: str, html: str) -> str:
        try:
            return "\n".join(extract_article(url, html, site).body_lines)
        except ExtractionError:
            return ""

    return run


def trafilatura_default(url: str, html: str) -> str:
    return trafilatura.extract(html, url=url) or ""


def trafilatura_fast(url: str, html: str) -> str:
    return trafilatura.extract(html, url=url, fast=True) or ""


def measure(extractors: dict[str, Extractor], items: list[Page], runs: int) -> dict[str, Any]:
    """Per-page CPU time (median over passes of the per-pass median) and body F1 of each.

    The passes alternate between the extractors (ours, theirs, ours, ...), so that a
    machine busy with something else slows each of them alike; the clock is this
    process's CPU time, which another process's load does not add to."""
    f1: dict[str, list[float]] = {}
    for name, extract in extractors.items():  # warm-up pass, and the accuracy
        f1[name] = [token_f1(clean_text(extract(url, html), multiline=True), truth.body_text)
                    for url, html, truth in items]  # fmt: skip
    medians: dict[str, list[float]] = {name: [] for name in extractors}
    means: dict[str, list[float]] = {name: [] for name in extractors}
    clock = time.process_time
    for _ in range(runs):
        for name, extract in extractors.items():
            times = []
            for url, html, _truth in items:
                start = clock()
                extract(url, html)
                times.append(clock() - start)
            medians[name].append(statistics.median(times) * 1000)
            means[name].append(statistics.fmean(times) * 1000)
    return {
        name: {
            "median_ms": statistics.median(medians[name]),
            "min_ms": min(medians[name]),
            "max_ms": max(medians[name]),
            "mean_ms": statistics.median(means[name]),
            "body_f1": statistics.fmean(f1[name]),
            "body_f1_min": min(f1[name]),
            "pages_below_0_9": sum(1 for x in f1[name] if x < 0.9),
        }
        for name in extractors
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--per-site", type=int, default=100)
    parser.add_argument("--articles", type=int, default=1000, help="generated articles")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    picked = pages(args.per_site, args.articles, args.seed)
    every = [p for site in sorted(picked) for p in picked[site]]
    results: dict[str, Any] = {"pages": len(every), "per_site": {}}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        defs = {site: site_definition(site, folder) for site in picked}

        def ours_any(url: str, html: str) -> str:
            site = url[len(ORIGIN) :].split("/", 1)[0]
            return ours(defs[site])(url, html)

        extraction = measure(
            {"ours": ours_any, "trafilatura": trafilatura_default,
             "trafilatura_fast": trafilatura_fast}, every, args.runs,
        )  # fmt: skip
        extraction["speedup"] = (
            extraction["trafilatura"]["median_ms"] / extraction["ours"]["median_ms"]
        )
        extraction["speedup_mean"] = (
            extraction["trafilatura"]["mean_ms"] / extraction["ours"]["mean_ms"]
        )
        extraction["speedup_vs_fast"] = (
            extraction["trafilatura_fast"]["median_ms"] / extraction["ours"]["median_ms"]
        )
        results["extraction"] = extraction
        print("extraction:", json.dumps(extraction), flush=True)
        for site, items in sorted(picked.items()):
            per = measure({"ours": ours(defs[site]), "trafilatura": trafilatura_default},
                          items, 1)  # fmt: skip
            results["per_site"][site] = {
                k: {"median_ms": v["median_ms"], "body_f1": v["body_f1"]} for k, v in per.items()
            }
        generic_site = site_definition(LEGACY, folder, selectors=False)
        generic = measure(
            {"ours_generic": ours(generic_site), "trafilatura": trafilatura_default},
            picked[LEGACY], args.runs,
        )  # fmt: skip
        generic["site"] = LEGACY
        generic["pages"] = len(picked[LEGACY])
        results["generic"] = generic
        print("generic:", json.dumps(generic), flush=True)
    text = json.dumps(results, indent=1)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
