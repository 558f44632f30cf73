"""Content inspection: pure functions over bytes and values, no I/O.

`sniff` tells a body's file type from its first `SNIFF_BYTES` bytes (G5).
"""

from webwarden.inspection.filetype import SNIFF_BYTES, FileType, sniff
from webwarden.inspection.labels import (
    ACTIVE_CODE,
    ARCHIVE,
    AUDIO,
    DOCUMENT,
    EXECUTABLE,
    GAME,
    HTML,
    IMAGE,
    LABELS,
    TEXT,
    UNKNOWN,
    VIDEO,
)

__all__ = [
    "ACTIVE_CODE",
    "ARCHIVE",
    "AUDIO",
    "DOCUMENT",
    "EXECUTABLE",
    "GAME",
    "HTML",
    "IMAGE",
    "LABELS",
    "SNIFF_BYTES",
    "TEXT",
    "UNKNOWN",
    "VIDEO",
    "FileType",
    "sniff",
]
