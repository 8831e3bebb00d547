"""Accuracy on real pages: the aggregator with zero-configuration definitions against
trafilatura, per field, on the saved pages of ``../shared/realpages``.

    python -m benchmarks.bench_realpages [--pages DIR] [--output FILE]

The scoring is the accuracy gate's (:mod:`tests.support.realpages`, the table of the
pages' README): title exact, publication time to the minute in +07:00, authors as printed,
lead and body token F1. Both extractors get each page with its original URL:

- ``aggregator``: :func:`~aggregator.extract.article.extract_article` with a definition of
  only id, name, province, base_url and an article link pattern, then
  :func:`~aggregator.process.chain.normalize_article`;
- ``trafilatura``: ``trafilatura.bare_extraction(html, url=url, with_metadata=True)``
  (its date with the time of day: ``outputformat`` ``%Y-%m-%dT%H:%M:%S%z``); title,
  date, author (split on ``;``), description as the lead, text as the body.

Also the CPU time per page of each (median, one pass after a warm-up): these are real
pages, heavier than the sample web's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import trafilatura

from tests.support.env import SHARED
from tests.support.realpages import (
    FIELDS,
    Page,
    Prediction,
    aggregator_prediction,
    format_table,
    load_pages,
    minute,
    misses,
    score,
)

_DATE_PARAMS = {"extensive_search": True, "original_date": True,
                "outputformat": "%Y-%m-%dT%H:%M:%S%z"}  # fmt: skip


def trafilatura_prediction(page: Page) -> Prediction:
    doc = trafilatura.bare_extraction(
        page.html, url=page.url, with_metadata=True, date_extraction_params=_DATE_PARAMS
    )
    if doc is None:
        return Prediction(error="nothing extracted")
    got: dict[str, Any] = doc if isinstance(doc, dict) else doc.as_dict()
    return Prediction(
        title=got.get("title") or "",
        published=minute(got.get("date") or None),
        authors=[a.strip() for a in (got.get("author") or "").split(";") if a.strip()],
        lead=got.get("description") or "",
        body=got.get("text") or "",
    )


EXTRACTORS = {"aggregator": aggregator_prediction, "trafilatura": trafilatura_prediction}


def cpu_ms(pages: list[Page], predict: Any) -> float:
    times = []
    for page in pages:
        start = time.process_time()
        predict(page)
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--pages", type=Path, default=SHARED / "realpages")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if not (args.pages / "truth.json").exists():
        print(f"{args.pages}: no real pages (../shared/realpages); nothing measured")
        return 0
    pages = load_pages(args.pages)
    results: dict[str, Any] = {"pages": len(pages), "trafilatura_version": trafilatura.__version__}
    for name, predict in EXTRACTORS.items():
        scores = score(pages, predict)  # also the warm-up pass
        results[name] = {
            **scores.fields,
            "median_ms": cpu_ms(pages, predict),
            "misses": misses(scores),
        }
    print(format_table({name: results[name] for name in EXTRACTORS}))
    for name in EXTRACTORS:
        print(f"{name}: {results[name]['median_ms']:.1f} ms/page; misses:",
              "; ".join(results[name]["misses"]) or "none")  # fmt: skip
    assert set(FIELDS) <= set(results["aggregator"])
    text = json.dumps(results, indent=1, ensure_ascii=False)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
