"""The admin port's documents: PAC, health, the CA certificate."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from webwarden.gateway.admin import AdminConnection, AdminState, WorkerHealth, pac_file
from webwarden.gateway.config import GatewayConfig
from webwarden.gateway.tls.authority import init_ca


def test_pac_sends_everything_through_the_proxy_but_the_admin_pages() -> None:
    pac = pac_file("10.0.0.1:3128", "http://10.0.0.1:3129")
    assert 'shExpMatch(url, "http://10.0.0.1:3129/*")) return "DIRECT"' in pac
    assert pac.rstrip().endswith('return "PROXY 10.0.0.1:3128";\n}')
    assert "; DIRECT" not in pac  # no fallback: fail closed


def test_pac_names_the_address_clients_used_when_listening_everywhere(tmp_path: Path) -> None:
    config = GatewayConfig(listen=("0.0.0.0", 3128), admin=("0.0.0.0", 3129),
                           state_dir=tmp_path)
    pac = AdminState(config, list).pac("gw.example:3129").decode()
    assert "PROXY gw.example:3128" in pac and "http://gw.example:3129/*" in pac


def test_health(tmp_path: Path) -> None:
    config = GatewayConfig(state_dir=tmp_path)
    ok = [WorkerHealth(0, True, True, "", {"pid": 1})]
    status, body = AdminState(config, lambda: ok).health()
    assert status == 200 and json.loads(body)["status"] == "ok"
    bad = [*ok, WorkerHealth(1, True, False, "access log: disk full", {})]
    status, body = AdminState(config, lambda: bad).health()
    assert status == 503
    assert json.loads(body)["reasons"] == ["worker 1: access log: disk full"]
    status, _ = AdminState(config, list).health()
    assert status == 503


def _admin_get(state: AdminState, path: str) -> bytes:
    """One request through the admin protocol, the response as written to the socket."""

    class Transport:
        def __init__(self) -> None:
            self.written = b""

        def write(self, data: bytes) -> None:
            self.written += data

        def close(self) -> None:
            pass

    transport = Transport()
    connection = AdminConnection(state)
    connection.transport = transport  # type: ignore[assignment]
    connection.data_received(f"GET {path} HTTP/1.1\r\nHost: gw\r\n\r\n".encode())
    return transport.written


def test_ca_certificates_are_served_once_a_ca_exists(tmp_path: Path) -> None:
    state = AdminState(GatewayConfig(state_dir=tmp_path), list)
    missing = _admin_get(state, "/ca.pem")
    assert missing.startswith(b"HTTP/1.1 404 ")
    assert f"webwarden ca init --dir {tmp_path / 'ca'}".encode() in missing

    files = init_ca(tmp_path / "ca", now=datetime.now(UTC))
    response = _admin_get(state, "/ca.pem")
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"Content-Type: application/x-pem-file" in head
    assert b'Content-Disposition: attachment; filename="webwarden-ca.pem"' in head
    assert body == files.certificate_path.read_bytes()

    head, _, body = _admin_get(state, "/ca.der").partition(b"\r\n\r\n")
    assert b"Content-Type: application/x-x509-ca-cert" in head
    assert b'filename="webwarden-ca.der"' in head
    assert x509.load_der_x509_certificate(body) == x509.load_pem_x509_certificate(
        files.certificate_path.read_bytes())


def test_a_damaged_ca_is_an_error_not_a_missing_one(tmp_path: Path) -> None:
    init_ca(tmp_path / "ca", now=datetime.now(UTC))
    (tmp_path / "ca" / "ca-1.pem").write_text("garbage")
    status, body = AdminState(GatewayConfig(state_dir=tmp_path), list).ca_certificates(der=False)
    assert status == 500 and b"is not a PEM certificate" in body
