"""Category feeds built from a real SQLite store, read back as readers would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from lxml import etree
from lxml import html as lxml_html

from aggregator.feeds import DEFAULT_BASE_URL, build_feeds, feed_path
from aggregator.items import Article, article_id
from aggregator.sanitize import sanitize_html
from aggregator.store import SQLiteStore

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
NS = {"a": "http://www.w3.org/2005/Atom"}
ATOM_RNG = Path(__file__).resolve().parents[1] / ".." / "shared" / "schemas" / "atom.rng"
BASE_URL = "https://tin.example.vn/feeds/"
FETCHED = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam
CATEGORIES = ("ban-doc", "kinh-te", "thoi-su", "xa-hoi")
PAYLOAD_BODY = (
    "<p>Nội dung có mã độc.</p><script>alert('xss')</script>"
    '<img src="x.jpg" onerror="alert(1)"><a href="javascript:alert(2)">bấm</a>'
    '<img src="data:image/png;base64,iVBORw0KGgo="><iframe src="https://evil.example/"></iframe>'
    '<p><a href="/ban-doc/">Bạn đọc</a> <img src="../uploads/anh-tuong-doi.png" alt="ảnh"></p>'
)


def _article(slug: str, **fields: object) -> Article:
    url = f"https://baotamdao.vn/thoi-su/{slug}.html"
    values: dict[str, object] = {
        "site": "tamdao",
        "site_name": "Báo Tam Đảo",
        "province": "Vĩnh Phúc",
        "title": f"Tin {slug}",
        "lead": f"Sapo của bài {slug}.",
        "body_html": f"<p>Thân bài {slug}.</p>",
        "body_text": f"Thân bài {slug}.",
        "fetched_at": FETCHED,
        **fields,
    }
    return Article(url=url, canonical_url=url, id=article_id(url), **values)  # type: ignore[arg-type]


ARTICLES = [
    _article(
        "khanh-thanh-cau-vinh-phuc",
        title="Khánh thành cầu Vĩnh Phúc – Hà Nội",
        lead="(BTĐ) - Sáng 8/3, tỉnh Vĩnh Phúc tổ chức lễ khánh thành cầu.",
        body_html="<p>Đồng chí Chủ tịch UBND tỉnh phát biểu.</p><h2>Ý nghĩa</h2>"
        "<p>Cầu dài 2km.</p>",
        authors=["Trường Khanh", "Minh Hà"],
        categories=["thoi-su", "kinh-te"],
        published=datetime(2025, 3, 8, 8, 15, tzinfo=VN),
        image="/uploads/2025/03/cau.jpg",
    ),
    _article(
        "ma-doc",
        title="Tiêu đề\x0bcó ký tự điều khiển",
        body_html=PAYLOAD_BODY,
        categories=["thoi-su"],
        published=datetime(2025, 3, 9, 1, 30, tzinfo=UTC),  # 08:30 in Vietnam
        image="anh/ma-doc.png",
    ),
    _article("khong-ngay", categories=["thoi-su", "xa-hoi"]),  # undated: first seen 09:00
    _article("bai-cu", categories=["thoi-su"], published=datetime(2025, 3, 1, 7, 0, tzinfo=VN)),
    _article("xa-hoi-mot", categories=["xa-hoi"], published=datetime(2025, 3, 5, 6, 0, tzinfo=VN)),
]
#: a near-duplicate of the first article: kept in the store, never in a feed
DUPLICATE = _article(
    "ban-sao",
    categories=["thoi-su", "ban-doc"],
    published=datetime(2025, 3, 9, 20, 0, tzinfo=VN),
    duplicate_of=ARTICLES[0].id,
)
THOI_SU_ORDER = ["khong-ngay", "ma-doc", "khanh-thanh-cau-vinh-phuc", "bai-cu"]


def _id(slug: str) -> str:
    return "tag:aggregator,2026:article/" + article_id(f"https://baotamdao.vn/thoi-su/{slug}.html")


@dataclass
class Built:
    store: SQLiteStore
    feeds: Path


@pytest.fixture
def built(tmp_path: Path) -> Iterator[Built]:
    with SQLiteStore(tmp_path / "store.db") as store:
        for article in [*ARTICLES, DUPLICATE]:
            assert store.upsert(article) == "inserted"
        feeds = tmp_path / "feeds"
        report = build_feeds(store, feeds, base_url=BASE_URL)
        assert sorted(report.written) == sorted(
            feeds / "category" / f"{key}.{ext}" for key in CATEGORIES for ext in ("atom", "rss")
        )
        assert report.unchanged == []
        yield Built(store, feeds)


def _files(feeds: Path) -> list[Path]:
    return sorted((feeds / "category").glob("*.*"))


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
    assert len(files) == 2 * len(CATEGORIES)
    for path in files:
        parsed = feedparser.parse(path.read_bytes())
        assert parsed.bozo == 0, (path.name, parsed.get("bozo_exception"))
        assert parsed.version == ("atom10" if path.suffix == ".atom" else "rss20")
        assert parsed.feed.language == "vi"


def test_atom_validates_against_relax_ng(built: Built) -> None:
    if not ATOM_RNG.is_file():
        pytest.skip(f"Atom RELAX NG schema not found at {ATOM_RNG} (shared folder absent)")
    schema = etree.RelaxNG(file=str(ATOM_RNG))
    for key in CATEGORIES:
        doc = etree.parse(str(built.feeds / "category" / f"{key}.atom"))
        assert schema.validate(doc), (key, str(schema.error_log))


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
    assert entry.findtext("a:source/a:title", None, NS) == "Báo Tam Đảo"
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
    assert source.get("url") == "https://baotamdao.vn/"


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
    # a category holding only a duplicate still gets a valid, empty, dated feed
    empty = feedparser.parse((built.feeds / "category" / "ban-doc.atom").read_bytes())
    assert empty.bozo == 0 and empty.entries == []
    assert empty.feed.updated == "1970-01-01T07:00:00+07:00"


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
        p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in _files(built.feeds)
    }
    report = build_feeds(built.store, built.feeds, base_url=BASE_URL)
    assert report.written == []
    assert sorted(report.unchanged) == sorted(before)
    after = {
        p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in _files(built.feeds)
    }
    assert after == before
    assert not [p for p in (built.feeds / "category").iterdir() if p.name.startswith(".")]


def test_same_articles_give_identical_bytes_in_a_fresh_folder(built: Built, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_feeds(built.store, again, base_url=BASE_URL)
    for path in _files(built.feeds):
        assert (again / "category" / path.name).read_bytes() == path.read_bytes()


def test_ids_stable_when_an_article_is_edited(built: Built) -> None:
    def ids(key: str) -> list[str]:
        root = _atom(built.feeds, key)
        return [e.findtext("a:id", "", NS) for e in root.iterfind("a:entry", NS)]

    before = {key: ids(key) for key in CATEGORIES}
    untouched = {
        k: (built.feeds / "category" / f"{k}.atom").read_bytes() for k in ("xa-hoi", "ban-doc")
    }
    edited = _article(
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
    assert {p.name for p in report.written} == {
        "thoi-su.atom", "thoi-su.rss", "kinh-te.atom", "kinh-te.rss",
    }  # fmt: skip
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


def test_build_skips_a_bad_category_key(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "store.db") as store:
        store.upsert(_article("thoat", categories=["../../thoat", "thoi-su"]))
        report = build_feeds(store, tmp_path / "out" / "feeds")
    assert report.rejected == ["../../thoat"]
    assert sorted(p.name for p in report.written) == ["thoi-su.atom", "thoi-su.rss"]
    assert [p.name for p in tmp_path.rglob("*thoat*")] == []
