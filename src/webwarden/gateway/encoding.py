"""Undoing Content-Encoding on the first bytes of a body, for file type inspection only.

A gzip- or deflate-encoded body is sniffed after decoding its first bytes (bounded output),
or every compressed page would look like an archive and a compressed executable like
nothing in particular. The bytes forwarded are never changed.
"""

from __future__ import annotations

import zlib


def decoded_head(data: bytes, headers: list[tuple[bytes, bytes]], limit: int) -> bytes:
    """At most `limit` bytes of the decoded body start; the raw bytes if the encoding is
    not one this undoes (or the data does not decode)."""
    encoding = b""
    for name, value in headers:
        if name == b"content-encoding":
            encoding = value.strip().lower()
    if encoding in (b"gzip", b"x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == b"deflate":
        wbits = zlib.MAX_WBITS
    else:
        return data[:limit]
    try:
        return zlib.decompressobj(wbits).decompress(data, limit)
    except zlib.error:
        if encoding == b"deflate":  # some servers send raw deflate without the zlib header
            try:
                return zlib.decompressobj(-zlib.MAX_WBITS).decompress(data, limit)
            except zlib.error:
                pass
        return data[:limit]
