"""A file's text by what its bytes are: an uploaded file, a body without a usable
Content-Type, or a member of an uploaded archive."""

from __future__ import annotations

import re
from typing import Final

from webwarden.inspection.bodies.archives import Archive
from webwarden.inspection.bodies.charset import (
    decode_text,
    looks_like_utf8_text,
    parse_content_type,
)
from webwarden.inspection.bodies.documents import odf_parts, ooxml_parts, pdf_parts
from webwarden.inspection.bodies.encodings import decode_content
from webwarden.inspection.bodies.parts import MAX_DEPTH, Budget, TextPart, cut_short
from webwarden.inspection.filetype import SNIFF_BYTES, sniff
from webwarden.inspection.labels import HTML, IMAGE, TEXT

_OLE: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OOXML_MAIN: Final = ("word/", "xl/", "ppt/")
_OOXML_INNER: Final = re.compile(r"(word|xl|ppt)/(embeddings|media)/[^/]+\Z")
_ODF_INNER: Final = re.compile(r"(Pictures/[^/]+|Object \d+/content\.xml)\Z")
_TEXT_TYPES: Final = frozenset({"application/rtf", "text/rtf", "image/svg+xml"})


def _members(
    archive: Archive, names: list[str], where: str, budget: Budget, depth: int
) -> list[TextPart]:
    """The parts of the named members, each read as a file one level deeper."""
    parts: list[TextPart] = []
    for name in names:
        member_where = f"{where}, member {name!r}"
        if depth >= MAX_DEPTH:
            error = f"archive nested more than {MAX_DEPTH} deep: its members are not read"
            parts.append(TextPart(member_where, "", name, error=error))
            continue
        member = archive.read(name)
        if member is None:
            parts.append(TextPart(member_where, "", name, error=archive.problem(name)))
            continue
        found = file_parts(member, member_where, name, None, budget, depth + 1)
        if archive.cut(name):
            found = [cut_short(p) for p in found]
        parts.extend(found)
    return parts


def _zip_parts(
    data: bytes, where: str, filename: str | None, budget: Budget, depth: int
) -> list[TextPart]:
    archive = Archive.open(data, filename, budget)
    if isinstance(archive, str):
        return [TextPart(where, "", filename, "application/zip", error=archive)]
    names = archive.names()
    documents: list[TextPart] | None = None
    inner: list[str] = []
    if "[Content_Types].xml" in names and any(n.startswith(_OOXML_MAIN) for n in names):
        documents = ooxml_parts(archive, where)
        inner = [n for n in names if _OOXML_INNER.match(n)]
    elif names and names[0] == "mimetype" and "content.xml" in names:
        declared = (archive.read("mimetype") or b"").decode("ascii", "replace").strip()
        if declared.startswith("application/vnd.oasis.opendocument."):
            documents = odf_parts(archive, where, declared)
            inner = [n for n in names if _ODF_INNER.match(n)]
    if documents is not None:
        # Embedded files and pictures: a spreadsheet inside a report, a crest in a header.
        parts = documents + _members(archive, inner, where, budget, depth)
        return parts or [TextPart(where, "", filename)]
    if depth >= MAX_DEPTH:
        error = f"archive nested more than {MAX_DEPTH} deep: its members are not read"
        return [TextPart(where, "", filename, "application/zip", error=error)]
    parts = _members(archive, names, where, budget, depth)
    if archive.skipped:
        error = f"{archive.skipped} more members were not read"
        parts.append(TextPart(where, "", filename, "application/zip", error=error))
    return parts or [TextPart(where, "", filename, "application/zip")]


def _gzip_parts(
    data: bytes, where: str, filename: str | None, budget: Budget, depth: int
) -> list[TextPart]:
    decoded = decode_content(data, "gzip", budget.allowance())
    budget.spend(len(decoded.data))
    if decoded.error is not None:
        return [TextPart(where, "", filename, "application/gzip", error=decoded.error)]
    inner = filename[:-3] if filename and filename.lower().endswith(".gz") else None
    found = file_parts(decoded.data, where, inner, None, budget, depth + 1)
    if decoded.overflowed or decoded.cut:
        found = [cut_short(p) for p in found]
    return found


def file_parts(
    data: bytes,
    where: str,
    filename: str | None,
    declared_type: str | None,
    budget: Budget,
    depth: int = 0,
) -> list[TextPart]:
    """The parts of one file, chosen by its magic bytes (the name and declared type only
    break ties, as in `sniff`): text, documents, images (kept raw), archives opened to
    `MAX_DEPTH`; anything else is one part with an error saying what it is."""
    kind = sniff(data[:SNIFF_BYTES], declared_type, filename)
    if kind.label == IMAGE and kind.mime != "image/svg+xml":
        return [TextPart(where, "", filename, kind.mime, raw=data)]
    if kind.label in (TEXT, HTML) or kind.mime in _TEXT_TYPES:
        charset = parse_content_type(declared_type).charset
        return [TextPart(where, decode_text(data, charset), filename, kind.mime)]
    if kind.mime == "application/pdf":
        return pdf_parts(data, where, filename, budget)
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _zip_parts(data, where, filename, budget, depth)
    if kind.mime == "application/gzip" and depth < MAX_DEPTH:
        return _gzip_parts(data, where, filename, budget, depth)
    if data.startswith(_OLE) and "EncryptedPackage".encode("utf-16-le") in data:
        error = "encrypted Office document (password protected)"
        return [TextPart(where, "", filename, kind.mime, error=error)]
    if not data:
        return [TextPart(where, "", filename, declared_type)]
    if looks_like_utf8_text(data[:SNIFF_BYTES]):
        return [TextPart(where, decode_text(data), filename, declared_type or "text/plain")]
    error = f"no text can be read from {kind.detail}"
    return [TextPart(where, "", filename, kind.mime, error=error)]
