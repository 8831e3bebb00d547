"""The reading page in a real browser: Debian's Chromium, driven by Selenium through
Debian's chromedriver (nothing is downloaded), on the sample web's feeds served by
``aggregator serve``, at a phone's width (375 px).

Screenshots go to ``artifacts/browser/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aggregator.normalize.text import fold
from tests.support.cli import run_cli
from tests.support.crawls import Crawl
from tests.support.env import REPO, unavailable
from tests.support.serveproc import Server, start_server, stop_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = REPO / "artifacts" / "browser"
SHOWN = 50  # the page lists at most this many headlines
WIDTH, HEIGHT = 375, 812


@pytest.fixture(scope="module")
def served(crawled: Crawl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The sample web's feeds, built and served by the CLI (no base URL: the page's own
    links are relative)."""
    root = tmp_path_factory.mktemp("page")
    feeds = root / "feeds"
    run_cli("feeds", "--db", str(crawled.db), "--feeds-dir", str(feeds),
            "--sites-dir", str(crawled.web.sites_dir))  # fmt: skip
    server = start_server(feeds, root / "access.log")
    try:
        yield server
    finally:
        assert stop_server(server) == 0


@pytest.fixture(scope="module")
def served_db(
    served: Server, crawled: Crawl, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The same feeds served with the store (``serve --db``): search.json answers."""
    log = tmp_path_factory.mktemp("page-db") / "access.log"
    server = start_server(served.feeds, log, "--db", str(crawled.db))
    try:
        yield server
    finally:
        assert stop_server(server) == 0


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium emulating a 375 px phone; its console log is read by the tests."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.is_file():
            unavailable(f"{path} not installed (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("selenium not installed (pip install -e '.[test]')")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager never downloads a driver or browser
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--no-proxy-server"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": True},
        )
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()


def _shot(driver: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def _errors(driver: Any) -> list[dict[str, Any]]:
    """Console errors since the last call (Chromium logs them as SEVERE)."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _titles(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [h.text for h in driver.find_elements(By.CSS_SELECTOR, "#headlines article h3")]


def _wait(driver: Any, script: str) -> None:
    """Until ``script`` returns true (the page filters on each input event)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(driver, 10).until(lambda d: d.execute_script(script))
    except TimeoutException:
        state = driver.execute_script(
            "return [location.href, document.getElementById('headlines-title').textContent,"
            " document.querySelectorAll('#headlines article').length]"
        )
        raise AssertionError(f"{script}: not after 10 s; the page: {state}") from None


def _index(served: Server) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((served.feeds / "headlines.json").read_text("utf-8"))
    return doc


def _text(item: dict[str, Any], index: dict[str, Any]) -> str:
    """What the search box searches, folded as page.js folds it."""
    site = index["sites"].get(item["site"], {})
    parts = [item["title"], item["lead"], site.get("name", ""),
             index["provinces"].get(site.get("province", ""), "")]  # fmt: skip
    return fold(" ".join(parts), diacritics=False, clean=False)


def _query(index: dict[str, Any]) -> str:
    """A word written with diacritics in some titles, typed without them: it must find
    some headlines but not all."""
    items = index["items"]
    counts: dict[str, int] = {}
    for item in items:
        for word in set(item["title"].lower().split()):
            folded = fold(word, diacritics=False, clean=False)
            if word != folded and folded.isalpha() and len(folded) >= 3:
                counts[folded] = counts.get(folded, 0) + 1
    usable = [w for w, n in counts.items() if 3 <= n < len(items) // 2]
    assert usable, "no word with diacritics in the sample's titles"
    return max(usable, key=lambda w: (counts[w], w))


def test_the_page_lists_filters_and_fits_a_phone(served: Server, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    index = _index(served)
    items = index["items"]
    assert len(items) >= SHOWN

    browser.get(served.url)
    _wait(browser, "return !document.getElementById('filters').hidden")  # page.js ran
    shown = _titles(browser)
    assert len(shown) == SHOWN >= 20
    assert shown == [i["title"] for i in items[:SHOWN]]  # newest first, as the server wrote
    assert browser.find_element(By.ID, "headlines-title").text == f"{SHOWN} bài mới nhất"
    assert browser.execute_script("return document.documentElement.lang") == "vi"
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    ), browser.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
    _shot(browser, "1-page")

    # text search, typed without diacritics
    query = _query(index)
    expected = [i["title"] for i in items if query in _text(i, index)]
    assert 0 < len(expected) < len(items)
    box = browser.find_element(By.ID, "f-q")
    box.send_keys(query)
    _wait(browser, f"return document.querySelectorAll('#headlines article').length == "
                   f"{min(len(expected), SHOWN)}")  # fmt: skip
    assert _titles(browser) == expected[:SHOWN]
    assert any(fold(t, diacritics=False) != t.lower() for t in _titles(browser))  # had marks
    assert browser.find_element(By.ID, "headlines-title").text.startswith(f"{len(expected)} bài")
    _shot(browser, "2-search-without-diacritics")
    box.clear()
    browser.execute_script(
        "document.getElementById('f-q').dispatchEvent(new Event('input', {bubbles: true}))"
    )

    # a category
    category = max(index["categories"], key=lambda k: sum(k in i["categories"] for i in items))
    expected = [i["title"] for i in items if category in i["categories"]]
    assert 0 < len(expected) < len(items)
    Select(browser.find_element(By.ID, "f-category")).select_by_value(category)
    _wait(browser, f"return document.querySelectorAll('#headlines article').length == "
                   f"{min(len(expected), SHOWN)}")  # fmt: skip
    assert _titles(browser) == expected[:SHOWN]
    Select(browser.find_element(By.ID, "f-category")).select_by_value("")

    # a 2025 province: the stories its newspapers published (originals or copies)
    def provinces(item: dict[str, Any]) -> set[str]:
        sites = [item["site"], *(c["site"] for c in item["also"])]
        return {index["sites"].get(s, {}).get("province", "") for s in sites}

    province = sorted(index["provinces"])[0]
    expected = [i["title"] for i in items if province in provinces(i)]
    assert 0 < len(expected) < len(items)
    Select(browser.find_element(By.ID, "f-province")).select_by_value(province)
    _wait(browser, f"return document.querySelectorAll('#headlines article').length == "
                   f"{min(len(expected), SHOWN)}")  # fmt: skip
    assert _titles(browser) == expected[:SHOWN]
    name = index["provinces"][province]  # shown beside the headlines of its own papers
    own = [i for i in items if index["sites"][i["site"]]["province"] == province]
    metas = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "#headlines .meta")]
    assert sum(f" · {name} · " in m for m in metas) == min(len(own), SHOWN)
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )
    _shot(browser, "3-province")

    # a province feed's page link: the page opened filtered (the filters in the address)
    browser.get(f"{served.url}?province={province}")
    _wait(browser, "return !document.getElementById('filters').hidden")
    _wait(browser, f"return document.querySelectorAll('#headlines article').length == "
                   f"{min(len(expected), SHOWN)}")  # fmt: skip
    assert _titles(browser) == expected[:SHOWN]
    assert browser.find_element(By.ID, "f-province").get_attribute("value") == province
    assert _errors(browser) == []


def test_a_feed_opened_in_the_browser_is_a_page(served: Server, browser: Any) -> None:
    """RSS and Atom name feed.xsl; the browser shows a page with the feed's entries."""
    from selenium.webdriver.common.by import By

    for name in ("all.rss", "province/" + sorted(_index(served)["provinces"])[0] + ".atom"):
        browser.get(served.url + name)
        _wait(browser, "return document.querySelectorAll('li h2 a').length > 0")
        assert browser.find_element(By.TAG_NAME, "h1").text.endswith("Báo địa phương")
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth"
        )
        _shot(browser, "4-feed-" + name.replace("/", "-"))
    # Chromium asks for /favicon.ico before the stylesheet's <link rel="icon"> exists
    errors = [e for e in _errors(browser) if "/favicon.ico " not in e["message"]]
    assert errors == []


def test_without_javascript_the_headlines_are_there(served: Server) -> None:
    """The served HTML itself lists the newest headlines (the filters need the script)."""
    status, _, body = served.request("/")
    page = body.decode("utf-8")
    assert status == 200 and page.count("<article>") == SHOWN
    assert 'id="filters"' in page and "hidden>" in page.split('id="filters"', 1)[1][:80]
    assert "onclick" not in page.lower() and "<style" not in page and "<script>" not in page


def test_served_with_a_store_the_search_box_searches_the_archive(
    served_db: Server, browser: Any
) -> None:
    """Typing without diacritics shows what search.json answers, labelled as the archive's."""
    from selenium.webdriver.common.by import By

    index = _index(served_db)
    query = _query(index)
    with urllib.request.urlopen(f"{served_db.url}search.json?q={query}", timeout=10) as response:
        archive = [i["title"] for i in json.load(response)["items"]]
    assert archive
    browser.get(served_db.url)
    _wait(browser, "return !document.getElementById('filters').hidden")
    browser.find_element(By.ID, "f-q").send_keys(query)
    _wait(browser, "return document.getElementById('headlines-title').textContent"
                   ".startsWith('Kết quả tìm trong kho bài')")  # fmt: skip
    assert _titles(browser) == archive
    label = browser.find_element(By.ID, "headlines-title").text
    newest = " bài mới nhất" if len(archive) == SHOWN else " bài"  # search.json's bound
    assert label == f"Kết quả tìm trong kho bài: {len(archive)}{newest}"
    # newspaper, province and time in Vietnam, as for the page's own headlines
    metas = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "#headlines .meta")]
    known = {i["title"]: i for i in index["items"]}
    checked = 0
    for title, meta in zip(archive, metas, strict=True):
        if title in known:
            item = known[title]
            site = index["sites"][item["site"]]
            day, time = item["time"][:10].split("-"), item["time"][11:16]
            shown = f"{time} {day[2]}/{day[1]}/{day[0]}"
            assert meta == f"{site['name']} · {index['provinces'][site['province']]} · {shown}"
            checked += 1
    assert checked
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )
    _shot(browser, "5-archive-search")
    # a filter goes with the query
    province = sorted(index["provinces"])[0]
    url = f"{served_db.url}search.json?q={query}&province={province}"
    with urllib.request.urlopen(url, timeout=10) as response:
        narrowed = [i["title"] for i in json.load(response)["items"]]
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "f-province")).select_by_value(province)
    _wait(browser, f"return document.getElementById('headlines-title').textContent == "
                   f"'Kết quả tìm trong kho bài: {len(narrowed)} bài' && "
                   f"location.search.indexOf('province={province}') >= 0")  # fmt: skip
    assert _titles(browser) == narrowed
    assert _errors(browser) == []
