"""A generated sample web of thousands of articles, served by its own process.

    python -m benchmarks.bigweb --articles 5000 [--seed 8] [--write-sites DIR]

The four newspapers of :mod:`sampleweb` with their bundled ground truth
(wire copies, republications, old URL schemes and all) plus ``articles`` generated
ones, spread evenly over the four sites: each new article copies the shape of a
random bundled article of its site (sections, categories, source tag, byline,
photos and their captions, tags, tracking links) and gets a new id, a new title, a
new lead and new paragraphs made of the ground truth's sentences (shuffled, with
their numbers changed), and a publication time before the oldest bundled article
(1-4 hours apart per site), so the bundled articles stay the newest. Deterministic
for a seed. Listing pages show 20 articles (``--page-size``; the bundled templates
show 8 or 9, and link every other page of the section from each). Nothing is written
to the repository: the ground truth lives in memory.

Like ``python -m sampleweb``, the first line on stdout is the server URL,
then one line per newspaper ``<id> <base_url>``, then ``ready <pages> <articles>``;
it serves until SIGTERM. ``--write-sites DIR`` writes the site definitions with this
server's URLs and ``max_listing_pages`` raised so that every listing page is crawled.
Connections are kept alive (HTTP/1.1), as a real web server's are; ``--close`` answers
HTTP/1.0, a connection per request.
"""

from __future__ import annotations

import argparse
import random
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType

from aggregator.normalize.text import slugify
from sampleweb import SampleWeb
from sampleweb.base import SiteTemplate
from sampleweb.groundtruth import Block, GroundTruthArticle
from sampleweb.render import TEMPLATES, article_paths, load_all_ground_truth, render_web

__all__ = [
    "GroundTruth",
    "article_urls",
    "check",
    "fast_templates",
    "generate",
    "main",
    "site_definition",
]

GroundTruth = dict[str, list[GroundTruthArticle]]

#: ids of generated articles start here (bundled ids are below 4,000,000)
FIRST_ID = 5_000_000
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
_NUMBER = re.compile(r"\d+")
#: articles a listing page (0: the templates' own, 8 or 9)
PAGE_SIZE = 20
#: listen backlog of the server (``socketserver``'s default, 5, overflows under a crawl)
BACKLOG = 128
_MAX_LISTING_PAGES = re.compile(r"^max_listing_pages\s*=\s*\d+", re.MULTILINE)


class _Sentences:
    def __init__(self, truth: Mapping[str, Sequence[GroundTruthArticle]], seed: int) -> None:
        self.rng = random.Random(seed)
        articles = [a for site in sorted(truth) for a in truth[site]]
        self.sentences = [
            s
            for a in articles
            for b in a.body
            if b.type == "p"
            for s in _SENTENCE.split(b.text)
            if len(s.split()) >= 6
        ]
        self.titles = [a.title.split() for a in articles]

    def _renumber(self, text: str) -> str:
        return _NUMBER.sub(lambda m: str(self.rng.randint(2, 2999)), text)

    def sentence(self) -> str:
        return self._renumber(self.rng.choice(self.sentences))

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 4)))

    def title(self) -> str:
        """The start of one headline and the end of another."""
        first, second = self.rng.choice(self.titles), self.rng.choice(self.titles)
        cut = self.rng.randint(2, max(2, len(first) - 2))
        words = first[:cut] + second[min(cut, len(second) - 2) :]
        return self._renumber(" ".join(words))


def _new_article(
    model: GroundTruthArticle, n: int, text: _Sentences, published: timedelta
) -> GroundTruthArticle:
    body: list[Block] = []
    for block in model.body:
        if block.type == "p":
            body.append(Block("p", text.paragraph()))
        elif block.type == "h":
            body.append(Block("h", text.title()))
        else:
            body.append(block)
    # at least four paragraphs: a page's worth of text
    while sum(b.type == "p" for b in body) < 4:
        body.append(Block("p", text.paragraph()))
    title = text.title()
    return replace(
        model,
        key=f"{model.site}-gen{n:06d}",
        id=FIRST_ID + n,
        slug=slugify(title)[:80].strip("-") or f"bai-{n}",
        title=title,
        lead=text.sentence(),
        body=tuple(body),
        published=model.published - published,
        wire=None,
        story="",
        event=None,
        # old-scheme aliases would all land in the "Tin cũ" box of a listing's first page
        aliases=tuple(x for x in model.aliases if x == "tracking"),
    )


def generate(articles: int, seed: int = 8) -> GroundTruth:
    """The bundled ground truth plus ``articles`` generated articles (same seed, same web)."""
    bundled = load_all_ground_truth()
    text = _Sentences(bundled, seed)
    sites = sorted(bundled)
    truth: GroundTruth = {site: list(bundled[site]) for site in sites}
    oldest = {site: min(a.published for a in bundled[site]) for site in sites}
    age = dict.fromkeys(sites, timedelta(0))
    for n in range(articles):
        site = sites[n % len(sites)]
        model = text.rng.choice(bundled[site])
        age[site] += timedelta(minutes=text.rng.randint(60, 240))
        # published relative to the model: the model's time of day shifts with it
        shift = model.published - oldest[site] + age[site]
        truth[site].append(_new_article(model, n, text, shift))
    return truth


def article_urls(origin: str, article: GroundTruthArticle) -> list[str]:
    """Every URL of an article on the server at ``origin``, its own first."""
    base = origin.rstrip("/")
    return [base + path for path in article_paths(article)]


def site_definition(web: SampleWeb, site_id: str, max_listing_pages: int = 10_000) -> str:
    """The served site's definition with pagination uncapped (the bundled ones stop at 10)."""
    text = web.site_definition(site_id)
    return _MAX_LISTING_PAGES.sub(f"max_listing_pages = {max_listing_pages}", text)


@contextmanager
def listing_size(articles: int | None) -> Iterator[None]:
    """Listing pages of ``articles`` links each while in the block (None: the templates' own).

    The bundled templates list 8 or 9 articles a page, and their pagers link every page
    of a section: with thousands of articles that is hundreds of listing pages, each
    linking all the others (quadratic work for any crawler). Real provincial sites list
    15-30 articles a page.
    """
    saved = {site: t.page_size for site, t in TEMPLATES.items()}
    if articles is not None:
        for template in TEMPLATES.values():
            template.page_size = articles
    try:
        yield
    finally:
        for site, size in saved.items():
            TEMPLATES[site].page_size = size


@contextmanager
def fast_templates() -> Iterator[None]:
    """Make two template helpers linear while in the block: rendering is quadratic.

    ``SiteTemplate.related`` filters a section with ``x not in older`` (a list of
    frozen dataclasses compared field by field) for every article page, and
    ``most_read`` sorts the whole site for every page: 5,000 articles take minutes.
    Both are replaced, in this process only, by versions that return the same articles
    in the same order from per-template caches: the pages are byte for byte the same
    (``python -m benchmarks.bigweb --check`` compares them).
    """
    original_related = SiteTemplate.related
    original_most_read = SiteTemplate.most_read

    def related(self: SiteTemplate, a: GroundTruthArticle, n: int = 4) -> list[GroundTruthArticle]:
        sections: dict[str, tuple[list[GroundTruthArticle], dict[int, int]]]
        sections = self.__dict__.setdefault("_bench_sections", {})
        if a.section not in sections:
            same = self.in_section(a.section)  # newest first
            sections[a.section] = (same, {id(x): i for i, x in enumerate(same)})
        same, positions = sections[a.section]
        i = positions.get(id(a))
        if i is None:
            return original_related(self, a, n)
        # the next older ones, then the newer ones from the closest
        return (same[i + 1 : i + 1 + n] + same[:i][::-1])[:n]

    def most_read(self: SiteTemplate, n: int) -> list[GroundTruthArticle]:
        cache: dict[int, list[GroundTruthArticle]] = self.__dict__.setdefault("_bench_read", {})
        if n not in cache:
            cache[n] = original_most_read(self, n)
        return list(cache[n])

    SiteTemplate.related = related  # type: ignore[method-assign]
    SiteTemplate.most_read = most_read  # type: ignore[method-assign]
    try:
        yield
    finally:
        SiteTemplate.related = original_related  # type: ignore[method-assign]
        SiteTemplate.most_read = original_most_read  # type: ignore[method-assign]


def check(articles: int = 400, seed: int = 8) -> bool:
    """The fast helpers render the same bytes as the templates' own (a small web)."""
    truth = generate(articles, seed)
    origin = "http://127.0.0.1:8047/"
    slow = render_web(origin, truth)
    with fast_templates():
        fast = render_web(origin, truth)
    same = slow.keys() == fast.keys() and all(slow[k] == fast[k] for k in slow)
    print(f"{len(slow)} pages: {'identical' if same else 'DIFFERENT'}")
    return same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--articles", type=int, default=5000, help="generated articles")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--page-size", type=int, default=PAGE_SIZE, help="articles a listing page")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--write-sites", type=Path, metavar="DIR")
    parser.add_argument("--access-log", type=Path, metavar="FILE")
    parser.add_argument("--check", action="store_true", help="check the fast helpers, exit")
    parser.add_argument("--close", action="store_true", help="HTTP/1.0: one connection per request")
    args = parser.parse_args(argv)
    if args.check:
        return 0 if check() else 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    t0 = time.perf_counter()
    truth = generate(args.articles, args.seed)
    # socketserver listens with a backlog of 5: with 16 connections opened at once by
    # the crawlers, SYNs overflow it and wait for the 1-second retransmission (see
    # BACKLOG); a real web server's backlog is in the hundreds
    ThreadingHTTPServer.request_queue_size = BACKLOG
    # the sample web answers HTTP/1.0 (a connection per request, closed after it); a real
    # web server keeps connections alive, as HTTP/1.1 does: every answer has a length
    if not args.close:
        BaseHTTPRequestHandler.protocol_version = "HTTP/1.1"
    web = SampleWeb(port=args.port, access_log=args.access_log, ground_truth=truth)
    with fast_templates(), listing_size(args.page_size or None):
        web.start()
    try:
        if args.write_sites:
            args.write_sites.mkdir(parents=True, exist_ok=True)
            for site in web.sites:
                path = args.write_sites / f"{site}.toml"
                path.write_text(site_definition(web, site), encoding="utf-8")
        print(web.url)
        for site in web.sites:
            print(site, web.base_url(site))
        pages = len(web._pages.exact)
        total = sum(len(v) for v in truth.values())
        print(f"ready {pages} {total} {time.perf_counter() - t0:.1f}s", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        web.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
