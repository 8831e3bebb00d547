"""Health of every site: a verdict per site from its recent crawls, and a feed of changes.

:mod:`.judge` gives the verdicts (pure: crawl figures in, findings out);
:mod:`.report` evaluates every site from the store, records verdict changes, writes
``_health.atom`` and formats ``aggregator status``. This package exports what the rest of
the project uses.
"""

from aggregator.publish.health.judge import (
    DEFAULT_STALE_HOURS,
    REQUIRED_FIELDS,
    Finding,
    Judgement,
    articles_seen,
    broken_findings,
    degraded_findings,
    error_classes,
    judge,
    layer_shares,
    stale_finding,
    windows,
)
from aggregator.publish.health.report import (
    HEALTH_FEED,
    HealthEvent,
    HealthReport,
    SiteHealth,
    evaluate,
    format_table,
    render_health_feed,
    update_health,
)

__all__ = [
    "DEFAULT_STALE_HOURS",
    "HEALTH_FEED",
    "REQUIRED_FIELDS",
    "Finding",
    "HealthEvent",
    "HealthReport",
    "Judgement",
    "SiteHealth",
    "articles_seen",
    "broken_findings",
    "degraded_findings",
    "error_classes",
    "evaluate",
    "format_table",
    "judge",
    "layer_shares",
    "render_health_feed",
    "stale_finding",
    "update_health",
    "windows",
]
