"""The sample web's HTTP server and its command line (127.0.0.1 only)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from aggregator.sites.definition import load_site
from sampleweb import SampleWeb, article_path, article_paths
from sampleweb.__main__ import main
from sampleweb.render import TEMPLATES, load_all_ground_truth
from tests.support.env import REPO

GT = load_all_ground_truth()
SITES = sorted(GT)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleWeb]:
    log = tmp_path_factory.mktemp("log") / "access.log"
    with SampleWeb(access_log=log) as server:
        yield server


def get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request without following redirects."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_urls(web: SampleWeb) -> None:
    assert web.url.startswith("http://127.0.0.1:") and web.url.endswith("/")
    assert web.sites == SITES
    for site_id in SITES:
        assert web.base_url(site_id) == f"{web.url}{site_id}/"
    with pytest.raises(KeyError):
        web.base_url("khong-co")


def test_root_page_and_robots(web: SampleWeb) -> None:
    status, headers, body = get(web.url)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    for site_id in SITES:
        assert f'href="/{site_id}/"'.encode() in body
    status, headers, body = get(web.url + "robots.txt")
    assert status == 200 and headers["content-type"] == "text/plain; charset=utf-8"
    text = body.decode()
    assert text.startswith("User-agent: *\n")
    for site_id in SITES:
        assert f"Disallow: /{site_id}/admin/\n" in text
        status, _, own = get(web.base_url(site_id) + "robots.txt")
        assert status == 200 and b"Disallow: /admin/\n" in own


@pytest.mark.parametrize("site_id", SITES)
def test_site_pages(web: SampleWeb, site_id: str) -> None:
    a = GT[site_id][0]
    status, headers, body = get(web.article_url(a))
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert int(headers["content-length"]) == len(body)
    assert web.article_url(a) == web.url + article_path(a).lstrip("/")
    template = TEMPLATES[site_id](GT[site_id], web.url)
    for path in (
        template.root,
        template.listing_path(next(iter(template.sections)), 2),
        template.search_link,
        template.admin_path,
        template.video_path(template.videos[0]),
    ):
        assert get(web.url + path.lstrip("/"))[0] == 200, path
    with_image = next(x for x in GT[site_id] if x.images)
    status, headers, png = get(web.url + template.image_path(with_image, 1).lstrip("/"))
    assert status == 200 and headers["content-type"] == "image/png" and png[:4] == b"\x89PNG"


def test_alias_urls(web: SampleWeb) -> None:
    """Old URL schemes and tracking links answer 200 with the article (query in any order)."""
    aliased = [a for site_id in SITES for a in GT[site_id] if a.aliases]
    if not aliased:
        pytest.skip("no article with an alias")
    for a in aliased:
        status, _, clean = get(web.article_url(a))
        assert status == 200
        for kind, path in zip(a.aliases, article_paths(a)[1:], strict=True):
            status, headers, body = get(web.url + path.lstrip("/"))
            assert status == 200 and headers["content-type"].startswith("text/html"), path
            if kind == "tracking":
                assert body == clean
                base, _, query = path.partition("?")
                reordered = "&".join(reversed(query.split("&")))
                assert get(web.url + base.lstrip("/") + "?" + reordered)[2] == clean
            else:
                assert a.title.encode() in body or a.site == "caonguyen"


def test_not_found(web: SampleWeb) -> None:
    for path in ("khong-co", "tamdao/khong-co.html", "tamdao/kinh-te/p/99", "baden/kinh-te/?p=99"):
        status, headers, body = get(web.url + path)
        assert status == 404, path
        assert headers["content-type"] == "text/html; charset=utf-8" and b"404" in body


def test_redirect_to_the_slash_form(web: SampleWeb) -> None:
    status, headers, _ = get(web.url + SITES[0])
    assert status == 301 and headers["location"] == f"/{SITES[0]}/"


def test_query_variants(web: SampleWeb) -> None:
    if "baden" not in SITES:
        pytest.skip("no ground truth for baden")
    _, _, page2 = get(web.url + "baden/kinh-te/?p=2&d=")
    for variant in ("?d=&p=2", "?p=2"):
        status, _, body = get(web.url + "baden/kinh-te/" + variant)
        assert status == 200 and body == page2
    for site_id in SITES:
        search = TEMPLATES[site_id].search_path
        assert get(web.url + search.lstrip("/") + "?q=bat-ky&x=1")[0] == 200


def test_head(web: SampleWeb) -> None:
    status, headers, body = get(web.url, method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0


def test_requests_and_access_log(web: SampleWeb) -> None:
    target = f"/{SITES[0]}/robots.txt?probe=1"
    get(web.url + target.lstrip("/"))
    assert target in web.requests
    assert web.access_log is not None
    assert f'"GET {target} HTTP/1.1" 404' in web.access_log.read_text(encoding="utf-8")


def test_concurrent_requests(web: SampleWeb) -> None:
    urls = [web.article_url(a) for site_id in SITES for a in GT[site_id]]
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda u: get(u)[0], urls))
    assert statuses == [200] * len(urls)
    seen = set(web.requests)
    assert all("/" + u[len(web.url) :] in seen for u in urls)


def test_site_definitions_point_at_the_server(web: SampleWeb, tmp_path: Path) -> None:
    paths = web.write_site_definitions(tmp_path / "sites")
    assert [p.name for p in paths] == [f"{s}.toml" for s in SITES]
    for path in paths:
        site = load_site(path)
        assert site.base_url == web.base_url(site.id)
        for url in site.start_urls["listings"] + site.start_urls["feeds"]:
            status, headers, _ = get(url)
            assert status == 200, url
            assert headers["content-type"].startswith(
                "application/rss+xml" if url.endswith(".rss") else "text/html"
            )


def test_ground_truth_can_be_replaced() -> None:
    site_id = SITES[0]
    one = GT[site_id][:1]
    with SampleWeb(ground_truth={site_id: one}) as small:
        assert small.sites == [site_id]
        assert get(small.article_url(one[0]))[0] == 200
        assert get(small.article_url(GT[site_id][1]))[0] == 404


def test_stop_closes_the_port() -> None:
    web = SampleWeb(ground_truth={})
    with pytest.raises(RuntimeError):
        _ = web.url
    web.start()
    url = web.url
    assert get(url)[0] == 200
    web.stop()
    web.stop()  # twice is fine
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)


# -- command line -------------------------------------------------------------------


def test_main_serves_until_sigterm(tmp_path: Path) -> None:
    env = {**os.environ}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    log = tmp_path / "access.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sampleweb",
            "--port",
            "0",
            "--access-log",
            str(log),
            "--write-sites",
            str(tmp_path / "sites"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        lines = [proc.stdout.readline().split() for _ in SITES]
        assert lines == [[s, f"{url}{s}/"] for s in SITES]
        assert sorted(p.name for p in (tmp_path / "sites").iterdir()) == [
            f"{s}.toml" for s in SITES
        ]
        assert get(url + "robots.txt")[0] == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "GET /robots.txt" in log.read_text(encoding="utf-8")


def test_main_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot serve on") and err.count("\n") == 1


def test_urlopen_follows_the_site_root_redirect(web: SampleWeb) -> None:
    try:
        with urllib.request.urlopen(web.url + SITES[0], timeout=5) as resp:
            assert resp.status == 200 and resp.url == web.base_url(SITES[0])
    except urllib.error.URLError as exc:  # pragma: no cover - shows the reason
        pytest.fail(str(exc))
