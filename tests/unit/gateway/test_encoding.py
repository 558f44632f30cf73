"""File-type inspection sees compressed bodies decoded (first bytes only)."""

from __future__ import annotations

import gzip
import zlib

from webwarden.gateway.encoding import decoded_head

DATA = b"MZ" + b"\x00" * 10000


def test_gzip_and_deflate_are_undone() -> None:
    assert decoded_head(gzip.compress(DATA), [(b"content-encoding", b"gzip")], 100) == DATA[:100]
    assert decoded_head(zlib.compress(DATA), [(b"content-encoding", b"deflate")], 50) == DATA[:50]
    raw = zlib.compressobj(wbits=-15)
    raw_deflate = raw.compress(DATA) + raw.flush()
    assert decoded_head(raw_deflate, [(b"content-encoding", b"deflate")], 10) == DATA[:10]


def test_partial_and_unknown_encodings() -> None:
    compressed = gzip.compress(DATA)
    assert decoded_head(compressed[:40], [(b"content-encoding", b"gzip")], 100).startswith(b"MZ")
    assert decoded_head(b"abc", [(b"content-encoding", b"br")], 2) == b"ab"
    assert decoded_head(b"not gzip", [(b"content-encoding", b"gzip")], 100) == b"not gzip"
    assert decoded_head(b"plain", [], 100) == b"plain"
