"""What lists the feeds and shows the news: the OPML 2.0 file for feed readers, the reading
page (``index.html``) and its compact headline index (``headlines.json``).

The page lists the newest headlines as HTML (readable without JavaScript) and the feeds
with ``<link rel="alternate">`` autodiscovery; ``page.js`` filters ``headlines.json`` by
category, province, newspaper and text (diacritics folded). Everything shown is plain
text escaped here, links are http(s) only, and the page holds no inline script, style or
event handler, so a strict Content-Security-Policy (declared in the page) applies.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from aggregator.normalize.sanitize import json_text
from aggregator.publish.feeds.entries import Entry, is_web_url, newest_first, rfc3339
from aggregator.publish.feeds.feed import FEED_SUFFIX, Feed, province_name
from aggregator.publish.feeds.layout import FORMATS, HEADLINES_FILE, MEDIA_TYPES, OPML_FILE, Format

__all__ = [
    "FORMAT_NAMES",
    "MAX_HEADLINES",
    "MAX_LEAD",
    "PAGE_HEADLINES",
    "Headlines",
    "render_headlines",
    "render_index",
    "render_opml",
]

FORMAT_NAMES: dict[Format, str] = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
#: The one format the OPML list subscribes to (the others: same path, other extension).
OPML_FORMAT: Format = "rss"
#: Headlines on the page as served (the newest of all newspapers).
PAGE_HEADLINES = 50
#: At most this many of each feed's newest entries go into ``headlines.json``, and at most
#: ``MAX_HEADLINES`` in all: every province and newspaper has headlines to filter, and
#: the file stays small for a phone.
PER_FEED = 20
MAX_HEADLINES = 2000
#: Leads are cut to this many characters in ``headlines.json`` (the feeds have them whole).
MAX_LEAD = 300
TITLE = f"{FEED_SUFFIX}: tin các báo tỉnh"
#: The page loads its own style, script and index only; nothing inline runs.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'"
)


def render_opml(groups: Sequence[tuple[str, Sequence[Feed]]], base: str) -> bytes:
    """OPML 2.0: a folder per group, one RSS subscription per feed.

    Atom and JSON Feed versions sit beside each RSS file (same path, ``.atom``/``.json``)
    and are listed by the page's autodiscovery links.
    """
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = TITLE
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(opml, "body")
    for group, feeds in groups:
        if not feeds:
            continue
        folder = etree.SubElement(body, "outline", text=group, title=group)
        for feed in feeds:
            etree.SubElement(
                folder,
                "outline",
                {
                    "type": "rss",  # OPML's word for any subscription
                    "version": "RSS2",
                    "text": feed.label,
                    "title": feed.title,
                    "xmlUrl": base + feed.href(OPML_FORMAT),
                    "htmlUrl": feed.home,
                    "description": feed.description,
                    "language": "vi",
                },
            )
    data: bytes = etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


@dataclass(frozen=True)
class Headlines:
    """The headlines of one build: each story once (its original), newest first, and the
    names the page shows and filters by."""

    items: tuple[Entry, ...]
    sites: Mapping[str, tuple[str, str]]  # id -> (name, 2025 province key)
    categories: Mapping[str, str]  # key -> label, of the category feeds
    provinces: Mapping[str, str]  # key -> name, of the province feeds

    @classmethod
    def of(
        cls, groups: Sequence[tuple[str, Sequence[Feed]]], site_provinces: Mapping[str, str]
    ) -> Headlines:
        feeds = [feed for _, group in groups for feed in group]
        chosen: dict[str, Entry] = {}
        for feed in feeds:
            entries = feed.entries if feed.kind == "all" else feed.entries[:PER_FEED]
            for entry in entries:
                if entry.copy_of is None:
                    chosen.setdefault(entry.id, entry)
        items = tuple(newest_first(chosen.values())[:MAX_HEADLINES])
        sites: dict[str, tuple[str, str]] = {}
        for entry in items:
            sites.setdefault(entry.site, (entry.site_name, _province(entry, site_provinces)))
        for entry in items:
            for copy in entry.also_at:
                sites.setdefault(copy.site, (copy.name, site_provinces.get(copy.site, "")))
        return cls(
            items,
            dict(sorted(sites.items(), key=lambda kv: kv[1][0])),
            {f.key: f.label for f in feeds if f.kind == "category"},
            {f.key: f.label for f in feeds if f.kind == "province"},
        )

    def province_of(self, entry: Entry) -> str:
        return self.sites.get(entry.site, ("", entry.province))[1]


def _province(entry: Entry, site_provinces: Mapping[str, str]) -> str:
    return site_provinces.get(entry.site) or entry.province


def _lead(text: str) -> str:
    return text if len(text) <= MAX_LEAD else text[: MAX_LEAD - 1].rstrip() + "…"


def render_headlines(headlines: Headlines) -> bytes:
    """``headlines.json``: the page's index, filtered in the browser (compact JSON)."""
    doc: dict[str, Any] = {
        "version": 1,
        "categories": headlines.categories,
        "provinces": headlines.provinces,
        "sites": {k: {"name": n, "province": p} for k, (n, p) in headlines.sites.items()},
        "items": [
            {
                "title": e.title,
                "url": e.link,
                "site": e.site,
                "time": rfc3339(e.published),
                "lead": _lead(e.lead),
                "categories": list(e.categories),
                "also": [{"site": c.site, "name": c.name, "url": c.url} for c in e.also_at],
            }
            for e in headlines.items
        ],
    }
    return (json_text(doc) + "\n").encode("utf-8")


def _headline(entry: Entry, headlines: Headlines) -> str:
    """One headline as the page lists it (``page.js`` builds the same markup)."""
    e = html.escape
    province = province_name(headlines.province_of(entry))
    meta = " · ".join(e(part) for part in (entry.site_name, province) if part)
    when = entry.published.strftime("%H:%M %d/%m/%Y")
    parts = [
        f'<li><article><h3><a href="{e(entry.link)}">{e(entry.title)}</a></h3>',
        f'<p class="meta">{meta} · <time datetime="{rfc3339(entry.published)}">{when}</time></p>',
    ]
    if entry.lead:
        parts.append(f'<p class="lead">{e(_lead(entry.lead))}</p>')
    copies = [c for c in entry.also_at if is_web_url(c.url)]
    if copies:
        links = ", ".join(f'<a href="{e(c.url)}">{e(c.name)}</a>' for c in copies)
        parts.append(f'<p class="also">Cũng đăng trên: {links}</p>')
    return "".join(parts) + "</article></li>"


def _options(label: str, name: str, choices: Mapping[str, str]) -> str:
    e = html.escape
    options = "".join(f'<option value="{e(k)}">{e(v)}</option>' for k, v in choices.items())
    return (
        f'<label>{label}<select name="{name}" id="f-{name}"><option value="">Tất cả</option>'
        f"{options}</select></label>"
    )


def _directory(groups: Sequence[tuple[str, Sequence[Feed]]]) -> str:
    """Every feed: its label links the RSS file, then its Atom and JSON Feed files."""
    e = html.escape
    sections = []
    for group, feeds in groups:
        if not feeds:
            continue
        items = []
        for feed in feeds:
            links = " ".join(
                f'<a href="{e(feed.href(fmt))}" type="{MEDIA_TYPES[fmt]}">{FORMAT_NAMES[fmt]}</a>'
                for fmt in FORMATS
            )
            count = f"<small>{len(feed.entries)} bài</small>"
            items.append(f"<li><strong>{e(feed.label)}</strong> {count} {links}</li>")
        sections.append(f"<h3>{e(group)}</h3>\n<ul>{''.join(items)}</ul>")
    return "\n".join(sections)


def render_index(groups: Sequence[tuple[str, Sequence[Feed]]], headlines: Headlines) -> bytes:
    """The reading page: the newest headlines, the filters (shown by ``page.js``), the
    feeds with autodiscovery links."""
    e = html.escape
    head_links = [
        f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" '
        f'title="{e(feed.title)} ({FORMAT_NAMES[fmt]})" href="{e(feed.href(fmt))}">'
        for _, feeds in groups
        for feed in feeds
        for fmt in FORMATS
    ]
    shown = headlines.items[:PAGE_HEADLINES]
    sites = {k: name for k, (name, _) in headlines.sites.items()}
    page = f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{e(TITLE)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="page.css">
<script src="page.js" defer></script>
{chr(10).join(head_links)}
</head>
<body>
<header>
<h1>{e(FEED_SUFFIX)}</h1>
<p>Tin mới nhất của các báo tỉnh, mỗi câu chuyện một lần. Giờ đăng theo giờ Việt Nam.</p>
<p><a href="#nguon-tin">Nguồn tin RSS, Atom, JSON Feed</a> ·
<a href="{OPML_FILE}" type="{MEDIA_TYPES["opml"]}">{OPML_FILE}</a> (nhập vào trình đọc tin)</p>
</header>
<main>
<div id="filters" role="search" data-index="{HEADLINES_FILE}" hidden>
<label>Tìm bài<input type="search" name="q" id="f-q" autocomplete="off"
 placeholder="ví dụ: hoa binh, lũ"></label>
{_options("Chuyên mục", "category", dict(headlines.categories))}
{_options("Tỉnh, thành phố", "province", dict(headlines.provinces))}
{_options("Báo", "site", sites)}
</div>
<section aria-labelledby="headlines-title">
<h2 id="headlines-title" aria-live="polite">{len(shown)} bài mới nhất</h2>
<ol id="headlines">
{chr(10).join(_headline(entry, headlines) for entry in shown)}
</ol>
</section>
</main>
<nav id="nguon-tin" aria-labelledby="feeds-title">
<h2 id="feeds-title">Nguồn tin</h2>
<p>Mỗi nguồn tin có ba định dạng: RSS 2.0, Atom 1.0 và JSON Feed 1.1. Danh sách để nhập vào
trình đọc tin (OPML): <a href="{OPML_FILE}" type="{MEDIA_TYPES["opml"]}">{OPML_FILE}</a></p>
{_directory(groups)}
</nav>
</body>
</html>
"""
    return page.encode("utf-8")
