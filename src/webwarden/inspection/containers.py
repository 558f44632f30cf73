"""ZIP and OLE containers: their members tell a JAR, an APK or an Office file from a plain
archive, and an MSI installer from a Word document."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from webwarden.inspection.labels import ACTIVE_CODE, ARCHIVE, DOCUMENT, EXECUTABLE
from webwarden.inspection.match import Match, Strength, u16le, u32le

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"


@dataclass(frozen=True, slots=True)
class _ZipEntry:
    name: str
    data: bytes  # the member's bytes that are in the head, if it is stored uncompressed


def _zip_entries(head: bytes, limit: int = 64) -> list[_ZipEntry]:
    """Members whose local header lies in the head. Sizes may be unknown (data descriptor
    flag), so the next header is found by its signature."""
    entries: list[_ZipEntry] = []
    pos = head.find(_ZIP)
    while pos >= 0 and pos + 30 <= len(head) and len(entries) < limit:
        flags, method = u16le(head, pos + 6), u16le(head, pos + 8)
        size = u32le(head, pos + 18)
        name_len, extra_len = u16le(head, pos + 26), u16le(head, pos + 28)
        name_end = pos + 30 + name_len
        if name_end > len(head):
            break
        data_start = name_end + extra_len
        stored = method == 0 and not flags & 0x8
        data = head[data_start : data_start + size] if stored else b""
        entries.append(_ZipEntry(head[pos + 30 : name_end].decode("utf-8", "replace"), data))
        after = data_start + size if not flags & 0x8 else data_start
        pos = head.find(_ZIP, max(after, pos + 4))
    return entries


def zip_type(head: bytes) -> Match | None:
    if not head.startswith(_ZIP):
        return None
    entries = _zip_entries(head)
    names = {e.name for e in entries}
    if "AndroidManifest.xml" in names or "classes.dex" in names:
        return Match(EXECUTABLE, "application/vnd.android.package-archive", "Android package")
    if "AppxManifest.xml" in names or "AppxBlockMap.xml" in names:
        return Match(EXECUTABLE, "application/msix", "Windows app package (MSIX/AppX)")
    if entries and entries[0].name == "mimetype":
        declared = entries[0].data.decode("ascii", "replace").strip()
        if declared == "application/epub+zip":
            return Match(DOCUMENT, declared, "EPUB e-book")
        if declared.startswith("application/vnd.oasis.opendocument."):
            return Match(DOCUMENT, declared, "OpenDocument file")
    if "[Content_Types].xml" in names:
        return _ooxml(names)
    if (
        "META-INF/MANIFEST.MF" in names
        or any(n.endswith(".class") for n in names)
        or (entries and entries[0].name == "META-INF/")
    ):
        return Match(ACTIVE_CODE, "application/java-archive", "Java archive (JAR)")
    inner = sorted(n for n in names if n.lower().endswith(_PROGRAM_SUFFIXES))
    detail = f"ZIP archive (holds {inner[0]})" if inner else "ZIP archive"
    return Match(ARCHIVE, "application/zip", detail, Strength.CONTAINER)


_PROGRAM_SUFFIXES = (".exe", ".msi", ".dll", ".scr", ".bat", ".cmd", ".ps1", ".vbs", ".js", ".jar")

_OOXML = (
    (
        "word/",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word document (OOXML)",
    ),
    (
        "xl/",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel workbook (OOXML)",
    ),
    (
        "ppt/",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "PowerPoint presentation (OOXML)",
    ),
)


def _ooxml(names: set[str]) -> Match:
    for prefix, mime, detail in _OOXML:
        if any(n.startswith(prefix) for n in names):
            return Match(DOCUMENT, mime, detail)
    return Match(DOCUMENT, "application/vnd.openxmlformats-officedocument", "Office Open XML file")


def _clsid(text: str) -> bytes:
    return uuid.UUID(text).bytes_le


_OLE_ROOTS: dict[bytes, Match] = {
    _clsid("000C1084-0000-0000-C000-000000000046"): Match(
        EXECUTABLE, "application/x-msi", "Windows Installer package (MSI)"
    ),
    _clsid("000C1086-0000-0000-C000-000000000046"): Match(
        EXECUTABLE, "application/x-msi", "Windows Installer patch (MSP)"
    ),
    _clsid("000C1082-0000-0000-C000-000000000046"): Match(
        EXECUTABLE, "application/x-msi", "Windows Installer transform (MST)"
    ),
    _clsid("00020906-0000-0000-C000-000000000046"): Match(
        DOCUMENT, "application/msword", "Word 97-2003 document"
    ),
    _clsid("00020820-0000-0000-C000-000000000046"): Match(
        DOCUMENT, "application/vnd.ms-excel", "Excel 97-2003 workbook"
    ),
    _clsid("64818D10-4F9B-11CF-86EA-00AA00B929E8"): Match(
        DOCUMENT, "application/vnd.ms-powerpoint", "PowerPoint 97-2003 presentation"
    ),
}

_OLE_STREAMS = (
    ("WordDocument", Match(DOCUMENT, "application/msword", "Word 97-2003 document")),
    ("Workbook", Match(DOCUMENT, "application/vnd.ms-excel", "Excel 97-2003 workbook")),
    (
        "PowerPoint Document",
        Match(DOCUMENT, "application/vnd.ms-powerpoint", "PowerPoint 97-2003 presentation"),
    ),
)


def ole_type(head: bytes) -> Match | None:
    """OLE compound file: the root directory entry's class id says what it is, when the
    first directory sector is within the head; stream names are the second clue."""
    if not head.startswith(_OLE) or len(head) < 0x50:
        return None
    sector_shift = u16le(head, 0x1E)
    first_dir_sector = u32le(head, 0x30)
    if sector_shift in (9, 12) and first_dir_sector < 0xFFFFFFFA:
        root = (first_dir_sector + 1) << sector_shift
        if root + 0x60 <= len(head):
            found = _OLE_ROOTS.get(head[root + 0x50 : root + 0x60])
            if found is not None:
                return found
    for stream, match in _OLE_STREAMS:
        if stream.encode("utf-16-le") in head:
            return match
    return Match(DOCUMENT, "application/x-ole-storage", "OLE compound file", Strength.CONTAINER)
