"""``sites test`` fixtures of the sample newspapers, generated from the ground truth (the
page as the server renders it, and the fields a perfect extraction gives), so that the
comparison runs on every sample newspaper without saving HTML in the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sampleweb.groundtruth import GroundTruthArticle, load_ground_truth
from sampleweb.render import article_path, render_web, site_definition

__all__ = [
    "OFFLINE_ORIGIN",
    "SAMPLE_SITES",
    "break_selector",
    "expected_fields",
    "write_sample_fixtures",
]

SAMPLE_SITES = ("baden", "caonguyen", "songcau", "tamdao")
#: the origin of fixtures compared offline: nothing listens there
OFFLINE_ORIGIN = "http://127.0.0.1:8047/"


def expected_fields(a: GroundTruthArticle) -> dict[str, object]:
    """What extraction must give for a ground-truth article (as the evaluation counts it);
    every sample definition has a body selector, so the body must come from it."""
    return {
        "title": a.title,
        "lead": a.lead,
        "source_tag": (a.source_tag or "").rstrip(" -–") or None,
        "published": a.published.isoformat(),
        "authors": list(a.authors),
        "category": a.category,
        "categories": list(a.categories),
        "body_text": a.body_text,
        "layers": {"body": "selector"},
    }


def write_sample_fixtures(
    sites_dir: Path,
    origin: str,
    site_ids: tuple[str, ...] = SAMPLE_SITES,
    count: int = 3,
    layers: dict[str, str] | None = None,
) -> None:
    """Definitions of the sample newspapers served at ``origin`` in ``sites_dir``, each with
    ``count`` fixtures (``fixtures/<id>/<key>.html`` + ``.json``) from the ground truth,
    expecting ``layers`` too if given (as `sites test --record` writes them)."""
    pages = render_web(origin)
    for site_id in site_ids:
        path = sites_dir / f"{site_id}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(site_definition(site_id, f"{origin}{site_id}/"), encoding="utf-8")
        folder = sites_dir / "fixtures" / site_id
        folder.mkdir(parents=True, exist_ok=True)
        for a in load_ground_truth(site_id)[:count]:
            page = pages[article_path(a)]
            (folder / f"{a.key}.html").write_bytes(page.body)
            expected = {**expected_fields(a), **({"layers": layers} if layers else {})}
            record = {"url": origin.rstrip("/") + article_path(a), "expected": expected}
            (folder / f"{a.key}.json").write_text(
                json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8"
            )


def break_selector(sites_dir: Path, site_id: str, name: str, value: str) -> None:
    """A template change as the crawler sees it: one selector no longer matches."""
    path = sites_dir / f"{site_id}.toml"
    text, n = re.subn(rf"(?m)^{name} = .*$", f'{name} = "{value}"', path.read_text("utf-8"))
    assert n == 1, f"{site_id} has no {name} selector"
    path.write_text(text, encoding="utf-8")
