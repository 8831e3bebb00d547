"""The crawl stays on the site it was given, on loopback only.

A small newspaper on 127.0.0.1 (named ``news.test`` through a resolver stub: no DNS
query leaves the process) whose pages point off the site every way a page can: a
``file://`` link with the site's host, links and redirects to another port of the
host, a subdomain the definition does not list, meta refreshes to ``javascript:``,
``file:`` and another port, a redirect to a host of the site that resolves to an
internal stand-in address (127.0.0.5). A second server on another port of 127.0.0.1
plays the internal service: it must never be asked anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from aggregator.store import open_store
from tests.support.cli import run_cli
from tests.support.loopweb import DEFINITION, Web, article, refresh


@dataclass
class ScopeCrawl:
    site: Web
    internal: Web
    stats: dict[str, object]
    urls: set[str]
    stderr: str


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScopeCrawl]:
    site, internal = Web(), Web()
    site.start()
    internal.start()
    try:
        p, q = site.port, internal.port
        work = tmp_path_factory.mktemp("scope")
        secret = work / "secret-a4.html"  # a local page a file:// link would read
        secret.write_text(article("DB_PASSWORD=hunter2 ở tỉnh nhà hôm nay")[2], encoding="utf-8")
        home = f"http://news.test:{p}/"
        links = [
            "/tin-a1.html",  # meta refresh to javascript:
            "/tin-a2.html",  # meta refresh to another port
            "/tin-a3.html",  # meta refresh to file:
            f"file://news.test{secret}?x=-a4.html",  # a local file, with the site's host
            f"http://news.test:{q}/noi-bo-a5.html",
            f"http://evil.news.test:{p}/tin-a6.html",  # a subdomain not listed
            "/chuyen-a7.html",  # 302 to another port
            "/chuyen-a10.html",  # 302 to a host of the site with an internal address
            "/chuyen-a12.html",  # 302 inside the site: followed
        ]
        site.pages.update({
            "/": (200, {}, "<html><body>" + "".join(
                f'<a href="{u}">Bài {n}</a>' for n, u in enumerate(links)) + "</body></html>"),
            "/tin-a1.html": article("Tin một ở tỉnh nhà hôm nay", refresh("javascript:alert(1)")),
            "/tin-a2.html": article("Tin hai ở tỉnh nhà hôm nay", refresh(f"http://news.test:{q}/noi-bo-a9.html")),
            "/tin-a3.html": article("Tin ba ở tỉnh nhà hôm nay", refresh("file:///etc/passwd")),
            "/chuyen-a7.html": (302, {"Location": f"http://news.test:{q}/noi-bo-a8.html"}, ""),
            "/chuyen-a10.html": (302, {"Location": f"http://intranet.news.test:{p}/tin-a11.html"}, ""),
            "/chuyen-a12.html": (302, {"Location": "/tin-a13.html"}, ""),
            "/tin-a13.html": article("Tin mười ba ở tỉnh nhà hôm nay"),
        })  # fmt: skip
        internal.pages.update({f"/noi-bo-a{n}.html": article("Bí mật nội bộ") for n in (5, 8, 9)})
        sites = work / "sites"
        sites.mkdir()
        definition = DEFINITION.format(
            id="news", base_url=home, extra='\n[urls]\nsame_hosts = ["intranet.news.test"]\n'
        )
        (sites / "news.toml").write_text(definition, encoding="utf-8")
        db = work / "store.db"
        result = run_cli(
            "crawl", "news", "--db", str(db), "--sites-dir", str(sites),
            "-sTWISTED_DNS_RESOLVER=tests.support.stubdns.StubResolver",
            "-sSTUB_HOSTS=news.test=127.0.0.1,evil.news.test=127.0.0.1,"
            "intranet.news.test=127.0.0.5",
            "-sDOWNLOAD_TIMEOUT=5",
        )  # fmt: skip
        with open_store(str(db)) as store:
            record = store.last_crawls()["news"]
            urls = set(store.known_article_urls("news"))
        yield ScopeCrawl(site, internal, dict(record["stats"]), urls, result.stderr)
    finally:
        site.stop()
        internal.stop()


def test_nothing_off_the_site_is_requested(crawled: ScopeCrawl) -> None:
    assert crawled.internal.seen == []  # the other port: never
    hosts = {host.split(":")[0] for host, _ in crawled.site.seen}
    assert hosts == {"news.test"}  # not the unlisted subdomain, not the internal address


def test_no_local_file_is_read(crawled: ScopeCrawl) -> None:
    assert not any(u.startswith("file:") or "secret" in u for u in crawled.urls), crawled.urls
    assert "DB_PASSWORD" not in crawled.stderr


def test_a_bad_meta_refresh_keeps_the_page(crawled: ScopeCrawl) -> None:
    p = crawled.site.port
    stored = {u.split(f":{p}", 1)[-1] for u in crawled.urls}
    assert {"/tin-a1.html", "/tin-a2.html", "/tin-a3.html", "/tin-a13.html"} <= stored, stored
    assert crawled.stats["refused"] == {"link": 2, "meta_refresh": 3}, crawled.stats


def test_refusals_are_counted_and_logged(crawled: ScopeCrawl) -> None:
    detail = crawled.stats["error_detail"]
    assert isinstance(detail, dict)
    assert detail.get("aggregator/errors/offsite_redirect") == 1, detail
    assert detail.get("aggregator/errors/internal_address") == 1, detail
    assert "redirect off the site refused (internal address 127.0.0.5)" in crawled.stderr
    assert "meta refresh off the site not followed (scheme javascript)" in crawled.stderr
    assert "link off the site not followed (scheme file)" in crawled.stderr
