"""A fetched page's bytes as text, decoded as Scrapy's ``TextResponse.text`` decodes them,
so that a page handed on as bytes (to a worker process, from a WARC record) gives the
text the spider would have read: a byte order mark first, then the Content-Type charset,
then the body's own ``<meta>`` declaration, then ASCII or UTF-8 when the bytes decode as
such, then charset_normalizer's guess, else UTF-8; bytes that do not decode are replaced.
"""

from __future__ import annotations

from charset_normalizer import from_bytes
from w3lib.encoding import html_to_unicode, resolve_encoding

__all__ = ["decode_html"]


def _guess(body: bytes) -> str | None:
    """The encoding of a body that declares none (Scrapy's own guess)."""
    for encoding in ("ascii", "utf-8"):
        try:
            body.decode(encoding)
        except UnicodeError:
            continue
        return resolve_encoding(encoding)
    match = from_bytes(body).best()
    return resolve_encoding(match.encoding) if match else None


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """The text of ``body``, given the response's Content-Type header (None: none)."""
    return html_to_unicode(content_type or "", body, auto_detect_fun=_guess)[1]
