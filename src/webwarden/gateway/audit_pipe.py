"""What a gateway worker and its audit process say to each other over their two pipes.

Worker to audit process: frames, a one-byte kind and a four-byte length, then the payload.
`RECORDS` carries a `marshal`led list of audit.record.RecordFields (marshal: the fastest
encoding of plain tuples the standard library has, and both ends run the same Python);
`FLUSH` carries a token to echo once everything before it is stored; `REOPEN` asks for the
log files to be reopened (rotation). Closing the pipe means: store what came, then exit.

Audit process to worker: one line of UTF-8 text per event, a word and its details:
`ready`, `error <reason>` (could not start), `failed <lost> <reason>` (records were lost;
the first says why the trail failed), `flushed <token>`.
"""

from __future__ import annotations

import struct

RECORDS = b"R"
FLUSH = b"F"
REOPEN = b"O"
KINDS = frozenset({RECORDS, FLUSH, REOPEN})
HEADER = struct.Struct("!cI")
# Far above any batch (512 records of a few hundred bytes each): a larger length means the
# stream is corrupt, not that a batch is big.
MAX_PAYLOAD = 64 * 1024 * 1024


class FrameError(ValueError):
    """The stream of frames is corrupt."""


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    if kind not in KINDS:
        raise FrameError(f"unknown frame kind {kind!r}")
    return HEADER.pack(kind, len(payload)) + payload


class FrameReader:
    """Cuts the bytes read from the pipe into frames, whatever sizes they came in."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        """The frames completed by `data`, as (kind, payload); FrameError if corrupt."""
        buffer = self._buffer
        buffer += data
        frames: list[tuple[bytes, bytes]] = []
        start, size = 0, len(buffer)
        while size - start >= HEADER.size:
            kind, length = HEADER.unpack_from(buffer, start)
            if kind not in KINDS or length > MAX_PAYLOAD:
                raise FrameError(f"corrupt frame header (kind {kind!r}, length {length})")
            end = start + HEADER.size + length
            if end > size:
                break
            frames.append((kind, bytes(buffer[start + HEADER.size : end])))
            start = end
        del buffer[:start]
        return frames


def status_line(word: str, *details: object) -> bytes:
    """One status line; details are joined by spaces and kept on one line."""
    text = " ".join([word, *(str(d) for d in details)])
    return (text.replace("\r", " ").replace("\n", " ") + "\n").encode("utf-8")


def parse_status(line: str) -> tuple[str, str]:
    """(word, the rest) of a status line."""
    word, _, rest = line.strip().partition(" ")
    return word, rest
