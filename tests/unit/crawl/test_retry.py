"""Reading ``Retry-After`` (the middleware in a real crawl: tests/integration/crawl)."""

from datetime import UTC, datetime

import pytest

from aggregator.crawl.retry import retry_after_seconds

NOW = datetime(2026, 12, 5, 8, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2", 2.0),
        (b"120", 120.0),
        (" 7 ", 7.0),
        ("Sat, 05 Dec 2026 08:00:30 GMT", 30.0),
        ("Sat, 05 Dec 2026 07:59:00 GMT", 0.0),  # in the past: now
        ("soon", None),
        ("-3", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_seconds(value: str | bytes | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, now=NOW) == seconds
