"""``python -m benchmarks`` (what ``make bench`` runs): every benchmark, then the table.

Each benchmark runs in a process of its own and writes its figures to
``benchmarks/results/<name>.json``; :mod:`benchmarks.report` then rewrites the
summary table at the top of ``benchmarks/RESULTS.md``. ``--only NAME...`` runs some
of them (the table keeps the last figures of the others).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import report

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
BENCHMARKS = ("dedup", "feeds", "extract", "realpages", "crawl", "hostile", "search")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS))
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    durations: dict[str, float] = {}
    for name in BENCHMARKS:
        if name not in args.only:
            continue
        print(f"== benchmarks.bench_{name}", flush=True)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", f"benchmarks.bench_{name}",
             "--output", str(RESULTS / f"{name}.json")],
            cwd=ROOT, check=True,
        )  # fmt: skip
        durations[name] = time.perf_counter() - start
        print(f"== bench_{name}: {durations[name]:.0f} s", flush=True)
    timing = RESULTS / "timing.json"
    previous = json.loads(timing.read_text(encoding="utf-8")) if timing.exists() else {}
    previous.update(durations)
    timing.write_text(json.dumps(previous, indent=1) + "\n", encoding="utf-8")
    print(f"== total {sum(durations.values()):.0f} s", flush=True)
    return report.main([])


if __name__ == "__main__":
    raise SystemExit(main())
