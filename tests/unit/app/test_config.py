"""One unit for intervals: seconds, or a number with s, m, h or d."""

import pytest

from aggregator.app.config import ConfigError, crawl_interval, parse_interval


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("1.5", 1.5), ("15m", 900), ("2h", 7200), ("1d", 86400),
     (" 2H ", 7200)],
)  # fmt: skip
def test_parse_interval(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["0", "0m", "-5", "soon", "5 minutes", "", "1e3", "m"])
def test_bad_interval(text: str) -> None:
    with pytest.raises(ConfigError, match="expected seconds"):
        parse_interval(text)


def test_crawl_interval_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGGREGATOR_CRAWL_INTERVAL", "")
    assert crawl_interval() == 30 * 60  # the definitions' default, in seconds
    monkeypatch.setenv("AGGREGATOR_CRAWL_INTERVAL", "20m")
    assert crawl_interval() == 1200
    assert crawl_interval(45.0) == 45.0  # the flag wins
    monkeypatch.setenv("AGGREGATOR_CRAWL_INTERVAL", "often")
    with pytest.raises(ConfigError, match=r"^AGGREGATOR_CRAWL_INTERVAL='often'"):
        crawl_interval()
