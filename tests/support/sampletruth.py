"""The sample web's ground truth, as the crawl tests score a store against it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from aggregator.normalize.urls import canonicalize_url
from aggregator.store import StoredArticle, open_store
from sampleweb.evaluate import Evaluation, evaluate
from sampleweb.groundtruth import GroundTruthArticle, load_ground_truth
from sampleweb.render import article_paths

#: Page furniture that must never reach a body (unless the article itself says it).
CLUTTER = (
    "TAG:", "Theo dõi", "google news", "Ý kiến của bạn", "Họ tên:", "Email:", "In bài",
    "Chia sẻ", "Facebook", "Zalo", "0:00 / 0:00", "Đọc báo in", "Tải ứng dụng", "./.",
    "Tin liên quan", "Lượt xem", "Quản trị",
)  # fmt: skip


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


def clutter_found(
    web_url: str, site_ids: Sequence[str], stored: Sequence[StoredArticle]
) -> dict[str, list[str]]:
    """The :data:`CLUTTER` phrases in each stored body (text or HTML) that its
    ground-truth body does not hold, by article URL; empty when every body is clean."""
    truth = {
        canonicalize_url(url): a.body_text.lower()
        for a in sample_truth(site_ids)
        for url in article_urls(web_url, a)
    }
    found: dict[str, list[str]] = {}
    for article in stored:
        own = truth[article.canonical_url]
        for text in (article.body_text.lower(), article.body_html.lower()):
            if hits := [c for c in CLUTTER if c.lower() in text and c.lower() not in own]:
                found.setdefault(article.url, []).extend(hits)
    return found
