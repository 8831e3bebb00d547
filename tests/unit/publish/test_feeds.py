"""Feeds built from a real store, read back as readers and validators would (on SQLite;
tests/integration/publish runs the tests that read a store on PostgreSQL)."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree
from lxml import html as lxml_html

from aggregator.items import Article, article_id
from aggregator.normalize.sanitize import sanitize_html
from aggregator.publish.feeds import (
    DEFAULT_BASE_URL,
    MAX_CONTENT,
    MAX_TITLE,
    READ_ON_LABEL,
    SiteInfo,
    build_feeds,
    feed_path,
    render_feed,
    site_infos,
)
from aggregator.publish.feeds import build as build_module
from aggregator.publish.files import LEFTOVER_AGE
from aggregator.sites.definition import SiteDefinition, known_categories
from aggregator.store import SQLiteStore, SQLStore, open_store
from tests.support.env import shared_path
from tests.support.feedcheck import check_feed_file, feed_files, index_links, opml_urls
from tests.support.feedsample import (
    ARTICLES,
    BASE_URL,
    DUPLICATE,
    VN,
    feed_article,
    tamdao_article,
)

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
NS = {"a": "http://www.w3.org/2005/Atom"}
CATEGORIES = ("ban-doc", "kinh-te", "thoi-su", "xa-hoi")
FORMATS = ("rss", "atom", "json")
#: every file one build of ARTICLES writes
EXPECTED = sorted(
    [f"all.{f}" for f in FORMATS]
    + [f"category/{k}.{f}" for k in CATEGORIES for f in FORMATS]
    + [f"province/phutho.{f}" for f in FORMATS]
    + [f"site/tamdao.{f}" for f in FORMATS]
    + ["feed.xsl", "feeds.opml", "headlines.json", "index.html", "page.css", "page.js"]
)
THOI_SU_ORDER = ["khong-ngay", "ma-doc", "khanh-thanh-cau-vinh-phuc", "bai-cu"]


def _id(slug: str) -> str:
    return "tag:aggregator,2026:article/" + article_id(f"https://baotamdao.vn/thoi-su/{slug}.html")


@dataclass
class Built:
    store: SQLStore
    feeds: Path


@pytest.fixture
def built(tmp_path: Path, store_target: str) -> Iterator[Built]:
    """The articles in a fresh store (SQLite; PostgreSQL in tests/integration), their feeds
    built."""
    with open_store(store_target) as store:
        for article in [*ARTICLES, DUPLICATE]:
            assert store.upsert(article) == "inserted"
        feeds = tmp_path / "feeds"
        report = build_feeds(store, feeds, base_url=BASE_URL)
        assert sorted(str(p.relative_to(feeds)) for p in report.written) == EXPECTED
        assert report.unchanged == report.removed == []
        yield Built(store, feeds)


def _files(feeds: Path) -> list[Path]:
    """Every RSS and Atom file of a build."""
    return [p for p in feed_files(feeds) if p.suffix in (".rss", ".atom")]


def _all_files(feeds: Path) -> list[Path]:
    return sorted(p for p in feeds.rglob("*") if p.is_file())


def _json(feeds: Path, name: str) -> dict[str, object]:
    doc: dict[str, object] = json.loads((feeds / f"{name}.json").read_text(encoding="utf-8"))
    return doc


def _atom(feeds: Path, key: str) -> etree._Element:
    return etree.parse(str(feeds / "category" / f"{key}.atom")).getroot()


def _rss(feeds: Path, key: str) -> etree._Element:
    return etree.parse(str(feeds / "category" / f"{key}.rss")).getroot()


def _atom_entry(root: etree._Element, slug: str) -> etree._Element:
    (entry,) = [
        e for e in root.iterfind("a:entry", NS) if e.findtext("a:id", None, NS) == _id(slug)
    ]
    return entry


def _contents(feeds: Path) -> list[str]:
    """The HTML inside every entry of every feed, unescaped (as a reader gets it)."""
    out: list[str] = []
    for path in _files(feeds):
        root = etree.parse(str(path)).getroot()
        tags = (f"{ATOM}content", f"{ATOM}summary", "description", f"{CONTENT}encoded")
        out += [el.text or "" for tag in tags for el in root.iter(tag)]
    return out


# -- readers and validators -----------------------------------------------------------


def test_feedparser_reads_every_file_cleanly(built: Built) -> None:
    files = _files(built.feeds)
    assert len(files) == 2 * (len(CATEGORIES) + 3)
    for path in files:
        parsed = feedparser.parse(path.read_bytes())
        assert parsed.bozo == 0, (path.name, parsed.get("bozo_exception"))
        assert parsed.version == ("atom10" if path.suffix == ".atom" else "rss20")
        assert parsed.feed.language == "vi"


def test_atom_validates_against_relax_ng(built: Built) -> None:
    schema = etree.RelaxNG(file=str(shared_path("schemas", "atom.rng")))
    for path in feed_files(built.feeds):
        if path.suffix == ".atom":
            doc = etree.parse(str(path))
            assert schema.validate(doc), (path, str(schema.error_log))


def test_atom_rules_relax_ng_cannot_express(built: Built) -> None:
    for key in CATEGORIES:
        root = _atom(built.feeds, key)
        self_links = root.findall("a:link[@rel='self']", NS)
        assert [link.get("href") for link in self_links] == [f"{BASE_URL}category/{key}.atom"]
        for entry in root.iterfind("a:entry", NS):
            assert entry.findall("a:author/a:name", NS), "every entry needs an author"
            alternates = [
                link
                for link in entry.iterfind("a:link", NS)
                if link.get("rel", "alternate") == "alternate"
            ]
            assert len(alternates) == 1
            assert (
                entry.find("a:content", NS) is not None or entry.find("a:summary", NS) is not None
            )


def test_every_date_carries_the_vietnam_offset(built: Built) -> None:
    for path in _files(built.feeds):
        parsed = feedparser.parse(path.read_bytes())
        suffix = "+07:00" if path.suffix == ".atom" else "+0700"
        assert parsed.feed.updated.endswith(suffix)
        for entry in parsed.entries:
            assert entry.published.endswith(suffix), entry.published
            if "updated" in entry:
                assert entry.updated.endswith(suffix), entry.updated
    rss = _rss(built.feeds, "thoi-su")
    assert [d.text for d in rss.iter("pubDate")] == [
        "Mon, 10 Mar 2025 09:00:00 +0700",
        "Sun, 09 Mar 2025 08:30:00 +0700",  # stored in UTC, shown in Vietnam time
        "Sat, 08 Mar 2025 08:15:00 +0700",
        "Sat, 01 Mar 2025 07:00:00 +0700",
    ]


# -- feed and entry content -----------------------------------------------------------


def test_feed_metadata(built: Built) -> None:
    atom = feedparser.parse((built.feeds / "category" / "thoi-su.atom").read_bytes()).feed
    assert atom.title == "Thời sự — Báo địa phương"
    assert atom.id == "tag:aggregator,2026:category/thoi-su"
    assert atom.generator == "aggregator"
    links = {link.rel: link.href for link in atom.links}
    assert links == {"self": f"{BASE_URL}category/thoi-su.atom", "alternate": BASE_URL}
    rss = _rss(built.feeds, "thoi-su").find("channel")
    assert rss is not None
    assert rss.findtext("title") == "Thời sự — Báo địa phương"
    assert rss.findtext("link") == BASE_URL  # the alternate, not the self link
    self_link = rss.find(f"{ATOM}link")
    assert self_link is not None
    assert self_link.get("href") == f"{BASE_URL}category/thoi-su.rss"
    assert self_link.get("rel") == "self"
    assert rss.findtext("generator") == "aggregator"
    assert rss.findtext("language") == "vi"


def test_feed_updated_is_newest_entry_never_build_time(built: Built) -> None:
    # the newest change in thoi-su is the undated article, first seen at 09:00 +07:00
    root = _atom(built.feeds, "thoi-su")
    assert root.findtext("a:updated", None, NS) == "2025-03-10T09:00:00+07:00"
    assert max(e.findtext("a:updated", "", NS) for e in root.iterfind("a:entry", NS)) == (
        "2025-03-10T09:00:00+07:00"
    )
    channel = _rss(built.feeds, "thoi-su").find("channel")
    assert channel is not None
    assert channel.findtext("lastBuildDate") == "Mon, 10 Mar 2025 09:00:00 +0700"
    assert _atom(built.feeds, "kinh-te").findtext("a:updated", None, NS) == (
        "2025-03-08T08:15:00+07:00"
    )


def test_entry_fields(built: Built) -> None:
    first = ARTICLES[0]
    entry = _atom_entry(_atom(built.feeds, "thoi-su"), "khanh-thanh-cau-vinh-phuc")
    assert entry.findtext("a:title", None, NS) == "Khánh thành cầu Vĩnh Phúc – Hà Nội"
    assert entry.findtext("a:published", None, NS) == "2025-03-08T08:15:00+07:00"
    assert entry.findtext("a:summary", None, NS) == first.lead
    content = entry.find("a:content", NS)
    assert content is not None and content.get("type") == "html"
    # the body, then the other copies of the story with links
    also = (
        '<p>Cũng đăng trên: <a href="https://baotamdao.vn/thoi-su/ban-sao.html">Báo Tam Đảo</a></p>'
    )
    assert content.text == sanitize_html(first.body_html, first.url) + also
    assert [a.text for a in entry.iterfind("a:author/a:name", NS)] == ["Trường Khanh", "Minh Hà"]
    categories = [(c.get("term"), c.get("label")) for c in entry.iterfind("a:category", NS)]
    assert categories[0] == ("thoi-su", "Thời sự")
    assert ("kinh-te", "Kinh tế") in categories
    links = {link.get("rel", "alternate"): link for link in entry.iterfind("a:link", NS)}
    assert links["alternate"].get("href") == first.canonical_url
    enclosure = links["enclosure"]
    assert enclosure.get("href") == "https://baotamdao.vn/uploads/2025/03/cau.jpg"
    assert (enclosure.get("type"), enclosure.get("length")) == ("image/jpeg", "0")
    # the source: the newspaper's feed here (id, title, updated, self link), its home page
    assert entry.findtext("a:source/a:id", None, NS) == "tag:aggregator,2026:site/tamdao"
    assert entry.findtext("a:source/a:title", None, NS) == "Báo Tam Đảo"
    assert entry.findtext("a:source/a:updated", None, NS) == entry.findtext("a:updated", None, NS)
    source_links = {
        link.get("rel"): link.get("href") for link in entry.iterfind("a:source/a:link", NS)
    }
    assert source_links == {
        "self": f"{BASE_URL}site/tamdao.atom",
        "alternate": "https://baotamdao.vn/",
    }
    assert links["related"].get("href") == "https://baotamdao.vn/thoi-su/ban-sao.html"

    item = next(
        i
        for i in _rss(built.feeds, "thoi-su").iter("item")
        if i.findtext("guid") == _id("khanh-thanh-cau-vinh-phuc")
    )
    guid = item.find("guid")
    assert guid is not None and guid.get("isPermaLink") == "false"
    assert item.findtext("link") == first.canonical_url
    assert item.findtext("description") == first.lead
    assert item.findtext(f"{CONTENT}encoded") == content.text
    creators = [c.text for c in item.iter("{http://purl.org/dc/elements/1.1/}creator")]
    assert creators == ["Trường Khanh", "Minh Hà"]
    rss_enclosure = item.find("enclosure")
    assert rss_enclosure is not None
    assert dict(rss_enclosure.attrib) == {
        "url": "https://baotamdao.vn/uploads/2025/03/cau.jpg",
        "length": "0",
        "type": "image/jpeg",
    }
    source = item.find("source")
    assert source is not None and source.text == "Báo Tam Đảo"
    assert source.get("url") == f"{BASE_URL}site/tamdao.rss"  # the feed the item comes from


def test_site_name_is_the_author_when_there_is_none(built: Built) -> None:
    entry = _atom_entry(_atom(built.feeds, "thoi-su"), "ma-doc")
    assert [a.text for a in entry.iterfind("a:author/a:name", NS)] == ["Báo Tam Đảo"]
    parsed = feedparser.parse((built.feeds / "category" / "thoi-su.rss").read_bytes())
    by_id = {e.id: e for e in parsed.entries}
    assert by_id[_id("ma-doc")].author == "Báo Tam Đảo"


def test_undated_article_uses_first_seen(built: Built) -> None:
    entry = _atom_entry(_atom(built.feeds, "xa-hoi"), "khong-ngay")
    assert entry.findtext("a:published", None, NS) == "2025-03-10T09:00:00+07:00"
    assert entry.findtext("a:updated", None, NS) == "2025-03-10T09:00:00+07:00"


def test_control_characters_removed_everywhere(built: Built) -> None:
    for path in _files(built.feeds):
        assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", path.read_bytes()), path.name
    entry = _atom_entry(_atom(built.feeds, "thoi-su"), "ma-doc")
    assert entry.findtext("a:title", None, NS) == "Tiêu đề có ký tự điều khiển"


def test_payloads_absent(built: Built) -> None:
    contents = _contents(built.feeds)
    assert any("Nội dung có mã độc." in c for c in contents)
    for html in contents:
        lowered = html.lower()
        for banned in ("<script", "alert(", "onerror", "javascript:", "data:", "<iframe"):
            assert banned not in lowered, (banned, html)
    for path in _files(built.feeds):
        raw = path.read_bytes().lower()
        assert b"javascript:" not in raw and b"onerror" not in raw and b"data:image" not in raw


def test_relative_urls_made_absolute(built: Built) -> None:
    entry = _atom_entry(_atom(built.feeds, "thoi-su"), "ma-doc")
    fragment = lxml_html.fragment_fromstring(
        entry.findtext("a:content", "", NS), create_parent="div"
    )
    urls = [v for el in fragment.iter() for k, v in el.attrib.items() if k in ("href", "src")]
    assert "https://baotamdao.vn/ban-doc/" in urls
    assert "https://baotamdao.vn/uploads/anh-tuong-doi.png" in urls
    assert "https://baotamdao.vn/thoi-su/x.jpg" in urls
    for html in _contents(built.feeds):
        fragment = lxml_html.fragment_fromstring(html or "<p></p>", create_parent="div")
        for el in fragment.iter():
            for name in ("href", "src"):
                value = el.get(name)
                assert value is None or value.startswith(("https://", "http://", "mailto:")), value
    enclosure = entry.find("a:link[@rel='enclosure']", NS)
    assert enclosure is not None
    assert enclosure.get("href") == "https://baotamdao.vn/thoi-su/anh/ma-doc.png"
    assert enclosure.get("type") == "image/png"


# -- selection and order ----------------------------------------------------------------


def test_entries_newest_first_without_duplicates(built: Built) -> None:
    for ext in ("atom", "rss"):
        parsed = feedparser.parse((built.feeds / "category" / f"thoi-su.{ext}").read_bytes())
        assert [e.id for e in parsed.entries] == [_id(s) for s in THOI_SU_ORDER]
        stamps = [e.published_parsed for e in parsed.entries]
        assert stamps == sorted(stamps, reverse=True)
    assert [
        e.findtext("a:id", None, NS) for e in _atom(built.feeds, "xa-hoi").iterfind("a:entry", NS)
    ] == [
        _id("khong-ngay"),
        _id("xa-hoi-mot"),
    ]
    # a story whose original is filed elsewhere stays in the category by its copy there,
    # which links the original
    only_copy = feedparser.parse((built.feeds / "category" / "ban-doc.atom").read_bytes())
    assert only_copy.bozo == 0 and [e.id for e in only_copy.entries] == [_id("ban-sao")]
    related = [link.href for link in only_copy.entries[0].links if link.rel == "related"]
    assert related == [ARTICLES[0].canonical_url]


def test_limit_honored(built: Built, tmp_path: Path) -> None:
    small = tmp_path / "small"
    build_feeds(built.store, small, limit=2, base_url=BASE_URL)
    for path in _files(small):
        assert len(feedparser.parse(path.read_bytes()).entries) <= 2
    parsed = feedparser.parse((small / "category" / "thoi-su.atom").read_bytes())
    # the undated article is dated by when it was first seen (the newest here)
    assert [e.id for e in parsed.entries] == [_id("khong-ngay"), _id("ma-doc")]
    with pytest.raises(ValueError):
        build_feeds(built.store, small, limit=0)


def test_default_base_url(built: Built, tmp_path: Path) -> None:
    other = tmp_path / "default"
    build_feeds(built.store, other)
    root = _atom(other, "thoi-su")
    self_link = root.find("a:link[@rel='self']", NS)
    assert self_link is not None
    assert self_link.get("href") == f"{DEFAULT_BASE_URL}category/thoi-su.atom"


# -- stability and writing --------------------------------------------------------------


def test_second_build_rewrites_nothing(built: Built) -> None:
    before = {
        p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in _all_files(built.feeds)
    }
    report = build_feeds(built.store, built.feeds, base_url=BASE_URL)
    assert report.written == report.removed == []
    assert sorted(report.unchanged) == sorted(before)
    after = {
        p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in _all_files(built.feeds)
    }
    assert after == before
    assert not [p for p in built.feeds.rglob(".*")]


def test_same_articles_give_identical_bytes_in_a_fresh_folder(built: Built, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_feeds(built.store, again, base_url=BASE_URL)
    assert [p.relative_to(again) for p in _all_files(again)] == [
        p.relative_to(built.feeds) for p in _all_files(built.feeds)
    ]
    for path in _all_files(built.feeds):
        assert (again / path.relative_to(built.feeds)).read_bytes() == path.read_bytes()


def test_ids_stable_when_an_article_is_edited(built: Built) -> None:
    def ids(key: str) -> list[str]:
        root = _atom(built.feeds, key)
        return [e.findtext("a:id", "", NS) for e in root.iterfind("a:entry", NS)]

    before = {key: ids(key) for key in CATEGORIES}
    untouched = {
        k: (built.feeds / "category" / f"{k}.atom").read_bytes() for k in ("xa-hoi", "ban-doc")
    }
    edited = tamdao_article(
        "khanh-thanh-cau-vinh-phuc",
        title="Khánh thành cầu Vĩnh Phúc – Hà Nội",
        lead=ARTICLES[0].lead,
        body_html="<p>Đồng chí Chủ tịch UBND tỉnh phát biểu.</p>"
        "<p>Bản cập nhật: cầu dài 2,1km.</p>",
        authors=["Trường Khanh", "Minh Hà"],
        categories=["thoi-su", "kinh-te"],
        published=ARTICLES[0].published,
        image="/uploads/2025/03/cau.jpg",
        fetched_at=datetime(2025, 3, 11, 3, 0, tzinfo=UTC),
    )
    assert built.store.upsert(edited) == "updated"
    report = build_feeds(built.store, built.feeds, base_url=BASE_URL)
    assert {str(p.relative_to(built.feeds)) for p in report.written} == {
        f"{name}.{fmt}"
        for name in (
            "all",
            "category/thoi-su",
            "category/kinh-te",
            "province/phutho",
            "site/tamdao",
        )
        for fmt in FORMATS
    }  # the page shows titles, leads and publication times, OPML feeds: both left alone
    assert {key: ids(key) for key in CATEGORIES} == before
    entry = _atom_entry(_atom(built.feeds, "thoi-su"), "khanh-thanh-cau-vinh-phuc")
    assert "Bản cập nhật" in entry.findtext("a:content", "", NS)
    assert entry.findtext("a:published", None, NS) == "2025-03-08T08:15:00+07:00"
    assert entry.findtext("a:updated", None, NS) == "2025-03-11T10:00:00+07:00"
    assert (
        _atom(built.feeds, "thoi-su").findtext("a:updated", None, NS) == "2025-03-11T10:00:00+07:00"
    )
    for key, data in untouched.items():
        assert (built.feeds / "category" / f"{key}.atom").read_bytes() == data


@pytest.mark.parametrize(
    "key", ["../x", "..", ".", "", "a/b", "/etc/passwd", "Thoi-su", "thời-sự", "x\n", "a.b", "a b"]
)
def test_feed_path_rejects_keys_that_could_escape(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        feed_path(tmp_path, key, "atom")


def test_feed_path_for_a_good_key(tmp_path: Path) -> None:
    assert feed_path(tmp_path, "quoc-phong-an-ninh", "rss") == (
        tmp_path / "category" / "quoc-phong-an-ninh.rss"
    )


def test_build_skips_a_bad_category_key(tmp_path: Path, store_target: str) -> None:
    with open_store(store_target) as store:
        store.upsert(tamdao_article("thoat", categories=["../../thoat", "thoi-su"]))
        report = build_feeds(store, tmp_path / "out" / "feeds")
    assert report.rejected == ["../../thoat"]
    assert sorted(p.name for p in report.written if p.parent.name == "category") == [
        "thoi-su.atom", "thoi-su.json", "thoi-su.rss",
    ]  # fmt: skip
    assert [p.name for p in tmp_path.rglob("*thoat*")] == []


# -- every format, every file -----------------------------------------------------------


def test_every_file_follows_the_validator_rules(built: Built) -> None:
    """W3C Feed Validation Service rules (reference notes) and JSON Feed 1.1's schema."""
    files = feed_files(built.feeds)
    assert len(files) == 3 * (len(CATEGORIES) + 3)
    for path in files:
        check_feed_file(path)


def test_json_feed_metadata(built: Built) -> None:
    doc = _json(built.feeds, "category/thoi-su")
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["title"] == "Thời sự — Báo địa phương"
    assert doc["home_page_url"] == BASE_URL
    assert doc["feed_url"] == f"{BASE_URL}category/thoi-su.json"
    assert doc["language"] == "vi"
    assert doc["_aggregator"] == {
        "id": "tag:aggregator,2026:category/thoi-su",
        "updated": "2025-03-10T09:00:00+07:00",
        "ttl": 30,
    }
    items = doc["items"]
    assert isinstance(items, list)
    assert [i["id"] for i in items] == [_id(s) for s in THOI_SU_ORDER]


def test_json_feed_entry_matches_atom(built: Built) -> None:
    first = ARTICLES[0]
    items = _json(built.feeds, "category/thoi-su")["items"]
    assert isinstance(items, list)
    (item,) = [i for i in items if i["id"] == _id("khanh-thanh-cau-vinh-phuc")]
    entry = _atom_entry(_atom(built.feeds, "thoi-su"), "khanh-thanh-cau-vinh-phuc")
    assert item["url"] == first.canonical_url
    assert item["title"] == "Khánh thành cầu Vĩnh Phúc – Hà Nội"
    assert item["content_html"] == entry.findtext("a:content", None, NS)
    assert item["summary"] == first.lead
    assert item["image"] == "https://baotamdao.vn/uploads/2025/03/cau.jpg"
    assert item["date_published"] == "2025-03-08T08:15:00+07:00"
    assert item["date_modified"] == entry.findtext("a:updated", None, NS)
    assert item["authors"] == [{"name": "Trường Khanh"}, {"name": "Minh Hà"}]
    assert item["tags"] == ["Thời sự", "Kinh tế"]
    assert item["_aggregator"] == {
        "source": {"site": "tamdao", "name": "Báo Tam Đảo", "url": "https://baotamdao.vn/"},
        "categories": [
            {"key": "thoi-su", "label": "Thời sự"},
            {"key": "kinh-te", "label": "Kinh tế"},
        ],
        "also_at": [
            {"url": "https://baotamdao.vn/thoi-su/ban-sao.html", "site": "tamdao",
             "name": "Báo Tam Đảo"},
        ],
    }  # fmt: skip


def test_all_and_site_feeds(built: Built) -> None:
    everything = feedparser.parse((built.feeds / "all.atom").read_bytes())
    assert everything.feed.title == "Tất cả — Báo địa phương"
    assert everything.feed.id == "tag:aggregator,2026:all"
    originals = sorted(ARTICLES, key=lambda a: a.id)
    assert sorted(e.id for e in everything.entries) == [
        "tag:aggregator,2026:article/" + a.id for a in originals
    ]  # every original once, never the duplicate
    site = feedparser.parse((built.feeds / "site" / "tamdao.rss").read_bytes())
    assert site.feed.title == "Báo Tam Đảo — Báo địa phương"
    assert site.feed.link == "https://baotamdao.vn/"  # the newspaper's home page
    # the duplicate is a second URL of a tamdao page: not a second entry
    assert sorted(e.id for e in site.entries) == sorted(e.id for e in everything.entries)


def test_render_feed_gives_the_built_bytes(built: Built) -> None:
    articles = list(built.store.articles(categories=["thoi-su"], include_duplicates=False))
    for fmt in FORMATS:
        data = render_feed("thoi-su", articles, fmt, BASE_URL)  # type: ignore[arg-type]
        assert data == (built.feeds / "category" / f"thoi-su.{fmt}").read_bytes()
    with pytest.raises(ValueError):
        render_feed("../x", articles, "rss")


def test_no_build_time_anywhere(built: Built) -> None:
    """Every date in every file is an entry's own date (or the empty feed's epoch)."""
    allowed: set[str] = {"1970-01-01T07:00:00+07:00", "Thu, 01 Jan 1970 07:00:00 +0700"}
    for path in _files(built.feeds):
        parsed = feedparser.parse(path.read_bytes())
        for entry in parsed.entries:
            allowed |= {entry.get("published", ""), entry.get("updated", "")}
    iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[^\"<]*")
    rfc822 = re.compile(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}")
    for path in _all_files(built.feeds):
        text = path.read_text(encoding="utf-8")
        found = set(iso.findall(text)) | set(rfc822.findall(text))
        assert found <= allowed, (path.name, found - allowed)
    assert str(datetime.now().year) not in (built.feeds / "index.html").read_text()


# -- OPML and the index page ------------------------------------------------------------


def test_opml_lists_every_feed_file(built: Built) -> None:
    data = (built.feeds / "feeds.opml").read_bytes()
    urls = opml_urls(data)
    files = [p.relative_to(built.feeds).as_posix() for p in feed_files(built.feeds)]
    # one subscription per feed, in RSS: the Atom and JSON files sit beside it
    assert sorted(urls) == sorted(BASE_URL + f for f in files if f.endswith(".rss"))
    assert len(urls) == len(set(urls)) == len(files) // 3
    body = etree.fromstring(data).find("body")
    assert body is not None
    groups = {o.get("text"): o for o in body.iterfind("outline")}
    assert list(groups) == ["Tất cả", "Chuyên mục", "Tỉnh, thành phố", "Báo"]
    by_category = [o.get("text") for o in groups["Chuyên mục"].iterfind("outline")]
    assert by_category == ["Bạn đọc", "Kinh tế", "Thời sự", "Xã hội"]
    (phutho,) = groups["Tỉnh, thành phố"].iterfind("outline")
    assert phutho.get("text") == "Phú Thọ"  # Báo Tam Đảo of Vĩnh Phúc, merged into Phú Thọ
    assert phutho.get("xmlUrl") == f"{BASE_URL}province/phutho.rss"
    (tamdao,) = groups["Báo"].iterfind("outline")
    assert tamdao.get("title") == "Báo Tam Đảo — Báo địa phương"
    assert tamdao.get("xmlUrl") == f"{BASE_URL}site/tamdao.rss"
    assert list(tamdao) == []


def test_index_links_every_feed_with_autodiscovery(built: Built) -> None:
    alternates, anchors = index_links((built.feeds / "index.html").read_bytes())
    files = [p.relative_to(built.feeds).as_posix() for p in feed_files(built.feeds)]
    types = {"rss": "application/rss+xml", "atom": "application/atom+xml",
             "json": "application/feed+json"}  # fmt: skip
    assert alternates == {f: types[f.rsplit(".", 1)[1]] for f in files}
    links = {a for a in anchors if not a.startswith("https://baotamdao.vn/")}  # headlines
    assert set(files) | {"feeds.opml", "#nguon-tin"} == links
    page = (built.feeds / "index.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in page and "Thời sự — Báo địa phương" in page


# -- sites: copies, names, intervals ----------------------------------------------------


def _on(site: str, slug: str, **fields: Any) -> Article:
    """``slug`` on the newspaper ``site``, in the economy category."""
    values: dict[str, Any] = {
        "site": site,
        "site_name": f"Báo {site.title()}",
        "province": "Tỉnh",
        "title": f"{slug} ({site})",
        "lead": f"Sapo {slug}.",
        "body_html": f"<p>Thân bài {slug}.</p>",
        "body_text": f"Thân bài {slug}.",
        "categories": ["kinh-te"],
    }
    values.update(fields)
    return feed_article(f"https://bao{site}.vn/tin/{slug}.html", **values)


def test_site_feeds_show_copies_of_other_sites_stories(tmp_path: Path, store_target: str) -> None:
    wire = _on("tamdao", "tin-ttxvn", published=datetime(2025, 3, 1, 8, 0, tzinfo=VN))
    alias = _on("tamdao", "tin-ttxvn-url-cu", published=wire.published, duplicate_of=wire.id)
    copy = _on("baden", "tin-ttxvn", published=datetime(2025, 3, 1, 9, 0, tzinfo=VN),
               duplicate_of=wire.id)  # fmt: skip
    own = _on("baden", "tin-rieng", published=datetime(2025, 3, 2, 9, 0, tzinfo=VN))
    feeds = tmp_path / "feeds"
    with open_store(store_target) as store:
        for article in (wire, alias, copy, own):
            store.upsert(article)
        build_feeds(store, feeds, base_url=BASE_URL)

    def ids(name: str) -> list[str]:
        return [e.id for e in feedparser.parse((feeds / f"{name}.atom").read_bytes()).entries]

    tag = "tag:aggregator,2026:article/"
    assert ids("category/kinh-te") == [tag + own.id, tag + wire.id]
    assert ids("site/tamdao") == [tag + wire.id]  # its second URL is no second entry
    assert ids("site/baden") == [tag + own.id, tag + copy.id]
    items = _json(feeds, "site/baden")["items"]
    assert isinstance(items, list)
    assert items[1]["_aggregator"]["also_at"] == [
        {"url": wire.url, "site": "tamdao", "name": "Báo Tamdao"},
        {"url": alias.url, "site": "tamdao", "name": "Báo Tamdao"},
    ]  # the original first, then its other copies but this one (from the category feed)
    assert f'<a href="{wire.url}">Báo Tamdao</a>' in items[1]["content_html"]
    for path in feed_files(feeds):
        check_feed_file(path)


def test_province_feeds_span_the_papers_of_a_2025_province(
    tmp_path: Path, store_target: str
) -> None:
    """Báo Tam Đảo (Vĩnh Phúc, merged into Phú Thọ on 1 July 2025) and Báo Đất Tổ (Phú
    Thọ) share one province feed; a story both carry appears once, a story of another
    province's paper appears as the province paper's copy."""
    first = _on("tamdao", "cau-moi", province="Vĩnh Phúc",
                published=datetime(2025, 3, 1, 8, 0, tzinfo=VN))  # fmt: skip
    same = _on("datto", "cau-moi", province="Phú Thọ", duplicate_of=first.id,
               published=datetime(2025, 3, 1, 9, 0, tzinfo=VN))  # fmt: skip
    own = _on("datto", "le-hoi-den-hung", province="Phú Thọ",
              published=datetime(2025, 3, 2, 9, 0, tzinfo=VN))  # fmt: skip
    elsewhere = _on("songcau", "che-tan-cuong", province="Thái Nguyên",
                    published=datetime(2025, 3, 3, 7, 0, tzinfo=VN))  # fmt: skip
    copied = _on("tamdao", "che-tan-cuong", province="Vĩnh Phúc", duplicate_of=elsewhere.id,
                 published=datetime(2025, 3, 3, 8, 0, tzinfo=VN))  # fmt: skip
    feeds = tmp_path / "feeds"
    with open_store(store_target) as store:
        for article in (first, same, own, elsewhere, copied):
            store.upsert(article)
        build_feeds(store, feeds, base_url=BASE_URL)

    def ids(name: str) -> list[str]:
        return [e.id for e in feedparser.parse((feeds / f"{name}.atom").read_bytes()).entries]

    tag = "tag:aggregator,2026:article/"
    assert sorted(p.name for p in (feeds / "province").iterdir()) == [
        f"{key}.{fmt}" for key in ("phutho", "thainguyen") for fmt in sorted(FORMATS)
    ]
    assert ids("province/phutho") == [tag + copied.id, tag + own.id, tag + first.id]
    assert ids("province/thainguyen") == [tag + elsewhere.id]
    doc = _json(feeds, "province/phutho")
    assert doc["title"] == "Phú Thọ — Báo địa phương"
    assert doc["description"] == "Tin mới nhất của các báo tỉnh Phú Thọ"
    assert doc["feed_url"] == BASE_URL + "province/phutho.json"
    assert doc["home_page_url"] == BASE_URL + "?province=phutho"  # the page, filtered
    for path in feed_files(feeds):
        check_feed_file(path)

    # the page's index: each story once, its newspapers and their provinces
    index = json.loads((feeds / "headlines.json").read_text(encoding="utf-8"))
    assert [i["url"] for i in index["items"]] == [elsewhere.url, own.url, first.url]
    assert index["provinces"] == {"phutho": "Phú Thọ", "thainguyen": "Thái Nguyên"}
    assert index["sites"]["tamdao"] == {"name": "Báo Tamdao", "province": "phutho"}
    assert index["sites"]["songcau"]["province"] == "thainguyen"
    assert index["items"][0]["also"] == [
        {"site": "tamdao", "name": "Báo Tamdao", "url": copied.url}
    ]
    page = (feeds / "index.html").read_text(encoding="utf-8")
    assert "<h2" in page and "3 bài mới nhất</h2>" in page
    assert f'Cũng đăng trên: <a href="{copied.url}">Báo Tamdao</a>' in page
    assert "Báo Songcau · Thái Nguyên · <time" in page
    assert '<option value="phutho">Phú Thọ</option>' in page


def test_the_page_escapes_what_it_shows(built: Built, tmp_path: Path) -> None:
    """Titles and leads are text in the page and in headlines.json, never markup: text
    that speaks of markup is shown as it is, escaped."""
    article = tamdao_article(
        "the-html",
        title='Tiêu đề <img src=x onerror="alert(1)"> & "ngoặc"',
        lead="Sapo </li></ol><script>alert(2)</script> hết",
        categories=["thoi-su"],
        published=datetime(2025, 3, 12, 8, 0, tzinfo=VN),
    )
    built.store.upsert(article)
    build_feeds(built.store, built.feeds, base_url=BASE_URL)
    page = (built.feeds / "index.html").read_text(encoding="utf-8")
    doc = lxml_html.document_fromstring(page)
    first = doc.get_element_by_id("headlines").find("li")
    assert first is not None
    assert first.findtext("article/h3/a") == 'Tiêu đề <img src=x onerror="alert(1)"> & "ngoặc"'
    assert (
        first.findtext("article/p[@class='lead']") == "Sapo </li></ol><script>alert(2)</script> hết"
    )
    assert [s.get("src") for s in doc.iter("script")] == ["page.js"]
    assert not list(doc.iter("img"))
    assert not any(k.startswith("on") for el in doc.iter() for k in el.attrib)


def test_ttl_and_names_from_the_site_definitions(built: Built, tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        store.upsert(_on("tamdao", "mot"))
        store.upsert(_on("baden", "hai"))
        store.upsert(_on("songcau", "ba", categories=["xa-hoi"]))
        sites = {
            "tamdao": SiteInfo("Báo Tam Đảo", 15, "https://baotamdao.vn/"),
            "baden": SiteInfo("Báo Bà Đen", 60),
            "caonguyen": SiteInfo("Báo Cao Nguyên", 5),  # no article: no feed
        }
        report = build_feeds(store, tmp_path / "feeds", base_url=BASE_URL, sites=sites)
    feeds = tmp_path / "feeds"

    def channel(name: str) -> etree._Element:
        found = etree.parse(str(feeds / f"{name}.rss")).getroot().find("channel")
        assert found is not None
        return found

    assert channel("category/kinh-te").findtext("ttl") == "15"  # the smallest of tamdao, baden
    assert channel("category/xa-hoi").findtext("ttl") == "30"  # songcau: no definition
    assert channel("all").findtext("ttl") == "15"
    assert channel("site/baden").findtext("ttl") == "60"
    assert channel("site/baden").findtext("title") == "Báo Bà Đen — Báo địa phương"
    assert channel("site/baden").findtext("link") == "https://baobaden.vn/"
    assert channel("site/tamdao").findtext("link") == "https://baotamdao.vn/"
    assert channel("site/songcau").findtext("title") == "Báo Songcau — Báo địa phương"
    assert not (feeds / "site" / "caonguyen.rss").exists()
    assert report.rejected_sites == []


def test_site_infos_from_definitions() -> None:
    definition = SiteDefinition.model_validate(
        {"id": "tamdao", "name": "Báo Tam Đảo", "province": "Vĩnh Phúc", "interval": 20,
         "base_url": "https://baotamdao.vn", "links": {"article": r"\.html$"}}
    )  # fmt: skip
    assert site_infos([definition]) == {
        "tamdao": SiteInfo("Báo Tam Đảo", 20, "https://baotamdao.vn/", "phutho")
    }


def test_feeds_of_vanished_categories_are_removed(built: Built) -> None:
    stale = [built.feeds / "category" / "cu.rss", built.feeds / "site" / "bao-cu.json"]
    foreign = [built.feeds / "category" / "ghi-chu.txt", built.feeds / "site" / "README"]
    for path in stale + foreign:
        path.write_text("x")
    report = build_feeds(built.store, built.feeds, base_url=BASE_URL)
    assert sorted(report.removed) == sorted(stale)
    assert report.written == []
    assert all(not p.exists() for p in stale) and all(p.exists() for p in foreign)


# -- bad input ----------------------------------------------------------------------------

LONG_TITLE = "Tiêu đề rất dài " * 6400  # 102,400 characters
BAD_CATEGORIES = ["../../etc", "CON", "con", "nul", "x/y", "..", "a" * 300, "thoi-su"]
HOSTILE = [
    tamdao_article(
        "dieu-khien",
        title="Tiêu đề\x00\x01\x0b\x1f\x7f\ufffe có ký tự điều khiển",
        lead="Sapo\x0c có\x08 ký tự",
        body_html="<p>Thân\x0b bài &#11;&#x1; có\x1f ký tự điều khiển</p>",
        authors=["Tác\x07 giả"],
        categories=BAD_CATEGORIES,
        published=datetime(2025, 3, 9, 9, 0, tzinfo=VN),
    ),
    tamdao_article(
        "cdata",
        title="Kết thúc CDATA ]]> giữa tiêu đề",
        body_html="<p>Đoạn ]]> có dấu kết thúc CDATA</p><![CDATA[ <script>alert(5)</script> ]]>",
        categories=["thoi-su"],
        published=datetime(2025, 3, 9, 8, 0, tzinfo=VN),
    ),
    tamdao_article(
        "script",
        title="<script>alert('t')</script>Tiêu đề có script &lt;script&gt;alert(6)&lt;/script&gt;",
        lead="<script>alert(2)</script>Sapo có script",
        body_html="<script>alert(1)</script><p>Bài có script</p><style>p{}</style>"
        '<p onclick="alert(3)" style="x">Đoạn</p>',
        authors=["<b onmouseover=alert(4)>Tác giả</b>"],
        categories=["thoi-su"],
        published=datetime(2025, 3, 9, 7, 0, tzinfo=VN),
    ),
    tamdao_article(
        "anh-loi",
        title='Ảnh <img src=x onerror="alert(1)"> trong tiêu đề',
        body_html='<img src="a.jpg" onerror="alert(1)"><p>Ảnh</p><svg onload="alert(2)"></svg>',
        image="javascript:alert(1)",
        categories=["thoi-su"],
        published=datetime(2025, 3, 9, 6, 0, tzinfo=VN),
    ),
    tamdao_article(
        "lien-ket",
        title="Liên kết javascript",
        body_html='<a href="javascript:alert(1)">a</a> <a href="JaVaScRiPt:alert(1)">b</a> '
        '<a href="java&#x0A;script:alert(1)">c</a> <a href=" javascript:alert(1)">d</a> '
        '<a href="vbscript:msgbox(1)">e</a> <a href="data:text/html,<script>alert(1)</script>">f</a>'
        '<img src="data:image/png;base64,iVBORw0KGgo="><iframe src="javascript:alert(1)"></iframe>',
        categories=["thoi-su"],
        published=datetime(2025, 3, 9, 5, 0, tzinfo=VN),
    ),
    tamdao_article(
        "rlo",
        title="Tệp \u202egpj.exe\u202c và \u2066cô lập\u2069",
        lead="Sapo \u202edảo ngược",
        body_html="<p>Tên tệp \u202egpj.exe</p>",
        authors=["\u202eTác giả"],
        categories=["thoi-su"],
        published=datetime(2025, 3, 9, 4, 0, tzinfo=VN),
    ),
    tamdao_article(
        "dai",
        title=LONG_TITLE,
        lead="Sapo " * 30000,
        authors=["Tên " * 30000],
        categories=["thoi-su"],
        published=datetime(2025, 3, 9, 3, 0, tzinfo=VN),
    ),
]
#: a site id that would escape, with a name that is a payload
EVIL_SITE = feed_article(
    "https://evil.example/tin/1.html",
    site="../evil",
    site_name="<script>alert(7)</script>Báo \u202eÁc",
    province="?",
    title="Bài của trang lạ",
    lead="",
    body_html="<p>x</p>",
    body_text="x",
    categories=["thoi-su", "CON"],
    published=datetime(2025, 3, 9, 2, 0, tzinfo=VN),
)
#: a stored "article" whose own URL is a payload: never an entry
JAVASCRIPT_URL = feed_article(
    "javascript:alert(8)",
    title="Bài có URL javascript",
    lead="",
    body_html="<p>x</p>",
    body_text="x",
    categories=["thoi-su"],
    published=datetime(2025, 3, 9, 1, 0, tzinfo=VN),
)
#: a copy of the first hostile article at a javascript: URL (its also_at link)
JAVASCRIPT_COPY = feed_article(
    "javascript:alert(9)//copy",
    site="baden",
    site_name="Báo Bà Đen",
    province="Tây Ninh",
    title="Bản sao",
    lead="",
    body_html="<p>x</p>",
    body_text="x",
    categories=["thoi-su"],
    published=datetime(2025, 3, 10, 1, 0, tzinfo=VN),
    duplicate_of=HOSTILE[0].id,
)
PAYLOADS = ("<script", "onerror", "onclick", "onmouseover", "onload", "javascript:",
            "vbscript:", "data:", "<iframe", "<svg", "<style", "\u202e", "\u202c", "\u2066")  # fmt: skip


@pytest.fixture
def hostile(tmp_path: Path, store_target: str) -> Iterator[Built]:
    """The hostile articles in a fresh store (``store_target``), their feeds built."""
    with open_store(store_target) as store:
        for article in [*HOSTILE, EVIL_SITE, JAVASCRIPT_URL, JAVASCRIPT_COPY]:
            store.upsert(article)
        feeds = tmp_path / "out" / "feeds"
        report = build_feeds(store, feeds, base_url=BASE_URL)
        assert sorted(report.rejected) == sorted(k for k in BAD_CATEGORIES if k != "thoi-su")
        assert report.rejected_sites == ["../evil"]
        yield Built(store, feeds)


def _texts(feeds: Path) -> tuple[list[str], list[str]]:
    """``(markup, text)``: every value a reader renders as HTML (contents, RSS
    descriptions, links), and every one it shows as text (titles, Atom summaries,
    authors, categories), every format."""
    markup: list[str] = []
    text: list[str] = []
    for path in feed_files(feeds):
        if path.suffix == ".json":
            doc = json.loads(path.read_bytes())
            text += [doc["title"], doc["description"]]
            for item in doc["items"]:
                markup.append(item.get("content_html", ""))
                text += [item["title"], item.get("summary", "")]
                text += [a["name"] for a in item["authors"]] + item.get("tags", [])
                text.append(json.dumps(item["_aggregator"], ensure_ascii=False))
            continue
        parsed = feedparser.parse(path.read_bytes(), sanitize_html=False)
        text += [parsed.feed.title, parsed.feed.get("subtitle", "")]
        for entry in parsed.entries:
            for detail in [
                entry.title_detail,
                entry.get("summary_detail"),
                *entry.get("content", []),
            ]:
                if detail is not None:
                    (text if detail.type == "text/plain" else markup).append(detail.value)
            text.append(entry.get("author", ""))
            text += [t.term for t in entry.get("tags", [])] + [
                t.get("label") or "" for t in entry.get("tags", [])
            ]
            markup += [link.href for link in entry.links]
    return markup, text


def test_hostile_input_every_file_valid(hostile: Built) -> None:
    files = feed_files(hostile.feeds)
    assert {p.relative_to(hostile.feeds).as_posix() for p in files} == {
        f"{name}.{fmt}"
        for name in ("all", "category/thoi-su", "province/phutho", "site/tamdao")
        for fmt in FORMATS
    }  # baden's only article is at a javascript: URL: no entry, no feed
    for path in files:
        check_feed_file(path)
    opml_urls((hostile.feeds / "feeds.opml").read_bytes())
    lxml_html.document_fromstring((hostile.feeds / "index.html").read_bytes())
    entries = feedparser.parse((hostile.feeds / "category" / "thoi-su.atom").read_bytes()).entries
    assert len(entries) == len(HOSTILE) + 1  # every hostile article, the evil site's too


def test_hostile_input_no_file_outside_the_folder(hostile: Built) -> None:
    root = hostile.feeds.parent.parent  # tmp_path: the store and out/feeds
    names = {p.relative_to(root).as_posix() for p in root.rglob("*")}
    outside = {n for n in names if not n.startswith("out") and not n.startswith("store.db")}
    assert outside == set()
    assert names - {"out", "out/feeds"} <= {
        *(f"out/feeds/{p.relative_to(hostile.feeds).as_posix()}"
          for p in hostile.feeds.rglob("*")),
        "store.db", "store.db-wal", "store.db-shm",
    }  # fmt: skip
    for path in hostile.feeds.rglob("*"):
        assert "etc" not in path.name and "evil" not in path.name
        assert path.stem.lower() not in {"con", "nul"}


def test_hostile_input_no_payload_survives(hostile: Built) -> None:
    markup, texts = _texts(hostile.feeds)
    for text in markup:
        lowered = text.lower()
        for payload in PAYLOADS:
            assert payload not in lowered, (payload, text[:200])
    for text in texts:  # text may speak of "<script>" (it is escaped); never reorders itself
        for bidi in ("\u202e", "\u202c", "\u2066"):
            assert bidi not in text, text[:200]
    own_script = b'<script src="page.js" defer></script>'  # the page's one script
    assert (hostile.feeds / "index.html").read_bytes().count(own_script) == 1
    for path in [*feed_files(hostile.feeds), hostile.feeds / "feeds.opml",
                 hostile.feeds / "index.html", hostile.feeds / "headlines.json"]:  # fmt: skip
        raw = path.read_bytes().replace(own_script, b"")
        for payload in ("<script", "\u202e", "<iframe"):
            assert payload.encode() not in raw.lower(), (path.name, payload)
        # "onerror" and "javascript:" may be words of an escaped text, never in a tag
        assert not re.search(rb"<[a-z][^>]*\s(on[a-z]+=|[a-z]+=.javascript:)", raw.lower())
        if path.suffix != ".json":  # XML and HTML: no "]]>" to end a CDATA section
            assert b"]]>" not in raw, path.name
        assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", raw), path.name


def test_hostile_input_text_kept_as_text(hostile: Built) -> None:
    items = _json(hostile.feeds, "category/thoi-su")["items"]
    assert isinstance(items, list)
    titles = {i["id"]: i["title"] for i in items}
    assert titles[_id("dieu-khien")] == "Tiêu đề có ký tự điều khiển"
    assert titles[_id("cdata")] == "Kết thúc CDATA ]]> giữa tiêu đề"  # escaped, never CDATA
    # text is text: what a page shows as characters stays, escaped in every format
    assert titles[_id("script")] == HOSTILE[2].title
    assert titles[_id("anh-loi")] == 'Ảnh <img src=x onerror="alert(1)"> trong tiêu đề'
    assert titles[_id("rlo")] == "Tệp gpj.exe và cô lập"
    long = titles[_id("dai")]
    assert len(long) <= MAX_TITLE and long.endswith("…") and long.startswith("Tiêu đề rất dài")
    by_id = {i["id"]: i for i in items}
    assert "image" not in by_id[_id("anh-loi")]  # a javascript: lead image is dropped
    assert by_id[_id("script")]["authors"] == [{"name": "<b onmouseover=alert(4)>Tác giả</b>"}]
    assert by_id[_id("script")]["summary"] == "<script>alert(2)</script>Sapo có script"
    assert by_id[_id("dieu-khien")]["_aggregator"]["categories"] == [
        {"key": "thoi-su", "label": "Thời sự"}
    ]  # unusable keys are no category of any entry
    assert by_id[_id("dieu-khien")]["_aggregator"]["also_at"] == []  # the javascript: copy
    assert JAVASCRIPT_URL.id not in json.dumps(items)  # an article at a javascript: URL
    for path in feed_files(hostile.feeds):
        assert path.stat().st_size < 200_000, path.name  # a 100 KB title stays out
    evil = by_id["tag:aggregator,2026:article/" + EVIL_SITE.id]
    # its entry stays; its name is text
    assert evil["_aggregator"]["source"]["name"] == "<script>alert(7)</script>Báo Ác"


@pytest.mark.parametrize("kind", ["category", "site"])
@pytest.mark.parametrize(
    "key", ["CON", "con", "nul", "com1", "lpt9", "a" * 101, "-x", "../etc", "x\x00", "é"]
)
def test_feed_path_rejects_unsafe_names(tmp_path: Path, kind: str, key: str) -> None:
    with pytest.raises(ValueError):
        feed_path(tmp_path, key, "json", kind)  # type: ignore[arg-type]


def test_feed_path_kinds(tmp_path: Path) -> None:
    assert feed_path(tmp_path, "", "json", "all") == tmp_path / "all.json"
    assert feed_path(tmp_path, "tamdao", "atom", "site") == tmp_path / "site" / "tamdao.atom"
    assert feed_path(tmp_path, "a" * 100, "rss") == tmp_path / "category" / f"{'a' * 100}.rss"
    with pytest.raises(ValueError):
        feed_path(tmp_path, "x", "html", "site")  # type: ignore[arg-type]


def test_a_symlinked_folder_leading_out_is_refused(built: Built, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    feeds = tmp_path / "linked"
    feeds.mkdir()
    (feeds / "category").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="leads out"):
        build_feeds(built.store, feeds, base_url=BASE_URL)
    assert list(outside.iterdir()) == [] and list(feeds.iterdir()) == [feeds / "category"]


def test_only_known_category_keys_get_feeds_and_at_most_the_cap(
    tmp_path: Path, store_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys minted from page text by an older version (a hostile section, a garbled
    one) stay in the store but get no feed; the number of category feeds is capped."""
    minted = ["etc-passwd", "thoi-su-script-alert-sec-script", "tha-i-sa"]
    with open_store(store_target) as store:
        for n, keys in enumerate([["thoi-su"], ["thoi-su", "kinh-te"], ["y-te"], minted]):
            store.upsert(tamdao_article(f"bai-{n}", categories=keys))
        feeds = tmp_path / "feeds"
        report = build_feeds(store, feeds, base_url=BASE_URL, categories=known_categories([]))
        built = sorted(p.stem for p in (feeds / "category").glob("*.json"))
        assert built == ["kinh-te", "thoi-su", "y-te"]
        assert sorted(report.rejected) == sorted(minted)
        monkeypatch.setattr(build_module, "MAX_CATEGORY_FEEDS", 2)
        report = build_feeds(store, feeds, base_url=BASE_URL)  # no known keys: the cap alone
        built = sorted(p.stem for p in (feeds / "category").glob("*.json"))
        assert len(built) == 2 and "thoi-su" in built  # the key with the most articles
        assert len(report.rejected) == 4


def test_leftover_temp_files_of_a_killed_build_are_removed(built: Built) -> None:
    old = time.time() - LEFTOVER_AGE - 60
    leftovers = [
        built.feeds / ".all.rss.k1ll3d.tmp",
        built.feeds / "category" / ".kinh-te.atom.x7y8z9.tmp",
        built.feeds / "site" / ".tamdao.json.a1b2c3.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b"half a feed")
        os.utime(path, (old, old))
    writing = built.feeds / ".all.atom.n0w123.tmp"  # a build at work beside this one
    writing.write_bytes(b"being written")
    report = build_feeds(built.store, built.feeds, base_url=BASE_URL)
    assert sorted(report.removed) == sorted(leftovers)
    assert not any(p.exists() for p in leftovers)
    assert writing.exists()


def test_a_huge_article_is_cut_in_the_feeds_and_reported(tmp_path: Path) -> None:
    """An entry's content stops at MAX_CONTENT characters, at an element's end, with a
    link to the article; the build reports it (a 12 MB article once made every feed
    37 MB)."""
    paragraph = "<p>" + "Một đoạn văn rất dài của bài báo khổng lồ. " * 20 + "</p>"
    huge = tamdao_article("bai-khong-lo", body_html=paragraph * 2000)  # ~1.8 MB
    assert len(huge.body_html) > 10 * MAX_CONTENT
    with SQLiteStore(tmp_path / "a.db") as store:
        store.upsert(huge)
        store.upsert(tamdao_article("bai-thuong"))
        report = build_feeds(store, tmp_path / "feeds", base_url=BASE_URL)
    assert report.cut == [huge.canonical_url]
    items = {i["url"]: i for i in _json(tmp_path / "feeds", "all")["items"]}  # type: ignore[attr-defined]
    content = items[huge.canonical_url]["content_html"]
    assert MAX_CONTENT // 2 < len(content) <= MAX_CONTENT + 200
    kept = content.rsplit("<p><a ", 1)[0]
    assert kept and kept == paragraph * (len(kept) // len(paragraph))  # whole paragraphs
    assert f'<a href="{huge.canonical_url}">{READ_ON_LABEL}' in content
    assert READ_ON_LABEL not in items[tamdao_article("bai-thuong").canonical_url]["content_html"]
    for path in feed_files(tmp_path / "feeds"):
        assert path.stat().st_size < 4 * MAX_CONTENT, path
