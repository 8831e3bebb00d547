"""A normal newspaper crawled beside a hostile one, against the same newspaper alone.

    python -m benchmarks.bench_hostile [--runs 3] [--site tamdao] [--output FILE]

The normal newspaper is one of the sample web's (:class:`sampleweb.SampleWeb`); the
hostile one (``nang``, a definition without selectors: the generic layer reads it) links
the pages that once made extraction quadratic (:mod:`sampleweb.hostile.costly`): two
article pages of 4,000 figures with their text, two of 32,000 paragraphs nested
``<div>`` in ``<div>`` (2,048 levels as parsed), two of 7,500 paragraphs nested 250
levels (under the depth bound: read by the generic scorer), and two listing pages of
8,000 article links in one ``<div>`` (each link answered 404). Both are served from this
process on 127.0.0.1.

Each run crawls the normal newspaper alone, then beside the hostile one (one
``aggregator crawl`` process, one crawler per site, a fresh store each time, at most
100 links taken from a listing page). The figure is the normal newspaper's crawl time
(its crawl record's ``duration_s``: spider opened to closed) beside the hostile one over
its time alone, median of ``runs``. A red-team pass measured 54-70 s beside against 3 s
alone before the passes were made linear and bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aggregator.store import open_store
from sampleweb import SampleWeb
from sampleweb.hostile.costly import figures_page, links_block, nested_page

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = """
id = "nang"
name = "Báo Nặng"
province = "Vĩnh Phúc"
base_url = "{base}"
[sources]
listings = ["tin/", "dong-0/", "dong-1/"]
[links]
article = '-a\\d+\\.html$'
listing = '/nang/(?:tin|dong-\\d+)/$'
[politeness]
delay = 0.0
concurrency = 4
autothrottle = false
"""
PARAGRAPH = (
    "Từ sáng sớm, người thợ gốm đã nhóm lò, nặn từng chiếc bình theo cách ông cha truyền "
    "lại, giữ nghề qua bao thế hệ giữa những đổi thay của làng quê."
)
SETTINGS = ("-sAGGREGATOR_LISTING_MAX_LINKS=100",)


def hostile_pages() -> dict[str, bytes]:
    """The hostile newspaper's pages by path."""
    title = "Phóng sự ảnh: một ngày ở làng nghề gốm cổ bên sông, kỳ {n}"
    pages: dict[str, str] = {}
    for n in range(2):
        pages[f"/nang/anh-{n}-a1{n}.html"] = figures_page(
            title.format(n=n), 4000, paragraphs=[PARAGRAPH] * 3
        )
        pages[f"/nang/sau-{n}-a2{n}.html"] = nested_page(title.format(n=n))
        pages[f"/nang/long-{n}-a3{n}.html"] = nested_page(title.format(n=n), 7500, per_level=30)
        pages[f"/nang/dong-{n}/"] = (
            "<html><body>" + links_block(f"/nang/tin-{n}-{{i}}-a9{{i}}.html") + "</body></html>"
        )
    links = "".join(f'<li><a href="{p}">Bài {i}</a></li>' for i, p in enumerate(pages) if "-a" in p)
    pages["/nang/tin/"] = f"<html><body><ul>{links}</ul></body></html>"
    return {path: page.encode() for path, page in pages.items()}


@contextmanager
def hostile_server() -> Iterator[str]:
    """The hostile newspaper on 127.0.0.1: its base URL."""
    pages = hostile_pages()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, b"")
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/nang/"
    finally:
        server.shutdown()
        server.server_close()


def crawl(sites_dir: Path, db: Path, *sites: str) -> dict[str, dict[str, Any]]:
    """``aggregator crawl SITES`` in a fresh store: each site's crawl record (the hostile
    site mostly fails, its 404s: exit status 3, some sites failed, is expected beside the
    normal one)."""
    done = subprocess.run(
        [sys.executable, "-m", "aggregator.app.cli", "crawl", *sites, "--db", str(db),
         "--sites-dir", str(sites_dir), *SETTINGS],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "AGGREGATOR_SITES_DIRS": "", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    if done.returncode not in (0, 3):
        raise RuntimeError(f"crawl of {sites} exited {done.returncode}: {done.stderr[-2000:]}")
    with open_store(str(db)) as store:
        return {site: dict(record["stats"]) for site, record in store.last_crawls().items()}


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def run(runs: int, site: str) -> dict[str, Any]:
    alone: list[float] = []
    beside: list[float] = []
    hostile: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, SampleWeb() as web, hostile_server() as base:
        folder = Path(tmp)
        sites_dir = folder / "sites"
        web.write_site_definitions(sites_dir)
        (sites_dir / "nang.toml").write_text(HOSTILE.format(base=base), encoding="utf-8")
        for n in range(runs):
            records = crawl(sites_dir, folder / f"alone-{n}.db", site)
            alone.append(float(records[site]["duration_s"]))
            records = crawl(sites_dir, folder / f"beside-{n}.db", site, "nang")
            beside.append(float(records[site]["duration_s"]))
            nang = records["nang"]
            hostile.append({k: nang.get(k) for k in ("duration_s", "requests", "error_detail",
                                                     "capped", "inserted")})  # fmt: skip
            print(f"run {n + 1}: {site} alone {alone[-1]:.2f} s, beside {beside[-1]:.2f} s",
                  flush=True)  # fmt: skip
    ratios = [b / a for a, b in zip(alone, beside, strict=True)]
    return {
        "site": site,
        "runs": runs,
        "alone_s": _spread(alone),
        "beside_s": _spread(beside),
        "ratio": _spread(ratios),
        "hostile": hostile,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--site", default="tamdao")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    results = run(args.runs, args.site)
    text = json.dumps(results, indent=1, default=str)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
