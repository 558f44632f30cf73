"""Data-loss prevention detectors: pure functions over text (and image bytes for logos), no
I/O, no clock. `scan_text` runs every enabled detector over a text; `match_logo` checks an
uploaded image against the organisation's logos; `DlpRules` says what to look for.

See docs/dlp.md for what each detector finds, what it shows and its known limits."""

from webwarden.inspection.dlp.logos import logo_hash, match_logo
from webwarden.inspection.dlp.rules import (
    DETECTORS,
    REFERENCES,
    DlpRules,
    LogoHash,
    ReferenceFormat,
    reference_format,
)
from webwarden.inspection.dlp.scan import scan_text

__all__ = [
    "DETECTORS",
    "REFERENCES",
    "DlpRules",
    "LogoHash",
    "ReferenceFormat",
    "logo_hash",
    "match_logo",
    "reference_format",
    "scan_text",
]
