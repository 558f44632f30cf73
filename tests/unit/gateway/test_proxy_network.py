"""The connection's way to the network, without a socket: a fake connector stands for the
resolver, the destination checks and connecting, and a fake clock for time. An allowed
CONNECT, names that do not resolve, refused destinations, refused and silent origins, and
the deadlines are exercised exactly as the gateway meets them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.unit.gateway.harness import (
    FakeClock,
    FakeConnector,
    FakeTransport,
    RecordingWriter,
    make_context,
)
from tests.unit.gateway.test_proxy import AUTH, request, run
from webwarden.gateway.connect import ConnectFailedError
from webwarden.gateway.context import WorkerContext
from webwarden.gateway.proxy import (
    BUSY,
    CLOSED,
    DECRYPTED,
    IDLE,
    PEEK,
    STATE_NAMES,
    TRANSITIONS,
    TUNNEL,
    ProxyConnection,
)
from webwarden.gateway.tunnel import TunnelUpstream
from webwarden.gateway.upstream import UpstreamConnection


def client(ctx: WorkerContext, peer: str = "127.0.0.1") -> tuple[ProxyConnection, FakeTransport]:
    transport = FakeTransport((peer, 50000))
    proxy = ProxyConnection(ctx)
    transport.protocol = proxy
    proxy.connection_made(transport)  # type: ignore[arg-type]
    return proxy, transport


async def settle(transport: FakeTransport, seconds: float = 2.0) -> bytes:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if transport.written:
            await asyncio.sleep(0)
            return transport.take()
        await asyncio.sleep(0)
    return b""


CONNECT = (b"CONNECT site.example:443 HTTP/1.1\r\nHost: site.example:443\r\n" + AUTH + b"\r\n")


@run
async def test_an_allowed_connect_is_relayed_both_ways(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    network = FakeConnector("93.184.216.34")
    ctx.connector = network
    proxy, transport = client(ctx)
    proxy.data_received(CONNECT)
    assert (await settle(transport)).startswith(b"HTTP/1.1 200 Connection established")
    assert network.calls == [("site.example", 443, False, None)]
    origin = network.transports[0]
    assert isinstance(origin.protocol, TunnelUpstream) and proxy.state == TUNNEL
    proxy.data_received(b"\x16\x03\x01 client hello")
    assert origin.take() == b"\x16\x03\x01 client hello"
    origin.protocol.data_received(b"\x16\x03\x03 server hello")
    assert transport.take() == b"\x16\x03\x03 server hello"


@pytest.mark.parametrize(
    ("failure", "status", "words"),
    [
        (ConnectFailedError(502, "The site could not be found",
                            "The name site.example could not be resolved."),
         502, b"could not be found"),
        (ConnectFailedError(403, "The gateway will not connect there",
                            "site.example resolves to a private address.", refused=True),
         403, b"private address"),
        (ConnectFailedError(504, "The site did not answer",
                            "connecting to 93.184.216.34 port 80 timed out"),
         504, b"did not answer"),
        (ConnectFailedError(502, "The site could not be reached",
                            "connecting to 93.184.216.34 port 80 failed (Connection refused)"),
         502, b"Connection refused"),
    ],
)
def test_what_the_network_refuses_is_explained(tmp_path: Path, failure: ConnectFailedError,
                                               status: int, words: bytes) -> None:
    async def body() -> None:
        writer = RecordingWriter()
        ctx = make_context(tmp_path, writer)
        ctx.connector = FakeConnector(failure)
        proxy, transport = client(ctx)
        proxy.data_received(request(method=b"POST", extra=b"Content-Length: 2\r\n") + b"hi")
        reply = await settle(transport)
        assert reply.startswith(b"HTTP/1.1 %d " % status), reply[:80]
        assert words in reply
        ctx.audit.flush()
        assert writer.records and writer.records[-1].status == status

    asyncio.run(body())


@run
async def test_a_request_with_a_body_goes_through_the_connector(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    network = FakeConnector("93.184.216.34")
    ctx.connector = network
    proxy, transport = client(ctx)
    proxy.data_received(request(method=b"POST", extra=b"Content-Length: 5\r\n") + b"hello")
    for _ in range(20):
        await asyncio.sleep(0)
    assert network.calls == [("site.example", 80, False, None)]
    origin = network.transports[0]
    assert isinstance(origin.protocol, UpstreamConnection)
    sent = origin.take()
    assert sent.startswith(b"POST / HTTP/1.1\r\n") and sent.endswith(b"\r\n\r\nhello")
    origin.protocol.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert transport.take().endswith(b"\r\n\r\nok")
    assert proxy.state == IDLE


@run
async def test_deadlines_follow_the_clock_passed_in(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    clock = FakeClock()
    ctx.clock = clock
    proxy, transport = client(ctx)
    proxy.data_received(b"GET http://site.example/ HTTP/1.1\r\n")  # the head never ends
    assert proxy.deadline == clock.now + ctx.config.timeouts.head
    clock.advance(ctx.config.timeouts.head + 1)
    proxy.on_deadline(clock.now)
    assert transport.take().startswith(b"HTTP/1.1 408 ")
    await asyncio.sleep(0)
    assert proxy.state == CLOSED


def test_the_state_table_is_closed_and_every_state_can_close() -> None:
    states = {IDLE, BUSY, TUNNEL, CLOSED, PEEK, DECRYPTED}
    assert len(TRANSITIONS) == len(STATE_NAMES) == len(states)
    for state in states:
        assert TRANSITIONS[state] <= states
        assert CLOSED in TRANSITIONS[state], STATE_NAMES[state]
    assert TRANSITIONS[CLOSED] == {CLOSED}


@run
async def test_a_move_outside_the_table_fails_closed(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    proxy, _transport = client(ctx)
    with pytest.raises(RuntimeError, match="IDLE -> TUNNEL"):
        proxy._goto(TUNNEL)
