"""Fixtures for the gateway's end-to-end tests: real origins on loopback, a real gateway
process, real clients (curl, raw sockets, headless Chromium).

Addresses used (all loopback):
- 127.0.0.20: the HTTP origin, and an uncategorised HTTPS origin;
- 127.0.0.21: an HTTPS origin listed as a bank (a personal secure session, G6);
- 127.0.0.1 and 127.0.0.9: canaries on one port that must never be connected to;
- clients: 127.0.0.1 (workstation), 127.0.0.5 (covert standalone), 127.0.0.8 (unregistered).

The gateway runs with `--allow-destination` for the two origin addresses only, which is
what lets it reach them at all (loopback is otherwise refused).
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.integration.gateway.origin import Canary, Origin, Servers

from webwarden.categories.shipped import shipped_category_names
from webwarden.policy.shipped import default_policy_paths

ORIGIN_HOST = "127.0.0.20"
BANK_HOST = "127.0.0.21"
HERE = Path(__file__).resolve().parent
LAUNCH = "import sys; from webwarden.cli import main; sys.exit(main())"

pytestmark = pytest.mark.integration


def basic(user: str, password: str = "demo") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return env


@dataclass
class Gateway:
    process: subprocess.Popen[bytes]
    proxy_port: int
    admin_port: int
    state_dir: Path
    out: Path
    err: Path

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def admin(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def log(self) -> str:
        return self.out.read_text() + self.err.read_text()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


def start_gateway(tmp: Path, *args: str, env: dict[str, str] | None = None) -> Gateway:
    """Start `webwarden gateway` on free ports and wait until it says it is listening."""
    state = tmp / "state"
    out, err = tmp / "gateway.out", tmp / "gateway.err"
    argv = [
        sys.executable, "-c", LAUNCH, "gateway",
        "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
        "--state-dir", str(state), *args,
    ]
    process = subprocess.Popen(
        argv, stdout=out.open("wb"), stderr=err.open("wb"), stdin=subprocess.DEVNULL,
        env=env or clean_env(),
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        text = out.read_text()
        for line in text.splitlines():
            if line.startswith("webwarden gateway listening:"):
                fields = dict(f.split("=", 1) for f in line.split()[3:])
                return Gateway(
                    process,
                    int(fields["proxy"].rsplit(":", 1)[1]),
                    int(fields["admin"].rsplit(":", 1)[1]),
                    state, out, err,
                )
        if process.poll() is not None:
            raise RuntimeError(f"gateway exited: {err.read_text()}")
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"gateway did not start: {err.read_text()}")


def build_test_lists(folder: Path) -> Path:
    """A tiny UT1-style list set with every shipped category name (the policies name
    them), plus the test hosts; compiled with `webwarden categories build`."""
    lists = folder / "ut1"
    for name in shipped_category_names():
        (lists / name).mkdir(parents=True, exist_ok=True)
        (lists / name / "domains").write_text(f"{name}.test\n")
    (lists / "gambling" / "domains").write_text("gambling.test\ngamble.test\n")
    (lists / "gambling" / "urls").write_text(f"{ORIGIN_HOST}/gamble\n")
    (lists / "bank" / "domains").write_text(f"bank.test\n{BANK_HOST}\n")
    (lists / "bank" / "urls").write_text(f"{ORIGIN_HOST}/bank\n")
    (lists / "webmail" / "domains").write_text("webmail.test\n")
    snapshot = folder / "test.wwcat"
    subprocess.run(
        [sys.executable, "-c", LAUNCH, "categories", "build", "--source", f"ut1:{lists}",
         "--output", str(snapshot)],
        check=True, capture_output=True, env={**clean_env(), "WEBWARDEN_STATE_DIR":
                                             str(folder / "state")},
    )
    return snapshot


def test_policy(folder: Path) -> Path:
    """The shipped 2013 regime with the download size limit cut to 1 MB, so the size
    rule can be exercised with small bodies."""
    text = default_policy_paths()[-1].read_text()
    if "size_over: 250MB" not in text:
        raise AssertionError("the shipped 2013 policy no longer has 'size_over: 250MB'")
    path = folder / "policy-2013-1mb.yaml"
    path.write_text(text.replace("size_over: 250MB", "size_over: 1MB"))
    return path


def make_tls_context(folder: Path) -> tuple[ssl.SSLContext, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-subj", "/CN=origin.test", "-days", "2"],
        check=True, capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, cert


@dataclass
class World:
    servers: Servers
    origin: Origin
    tls_origin: Origin
    bank_origin: Origin
    canary: Canary
    snapshot: Path
    policy: Path
    folder: Path


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("gateway-world")
    servers = Servers()
    context, _cert = make_tls_context(folder)
    from tests.integration.gateway.origin import BANK, SECURE

    world = World(
        servers=servers,
        origin=servers.start_origin(ORIGIN_HOST),
        tls_origin=servers.start_origin(ORIGIN_HOST, tls=context, page=SECURE),
        bank_origin=servers.start_origin(BANK_HOST, tls=context, page=BANK),
        canary=servers.start_canary(["127.0.0.1", "127.0.0.9"]),
        snapshot=build_test_lists(folder),
        policy=test_policy(folder),
        folder=folder,
    )
    yield world
    servers.stop()
    assert world.canary.hits == 0, "the gateway connected to an address it must never reach"


@pytest.fixture(scope="session")
def gateway(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("gateway")
    ports = f"443,{world.tls_origin.port},{world.bank_origin.port}"
    gw = start_gateway(
        tmp,
        "--policy", str(world.policy),
        "--categories", str(world.snapshot),
        "--allow-destination", f"{ORIGIN_HOST}/32",
        "--allow-destination", f"{BANK_HOST}/32",
        "--connect-ports", ports,
        "--head-timeout", "1.5",
    )
    yield gw
    gw.stop()
    assert "Traceback" not in gw.err.read_text(), "the gateway logged an unexpected error"


def curl(gateway: Gateway, *args: str, user: str | None = "pc1001", password: str = "demo",
         interface: str | None = None, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """curl through the gateway; `-w` prints the status last, after a newline."""
    argv = ["curl", "-s", "-S", "--max-time", str(timeout), "-x", gateway.proxy,
            "-w", "\n%{http_code}"]
    if user is not None:
        argv += ["-U", f"{user}:{password}"]
    if interface is not None:
        argv += ["--interface", interface]
    return subprocess.run(argv + list(args), check=False, capture_output=True, text=True,
                          env=clean_env(), timeout=timeout + 10)


def status_of(result: subprocess.CompletedProcess[str]) -> int:
    return int(result.stdout.rsplit("\n", 1)[-1] or 0)


def body_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.rsplit("\n", 1)[0]


def wait_for_lines(path: Path, *wanted: str, timeout: float = 5.0) -> list[str]:
    """Lines of a log containing every one of `wanted`, waiting briefly: a record is written
    just after the last byte of its response, so the client may be done a moment before
    the log line is."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in path.read_text().splitlines()
                 if all(w in line for w in wanted)]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def raw_exchange(port: int, data: bytes, *, read_timeout: float = 5.0,
                 source: str | None = None, until_close: bool = False) -> bytes:
    """Send raw bytes to the proxy; read until it closes, or until one whole response
    with a Content-Length has arrived, or the timeout."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout,
                                  source_address=(source, 0) if source else None) as sock:
        sock.sendall(data)
        reply = b""
        try:
            while until_close or not _complete(reply):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return reply


def _complete(reply: bytes) -> bool:
    head, sep, body = reply.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False
