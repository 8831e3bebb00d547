"""Property: a text node holding markup characters (``<``, ``&``, ``]]>``, quotes, an
escaped ``<script>``) survives the whole way — extraction of a page that escapes it,
normalization, the store, every feed format, index.html and the export — whole, and
is escaped in every output (no tag, no CDATA end in the bytes).

Fuzzing settings as in test_fuzz.py: derandomized in CI, ``AGGREGATOR_FUZZ_EXAMPLES``
random examples when set.
"""

from __future__ import annotations

import html
import io
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import feedparser
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lxml_html

from aggregator.extract.article import extract_article
from aggregator.process.chain import normalize_article
from aggregator.publish.export import export_jsonl
from aggregator.publish.feeds import build_feeds
from aggregator.publish.feeds.layout import STATIC_FILES
from aggregator.publish.feeds.select import SiteInfo
from aggregator.store import open_store
from tests.support.factory import STORY_TEXT
from tests.unit.fuzz.test_fuzz import BASE, _site, fuzz_settings

#: Letters, spaces and every character markup gives meaning to, plus whole snippets.
_NODE_CHARS = st.sampled_from(list("aăâđêôơưáàạếữ <>&\"'/=;]!#"))
_SNIPPETS = st.sampled_from(
    ["<script>alert(1)</script>", "&lt;script&gt;", "]]>", "<![CDATA[", "&amp;", "<b>",
     "</p>", "<!--", 'a="b"', "&#60;", "<img src=x onerror=alert(1)>"]
)  # fmt: skip
text_node = st.lists(st.one_of(st.text(_NODE_CHARS, min_size=1, max_size=8), _SNIPPETS),
                     min_size=1, max_size=5).map("".join)  # fmt: skip


def _page(title: str, lead: str, body: str) -> str:
    """A tamdao article page printing the three texts escaped, as a CMS does."""
    e = html.escape
    return (
        '<html><head><meta property="article:published_time" content="2026-11-20T08:00:00+07:00">'
        f'</head><body><div class="article-detail"><h1 class="article-title">{e(title)}</h1>'
        f'<div class="article-sapo">{e(lead)}</div><div class="article-content">'
        f"<p>{e(STORY_TEXT)}</p><p>{e(body)}</p></div></div></body></html>"
    )


def _text_of(fragment: str) -> str:
    return " ".join(
        lxml_html.fragment_fromstring(fragment, create_parent="div").text_content().split()
    )


def check_round_trip(node: str) -> None:
    """Extract, store, publish and export a page whose title, lead, body and site name
    hold ``node``; every output gives it back, escaped."""
    site = _site("tamdao")
    title, lead, body = f"Cảnh báo {node} trên web", f"Sapo {node}", f"Đoạn {node} hết."
    found = extract_article(f"{BASE}tamdao/thoi-su/bai-77.html", _page(title, lead, body), site)
    article = normalize_article(found.to_article(site, fetched_at=datetime.now(UTC)), site)
    article.site_name = f"Báo {node}"
    # the node has no control or bidi character: whole means single-spaced, nothing else
    want = {key: " ".join(value.split()) for key, value in
            (("title", title), ("lead", lead), ("body", body), ("site", article.site_name))}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        with open_store(Path(tmp) / "store.db") as store:
            store.upsert(article)
            stored = store.get(article.id)
            assert stored is not None
            assert (stored.title, stored.lead) == (want["title"], want["lead"])
            assert want["body"] in stored.body_text.splitlines()
            feeds = Path(tmp) / "feeds"
            build_feeds(store, feeds, sites={"tamdao": SiteInfo(article.site_name)})
            out = io.StringIO()
            export_jsonl(store, out)
        own_script = b'<script src="page.js" defer></script>'  # the page's one script
        raws = {p.name: p.read_bytes() for p in feeds.rglob("*.*") if p.name not in STATIC_FILES}
        for name, raw in raws.items():
            lowered = raw.replace(own_script, b"").lower()
            assert b"<script" not in lowered and b"<img" not in lowered, name
            if not name.endswith(".json"):
                assert b"]]>" not in raw and b"<b>" not in raw, name

        doc = json.loads((feeds / "all.json").read_bytes())
        item = doc["items"][0]
        assert (item["title"], item["summary"]) == (want["title"], want["lead"])
        assert want["body"] in _text_of(item["content_html"])
        site_doc = json.loads((feeds / "site" / "tamdao.json").read_bytes())
        assert site_doc["items"][0]["_aggregator"]["source"]["name"] == want["site"]

        atom = feedparser.parse((feeds / "all.atom").read_bytes(), sanitize_html=False).entries[0]
        assert (atom.title, atom.summary) == (want["title"], want["lead"])
        assert want["body"] in _text_of(atom.content[0].value)
        rss = etree.fromstring((feeds / "all.rss").read_bytes()).find("channel/item")
        assert rss is not None
        assert rss.findtext("title") == want["title"]
        # RSS <description> is HTML: the text escaped once more
        assert _text_of(rss.findtext("description") or "") == want["lead"]

        index = lxml_html.document_fromstring((feeds / "index.html").read_bytes())
        assert want["title"] in [" ".join(a.text_content().split()) for a in index.iter("a")]
        assert want["site"] in " ".join(index.text_content().split())

    line = out.getvalue().splitlines()[0]
    assert "<" not in line and ">" not in line  # escaped as \u003c, \u003e
    record = json.loads(line)
    assert (record["title"], record["lead"]) == (want["title"], want["lead"])
    assert want["body"] in record["body_text"].splitlines()


def test_escaped_markup_headline_round_trips() -> None:
    """The headline about script injection that was stored cut at the ``<``."""
    check_round_trip('mã độc <script>alert("x")</script> & ]]> trong "tiêu đề"')


@fuzz_settings(40)
@given(node=text_node)
def test_any_text_node_round_trips_escaped(node: str) -> None:
    check_round_trip(node)
