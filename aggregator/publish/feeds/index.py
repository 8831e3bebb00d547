"""The lists of every feed: the OPML 2.0 file for feed readers and the human index page
(``index.html``, with ``<link rel="alternate">`` autodiscovery).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from lxml import etree

from aggregator.publish.feeds.feed import FEED_SUFFIX, Feed
from aggregator.publish.feeds.layout import FORMATS, MEDIA_TYPES, OPML_FILE, Format

__all__ = ["FORMAT_NAMES", "render_index", "render_opml"]

FORMAT_NAMES: dict[Format, str] = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}


def render_opml(groups: Sequence[tuple[str, Sequence[Feed]]], base: str) -> bytes:
    """OPML 2.0: a folder per group, a folder per feed, one outline per feed file."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = f"{FEED_SUFFIX}: tin các báo tỉnh"
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(opml, "body")
    for group, feeds in groups:
        folder = etree.SubElement(body, "outline", text=group, title=group)
        for feed in feeds:
            outline = etree.SubElement(folder, "outline", text=feed.label, title=feed.title)
            for fmt in FORMATS:
                attributes = {
                    "type": "rss",  # OPML's word for any subscription
                    "text": f"{feed.title} ({FORMAT_NAMES[fmt]})",
                    "title": feed.title,
                    "xmlUrl": base + feed.href(fmt),
                    "htmlUrl": feed.home,
                    "description": feed.description,
                    "language": "vi",
                }
                if fmt == "rss":
                    attributes["version"] = "RSS"
                etree.SubElement(outline, "outline", attributes)
    data: bytes = etree.tostring(opml, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


def render_index(groups: Sequence[tuple[str, Sequence[Feed]]]) -> bytes:
    """The human page: every feed in every format, with autodiscovery links."""
    e = html.escape
    head_links: list[str] = []
    sections: list[str] = []
    for group, feeds in groups:
        rows: list[str] = []
        for feed in feeds:
            cells = []
            for fmt in FORMATS:
                href = e(feed.href(fmt))
                head_links.append(
                    f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" '
                    f'title="{e(feed.title)} ({FORMAT_NAMES[fmt]})" href="{href}">'
                )
                cells.append(
                    f'<td><a href="{href}" type="{MEDIA_TYPES[fmt]}">{FORMAT_NAMES[fmt]}</a></td>'
                )
            newest = feed.entries[0].published.strftime("%H:%M %d/%m/%Y") if feed.entries else "—"
            rows.append(
                f'<tr><th scope="row">{e(feed.label)}</th><td>{len(feed.entries)}</td>'
                f"<td>{e(newest)}</td>{''.join(cells)}</tr>"
            )
        sections.append(
            f"<h2>{e(group)}</h2>\n<table>\n<thead><tr><th>Nguồn tin</th><th>Số bài</th>"
            '<th>Bài mới nhất</th><th colspan="3">Định dạng</th></tr></thead>\n<tbody>\n'
            + "\n".join(rows)
            + "\n</tbody>\n</table>"
        )
    opml_type = MEDIA_TYPES["opml"]
    page = (
        '<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(FEED_SUFFIX)}: tin các báo tỉnh</title>\n"
        + "\n".join(head_links)
        + "\n<style>body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}"
        "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.2em .5em;"
        "border-bottom:1px solid #ddd}</style>\n</head>\n<body>\n"
        f"<h1>{e(FEED_SUFFIX)}</h1>\n"
        "<p>Tin mới nhất của các báo tỉnh, theo chuyên mục và theo từng báo, "
        "mỗi câu chuyện một lần. Mỗi nguồn tin có ba định dạng: RSS 2.0, Atom 1.0 và "
        "JSON Feed 1.1.</p>\n"
        f"<p>Danh sách mọi nguồn tin (OPML, để nhập vào trình đọc tin): "
        f'<a href="{OPML_FILE}" type="{opml_type}">{OPML_FILE}</a></p>\n'
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
    return page.encode("utf-8")
