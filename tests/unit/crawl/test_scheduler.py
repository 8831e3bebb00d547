"""The scheduler's back-off of a failing site (``aggregator run`` itself:
tests/integration/crawl/)."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pytest


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


SITE = (
    'id = "{id}"\nname = "X"\nprovince = "P"\nbase_url = "https://x.vn/"\n[links]\narticle = "a"\n'
)


def test_a_broken_file_keeps_its_last_good_definition_and_is_reported_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from aggregator.crawl.scheduler import Scheduler
    from aggregator.sites.definition import load_sites

    (tmp_path / "x.toml").write_text(SITE.format(id="x"), encoding="utf-8")
    (tmp_path / "y.toml").write_text(SITE.format(id="y"), encoding="utf-8")
    scheduler = Scheduler(
        lambda: load_sites([tmp_path], bundled=False, strict=False),
        {},
        db=str(tmp_path / "s.db"),
        feeds_dir=None,
    )
    first = scheduler._load()
    assert first is not None and sorted(first.sites) == ["x", "y"]
    scheduler.registry = first
    (tmp_path / "x.toml").write_text("a = " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    (tmp_path / "z.toml").write_text(SITE.format(id="z") + "[politeness]\ndelay = -1\n")
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            loaded = scheduler._load()
            assert loaded is not None
            scheduler.registry = again = loaded
    assert sorted(again.sites) == ["x", "y"]  # x: its last good version; z never loaded
    assert again.sites["x"] is first.sites["x"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2, errors  # each problem once while it lasts
    assert any("x.toml: (file): invalid TOML: nested too deeply" in e for e in errors)


def test_a_dead_loop_stops_the_process_with_exit_code_1(tmp_path: Path) -> None:
    from twisted.python.failure import Failure

    from aggregator.crawl.scheduler import Scheduler
    from aggregator.sites.definition import SiteRegistry

    scheduler = Scheduler(SiteRegistry, {}, db=str(tmp_path / "s.db"), feeds_dir=None)
    stopped = []
    scheduler.stop = lambda: stopped.append(True)  # type: ignore[method-assign]
    assert scheduler.exit_code == 0
    scheduler._loop_died(Failure(RecursionError("maximum recursion depth exceeded")))
    assert scheduler.exit_code == 1 and stopped == [True]
