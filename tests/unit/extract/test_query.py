from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from lxml.etree import HTMLParser
from parsel import Selector
from parsel.selector import create_root_node

from aggregator.extract.body import is_inside
from aggregator.extract.query import (
    attributes_of,
    element_query,
    parse_html,
    select_all,
    select_inside,
    string_of,
)

PAGE = Selector(
    text="<html><body><div class='x' id='b'><p align='c'>1</p><div class='x'><p>2</p>"
    "<p align='c'>3</p></div><span class='x'><p align='c'>4</p></span></div>"
    "<p align='c'>5</p><div class='x'><p align='c'>6</p></div></body></html>"
)


def _ids(found: list[object]) -> list[str]:
    return [el.text or el.get("class") for el in found]  # type: ignore[attr-defined]


def test_a_local_selector_finds_from_the_element_what_it_finds_inside_it() -> None:
    body = PAGE.css("#b")[0].root
    for query in ("p[align='c']", "div.x > p", ".x", "div.x>p[align='c']", "p"):
        found = select_inside(body, query)
        assert found is not None, query
        inside = [el for el in select_all(PAGE, query) if is_inside(el, body)]
        assert [el for el in found if el is not body] == inside, query
    # the body's own parent is outside it: "div.x > p" finds the body's children too
    assert _ids(select_inside(body, "div.x > p") or []) == ["1", "2", "3"]


def test_a_selector_reading_ancestors_is_not_local() -> None:
    body = PAGE.css("#b")[0].root
    for query in ("div.x p", "body > div > p", "p::text", "p:first-child", "xpath://p", "*"):
        assert select_inside(body, query) is None, query


NESTED = Selector(
    text="<html><body class='a'><div class='a b'><div class=' c\ta '><p class='x'>1</p>"
    "<div class='a'><p class='x' align='r'>2</p></div></div><p align='r'>3</p></div>"
    "<h1 class='x'>4</h1><div class='c'><h1 class='x y'>5</h1><p class='x'>6</p></div>"
    "</body></html>"
)


def test_selectors_tested_from_below_find_what_parsel_finds() -> None:
    for query in (
        "div.a p.x",
        "div.a > p",
        "body.a > div > p",
        ".a div.c p",
        "div.c > h1.x.y",
        "div.a div.a p[align='r']",
        "div.b > div.c > div > p",
        "body h1",
        "div.c > p.x",
    ):
        found = select_all(NESTED, query)
        assert found == [r.root for r in NESTED.css(query)], query
    assert _ids(select_all(NESTED, "div.a > p")) == ["1", "2", "3"]


def test_attributes_are_read_from_the_elements_as_the_selector_reads_them() -> None:
    page = Selector(
        text="<html><head><meta property='og:image' content='a.jpg'><meta property='og:image'>"
        "<meta property='og:image' content=''></head><body><p class='x' data-v='1'>"
        "<img src='b.jpg'></p></body></html>"
    )
    for query in (
        "meta[property='og:image']::attr(content)",
        "p.x img::attr(src)",
        "p::attr(data-v)",
    ):
        elements = select_all(page, element_query(query))
        assert attributes_of(elements, query) == page.css(query).getall(), query
    assert attributes_of([], "p::text") is None
    assert attributes_of([], "a::attr(href), b::attr(src)") is None
    assert attributes_of([], "xpath://a/@href") is None


_MARKUP = st.sampled_from(
    ["<p>", "</p>", "<div>", "</div>", "<b>", "</b>", "<!-- c -->", "<?pi x?>", "<script>s</script>",
     "<![CDATA[d]]>", "&amp;", "&nbsp;", "&#0;", "&#xD800;", "đ ", "x\n", "<br>", "<td>", "<table>"]
)  # fmt: skip


@given(st.lists(_MARKUP, max_size=30).map("".join))
def test_string_of_is_xpath_string(markup: str) -> None:
    root = etree.fromstring(f"<html><body>{markup}</body></html>", etree.HTMLParser())
    for el in root.iter(tag=etree.Element):
        assert string_of(el) == el.xpath("string()")


def _tree(parse: Callable[[], etree._Element]) -> bytes | str:
    """The tree as bytes, or the name of the error (the same on both sides: the same result)."""
    try:
        return etree.tostring(parse(), encoding="utf-8")
    except Exception as exc:
        return type(exc).__name__


@given(st.lists(st.sampled_from(
    ["\x00", " ", "\n", "\u00a0", "\u3000", "<p>", "</p>", "<html>", "<body>", "Đà Nẵng", "a",
     "<!-- c -->", "&amp;", "<br/>", "<div class='x'>", "</div>", "\x00<", ">\x00", "&#1;"]
)).map("".join))  # fmt: skip
def test_parse_html_gives_parsels_tree(html: str) -> None:
    url = "http://127.0.0.1:8047/a/b.html"
    assert _tree(lambda: parse_html(html, url)) == _tree(
        lambda: create_root_node(html, HTMLParser, base_url=url)
    )


def test_xpath_selectors_may_call_exslt() -> None:
    """EXSLT's prefixes and regular expressions are registered for the selectors that use
    them (and only those)."""
    assert _ids(select_all(PAGE, "xpath://p[re:test(., '^[35]$')]")) == ["3", "5"]
    assert len(select_all(PAGE, "xpath:set:distinct(//div[@class='x'] | //div[@id='b'])")) == 3
    assert _ids(select_all(PAGE, "xpath://span[@class='x']/p")) == ["4"]
