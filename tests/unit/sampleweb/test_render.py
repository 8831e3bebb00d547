"""The sample web's renderer: pure functions from ground truth to pages (no server; the
same bytes in another process: tests/integration/sampleweb/)."""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from html import escape
from urllib.parse import urljoin, urlsplit

import feedparser
import pytest
from parsel import Selector
from protego import Protego

from aggregator.extract.article import extract_article
from aggregator.normalize.rules import split_source_tag
from aggregator.normalize.urls import canonicalize_url
from aggregator.sites.definition import SiteDefinition, load_site
from sampleweb import Page, render_web
from sampleweb.base import HTML, PNG, RSS, TEXT
from sampleweb.caonguyen import legacy_text
from sampleweb.groundtruth import GroundTruthArticle
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
VN = timezone(timedelta(hours=7))

# where each template lists one article on a listing page
LISTING_ITEM = {
    "tamdao": "div.list-news div.story h2 a::attr(href)",
    "baden": "div.list-news div.news-item h3 a::attr(href)",
    "songcau": "div.story-list article.story h3 a::attr(href)",
    "caonguyen": "table.tbl-danhsach td.tin a.tieudetin::attr(href)",
}
# the date as each newspaper prints it on an article page
PRINTED_DATE = {
    "tamdao": ("div.article-date", "{weekday}, %d/%m/%Y"),
    "baden": ("span.news-time", "%H:%M, %d/%m/%Y"),
    "songcau": ("span.article__date", "{weekday_lower}, %H:%M, %d/%m/%Y"),
    "caonguyen": ("td.ngaydang", "%d/%m/%Y %H:%M GMT+7"),
}
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


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


def html_pages(pages: dict[str, Page], site_id: str) -> Iterator[tuple[str, Selector]]:
    for path, page in pages.items():
        if path.startswith(f"/{site_id}/") and page.status == 200 and page.content_type == HTML:
            yield path, Selector(text=page.body.decode("utf-8"))


def resolve(pages: dict[str, Page], target: str) -> Page | None:
    """The page the server answers for an absolute path (exact, or a search page)."""
    if target in pages:
        return pages[target]
    page = pages.get(urlsplit(target).path)
    return page if page is not None and page.any_query else None


def internal_links(path: str, sel: Selector) -> list[str]:
    out = []
    for href in sel.css("a::attr(href)").getall():
        url = urljoin(url_of(path), href)
        if url.startswith(ORIGIN):
            out.append("/" + url[len(ORIGIN) :].split("#")[0])
    return out


# -- ground truth and templates -------------------------------------------------------


def test_every_template_has_ground_truth_and_a_site_definition() -> None:
    assert set(TEMPLATES) == {"tamdao", "baden", "songcau", "caonguyen"}
    assert SITES, "no ground-truth file found"
    for site_id in TEMPLATES:
        assert "{base_url}" in site_definition(site_id, "{base_url}")


@pytest.mark.parametrize("site_id", SITES)
def test_ground_truth_fits_the_templates(site_id: str) -> None:
    """What the renderer relies on: unique URLs, whole minutes, NFC text."""
    articles = GT[site_id]
    assert len({article_path(a) for a in articles}) == len(articles)
    every = [path for a in articles for path in article_paths(a)]  # aliases included
    assert len(set(every)) == len(every)
    for a in articles:
        assert a.published.utcoffset() == timedelta(hours=7), a.key
        assert a.published.second == 0, f"{a.key}: pages print minutes only"
        texts = [a.title, a.lead, a.byline, *(b.text or b.caption for b in a.body)]
        assert all(unicodedata.is_normalized("NFC", t) and "\u00d0" not in t for t in texts)
        assert set(a.sections) <= set(TEMPLATES[site_id].sections), a.key


def test_unknown_section_is_rejected() -> None:
    a = dataclasses.replace(GT[SITES[0]][0], sections=("khong-co",))
    with pytest.raises(ValueError, match="khong-co"):
        render_web(ORIGIN, {SITES[0]: [a]})


# -- determinism ------------------------------------------------------------------------


def test_origin_only_changes_absolute_urls(pages: dict[str, Page]) -> None:
    other = render_web("http://127.0.0.1:9999/", GT)
    assert other.keys() == pages.keys()
    for path, page in pages.items():
        body = other[path].body.replace(b":9999/", b":8000/").replace(b"%3A9999%2F", b"%3A8000%2F")
        assert body == page.body, path


# -- site definitions, links, reachability ------------------------------------------


@pytest.mark.parametrize("site_id", SITES)
def test_site_definition_loads(site_id: str, sitedefs: dict[str, SiteDefinition]) -> None:
    site = sitedefs[site_id]
    template = TEMPLATES[site_id]
    assert (site.id, site.name, site.province) == (site_id, template.name, template.province)
    assert site.base_url == f"{ORIGIN}{site_id}/"
    for section in template.sections:
        assert f"{ORIGIN}{site_id}/{section}/" in site.start_urls["listings"]
    # every section maps to the keys the ground truth expects
    for a in GT[site_id]:
        assert site.categories_for(a.section) == a.categories
        assert site.categories_for(template.sections[a.section]) == a.categories


@pytest.mark.parametrize("site_id", SITES)
def test_article_regex_matches_exactly_the_article_pages(
    site_id: str, pages: dict[str, Page], sitedefs: dict[str, SiteDefinition]
) -> None:
    site = sitedefs[site_id]
    # old URL schemes and links with tracking parameters are article pages too
    articles = {path for a in GT[site_id] for path in article_paths(a)}
    matched = {path for path in pages if site.is_article(url_of(path))}
    # a removed article's soft-404 page looks like an article URL, as on real sites
    soft_404 = {getattr(TEMPLATES[site_id], "SOFT_404", "")} & matched
    assert matched - soft_404 == articles


@pytest.mark.parametrize("site_id", SITES)
def test_listing_regex_matches_exactly_the_pagination(
    site_id: str, pages: dict[str, Page], sitedefs: dict[str, SiteDefinition]
) -> None:
    site = sitedefs[site_id]
    template = TEMPLATES[site_id](GT[site_id], ORIGIN)
    pagination = {
        template.listing_path(s, n)
        for s in template.sections
        for n in range(2, len(template.listing_chunks(s)) + 1)
    }
    assert pagination, "no section has a second page"
    matched = {path for path in pages if site.is_listing(url_of(path))}
    assert matched == pagination
    assert all(pages[p].status == 200 for p in pagination)


@pytest.mark.parametrize("site_id", SITES)
def test_every_article_is_reachable_from_the_listings(
    site_id: str, pages: dict[str, Page], sitedefs: dict[str, SiteDefinition]
) -> None:
    """Follow listing links from each source, at most max_listing_pages pages each."""
    site = sitedefs[site_id]
    found: set[str] = set()
    for start in site.start_urls["listings"]:
        queue, seen = [start], {start}
        fetched = 0
        while queue and fetched < site.links.max_listing_pages:
            url = queue.pop(0)
            page = resolve(pages, "/" + url[len(ORIGIN) :])
            assert page is not None and page.status == 200, url
            fetched += 1
            sel = Selector(text=page.body.decode("utf-8"))
            for href in sel.css("a::attr(href)").getall():
                link = urljoin(url, href)
                if site.is_article(link):
                    found.add(link)
                elif site.is_listing(link) and link not in seen:
                    seen.add(link)
                    queue.append(link)
    expected = {url_of(article_path(a)) for a in GT[site_id]}
    # a listing may link an article only with tracking parameters: found once canonical
    assert expected <= {canonicalize_url(u) for u in found}
    aliases = {url_of(path) for a in GT[site_id] for path in article_paths(a)[1:]}
    assert aliases <= found, "an old-scheme or tracking URL is not linked from the listings"


@pytest.mark.parametrize("site_id", SITES)
def test_listings_show_8_to_10_items_newest_first(site_id: str, pages: dict[str, Page]) -> None:
    template = TEMPLATES[site_id](GT[site_id], ORIGIN)
    by_path = {path: a for a in GT[site_id] for path in article_paths(a)}
    for section in template.sections:
        chunks = template.listing_chunks(section)
        listed: list[GroundTruthArticle] = []
        for n in range(1, len(chunks) + 1):
            sel = Selector(text=pages[template.listing_path(section, n)].body.decode())
            dead = {getattr(template, "SOFT_404", ""), getattr(template, "HARD_404", "")}
            hrefs = [h for h in sel.css(LISTING_ITEM[site_id]).getall() if h not in dead]
            items = [by_path[h] for h in hrefs]
            assert 8 <= len(items) <= 10 or (n == len(chunks) and items), (section, n)
            listed.extend(items)
        assert listed == sorted(listed, key=lambda a: a.published, reverse=True)
        # multi-section articles are listed in every section they name
        assert {a.key for a in listed} == {a.key for a in GT[site_id] if section in a.sections}


@pytest.mark.parametrize("site_id", SITES)
def test_internal_links_resolve(site_id: str, pages: dict[str, Page]) -> None:
    dead = getattr(TEMPLATES[site_id], "HARD_404", "/-")
    for path, sel in html_pages(pages, site_id):
        for link in internal_links(path, sel):
            if link == dead:  # a removed article, linked on purpose
                assert resolve(pages, link) is None
                continue
            page = resolve(pages, link)
            assert page is not None and page.status in (200, 301), f"{path} -> {link}"


@pytest.mark.parametrize("site_id", SITES)
def test_non_article_pages_are_linked_from_articles_and_listings(
    site_id: str, pages: dict[str, Page], sitedefs: dict[str, SiteDefinition]
) -> None:
    site = sitedefs[site_id]
    template = TEMPLATES[site_id](GT[site_id], ORIGIN)
    videos = {template.video_path(v) for v in template.videos}
    tags = {template.tag_path(t) for t in template.tags}
    assert videos and tags

    def links(path: str) -> set[str]:
        return set(internal_links(path, Selector(text=pages[path].body.decode())))

    listings = [template.listing_path(s, 1) for s in template.sections]
    for path in listings + [article_path(a) for a in GT[site_id]]:
        found = links(path)
        assert found & videos, f"{path}: no video link"
        assert any(urlsplit(x).path == template.search_path for x in found), path
        assert template.admin_path in found, path  # crawlers ignoring robots.txt go there
    for a in GT[site_id]:
        assert not a.tags or links(article_path(a)) & tags, f"{a.key}: no tag link"
    for path in videos | tags | {template.search_path, template.admin_path}:
        assert pages[path].status == 200
        assert not site.is_article(url_of(path)) and not site.is_listing(url_of(path))


# -- article pages ------------------------------------------------------------------


def _expected_date(a: GroundTruthArticle, fmt: str) -> str:
    day = WEEKDAYS[a.published.weekday()]
    fmt = fmt.replace("{weekday}", day).replace("{weekday_lower}", day[0] + day[1:].lower())
    return a.published.astimezone(VN).strftime(fmt)


@pytest.mark.parametrize("site_id", SITES)
def test_article_pages_print_dates_the_site_way(site_id: str, pages: dict[str, Page]) -> None:
    css, fmt = PRINTED_DATE[site_id]
    for a in GT[site_id]:
        sel = Selector(text=pages[article_path(a)].body.decode())
        assert sel.css(css).xpath("string()").get("").strip() == _expected_date(a, fmt)
    if site_id == "caonguyen":
        for _, sel in html_pages(pages, site_id):
            stale = unicodedata.normalize("NFC", sel.css("span.ngaythang::text").get(""))
            assert stale == "Thứ hai, ngày 14 tháng 04 năm 2016"


@pytest.mark.parametrize("site_id", SITES)
def test_extraction_with_the_site_definition_gives_the_ground_truth(
    site_id: str, pages: dict[str, Page], sitedefs: dict[str, SiteDefinition]
) -> None:
    site = sitedefs[site_id]
    problems = []
    for a in GT[site_id]:
        url = url_of(article_path(a))
        e = extract_article(url, pages[article_path(a)].body.decode(), site)
        lead, _ = split_source_tag(e.lead)
        got = (e.title, lead, "\n".join(e.body_lines), tuple(e.authors), e.published)
        want = (a.title, a.lead, a.body_text, a.authors, a.published)
        names = ("title", "lead", "body", "authors", "published")
        for name, g, w in zip(names, got, want, strict=True):
            if g != w and name == "body":  # name the first line that differs
                pairs = zip([*e.body_lines, ""], [*a.body_text.split("\n"), ""], strict=False)
                g, w = next((x, y) for x, y in pairs if x != y)
            if g != w:
                problems.append(f"{a.key} {name}: got {g!r}, expected {w!r}")
        if site.categories_for(e.section) != a.categories:
            problems.append(f"{a.key} categories: {e.section!r}")
    assert not problems, "\n".join(problems[:10])


def _variant(a: GroundTruthArticle) -> GroundTruthArticle:
    """The same article with HTML-special characters in every text."""
    body = tuple(
        dataclasses.replace(b, text=b.text + ' <b>&amp; "x" </p>') if b.type == "p" else b
        for b in a.body
    )
    return dataclasses.replace(
        a,
        title=a.title + " <script>alert('x')</script> & “y”",
        lead=a.lead + " R&D <i>",
        body=body,
        byline=a.byline,
    )


@pytest.mark.parametrize("site_id", SITES)
def test_inserted_text_is_escaped(site_id: str, sitedefs: dict[str, SiteDefinition]) -> None:
    a = _variant(GT[site_id][0])
    pages = render_web(ORIGIN, {site_id: [a]})
    html = pages[article_path(a)].body.decode()
    assert "<script>alert" not in html and '</p>"' not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    e = extract_article(url_of(article_path(a)), html, sitedefs[site_id])
    assert e.title == a.title
    assert split_source_tag(e.lead)[0] == a.lead
    assert "\n".join(e.body_lines) == a.body_text


# -- site specifics -------------------------------------------------------------------


def test_legacy_site_text_is_decomposed_with_eth(pages: dict[str, Page]) -> None:
    if "caonguyen" not in GT:
        pytest.skip("no ground truth for caonguyen")
    eth = other = 0
    for a in GT["caonguyen"]:
        html = pages[article_path(a)].body.decode()
        body = html[html.index("<body") :]
        assert unicodedata.is_normalized("NFD", body), a.key
        assert not unicodedata.is_normalized("NFC", body), a.key
        # the composed <title> stays as it is: mixed forms in one page
        assert unicodedata.is_normalized("NFC", html[: html.index("<body")])
        eth += body.count("\u00d0")
        other += body.count("\u0110")
    assert eth > 100 and other > 100
    assert legacy_text("Đắk Nông, ĐĐ") == legacy_text("Đắk Nông, ĐĐ")  # stable
    assert {legacy_text("ĐĐ")} <= {"Ð\u0110", "\u0110Ð"}
    for site_id in SITES:
        if site_id != "caonguyen":
            for _, sel in html_pages(pages, site_id):
                text = "".join(sel.xpath("//body//text()").getall())
                assert "\u00d0" not in text and unicodedata.is_normalized("NFC", text)


def test_legacy_site_has_no_metadata(pages: dict[str, Page]) -> None:
    if "caonguyen" not in GT:
        pytest.skip("no ground truth for caonguyen")
    for a in GT["caonguyen"]:
        sel = Selector(text=pages[article_path(a)].body.decode())
        assert not sel.css("meta[property], script[type='application/ld+json'], time")
        # each caption printed twice
        for caption in sel.css("td.chuthich").xpath("string()").getall():
            repeat = sel.css("td.noidung > p[align='center']").xpath("string()").getall()
            assert caption in repeat


def test_songcau_structured_data_and_feeds(pages: dict[str, Page]) -> None:
    if "songcau" not in GT:
        pytest.skip("no ground truth for songcau")
    template = TEMPLATES["songcau"](GT["songcau"], ORIGIN)
    for a in GT["songcau"]:
        path = article_path(a)
        assert re.fullmatch(r"/songcau/[a-z-]+/\d{6}/[a-z0-9-]+-[0-9a-f]+/", path)
        assert path.endswith(f"-{a.id:x}/")
        sel = Selector(text=pages[path].body.decode())
        lds = [json.loads(x) for x in sel.css("script[type='application/ld+json']::text").getall()]
        news = next(x for x in lds if x["@type"] == "NewsArticle")
        assert news["headline"] == a.title and news["description"] == a.lead
        assert datetime.fromisoformat(news["datePublished"]) == a.published
        assert news["datePublished"].endswith("+07:00")
        assert tuple(x["name"] for x in news["author"]) == a.authors
        assert news["articleSection"] == template.sections[a.section]
        og = sel.css("meta[property='article:published_time']::attr(content)").get()
        assert og == news["datePublished"]
    for section in template.sections:
        page = pages[f"/songcau/rss/{section}.rss"]
        assert page.content_type == RSS
        feed = feedparser.parse(page.body)
        assert not feed.bozo, feed.get("bozo_exception")
        links = [e.link for e in feed.entries]
        assert links == [url_of(article_path(a)) for a in template.in_section(section)]
        assert all(e.published.endswith("+0700") for e in feed.entries)


def test_baden_lead_starts_with_the_source_tag(pages: dict[str, Page]) -> None:
    if "baden" not in GT:
        pytest.skip("no ground truth for baden")
    for a in GT["baden"]:
        sel = Selector(text=pages[article_path(a)].body.decode())
        lead = sel.css("h2.news-sapo").xpath("string()").get()
        assert lead == (f"{a.source_tag} {a.lead}" if a.source_tag else a.lead)
    markers = sum("./.</p>" in pages[article_path(a)].body.decode() for a in GT["baden"])
    assert markers > 0


# -- robots, content types -----------------------------------------------------------


def test_robots(pages: dict[str, Page]) -> None:
    root = pages["/robots.txt"].body.decode()
    assert root.startswith("User-agent: *\n")
    robots = Protego.parse(root)
    for site_id in SITES:
        template = TEMPLATES[site_id](GT[site_id], ORIGIN)
        own = pages[f"/{site_id}/robots.txt"].body.decode()
        for rule in template.disallow:
            assert f"Disallow: {rule}\n" in own
            assert f"Disallow: /{site_id}{rule}\n" in root
        assert not robots.can_fetch(url_of(template.search_link), "*")
        assert not robots.can_fetch(url_of(template.admin_path), "*")
        assert robots.can_fetch(url_of(article_path(GT[site_id][0])), "*")
        assert robots.can_fetch(
            url_of(template.listing_path(next(iter(template.sections)), 2)), "*"
        )


def test_content_types(pages: dict[str, Page]) -> None:
    kinds = {p.content_type for p in pages.values()}
    assert {HTML, TEXT, PNG} <= kinds
    for path, page in pages.items():
        if path.endswith(".txt"):
            assert page.content_type == TEXT
        elif path.endswith(".rss"):
            assert page.content_type == RSS
        elif path.endswith(".png"):
            assert page.content_type == PNG and page.body.startswith(b"\x89PNG\r\n\x1a\n")
        elif page.content_type == HTML:
            assert page.body.lstrip().lower().startswith(b"<!doctype") or page.status == 301
    assert pages["/"].status == 200
    for site_id in SITES:
        assert f'href="/{site_id}/"' in pages["/"].body.decode()
        assert pages[f"/{site_id}"].headers == (("Location", f"/{site_id}/"),)


def test_blocks_are_rendered_in_order(pages: dict[str, Page]) -> None:
    """Subheadings and paragraphs keep their order; photo captions are printed."""
    for site_id in SITES:
        for a in GT[site_id]:
            html = unicodedata.normalize("NFC", pages[article_path(a)].body.decode())
            html = html.replace("\u00d0", "\u0110")
            positions = [html.find(escape(b.text)) for b in a.body if b.type in ("p", "h")]
            assert -1 not in positions and positions == sorted(positions), a.key
            for img in a.images:
                assert escape(img.caption) in html, a.key
