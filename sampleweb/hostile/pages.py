"""The hostile web's pages: the normal web's pages with the plan's faults rendered in
(charsets, broken markup, payloads), the new pages the listings link (redirects, PDF, JPEG
and JSON answers), the XML attacks in songcau's feeds and sitemaps, and the trap pages.
No I/O: what is answered per request is :mod:`sampleweb.hostile.handlers`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from sampleweb.base import HTML, PNG_BYTES, Page, SiteTemplate, esc
from sampleweb.groundtruth import GroundTruthArticle
from sampleweb.hostile.costly import figures_page, links_block, nested_page
from sampleweb.hostile.payloads import (
    BILLION_LAUGHS,
    EVIL,
    LOCAL_SECRET,
    OFFSITE_HOST,
    PAYLOAD_HTML,
    PAYLOAD_JS,
    PAYLOAD_TEXT,
    XML_INVALID,
    xxe_doctype,
)
from sampleweb.hostile.plan import (
    ARTICLE_FAULTS,
    COSTLY_FAULTS,
    PAGE_FAULTS,
    SCOPE_FAULTS,
    URL_FAULTS,
    Fault,
    HostilePlan,
)

_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


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


def _with_doctype(xml: str, doctype: str) -> str:
    """Insert a DOCTYPE after the XML declaration."""
    end = xml.find("?>") + 2 if xml.startswith("<?xml") else 0
    return xml[:end] + "\n" + doctype + xml[end:].lstrip("\n")


def redirect_page(location: str, status: int = 301) -> Page:
    """A redirect to ``location``."""
    body = f'<a href="{esc(location)}">Moved</a>'.encode()
    return Page(status, HTML, body, headers=(("Location", location),))


def _article(plan: HostilePlan, key: str) -> GroundTruthArticle:
    return next(a for a in plan.articles if a.key == key)


def _costly_fault(
    f: Fault,
    pages: dict[str, Page],
    links: dict[str, list[tuple[str, str]]],
    blocks: dict[str, str],
    listing: str,
    second_listing: str,
) -> None:
    """A page that costs a parser more than its size, linked from ``listing``; or the
    block of 8,000 links, put last on ``second_listing`` (the cap leaves out what
    follows it)."""
    if f.kind == "costly-links":
        # undated: a link's date goes with its redirect to the article
        blocks[second_listing] = links_block(f"/{f.site}/tin-dong-{{i}}-a97{{i:04d}}.html", date="")
    else:
        title = f"Trang nặng của phóng sự: {f.kind}"
        make = figures_page if f.kind == "costly-figures" else nested_page
        pages[f.path] = Page(200, HTML, make(title).encode())
        links.setdefault(listing, []).append((f.path, title))


def _scope_fault(
    f: Fault,
    pages: dict[str, Page],
    links: dict[str, list[tuple[str, str]]],
    listing: str,
    local: str,
    other: str,
) -> None:
    """What points off the site's scope: a meta refresh on an article page, or a link on
    ``listing`` to a local file (under ``local``) or the other port (``other``)."""
    if f.kind.startswith("meta-refresh"):
        target = {
            "meta-refresh-javascript": "javascript:alert(1)",
            "meta-refresh-file": "file:///etc/passwd",
            "meta-refresh-port": f"{other}{EVIL.rstrip('/')}{f.path}",
        }[f.kind]
        markup = pages[f.path].body.decode()
        head = markup.find("<head>") + len("<head>")
        refresh = f'\n<meta http-equiv="refresh" content="0; url={esc(target)}">'
        pages[f.path] = replace(pages[f.path], body=_insert(markup, head, refresh).encode())
    elif f.kind == "file-link":
        links.setdefault(listing, []).append((f"{local}{f.path}", f"Tin {f.kind}"))
    elif f.kind == "port-link":
        links.setdefault(listing, []).append(
            (f"{other}{EVIL.rstrip('/')}{f.path}", f"Tin {f.kind}")
        )
    elif f.kind == "port-redirect":
        links.setdefault(listing, []).append((f.path, f"Tin {f.kind}"))
        pages[f.path] = redirect_page(f"{other}{EVIL}bai-viet.html", 302)


def render_faults(
    plan: HostilePlan,
    templates: Mapping[str, SiteTemplate],
    origin: str,
    pages: dict[str, Page],
    *,
    other_origin: str,
    local_dir: str,
) -> dict[str, Fault]:
    """Render the plan's faults into ``pages`` (the normal web's, changed in place) and
    return the faults answered per request, by path (:mod:`sampleweb.hostile.handlers`).
    ``other_origin``: the hostile web's other port; ``local_dir``: the folder of the
    local files ``file-link`` faults name (:func:`local_files`)."""
    dynamic: dict[str, Fault] = {}  # path -> fault served per request
    links: dict[str, list[tuple[str, str]]] = {}  # listing path -> injected links
    blocks: dict[str, str] = {}  # listing path -> a block of links put last
    port = urlsplit(origin).port
    host = urlsplit(origin).hostname
    other = other_origin.rstrip("/")

    def first_listing(site: str, section: str | None = None) -> str:
        t = templates[site]
        return t.listing_path(section or next(iter(t.sections)), 1)

    for f in plan.faults:
        t = templates[f.site]
        if f.kind in ARTICLE_FAULTS:
            dynamic[f.path] = f
        elif f.kind in PAGE_FAULTS:
            a = _article(plan, f.article or "")
            pages[f.path] = _page_fault(f.kind, t, a, pages[f.path])
        elif f.kind == "many-urls":
            a = _article(plan, f.article or "")
            variants = plan.extra_paths[a.key]
            for path in variants:
                pages[path] = pages[f.path]
            links.setdefault(first_listing(f.site, a.section), []).extend(
                (p, a.title) for p in variants
            )
        elif f.kind == "payload-article":
            a = _article(plan, f.article or "")
            markup = pages[f.path].body.decode()
            at = _paragraph_start(markup, t, a, 1)
            escaped = f"<p>{esc(PAYLOAD_TEXT)}</p>"  # pasted as text: shown, never run
            pages[f.path] = replace(
                pages[f.path], body=_insert(markup, at, PAYLOAD_HTML + escaped).encode()
            )
        elif f.kind in URL_FAULTS and f.path.startswith(f"/{f.site}/"):
            links.setdefault(first_listing(f.site), []).append((f.path, f"Tin {f.kind}"))
            _url_fault(pages, dynamic, f, port)
        elif f.kind in COSTLY_FAULTS:
            # the links block on another listing than the faults' links and the traps'
            # (which copy their listing)
            taken = {g.path.split("/")[2] for g in plan.traps() if g.site == f.site}
            section = next(s for s in list(t.sections)[1:] if s not in taken)
            _costly_fault(
                f, pages, links, blocks, first_listing(f.site), first_listing(f.site, section)
            )
        elif f.kind in SCOPE_FAULTS:
            _scope_fault(f, pages, links, first_listing(f.site), f"file://{host}{local_dir}", other)
    _xml_attacks(pages, templates["songcau"], origin, port)
    _trap_links(plan, templates, links)
    for path, extra in links.items():
        markup = pages[path].body.decode()
        pages[path] = replace(
            pages[path], body=_before_body_end(markup, _links_box(extra)).encode()
        )
    for path, block in blocks.items():
        markup = pages[path].body.decode()
        pages[path] = replace(pages[path], body=_before_body_end(markup, block).encode())
    return dynamic


def local_files(
    plan: HostilePlan, templates: Mapping[str, SiteTemplate], pages: Mapping[str, Page]
) -> dict[str, bytes]:
    """The local files ``file-link`` faults name, by path under the local folder: an
    article page of the site whose title and paragraphs carry :data:`LOCAL_SECRET`."""
    out = {}
    for f in plan.faults:
        if f.kind == "file-link":
            first = plan.ground_truth[f.site][0]
            body = pages[templates[f.site].article_path(first)].body.decode()
            body = re.sub(r"(<h1[^>]*>)", rf"\1{LOCAL_SECRET} ", body, count=1)
            out[f.path] = re.sub(r"(<p[^>]*>)", rf"\1{LOCAL_SECRET} ", body).encode()
    return out


def _page_fault(kind: str, t: SiteTemplate, a: GroundTruthArticle, page: Page) -> Page:
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
            + f'<a href="javascript:{PAYLOAD_JS}" onclick="{PAYLOAD_JS}">'
            + markup[inner:close]
            + "</a>"
            + markup[close:]
        )
        markup = _insert(markup, _paragraph_start(markup, t, a, 1), PAYLOAD_HTML)
        head = markup.find("<head>") + len("<head>")
        markup = _insert(
            markup, head, f'\n<meta property="og:image" content="javascript:{PAYLOAD_JS}">'
        )
        return replace(page, body=markup.encode())
    raise ValueError(f"unknown page fault {kind}")


def _url_fault(
    pages: dict[str, Page], dynamic: dict[str, Fault], f: Fault, port: int | None
) -> None:
    if f.kind in ("gzip-bomb", "oversize", "oversize-stream", "redirect-chain"):
        dynamic[f.path] = f
    elif f.kind == "redirect-loop":
        other = f.path.replace("tin-redirect-loop", "tin-redirect-loop-b")
        pages[f.path] = redirect_page(other)
        pages[other] = redirect_page(f.path)
    elif f.kind == "redirect-offsite":
        pages[f.path] = redirect_page(f"http://{OFFSITE_HOST}:{port}{EVIL}bai-viet.html")
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


def _xml_attacks(
    pages: dict[str, Page], songcau: SiteTemplate, origin: str, port: int | None
) -> None:
    evil = f"http://{OFFSITE_HOST}:{port}{EVIL}"
    pages["/songcau/rss/kinh-te.rss"] = redirect_page(evil + "rss.xml")
    rss = pages["/songcau/rss/y-te.rss"].body.decode()
    rss = _with_doctype(rss, BILLION_LAUGHS.format(root="rss"))
    rss = rss.replace("<description>", "<description>&lol9;", 1)
    pages["/songcau/rss/y-te.rss"] = replace(pages["/songcau/rss/y-te.rss"], body=rss.encode())
    rss = pages["/songcau/rss/giao-duc.rss"].body.decode()
    rss = _with_doctype(rss, xxe_doctype("rss", origin))
    rss = rss.replace("<description>", "<description>&xxe;&xxe2;", 1)
    pages["/songcau/rss/giao-duc.rss"] = replace(
        pages["/songcau/rss/giao-duc.rss"], body=rss.encode()
    )
    urls = [songcau.url(songcau.article_path(a)) for a in songcau.articles[:3]]
    xml = "application/xml; charset=utf-8"
    header = '<?xml version="1.0" encoding="UTF-8"?>\n'
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    entries = "".join(f"<url><loc>{u}</loc><lastmod>&lol9;</lastmod></url>" for u in urls)
    pages["/songcau/sitemap-bomb.xml"] = Page(200, xml, (
        header + BILLION_LAUGHS.format(root="urlset") + f"<urlset {ns}>{entries}</urlset>\n"
    ).encode())  # fmt: skip
    entries = (
        f"<url><loc>&xxe;</loc></url><url><loc>&xxe2;</loc></url><url><loc>{urls[0]}</loc></url>"
    )
    pages["/songcau/sitemap-xxe.xml"] = Page(200, xml, (
        header + xxe_doctype("urlset", origin) + f"<urlset {ns}>{entries}</urlset>\n"
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
        header + xxe_doctype("sitemapindex", origin) + f"<sitemapindex {ns}>{index}</sitemapindex>\n"
    ).encode())  # fmt: skip


def _trap_links(
    plan: HostilePlan,
    templates: Mapping[str, SiteTemplate],
    links: dict[str, list[tuple[str, str]]],
) -> None:
    """The links that lead into the traps: a "day before" and a "next page" too many."""
    for f in plan.traps():
        if f.kind in COSTLY_FAULTS:
            continue  # linked by its own block
        section = f.path.split("/")[2]
        t = templates[f.site]
        if f.kind == "calendar-trap":
            first = t.listing_path(section, 1)
            links.setdefault(first, []).append((f"{first}?p=1&d=2026-11-27", "Xem theo ngày"))
        else:
            chunks = t.listing_chunks(section)
            last = t.listing_path(section, len(chunks))
            links.setdefault(last, []).append(
                (t.listing_path(section, len(chunks) + 1), "Trang sau ›")
            )


def trap_page(
    plan: HostilePlan,
    templates: Mapping[str, SiteTemplate],
    pages: Mapping[str, Page],
    path: str,
    query: str,
) -> Page | None:
    """The page a trap serves at ``path?query`` (one more step of it), or None."""
    for f in plan.traps():
        target = f"{path}?{query}" if query else path
        if not re.match(f.path, target):
            continue
        t = templates[f.site]
        if f.kind == "costly-links":  # each link of the block: to an article without fault
            faulted = {g.article for g in plan.faults}
            a = next(a for a in plan.ground_truth[f.site] if a.key not in faulted)
            return redirect_page(t.article_path(a))
        section = path.split("/")[2]
        if f.kind == "calendar-trap":
            day = dict(parse_qsl(query)).get("d", "2026-11-27")
            try:
                previous = datetime.fromordinal(datetime.strptime(day, "%Y-%m-%d").toordinal() - 1)
            except ValueError:
                return None
            base = pages[t.listing_path(section, 1)]
            nxt = f"{path}?p=1&d={previous:%Y-%m-%d}"
            text = "Ngày trước"
        else:
            n = int(path.rsplit("/", 1)[1])
            last = len(t.listing_chunks(section))
            if n <= last:
                return None
            base = pages[t.listing_path(section, last)]
            nxt, text = t.listing_path(section, n + 1), "Trang sau ›"
        markup = base.body.decode()
        return replace(base, body=_before_body_end(markup, _links_box([(nxt, text)])).encode())
    return None
