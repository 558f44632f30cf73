"""HTTPS through the gateway, end to end: a real gateway with a CA of its own (`webwarden ca
init`), real HTTPS origins on loopback reached by name (--hosts-file), and curl trusting
the gateway's CA, as a managed workstation's browser would (G3, G6, G5, G7).

Sites (all on 127.0.0.30 unless said otherwise):
- shop.test: uncategorised, allowed: decrypted and inspected;
- gamble.test: gambling, blocked: the block page over HTTPS, nothing sent upstream;
- bank.test (127.0.0.31): a bank: the notice over HTTPS (nothing sent to the bank), then,
  once accepted, spliced: the browser sees the bank's own certificate;
- expired.test, wrong.test, selfsigned.test: certificates that must not be accepted.
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.integration.gateway.conftest import (
    LAUNCH,
    Gateway,
    basic,
    clean_env,
    start_gateway,
    wait_for_lines,
)
from tests.integration.gateway.origin import BANK, SECURE, Origin, Servers
from tests.integration.gateway.tls_world import OriginCa, serve_by_name

from webwarden.categories.shipped import shipped_category_names

pytestmark = pytest.mark.integration

SITES_HOST = "127.0.0.30"
BANK_HOST = "127.0.0.31"


@dataclass
class HttpsWorld:
    servers: Servers
    sites: Origin
    bank: Origin
    origin_ca: OriginCa
    gateway: Gateway
    gateway_ca: Path
    folder: Path

    def url(self, host: str, path: str = "/") -> str:
        origin = self.bank if host == "bank.test" else self.sites
        return f"https://{host}:{origin.port}{path}"


def _build_lists(folder: Path) -> Path:
    lists = folder / "ut1"
    for name in shipped_category_names():
        (lists / name).mkdir(parents=True, exist_ok=True)
        (lists / name / "domains").write_text(f"{name}.test\n")
    (lists / "gambling" / "domains").write_text("gamble.test\n")
    (lists / "bank" / "domains").write_text("bank.test\n")
    (lists / "social_networks" / "domains").write_text("social.test\n")
    snapshot = folder / "https.wwcat"
    subprocess.run(
        [sys.executable, "-c", LAUNCH, "categories", "build", "--source", f"ut1:{lists}",
         "--output", str(snapshot)],
        check=True, capture_output=True,
        env={**clean_env(), "WEBWARDEN_STATE_DIR": str(folder / "build-state")},
    )
    return snapshot


@pytest.fixture(scope="module")
def https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsWorld]:
    folder = tmp_path_factory.mktemp("https-world")
    origin_ca = OriginCa(folder)
    servers = Servers()
    good = origin_ca.context_for(["shop.test"])
    sites_tls = serve_by_name(good, {
        "shop.test": origin_ca.context_for(["shop.test"]),
        "gamble.test": origin_ca.context_for(["gamble.test"]),
        "social.test": origin_ca.context_for(["social.test"]),
        "expired.test": origin_ca.context_for(["expired.test"], expired=True),
        "wrong.test": origin_ca.context_for(["other.test"]),
        "selfsigned.test": origin_ca.context_for(["selfsigned.test"], self_signed=True),
    })
    sites = servers.start_origin(SITES_HOST, tls=sites_tls, page=SECURE)
    bank = servers.start_origin(BANK_HOST, tls=origin_ca.context_for(["bank.test"]), page=BANK)
    hosts = folder / "hosts"
    hosts.write_text(
        f"{SITES_HOST} shop.test gamble.test social.test expired.test wrong.test "
        f"selfsigned.test\n{BANK_HOST} bank.test\n"
    )
    tmp = tmp_path_factory.mktemp("https-gateway")
    state = tmp / "state"
    done = subprocess.run(
        [sys.executable, "-c", LAUNCH, "ca", "init", "--dir", str(state / "ca")],
        capture_output=True, text=True, env=clean_env(), check=False,
    )
    assert done.returncode == 0, done.stderr
    gateway_ca = tmp / "gateway-ca.pem"
    exported = subprocess.run(
        [sys.executable, "-c", LAUNCH, "ca", "export", "--dir", str(state / "ca"),
         str(gateway_ca)],
        capture_output=True, text=True, env=clean_env(), check=False,
    )
    assert exported.returncode == 0, exported.stderr
    gateway = start_gateway(
        tmp,
        "--categories", str(_build_lists(folder)),
        "--hosts-file", str(hosts),
        "--upstream-ca-bundle", str(origin_ca.pem_path),
        "--allow-destination", f"{SITES_HOST}/32",
        "--allow-destination", f"{BANK_HOST}/32",
        "--connect-ports", f"443,{sites.port},{bank.port}",
    )
    world = HttpsWorld(servers, sites, bank, origin_ca, gateway, gateway_ca, folder)
    yield world
    gateway.stop()
    servers.stop()
    assert "Traceback" not in gateway.err.read_text(), gateway.err.read_text()


def curl_https(world: HttpsWorld, url: str, *args: str, cacert: Path | None = None,
               user: str = "pc1001") -> subprocess.CompletedProcess[str]:
    argv = [
        "curl", "-s", "-S", "--max-time", "20", "-x", world.gateway.proxy,
        "-U", f"{user}:demo", "--cacert", str(cacert or world.gateway_ca),
        "-w", "\n%{http_code}", *args, url,
    ]
    return subprocess.run(argv, capture_output=True, text=True, env=clean_env(), timeout=40,
                          check=False)


def status(result: subprocess.CompletedProcess[str]) -> int:
    return int(result.stdout.rsplit("\n", 1)[-1] or 0)


def body(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.rsplit("\n", 1)[0]


def peer_certificate(world: HttpsWorld, host: str, port: int,
                     server_name: str | None = None) -> tuple[x509_issuer, bytes]:
    """Open a tunnel by hand and return the issuer of the certificate the client is shown,
    and the first response bytes to a GET."""
    with socket.create_connection(("127.0.0.1", world.gateway.proxy_port), timeout=10) as sock:
        sock.sendall(
            f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Proxy-Authorization: {basic('pc1001')}\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, head
            head += chunk
        assert head.startswith(b"HTTP/1.1 200"), head
        context = ssl.create_default_context(cafile=str(world.gateway_ca))
        context.load_verify_locations(cafile=str(world.origin_ca.pem_path))
        context.check_hostname = False
        with context.wrap_socket(sock, server_hostname=server_name or host) as tls:
            cert = tls.getpeercert()
            issuer = dict(x[0] for x in cert["issuer"])["commonName"]
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
                        .encode())
            data = b""
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
            return issuer, data


x509_issuer = str


def test_an_allowed_site_is_decrypted_and_recorded_in_full(https: HttpsWorld) -> None:
    https.sites.reset()
    result = curl_https(https, https.url("shop.test", "/echo?item=42"))
    assert status(result) == 200, result.stderr
    echoed = json.loads(body(result))
    assert echoed["target"] == "/echo?item=42"
    assert any(k.lower() == "via" for k, _ in echoed["headers"])  # it went through us
    lines = wait_for_lines(https.gateway.state_dir / "logs" / "access.log",
                           "shop.test", "/echo?item=42")
    assert lines, "the decrypted request has its own record, path included"


def test_the_browser_is_shown_the_gateways_certificate_for_an_allowed_site(
    https: HttpsWorld,
) -> None:
    issuer, data = peer_certificate(https, "shop.test", https.sites.port)
    assert issuer == "webwarden gateway CA"
    assert b"Hello over TLS" in data


def test_a_blocked_site_gets_the_block_page_over_https_and_nothing_upstream(
    https: HttpsWorld,
) -> None:
    https.sites.reset()
    result = curl_https(https, https.url("gamble.test", "/bet?stake=10"))
    assert status(result) == 403, result.stderr
    page = body(result)
    assert "<html" in page.lower() and "gambl" in page.lower()
    assert not https.sites.connections, "a blocked site must not be contacted"


def test_a_bank_shows_the_notice_over_https_then_is_spliced_once_accepted(
    https: HttpsWorld,
) -> None:
    https.bank.reset()
    secret_path = "/accounts/12345678?sort=20-00-00"
    result = curl_https(https, https.url("bank.test", secret_path), "-H",
                        "Cookie: session=SECRETCOOKIE", "-A", "BankingApp/7.1", user="ps2001")
    assert status(result) == 511, result.stderr
    page = body(result)
    assert "personal secure session" in page.lower() or "notice" in page.lower()
    assert not https.bank.connections, "nothing may be sent to the bank before acceptance"
    action = re.search(r'action="([^"]+)"', page)
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert action is not None and token is not None, page
    assert action.group(1).startswith(f"https://bank.test:{https.bank.port}/.well-known/")
    accepted = curl_https(https, action.group(1), "--data-urlencode",
                          f"token={token.group(1)}", user="ps2001")
    assert status(accepted) == 303, accepted.stderr
    # Accepted: now spliced. The client sees the bank's own certificate, so it must trust
    # the bank's CA, not the gateway's.
    again = curl_https(https, https.url("bank.test", secret_path), "-H",
                       "Cookie: session=SECRETCOOKIE", "-A", "BankingApp/7.1", user="ps2001",
                       cacert=https.origin_ca.pem_path)
    assert status(again) == 200, again.stderr
    assert "Your bank account" in body(again)
    # Nothing of the session's content anywhere: not the path, the account number, a
    # header or the client's name for itself.
    state = https.gateway.state_dir
    wait_for_lines(state / "logs" / "access.log", "bank.test", "TCP_TUNNEL")
    for path in (state / "logs").rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            for secret in ("12345678", "/accounts", "SECRETCOOKIE", "BankingApp"):
                assert secret not in text, (path, secret)
    databases = [f for f in state.rglob("*") if f.is_file()
                 and f.read_bytes()[:16] == b"SQLite format 3\x00"]
    assert databases, "the audit database was not found"
    rows = 0
    for db in databases:
        with sqlite3.connect(db) as conn:
            tables = [r[0] for r in conn.execute(
                "select name from sqlite_master where type='table'")]
            for table in tables:
                for row in conn.execute(f'select * from "{table}"'):
                    rows += 1
                    for secret in ("12345678", "/accounts", "SECRETCOOKIE", "BankingApp"):
                        assert secret not in repr(row), (db, table, secret)
    assert rows, "the database holds no rows: nothing was checked"


def test_a_sni_that_disagrees_with_the_connect_is_refused(https: HttpsWorld) -> None:
    https.sites.reset()
    _issuer, data = peer_certificate(https, "shop.test", https.sites.port,
                                     server_name="gamble.test")
    assert data.startswith(b"HTTP/1.1 421"), data[:200]
    assert b"domain fronting" in data
    assert not https.sites.connections


def test_a_host_header_for_another_site_inside_the_tunnel_is_refused(https: HttpsWorld) -> None:
    https.sites.reset()
    result = curl_https(https, https.url("shop.test", "/echo"), "-H",
                        f"Host: gamble.test:{https.sites.port}")
    assert status(result) == 421, result.stderr
    assert not https.sites.requests


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("expired.test", "expired"),
        ("wrong.test", "another"),
        ("selfsigned.test", "signed its own certificate"),
    ],
)
def test_an_invalid_site_certificate_gets_a_page_that_says_so(
    https: HttpsWorld, host: str, words: str
) -> None:
    result = curl_https(https, https.url(host, "/"))
    assert status(result) == 502, result.stderr
    assert words in body(result).lower() or words in body(result), body(result)[:2000]
    lines = wait_for_lines(https.gateway.state_dir / "logs" / "access.log", host)
    assert lines


def test_a_blocked_download_inside_tls_gets_the_block_page(https: HttpsWorld) -> None:
    result = curl_https(https, https.url("shop.test", "/photo.jpg"))
    assert status(result) == 403, result.stderr
    assert "executable" in body(result).lower()


WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
WS_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455's worked example


def websocket_exchange(conn: socket.socket | ssl.SSLSocket, request_target: str, host: str,
                       extra: str = "") -> tuple[bytes, bytes]:
    """Open a WebSocket on `conn`, send one masked text frame, and return the handshake
    response head and the bytes echoed back."""
    conn.sendall(
        f"GET {request_target} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {WS_KEY}\r\n"
        f"Sec-WebSocket-Version: 13\r\n{extra}\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        assert chunk, head
        head += chunk
    head, _, rest = head.partition(b"\r\n\r\n")
    frame = bytes([0x81, 0x80 | 5]) + b"\x01\x02\x03\x04" + bytes(
        b ^ m for b, m in zip(b"hello", b"\x01\x02\x03\x04" * 2, strict=False))
    conn.sendall(frame)
    echoed = rest
    while len(echoed) < len(frame):
        chunk = conn.recv(4096)
        if not chunk:
            break
        echoed += chunk
    assert echoed == frame, echoed
    return head, echoed


def test_a_websocket_is_relayed_inside_a_decrypted_session(https: HttpsWorld) -> None:
    host = f"shop.test:{https.sites.port}"
    with socket.create_connection(("127.0.0.1", https.gateway.proxy_port), timeout=10) as sock:
        sock.sendall(f"CONNECT {host} HTTP/1.1\r\nHost: {host}\r\n"
                     f"Proxy-Authorization: {basic('pc1001')}\r\n\r\n".encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += sock.recv(4096)
        assert reply.startswith(b"HTTP/1.1 200")
        context = ssl.create_default_context(cafile=str(https.gateway_ca))
        with context.wrap_socket(sock, server_hostname="shop.test") as tls:
            head, _ = websocket_exchange(tls, "/ws?room=7", host)
    assert head.startswith(b"HTTP/1.1 101")
    assert f"sec-websocket-accept: {WS_ACCEPT}".encode() in head.lower().replace(
        WS_ACCEPT.lower().encode(), WS_ACCEPT.encode())
    lines = wait_for_lines(https.gateway.state_dir / "logs" / "access.log",
                           "shop.test", "/ws?room=7")
    assert lines, "the WebSocket connection has its audit record"


def test_a_post_with_a_protective_marking_is_blocked_inside_tls(https: HttpsWorld) -> None:
    https.sites.reset()
    post = ("status=OFFICIAL-SENSITIVE%0AOperation details for tonight's warrant at "
            "the usual address")
    result = curl_https(https, https.url("social.test", "/echo"), "--data", post)
    assert status(result) == 403, result.stderr
    page = body(result)
    assert "protective marking" in page.lower()
    assert "warrant" not in page  # the page says what was found, not the whole post
    assert not https.sites.requests, "nothing of a blocked post reaches the site"
    lines = wait_for_lines(https.gateway.state_dir / "logs" / "access.log",
                           "POST https://social.test")
    assert lines and "TCP_DENIED/403" in lines[-1], lines


def test_a_clean_post_passes_and_its_body_arrives_whole(https: HttpsWorld) -> None:
    https.sites.reset()
    post = "status=Lovely walk along the Thames this morning, views are my own"
    result = curl_https(https, https.url("social.test", "/echo"), "--data", post)
    assert status(result) == 200, result.stderr
    echoed = json.loads(body(result))
    assert echoed["body_length"] == len(post)


def test_an_uploaded_document_with_a_national_insurance_number_is_blocked(
    https: HttpsWorld, tmp_path: Path
) -> None:
    import zipfile

    document = tmp_path / "notes.docx"
    with zipfile.ZipFile(document, "w") as docx:
        docx.writestr("[Content_Types].xml",
                      '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                      'package/2006/content-types"><Override PartName="/word/document.xml" '
                      'ContentType="application/vnd.openxmlformats-officedocument.'
                      'wordprocessingml.document.main+xml"/></Types>')
        docx.writestr("word/document.xml",
                      '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats'
                      '.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Witness NI '
                      'number AB 12 34 56 C, interviewed Tuesday.</w:t></w:r></w:p></w:body>'
                      '</w:document>')
    https.sites.reset()
    result = curl_https(https, https.url("social.test", "/upload"),
                        "-F", f"file=@{document}", "-F", "caption=holiday snaps")
    assert status(result) == 403, result.stderr
    page = body(result)
    assert "National Insurance" in page
    assert "AB 12 34 56 C" not in page and "123456" not in page
    assert not https.sites.requests


def test_an_executable_inside_a_zip_is_blocked_like_a_bare_one(https: HttpsWorld) -> None:
    result = curl_https(https, https.url("shop.test", "/tools.zip"))
    assert status(result) == 403, result.stderr
    page = body(result)
    assert "setup.exe" in page and "zip" in page.lower()


def test_a_zip_of_documents_downloads_whole(https: HttpsWorld) -> None:
    from tests.integration.gateway.origin import DOCS_ZIP

    result = subprocess.run(
        ["curl", "-s", "-S", "--max-time", "20", "-x", https.gateway.proxy, "-U",
         "pc1001:demo", "--cacert", str(https.gateway_ca), https.url("shop.test", "/docs.zip")],
        capture_output=True, env=clean_env(), timeout=40, check=False,
    )
    assert result.stdout == DOCS_ZIP, result.stderr
