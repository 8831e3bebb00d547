"""A redesign of a newspaper's templates: the same pages, texts and URLs, every class and
id renamed (``article-title`` → ``nd-article-title``, "new design"), as when a paper
moves to a new CMS theme. Selectors that name a class or id no longer match; what the
generic layer reads (headings, where the title and dates are printed, names that still
say "title" or "sapo") is unchanged. ``aggregator sites learn`` is tested against it.

Pure and deterministic, like the templates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sampleweb.base import CSS, HTML, Page

__all__ = ["PREFIX", "redesign"]

PREFIX = "nd-"

_ATTRIBUTE = re.compile(r'(?<=\s)(class|id)="([^"]*)"')
#: a CSS rule's selector part (before its block) and the block
_CSS_RULE = re.compile(r"([^{}]*)(\{[^{}]*\})")
_CSS_NAME = re.compile(r"(?<=[.#])(-?[A-Za-z_][\w-]*)")


def _rename_attribute(m: re.Match[str]) -> str:
    names = " ".join(PREFIX + name for name in m[2].split())
    return f'{m[1]}="{names}"'


def _rename_css(m: re.Match[str]) -> str:
    return _CSS_NAME.sub(lambda n: PREFIX + n[1], m[1]) + m[2]


def _redesigned(page: Page) -> Page:
    if page.content_type == HTML:
        text = _ATTRIBUTE.sub(_rename_attribute, page.body.decode("utf-8"))
    elif page.content_type == CSS:
        text = _CSS_RULE.sub(_rename_css, page.body.decode("utf-8"))
    else:
        return page
    return Page(page.status, page.content_type, text.encode("utf-8"), page.headers, page.any_query)


def redesign(pages: Mapping[str, Page], root: str) -> dict[str, Page]:
    """``pages`` with those under ``root`` (``/tamdao/``) redesigned."""
    return {path: _redesigned(p) if path.startswith(root) else p for path, p in pages.items()}
