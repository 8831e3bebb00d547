"""The sample web's ground truth, as the crawl tests score a store against it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from aggregator.store import StoredArticle, open_store
from sampleweb.evaluate import Evaluation, evaluate
from sampleweb.groundtruth import GroundTruthArticle, load_ground_truth
from sampleweb.render import article_paths


def sample_truth(site_ids: Sequence[str]) -> list[GroundTruthArticle]:
    """Every ground-truth article of these sample newspapers."""
    return [a for site in site_ids for a in load_ground_truth(site)]


def article_urls(web_url: str, article: GroundTruthArticle) -> list[str]:
    """The URLs the sample web served at ``web_url`` gives ``article`` (old schemes too)."""
    base = web_url.rstrip("/")
    return [base + path for path in article_paths(article)]


def urls_at(web_url: str) -> Callable[[GroundTruthArticle], list[str]]:
    """:func:`article_urls` for one server, as :func:`sampleweb.evaluate.evaluate` takes it."""
    return lambda article: article_urls(web_url, article)


def evaluate_store(
    web_url: str, site_ids: Sequence[str], db: str | Path
) -> tuple[Evaluation, list[StoredArticle]]:
    """The store at ``db`` scored against the ground truth of ``site_ids``."""
    with open_store(str(db)) as store:
        stored = list(store.articles())
    return evaluate(sample_truth(site_ids), stored, urls_at(web_url)), stored
