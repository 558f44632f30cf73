"""The client side of a decrypted tunnel, over memory only: a real TLS client (Python's
ssl over MemoryBIOs) talking to ClientTls with a certificate from the gateway's CA."""

from __future__ import annotations

import contextlib
import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest

from webwarden.gateway.tls.authority import export_certificates, init_ca, load_ca
from webwarden.gateway.tls.leaves import LeafMinter
from webwarden.gateway.tls.session import (
    TRANSITIONS,
    ClientTls,
    Closed,
    Data,
    Established,
    Failed,
    TlsState,
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[LeafMinter, Path]:
    folder = tmp_path_factory.mktemp("pki")
    now = datetime.now(UTC)
    init_ca(folder / "ca", now=now)
    bundle = folder / "ca.pem"
    bundle.write_bytes(export_certificates(folder / "ca", der=False, now=now))
    return LeafMinter(load_ca(folder / "ca", now), folder / "leaves", now=lambda: now), bundle


class Client:
    def __init__(self, cafile: Path | None, name: str) -> None:
        context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
        if cafile is None:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_REQUIRED
        context.set_alpn_protocols(["http/1.1"])
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = context.wrap_bio(self.incoming, self.outgoing, server_hostname=name)

    def step(self) -> bytes:
        with contextlib.suppress(ssl.SSLWantReadError):
            self.obj.do_handshake()
        return self.outgoing.read()


def handshake(server: ClientTls, client: Client) -> list[object]:
    events: list[object] = []
    for _ in range(6):
        data = client.step()
        if data:
            events += server.receive(data)
        reply = server.data_to_send()
        if reply:
            client.incoming.write(reply)
        if server.state is not TlsState.HANDSHAKE:
            client.step()
            break
    return events


def test_a_client_trusting_the_ca_gets_through_and_data_flows(
    pki: tuple[LeafMinter, Path],
) -> None:
    minter, bundle = pki
    server = ClientTls(minter.context_for("shop.example"))
    client = Client(bundle, "shop.example")
    events = handshake(server, client)
    assert any(isinstance(e, Established) and e.alpn == "http/1.1" for e in events)
    assert server.state is TlsState.OPEN
    client.obj.write(b"GET / HTTP/1.1\r\n\r\n")
    assert server.receive(client.outgoing.read()) == [Data(b"GET / HTTP/1.1\r\n\r\n")]
    server.send(b"HTTP/1.1 200 OK\r\n\r\n")
    client.incoming.write(server.data_to_send())
    assert client.obj.read(100) == b"HTTP/1.1 200 OK\r\n\r\n"
    with contextlib.suppress(ssl.SSLWantReadError):
        client.obj.unwrap()
    assert server.receive(client.outgoing.read()) == [Closed()]
    assert server.state is TlsState.CLOSED
    assert server.receive(b"more") == []


def test_a_client_that_does_not_trust_the_ca_fails_with_a_reason(
    pki: tuple[LeafMinter, Path], tmp_path: Path,
) -> None:
    minter, _bundle = pki
    other = tmp_path / "other-ca"
    now = datetime.now(UTC)
    init_ca(other, now=now, name="Someone else")
    stranger = tmp_path / "other.pem"
    stranger.write_bytes(export_certificates(other, der=False, now=now))
    server = ClientTls(minter.context_for("shop.example"))
    client = Client(stranger, "shop.example")
    events: list[object] = []
    for _ in range(6):
        try:
            client.obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError:
            pass
        data = client.outgoing.read()
        if data:
            events += server.receive(data)
        reply = server.data_to_send()
        if reply:
            client.incoming.write(reply)
    failed = [e for e in events if isinstance(e, Failed)]
    assert failed and "trust" in failed[0].reason
    assert server.state is TlsState.FAILED


def test_plain_http_in_a_tunnel_is_a_failure_not_a_crash(pki: tuple[LeafMinter, Path]) -> None:
    minter, _ = pki
    server = ClientTls(minter.context_for("shop.example"))
    events = server.receive(b"GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n")
    assert len(events) == 1 and isinstance(events[0], Failed)


def test_every_transition_leads_to_a_known_state() -> None:
    assert {state for state, _event in TRANSITIONS} == {TlsState.HANDSHAKE, TlsState.OPEN}
    assert set(TRANSITIONS.values()) <= set(TlsState)
