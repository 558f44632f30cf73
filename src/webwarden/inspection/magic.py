"""What the first bytes of a body are, from signatures ("magic bytes") alone.

Hand-written rather than libmagic: the policy needs a fixed, small vocabulary and the same
answer on every machine (libmagic's database changes between distribution releases, and
a decision must be reproducible from the policy and the facts), plus distinctions inside
ZIP and OLE containers (JAR, APK, Office, MSI) that decide between labels.

`identify` returns a `Match` with its `Strength`. Containers live in `containers` (ZIP,
OLE) and `media` (audio and video); this module holds the plain signatures, the order in
which everything is tried and the text test.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from webwarden.inspection.containers import ole_type, zip_type
from webwarden.inspection.labels import (
    ACTIVE_CODE,
    ARCHIVE,
    AUDIO,
    DOCUMENT,
    EXECUTABLE,
    GAME,
    HTML,
    IMAGE,
    TEXT,
    UNKNOWN,
    VIDEO,
)
from webwarden.inspection.match import Match, Strength, is_binary, u16le, u32be, u32le
from webwarden.inspection.media import (
    ebml_type,
    iff_type,
    iso_media_type,
    mpeg_audio_type,
    mpeg_ts_type,
    ogg_type,
    old_quicktime_type,
    riff_type,
)

# Plain prefix signatures at offset 0, checked in order.
_PREFIXES: tuple[tuple[bytes, str, str, str], ...] = (
    (b"\x7fELF", EXECUTABLE, "application/x-executable", "ELF executable"),
    (b"\xfe\xed\xfa\xce", EXECUTABLE, "application/x-mach-binary", "Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", EXECUTABLE, "application/x-mach-binary", "Mach-O executable"),
    (b"\xce\xfa\xed\xfe", EXECUTABLE, "application/x-mach-binary", "Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", EXECUTABLE, "application/x-mach-binary", "Mach-O executable"),
    (b"\xed\xab\xee\xdb", EXECUTABLE, "application/x-rpm", "RPM package"),
    (b"dex\n0", EXECUTABLE, "application/vnd.android.dex", "Dalvik executable"),
    (b"Cr24", ACTIVE_CODE, "application/x-chrome-extension", "Chrome extension"),
    (
        b"L\x00\x00\x00\x01\x14\x02\x00",
        ACTIVE_CODE,
        "application/x-ms-shortcut",
        "Windows shortcut",
    ),
    (b"\x1f\x8b\x08", ARCHIVE, "application/gzip", "gzip compressed data"),
    (b"7z\xbc\xaf\x27\x1c", ARCHIVE, "application/x-7z-compressed", "7-Zip archive"),
    (b"Rar!\x1a\x07", ARCHIVE, "application/vnd.rar", "RAR archive"),
    (b"\xfd7zXZ\x00", ARCHIVE, "application/x-xz", "xz compressed data"),
    (b"\x28\xb5\x2f\xfd", ARCHIVE, "application/zstd", "Zstandard compressed data"),
    (b"MSCF\x00\x00\x00\x00", ARCHIVE, "application/vnd.ms-cab-compressed", "Cabinet archive"),
    (b"LZIP", ARCHIVE, "application/x-lzip", "lzip compressed data"),
    (b"\x04\x22\x4d\x18", ARCHIVE, "application/x-lz4", "LZ4 compressed data"),
    (b"\x1f\x9d", ARCHIVE, "application/x-compress", "compress'd data"),
    (b"PK\x05\x06", ARCHIVE, "application/zip", "ZIP archive (empty)"),
    (b"PK\x07\x08", ARCHIVE, "application/zip", "ZIP archive (spanned)"),
    (b"ID3", AUDIO, "audio/mpeg", "MP3 audio (ID3 tag)"),
    (b"fLaC", AUDIO, "audio/flac", "FLAC audio"),
    (b"MThd", AUDIO, "audio/midi", "MIDI"),
    (b"#!AMR", AUDIO, "audio/amr", "AMR audio"),
    (b".snd", AUDIO, "audio/basic", "Sun/NeXT audio"),
    (b"MAC ", AUDIO, "audio/x-ape", "Monkey's Audio"),
    (b"wvpk", AUDIO, "audio/x-wavpack", "WavPack audio"),
    (b"FLV\x01", VIDEO, "video/x-flv", "Flash video"),
    (b"\x00\x00\x01\xba", VIDEO, "video/mpeg", "MPEG program stream"),
    (b"\x00\x00\x01\xb3", VIDEO, "video/mpeg", "MPEG video"),
    (b".RMF", VIDEO, "application/vnd.rn-realmedia", "RealMedia"),
    (
        b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c",
        VIDEO,
        "video/x-ms-asf",
        "Windows Media (ASF)",
    ),
    (b"\xff\xd8\xff", IMAGE, "image/jpeg", "JPEG image"),
    (b"\x89PNG\r\n\x1a\n", IMAGE, "image/png", "PNG image"),
    (b"GIF87a", IMAGE, "image/gif", "GIF image"),
    (b"GIF89a", IMAGE, "image/gif", "GIF image"),
    (b"II*\x00", IMAGE, "image/tiff", "TIFF image"),
    (b"MM\x00*", IMAGE, "image/tiff", "TIFF image"),
    (b"8BPS", IMAGE, "image/vnd.adobe.photoshop", "Photoshop image"),
    (b"\xff\x0a", IMAGE, "image/jxl", "JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", IMAGE, "image/jxl", "JPEG XL image"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", IMAGE, "image/jp2", "JPEG 2000 image"),
    (b"%PDF-", DOCUMENT, "application/pdf", "PDF document"),
    (b"{\\rtf", DOCUMENT, "application/rtf", "RTF document"),
    (b"%!PS", DOCUMENT, "application/postscript", "PostScript document"),
    (b"AT&TFORM", DOCUMENT, "image/vnd.djvu", "DjVu document"),
    (b"UnityFS\x00", GAME, "application/vnd.unity", "Unity asset bundle"),
    (b"UnityWeb\x00", GAME, "application/vnd.unity", "Unity web player bundle"),
    (b"UnityRaw\x00", GAME, "application/vnd.unity", "Unity asset bundle"),
    (b"NES\x1a", GAME, "application/x-nes-rom", "NES ROM"),
    (b"\x80\x37\x12\x40", GAME, "application/x-n64-rom", "Nintendo 64 ROM"),
    (b"GDPC", GAME, "application/x-godot-pack", "Godot game package"),
)

_GAMEBOY_LOGO = b"\xce\xed\x66\x66\xcc\x0d\x00\x0b"
# WHATWG MIME sniffing: tags that make a text body HTML when they open it.
_HTML_START = re.compile(
    rb"<(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p)"
    rb"[ >]|<!--",
    re.IGNORECASE,
)
_SVG = re.compile(rb"<svg[\s>]", re.IGNORECASE)
_XHTML = re.compile(rb"<html[\s>]", re.IGNORECASE)


def _pe(head: bytes) -> Match | None:
    if not head.startswith(b"MZ") or len(head) < 0x40:
        return None
    e_lfanew = u32le(head, 0x3C)
    if e_lfanew + 24 <= len(head) and head[e_lfanew : e_lfanew + 4] == b"PE\x00\x00":
        characteristics = u16le(head, e_lfanew + 22)
        kind = "PE dynamic-link library" if characteristics & 0x2000 else "PE executable"
        return Match(EXECUTABLE, "application/vnd.microsoft.portable-executable", kind)
    if is_binary(head[:0x40]):
        return Match(EXECUTABLE, "application/x-dosexec", "DOS/Windows executable (MZ)")
    return None


def _java_or_fat_macho(head: bytes) -> Match | None:
    if not head.startswith(b"\xca\xfe\xba\xbe") or len(head) < 8:
        return None
    # Java class files continue with a version whose major number is at least 45; a
    # universal Mach-O binary continues with its (small) count of architectures.
    if u32be(head, 4) >= 45:
        return Match(ACTIVE_CODE, "application/java-vm", "Java class file")
    return Match(EXECUTABLE, "application/x-mach-binary", "Mach-O universal binary")


def _ar(head: bytes) -> Match | None:
    if not head.startswith(b"!<arch>\n"):
        return None
    if head.startswith(b"debian-binary", 8):
        return Match(EXECUTABLE, "application/vnd.debian.binary-package", "Debian package")
    return Match(ARCHIVE, "application/x-archive", "ar archive")


def _bzip2(head: bytes) -> Match | None:
    if (
        head.startswith(b"BZh")
        and len(head) >= 10
        and 0x31 <= head[3] <= 0x39
        and head[4:10] in (b"\x31\x41\x59\x26\x53\x59", b"\x17\x72\x45\x38\x50\x90")
    ):
        return Match(ARCHIVE, "application/x-bzip2", "bzip2 compressed data")
    return None


def _tar(head: bytes) -> Match | None:
    if head[257:263] in (b"ustar\x00", b"ustar "):
        return Match(ARCHIVE, "application/x-tar", "tar archive")
    return None


def _swf(head: bytes) -> Match | None:
    if head[:3] in (b"FWS", b"CWS", b"ZWS") and len(head) >= 8 and is_binary(head[3:8]):
        return Match(ACTIVE_CODE, "application/x-shockwave-flash", "Flash (SWF)")
    return None


def _bmp(head: bytes) -> Match | None:
    if (
        head.startswith(b"BM")
        and len(head) >= 18
        and head[6:10] == b"\x00\x00\x00\x00"
        and u32le(head, 14) in (12, 16, 40, 52, 56, 64, 108, 124)
    ):
        return Match(IMAGE, "image/bmp", "BMP image")
    return None


def _ico(head: bytes) -> Match | None:
    if head.startswith(b"\x00\x00\x01\x00") and len(head) >= 10 and head[4] and not head[9]:
        return Match(IMAGE, "image/vnd.microsoft.icon", "Windows icon")
    return None


def _game_rom_headers(head: bytes) -> Match | None:
    if head[0x104:0x10C] == _GAMEBOY_LOGO:
        return Match(GAME, "application/x-gameboy-rom", "Game Boy ROM")
    if head[0x100:0x104] == b"SEGA":
        return Match(GAME, "application/x-genesis-rom", "Sega Mega Drive ROM")
    return None


def _pdf_after_junk(head: bytes) -> Match | None:
    # Readers accept the header anywhere in the first KiB, and so must the sniffer, or a
    # few junk bytes would disguise a PDF; a mention of it in running text does not count.
    at = head.find(b"%PDF-", 1, 1024)
    if at > 0 and head[at - 1 : at] in (b"\n", b"\r") and is_binary(head[:at]):
        return Match(DOCUMENT, "application/pdf", "PDF document (after leading bytes)")
    return None


def _web_binary(head: bytes) -> Match | None:
    # Web page parts with no place in the vocabulary: recognised, labelled unknown, so a
    # policy on downloads does not stop web applications and fonts.
    for magic, mime, detail in (
        (b"\x00asm", "application/wasm", "WebAssembly module"),
        (b"wOFF", "font/woff", "web font (WOFF)"),
        (b"wOF2", "font/woff2", "web font (WOFF2)"),
        (b"OTTO", "font/otf", "OpenType font"),
        (b"\x00\x01\x00\x00\x00", "font/ttf", "TrueType font"),
    ):
        if head.startswith(magic):
            return Match(UNKNOWN, mime, detail)
    return None


# Checked before the text test: each is specific enough to stand on its own. Each comes with
# the first bytes it can match at all (None: any, its signature lies further in), so that
# `identify` tries only the checks that could match; the order is what decides.
_SIGNATURE_CHECKS: tuple[tuple[Callable[[bytes], Match | None], bytes | None], ...] = (
    (zip_type, b"P"),
    (ole_type, b"\xd0"),
    (_pe, b"M"),
    (_java_or_fat_macho, b"\xca"),
    (riff_type, b"R"),
    (iff_type, b"F"),
    (iso_media_type, b"\x00"),
    (ogg_type, b"O"),
    (ebml_type, b"\x1a"),
    (_ar, b"!"),
    (_bzip2, b"B"),
    (_tar, None),
    (_swf, b"FCZ"),
    (_bmp, b"B"),
    (_ico, b"\x00"),
    (_web_binary, b"\x00wO"),
)
# Checked only on binary data: short or offset signatures that text could imitate.
_BINARY_CHECKS: tuple[tuple[Callable[[bytes], Match | None], bytes | None], ...] = (
    (_game_rom_headers, None),
    (_pdf_after_junk, None),
    (mpeg_audio_type, b"\xff"),
    (mpeg_ts_type, None),
    (old_quicktime_type, None),
)


def _shebang(text: bytes) -> Match:
    first = text.split(b"\n", 1)[0].rstrip(b"\r")[:80].decode("utf-8", "replace")
    shell = re.search(r"\b(?:ba|da|k|z|c|tc)?sh\b", first) is not None
    mime = "text/x-shellscript" if shell else "text/x-script"
    return Match(EXECUTABLE, mime, f"script ({first})")


def _text(head: bytes) -> Match | None:
    """Text, HTML, XML, SVG or a script, or None for binary data."""
    text = head
    if head.startswith((b"\xfe\xff", b"\xff\xfe")):
        encoding = "utf-16-be" if head[0] == 0xFE else "utf-16-le"
        text = head[2:].decode(encoding, "replace").encode("utf-8")
    elif head.startswith(b"\xef\xbb\xbf"):
        text = head[3:]
    elif is_binary(head):
        return None
    if text.startswith(b"#!"):
        return _shebang(text)
    start = text.lstrip(b"\t\n\x0c\r ")
    if start.startswith(b"<?xml") or start[:4].lower() == b"<svg":
        if _SVG.search(start):
            return Match(IMAGE, "image/svg+xml", "SVG image")
        if _XHTML.search(start):
            return Match(HTML, "application/xhtml+xml", "XHTML document", Strength.WEAK)
        return Match(TEXT, "application/xml", "XML document", Strength.WEAK)
    if _HTML_START.match(start):
        return Match(HTML, "text/html", "HTML document", Strength.WEAK)
    return Match(TEXT, "text/plain", "text", Strength.WEAK)


EMPTY = Match(UNKNOWN, "application/x-empty", "no content", Strength.WEAK)
BINARY = Match(UNKNOWN, "application/octet-stream", "binary data", Strength.WEAK)


# Formats that are text by nature: their signature counts even when all that follows is
# text. Any other signature made only of printable characters ("MAC ", "fLaC") counts only
# when binary data follows it, so a text starting with those letters stays text.
_TEXT_NATIVE = frozenset({b"%PDF-", b"{\\rtf", b"%!PS", b"#!AMR"})


def _printable(magic: bytes) -> bool:
    return all(0x20 <= b < 0x7F or b in b"\t\n\r" for b in magic)


_NEEDS_BINARY = frozenset(m for m, *_ in _PREFIXES if _printable(m) and m not in _TEXT_NATIVE)


_Entry = tuple[bytes, str, str, str]
_Check = Callable[[bytes], Match | None]


def _by_first_byte(
    checks: tuple[tuple[_Check, bytes | None], ...],
) -> tuple[tuple[_Check, ...], ...]:
    return tuple(
        tuple(check for check, first in checks if first is None or byte in first)
        for byte in range(256)
    )


# The same tables, split by the first byte of the head (order kept): a body is looked at
# on every inspected response, and most first bytes rule out almost every signature.
_PREFIXES_BY_FIRST: tuple[tuple[_Entry, ...], ...] = tuple(
    tuple(entry for entry in _PREFIXES if entry[0][0] == byte) for byte in range(256)
)
_SIGNATURES_BY_FIRST = _by_first_byte(_SIGNATURE_CHECKS)
_BINARY_BY_FIRST = _by_first_byte(_BINARY_CHECKS)


def identify(head: bytes) -> Match:
    """What `head` (the first bytes of a body) is, by its content alone."""
    if not head:
        return EMPTY
    first = head[0]
    for magic, label, mime, detail in _PREFIXES_BY_FIRST[first]:
        if head.startswith(magic):
            if magic in _NEEDS_BINARY and not is_binary(head[:1024]):
                break
            return Match(label, mime, detail)
    for check in _SIGNATURES_BY_FIRST[first]:
        found = check(head)
        if found is not None:
            return found
    text = _text(head)
    if text is not None:
        return text
    for check in _BINARY_BY_FIRST[first]:
        found = check(head)
        if found is not None:
            return found
    return BINARY
