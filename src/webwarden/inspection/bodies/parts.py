"""What extraction returns (`TextPart`) and the budget that bounds one extraction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

# A body expands (a docx's XML is several times the docx, a zip member may be nested): all
# expansion in one call together stops at this many times the window's limit.
EXPANSION_FACTOR: Final = 4
# Archives inside archives are opened this deep (a zip in a docx upload is depth 2).
MAX_DEPTH: Final = 2
# Values of one form or JSON document past this many go into one combined part, so a
# hostile body of a million one-character values cannot make a million parts.
MAX_VALUES: Final = 2000


@dataclass(frozen=True, slots=True)
class TextPart:
    """One piece of a body the detectors read.

    `where` says which piece in words ("field 'message'", "file 'report.docx'",
    "JSON $.status"); `text` is its text (empty for images); `filename` and `media_type`
    are what the body claimed, when it did; `raw` holds the bytes of images only, so that
    a logo matcher can hash them. `error` is set when the piece could not be read (the
    gateway then applies its policy for uninspectable content); `truncated` when only
    its first part was read, because of the window or an expansion bound.
    """

    where: str
    text: str
    filename: str | None = None
    media_type: str | None = None
    raw: bytes | None = None
    error: str | None = None
    truncated: bool = False


class Budget:
    """How many more bytes extraction may produce; shared by every part of one call."""

    __slots__ = ("limit", "remaining")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.remaining = limit * EXPANSION_FACTOR

    def allowance(self) -> int:
        """How much one expansion (a decompression, a zip member) may produce now."""
        return max(0, min(self.limit, self.remaining))

    def spend(self, size: int) -> None:
        self.remaining -= size


def cut_short(part: TextPart) -> TextPart:
    """The same part, marked as read only in part."""
    return replace(part, truncated=True)
