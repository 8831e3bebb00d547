"""The redesign of a newspaper: classes and ids renamed, texts and other sites untouched."""

from __future__ import annotations

from sampleweb.base import CSS, PNG, Page, html_page
from sampleweb.redesign import redesign


def test_classes_and_ids_are_renamed_under_the_root_only() -> None:
    markup = '<div class="news-detail main" id="content"><h1 class="news-title">Tiêu đề</h1></div>'
    pages = {
        "/baden/a.html": html_page(markup),
        "/baden/style.css": Page(200, CSS, b".news-title,#content{color:#fff;margin:.5em}"),
        "/baden/logo.png": Page(200, PNG, b"\x89PNG"),
        "/tamdao/a.html": html_page(markup),
    }
    out = redesign(pages, "/baden/")
    assert out["/baden/a.html"].body.decode() == (
        '<div class="nd-news-detail nd-main" id="nd-content">'
        '<h1 class="nd-news-title">Tiêu đề</h1></div>'
    )
    assert out["/baden/style.css"].body == b".nd-news-title,#nd-content{color:#fff;margin:.5em}"
    assert out["/baden/logo.png"] == pages["/baden/logo.png"]
    assert out["/tamdao/a.html"] == pages["/tamdao/a.html"]
