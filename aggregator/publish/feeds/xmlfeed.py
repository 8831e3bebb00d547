"""RSS 2.0 and Atom 1.0 documents of a feed, written with feedgen (the only module that
uses it), with the Atom entry links and ``<source>`` feedgen cannot write, and an
``xml-stylesheet`` instruction naming ``feed.xsl`` (a relative URL: the stylesheet is
fetched from the server that serves the feed, as browsers require).
"""

from __future__ import annotations

import html
from typing import Any, Literal

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from aggregator.publish.feeds.entries import GENERATOR, TAG_PREFIX, Entry, rfc3339
from aggregator.publish.feeds.feed import Feed, label_of, terms_of
from aggregator.publish.feeds.layout import MEDIA_TYPES, STYLESHEET_FILE, Format, valid_key

__all__ = ["render_xml"]


class _AtomExtras(BaseEntryExtension):
    """Atom entry links with their attributes, and a complete ``<source>``.

    feedgen 1.0 drops rel, type and length of every entry link in Atom output
    (its loop variable shadows the link data), which would turn an enclosure
    into a second alternate link: entry links other than the alternate go here.
    Its ``<source>`` has only a title and a link, while the W3C validator reads a
    source as feed metadata (id and updated required, a self link expected).
    """

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.source: dict[str, str] | None = None

    def extend_atom(self, entry: Any) -> Any:
        for attributes in self.links:
            etree.SubElement(entry, "link", attributes)  # feedgen's (un-namespaced) style
        if self.source is not None:
            source = etree.SubElement(entry, "source")
            for tag in ("id", "title", "updated"):
                etree.SubElement(source, tag).text = self.source[tag]
            etree.SubElement(source, "link", rel="alternate", type="text/html",
                             href=self.source["home"])  # fmt: skip
            etree.SubElement(source, "link", rel="self", type=MEDIA_TYPES["atom"],
                             href=self.source["self"])  # fmt: skip
        return entry


def _fill_entry(fe: FeedEntry, entry: Entry, feed: Feed, fmt: Format, base: str) -> None:
    fe.id(entry.id)  # also the RSS guid, isPermaLink="false"
    fe.title(entry.title)
    fe.link(href=entry.link, rel="alternate", type="text/html")
    fe.published(entry.published)
    fe.updated(entry.updated)
    if fmt == "atom":
        fe.author([{"name": name} for name in entry.authors])
    else:  # RSS <author> must be an e-mail address: names go to dc:creator
        fe.dc.dc_creator(list(entry.authors))
    fe.category([{"term": t, "label": label_of(t)} for t in terms_of(feed, entry)])
    # RSS needs a description, Atom textual content
    summary = entry.lead or ("" if entry.content else entry.title)
    if summary:
        # RSS <description> is HTML to its readers: the text is escaped once more, so a
        # lead about "<script>" shows those characters instead of becoming an element
        fe.summary(html.escape(summary, quote=False) if fmt == "rss" else summary)
    if entry.content:
        fe.content(entry.content, type="html")
    if entry.image is not None and fmt == "rss":
        fe.enclosure(url=entry.image[0], length="0", type=entry.image[1])
    # the source newspaper: its site feed here (when it has one), and its home page
    site_feed = f"{base}site/{entry.site}." if valid_key(entry.site) else None
    if fmt == "rss":
        fe.source(url=site_feed + "rss" if site_feed else entry.site_url, title=entry.site_name)
        return
    fe.register_extension("agg", _AtomExtras, atom=True, rss=False)
    if entry.image is not None:
        fe.agg.links.append(
            {"href": entry.image[0], "rel": "enclosure", "type": entry.image[1], "length": "0"}
        )
    for copy in entry.also_at:  # the other copies of the story
        fe.agg.links.append(
            {"href": copy.url, "rel": "related", "type": "text/html", "title": copy.name}
        )
    if site_feed:  # (a site id unfit for a file name has no feed: no source then)
        fe.agg.source = {
            "id": f"{TAG_PREFIX}site/{entry.site}",
            "title": entry.site_name,
            "updated": rfc3339(entry.updated),
            "home": entry.site_url,
            "self": site_feed + "atom",
        }


def render_xml(feed: Feed, fmt: Literal["rss", "atom"], base: str) -> bytes:
    """The feed as RSS 2.0 or Atom 1.0; ``base`` is the public URL of the feeds folder."""
    fg = FeedGenerator()
    if fmt == "rss":
        fg.load_extension("dc", atom=False, rss=True)
    fg.id(feed.id)
    fg.title(feed.title)
    fg.description(feed.description)
    # rel="self" first: in RSS, <link> is whichever link was added last.
    fg.link(href=base + feed.href(fmt), rel="self", type=MEDIA_TYPES[fmt])
    fg.link(href=feed.home, rel="alternate", type="text/html")
    fg.language("vi")
    fg.generator(GENERATOR)
    fg.updated(feed.updated)  # also RSS lastBuildDate
    if fmt == "rss":
        fg.ttl(feed.ttl)
    for entry in feed.entries:
        _fill_entry(fg.add_entry(order="append"), entry, feed, fmt, base)
    data: bytes = fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True)
    declaration, _, document = data.partition(b"\n")
    # a browser opening the file shows a page; readers and validators skip the instruction
    stylesheet = f'<?xml-stylesheet type="text/xsl" href="{feed.up}{STYLESHEET_FILE}"?>'
    return b"\n".join((declaration, stylesheet.encode(), document))
