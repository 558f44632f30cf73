"""The file-type vocabulary the policy speaks (G5): a handful of labels, not MIME types."""

from __future__ import annotations

from typing import Final

from webwarden.model.request import FILE_TYPES

EXECUTABLE: Final = "executable"  # native programs, installers, shell scripts
ACTIVE_CODE: Final = "active-code"  # Java, Flash, Windows script files, browser extensions
ARCHIVE: Final = "archive"
AUDIO: Final = "audio"
VIDEO: Final = "video"
IMAGE: Final = "image"
DOCUMENT: Final = "document"
GAME: Final = "game"
TEXT: Final = "text"
HTML: Final = "html"
UNKNOWN: Final = "unknown"

# The vocabulary itself is the model's: policies are checked against the same set.
LABELS: Final = FILE_TYPES

# Labels whose claim is believed even when the bytes do not confirm it: a server that says
# it sends a program is taken at its word.
DANGEROUS: Final = (EXECUTABLE, ACTIVE_CODE)
