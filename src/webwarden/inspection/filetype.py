"""File type by magic bytes (G5): what a body is, and whether it is what it claims to be.

`sniff(head, declared_type, filename)` looks at the first bytes of a body (up to
`SNIFF_BYTES`; pass them after any Content-Encoding is undone, or every gzip-encoded page
is an archive) and returns a `FileType` with one label from the policy's vocabulary.

How content and claims are reconciled:
- a signature in the bytes decides the label; `mismatch` is set when the Content-Type or
  the file name claims a label that disagrees (an EXE served as image/jpeg). Labels that
  are the same thing in practice agree: text and HTML, audio and video (one container,
  either content), archive and document (Office files are ZIP files);
- a claim to be a program (executable or active code) is believed when the bytes do not
  contradict it: text named *.ps1 is a PowerShell script, and a ZIP or OLE file named *.jar
  or *.msi whose members lie beyond the head is taken to be one;
- text claimed to be image, audio, video, ... stays text, with `mismatch`; a streaming
  manifest (HLS, DASH, playlists) is text that is video or audio, and labelled so;
- binary data without a known signature takes the label its Content-Type or name claims
  ("not confirmed by content"), or `unknown`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

from webwarden.inspection.declared import (
    STREAMING_MANIFESTS,
    extension,
    label_of_name,
    label_of_type,
    media_type,
)
from webwarden.inspection.labels import (
    ARCHIVE,
    AUDIO,
    DANGEROUS,
    DOCUMENT,
    HTML,
    TEXT,
    UNKNOWN,
    VIDEO,
)
from webwarden.inspection.magic import EMPTY, identify
from webwarden.inspection.match import Match, Strength

# Enough for every signature here (tar at 257, ROM headers at 0x100, a few MPEG-TS
# packets, the first members of a ZIP) and small enough to hold per response.
SNIFF_BYTES: Final = 4096


@dataclass(frozen=True, slots=True)
class FileType:
    """`label` is from the vocabulary in `webwarden.inspection.labels`; `mime` the most
    specific type known; `detail` a phrase for people ("PE executable"); `mismatch` true
    when the declared type or file name disagrees with the bytes."""

    label: str
    mime: str
    detail: str
    mismatch: bool = False


_ALSO_AGREES: dict[str, frozenset[str]] = {
    TEXT: frozenset({HTML}),
    HTML: frozenset({TEXT}),
    AUDIO: frozenset({VIDEO}),
    VIDEO: frozenset({AUDIO}),
    ARCHIVE: frozenset({DOCUMENT}),
    DOCUMENT: frozenset({ARCHIVE}),
}


def _agrees(match: Match, claimed: str) -> bool:
    if claimed == match.label or claimed in _ALSO_AGREES.get(match.label, ()):
        return True
    # SVG is an image written in XML; serving it as text or XML is no disguise.
    return match.mime == "image/svg+xml" and claimed in (TEXT, HTML)


def _judged(match: Match, claims: list[tuple[str, str]]) -> FileType:
    disagreeing = [how for label, how in claims if not _agrees(match, label)]
    detail = match.detail + (f", but {disagreeing[0]}" if disagreeing else "")
    return FileType(match.label, match.mime, detail, mismatch=bool(disagreeing))


@functools.lru_cache(maxsize=1024)  # a site sends a handful of distinct Content-Types
def _declared(declared_type: str | None) -> tuple[str, str | None]:
    """The bare media type of a Content-Type and the label it claims."""
    return media_type(declared_type), label_of_type(declared_type)


def sniff(head: bytes, declared_type: str | None = None, filename: str | None = None) -> FileType:
    """The file type of a body from its first bytes, its Content-Type and its file name
    (from Content-Disposition or the URL path). Pure: no I/O, never raises on any input."""
    match = identify(head[:SNIFF_BYTES])
    mime, by_type = _declared(declared_type)
    claims: list[tuple[str, str]] = []
    if by_type is not None:
        claims.append((by_type, f"declared {mime}"))
    by_name = label_of_name(filename)
    if by_name is not None:
        claims.append((by_name[0], f"named *.{extension(filename)} ({by_name[1]})"))

    if match.strength is Strength.STRONG or not claims:
        return _judged(match, claims)
    programs = sorted((c for c in claims if c[0] in DANGEROUS), key=lambda c: DANGEROUS.index(c[0]))
    if programs:
        label, how = programs[0]
        return FileType(label, mime if label == by_type else match.mime, f"{match.detail}, {how}")
    if match.strength is Strength.CONTAINER:
        return _judged(match, claims)
    if match.label in (TEXT, HTML):
        if mime in STREAMING_MANIFESTS and by_type is not None:
            return FileType(by_type, mime, f"streaming manifest ({mime})")
        return _judged(match, claims)
    # Binary data that no signature matched: the claim is all there is to go on.
    media = [c for c in claims if c[0] not in (TEXT, HTML)]
    if media:
        label, how = media[0]
        shown = mime if label == by_type else match.mime
        return FileType(label, shown, f"{match.detail}, {how}; not confirmed by content")
    if match is EMPTY:
        return FileType(UNKNOWN, match.mime, match.detail)
    return FileType(UNKNOWN, match.mime, f"{match.detail}, but {claims[0][1]}", mismatch=True)
