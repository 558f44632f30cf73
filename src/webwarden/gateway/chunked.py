"""Strict decoding of chunked request bodies (RFC 9112 section 7.1), sans I/O.

A chunk size must be hexadecimal digits only (no sign, no spaces, no `0x`), at most 16 of
them; chunk extensions are tolerated and dropped; every line ends in CRLF exactly; trailer
fields are read and dropped (they are never forwarded). Anything else is an HttpError 400,
so a body cannot be framed one way here and another way by the origin.
"""

from __future__ import annotations

import re

from webwarden.gateway.http1 import HttpError

_SIZE_LINE_RE = re.compile(
    rb"([0-9A-Fa-f]{1,16})((?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
    rb"(?:[ \t]*=[ \t]*(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|\"[\t \x21\x23-\x5b\x5d-\x7e]*\"))?)*)"
)
_TRAILER_RE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t \x21-\x7e\x80-\xff]*")
MAX_LINE = 4096
MAX_TRAILERS = 16 * 1024

_SIZE, _DATA, _DATA_END, _TRAILER, _DONE = range(5)


class ChunkedDecoder:
    """Feed it bytes; it returns the body data found and how many bytes it used."""

    __slots__ = ("_left", "_state", "_trailer_bytes")

    def __init__(self) -> None:
        self._state = _SIZE
        self._left = 0
        self._trailer_bytes = 0

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def feed(self, buf: bytes | bytearray | memoryview) -> tuple[list[bytes], int]:
        """Decode as much of `buf` as possible: (data pieces, bytes consumed). Bytes after
        the end of the body are left unconsumed (the next pipelined request)."""
        view = memoryview(buf)
        try:
            return self._feed(view)
        finally:
            # The caller trims its buffer next (even after an error): no export may remain.
            view.release()

    def _feed(self, view: memoryview) -> tuple[list[bytes], int]:
        pos = 0
        out: list[bytes] = []
        n = len(view)
        while pos < n and self._state != _DONE:
            state = self._state
            if state == _DATA:
                take = min(self._left, n - pos)
                out.append(bytes(view[pos : pos + take]))
                pos += take
                self._left -= take
                if self._left == 0:
                    self._state = _DATA_END
                continue
            window = bytes(view[pos : min(n, pos + MAX_LINE + 2)])
            end = window.find(b"\r\n")
            if end < 0:
                if n - pos > MAX_LINE:
                    raise HttpError(400, "A chunk line is too long.")
                if b"\n" in window or (state == _DATA_END and n - pos >= 2):
                    raise HttpError(400, "A chunk is not followed by CRLF.")
                break
            line = bytes(view[pos : pos + end])
            pos += end + 2
            if state == _SIZE:
                if b"\r" in line or b"\n" in line:
                    raise HttpError(400, "A chunk size line carries a bare CR or LF.")
                m = _SIZE_LINE_RE.fullmatch(line)
                if m is None:
                    raise HttpError(400, "A chunk size is malformed.")
                size = int(m.group(1), 16)
                if size == 0:
                    self._state = _TRAILER
                else:
                    self._left = size
                    self._state = _DATA
            elif state == _DATA_END:
                if line:
                    raise HttpError(400, "A chunk is longer than its declared size.")
                self._state = _SIZE
            else:  # trailer section
                if not line:
                    self._state = _DONE
                    break
                self._trailer_bytes += len(line) + 2
                if self._trailer_bytes > MAX_TRAILERS or _TRAILER_RE.fullmatch(line) is None:
                    raise HttpError(400, "The chunked trailer is malformed.")
        return out, pos


def encode_chunk(data: bytes) -> tuple[bytes, bytes, bytes]:
    """A chunk as three pieces for `writelines` (no copy of the data)."""
    return b"%x\r\n" % len(data), data, b"\r\n"


LAST_CHUNK = b"0\r\n\r\n"
