"""The cases deduplication must handle, as the sample web carries them.

Ground truth: ``story`` (copies to merge), ``event`` (hard negatives: never merge),
``aliases`` (the same page under another URL: an old URL scheme, tracking parameters).
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from parsel import Selector

from aggregator.extract.article import extract_article
from aggregator.normalize.rules import split_source_tag
from aggregator.normalize.text import fold
from aggregator.normalize.urls import canonicalize_url
from aggregator.sites.definition import SiteDefinition, load_site
from sampleweb import Page, render_web
from sampleweb.base import tracking_query
from sampleweb.evaluate import tokens
from sampleweb.groundtruth import GroundTruthArticle, load_ground_truth_file
from sampleweb.render import (
    TEMPLATES,
    article_path,
    article_paths,
    load_all_ground_truth,
    site_definition,
)

ORIGIN = "http://127.0.0.1:8000/"
GT = load_all_ground_truth()
SITES = sorted(GT)
ALL = [a for site in SITES for a in GT[site]]
BY_KEY = {a.key: a for a in ALL}
ALIAS_SCHEMES = {
    ("tamdao", "old-scheme"): r"/tamdao/Tin-tuc/(\d+)\.aspx",
    ("baden", "old-scheme"): r"/baden/tin-tuc/([a-z0-9-]+)-post(\d+)\.html",
}
TRACKING = re.compile(r"utm_source=zalo&utm_medium=social&fbclid=IwAR[A-Za-z0-9_-]{20,}")

pytestmark = pytest.mark.skipif(
    set(SITES) != set(TEMPLATES), reason="the dedup cases need the four bundled newspapers"
)


@pytest.fixture(scope="module")
def pages() -> dict[str, Page]:
    return render_web(ORIGIN, GT)


@pytest.fixture(scope="module")
def sitedefs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SiteDefinition]:
    folder = tmp_path_factory.mktemp("sites")
    out = {}
    for site_id in SITES:
        path = folder / f"{site_id}.toml"
        path.write_text(site_definition(site_id, f"{ORIGIN}{site_id}/"), encoding="utf-8")
        out[site_id] = load_site(path)
    return out


def url_of(path: str) -> str:
    return ORIGIN + path.lstrip("/")


def stories() -> dict[str, list[GroundTruthArticle]]:
    out: dict[str, list[GroundTruthArticle]] = {}
    for a in ALL:
        out.setdefault(a.story, []).append(a)
    return out


def with_alias(kind: str) -> list[GroundTruthArticle]:
    return [a for a in ALL if kind in a.aliases]


def shingles(a: GroundTruthArticle, n: int = 3) -> set[tuple[str, ...]]:
    """Word 3-grams of the folded text (one tone-mark style: "khoẻ" = "khỏe")."""
    words = tokens(fold(" ".join([a.title, a.lead, a.body_text])))
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


SHINGLES = {a.key: shingles(a) for a in ALL}


def jaccard(a: GroundTruthArticle, b: GroundTruthArticle) -> float:
    x, y = SHINGLES[a.key], SHINGLES[b.key]
    return len(x & y) / len(x | y)


# -- ground truth -----------------------------------------------------------------------


def test_stories_to_merge() -> None:
    groups = {s: g for s, g in stories().items() if len(g) > 1}
    assert set(groups) == {"w1", "w2", "w3", "songcau-039"}
    for a in ALL:
        assert a.story == (a.wire or a.story), f"{a.key}: a wire copy's story is its wire id"
        if len(stories()[a.story]) == 1:
            assert a.story == a.key, f"{a.key}: a story of its own is keyed by the article"
    w3 = sorted(groups["w3"], key=lambda a: a.published)
    assert [a.site for a in w3] == ["tamdao", "songcau", "caonguyen"]
    assert all(a.authors == ("TTXVN",) and not a.images for a in w3)
    assert "khoẻ" in w3[2].title and "khỏe" in w3[0].title  # old tone marks on caonguyen
    assert w3[-1].published - w3[0].published < timedelta(days=1)
    # the edited re-publication: same site and story, new URL, 2-5 days after the original
    original, again = sorted(groups["songcau-039"], key=lambda a: a.published)
    assert original.key == "songcau-039" and original.site == again.site == "songcau"
    assert again.id != original.id and article_path(again) != article_path(original)
    assert timedelta(days=2) <= again.published - original.published <= timedelta(days=5)
    assert again.title != original.title and again.lead != original.lead
    assert len(again.body) == len(original.body) + 1


def test_near_duplicates_are_near_and_hard_negatives_are_not() -> None:
    """Copies of a story share most 3-word shingles; other articles, even about the same
    event (same names, places, date), are written independently."""
    for group in stories().values():
        for a, b in itertools.combinations(group, 2):
            assert jaccard(a, b) >= 0.5, (a.key, b.key)
    events: dict[str, list[GroundTruthArticle]] = {}
    for a in ALL:
        if a.event:
            events.setdefault(a.event, []).append(a)
    assert sorted(events) == ["e1", "e2", "e3"]
    for event, (a, b) in ((e, g) for e, g in events.items() if len(g) == 2):
        assert a.site != b.site and a.story != b.story, event
        assert a.published.date() - b.published.date() <= timedelta(days=2), event
        assert jaccard(a, b) <= 0.1, (event, a.key, b.key)
    assert all(len(g) == 2 for g in events.values())
    for a, b in itertools.combinations(ALL, 2):
        if a.story != b.story:
            assert jaccard(a, b) <= 0.25, (a.key, b.key)


def test_aliases_in_the_ground_truth() -> None:
    old = [a.key for a in with_alias("old-scheme")]
    tracking = [a.key for a in with_alias("tracking")]
    assert sorted(old) == [f"baden-{n:03d}" for n in (2, 7, 10)] + [
        f"tamdao-{n:03d}" for n in (3, 6, 9)
    ]
    assert sorted(tracking) == ["caonguyen-019", "caonguyen-030", "songcau-020", "songcau-032"]


def test_old_files_load_and_bad_values_fail(tmp_path: Path) -> None:
    """A file without story/event/aliases loads as before; bad values are rejected."""
    raw = {
        "key": "x-001",
        "id": 1,
        "slug": "x",
        "sections": ["kinh-te"],
        "category": "kinh-te",
        "categories": ["kinh-te"],
        "title": "Tiêu đề",
        "lead": "Sa pô",
        "source_tag": None,
        "body": [{"type": "p", "text": "Đoạn văn."}],
        "byline": "A",
        "authors": ["A"],
        "published": "2026-10-01T08:00:00+07:00",
    }
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"site": "x", "articles": [raw]}), encoding="utf-8")
    (a,) = load_ground_truth_file(path)
    assert (a.story, a.event, a.aliases, a.wire) == ("x-001", None, (), None)
    for bad in ({"aliases": ["amp"]}, {"aliases": "tracking"}, {"story": ""}, {"event": 3}):
        path.write_text(json.dumps({"site": "x", "articles": [raw | bad]}), encoding="utf-8")
        with pytest.raises(ValueError, match="x-001"):
            load_ground_truth_file(path)
    path.write_text(
        json.dumps({"site": "x", "articles": [raw | {"story": "w9", "event": "e9"}]}),
        encoding="utf-8",
    )
    (a,) = load_ground_truth_file(path)
    assert (a.story, a.event) == ("w9", "e9")


# -- URLs ---------------------------------------------------------------------------


def test_alias_url_schemes() -> None:
    for a in ALL:
        paths = article_paths(a)
        template = TEMPLATES[a.site]
        assert paths == [article_path(a), *template.alias_paths(a)]
        assert len(paths) == 1 + len(a.aliases)
        for kind, path in zip(a.aliases, paths[1:], strict=True):
            if kind == "tracking":
                clean, _, query = path.partition("?")
                assert clean == article_path(a) and TRACKING.fullmatch(query), path
                assert query == tracking_query(a)
                assert canonicalize_url(url_of(path)) == url_of(article_path(a))
            else:
                m = re.fullmatch(ALIAS_SCHEMES[(a.site, kind)], path)
                assert m and str(a.id) in m.groups(), path
    queries = {tracking_query(a) for a in with_alias("tracking")}
    assert len(queries) == len(with_alias("tracking"))  # one fbclid per article
    songcau = replace(GT["songcau"][0], aliases=("old-scheme",))
    with pytest.raises(ValueError, match="no old URL scheme"):
        TEMPLATES["songcau"].alias_paths(songcau)


# -- pages ----------------------------------------------------------------------------


def _extracted(path: str, html: str, site: SiteDefinition) -> tuple[object, ...]:
    e = extract_article(url_of(path), html, site)
    lead, _ = split_source_tag(e.lead)
    return (e.title, lead, tuple(e.body_lines), tuple(e.authors), e.published, e.section)


def _canonical(html: str) -> str | None:
    return Selector(text=html).css('link[rel="canonical"]::attr(href)').get()


def test_aliases_serve_the_same_article(
    pages: dict[str, Page], sitedefs: dict[str, SiteDefinition]
) -> None:
    for a in with_alias("old-scheme") + with_alias("tracking"):
        main = pages[article_path(a)]
        html = main.body.decode()
        want = _extracted(article_path(a), html, sitedefs[a.site])
        assert want[:2] == (a.title, a.lead)
        for kind, path in zip(a.aliases, article_paths(a)[1:], strict=True):
            alias = pages[path]
            assert (alias.status, alias.content_type) == (200, main.content_type)
            got = _extracted(path, alias.body.decode(), sitedefs[a.site])
            assert got == want, (a.key, kind)
            if kind == "tracking":
                assert alias.body == main.body  # the very same page
            canonical = _canonical(alias.body.decode())
            if a.site == "tamdao":  # the old CMS printed none: two URLs, one content
                assert canonical is None and _canonical(html) == url_of(article_path(a))
                og = Selector(text=alias.body.decode()).css("meta[property='og:url']")
                assert og.attrib["content"] == url_of(path)
            elif a.site == "caonguyen":  # never any metadata
                assert canonical is None
            else:  # baden's old scheme and songcau's tracking URL point at the clean URL
                assert canonical == url_of(article_path(a))


def _section_links(pages: dict[str, Page], site_id: str) -> dict[str, list[str]]:
    template = TEMPLATES[site_id](GT[site_id], ORIGIN)
    out: dict[str, list[str]] = {}
    for section in template.sections:
        for n in range(1, len(template.listing_chunks(section)) + 1):
            sel = Selector(text=pages[template.listing_path(section, n)].body.decode())
            out.setdefault(section, []).extend(sel.css("a::attr(href)").getall())
    return out


def test_listings_link_tracking_urls_instead_of_clean_ones(pages: dict[str, Page]) -> None:
    for site_id in ("songcau", "caonguyen"):
        links = _section_links(pages, site_id)
        template = TEMPLATES[site_id](GT[site_id], ORIGIN)
        tagged = [template.tag_path(t) for t in template.tags]
        for a in (x for x in with_alias("tracking") if x.site == site_id):
            tracked = template.tracking_path(a)
            for section in a.sections:
                # the clean URL appears only in side boxes (latest, most read), never as an item
                assert tracked in links[section], (a.key, section)
            for path in [template.root, *tagged]:
                sel = Selector(text=pages[path].body.decode())
                items = sel.css("article.story h3 a::attr(href), a.tieudetin::attr(href)").getall()
                assert article_path(a) not in items, (a.key, path)
            assert any(tracked in pages[p].body.decode().replace("&amp;", "&") for p in tagged), (
                a.key
            )
        listing_items = {
            "songcau": "div.story-list article.story h3 a::attr(href)",
            "caonguyen": "table.tbl-danhsach td.tin a.tieudetin::attr(href)",
        }[site_id]
        clean = {article_path(a) for a in with_alias("tracking")}
        for section in template.sections:
            for n in range(1, len(template.listing_chunks(section)) + 1):
                sel = Selector(text=pages[template.listing_path(section, n)].body.decode())
                assert not clean & set(sel.css(listing_items).getall()), (section, n)
        # the query is HTML-escaped in the markup
        a = next(x for x in with_alias("tracking") if x.site == site_id)
        chunks = range(1, len(template.listing_chunks(a.section)) + 1)
        body = "".join(pages[template.listing_path(a.section, n)].body.decode() for n in chunks)
        assert "&amp;utm_medium=social&amp;fbclid=" in body, a.key


def test_old_scheme_urls_are_linked_from_the_first_listing_page(pages: dict[str, Page]) -> None:
    for a in with_alias("old-scheme"):
        template = TEMPLATES[a.site](GT[a.site], ORIGIN)
        old = template.old_scheme_path(a)
        first = Selector(text=pages[template.listing_path(a.section, 1)].body.decode())
        box = first.xpath("//*[self::h3 or self::div][normalize-space()='Tin cũ']/..")
        assert old in box.css("a::attr(href)").getall(), a.key
        linking = [
            path
            for path, page in pages.items()
            if page.content_type.startswith("text/html") and f'href="{old}"' in page.body.decode()
        ]
        assert linking == [template.listing_path(a.section, 1)], a.key


def test_site_definitions_know_the_alias_urls(sitedefs: dict[str, SiteDefinition]) -> None:
    for a in ALL:
        site = sitedefs[a.site]
        for path in article_paths(a):
            assert site.is_article(url_of(path)) and not site.is_listing(url_of(path)), path
        if "tracking" in a.aliases:  # whatever order the parameters come in
            path = article_paths(a)[1]
            clean, _, query = path.partition("?")
            shuffled = "&".join(f"{k}={v}" for k, v in reversed(parse_qsl(query)))
            assert site.is_article(url_of(f"{clean}?{shuffled}"))
            assert urlsplit(url_of(path)).query == query
