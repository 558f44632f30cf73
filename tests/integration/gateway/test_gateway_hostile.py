"""Malformed and hostile requests as raw bytes: refused, and nothing smuggled reaches the
origin; addresses the gateway must never connect to, whatever their spelling."""

from __future__ import annotations

import socket
import time

import pytest
from tests.integration.gateway.conftest import (
    ORIGIN_HOST,
    Gateway,
    World,
    basic,
    raw_exchange,
)

pytestmark = pytest.mark.integration

AUTH = b"Proxy-Authorization: " + basic("pc1001").encode() + b"\r\n"
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


def head(world: World, extra: bytes, method: bytes = b"POST", path: bytes = b"/echo") -> bytes:
    authority = f"{ORIGIN_HOST}:{world.origin.port}".encode()
    return (method + b" http://" + authority + path + b" HTTP/1.1\r\nHost: " + authority
            + b"\r\n" + AUTH + extra)


def status(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else 0


@pytest.mark.parametrize("extra, body", [
    # CL.TE / TE.CL
    (b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", b"0\r\n\r\n" + SMUGGLED),
    (b"Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n", b"0\r\n\r\n" + SMUGGLED),
    # Transfer-Encoding obfuscations
    (b"Transfer-Encoding: chunked, identity\r\n\r\n", b"0\r\n\r\n" + SMUGGLED),
    (b"Transfer-Encoding: xchunked\r\n\r\n", b"0\r\n\r\n" + SMUGGLED),
    (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n", b"0\r\n\r\n"),
    (b"Transfer-Encoding : chunked\r\n\r\n", b"0\r\n\r\n" + SMUGGLED),
    (b"Transfer-Encoding:\x0bchunked\r\n\r\n", b"0\r\n\r\n" + SMUGGLED),
    (b"X: y\r\n Transfer-Encoding: chunked\r\n\r\n", b"0\r\n\r\n" + SMUGGLED),
    # Content-Length games
    (b"Content-Length: 5\r\nContent-Length: 5\r\n\r\n", b"hello" + SMUGGLED),
    (b"Content-Length: 5, 5\r\n\r\n", b"hello" + SMUGGLED),
    (b"Content-Length: +5\r\n\r\n", b"hello" + SMUGGLED),
    (b"Content-Length: 0x5\r\n\r\n", b"hello" + SMUGGLED),
    # Control characters and bare line ends in the head
    (b"X-Bad: a\x00b\r\n\r\n", b""),
    (b"X-Bad: a\x7fb\r\n\r\n", b""),
    (b"X-Bad: a\rb\r\n\r\n", b""),
    (b"X-Bad: a\nTransfer-Encoding: chunked\r\n\r\n", b"0\r\n\r\n" + SMUGGLED),
    (b"Bad Name: x\r\n\r\n", b""),
])
def test_ambiguous_framing_is_refused(
    gateway: Gateway, world: World, extra: bytes, body: bytes
) -> None:
    before = world.origin.received()
    reply = raw_exchange(gateway.proxy_port, head(world, extra) + body)
    assert status(reply) == 400, reply[:200]
    assert b"Connection: close" in reply.split(b"\r\n\r\n", 1)[0]
    assert world.origin.received() == before


@pytest.mark.parametrize("chunks", [
    b"0x5\r\nhello\r\n0\r\n\r\n",
    b"5 \r\nhello\r\n0\r\n\r\n",
    b"-5\r\nhello\r\n0\r\n\r\n",
    b"fffffffffffffffff\r\nhello\r\n0\r\n\r\n",
    b"5\r\nhelloXX\r\n0\r\n\r\n",
    b"5\nhello\r\n0\r\n\r\n",
])
def test_bad_chunk_sizes_are_refused(gateway: Gateway, world: World, chunks: bytes) -> None:
    reply = raw_exchange(
        gateway.proxy_port, head(world, b"Transfer-Encoding: chunked\r\n\r\n") + chunks
    )
    assert status(reply) in (400, 0), reply[:200]
    # whatever reached the origin, the smuggled request did not
    assert b"/smuggled" not in world.origin.received()


def test_valid_chunked_request_is_reframed_not_copied(gateway: Gateway, world: World) -> None:
    chunks = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    before = len(world.origin.connections)
    reply = raw_exchange(
        gateway.proxy_port,
        head(world, b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n") + chunks,
    )
    assert status(reply) == 200
    assert b'"body": "hello world"' in reply
    sent = b"".join(bytes(c.data) for c in world.origin.connections[before:])
    assert b"ext=1" not in sent and b"X-Trailer" not in sent  # extensions, trailers dropped


@pytest.mark.parametrize("request_bytes, expected", [
    (b"GET http://h/ HTTP/1.1\r\n\r\n", 400),  # no Host
    (b"GET http://h/ HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n", 400),
    (b"GET http://h/ HTTP/1.1\r\nHost: other\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400),  # not a proxy request
    (b"GET http://user:pw@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    (b"GET http://h/ HTTP/2.0\r\nHost: h\r\n\r\n", 505),
    (b"GET  http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    (b"GET http://h/ HTTP/1.1\nHost: h\n\n", 400),
])
def test_malformed_heads(gateway: Gateway, request_bytes: bytes, expected: int) -> None:
    reply = raw_exchange(gateway.proxy_port, request_bytes)
    assert status(reply) == expected, reply[:200]


def test_oversized_head_and_uri(gateway: Gateway) -> None:
    big_uri = b"GET http://h/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: h\r\n\r\n"
    assert status(raw_exchange(gateway.proxy_port, big_uri)) == 414
    big_head = b"GET http://h/ HTTP/1.1\r\nHost: h\r\n" + b"X-Pad: " + b"p" * 70000 + b"\r\n\r\n"
    assert status(raw_exchange(gateway.proxy_port, big_head)) == 431


def test_slow_client_gets_408(gateway: Gateway) -> None:
    with socket.create_connection(("127.0.0.1", gateway.proxy_port), timeout=10) as sock:
        sock.sendall(b"GET http://h/ HTTP/1.1\r\nHost: h\r\n")
        started = time.monotonic()
        reply = sock.recv(65536)
        while True:
            more = sock.recv(65536)
            if not more:
                break
            reply += more
    assert status(reply) == 408
    assert time.monotonic() - started < 9


def test_silent_connection_is_closed(gateway: Gateway) -> None:
    with socket.create_connection(("127.0.0.1", gateway.proxy_port), timeout=10) as sock:
        data = sock.recv(65536)
        while data and sock.recv(65536):
            pass
    assert data == b"" or data.startswith(b"HTTP/1.1 408")


# --------------------------------------------------------------------------- addresses
@pytest.mark.parametrize("host", [
    "127.0.0.9",
    "2130706441",
    "0x7f000009",
    "0177.0.0.9",
    "127.9",
    "0x7f.9",
    "[::ffff:127.0.0.9]",
    "[::ffff:7f00:9]",
    "localhost",
    "127.0.0.1",
])
def test_addresses_the_gateway_must_not_reach(
    gateway: Gateway, world: World, host: str
) -> None:
    port = world.canary.port
    request = (f"GET http://{host}:{port}/ HTTP/1.1\r\nHost: {host}:{port}\r\n").encode() + (
        AUTH + b"Connection: close\r\n\r\n"
    )
    reply = raw_exchange(gateway.proxy_port, request)
    assert status(reply) == 403, reply[:300]
    assert world.canary.hits == 0


@pytest.mark.parametrize("target", ["127.0.0.9", "localhost", "[::1]", "2130706441"])
def test_tunnels_to_this_machine_are_refused(gateway: Gateway, world: World,
                                             target: str) -> None:
    request = (f"CONNECT {target}:443 HTTP/1.1\r\nHost: {target}:443\r\n").encode() + AUTH + (
        b"\r\n"
    )
    reply = raw_exchange(gateway.proxy_port, request)
    assert status(reply) == 403, reply[:300]
    assert world.canary.hits == 0


def test_the_admin_port_is_not_reachable_through_the_proxy(
    gateway: Gateway, world: World
) -> None:
    request = (f"GET http://127.0.0.1:{gateway.admin_port}/metrics HTTP/1.1\r\n"
               f"Host: 127.0.0.1:{gateway.admin_port}\r\n").encode() + AUTH + b"\r\n"
    reply = raw_exchange(gateway.proxy_port, request)
    assert status(reply) == 403
    assert b"webwarden_requests" not in reply


def test_plain_http_to_a_mail_port_is_refused(gateway: Gateway) -> None:
    request = (f"GET http://{ORIGIN_HOST}:25/ HTTP/1.1\r\nHost: {ORIGIN_HOST}:25\r\n"
               ).encode() + AUTH + b"\r\n"
    assert status(raw_exchange(gateway.proxy_port, request)) == 403
