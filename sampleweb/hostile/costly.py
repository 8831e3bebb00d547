"""Pages that cost a parser more than their size: the shapes that made extraction grow
quadratically (a red-team pass measured each at about the size given by default here).

- :func:`figures_page`: an article page of thousands of figures (each a picture and a
  caption, 4,000 in ~290 KB);
- :func:`links_block`: thousands of article links with their dates in one ``<div>`` of a
  listing (8,000 in ~520 KB);
- :func:`nested_page`: an article page of paragraphs in ``<div>`` nested ever deeper
  (32,000 in ~2.3 MB; libxml2 keeps the first 2,048 levels).

Pure functions of their arguments: the hostile web serves them (:mod:`~sampleweb.hostile.pages`)
and the tests and benchmarks build them without a server.
"""

from __future__ import annotations

from collections.abc import Sequence

from sampleweb.base import esc

__all__ = ["figures_page", "links_block", "nested_page"]

_HEAD = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head><body>'


def figures_page(title: str, n: int = 4000, *, paragraphs: Sequence[str] = ()) -> str:
    """An article page (``article.news-detail``, headline ``h1.news-title``, body
    ``div.news-content``): ``paragraphs``, then ``n`` figures (picture and caption)."""
    text = "".join(f"<p>{esc(p)}</p>" for p in paragraphs)
    figures = "".join(
        f'<figure><img src="/anh/{i}.jpg"><figcaption>Ảnh {i} của phóng sự</figcaption></figure>'
        for i in range(n)
    )
    return (
        _HEAD.format(title=esc(title))
        + f'<article class="news-detail"><h1 class="news-title">{esc(title)}</h1>'
        + f'<div class="news-content">{text}{figures}</div></article>'
        + "</body></html>"
    )


def links_block(href: str, n: int = 8000, date: str = "12/11/2026") -> str:
    """One ``<div>`` of ``n`` links (to ``href.format(i=i)`` each), each followed by
    ``date``."""
    items = "".join(
        f'<a href="{esc(href.format(i=i))}">Tin số {i} trong ngày</a> {date} ' for i in range(n)
    )
    return f'<div class="tin-tuc-khac">{items}</div>'


def nested_page(title: str, n: int = 32000, per_level: int = 3) -> str:
    """An article page of ``n`` paragraphs, ``per_level`` in each ``<div>``, each ``<div>``
    one level deeper than the last."""
    paragraph = "Đoạn văn lồng nhau thêm một tầng nữa, dài đủ để được tính điểm."
    return (
        _HEAD.format(title=esc(title))
        + f"<h1>{esc(title)}</h1>"
        + ("<div>" + f"<p>{paragraph}</p>" * per_level) * (n // per_level)
        + "</body></html>"
    )
