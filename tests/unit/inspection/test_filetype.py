"""File types from real minimal headers, and files that lie about what they are."""

from __future__ import annotations

import io
import struct
import tarfile
import uuid
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webwarden.inspection import (
    ACTIVE_CODE,
    ARCHIVE,
    AUDIO,
    DOCUMENT,
    EXECUTABLE,
    GAME,
    HTML,
    IMAGE,
    LABELS,
    SNIFF_BYTES,
    TEXT,
    UNKNOWN,
    VIDEO,
    sniff,
)

# --- builders for headers that need more than a prefix ------------------------------------


def pe(characteristics: int = 0x0102) -> bytes:
    head = bytearray(512)
    head[0:2] = b"MZ"
    head[2:4] = b"\x90\x00"
    struct.pack_into("<I", head, 0x3C, 0x80)
    head[0x80:0x84] = b"PE\x00\x00"
    struct.pack_into("<H", head, 0x84, 0x14C)  # machine: i386
    struct.pack_into("<H", head, 0x80 + 22, characteristics)
    return bytes(head)


def zip_of(*members: tuple[str, bytes], stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, (name, data) in enumerate(members):
            method = zipfile.ZIP_STORED if stored_first and i == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return buffer.getvalue()


def ole(clsid: str | None = None, stream: str | None = None) -> bytes:
    """An OLE compound file header with its first directory sector right after it."""
    head = bytearray(1024)
    head[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<H", head, 0x1A, 3)  # major version 3: 512-byte sectors
    struct.pack_into("<H", head, 0x1C, 0xFFFE)  # little-endian byte order mark
    struct.pack_into("<H", head, 0x1E, 9)
    struct.pack_into("<I", head, 0x30, 0)  # directory starts in sector 0, at offset 512
    root = 512
    name = "Root Entry".encode("utf-16-le")
    head[root : root + len(name)] = name
    if clsid:
        head[root + 0x50 : root + 0x60] = uuid.UUID(clsid).bytes_le
    if stream:
        encoded = stream.encode("utf-16-le")
        head[root + 128 : root + 128 + len(encoded)] = encoded
    return bytes(head)


def tar_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def riff(kind: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 1000) + kind + b"fmt \x10\x00\x00\x00" + bytes(16)


def ftyp(brand: bytes) -> bytes:
    return struct.pack(">I", 24) + b"ftyp" + brand + b"\x00\x00\x02\x00isomiso2" + bytes(40)


def ogg(first_packet: bytes) -> bytes:
    page = bytearray(b"OggS\x00\x02" + bytes(20) + b"\x01\x1e")
    return bytes(page) + first_packet + bytes(40)


def ebml(doctype: bytes) -> bytes:
    return b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84" + doctype + bytes(40)


def ts_packets(size: int = 188, lead: int = 0) -> bytes:
    packet = bytearray(size)
    packet[lead] = 0x47
    packet[lead + 1 : lead + 4] = b"\x40\x00\x10"
    return bytes(packet) * 4


def rom_with(offset: int, marker: bytes) -> bytes:
    head = bytearray(0x150)
    head[0:4] = b"\xc3\x50\x01\x00"
    head[offset : offset + len(marker)] = marker
    return bytes(head)


MSI_CLSID = "000C1084-0000-0000-C000-000000000046"
WORD_CLSID = "00020906-0000-0000-C000-000000000046"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"

# (head, label, mime, detail fragment)
CONTENT = [
    (pe(), EXECUTABLE, "application/vnd.microsoft.portable-executable", "PE executable"),
    (pe(0x2102), EXECUTABLE, "application/vnd.microsoft.portable-executable", "library"),
    (b"MZ\x90\x00\x03" + bytes(59), EXECUTABLE, "application/x-dosexec", "MZ"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(56), EXECUTABLE, "application/x-executable", "ELF"),
    (
        b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(24),
        EXECUTABLE,
        "application/x-mach-binary",
        "Mach-O",
    ),
    (
        b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + bytes(40),
        EXECUTABLE,
        "application/x-mach-binary",
        "universal",
    ),
    (b"#!/bin/sh\necho hello\n", EXECUTABLE, "text/x-shellscript", "#!/bin/sh"),
    (b"#!/usr/bin/env python3\nprint(1)\n", EXECUTABLE, "text/x-script", "python3"),
    (ole(MSI_CLSID), EXECUTABLE, "application/x-msi", "Windows Installer"),
    (b"\xed\xab\xee\xdb\x03\x00\x00\x00" + bytes(60), EXECUTABLE, "application/x-rpm", "RPM"),
    (
        b"!<arch>\ndebian-binary   1700000000  0     0     100644  4         `\n2.0\n",
        EXECUTABLE,
        "application/vnd.debian.binary-package",
        "Debian",
    ),
    (
        zip_of(("AndroidManifest.xml", b"\x03\x00\x08\x00"), ("classes.dex", b"dex\n035")),
        EXECUTABLE,
        "application/vnd.android.package-archive",
        "Android",
    ),
    (b"\xca\xfe\xba\xbe\x00\x00\x00\x34\x00\x1d", ACTIVE_CODE, "application/java-vm", "Java class"),
    (
        zip_of(("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"), ("a/Main.class", b"x")),
        ACTIVE_CODE,
        "application/java-archive",
        "JAR",
    ),
    (b"FWS\x0a\x20\x03\x00\x00\x78\x00\x05", ACTIVE_CODE, "application/x-shockwave-flash", "Flash"),
    (b"CWS\x0a\x20\x03\x00\x00\x78\x9c", ACTIVE_CODE, "application/x-shockwave-flash", "Flash"),
    (b"Cr24\x03\x00\x00\x00" + bytes(16), ACTIVE_CODE, "application/x-chrome-extension", "Chrome"),
    (zip_of(("notes.txt", b"hello " * 50)), ARCHIVE, "application/zip", "ZIP archive"),
    (zip_of(("setup.exe", pe())), ARCHIVE, "application/zip", "holds setup.exe"),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", ARCHIVE, "application/gzip", "gzip"),
    (b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(24), ARCHIVE, "application/x-7z-compressed", "7-Zip"),
    (b"Rar!\x1a\x07\x01\x00" + bytes(16), ARCHIVE, "application/vnd.rar", "RAR"),
    (b"\xfd7zXZ\x00\x00\x04" + bytes(16), ARCHIVE, "application/x-xz", "xz"),
    (b"BZh91AY&SY" + bytes(16), ARCHIVE, "application/x-bzip2", "bzip2"),
    (b"\x28\xb5\x2f\xfd\x24\x05" + bytes(8), ARCHIVE, "application/zstd", "Zstandard"),
    (tar_of("a.txt", b"hello\n"), ARCHIVE, "application/x-tar", "tar"),
    (b"MSCF\x00\x00\x00\x00" + bytes(32), ARCHIVE, "application/vnd.ms-cab-compressed", "Cabinet"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x23TIT2", AUDIO, "audio/mpeg", "ID3"),
    (b"\xff\xfb\x90\x64" + bytes(60), AUDIO, "audio/mpeg", "MP3"),
    (b"\xff\xf1\x50\x80\x2e\x7f\xfc" + bytes(20), AUDIO, "audio/aac", "AAC"),
    (riff(b"WAVE"), AUDIO, "audio/wav", "WAV"),
    (ogg(b"\x01vorbis\x00\x00\x00\x00"), AUDIO, "audio/ogg", "Vorbis"),
    (ogg(b"OpusHead\x01\x02"), AUDIO, "audio/ogg", "Opus"),
    (b"fLaC\x00\x00\x00\x22" + bytes(34), AUDIO, "audio/flac", "FLAC"),
    (ftyp(b"M4A "), AUDIO, "audio/mp4", "MPEG-4 audio"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x02", AUDIO, "audio/midi", "MIDI"),
    (b"FORM\x00\x00\x10\x00AIFFCOMM", AUDIO, "audio/aiff", "AIFF"),
    (ftyp(b"isom"), VIDEO, "video/mp4", "MPEG-4 video"),
    (ftyp(b"qt  "), VIDEO, "video/quicktime", "QuickTime"),
    (ftyp(b"3gp5"), VIDEO, "video/3gpp", "3GPP"),
    (ebml(b"webm"), VIDEO, "video/webm", "WebM"),
    (ebml(b"matroska"), VIDEO, "video/x-matroska", "Matroska"),
    (riff(b"AVI "), VIDEO, "video/x-msvideo", "AVI"),
    (b"FLV\x01\x05\x00\x00\x00\x09", VIDEO, "video/x-flv", "Flash video"),
    (ts_packets(), VIDEO, "video/mp2t", "transport stream"),
    (ts_packets(192, 4), VIDEO, "video/mp2t", "transport stream"),
    (b"\x00\x00\x01\xba\x44\x00\x04\x00", VIDEO, "video/mpeg", "program stream"),
    (ogg(b"\x80theora\x03\x02"), VIDEO, "video/ogg", "Theora"),
    (
        b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c" + bytes(14),
        VIDEO,
        "video/x-ms-asf",
        "ASF",
    ),
    (JPEG, IMAGE, "image/jpeg", "JPEG"),
    (PNG, IMAGE, "image/png", "PNG"),
    (b"GIF89a\x01\x00\x01\x00\x80\x00\x00", IMAGE, "image/gif", "GIF"),
    (riff(b"WEBP"), IMAGE, "image/webp", "WebP"),
    (
        b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00" + bytes(40),
        IMAGE,
        "image/bmp",
        "BMP",
    ),
    (b"II*\x00\x08\x00\x00\x00", IMAGE, "image/tiff", "TIFF"),
    (
        b"\x00\x00\x01\x00\x01\x00\x10\x10\x00\x00\x01\x00",
        IMAGE,
        "image/vnd.microsoft.icon",
        "icon",
    ),
    (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>',
        IMAGE,
        "image/svg+xml",
        "SVG",
    ),
    (b"<svg width='10'></svg>", IMAGE, "image/svg+xml", "SVG"),
    (ftyp(b"heic"), IMAGE, "image/heic", "HEIF"),
    (ftyp(b"avif"), IMAGE, "image/avif", "AVIF"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", DOCUMENT, "application/pdf", "PDF"),
    (b"\x00\x00junk\x01\n%PDF-1.4\n", DOCUMENT, "application/pdf", "leading bytes"),
    (b"{\\rtf1\\ansi hello}", DOCUMENT, "application/rtf", "RTF"),
    (b"%!PS-Adobe-3.0\n", DOCUMENT, "application/postscript", "PostScript"),
    (
        zip_of(("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w/>")),
        DOCUMENT,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word",
    ),
    (
        zip_of(("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<w/>")),
        DOCUMENT,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel",
    ),
    (
        zip_of(
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", b"<x/>"),
            stored_first=True,
        ),
        DOCUMENT,
        "application/vnd.oasis.opendocument.text",
        "OpenDocument",
    ),
    (
        zip_of(
            ("mimetype", b"application/epub+zip"),
            ("META-INF/container.xml", b"<x/>"),
            stored_first=True,
        ),
        DOCUMENT,
        "application/epub+zip",
        "EPUB",
    ),
    (ole(WORD_CLSID), DOCUMENT, "application/msword", "Word 97-2003"),
    (ole(stream="Workbook"), DOCUMENT, "application/vnd.ms-excel", "Excel 97-2003"),
    (ole(), DOCUMENT, "application/x-ole-storage", "OLE compound file"),
    (b"UnityFS\x00\x00\x00\x00\x065.x.x\x00", GAME, "application/vnd.unity", "Unity"),
    (b"NES\x1a\x02\x01\x01\x00" + bytes(8), GAME, "application/x-nes-rom", "NES"),
    (
        rom_with(0x104, b"\xce\xed\x66\x66\xcc\x0d\x00\x0b"),
        GAME,
        "application/x-gameboy-rom",
        "Game Boy",
    ),
    (rom_with(0x100, b"SEGA MEGA DRIVE "), GAME, "application/x-genesis-rom", "Mega Drive"),
    (b"<!DOCTYPE html>\n<html><body>hi</body></html>", HTML, "text/html", "HTML"),
    (b"  \n\t<HTML lang=en>", HTML, "text/html", "HTML"),
    (b"<p>short</p>", HTML, "text/html", "HTML"),
    (b"<!-- comment --><div>", HTML, "text/html", "HTML"),
    ("\ufeff<html>".encode("utf-16-le"), HTML, "text/html", "HTML"),
    (
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">',
        HTML,
        "application/xhtml+xml",
        "XHTML",
    ),
    (b"hello, world\n", TEXT, "text/plain", "text"),
    (b'{"json": true}', TEXT, "text/plain", "text"),
    (b"MAC address table\n00:11:22:33:44:55\n", TEXT, "text/plain", "text"),
    (b"<?xml version='1.0'?><feed/>", TEXT, "application/xml", "XML"),
    ("Grüße, café\n".encode(), TEXT, "text/plain", "text"),
    (b"\x00\x01\x02\x03\x04binary junk", UNKNOWN, "application/octet-stream", "binary data"),
    (b"\x00asm\x01\x00\x00\x00", UNKNOWN, "application/wasm", "WebAssembly"),
    (b"wOF2\x00\x01\x00\x00", UNKNOWN, "font/woff2", "font"),
    (b"", UNKNOWN, "application/x-empty", "no content"),
]


@pytest.mark.parametrize(("head", "label", "mime", "detail"), CONTENT)
def test_content_alone(head: bytes, label: str, mime: str, detail: str) -> None:
    found = sniff(head)
    assert (found.label, found.mime) == (label, mime)
    assert detail in found.detail
    assert not found.mismatch


# (head, declared type, file name, label, mismatch, detail fragment)
CLAIMS = [
    # Disguises: the bytes win and the lie is flagged.
    (pe(), "image/jpeg", None, EXECUTABLE, True, "declared image/jpeg"),
    (pe(), None, "holiday.jpg", EXECUTABLE, True, "named *.jpg"),
    (pe(), "application/pdf", "report.pdf", EXECUTABLE, True, "declared application/pdf"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(56), "text/plain", None, EXECUTABLE, True, "text/plain"),
    (
        zip_of(("META-INF/MANIFEST.MF", b"M")),
        "application/zip",
        "lib.zip",
        ACTIVE_CODE,
        True,
        "application/zip",
    ),
    (b"<html><script>x()</script>", "image/png", None, HTML, True, "image/png"),
    (b"just text", "video/mp4", "film.mp4", TEXT, True, "video/mp4"),
    (b"\x00\x01\x02junk", "text/plain", None, UNKNOWN, True, "text/plain"),
    # Honest or harmless: no mismatch.
    (pe(), "application/x-msdownload", "setup.exe", EXECUTABLE, False, "PE"),
    (pe(), "application/octet-stream", "setup.bin", EXECUTABLE, False, "PE"),
    (JPEG, "IMAGE/PNG; charset=binary", "a.png", IMAGE, False, "JPEG"),
    (ftyp(b"isom"), "audio/mp4", "song.m4a", VIDEO, False, "MPEG-4"),
    (ogg(b"\x01vorbis"), "video/ogg", None, AUDIO, False, "Vorbis"),
    (
        zip_of(("[Content_Types].xml", b"<T/>"), ("word/document.xml", b"<w/>")),
        "application/zip",
        "x.zip",
        DOCUMENT,
        False,
        "Word",
    ),
    (
        zip_of(("a.txt", b"x")),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        None,
        ARCHIVE,
        False,
        "ZIP",
    ),
    (b"<svg></svg>", "text/xml", None, IMAGE, False, "SVG"),
    (b"<p>hi</p>", "text/plain", "notes.txt", HTML, False, "HTML"),
    (b"plain words", "text/html", None, TEXT, False, "text"),
    (b'{"a": 1}', "application/json", "data.json", TEXT, False, "text"),
    (b"\x00\x01\x02junk", "application/octet-stream", "blob", UNKNOWN, False, "binary"),
    (b"", "text/plain", None, UNKNOWN, False, "no content"),
    # Claims to be a program are believed when the bytes do not say otherwise.
    (b"Write-Host 'hello'\r\n", "text/plain", "run.ps1", ACTIVE_CODE, False, "PowerShell"),
    (b'MsgBox "hi"\r\n', None, "C:\\temp\\x.VBS", ACTIVE_CODE, False, "VBScript"),
    (b"@echo off\r\n", None, "go.bat", ACTIVE_CODE, False, "batch"),
    (b"<html><hta:application/>", "text/html", "app.hta", ACTIVE_CODE, False, "HTML application"),
    (b"text body", "application/x-msdownload", None, EXECUTABLE, False, "x-msdownload"),
    (zip_of(("big/first.bin", b"x")), None, "tool.jar", ACTIVE_CODE, False, "Java archive"),
    (ole(), None, "setup.msi", EXECUTABLE, False, "Windows installer"),
    (b"\x00\x01\x02junk", None, "game.exe", EXECUTABLE, False, "Windows program"),
    # Binary data with no signature takes the label it claims.
    (b"\x00\x01\x02junk", "video/mp4", None, VIDEO, False, "not confirmed"),
    (b"\x00\x01\x02junk", None, "level.unity3d", GAME, False, "not confirmed"),
    # Streaming manifests are text delivering video or audio.
    (
        b"#EXTM3U\n#EXT-X-VERSION:3\n",
        "application/vnd.apple.mpegurl",
        "i.m3u8",
        VIDEO,
        False,
        "manifest",
    ),
    (b"#EXTM3U\n#EXTINF:-1,Radio\n", "audio/x-mpegurl", None, AUDIO, False, "manifest"),
    # Plain .js is web text, not active code.
    (b"function f() { return 1; }\n", "application/javascript", "app.js", TEXT, False, "text"),
]


Claim = tuple[bytes, str | None, str | None, str, bool, str]


@pytest.mark.parametrize("case", CLAIMS)
def test_content_against_claims(case: Claim) -> None:
    head, declared, name, label, mismatch, detail = case
    found = sniff(head, declared, name)
    assert found.label == label
    assert found.mismatch is mismatch
    assert detail in found.detail


def test_only_the_first_sniff_bytes_count() -> None:
    head = b"a" * SNIFF_BYTES + b"\x00\x01\x02"
    assert sniff(head).label == TEXT
    assert sniff(b"a" * (SNIFF_BYTES - 3) + b"\x00\x01\x02").label == UNKNOWN


def test_vocabulary() -> None:
    assert {
        EXECUTABLE,
        ACTIVE_CODE,
        ARCHIVE,
        AUDIO,
        VIDEO,
        IMAGE,
        DOCUMENT,
        GAME,
        TEXT,
        HTML,
        UNKNOWN,
    } == LABELS


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=700),
    st.one_of(st.none(), st.text(max_size=40)),
    st.one_of(st.none(), st.text(max_size=40)),
)
def test_never_raises_and_always_labels(
    head: bytes, declared: str | None, name: str | None
) -> None:
    found = sniff(head, declared, name)
    assert found.label in LABELS
    assert found.mime


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=2, max_size=600))
def test_truncated_containers_do_not_confuse_it(tail: bytes) -> None:
    for prefix in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"MZ", b"RIFF", b"OggS"):
        assert sniff(prefix + tail).label in LABELS
