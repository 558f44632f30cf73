"""Content-Type parameters and bytes to text with the declared charset."""

from __future__ import annotations

import codecs
import email.message
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ContentType:
    """A parsed Content-Type: `media` is lower case ("" when there was none)."""

    media: str
    charset: str | None
    boundary: str | None


def parse_content_type(value: str | None) -> ContentType:
    """The media type, charset and boundary of a Content-Type header value; the email
    package's parser copes with quoting, comments and RFC 2231 parameters."""
    if not value or not value.strip():
        return ContentType("", None, None)
    message = email.message.Message()
    message["content-type"] = value
    media = value.split(";", 1)[0].strip().lower()
    charset = message.get_param("charset")
    boundary = message.get_boundary()
    return ContentType(
        media if "/" in media else "",
        charset.strip().lower() if isinstance(charset, str) and charset.strip() else None,
        boundary or None,
    )


def _codec(charset: str | None) -> str:
    if charset:
        try:
            name = codecs.lookup(charset).name
        except LookupError:
            return "utf-8"  # an unknown charset is read as UTF-8, the web's default
        # Browsers send windows-1252 when they label a body latin-1 or ASCII (WHATWG
        # Encoding), so 0x80-0x9F are the euro sign and quotes, not control characters.
        return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name
    return "utf-8"


def decode_text(data: bytes, charset: str | None = None) -> str:
    """Text of `data`: a byte order mark wins over the declared charset (as browsers do),
    then the charset, then UTF-8; undecodable bytes become U+FFFD, never an error."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", "replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace")  # the codec reads the BOM's byte order
    codec = _codec(charset)
    if codec == "utf-16":
        codec = "utf-16-le"  # declared UTF-16 without a BOM: little-endian, as Windows sends
    return data.decode(codec, "replace")


def looks_like_utf8_text(data: bytes) -> bool:
    """True when `data` (possibly cut mid-character at the end) is UTF-8 without control
    characters other than whitespace: the test for sniffing an untyped body as text."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as problem:
        if problem.start < len(data) - 3 or problem.reason != "unexpected end of data":
            return False
        text = data[: problem.start].decode("utf-8")
    return not any(ord(c) < 32 and c not in "\t\n\r\f" for c in text)
