"""Render the whole sample web: ground truth in, ``{path_with_query: Page}`` out.

Pure and deterministic: the same ground truth and origin give the same bytes. Each
newspaper lives under ``/<site-id>/``; ``/`` lists them and ``/robots.txt`` joins
their rules with the site prefixes (crawlers read only the host's robots.txt).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from importlib import resources

from sampleweb.baden import BaDen
from sampleweb.base import TEXT, Page, SiteTemplate, esc, html_page
from sampleweb.caonguyen import CaoNguyen
from sampleweb.groundtruth import (
    GroundTruthArticle,
    load_ground_truth,
    sites_in_ground_truth,
)
from sampleweb.redesign import redesign
from sampleweb.songcau import SongCau
from sampleweb.tamdao import TamDao

__all__ = [
    "TEMPLATES",
    "article_path",
    "article_paths",
    "load_all_ground_truth",
    "render_web",
    "site_definition",
]

TEMPLATES: dict[str, type[SiteTemplate]] = {
    t.site_id: t for t in (TamDao, BaDen, SongCau, CaoNguyen)
}


def load_all_ground_truth() -> dict[str, list[GroundTruthArticle]]:
    """Ground truth of every newspaper that has both a template and a ground-truth file."""
    return {s: load_ground_truth(s) for s in sites_in_ground_truth() if s in TEMPLATES}


def article_path(a: GroundTruthArticle) -> str:
    """Server path of a ground-truth article, e.g. ``/baden/<slug>-a169123.html``."""
    return TEMPLATES[a.site].article_path(a)


def article_paths(a: GroundTruthArticle) -> list[str]:
    """Every server path serving a ground-truth article: its own, then its aliases.

    Aliases follow ``a.aliases``: the site's old URL scheme (``/tamdao/Tin-tuc/<id>.aspx``,
    ``/baden/tin-tuc/<slug>-post<id>.html``) or the path with tracking parameters
    (``...?utm_source=zalo&utm_medium=social&fbclid=...``).
    """
    template = TEMPLATES[a.site]
    return [template.article_path(a), *template.alias_paths(a)]


def site_definition(site_id: str, base_url: str) -> str:
    """The site-definition TOML of a newspaper with ``{base_url}`` filled in."""
    template = resources.files(__package__).joinpath("sites", f"{site_id}.toml")
    return template.read_text(encoding="utf-8").replace("{base_url}", base_url)


def _root_page(templates: Sequence[SiteTemplate]) -> Page:
    items = "\n".join(
        f'<li><a href="{t.root}">{esc(t.name)}</a> – tỉnh {esc(t.province)}</li>' for t in templates
    )
    return html_page(
        f"""<!DOCTYPE html>
<html lang="vi">
<head><meta charset="utf-8"><title>Sample provincial web</title></head>
<body>
<h1>Báo địa phương (mẫu)</h1>
<p>Four fictional provincial newspapers rendered from the project's ground truth.</p>
<ul>
{items}
</ul>
</body>
</html>
"""
    )


def render_web(
    origin: str,
    ground_truth: Mapping[str, Sequence[GroundTruthArticle]] | None = None,
    redesigned: Collection[str] = (),
) -> dict[str, Page]:
    """Every page of the sample web served at ``origin`` (``http://host:port/``).

    ``ground_truth`` maps site ids to articles; by default every bundled ground-truth
    file with a template. Unknown site ids raise ``KeyError``. The newspapers of
    ``redesigned`` are served redesigned (:mod:`sampleweb.redesign`: classes and ids
    renamed).
    """
    if ground_truth is None:
        ground_truth = load_all_ground_truth()
    templates = []
    for site_id in sorted(ground_truth):
        if site_id not in TEMPLATES:
            raise KeyError(f"no template for site {site_id!r}; known: {', '.join(TEMPLATES)}")
        templates.append(TEMPLATES[site_id](ground_truth[site_id], origin))
    pages: dict[str, Page] = {"/": _root_page(templates)}
    rules = "".join(f"Disallow: {p}\n" for t in templates for p in t.prefixed_disallow())
    pages["/robots.txt"] = Page(200, TEXT, f"User-agent: *\n{rules}".encode())
    for t in templates:
        pages.update(redesign(t.render(), t.root) if t.site_id in redesigned else t.render())
    return pages
