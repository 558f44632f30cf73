"""Strict HTTP/1.1 request heads (RFC 9112), sans I/O.

Requests are parsed here rather than by httptools because a proxy must *refuse* an
ambiguous request, never normalise it, and must know exactly where one request ends and the
next pipelined one begins. One regular expression validates the whole head in C; the rest
is splitting. Anything the grammar does not allow is a 400: obsolete line folding, bare CR
or LF, control characters, whitespace before the colon, a Transfer-Encoding other than
`chunked`, Transfer-Encoding together with Content-Length, a repeated or non-numeric
Content-Length, a repeated or missing Host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

MAX_URI_BYTES = 8192
MAX_HEAD_BYTES = 65536

_TCHAR = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
_REQUEST_LINE = rb"(" + _TCHAR + rb"+) ([\x21-\x7e]+) HTTP/([0-9])\.([0-9])\r\n"
# field-name ":" OWS field-value OWS; the value may hold SP, HTAB, VCHAR and obs-text only.
_FIELD_LINE = _TCHAR + rb"+:[\t \x21-\x7e\x80-\xff]*\r\n"
_HEAD_RE = re.compile(_REQUEST_LINE + rb"(?:" + _FIELD_LINE + rb")*\r\n")
_DIGITS_RE = re.compile(rb"[0-9]{1,18}")

_FRAMING_INITIALS = b"cth"  # content-length, transfer-encoding, host

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authorization",
        b"proxy-authenticate",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


class HttpError(Exception):
    """A request the gateway refuses: the status to answer and a reason for people."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


class Header(NamedTuple):
    """One field line: lower-cased name, trimmed value, and the raw line for forwarding.
    (A named tuple: one is made per header line, and tuples are the cheapest to make.)"""

    name: bytes
    value: bytes
    line: bytes


@dataclass(slots=True)
class RequestHead:
    """A validated request head. `content_length` is None when there is no body or the body
    is chunked (`chunked` True). Treated as immutable once parsed."""

    method: str
    target: str
    version: tuple[int, int]
    headers: tuple[Header, ...]
    content_length: int | None
    chunked: bool
    host: str | None
    keep_alive: bool
    size: int

    def get(self, name: bytes) -> bytes | None:
        """The value of the first header called `name` (lower case), or None."""
        for h in self.headers:
            if h.name == name:
                return h.value
        return None

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.content_length)

    @property
    def connection_tokens(self) -> frozenset[bytes]:
        """Tokens of Connection (and the obsolete Proxy-Connection), lower case."""
        return _connection_tokens(self.headers)


def find_head_end(buffer: bytes | bytearray, start: int = 0) -> int:
    """The index just past the blank line that ends a head, or -1 if it is not all in yet."""
    end = buffer.find(b"\r\n\r\n", start)
    return -1 if end < 0 else end + 4


def check_incomplete(buffer: bytes | bytearray) -> None:
    """Refuse a head that is still incomplete but already cannot be acceptable: too big,
    or with a line ended by a bare LF (it would never be completed by CRLF CRLF)."""
    lf = buffer.find(b"\n")
    while lf >= 0:
        if lf == 0 or buffer[lf - 1] != 13:
            raise HttpError(400, "A line of the request head ends with a bare LF.")
        lf = buffer.find(b"\n", lf + 1)
    line_end = buffer.find(b"\r\n")
    if (line_end < 0 and len(buffer) > MAX_URI_BYTES) or line_end > MAX_URI_BYTES:
        raise HttpError(414, "The request target is too long.")
    if len(buffer) > MAX_HEAD_BYTES:
        raise HttpError(431, "The request header fields are too large.")


def skip_leading_blank_lines(buffer: bytearray) -> None:
    """RFC 9112 2.2: ignore empty lines received before a request line (some clients send
    an extra CRLF after a body)."""
    n = 0
    while buffer.startswith(b"\r\n", n):
        n += 2
    if n:
        del buffer[:n]


def parse_request_head(head: bytes) -> RequestHead:
    """Parse one complete head (request line to blank line inclusive) or raise HttpError."""
    line_end = head.find(b"\r\n")
    if line_end > MAX_URI_BYTES:
        raise HttpError(414, "The request target is too long.")
    if len(head) > MAX_HEAD_BYTES:
        raise HttpError(431, "The request header fields are too large.")
    match = _HEAD_RE.fullmatch(head)
    if match is None:
        raise HttpError(400, _diagnose(head))
    method = match.group(1).decode("ascii")
    target = match.group(2).decode("ascii")
    version = (int(match.group(3)), int(match.group(4)))
    if version[0] != 1:
        raise HttpError(505, "Only HTTP/1.0 and HTTP/1.1 are spoken here.")
    headers: list[Header] = []
    content_lengths: list[bytes] = []
    transfer_encodings: list[bytes] = []
    hosts: list[bytes] = []
    for line in head[line_end + 2 : -4].split(b"\r\n") if len(head) > line_end + 4 else ():
        name, _, value = line.partition(b":")
        name = name.lower()
        value = value.strip(b" \t")
        if name[0] not in _FRAMING_INITIALS:
            pass
        elif name == b"content-length":
            content_lengths.append(value)
        elif name == b"transfer-encoding":
            transfer_encodings.append(value)
        elif name == b"host":
            hosts.append(value)
        headers.append(Header(name, value, line + b"\r\n"))
    content_length: int | None = None
    chunked = False
    if transfer_encodings:
        if content_lengths:
            raise HttpError(400, "Transfer-Encoding and Content-Length together are refused.")
        if version < (1, 1):
            raise HttpError(400, "Transfer-Encoding is not allowed in an HTTP/1.0 request.")
        if len(transfer_encodings) != 1 or transfer_encodings[0].lower() != b"chunked":
            raise HttpError(400, "The only Transfer-Encoding accepted is 'chunked'.")
        chunked = True
    elif content_lengths:
        if len(content_lengths) != 1:
            raise HttpError(400, "Content-Length is repeated.")
        if _DIGITS_RE.fullmatch(content_lengths[0]) is None:
            raise HttpError(400, "Content-Length is not a decimal number.")
        content_length = int(content_lengths[0])
    if len(hosts) > 1:
        raise HttpError(400, "Host is repeated.")
    if not hosts and version >= (1, 1):
        raise HttpError(400, "An HTTP/1.1 request must carry a Host header.")
    host = hosts[0].decode("latin-1") if hosts else None
    tokens = _connection_tokens(headers)
    keep_alive = b"close" not in tokens if version >= (1, 1) else b"keep-alive" in tokens
    return RequestHead(
        method=method,
        target=target,
        version=version,
        headers=tuple(headers),
        content_length=content_length,
        chunked=chunked,
        host=host,
        keep_alive=keep_alive,
        size=len(head),
    )


def _connection_tokens(headers: list[Header] | tuple[Header, ...]) -> frozenset[bytes]:
    tokens: set[bytes] = set()
    for h in headers:
        if h.name in (b"connection", b"proxy-connection"):
            tokens.update(t.strip().lower() for t in h.value.split(b","))
    tokens.discard(b"")
    return frozenset(tokens)


def _diagnose(head: bytes) -> str:
    """Say which part of a head broke the grammar (for the error page and the log)."""
    lines = head[:-4].split(b"\r\n")
    if re.fullmatch(_REQUEST_LINE, lines[0] + b"\r\n") is None:
        return "The request line is malformed."
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            return "Obsolete line folding is refused."
        if b"\r" in line or b"\n" in line:
            return "A bare CR or LF in the header block is refused."
        if re.fullmatch(_FIELD_LINE, line + b"\r\n") is None:
            if re.match(_TCHAR + rb"+[ \t]+:", line):
                return "Whitespace between a header name and its colon is refused."
            return "A header line is malformed or carries control characters."
    return "The request head is malformed."
