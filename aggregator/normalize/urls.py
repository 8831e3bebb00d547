"""URL canonicalization: one URL per article, whatever link led to it."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

__all__ = ["canonicalize_url", "join_url", "mask_password", "plain_join"]

_TRACKING_PREFIXES = ("utm_", "_ga", "_gl", "mc_", "pk_")
_TRACKING = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "zarsrc", "zl3rd", "gidzl", "igshid", "yclid",
     "ref_src", "cmpid"}
)  # fmt: skip
_AMP_PARAMS = frozenset({"amp", "outputtype", "amp_js_v", "usqp"})
_AMP_PATH = re.compile(r"(?:^|/)amp(?=/|$)|\.amp(?=\.html?$|$)", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left as they are in a path; everything else is percent-encoded once.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_LONE_PCT = re.compile(r"%(?![0-9A-F]{2})")


def _normalize_path(path: str) -> str:
    """RFC 3986 normalization: decode unreserved escapes, uppercase the others,
    encode non-ASCII and stray characters (so ``/đá`` and ``/%c4%91%C3%A1`` agree)."""

    def escape(m: re.Match[str]) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else "%" + m.group(1).upper()

    path = quote(_PCT.sub(escape, path), safe=_PATH_SAFE)
    return _LONE_PCT.sub("%25", path)


def _tracking(key: str) -> bool:
    k = key.lower()
    return k in _TRACKING or k.startswith(_TRACKING_PREFIXES)


#: a URL that is its own canonical form but for its host's aliases, default port and AMP
#: segments: http(s), a lowercase host name, a port maybe, a path of unreserved characters
#: and "/" alone (nothing to decode or escape), no query, no fragment (most article URLs)
_PLAIN = re.compile(
    r"(https?)://([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::([0-9]{1,5}))?(/[A-Za-z0-9._~/-]*)"
)


def canonicalize_url(
    url: str,
    *,
    host_aliases: Mapping[str, str] | None = None,
    fold_amp: bool = False,
    drop_params: Collection[str] = (),
    sort_query: bool = True,
) -> str:
    """The canonical form of ``url``. Idempotent.

    Lowercase scheme and host, no default port, no fragment, no tracking parameters
    (``utm_*``, ``fbclid``, ``gclid``...), query keys sorted, path percent-encoding
    normalized. ``host_aliases`` maps hosts that a site definition declares the same
    site (``www.``, ``m.``) to its host; ``fold_amp`` removes AMP variants (an ``amp``
    path segment, ``.amp`` before the extension, ``?amp``). ``sort_query=False`` keeps
    the order of the query's keys: the URL to request (a server may care about the
    order, a dupefilter's fingerprint sorts them anyway).
    """
    url = url.strip()
    if (m := _PLAIN.fullmatch(url)) and (port := int(m[3] or 0)) <= 65535:
        # what the parse below gives such a URL, without it (~10 us): nothing to lower,
        # decode, escape or drop
        scheme, host, path = m[1], m[2], m[4]
        if host_aliases:
            host = host_aliases.get(host, host)
        netloc = f"{host}:{port}" if port and port != _DEFAULT_PORTS[scheme] else host
        if fold_amp:
            path = _AMP_PATH.sub("", path) or "/"
        return f"{scheme}://{netloc}{path}"
    return _canonicalized(
        url,
        host_aliases=host_aliases,
        fold_amp=fold_amp,
        drop_params=drop_params,
        sort_query=sort_query,
    )


def _canonicalized(
    url: str,
    *,
    host_aliases: Mapping[str, str] | None,
    fold_amp: bool,
    drop_params: Collection[str],
    sort_query: bool,
) -> str:
    """:func:`canonicalize_url` of any (stripped) URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if host_aliases:
        host = host_aliases.get(host, host)
    netloc = host
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: keep the URL's own netloc
        port, netloc = None, parts.netloc.lower()
    if port and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    path = _normalize_path(parts.path) or "/"
    if fold_amp:
        path = _AMP_PATH.sub("", path) or "/"
    drop = {d.lower() for d in drop_params}
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _tracking(k)
        and k.lower() not in drop
        and not (fold_amp and k.lower() in _AMP_PARAMS)
    ]
    if sort_query:
        query.sort()
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


_URL_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^/@:]*:)[^/]*@", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"(password=)[^&\s]*", re.IGNORECASE)


def mask_password(target: str) -> str:
    """``target`` fit for logs and messages: a URL's password (``user:PASSWORD@`` or
    ``?password=``) shown as ``***``; anything that is not a URL (a file path) as it is."""
    if "://" not in target:
        return target
    return _QUERY_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", target))


#: an absolute http(s) URL that urljoin gives back as it is, whatever the base: a host, a
#: path, maybe a query; no spaces, brackets, params (";") or fragment it would rewrite
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?/[A-Za-z0-9._~%/+-]*(?:\?[A-Za-z0-9._~%/+=&-]+)?"
)


#: a path from the root that urljoin puts after the base's origin as it is: no "." or ".."
#: segment (no "/." at all), no params, no fragment
_PLAIN_PATH = re.compile(r"/(?![/.])[A-Za-z0-9._~%/+-]*(?:\?[A-Za-z0-9._~%/+=&-]+)?")
#: a base URL's scheme and host, as urlsplit reads them (nothing for it to strip or check)
_PLAIN_ORIGIN = re.compile(r"(https?://[A-Za-z0-9.-]+(?::[0-9]+)?)(?=[/?#]|$)")


def join_url(base: str, ref: str) -> str | None:
    """urljoin, or None for a URL that cannot be one (an invalid IPv6 host)."""
    if (url := plain_join(base, ref)) is not None:
        return url
    try:
        return urljoin(base, ref)
    except ValueError:
        return None


def plain_join(base: str, ref: str) -> str | None:
    """urljoin's answer for a plain ``ref``, absolute or from the root of a plain http(s)
    ``base``, without parsing either (urljoin parses both: ~8 µs): an http(s) URL that
    urlsplit reads; None for any other ``ref``."""
    # most image and link URLs are such
    if _PLAIN_URL.fullmatch(ref):
        return ref
    if _PLAIN_PATH.fullmatch(ref) and "/." not in ref and (m := _PLAIN_ORIGIN.match(base)):
        return m.group(1) + ref
    return None
