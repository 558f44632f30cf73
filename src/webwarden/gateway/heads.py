"""Building the heads the gateway writes: requests to origins, responses to clients.

What is never forwarded, either way: the hop-by-hop fields (Connection and every field it
names, Keep-Alive, Proxy-Authorization, Proxy-Authenticate, Proxy-Connection, TE, Trailer,
Transfer-Encoding, Upgrade) and the framing (Content-Length), which the gateway writes
itself for the body it actually sends. Requests get `Via: 1.1 webwarden` (no version) and
nothing else about the gateway or the client; the covert profile (W3) adds nothing and takes
away every field that could identify the organisation or the client.
"""

from __future__ import annotations

from http import HTTPStatus

from webwarden.gateway.http1 import HOP_BY_HOP, RequestHead
from webwarden.gateway.target import Target

VIA = b"1.1 webwarden"

# Fields that would tell a site who is asking or through what (REQUIREMENTS W3).
IDENTIFYING = frozenset(
    {
        b"via",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-proto",
        b"forwarded",
        b"x-real-ip",
        b"client-ip",
        b"true-client-ip",
        b"x-client-ip",
        b"x-originating-ip",
        b"from",
    }
)
_NEVER_FORWARDED = HOP_BY_HOP | {b"content-length", b"host", b"expect"}
_VIA = frozenset({b"via"})
_RESPONSE_DROPPED = HOP_BY_HOP | {b"content-length"}
_COVERT_LOOK = IDENTIFYING | {b"referer"}

REASONS = {s.value: s.phrase.encode("ascii") for s in HTTPStatus}


def _same_site(referer: bytes, host: str) -> bool:
    """Is the Referer a page of the host being requested (or a subdomain of it)?"""
    rest = referer.partition(b"://")[2]
    ref_host = rest.split(b"/", 1)[0].rsplit(b"@", 1)[-1].split(b":", 1)[0].lower()
    target = host.encode("ascii", "replace")
    return ref_host == target or target.endswith(b"." + ref_host) or ref_host.endswith(
        b"." + target
    )


def upstream_request_head(
    req: RequestHead, target: Target, *, covert: bool, body: str
) -> bytes:
    """The head sent to the origin. `body` is "none", "length" or "chunked". The client's
    field lines are forwarded as they came, in their order, except those never forwarded."""
    dropped = _NEVER_FORWARDED | req.connection_tokens if req.connection_tokens else (
        _NEVER_FORWARDED
    )
    # Lines that need a second look: Via (merged into the gateway's own) and, covert, the
    # identifying ones and Referer (kept only when same-site).
    look = _COVERT_LOOK if covert else _VIA
    raw = req.raw
    kept: list[bytes] = []
    via: list[bytes] = []
    names = req.field_names
    if names:
        lines = raw[raw.find(b"\r\n") + 2 : -4].split(b"\r\n")
        for name, line in zip(names, lines, strict=True):
            if name in dropped:
                continue
            if name in look:
                value = line.partition(b":")[2].strip(b" \t")
                if name == b"via":
                    via.append(value)
                    continue
                if name != b"referer" or not _same_site(value, target.host):
                    continue
            kept.append(line)
    parts = [
        req.method.encode("ascii"),
        b" ",
        target.path.encode("ascii"),
        b" HTTP/1.1\r\nHost: ",
        target.authority.encode("ascii"),
        b"\r\n",
    ]
    if kept:
        kept.append(b"")
        parts.append(b"\r\n".join(kept))
    if not covert:
        via.append(VIA)
        parts += (b"Via: ", b", ".join(via), b"\r\n")
    if body == "length":
        parts += (b"Content-Length: ", str(req.content_length).encode("ascii"), b"\r\n")
    elif body == "chunked":
        parts.append(b"Transfer-Encoding: chunked\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


def client_response_head(
    status: int,
    reason: bytes,
    headers: list[tuple[bytes, bytes]],
    *,
    framing: str,
    keep_alive: bool,
    client_version: tuple[int, int],
    covert: bool,
) -> tuple[bytes, str]:
    """The head sent to the client for an origin's response, and how the body is framed
    towards the client: "length" (as the origin said), "chunked", "close" or "none"."""
    fields = dict(headers)  # the last value of each name
    dropped = _RESPONSE_DROPPED
    if b"connection" in fields:
        tokens = {
            t.strip().lower()
            for name, value in headers
            if name == b"connection"
            for t in value.split(b",")
        }
        dropped = dropped | tokens
    content_length = fields.get(b"content-length", b"")
    if framing == "length" and not content_length.strip().isdigit():
        framing = "close"
    out_framing = framing
    if framing in ("chunked", "close"):
        out_framing = "chunked" if client_version >= (1, 1) else "close"
    if out_framing == "close":
        keep_alive = False
    parts = [b"HTTP/1.1 ", str(status).encode("ascii"), b" ", reason or REASONS.get(status, b""),
             b"\r\n"]
    if not covert and b"via" not in fields:
        # The usual case: every field passes as it is but the hop-by-hop ones.
        lines = [b": ".join(field) for field in headers if field[0] not in dropped]
        if lines:
            lines.append(b"")
            parts.append(b"\r\n".join(lines))
        parts.append(b"via: " + VIA + b"\r\n")
    else:
        via: list[bytes] = []
        for name, value in headers:
            if name in dropped:
                continue
            if name == b"via":
                via.append(value)
                continue
            if covert and name in IDENTIFYING:
                continue
            parts += (name, b": ", value, b"\r\n")
        if not covert:
            via.append(VIA)
            parts += (b"via: ", b", ".join(via), b"\r\n")
    if framing == "length" or (framing == "none" and content_length):
        parts += (b"content-length: ", content_length.strip(), b"\r\n")
    elif out_framing == "chunked":
        parts.append(b"transfer-encoding: chunked\r\n")
    if not keep_alive:
        parts.append(b"connection: close\r\n")
    elif client_version < (1, 1):
        parts.append(b"connection: keep-alive\r\n")
    parts.append(b"\r\n")
    return b"".join(parts), out_framing


def local_response(
    status: int,
    body: bytes,
    *,
    content_type: bytes = b"text/html; charset=utf-8",
    keep_alive: bool = True,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> bytes:
    """A whole response the gateway makes itself (pages, errors). Never cached, and it
    says nothing about the gateway's software or version."""
    parts = [
        b"HTTP/1.1 ",
        str(status).encode("ascii"),
        b" ",
        REASONS.get(status, b"Error"),
        b"\r\nServer: webwarden\r\nContent-Type: ",
        content_type,
        b"\r\nContent-Length: ",
        str(len(body)).encode("ascii"),
        b"\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
    ]
    if content_type.startswith(b"text/html"):
        # Our pages need no script and load nothing from anywhere. No form-action: browsers
        # apply it to the redirect after the notice's Accept form too, which would stop the
        # person from getting back to the page they asked for.
        parts.append(
            b"Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; "
            b"base-uri 'none'\r\n"
        )
    for name, value in extra or ():
        parts += (name, b": ", value, b"\r\n")
    if not keep_alive:
        parts.append(b"Connection: close\r\n")
    parts += (b"\r\n", body)
    return b"".join(parts)


def header_safe(text: str, limit: int = 300) -> bytes:
    """Text fit for a header value: printable ASCII only, no CR/LF, bounded length."""
    out = "".join(c if " " <= c <= "~" else " " for c in text)
    return " ".join(out.split())[:limit].encode("ascii")
