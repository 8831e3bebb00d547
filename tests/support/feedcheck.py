"""Checks every feed file must pass, shared by the feed, full-crawl and server tests.

They encode what the reference notes say readers and the W3C Feed Validation
Service require: well-formed XML without control characters, feedparser's bozo 0,
Atom valid against RFC 4287's RELAX NG grammar plus the rules it cannot express (an
author and one alternate link per entry, a self link), a guid on every RSS item,
explicit +07:00 dates, and JSON Feed valid against a JSON Schema of version 1.1.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
from lxml import etree, html

from tests.support.env import optional_shared_path, shared_path

JSONFEED_SCHEMA = Path(__file__).parent / "schemas" / "jsonfeed-1.1.schema.json"
ATOM_NS = {"a": "http://www.w3.org/2005/Atom"}
ATOM = "{http://www.w3.org/2005/Atom}"
FEED_SUFFIXES = (".rss", ".atom", ".json")
FEED_KINDS = ("category", "province", "site")
MEDIA_TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/feed+json",
    ".opml": "text/x-opml",
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".xsl": "text/xsl",
}
#: What XML 1.0 forbids (and W3C's validator rejects), as bytes of UTF-8 text.
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


def feed_files(feeds: Path) -> list[Path]:
    """Every feed file under a feeds folder (all, category/, province/, site/), sorted (not
    the page's ``headlines.json``)."""
    found = [*feeds.glob("all.*"), *(p for kind in FEED_KINDS for p in feeds.glob(f"{kind}/*"))]
    return sorted(p for p in found if p.is_file() and p.suffix in FEED_SUFFIXES)


@cache
def json_feed_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(JSONFEED_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


@cache
def _atom_schema(path: Path) -> etree.RelaxNG:
    return etree.RelaxNG(file=str(path))


def atom_schema() -> etree.RelaxNG | None:
    """RFC 4287's RELAX NG grammar (``../shared/schemas/atom.rng``); None without the
    shared folder, when the other Atom rules are still checked (on CI: the test fails)."""
    path = optional_shared_path("schemas", "atom.rng")
    return _atom_schema(path) if path is not None else None


def assert_valid_atom(path: Path) -> None:
    """``path`` is valid against RFC 4287's RELAX NG grammar: a test that is about this
    needs the shared folder (skipped without it; failed on CI)."""
    schema = _atom_schema(shared_path("schemas", "atom.rng"))
    assert schema.validate(etree.parse(str(path))), schema.error_log


def atom_entries(path: Path) -> list[etree._Element]:
    """The entries of an Atom file, in order."""
    doc = etree.parse(str(path))
    return list(doc.getroot().iterfind(f"{ATOM}entry"))


def check_json_feed(data: bytes, where: str = "") -> dict[str, Any]:
    """A JSON Feed 1.1 document: schema, unique ids, +07:00 dates. Returns it."""
    assert not CONTROL_BYTES.search(data), where
    doc: dict[str, Any] = json.loads(data)
    errors = sorted(json_feed_validator().iter_errors(doc), key=str)
    assert not errors, (where, [f"{list(e.path)}: {e.message}"[:300] for e in errors[:5]])
    ids = [item["id"] for item in doc["items"]]
    assert len(ids) == len(set(ids)), (where, "duplicate item ids")
    assert doc["language"] == "vi"
    for item in doc["items"]:
        assert item.get("title") and item.get("url"), (where, item["id"])
        for key in ("date_published", "date_modified"):
            assert item[key].endswith("+07:00"), (where, item[key])
        assert item["authors"], (where, item["id"])
    return doc


def check_xml_feed(data: bytes, suffix: str, where: str = "") -> feedparser.FeedParserDict:
    """RSS 2.0 or Atom 1.0: the validator's rules and feedparser's clean parse."""
    assert not CONTROL_BYTES.search(data), where
    root = etree.fromstring(data)  # well-formed, or this raises
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, (where, parsed.get("bozo_exception"))
    assert parsed.feed.get("language") == "vi", where
    offset = "+07:00" if suffix == ".atom" else "+0700"
    for entry in parsed.entries:
        assert entry.get("id") and entry.get("title") and entry.get("link"), (where, entry)
        assert entry.get("published", "").endswith(offset), (where, entry.get("published"))
    if suffix == ".atom":
        assert parsed.version == "atom10", where
        _check_atom(root, where)
    else:
        assert parsed.version == "rss20", where
        _check_rss(root, where)
    return parsed


def _check_atom(root: etree._Element, where: str) -> None:
    schema = atom_schema()
    if schema is not None:
        assert schema.validate(etree.ElementTree(root)), (where, str(schema.error_log)[:500])
    selfs = root.findall("a:link[@rel='self']", ATOM_NS)
    assert len(selfs) == 1 and selfs[0].get("type") == MEDIA_TYPES[".atom"], where
    assert root.findtext("a:updated", "", ATOM_NS).endswith("+07:00"), where
    for entry in root.iterfind("a:entry", ATOM_NS):
        assert entry.findtext("a:id", "", ATOM_NS), where
        assert entry.findall("a:author/a:name", ATOM_NS), (where, "an entry without author")
        alternates = [
            link
            for link in entry.iterfind("a:link", ATOM_NS)
            if link.get("rel", "alternate") == "alternate"
        ]
        assert len(alternates) == 1, where
        textual = entry.find("a:content", ATOM_NS) is not None
        assert textual or entry.find("a:summary", ATOM_NS) is not None, where
        for tag in ("published", "updated"):
            assert entry.findtext(f"a:{tag}", "", ATOM_NS).endswith("+07:00"), where
        source = entry.find("a:source", ATOM_NS)
        if source is not None:  # the validator reads it as feed metadata
            for tag in ("id", "title", "updated"):
                assert source.findtext(f"a:{tag}", "", ATOM_NS), (where, f"source without {tag}")
            assert source.find("a:link[@rel='self']", ATOM_NS) is not None, where


def _check_rss(root: etree._Element, where: str) -> None:
    assert root.tag == "rss" and root.get("version") == "2.0", where
    channel = root.find("channel")
    assert channel is not None, where
    selfs = [link for link in channel.iter(f"{ATOM}link") if link.get("rel") == "self"]
    assert len(selfs) == 1 and selfs[0].get("type") == MEDIA_TYPES[".rss"], where
    ttl = channel.findtext("ttl", "")
    assert ttl.isdigit() and int(ttl) >= 1, (where, ttl)
    for item in channel.iter("item"):
        assert item.findtext("guid"), (where, "an item without guid")
        assert item.findtext("title") or item.findtext("description"), where
        assert item.findtext("pubDate", "").endswith("+0700"), where


def check_feed_file(path: Path) -> Any:
    """Check one feed file by its suffix; returns the parsed document."""
    data = path.read_bytes()
    if path.suffix == ".json":
        return check_json_feed(data, str(path))
    return check_xml_feed(data, path.suffix, str(path))


def opml_urls(data: bytes) -> list[str]:
    """The feed URLs of an OPML 2.0 document (checked on the way)."""
    root = etree.fromstring(data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.find("head") is not None and root.find("body") is not None
    urls = []
    for outline in root.iter("outline"):
        assert outline.get("text"), "OPML 2.0: every outline has a text attribute"
        if outline.get("xmlUrl") is not None:
            assert outline.get("type") == "rss"
            urls.append(outline.get("xmlUrl", ""))
    return urls


def index_links(data: bytes) -> tuple[dict[str, str], set[str]]:
    """``index.html``: its autodiscovery links (href -> type) and its ``<a href>``."""
    doc = html.document_fromstring(data)
    alternates = {
        link.get("href", ""): link.get("type", "")
        for link in doc.iter("link")
        if link.get("rel") == "alternate"
    }
    anchors = {a.get("href", "") for a in doc.iter("a")}
    return alternates, anchors
