"""The real pages of ``../shared/realpages`` scored per field, as its README's table does.

Used by the accuracy gate (``tests/integration/extract/test_realpages.py``) and by
``benchmarks/bench_realpages.py`` (the same scoring for the aggregator and for
trafilatura). Nothing of the pages is kept in the repository: they are read from
``../shared`` each time.

Each page is extracted with a **zero-configuration** definition: only id, name, province,
base_url (the page's real origin) and an article link pattern, no selectors; the page is
fed with its original URL, then through :func:`~aggregator.process.chain.normalize_article`
as every article is.

Per field (the share of pages, or the mean F1 over the pages):

- ``title``: exact after whitespace normalization (NFC, one space);
- ``published``: to the minute in +07:00 (``None`` when the page shows none);
- ``authors``: the printed byline's names, the same set (case and spacing aside);
- ``lead``: token F1 of the sapo as printed (the aggregator's ``source_tag``, which the
  chain splits off the lead, "(NLĐO)-", put back before it);
  ``body``: token F1 of the body text
  (:func:`aggregator.normalize.text.token_f1`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aggregator.extract.article import ExtractionError, extract_article
from aggregator.normalize.dates import ICT, parse_date
from aggregator.normalize.text import clean_text, token_f1
from aggregator.process.chain import normalize_article
from aggregator.sites.definition import SiteDefinition

__all__ = [
    "FIELDS",
    "Page",
    "Prediction",
    "Scores",
    "aggregator_prediction",
    "format_table",
    "load_pages",
    "score",
    "zero_config_site",
]

#: the fields scored, in the order of the README's table
FIELDS = ("title", "published", "authors", "lead", "body")
#: the fields scored as a share of exact matches (the others are mean token F1)
EXACT = ("title", "published", "authors")
#: any article URL of the eleven sites: a numeric id of 5+ digits before the suffix
ARTICLE_LINK = r"\d{5,}\.[a-z]+$"
#: a fixed time of fetching, after every page's publication
FETCHED_AT = datetime(2026, 12, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Page:
    """One saved page and what a careful reader takes from it (``truth.json``)."""

    file: str
    url: str
    html: str
    truth: dict[str, Any]


@dataclass
class Prediction:
    """What an extractor gave for one page, in the form the scoring compares."""

    title: str = ""
    published: str | None = None  # "YYYY-MM-DDTHH:MM+07:00"
    authors: list[str] = field(default_factory=list)
    lead: str = ""
    body: str = ""
    error: str | None = None


@dataclass
class Scores:
    """Per-field scores of one extractor over the pages, and each page's misses."""

    fields: dict[str, float]
    pages: dict[str, dict[str, float]]


def load_pages(folder: Path) -> list[Page]:
    """The pages of ``folder`` (``../shared/realpages``) with their ground truth."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return [
        Page(a["file"], a["url"], (folder / "pages" / a["file"]).read_bytes().decode("utf-8"), a)
        for a in truth["articles"]
    ]


def zero_config_site(url: str) -> SiteDefinition:
    """A definition with only id, name, province, base_url and an article link pattern."""
    host = urlsplit(url).hostname or ""
    return SiteDefinition.model_validate({
        "id": re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-"),
        "name": host,
        "province": "Hà Nội",
        "base_url": f"{urlsplit(url).scheme}://{host}/",
        "links": {"article": ARTICLE_LINK},
    })  # fmt: skip


def minute(value: datetime | str | None) -> str | None:
    """A time as ``YYYY-MM-DDTHH:MM+07:00`` (strings parsed as the aggregator parses dates)."""
    if isinstance(value, str):
        parsed = parse_date(value)
        value = parsed.value if parsed else None
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ICT)
    return value.astimezone(ICT).strftime("%Y-%m-%dT%H:%M+07:00")


def aggregator_prediction(page: Page) -> Prediction:
    """Extraction, then the processing chain's normalization, with a zero-config site."""
    site = zero_config_site(page.url)
    try:
        found = extract_article(page.url, page.html, site)
    except ExtractionError as exc:
        return Prediction(error=str(exc))
    article = normalize_article(found.to_article(site, fetched_at=FETCHED_AT), site)
    return Prediction(
        title=article.title,
        published=minute(article.published),
        authors=list(article.authors),
        lead=" ".join(filter(None, (article.source_tag, article.lead))),
        body=article.body_text,
    )


def _same_text(a: str, b: str) -> bool:
    return clean_text(a) == clean_text(b)


def _names(names: Iterable[str]) -> set[str]:
    return {clean_text(n).casefold() for n in names if clean_text(n)}


def page_scores(prediction: Prediction, truth: dict[str, Any]) -> dict[str, float]:
    """Each field's score on one page: 1.0/0.0 for exact fields, token F1 for the texts."""
    return {
        "title": float(_same_text(prediction.title, truth["title"])),
        "published": float(prediction.published == truth["published"]),
        "authors": float(_names(prediction.authors) == _names(truth["authors"])),
        "lead": token_f1(clean_text(prediction.lead), clean_text(truth["lead"])),
        "body": token_f1(
            clean_text(prediction.body, multiline=True),
            clean_text(truth["body_text"], multiline=True),
        ),
    }


def score(pages: list[Page], predict: Callable[[Page], Prediction]) -> Scores:
    """Every page through ``predict``, scored; per field the mean over the pages."""
    per_page = {page.file: page_scores(predict(page), page.truth) for page in pages}
    n = max(len(per_page), 1)
    return Scores(
        {f: sum(s[f] for s in per_page.values()) / n for f in FIELDS},
        per_page,
    )


def format_field(name: str, value: float) -> str:
    return f"{value:.0%}" if name in EXACT else f"{value:.3f}"


def format_table(rows: dict[str, dict[str, float]]) -> str:
    """The README's table: one row per extractor, one column per field."""
    head = ["", "title", "published (minute)", "authors", "lead F1", "body F1"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, fields in rows.items():
        cells = [format_field(f, fields[f]) for f in FIELDS]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return "\n".join(lines)


def misses(scores: Scores) -> list[str]:
    """``file: field score`` for every field of a page that is not perfect."""
    return [
        f"{file}: {name} {format_field(name, value)}"
        for file, fields in scores.pages.items()
        for name, value in fields.items()
        if value < 1.0
    ]
