"""Audio and video containers whose signature needs a second look: RIFF, IFF, ISO base
media (MP4 and relatives), Ogg, EBML (WebM, Matroska), MPEG audio frames and transport
streams."""

from __future__ import annotations

from webwarden.inspection.labels import AUDIO, IMAGE, VIDEO
from webwarden.inspection.match import Match


def riff_type(head: bytes) -> Match | None:
    if not head.startswith(b"RIFF") or len(head) < 12:
        return None
    return {
        b"WAVE": Match(AUDIO, "audio/wav", "WAV audio"),
        b"AVI ": Match(VIDEO, "video/x-msvideo", "AVI video"),
        b"WEBP": Match(IMAGE, "image/webp", "WebP image"),
        b"RMID": Match(AUDIO, "audio/midi", "MIDI (RIFF)"),
        b"CDXA": Match(VIDEO, "video/mpeg", "Video CD"),
    }.get(head[8:12])


def iff_type(head: bytes) -> Match | None:
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return Match(AUDIO, "audio/aiff", "AIFF audio")
    return None


_FTYP_AUDIO = (b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ")
_FTYP_IMAGE = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"hevc": "image/heic-sequence",
    b"mif1": "image/heif",
    b"msf1": "image/heif-sequence",
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"crx ": "image/x-canon-cr3",
}


def iso_media_type(head: bytes) -> Match | None:
    """ISO base media (MP4, MOV, M4A, 3GP, HEIF, AVIF): the `ftyp` box names a brand."""
    if head[4:8] != b"ftyp" or len(head) < 12 or head[0] != 0:
        return None
    brand = head[8:12]
    if brand in _FTYP_AUDIO:
        return Match(AUDIO, "audio/mp4", "MPEG-4 audio")
    if brand in _FTYP_IMAGE:
        return Match(IMAGE, _FTYP_IMAGE[brand], "HEIF/AVIF image")
    if brand == b"qt  ":
        return Match(VIDEO, "video/quicktime", "QuickTime video")
    if brand.startswith(b"3g"):
        return Match(VIDEO, "video/3gpp", "3GPP video")
    return Match(VIDEO, "video/mp4", "MPEG-4 video")


_OGG_STREAMS = (
    (b"\x01vorbis", Match(AUDIO, "audio/ogg", "Ogg Vorbis audio")),
    (b"OpusHead", Match(AUDIO, "audio/ogg", "Ogg Opus audio")),
    (b"\x7fFLAC", Match(AUDIO, "audio/ogg", "Ogg FLAC audio")),
    (b"Speex   ", Match(AUDIO, "audio/ogg", "Ogg Speex audio")),
    (b"\x80theora", Match(VIDEO, "video/ogg", "Ogg Theora video")),
    (b"fishead\x00", Match(VIDEO, "video/ogg", "Ogg video (skeleton)")),
)


def ogg_type(head: bytes) -> Match | None:
    if not head.startswith(b"OggS"):
        return None
    for marker, match in _OGG_STREAMS:
        if head.startswith(marker, 28):
            return match
    return Match(AUDIO, "audio/ogg", "Ogg media")


def ebml_type(head: bytes) -> Match | None:
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    if b"webm" in head[:64]:
        return Match(VIDEO, "video/webm", "WebM video")
    return Match(VIDEO, "video/x-matroska", "Matroska video")


def mpeg_audio_type(head: bytes) -> Match | None:
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    layer, version = (head[1] >> 1) & 3, (head[1] >> 3) & 3
    if layer == 0:
        if head[1] & 0xF6 == 0xF0 and (head[2] >> 2) & 0xF < 13:
            return Match(AUDIO, "audio/aac", "AAC audio (ADTS)")
        return None
    if version == 1 or head[2] >> 4 == 15 or (head[2] >> 2) & 3 == 3:
        return None
    return Match(AUDIO, "audio/mpeg", "MPEG audio (MP3)")


def mpeg_ts_type(head: bytes) -> Match | None:
    # Three packets in a row start with the sync byte (spelt out: runs on every binary body).
    n = len(head)
    for first, size in ((0, 188), (4, 192)):
        if (
            n > first + 2 * size
            and head[first] == 0x47
            and head[first + size] == 0x47
            and head[first + 2 * size] == 0x47
        ):
            return Match(VIDEO, "video/mp2t", "MPEG transport stream")
    return None


def old_quicktime_type(head: bytes) -> Match | None:
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return Match(VIDEO, "video/quicktime", "QuickTime video")
    return None
