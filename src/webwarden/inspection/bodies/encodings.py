"""Undoing a Content-Encoding, bounded: no layer produces more than `limit` bytes, so a
compression bomb costs `limit` bytes of memory and says it overflowed."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Final

try:
    import brotli  # type: ignore[import-untyped]  # no type stubs are published
except ImportError:  # pragma: no cover - br is then an unsupported encoding
    brotli = None
try:
    import zstandard
except ImportError:  # pragma: no cover - zstd is then an unsupported encoding
    zstandard = None  # type: ignore[assignment]

# RFC 9659: a zstd Content-Encoding uses a window of at most 8 MiB; a larger one is refused
# rather than allocated.
_ZSTD_MAX_WINDOW: Final = 8 << 20
_MAX_LAYERS: Final = 4
_GZIP_MAGIC: Final = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Decoded:
    """The decoded bytes (at most `limit`), whether more would have come (`overflowed`),
    whether the encoded data stopped before its end (`cut`), and what went wrong."""

    data: bytes
    overflowed: bool = False
    cut: bool = False
    error: str | None = None


def _zlib_family(data: bytes, wbits: int, limit: int, name: str) -> Decoded:
    out = bytearray()
    rest = data
    while True:
        inflater = zlib.decompressobj(wbits)
        try:
            # max_length bounds the output; the input left over waits in unconsumed_tail.
            out += inflater.decompress(rest, limit + 1 - len(out))
        except zlib.error as problem:
            return Decoded(bytes(out), error=f"{name} data is corrupt: {problem}")
        if len(out) > limit:
            return Decoded(bytes(out[:limit]), overflowed=True)
        if not inflater.eof:
            return Decoded(bytes(out), cut=True)
        rest = inflater.unused_data
        # gzip allows several members one after another (RFC 1952 2.2); anything else after
        # the end of the stream is ignored, as browsers and servers do.
        if not (wbits > 16 and rest.startswith(_GZIP_MAGIC)):
            return Decoded(bytes(out))


def _deflate(data: bytes, limit: int) -> Decoded:
    # HTTP "deflate" is zlib-wrapped (RFC 9110 8.4.1.2), but some clients send raw deflate.
    zlib_header = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
    return _zlib_family(data, zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS, limit, "deflate")


def _brotli(data: bytes, limit: int) -> Decoded:
    if brotli is None:
        return Decoded(b"", error="unsupported content encoding 'br' (no brotli decoder)")
    decoder: Any = brotli.Decompressor()
    try:
        out = bytes(decoder.process(data, output_buffer_limit=limit + 1))
        # Past the output bound the decoder holds input back; it is drained, still bounded.
        while len(out) <= limit and not (decoder.is_finished() or decoder.can_accept_more_data()):
            out += decoder.process(b"", output_buffer_limit=limit + 1 - len(out))
    except brotli.error as problem:
        return Decoded(b"", error=f"br data is corrupt: {problem}")
    if len(out) > limit:
        return Decoded(out[:limit], overflowed=True)
    return Decoded(out, cut=not decoder.is_finished())


def _zstd(data: bytes, limit: int) -> Decoded:
    if zstandard is None:
        return Decoded(b"", error="unsupported content encoding 'zstd' (no zstd decoder)")
    out = bytearray()
    try:
        decompressor = zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
        with decompressor.stream_reader(data, read_across_frames=True) as reader:
            while len(out) <= limit:
                piece = reader.read(limit + 1 - len(out))
                if not piece:
                    break
                out += piece
    except zstandard.ZstdError as problem:
        return Decoded(bytes(out), error=f"zstd data is corrupt: {problem}")
    if len(out) > limit:
        return Decoded(bytes(out[:limit]), overflowed=True)
    return Decoded(bytes(out))


def _one(name: str, data: bytes, limit: int) -> Decoded:
    if name in ("gzip", "x-gzip"):
        return _zlib_family(data, 16 + zlib.MAX_WBITS, limit, "gzip")
    if name == "deflate":
        return _deflate(data, limit)
    if name == "br":
        return _brotli(data, limit)
    if name == "zstd":
        return _zstd(data, limit)
    return Decoded(b"", error=f"unsupported content encoding {name!r}")


def decode_content(data: bytes, content_encoding: str | None, limit: int) -> Decoded:
    """`data` with its Content-Encoding undone ("gzip", "br", "gzip, br", ...: the last
    applied is undone first). Never raises; at most `limit` bytes come out of each layer."""
    names = [n.strip().lower() for n in (content_encoding or "").split(",")]
    names = [n for n in names if n and n != "identity"]
    if len(names) > _MAX_LAYERS:
        return Decoded(b"", error=f"too many content encodings ({len(names)}): {content_encoding}")
    overflowed = cut = False
    for name in reversed(names):
        step = _one(name, data, limit)
        if step.error is not None:
            return Decoded(step.data, overflowed, cut, step.error)
        data, overflowed, cut = step.data, overflowed or step.overflowed, cut or step.cut
    if len(data) > limit:
        return Decoded(data[:limit], True, cut)
    return Decoded(data, overflowed, cut)
