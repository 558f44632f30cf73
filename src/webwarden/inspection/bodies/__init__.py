"""Request bodies as text for the DLP detectors (G7): `extract_parts` and its `TextPart`.

Modules: `extract` (the entry point and the split by Content-Type), `encodings` (bounded
Content-Encoding), `charset`, `forms` (multipart), `structured` (JSON, url-encoded forms,
XML), `files` (a file by its magic bytes), `documents` (Office, OpenDocument, PDF),
`archives` (zip members within a budget), `parts` (the values and bounds).
"""

from webwarden.inspection.bodies.extract import extract_parts
from webwarden.inspection.bodies.parts import TextPart

__all__ = ["TextPart", "extract_parts"]
