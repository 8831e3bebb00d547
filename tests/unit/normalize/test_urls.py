from urllib.parse import urljoin

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.provisional import urls

from aggregator.normalize.urls import _canonicalized, canonicalize_url, join_url


def test_canonical_form() -> None:
    assert (
        canonicalize_url("HTTP://Bao.Example.vn:80/kinh-te/bai-1.html?utm_source=fb&b=2&a=1#top")
        == "http://bao.example.vn/kinh-te/bai-1.html?a=1&b=2"
    )
    assert canonicalize_url("https://x.vn:8443/a?fbclid=1&gclid=2") == "https://x.vn:8443/a"
    assert canonicalize_url("https://x.vn/thoi-su/?p=2&d=") == "https://x.vn/thoi-su/?d=&p=2"
    assert canonicalize_url("https://x.vn/%c4%91%C3%A1") == "https://x.vn/%C4%91%C3%A1"
    assert canonicalize_url("https://x.vn/đá") == "https://x.vn/%C4%91%C3%A1"


def test_same_site_hosts_and_amp() -> None:
    aliases = {"m.baonghean.vn": "baonghean.vn", "www.baonghean.vn": "baonghean.vn"}
    want = "https://baonghean.vn/tin-moi-123.html"
    for url in (
        "https://m.baonghean.vn/amp/tin-moi-123.html",
        "https://www.baonghean.vn/tin-moi-123.html?amp",
        "https://baonghean.vn/tin-moi-123.amp.html",
        "https://baonghean.vn/tin-moi-123.html?outputType=amp",
    ):
        assert canonicalize_url(url, host_aliases=aliases, fold_amp=True) == want
    # without the site's word, other hosts and AMP paths are other URLs
    assert canonicalize_url("https://m.baonghean.vn/amp/tin-moi-123.html") != want


@given(urls())
def test_idempotent_on_urls(url: str) -> None:
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


@given(
    st.sampled_from(["http", "https", "HTTP"]),
    st.sampled_from(["x.vn", "WWW.X.VN", "m.x.vn", "x.vn:80", "x.vn:8080"]),
    st.text(),
    st.lists(st.tuples(st.text(), st.text()), max_size=4),
    st.text(),
)
def test_idempotent_on_odd_parts(
    scheme: str, host: str, path: str, query: list[tuple[str, str]], fragment: str
) -> None:
    from urllib.parse import quote, urlencode

    url = f"{scheme}://{host}/{quote(path)}?{urlencode(query)}#{quote(fragment)}"
    aliases = {"www.x.vn": "x.vn", "m.x.vn": "x.vn"}
    once = canonicalize_url(url, host_aliases=aliases, fold_amp=True, drop_params=["ref"])
    again = canonicalize_url(once, host_aliases=aliases, fold_amp=True, drop_params=["ref"])
    assert again == once
    assert "#" not in once and "utm_" not in once


@given(
    st.sampled_from(["http", "https", "HTTP", "ftp", "http:", "https:/"]),
    st.text(alphabet="ab-.9XM:", max_size=10),
    st.sampled_from(["", ":", ":0", ":80", ":443", ":0080", ":8047", ":65535", ":65536", ":99999"]),
    st.text(alphabet="aZ09._~-/%?#:;@ \t", max_size=16),
    st.booleans(),
    st.sampled_from(["", " ", "\n"]),
)
def test_plain_urls_are_canonicalized_as_urllib_parses_them(
    scheme: str, host: str, port: str, path: str, fold_amp: bool, space: str
) -> None:
    # the shortcut for plain URLs gives what the whole parse gives
    url = f"{space}{scheme}://{host}{port}{path}{space}"
    assert canonicalize_url(url) == _canonicalized(
        url.strip(), host_aliases=None, fold_amp=False, drop_params=(), sort_query=True
    )
    aliases = {"m.ab": "ab", "a-b.9": "x.vn"}
    assert canonicalize_url(url, host_aliases=aliases, fold_amp=fold_amp) == _canonicalized(
        url.strip(), host_aliases=aliases, fold_amp=fold_amp, drop_params=(), sort_query=True
    )
    assert (
        canonicalize_url("https://ab.vn:0443/x/amp/y.html", fold_amp=True)
        == "https://ab.vn/x/y.html"
    )


def _joined(base: str, ref: str) -> str | None:
    try:
        return urljoin(base, ref)
    except ValueError:
        return None


@given(
    st.sampled_from(
        ["http://a.vn/x/y", "https://a.vn:80", "ftp://h/", "", "x/y", "http://[::1]/", "http://a?b"]
    ),
    st.sampled_from(["http://", "https://", "HTTP://", "", "//", " http://", "/", "/a/", "/."]),
    st.text(alphabet="aZ09.-:/?=&%+_~;#[] \t@"),
)
def test_join_url_is_urljoin(base: str, scheme: str, rest: str) -> None:
    assert join_url(base, scheme + rest) == _joined(base, scheme + rest)


def test_join_url_keeps_a_plain_absolute_url() -> None:
    ref = "https://cdn.b.vn:8047/img/2024/a_b-c.jpg?w=600&h=400"
    assert join_url("http://a.vn/x/", ref) == ref == urljoin("http://a.vn/x/", ref)
    assert join_url("http://a.vn/x/", "http://b.vn/a/../c?") == "http://b.vn/a/../c"
    assert join_url("http://a.vn:80/x/y?z", "/i/b.jpg?w=1") == "http://a.vn:80/i/b.jpg?w=1"
    assert join_url("http://a.vn/x/", "/i/./b/../c.jpg") == "http://a.vn/i/c.jpg"
