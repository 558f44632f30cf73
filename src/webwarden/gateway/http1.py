"""Strict HTTP/1.1 request heads (RFC 9112), sans I/O.

Requests are parsed here rather than by httptools because a proxy must *refuse* an
ambiguous request, never normalise it, and must know exactly where one request ends and the
next pipelined one begins. One regular expression validates the whole head in C; the rest
is reading it in place (see `RequestHead`). Anything the grammar does not allow is a 400:
obsolete line folding, bare CR or LF, control characters, whitespace before the colon, a
Transfer-Encoding other than `chunked`, Transfer-Encoding together with Content-Length, a
repeated or non-numeric Content-Length, a repeated or missing Host.
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


# Where a field starts in a lower-cased head, for the names the gateway looks up.
_MARKERS = {
    name: b"\n" + name + b":"
    for name in (b"host", b"proxy-authorization", b"expect", b"content-length",
                 b"transfer-encoding", b"connection", b"proxy-connection")
}


class HttpError(Exception):
    """A request the gateway refuses: the status to answer and a reason for people."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


class Header(NamedTuple):
    """One field line: lower-cased name, trimmed value, and the raw line for forwarding."""

    name: bytes
    value: bytes
    line: bytes


@dataclass(slots=True)
class RequestHead:
    """A validated request head. `content_length` is None when there is no body or the body
    is chunked (`chunked` True). Treated as immutable once parsed.

    The fields stay in `raw`, the head as received: the hot path needs only a few of them
    (framing, Host, Proxy-Authorization) and forwards most lines unchanged, so lines are
    not split into objects. `lower` is `raw` in lower case (same offsets): a field named
    `n` starts wherever `\\n` + n + `:` occurs in it, since a validated head has no LF but
    at line ends and no white space before a colon. `field_names` are the lower-case names
    of the field lines in order, `names` the same as a set."""

    method: str
    target: str
    version: tuple[int, int]
    raw: bytes
    lower: bytes
    field_names: list[bytes]
    names: frozenset[bytes]
    content_length: int | None
    chunked: bool
    host: str | None
    keep_alive: bool
    connection_tokens: frozenset[bytes]

    @property
    def size(self) -> int:
        return len(self.raw)

    def get(self, name: bytes) -> bytes | None:
        """The value of the first header called `name` (lower case), or None."""
        if name not in self.names:
            return None
        marker = _MARKERS.get(name) or b"\n" + name + b":"
        raw = self.raw
        start = self.lower.find(marker) + len(marker)
        return raw[start : raw.find(b"\r\n", start)].strip(b" \t")

    def values(self, name: bytes) -> list[bytes]:
        """The values of every header called `name` (lower case), in order."""
        found: list[bytes] = []
        if name not in self.names:
            return found
        marker = b"\n" + name + b":"
        raw, at = self.raw, self.lower.find(marker)
        while at >= 0:
            start = at + len(marker)
            end = raw.find(b"\r\n", start)
            found.append(raw[start:end].strip(b" \t"))
            at = self.lower.find(marker, end)
        return found

    @property
    def headers(self) -> tuple[Header, ...]:
        """Every field line, split (for pages and tests; the hot path does not need it)."""
        out: list[Header] = []
        first = self.raw.find(b"\r\n") + 2
        for line in self.raw[first:-4].split(b"\r\n") if len(self.raw) > first + 2 else ():
            name, _, value = line.partition(b":")
            out.append(Header(name.lower(), value.strip(b" \t"), line + b"\r\n"))
        return tuple(out)

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.content_length)


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


_VERSIONS = {(b"1", b"0"): (1, 0), (b"1", b"1"): (1, 1)}
_METHODS = {m.encode("ascii"): m for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT",
                                           "OPTIONS", "PATCH", "TRACE")}
# Field names of a lower-cased head: every line start, up to the colon.
_NAMES_RE = re.compile(rb"\n([^:]+):")
_NO_TOKENS: frozenset[bytes] = frozenset()


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
    raw_method, raw_target, major, minor = match.group(1, 2, 3, 4)
    version = _VERSIONS.get((major, minor))
    if version is None:
        version = (int(major), int(minor))
        if version[0] != 1:
            raise HttpError(505, "Only HTTP/1.0 and HTTP/1.1 are spoken here.")
    method = _METHODS.get(raw_method) or raw_method.decode("ascii")
    lower = head.lower()
    found = _NAMES_RE.findall(lower, line_end)
    names = frozenset(found)
    req = RequestHead(method, raw_target.decode("ascii"), version, head, lower, found, names,
                      None, False, None, True, _NO_TOKENS)
    if b"transfer-encoding" in names:
        if b"content-length" in names:
            raise HttpError(400, "Transfer-Encoding and Content-Length together are refused.")
        if version < (1, 1):
            raise HttpError(400, "Transfer-Encoding is not allowed in an HTTP/1.0 request.")
        encodings = req.values(b"transfer-encoding")
        if len(encodings) != 1 or encodings[0].lower() != b"chunked":
            raise HttpError(400, "The only Transfer-Encoding accepted is 'chunked'.")
        req.chunked = True
    elif b"content-length" in names:
        lengths = req.values(b"content-length")
        if len(lengths) != 1:
            raise HttpError(400, "Content-Length is repeated.")
        if _DIGITS_RE.fullmatch(lengths[0]) is None:
            raise HttpError(400, "Content-Length is not a decimal number.")
        req.content_length = int(lengths[0])
    if b"host" in names:
        if found.count(b"host") > 1:
            raise HttpError(400, "Host is repeated.")
        host = req.get(b"host")
        assert host is not None
        req.host = host.decode("latin-1")
    elif version >= (1, 1):
        raise HttpError(400, "An HTTP/1.1 request must carry a Host header.")
    if b"connection" in names or b"proxy-connection" in names:
        tokens: set[bytes] = set()
        for name in (b"connection", b"proxy-connection"):
            for value in req.values(name):
                tokens.update(t.strip() for t in value.lower().split(b","))
        tokens.discard(b"")
        req.connection_tokens = frozenset(tokens)
    tokens_ = req.connection_tokens
    req.keep_alive = b"close" not in tokens_ if version >= (1, 1) else b"keep-alive" in tokens_
    return req


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
