"""The accuracy gate on real pages (trafilatura's evaluation habit): saved article pages of
real Vietnamese newspapers (``../shared/realpages``), extracted with zero-configuration
definitions and their original URLs, scored per field against what a reader takes from
them; a field whose score falls below its floor (``realpages-floors.json``) fails.

The pages are read from ``../shared`` (skipped without it, failed on CI), never copied
here. The same scoring runs in ``make bench`` against trafilatura
(``benchmarks/bench_realpages.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.env import shared_path
from tests.support.realpages import (
    FIELDS,
    aggregator_prediction,
    format_field,
    format_table,
    load_pages,
    misses,
    score,
)

FLOORS = Path(__file__).with_name("realpages-floors.json")


def test_zero_configuration_extraction_keeps_its_floors() -> None:
    pages = load_pages(shared_path("realpages"))
    floors = json.loads(FLOORS.read_text(encoding="utf-8"))
    assert len(pages) >= floors["pages"], "fewer real pages than the floors were pinned on"
    scores = score(pages, aggregator_prediction)
    print("\n" + format_table({"aggregator": scores.fields}))
    print("\n".join(misses(scores)))
    below = [
        f"{name}: {format_field(name, scores.fields[name])} < floor "
        f"{format_field(name, floors['floors'][name])}"
        for name in FIELDS
        if scores.fields[name] < floors["floors"][name]
    ]
    assert not below, "\n".join(below)


def test_every_page_is_an_article() -> None:
    pages = load_pages(shared_path("realpages"))
    failed = {p.file: e for p in pages if (e := aggregator_prediction(p).error)}
    assert not failed
