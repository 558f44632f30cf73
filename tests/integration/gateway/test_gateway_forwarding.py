"""Allowed traffic end to end with curl: what reaches the origin, what comes back."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest
from tests.integration.gateway.conftest import (
    ORIGIN_HOST,
    Gateway,
    World,
    basic,
    body_of,
    curl,
    raw_exchange,
    status_of,
    wait_for_lines,
)
from tests.integration.gateway.origin import PAGE, SECURE

pytestmark = pytest.mark.integration


def url(world: World, path: str = "/") -> str:
    return f"http://{ORIGIN_HOST}:{world.origin.port}{path}"


def test_allowed_page_reaches_the_origin_without_proxy_headers(
    gateway: Gateway, world: World
) -> None:
    result = curl(gateway, "-H", "Proxy-Connection: keep-alive", url(world, "/echo"))
    assert status_of(result) == 200, result.stderr
    seen = json.loads(body_of(result))
    names = {k.lower(): v for k, v in seen["headers"]}
    assert "proxy-authorization" not in names
    assert "proxy-connection" not in names
    assert names["host"] == f"{ORIGIN_HOST}:{world.origin.port}"
    assert names["via"] == "1.1 webwarden"
    assert seen["target"] == "/echo"


def test_hop_by_hop_headers_named_in_connection_are_dropped(
    gateway: Gateway, world: World
) -> None:
    result = curl(gateway, "-H", "Connection: keep-alive, X-Secret", "-H", "X-Secret: 1",
                  "-H", "Keep-Alive: timeout=5", "-H", "TE: trailers", url(world, "/echo"))
    names = {k.lower() for k, _v in json.loads(body_of(result))["headers"]}
    assert not names & {"x-secret", "keep-alive", "te", "connection"}


def test_response_comes_back_whole_with_via(gateway: Gateway, world: World) -> None:
    result = curl(gateway, "-i", url(world, "/index.html"))
    assert status_of(result) == 200
    head, _, body = body_of(result).partition("\n\n")  # text mode turned CRLF into LF
    assert body.encode() == PAGE
    assert "via: 1.1 webwarden" in head.lower()


@pytest.mark.parametrize("path, expected", [
    ("/chunked", "first piece,second piece,last piece"),
    ("/close-delimited", "body without a length"),
])
def test_chunked_and_close_delimited_bodies(
    gateway: Gateway, world: World, path: str, expected: str
) -> None:
    result = curl(gateway, url(world, path))
    assert status_of(result) == 200
    assert body_of(result) == expected


def test_large_body_streams_through(gateway: Gateway, world: World) -> None:
    size = 900_000  # under the test policy's 1 MB download limit
    result = curl(gateway, "-o", "/dev/null", "-w", "\n%{size_download}",
                  url(world, f"/large-chunked?size={size}"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(size)


def test_uploads_with_length_and_chunked(
    gateway: Gateway, world: World, tmp_path: Path
) -> None:
    data = tmp_path / "upload.bin"
    data.write_bytes(b"x" * 200_000)
    fixed = curl(gateway, "--data-binary", f"@{data}", url(world, "/echo"))
    assert json.loads(body_of(fixed))["body_length"] == 200_000
    chunked = curl(gateway, "-H", "Transfer-Encoding: chunked", "--data-binary", f"@{data}",
                   url(world, "/echo"))
    seen = json.loads(body_of(chunked))
    assert seen["body_length"] == 200_000
    assert ("Transfer-Encoding", "chunked") in [tuple(h) for h in seen["headers"]]


def test_keep_alive_reuses_both_connections(gateway: Gateway, world: World) -> None:
    before = len(world.origin.connections)
    result = subprocess.run(
        ["curl", "-s", "-x", gateway.proxy, "-U", "pc1001:demo", "-w", "%{num_connects}\n",
         "-o", "/dev/null", url(world, "/a"), "-o", "/dev/null", url(world, "/b"),
         "-o", "/dev/null", url(world, "/c")],
        check=False, capture_output=True, text=True, timeout=30,
    )
    assert result.stdout.split() == ["1", "0", "0"]  # one client connection for three
    assert len(world.origin.connections) - before <= 1  # and at most one to the origin


def test_pipelined_requests_are_answered_in_order(gateway: Gateway, world: World) -> None:
    auth = basic("pc1001").encode()
    one = (f"GET {url(world, '/first')} HTTP/1.1\r\nHost: {ORIGIN_HOST}:{world.origin.port}"
           "\r\n").encode() + b"Proxy-Authorization: " + auth + b"\r\n\r\n"
    two = one.replace(b"/first", b"/echo").replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
    reply = raw_exchange(gateway.proxy_port, one + two, until_close=True)
    assert reply.count(b"HTTP/1.1 200") == 2
    assert reply.index(PAGE) < reply.index(b'"target": "/echo"')


def test_head_request(gateway: Gateway, world: World) -> None:
    result = curl(gateway, "-I", url(world, "/"))
    assert status_of(result) == 200
    assert f"content-length: {len(PAGE)}" in result.stdout.lower()


def test_connect_tunnel_carries_tls(gateway: Gateway, world: World) -> None:
    result = curl(gateway, "-k", f"https://{ORIGIN_HOST}:{world.tls_origin.port}/")
    assert status_of(result) == 200, result.stderr
    assert body_of(result).encode() == SECURE


def test_http10_client_without_host_header(gateway: Gateway, world: World) -> None:
    request = (f"GET {url(world, '/x')} HTTP/1.0\r\n").encode() + (
        b"Proxy-Authorization: " + basic("pc1001").encode() + b"\r\n\r\n"
    )
    reply = raw_exchange(gateway.proxy_port, request)
    assert reply.startswith(b"HTTP/1.1 200")
    assert reply.endswith(PAGE)


def test_a_websocket_is_relayed_on_plain_http(gateway: Gateway, world: World) -> None:
    from tests.integration.gateway.test_gateway_https import websocket_exchange

    host = f"{ORIGIN_HOST}:{world.origin.port}"
    with socket.create_connection(("127.0.0.1", gateway.proxy_port), timeout=10) as sock:
        head, _ = websocket_exchange(sock, f"http://{host}/ws", host,
                                     extra=f"Proxy-Authorization: {basic('pc1001')}\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    assert b"sec-websocket-accept" in head.lower()
    lines = wait_for_lines(gateway.state_dir / "logs" / "access.log", f"{host}/ws")
    assert lines and "/101 " in lines[-1], lines
