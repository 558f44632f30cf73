"""What the gateway writes: hop-by-hop fields never pass, covert requests carry nothing
identifying, framing is always the gateway's own."""

from __future__ import annotations

from webwarden.gateway.heads import (
    client_response_head,
    header_safe,
    local_response,
    upstream_request_head,
)
from webwarden.gateway.http1 import parse_request_head
from webwarden.gateway.target import parse_target

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
