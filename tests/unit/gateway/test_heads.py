"""What the gateway writes: hop-by-hop fields never pass, covert requests carry nothing
identifying, framing is always the gateway's own."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from webwarden.gateway.heads import (
    _NEVER_FORWARDED,
    COVERT_ACCEPT_LANGUAGE,
    COVERT_USER_AGENT,
    IDENTIFYING,
    REASONS,
    VIA,
    _same_site,
    client_response_head,
    header_safe,
    local_response,
    upstream_request_head,
)
from webwarden.gateway.http1 import HOP_BY_HOP, RequestHead, parse_request_head
from webwarden.gateway.target import Target, parse_target

REQUEST = (
    b"POST http://site.example/form?x=1 HTTP/1.1\r\n"
    b"Host: site.example\r\n"
    b"Proxy-Authorization: Basic c2VjcmV0\r\n"
    b"Proxy-Connection: keep-alive\r\n"
    b"Connection: keep-alive, X-Hop\r\n"
    b"X-Hop: 1\r\n"
    b"Keep-Alive: timeout=5\r\n"
    b"TE: trailers\r\n"
    b"Upgrade: websocket\r\n"
    b"Expect: 100-continue\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Via: 1.1 inner\r\n"
    b"X-Forwarded-For: 10.0.0.1\r\n"
    b"Referer: http://intranet.example/page\r\n"
    b"Cookie: a=b\r\n"
    b"\r\n"
)


def forwarded(covert: bool) -> bytes:
    req = parse_request_head(REQUEST)
    return upstream_request_head(req, parse_target(req.method, req.target), covert=covert,
                                 body="chunked")


def test_upstream_head() -> None:
    head = forwarded(covert=False)
    assert head.startswith(b"POST /form?x=1 HTTP/1.1\r\nHost: site.example\r\n")
    for gone in (b"Proxy-Authorization", b"Proxy-Connection", b"Connection:", b"X-Hop",
                 b"Keep-Alive", b"TE:", b"Upgrade", b"Expect"):
        assert gone not in head
    assert b"Via: 1.1 inner, 1.1 webwarden\r\n" in head
    assert b"Cookie: a=b\r\n" in head
    assert head.count(b"Transfer-Encoding: chunked") == 1
    assert head.endswith(b"\r\n\r\n")


def test_covert_head_identifies_nothing() -> None:
    head = forwarded(covert=True)
    for gone in (b"Via", b"X-Forwarded-For", b"Referer", b"webwarden"):
        assert gone not in head
    assert b"Cookie: a=b\r\n" in head  # the site's own state is not the gateway's business


def test_covert_keeps_a_same_site_referer() -> None:
    req = parse_request_head(b"GET http://site.example/b HTTP/1.1\r\nHost: site.example\r\n"
                             b"Referer: http://site.example/a\r\n\r\n")
    head = upstream_request_head(req, parse_target("GET", req.target), covert=True, body="none")
    assert b"Referer: http://site.example/a" in head


def test_client_head_reframes() -> None:
    headers = [(b"content-type", b"text/plain"), (b"transfer-encoding", b"chunked"),
               (b"connection", b"x-private"), (b"x-private", b"1"), (b"server", b"origin")]
    head, framing = client_response_head(200, b"OK", headers, framing="chunked",
                                         keep_alive=True, client_version=(1, 1), covert=False)
    assert framing == "chunked"
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"x-private" not in head
    assert head.count(b"transfer-encoding: chunked") == 1
    assert b"via: 1.1 webwarden" in head
    # HTTP/1.0 clients get the body up to the close instead.
    head10, framing10 = client_response_head(200, b"OK", headers, framing="chunked",
                                             keep_alive=True, client_version=(1, 0),
                                             covert=False)
    assert framing10 == "close" and b"connection: close" in head10
    assert b"transfer-encoding" not in head10


def test_client_head_keeps_length_and_head_responses() -> None:
    headers = [(b"content-length", b"42")]
    head, framing = client_response_head(200, b"", headers, framing="length", keep_alive=True,
                                         client_version=(1, 1), covert=True)
    assert framing == "length" and b"content-length: 42" in head and b"via" not in head
    head, framing = client_response_head(200, b"", headers, framing="none", keep_alive=False,
                                         client_version=(1, 1), covert=False)
    assert b"content-length: 42" in head and b"connection: close" in head


def test_local_response_reveals_no_version() -> None:
    response = local_response(403, b"<p>no</p>", keep_alive=False)
    assert b"Server: webwarden\r\n" in response
    assert b"Content-Length: 9\r\n" in response
    assert b"Connection: close" in response
    assert b"no-store" in response


def test_header_safe() -> None:
    assert header_safe("a\r\nInjected: yes\u2028é") == b"a Injected: yes"
    assert len(header_safe("x" * 1000)) == 300


def reference_upstream_head(req: RequestHead, target: Target, covert: bool, body: str) -> bytes:
    """The head as the first version of the gateway built it, one line at a time (covert:
    with the fixed User-Agent and Accept-Language in place of the browser's first)."""
    dropped = _NEVER_FORWARDED | req.connection_tokens
    parts = [req.method.encode(), b" ", target.path.encode(), b" HTTP/1.1\r\nHost: ",
             target.authority.encode(), b"\r\n"]
    via: list[bytes] = []
    fixed = {b"user-agent": b"User-Agent: " + COVERT_USER_AGENT.encode(),
             b"accept-language": b"Accept-Language: " + COVERT_ACCEPT_LANGUAGE.encode()}
    for h in req.headers:
        if h.name in dropped:
            continue
        if h.name == b"via":
            via.append(h.value)
            continue
        if covert and (h.name in IDENTIFYING or h.name == b"max-forwards" or (
            h.name == b"referer" and not _same_site(h.value, target.host)
        )):
            continue
        if covert and h.name in fixed:
            if fixed[h.name]:
                parts.append(fixed[h.name] + b"\r\n")
                fixed[h.name] = b""
            continue
        parts.append(h.line)
    if not covert:
        parts += (b"Via: ", b", ".join([*via, VIA]), b"\r\n")
    else:
        parts += [line + b"\r\n" for line in fixed.values() if line]
    if body == "length":
        parts += (b"Content-Length: ", str(req.content_length).encode(), b"\r\n")
    elif body == "chunked":
        parts.append(b"Transfer-Encoding: chunked\r\n")
    return b"".join(parts) + b"\r\n"


LINES = [b"Proxy-Authorization: Basic x", b"Connection: keep-alive, X-Hop", b"connection: via",
         b"Proxy-Connection: close", b"X-Hop: 1", b"Keep-Alive: 5", b"TE: trailers",
         b"Via: 1.0 a", b"VIA:1.1 b ", b"X-Forwarded-For: 10.0.0.1", b"From: me@x",
         b"Referer: http://site.example/a", b"Referer: http://other.example/",
         b"Referer: http://sub.site.example/", b"Cookie: a=b", b"Accept:  */*\t",
         b"Expect: 100-continue", b"Forwarded: for=x", b"User-Agent: t",
         b"Accept-Language: fr-FR", b"Max-Forwards: 3", b"X-Proxy-ID: 7"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=10), st.booleans(),
       st.sampled_from(["none", "length", "chunked"]))
def test_upstream_head_matches_the_reference(lines: list[bytes], covert: bool,
                                             body: str) -> None:
    extra = [b"Content-Length: 3"] if body == "length" else []
    extra += [b"Transfer-Encoding: chunked"] if body == "chunked" else []
    raw = (b"POST http://site.example/p HTTP/1.1\r\nHost: site.example\r\n"
           + b"".join(line + b"\r\n" for line in [*lines, *extra]) + b"\r\n")
    req = parse_request_head(raw)
    target = parse_target(req.method, req.target)
    assert upstream_request_head(req, target, covert=covert, body=body) == (
        reference_upstream_head(req, target, covert, body)
    )


def reference_client_head(status: int, reason: bytes, headers: list[tuple[bytes, bytes]],
                          framing: str, keep_alive: bool, client_version: tuple[int, int],
                          covert: bool) -> tuple[bytes, str]:
    """The response head as the first version of the gateway built it."""
    dropped = set(HOP_BY_HOP) | {b"content-length"}
    content_length = b""
    for name, value in headers:
        if name == b"connection":
            dropped.update(t.strip().lower() for t in value.split(b","))
        elif name == b"content-length":
            content_length = value
    if framing == "length" and not content_length.strip().isdigit():
        framing = "close"
    out_framing = framing
    if framing in ("chunked", "close"):
        out_framing = "chunked" if client_version >= (1, 1) else "close"
    if out_framing == "close":
        keep_alive = False
    parts = [b"HTTP/1.1 ", str(status).encode(), b" ", reason or REASONS.get(status, b""),
             b"\r\n"]
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
        parts += (b"via: ", b", ".join([*via, VIA]), b"\r\n")
    if framing == "length" or (framing == "none" and content_length):
        parts += (b"content-length: ", content_length.strip(), b"\r\n")
    elif out_framing == "chunked":
        parts.append(b"transfer-encoding: chunked\r\n")
    if not keep_alive:
        parts.append(b"connection: close\r\n")
    elif client_version < (1, 1):
        parts.append(b"connection: keep-alive\r\n")
    return b"".join(parts) + b"\r\n", out_framing


RESPONSE_FIELDS = [(b"content-type", b"text/html"), (b"content-length", b"12"),
                   (b"content-length", b"x"), (b"connection", b"keep-alive, x-hop"),
                   (b"connection", b"close"), (b"x-hop", b"1"), (b"via", b"1.1 cdn"),
                   (b"transfer-encoding", b"chunked"), (b"x-forwarded-for", b"10.1.1.1"),
                   (b"keep-alive", b"timeout=5"), (b"server", b"nginx"), (b"set-cookie", b"a=b")]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(RESPONSE_FIELDS), max_size=8),
       st.sampled_from(["length", "chunked", "close", "none"]), st.booleans(), st.booleans(),
       st.sampled_from([(1, 1), (1, 0)]), st.sampled_from([b"", b"OK"]))
def test_client_head_matches_the_reference(
    headers: list[tuple[bytes, bytes]], framing: str, keep_alive: bool, covert: bool,
    version: tuple[int, int], reason: bytes,
) -> None:
    assert client_response_head(
        200, reason, headers, framing=framing, keep_alive=keep_alive, client_version=version,
        covert=covert,
    ) == reference_client_head(200, reason, headers, framing, keep_alive, version, covert)
