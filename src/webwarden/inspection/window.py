"""The bounded inspection window (G7): the first bytes of a request body, held while it
streams so that extraction and the detectors run once over a bounded buffer.

The gateway feeds every chunk; the window keeps at most `limit` bytes and counts the rest,
so a body larger than the window is known to be only partly inspected (`overflowed`) and
the policy for uninspectable content can apply. Pure: no I/O, no clock.
"""

from __future__ import annotations

from typing import Final

DEFAULT_LIMIT: Final = 1 << 20  # 1 MiB: a form post or a document, not a disk image


class InspectionWindow:
    """At most `limit` bytes of a streamed body, and how much of it there was."""

    __slots__ = ("_chunks", "_held", "limit", "overflowed", "total")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"inspection window limit must be a positive integer, not {limit!r}")
        self.limit = limit
        self.total = 0
        self.overflowed = False
        self._held = 0
        # Chunks are joined once, in bytes(): joining on every feed would copy the window
        # over and over as a body streams in small pieces.
        self._chunks: list[bytes] = []

    def feed(self, chunk: bytes) -> None:
        """Take the next chunk of the body; bytes past the limit are counted, not kept."""
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise TypeError(f"a body chunk must be bytes, not {type(chunk).__name__}")
        size = len(chunk)
        self.total += size
        room = self.limit - self._held
        if size > room:
            self.overflowed = True
            size = room
        if size > 0:
            self._chunks.append(bytes(chunk[:size]))
            self._held += size

    def bytes(self) -> bytes:
        """What the window holds: the first `min(total, limit)` bytes of the body."""
        if len(self._chunks) > 1:
            self._chunks = [b"".join(self._chunks)]
        return self._chunks[0] if self._chunks else b""

    @property
    def held(self) -> int:
        """How many bytes the window holds."""
        return self._held
