"""``aggregator demo``: the whole job on the sample web, in one process.

It lives with the sample web it serves; the ``aggregator`` command loads it only for
``demo``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from aggregator.app.publish import publish
from aggregator.crawl.runner import crawl_sites, results_table
from aggregator.publish.health import error_classes
from aggregator.sites.definition import load_sites
from aggregator.store import mask_target, open_store
from sampleweb.groundtruth import sites_in_ground_truth
from sampleweb.hostile import CRAWL_SETTINGS
from sampleweb.server import SampleWeb

__all__ = ["DEMO_PORT", "run_demo"]

#: The demo serves the sample web on a fixed port when it is free, so that its
#: article URLs (and so their ids) are the same from one run to the next.
DEMO_PORT = 8047


def _start_web(hostile: int | None = None) -> SampleWeb:
    try:
        return SampleWeb(port=DEMO_PORT, hostile=hostile).start()
    except OSError:
        print(f"port {DEMO_PORT} is busy: serving on another port (new URLs, new articles)")
        return SampleWeb(hostile=hostile).start()


def run_demo(db: str, feeds_dir: Path, *, verbose: bool = False, hostile: int | None = None) -> int:
    """Serve the sample web, crawl every sample newspaper, build feeds, print a summary.

    ``hostile`` (a seed): against the hostile sample web (faults, bad input, attacks); the
    summary names each site's failure classes."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aggregator-demo-") as tmp, _start_web(hostile) as web:
        print(
            f"sample web: {web.url}"
            + (f" (hostile, seed {hostile})" if hostile is not None else "")
        )
        web.write_site_definitions(Path(tmp))
        site_ids = sites_in_ground_truth()
        dirs = [*os.environ.get("AGGREGATOR_SITES_DIRS", "").split(os.pathsep), tmp]
        overrides = {
            "AGGREGATOR_DB": db,
            "AGGREGATOR_SITES_DIRS": os.pathsep.join(d for d in dirs if d),
            "LOG_LEVEL": "INFO" if verbose else "WARNING",
        }
        if hostile is not None:  # hangs must time out before the crawl's patience does
            overrides |= CRAWL_SETTINGS
        print(f"crawling {len(site_ids)} newspapers into {mask_target(db)} ...")
        results = crawl_sites(site_ids, overrides, progress=sys.stderr.isatty() and not verbose)
        registry = load_sites([d for d in dirs if d])
    print(results_table(results))
    if hostile is not None:
        for site_id, summary in results.items():
            if classes := error_classes(summary):
                print(f"  {site_id}: " + ", ".join(f"{k} {n}" for k, n in classes.items()))
    report, health = publish(db, feeds_dir, registry)
    assert report is not None and health is not None
    with open_store(db) as store:
        total = store.count()
    print(f"\n{total} articles in {mask_target(db)}")
    print(
        f"feeds in {feeds_dir}/: {len(report.written)} written, {len(report.unchanged)} unchanged"
    )
    for path in sorted(feeds_dir.glob("category/*.atom")):
        print(f"  {path}  (+ .rss, .json)")
    print(f"  {feeds_dir / 'index.html'}, {feeds_dir / 'feeds.opml'}, {health.feed}")
    print(f"done in {time.monotonic() - started:.1f} s")
    return 0
