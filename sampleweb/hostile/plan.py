"""The hostile web's fault plan: which faults, bad inputs and attacks a seed chooses, and
where; the ground truth of them (:class:`HostilePlan`). Pure: no I/O, no server; how each
fault is served is in :mod:`sampleweb.hostile.pages` and :mod:`sampleweb.hostile.handlers`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sampleweb.base import SiteTemplate
from sampleweb.groundtruth import GroundTruthArticle
from sampleweb.hostile.payloads import PayloadArticle, payload_articles
from sampleweb.render import TEMPLATES, load_all_ground_truth

#: A hanging answer is held this long at most (well over the crawl's DOWNLOAD_TIMEOUT).
HANG_SECONDS = 45.0
#: How long a slow page takes to arrive (well under the crawl's DOWNLOAD_TIMEOUT).
SLOW_SECONDS = 0.8
#: Article links a crawl of the hostile web takes from one listing page (the sample
#: listings have under 40; the "costly-links" block has thousands).
LISTING_MAX_LINKS = 100
#: Scrapy settings a crawl of the hostile web should use: hangs cost 3 x the timeout.
CRAWL_SETTINGS: dict[str, Any] = {
    "DOWNLOAD_TIMEOUT": 3,
    "AGGREGATOR_LISTING_MAX_LINKS": LISTING_MAX_LINKS,
}
#: Pages that cost a parser more than their size (:mod:`sampleweb.hostile.costly`), on
#: baden: kind -> (failure class, what a bounded crawl does).
COSTLY_FAULTS: dict[str, tuple[str | None, str]] = {
    "costly-figures": ("extraction", "4,000 figures and no text: read in time, not an article"),
    "costly-nesting": ("too_complex", "2,048 levels of <div>: over the depth bound, abandoned"),
    "costly-links": (None, "8,000 article links in one <div> of a listing, each redirecting "
                     "to an article: the listing read in time, the links capped"),
}  # fmt: skip


@dataclass(frozen=True)
class Fault:
    """One fault of the hostile web, as recorded in its ground truth."""

    kind: str
    site: str
    #: the server path (with query) it is served at; a regex for traps
    path: str
    #: the ground-truth key of the article served there, if any
    article: str | None = None
    #: a crawl can store that article (after retries)
    servable: bool = True
    #: the failure class the crawl records (and ``status`` names) when it cannot
    failure: str | None = None
    #: requests that fail before the page is served (per-request faults)
    fails: int = 0
    #: traps: the most requests a crawl may make to paths matching ``path``
    bound: int | None = None
    #: what the crawl refuses to follow there (counted in the crawl record's ``refused``)
    refused: str | None = None
    #: what a polite crawl must do, in words
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v not in (None, "", 0)}
        if self.article:
            out["servable"] = self.servable
        return out


@dataclass
class HostilePlan:
    """The hostile ground truth: the web's articles and every fault, from one seed."""

    seed: int
    #: site id -> articles served (the normal ground truth plus the payload articles)
    ground_truth: dict[str, list[GroundTruthArticle]]
    faults: list[Fault] = field(default_factory=list)
    payload_articles: list[PayloadArticle] = field(default_factory=list)
    #: article key -> extra server paths (with query) that serve it ("many-urls")
    extra_paths: dict[str, list[str]] = field(default_factory=dict)

    @property
    def articles(self) -> list[GroundTruthArticle]:
        return [a for site in sorted(self.ground_truth) for a in self.ground_truth[site]]

    def unservable_keys(self) -> set[str]:
        return {f.article for f in self.faults if f.article and not f.servable}

    def servable(self) -> list[GroundTruthArticle]:
        """Every article a polite crawl can store, with the fields a safe store keeps."""
        safe = {p.article.key: p for p in self.payload_articles}
        out = []
        for a in self.articles:
            if a.key in self.unservable_keys():
                continue
            if a.key in safe:
                p = safe[a.key]
                a = replace(a, title=p.expected_title, lead=p.expected_lead, body=p.expected_body)
            out.append(a)
        return out

    def paths_of(self, a: GroundTruthArticle) -> list[str]:
        """Every server path serving an article: its own, its aliases, its extra URLs."""
        template = TEMPLATES[a.site]
        return [
            template.article_path(a),
            *template.alias_paths(a),
            *self.extra_paths.get(a.key, []),
        ]

    def flagged(self, flag: str) -> set[str]:
        """Keys of the articles stored with ``flag`` (only encoding_garbled here)."""
        kinds = {"encoding_garbled": ("wrong-charset",)}[flag]
        return {f.article for f in self.faults if f.kind in kinds and f.article}

    def failures(self) -> dict[str, Counter[str]]:
        """Site id -> failure class -> how many the crawl must record."""
        out: dict[str, Counter[str]] = {s: Counter() for s in self.ground_truth}
        for f in self.faults:
            if f.failure:
                out[f.site][f.failure] += 1
        return out

    def refusals(self) -> dict[str, Counter[str]]:
        """Site id -> what is refused (``link``, ``meta_refresh``) -> how many times."""
        out: dict[str, Counter[str]] = {s: Counter() for s in self.ground_truth}
        for f in self.faults:
            if f.refused:
                out[f.site][f.refused] += 1
        return out

    def traps(self) -> list[Fault]:
        return [f for f in self.faults if f.bound is not None]

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "crawl_settings": CRAWL_SETTINGS,
            "faults": [f.to_json() for f in self.faults],
            "payload_articles": [p.to_json() for p in self.payload_articles],
            "extra_paths": self.extra_paths,
            "failures": {s: dict(sorted(c.items())) for s, c in sorted(self.failures().items())},
            "servable": sorted(a.key for a in self.servable()),
            "unservable": sorted(self.unservable_keys()),
        }


# -- the plan ---------------------------------------------------------------------------------


def _plain_articles(articles: Sequence[GroundTruthArticle]) -> list[GroundTruthArticle]:
    """Articles of their own story, without aliases or events: a fault on one of them
    changes nothing else of the ground truth."""
    return [
        a for a in articles if a.story == a.key and not a.aliases and not a.event and not a.wire
    ]


def _fake(template: type[SiteTemplate], base: GroundTruthArticle, n: int, slug: str) -> str:
    """An article-like path of a site that serves no article (id 98xxxx)."""
    return template.article_path(replace(base, key=f"{base.site}-x{n}", id=980000 + n, slug=slug))


#: Per-request faults on ground-truth articles: kind -> (servable, failure, fails).
ARTICLE_FAULTS: dict[str, tuple[bool, str | None, int]] = {
    "burst": (True, None, 2),
    "429": (True, None, 1),
    "slow": (True, None, 0),
    "hang-once": (True, None, 1),
    "reset": (True, None, 1),
    "truncated-once": (True, None, 1),
    "http-500": (False, "http_500", 10**9),
    "hang": (False, "timeout", 10**9),
    "truncated": (False, "truncated", 10**9),
}
#: Pages rendered differently (all servable).
PAGE_FAULTS = (
    "no-charset", "wrong-charset", "windows-1258", "windows-1258-meta", "octet-stream",
    "malformed", "stray-end-tags", "xml-invalid", "payload",
)  # fmt: skip
#: New URLs linked from a listing: kind -> failure class.
URL_FAULTS: dict[str, str] = {
    "gzip-bomb": "too_large",
    "oversize": "too_large",
    "oversize-stream": "too_large",
    "redirect-loop": "redirect_loop",
    "redirect-chain": "redirect_loop",
    "redirect-offsite": "offsite_redirect",
    "not-html-pdf": "not_html",
    "not-html-image": "not_html",
    "not-html-json": "not_html",
}
#: Links, redirects and meta refreshes off the site's scope: kind -> (failure class, what
#: the crawl refuses). ``other port``: a second listener of the hostile web, serving
#: ``/evil/`` like the first; ``file-link`` names a local file the hostile web writes.
SCOPE_FAULTS: dict[str, tuple[str | None, str | None]] = {
    "file-link": (None, "link"),
    "port-link": (None, "link"),
    "port-redirect": ("offsite_redirect", None),
    "meta-refresh-javascript": (None, "meta_refresh"),
    "meta-refresh-file": (None, "meta_refresh"),
    "meta-refresh-port": (None, "meta_refresh"),
}
#: Query variants of "many-urls", by site (the article regexes of baden and tamdao end in
#: ``.html$``: no query; songcau and caonguyen accept one).
_VARIANTS = {
    "songcau": ("?utm_source=facebook&utm_campaign=chia-se", "?fbclid=IwAR0hostile",
                "?PHPSESSID=5f2b9c0e7d&ref=home", "?page=1"),
    "caonguyen": ("?utm_source=zalo&utm_medium=social", "?gclid=Cj0KCQhostile",
                  "?zarsrc=30&utm_campaign=tin-moi"),
}  # fmt: skip


def plan_hostile_web(
    seed: int, ground_truth: Mapping[str, Sequence[GroundTruthArticle]] | None = None
) -> HostilePlan:
    """The hostile ground truth for ``seed``: which article or page gets which fault."""
    base = dict(ground_truth or load_all_ground_truth())
    missing = set(TEMPLATES) - set(base)
    if missing:
        raise ValueError(f"the hostile web needs all four newspapers; missing {sorted(missing)}")
    rng = random.Random(seed)
    payloads = payload_articles()
    gt = {
        s: [*base[s], *(p.article for p in payloads if p.article.site == s)] for s in sorted(base)
    }
    plan = HostilePlan(seed, gt, payload_articles=payloads)
    sites = sorted(gt)
    pools = {s: _plain_articles(base[s]) for s in sites}
    for pool in pools.values():
        rng.shuffle(pool)

    def take(site: str) -> GroundTruthArticle:
        return pools[site].pop()

    for kind, (servable, failure, fails) in ARTICLE_FAULTS.items():
        site = rng.choice(sites)
        a = take(site)
        plan.faults.append(
            Fault(kind, site, TEMPLATES[site].article_path(a), a.key, servable, failure, fails)
        )
    for kind in PAGE_FAULTS:
        site = rng.choice(sites)
        a = take(site)
        plan.faults.append(Fault(kind, site, TEMPLATES[site].article_path(a), a.key))
    for site, variants in _VARIANTS.items():
        a = take(site)
        path = TEMPLATES[site].article_path(a)
        plan.extra_paths[a.key] = [path + v for v in variants]
        plan.faults.append(Fault("many-urls", site, path, a.key, note=" ".join(variants)))
    a = take("baden")  # a percent-encoded path (baden's regex takes any slug)
    path = TEMPLATES["baden"].article_path(a)
    encoded = path.replace(f"/baden/{a.slug[0]}", f"/baden/%{ord(a.slug[0]):02X}", 1)
    plan.extra_paths[a.key] = [encoded]
    plan.faults.append(Fault("many-urls", "baden", path, a.key, note=encoded))
    for p in payloads:
        path = TEMPLATES[p.article.site].article_path(p.article)
        plan.faults.append(Fault("payload-article", p.article.site, path, p.article.key))
    for n, (kind, failure) in enumerate(URL_FAULTS.items(), start=1):
        site = rng.choice(sites)
        first = base[site][0]
        path = _fake(TEMPLATES[site], first, n, f"tin-{kind}")
        plan.faults.append(Fault(kind, site, path, None, False, failure))
    plan.faults.append(
        Fault("redirect-offsite-feed", "songcau", "/songcau/rss/kinh-te.rss", None, False,
              "offsite_redirect", note="a start URL (an RSS feed) redirecting off-site")
    )  # fmt: skip
    for kind, path in (
        ("billion-laughs", "/songcau/rss/y-te.rss"),
        ("xxe", "/songcau/rss/giao-duc.rss"),
        ("billion-laughs", "/songcau/sitemap-bomb.xml"),
        ("xxe", "/songcau/sitemap-xxe.xml"),
        ("sitemap-index", "/songcau/sitemap.xml"),
    ):
        plan.faults.append(Fault(kind, "songcau", path, None, note="nothing expanded or fetched"))
    # traps: bounded by the per-source pagination limit of the site definitions (10)
    section = rng.choice(sorted(TEMPLATES["baden"].sections))
    plan.faults.append(
        Fault("calendar-trap", "baden", rf"^/baden/{section}/\?p=1&d=\d{{4}}-\d\d-\d\d$",
              None, bound=10, note=f"linked from /baden/{section}/")
    )  # fmt: skip
    section = rng.choice(sorted(TEMPLATES["tamdao"].sections))
    plan.faults.append(
        Fault("pagination-trap", "tamdao", rf"^/tamdao/{section}/p/\d+$", None, bound=10,
              note="every page past the last links the next")
    )  # fmt: skip
    # the normal web's broken links (baden's phap-luat listing)
    baden = TEMPLATES["baden"]
    plan.faults.append(Fault("dead-link", "baden", baden.HARD_404, None, False, "http_404"))  # type: ignore[attr-defined]
    plan.faults.append(Fault("soft-404", "baden", baden.SOFT_404, None, False, "extraction"))  # type: ignore[attr-defined]
    first = base["baden"][0]
    for n, (kind, (failure, note)) in enumerate(COSTLY_FAULTS.items(), start=50):
        if kind == "costly-links":  # the links' paths, a trap bounded by the cap
            path, bound = r"^/baden/tin-dong-\d+-a97\d{4}\.html$", LISTING_MAX_LINKS
            plan.faults.append(Fault(kind, "baden", path, None, bound=bound, note=note))
        else:
            path = _fake(TEMPLATES["baden"], first, n, f"tin-{kind}")
            plan.faults.append(Fault(kind, "baden", path, None, False, failure, note=note))
    # off the site's scope (drawn last: the faults above stay where earlier seeds put them)
    for n, (kind, (failure, refused)) in enumerate(SCOPE_FAULTS.items(), start=len(URL_FAULTS) + 1):
        site = rng.choice(sites)
        if kind.startswith("meta-refresh"):  # an article page with the refresh: kept
            a = take(site)
            path = TEMPLATES[site].article_path(a)
            plan.faults.append(Fault(kind, site, path, a.key, refused=refused))
        else:
            path = _fake(TEMPLATES[site], base[site][0], n, f"tin-{kind}")
            plan.faults.append(Fault(kind, site, path, None, False, failure, refused=refused))
    return plan


def hostile_site_definition(site_id: str, toml: str) -> str:
    """A site definition for the hostile web: songcau also reads its sitemaps."""
    if site_id == "songcau":
        return toml.replace("feeds = [", 'sitemaps = ["sitemap.xml"]\nfeeds = [', 1)
    return toml
