"""Building the heads the gateway writes: requests to origins, responses to clients.

What is never forwarded, either way: the hop-by-hop fields (Connection and every field it
names, Keep-Alive, Proxy-Authorization, Proxy-Authenticate, Proxy-Connection, TE, Trailer,
Transfer-Encoding, Upgrade) and the framing (Content-Length), which the gateway writes
itself for the body it actually sends. Requests get `Via: 1.1 webwarden` (no version) and
nothing else about the gateway or the client.

The covert profile (W3: a covert workstation must not reveal the organisation) adds nothing
about the gateway and takes away every field that could identify the organisation, the
gateway or the client: forwarding and client-address fields, proxy tell-tales, From,
Max-Forwards, the browser's client hints, a Referer that is not same-site or that names an
internal host, an Origin that names an internal host. User-Agent and Accept-Language are
replaced by fixed common values (configurable), so every covert device looks the same.
"""

from __future__ import annotations

import ipaddress
from http import HTTPStatus

from webwarden.gateway.http1 import HOP_BY_HOP, RequestHead
from webwarden.gateway.target import Target

VIA = b"1.1 webwarden"

# What covert requests say instead of the browser's own: a current mainstream desktop
# Chrome on Windows (the commonest browser there is) and British English.
COVERT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)
COVERT_ACCEPT_LANGUAGE = "en-GB,en;q=0.9"

# Fields that would tell a site who is asking or through what (REQUIREMENTS W3).
IDENTIFYING = frozenset(
    {
        b"via",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-proto",
        b"x-forwarded-port",
        b"x-forwarded-server",
        b"forwarded",
        b"x-real-ip",
        b"client-ip",
        b"true-client-ip",
        b"x-client-ip",
        b"x-cluster-client-ip",
        b"x-originating-ip",
        b"x-remote-ip",
        b"x-remote-addr",
        b"cf-connecting-ip",
        b"fastly-client-ip",
        b"x-proxy-id",
        b"x-bluecoat-via",
        b"x-authenticated-user",
        b"x-authenticated-groups",
        b"x-client-username",
        b"from",
    }
)
# Covert requests also lose these: Max-Forwards (a decremented count shows a proxy hop),
# and the values replaced by the fixed ones below.
_COVERT_DROPPED = IDENTIFYING | {b"max-forwards"}
# Whole families: every X-Forwarded-*, anything the gateway or another proxy named after
# itself, and the browser's client hints (platform, model, versions: they would contradict
# the fixed User-Agent and single the device out).
_COVERT_DROPPED_PREFIXES = (b"x-forwarded-", b"x-webwarden-", b"x-bluecoat-", b"x-proxy-",
                            b"sec-ch-ua")
# Host names that only mean something inside an organisation (RFC 6761, RFC 8375, common
# intranet suffixes, the UK police national network).
_INTERNAL_SUFFIXES = (b".local", b".localdomain", b".localhost", b".internal", b".intranet",
                      b".lan", b".corp", b".home", b".home.arpa", b".invalid", b".test",
                      b".pnn.police.uk")
_NEVER_FORWARDED = HOP_BY_HOP | {b"content-length", b"host", b"expect"}
_VIA = frozenset({b"via"})
_RESPONSE_DROPPED = HOP_BY_HOP | {b"content-length"}

REASONS = {s.value: s.phrase.encode("ascii") for s in HTTPStatus}


def _url_host(url: bytes) -> bytes:
    """The host of an absolute URL (as in Referer and Origin), lower case, no port."""
    rest = url.partition(b"://")[2]
    authority = rest.split(b"/", 1)[0].split(b"?", 1)[0].split(b"#", 1)[0]
    host = authority.rsplit(b"@", 1)[-1].lower()
    if host.startswith(b"["):
        return host[1:].split(b"]", 1)[0]
    return host.split(b":", 1)[0]


def internal_host(host: bytes) -> bool:
    """Would naming this host tell a site about the organisation's own network: a private,
    loopback or otherwise non-public address, a single-label (intranet) name, an internal
    suffix, or the gateway's pages host?"""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        name = host.rstrip(b".")
        return b"." not in name or name.endswith(_INTERNAL_SUFFIXES)
    return not address.is_global


def _same_site(referer: bytes, host: str) -> bool:
    """Is the Referer a page of the host being requested (or a subdomain of it)?"""
    ref_host = _url_host(referer)
    target = host.encode("ascii", "replace")
    return ref_host == target or target.endswith(b"." + ref_host) or ref_host.endswith(
        b"." + target
    )


def upstream_request_head(
    req: RequestHead,
    target: Target,
    *,
    covert: bool,
    body: str,
    user_agent: bytes = COVERT_USER_AGENT.encode("ascii"),
    accept_language: bytes = COVERT_ACCEPT_LANGUAGE.encode("ascii"),
) -> bytes:
    """The head sent to the origin. `body` is "none", "length" or "chunked". The client's
    field lines are forwarded as they came, in their order, except those never forwarded.
    Covert, the identifying ones go too, and `user_agent` and `accept_language` (header-safe
    values: see `header_safe`) stand in for the browser's own."""
    if covert:
        return _covert_request_head(req, target, body, user_agent, accept_language)
    dropped = _NEVER_FORWARDED | req.connection_tokens if req.connection_tokens else (
        _NEVER_FORWARDED
    )
    raw = req.raw
    kept: list[bytes] = []
    via: list[bytes] = []
    names = req.field_names
    if names:
        lines = raw[raw.find(b"\r\n") + 2 : -4].split(b"\r\n")
        for name, line in zip(names, lines, strict=True):
            if name in dropped:
                continue
            if name in _VIA:  # merged into the gateway's own
                via.append(line.partition(b":")[2].strip(b" \t"))
                continue
            kept.append(line)
    # Written out rather than shared with the covert head: this is the hot path.
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
    via.append(VIA)
    parts += (b"Via: ", b", ".join(via), b"\r\n")
    if body == "length":
        parts += (b"Content-Length: ", str(req.content_length).encode("ascii"), b"\r\n")
    elif body == "chunked":
        parts.append(b"Transfer-Encoding: chunked\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


def _request_line(req: RequestHead, target: Target) -> list[bytes]:
    return [
        req.method.encode("ascii"),
        b" ",
        target.path.encode("ascii"),
        b" HTTP/1.1\r\nHost: ",
        target.authority.encode("ascii"),
        b"\r\n",
    ]


def _framing(parts: list[bytes], req: RequestHead, body: str) -> None:
    if body == "length":
        parts += (b"Content-Length: ", str(req.content_length).encode("ascii"), b"\r\n")
    elif body == "chunked":
        parts.append(b"Transfer-Encoding: chunked\r\n")
    parts.append(b"\r\n")


def _covert_request_head(
    req: RequestHead, target: Target, body: str, user_agent: bytes, accept_language: bytes
) -> bytes:
    """The covert profile's head (W3): see the module's docstring for what goes."""
    dropped = _NEVER_FORWARDED | req.connection_tokens
    raw = req.raw
    kept: list[bytes] = []
    ua_line = b"User-Agent: " + user_agent
    language_line = b"Accept-Language: " + accept_language
    ua_sent = language_sent = False
    names = req.field_names
    lines = raw[raw.find(b"\r\n") + 2 : -4].split(b"\r\n") if names else []
    for name, line in zip(names, lines, strict=True):
        if name in dropped or name in _COVERT_DROPPED or name.startswith(
            _COVERT_DROPPED_PREFIXES
        ):
            continue
        # The fixed values take the place of the browser's first, so the order of the
        # fields stays the browser's.
        if name == b"user-agent":
            if not ua_sent:
                kept.append(ua_line)
                ua_sent = True
            continue
        if name == b"accept-language":
            if not language_sent:
                kept.append(language_line)
                language_sent = True
            continue
        if name == b"referer":
            value = line.partition(b":")[2].strip(b" \t")
            if not _same_site(value, target.host) or internal_host(_url_host(value)):
                continue
        elif name == b"origin" and internal_host(
            _url_host(line.partition(b":")[2].strip(b" \t"))
        ):
            continue
        kept.append(line)
    if not ua_sent:
        kept.append(ua_line)
    if not language_sent:
        kept.append(language_line)
    kept.append(b"")
    parts = _request_line(req, target)
    parts.append(b"\r\n".join(kept))
    _framing(parts, req, body)
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
