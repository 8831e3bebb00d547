from lxml import etree

from aggregator.extract.body import drop_leaf_blocks, figure_roots, strip_end_markers

PARSER = etree.HTMLParser()


def body_of(html: str) -> etree._Element:
    root = etree.fromstring(f"<html><body><div id='b'>{html}</div></body></html>", PARSER)
    return root.find(".//div[@id='b']")


def test_end_markers_are_removed_from_texts_and_tails() -> None:
    body = body_of("<p>Hết bài./.</p><p><b>Tác giả</b> kết thúc ./. </p><p>Số 1./2</p>")
    strip_end_markers(body)
    assert [etree.XPath("string()")(p) for p in body] == [
        "Hết bài.",
        "Tác giả kết thúc.",
        "Số 1./2",
    ]


def test_figures_are_the_outermost_figure_elements_in_order() -> None:
    body = body_of(
        "<p>a</p><table class='x image'><tr><td><img src='1.jpg'></td></tr></table>"
        "<div class='photo-caption'>c</div><figure><figcaption class='caption'>d</figcaption>"
        "</figure><table class='images'><tr><td>e</td></tr></table><p class='image-caption'>f</p>"
    )
    roots = figure_roots(body)
    assert [(el.tag, el.get("class")) for el in roots] == [
        ("table", "x image"),
        ("div", "photo-caption"),
        ("figure", None),
        ("p", "image-caption"),
    ]


def test_leaf_blocks_matching_are_dropped_keeping_their_tails() -> None:
    body = body_of("<div><p>Chia sẻ</p>x</div><p>Bài viết</p><div>Chia sẻ<p>y</p></div>")
    drop_leaf_blocks(body, lambda text: text == "Chia sẻ")
    assert etree.tostring(body, encoding="unicode", method="html") == (
        '<div id="b"><div>x</div><p>Bài viết</p><div>Chia sẻ<p>y</p></div></div>'
    )
