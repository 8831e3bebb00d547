"""Search requests: what a query string asks for, checked (the feeds themselves are
tested against a served store in tests/integration/publish/test_search.py)."""

from __future__ import annotations

import pytest

from aggregator.publish.search import BadSearch, parse_search, search_format


def test_a_search_is_parsed_to_its_words_filters_and_canonical_form() -> None:
    search = parse_search("atom", b"site=baden&q=+Ho%C3%A0++B%C3%ACnh+&province=tayninh")
    assert search.words == ("hoa", "binh")
    assert (search.fmt, search.q, search.site, search.province) == (
        "atom", "Hoà Bình", "baden", "tayninh",
    )  # fmt: skip
    # one order of parameters: the feed's self link and cache key
    assert search.canonical == "q=Ho%C3%A0+B%C3%ACnh&province=tayninh&site=baden"
    assert parse_search("json", b"q=x&category=").category is None


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (b"q=%ff", "not UTF-8"),
        (b"q=a&q=b", "given twice"),
        (b"q=a&sort=new", "unknown parameter 'sort'"),
        (b"q=a&province=atlantis", "no province"),
        (b"q=a&site=..%2F", "not a [a-z0-9-]+ key"),
        (b"q=%22%29", "no words"),
        (b"q=" + b"a" * 5000, "too long"),
        (b"&".join([b"q=a"] + [b"x=1"] * 10), "too many parameters"),
    ],
)
def test_a_bad_request_is_one_line(query: bytes, reason: str) -> None:
    with pytest.raises(BadSearch) as caught:
        parse_search("json", query)
    assert reason in str(caught.value) and "\n" not in str(caught.value)


def test_only_search_files_are_searches() -> None:
    assert [search_format(n) for n in ("search.rss", "search.atom", "search.json")] == [
        "rss", "atom", "json",
    ]  # fmt: skip
    assert search_format("search.xml") is None and search_format("all.json") is None
