"""The scheduler's back-off of a failing site (``aggregator run`` itself:
tests/integration/crawl/)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path


def test_a_failing_site_is_backed_off_and_recovers(tmp_path: Path) -> None:
    """Whole-run failures (no page, 500s, timeouts) double the wait, up to a day."""
    from datetime import UTC, timedelta

    from aggregator.crawl.scheduler import Scheduler, SiteState
    from aggregator.sites.definition import SiteRegistry, load_site

    path = tmp_path / "x.toml"
    path.write_text(
        'id = "x"\nname = "X"\nprovince = "P"\nbase_url = "https://x.vn/"\ninterval = 10\n'
        "[links]\narticle = 'a'\n",
        encoding="utf-8",
    )
    site = load_site(path)
    scheduler = Scheduler(SiteRegistry, {}, db=str(tmp_path / "s.db"), feeds_dir=None, jitter=0)
    state = SiteState(site, datetime.now(UTC))
    failed = {"pages": 0, "errors": 3, "finish_reason": "finished"}
    waits = []
    for _ in range(10):
        before = datetime.now(UTC)
        scheduler._finished(state, failed)
        waits.append(round((state.next_at - before) / timedelta(minutes=1)))
    assert waits[:4] == [20, 40, 80, 160]  # 10-minute interval, doubling
    assert max(waits) == 24 * 60  # at most a day
    scheduler._finished(state, {"pages": 12, "errors": 0, "finish_reason": "finished"})
    assert state.failures == 0
    assert round((state.next_at - datetime.now(UTC)) / timedelta(minutes=1)) == 10
