"""Leaves minted per host: real handshakes on 127.0.0.1 against a client that trusts only
the exported CA, openssl's own verdict, the cache, and two processes minting at once."""

from __future__ import annotations

import multiprocessing
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from webwarden.gateway.tls.authority import export_certificates, init_ca, load_ca
from webwarden.gateway.tls.leaves import HostNameError, LeafCacheError, LeafMinter, leaf_host

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def real_now() -> datetime:
    return datetime.now(UTC)


def handshake(server: ssl.SSLContext, client: ssl.SSLContext, name: str) -> str | None:
    """Connect over TCP on 127.0.0.1; the ALPN protocol chosen, or the client's error."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with server.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass
        finally:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                client.wrap_socket(raw, server_hostname=name) as tls:
            return tls.selected_alpn_protocol()
    finally:
        thread.join(5)
        listener.close()


def trusting(ca_pem: bytes) -> ssl.SSLContext:
    client = ssl.create_default_context(cadata=ca_pem.decode())  # only this CA
    client.set_alpn_protocols(["h2", "http/1.1"])
    return client


@pytest.fixture
def ca_dir(tmp_path: Path) -> Path:
    init_ca(tmp_path / "ca", now=NOW - timedelta(days=1))
    return tmp_path / "ca"


@pytest.fixture
def minter(ca_dir: Path, tmp_path: Path) -> LeafMinter:
    return LeafMinter(load_ca(ca_dir, NOW), tmp_path / "leaves", now=real_now)


@pytest.mark.parametrize(("host", "client_asks_for", "ok"), [
    ("intranet.example.police.uk", "intranet.example.police.uk", True),
    ("www.gov.uk", "www.gov.uk", True),
    ("WWW.GOV.UK.", "www.gov.uk", True),
    ("xn--bcher-kva.example", "xn--bcher-kva.example", True),
    ("127.0.0.1", "127.0.0.1", True),
    ("[::1]", "::1", True),
    ("www.gov.uk", "www.bbc.co.uk", False),
    ("www.gov.uk", "evil.www.gov.uk", False),
    ("127.0.0.1", "127.0.0.2", False),
])
def test_handshake_succeeds_only_for_the_name_minted(
    ca_dir: Path, minter: LeafMinter, host: str, client_asks_for: str, ok: bool
) -> None:
    client = trusting(export_certificates(ca_dir, der=False, now=NOW))
    server = minter.context_for(host)
    if ok:
        assert handshake(server, client, client_asks_for) == "http/1.1"
    else:
        with pytest.raises(ssl.SSLCertVerificationError) as caught:
            handshake(server, client, client_asks_for)
        assert caught.value.verify_code in (62, 64)  # hostname / IP address mismatch


def test_a_client_that_does_not_trust_the_ca_refuses(minter: LeafMinter, tmp_path: Path) -> None:
    other = init_ca(tmp_path / "other", now=NOW - timedelta(days=1))
    client = trusting(other.certificate_path.read_bytes())
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(minter.context_for("www.gov.uk"), client, "www.gov.uk")


def test_openssl_verifies_the_leaf_against_the_exported_ca(
    ca_dir: Path, minter: LeafMinter, tmp_path: Path
) -> None:
    (tmp_path / "ca.pem").write_bytes(export_certificates(ca_dir, der=False, now=NOW))
    (tmp_path / "leaf.pem").write_bytes(minter.certificate_pem_for("portal.example.police.uk"))
    for name, ok in (("portal.example.police.uk", True), ("other.example.police.uk", False)):
        done = subprocess.run(
            ["openssl", "verify", "-CAfile", str(tmp_path / "ca.pem"), "-purpose", "sslserver",
             "-verify_hostname", name, str(tmp_path / "leaf.pem")],
            capture_output=True, text=True, check=False,
        )
        assert (done.returncode == 0) == ok, done.stdout + done.stderr
        if ok:
            assert done.stdout.strip().endswith(": OK")


def test_leaf_fields(minter: LeafMinter) -> None:
    leaf = x509.load_pem_x509_certificate(minter.certificate_pem_for("www.gov.uk"))
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.value.get_values_for_type(x509.DNSName) == ["www.gov.uk"]
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert leaf.issuer == minter.ca.certificate.subject
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert lifetime == timedelta(days=7, hours=1)
    assert leaf.public_key() == minter.key.public_key()
    ip = x509.load_pem_x509_certificate(minter.certificate_pem_for("10.20.30.40"))
    assert [str(a) for a in ip.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.IPAddress)] == ["10.20.30.40"]


def test_a_name_too_long_for_the_subject_goes_in_a_critical_san(minter: LeafMinter) -> None:
    host = "a" * 60 + ".example.police.uk"
    leaf = x509.load_pem_x509_certificate(minter.certificate_pem_for(host))
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME) == []
    assert leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).critical


@pytest.mark.parametrize(("given", "expected"), [
    ("Bücher.example", "xn--bcher-kva.example"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("www.gov.uk.", "www.gov.uk"),
    ("[2001:db8::1]", "2001:db8::1"),
    ("_dmarc.example.com", "_dmarc.example.com"),
])
def test_host_normalisation(given: str, expected: str) -> None:
    assert leaf_host(given).name == expected


@pytest.mark.parametrize("bad", [
    "", ".", "exa mple.com", "-bad.example", "bad-.example", "a" * 64 + ".example",
    "foo..example", "example.com:443", "ex*ample.com", "x" * 250 + ".example",
])
def test_not_a_host_is_refused_and_nothing_is_written(minter: LeafMinter, bad: str) -> None:
    before = sorted(p.name for p in minter.directory.iterdir())
    with pytest.raises(HostNameError, match="not a"):
        minter.context_for(bad)
    assert sorted(p.name for p in minter.directory.iterdir()) == before


def test_each_host_costs_one_signature_for_every_worker(ca_dir: Path, tmp_path: Path) -> None:
    ca = load_ca(ca_dir, NOW)
    first = LeafMinter(ca, tmp_path / "leaves", now=real_now)
    context = first.context_for("www.gov.uk")
    assert first.context_for("WWW.GOV.UK") is context  # memoised in memory
    assert first.signed == 1
    second = LeafMinter(ca, tmp_path / "leaves", now=real_now)  # another worker
    second.context_for("www.gov.uk")
    assert second.signed == 0  # it used the file the first one wrote
    assert second.key.public_key() == first.key.public_key()
    pems = sorted(p.name for p in first.directory.iterdir())
    assert pems == ["leaf.key", "www.gov.uk.pem"]
    assert all(p.stat().st_mode & 0o077 == 0 for p in first.directory.iterdir())


def test_a_leaf_near_its_end_is_minted_again(ca_dir: Path, tmp_path: Path) -> None:
    clock = Clock(NOW)
    minter = LeafMinter(load_ca(ca_dir, NOW), tmp_path / "leaves", now=clock)
    old = minter.context_for("www.gov.uk")
    clock.at = NOW + timedelta(days=5, hours=23)  # 1 day 1 hour left: still fine
    assert minter.context_for("www.gov.uk") is old and minter.signed == 1
    clock.at = NOW + timedelta(days=6, hours=1)  # under a day left
    assert minter.context_for("www.gov.uk") is not old and minter.signed == 2
    leaf = x509.load_pem_x509_certificate(minter.certificate_pem_for("www.gov.uk"))
    assert leaf.not_valid_after_utc == clock.at + timedelta(days=7)
    # Another worker starting now finds the renewed file, not the old one.
    other = LeafMinter(load_ca(ca_dir, NOW), tmp_path / "leaves", now=clock)
    other.context_for("www.gov.uk")
    assert other.signed == 0


def test_a_damaged_leaf_file_is_replaced(minter: LeafMinter) -> None:
    minter.certificate_pem_for("www.gov.uk")
    (minter.directory / "www.gov.uk.pem").write_text("garbage")
    fresh = LeafMinter(minter.ca, minter.directory.parent, now=real_now)
    fresh.context_for("www.gov.uk")
    assert fresh.signed == 1
    x509.load_pem_x509_certificates((minter.directory / "www.gov.uk.pem").read_bytes())


def test_the_memory_cache_is_bounded(ca_dir: Path, tmp_path: Path) -> None:
    minter = LeafMinter(load_ca(ca_dir, NOW), tmp_path / "leaves", now=real_now, capacity=2)
    a = minter.context_for("a.example")
    minter.context_for("b.example")
    assert minter.context_for("a.example") is a  # a is now the most recent
    minter.context_for("c.example")  # evicts b
    assert minter.context_for("a.example") is a
    assert minter.signed == 3
    minter.context_for("b.example")  # rebuilt from its file, no new signature
    assert minter.signed == 3


def _mint_in_child(ca_dir: str, cache: str, host: str, start: object, results: object) -> None:
    ca = load_ca(Path(ca_dir), datetime.now(UTC))
    minter = LeafMinter(ca, Path(cache), now=real_now)
    start.wait()  # type: ignore[attr-defined]
    context = minter.context_for(host)
    client = trusting(export_certificates(Path(ca_dir), der=False, now=datetime.now(UTC)))
    alpn = handshake(context, client, host)
    results.put((alpn, minter.certificate_pem_for(host)))  # type: ignore[attr-defined]


def test_two_processes_minting_the_same_host_share_one_file(
    ca_dir: Path, tmp_path: Path
) -> None:
    mp = multiprocessing.get_context("spawn")
    start = mp.Barrier(2)
    results = mp.Queue()
    cache = tmp_path / "leaves"
    children = [
        mp.Process(target=_mint_in_child,
                   args=(str(ca_dir), str(cache), "www.gov.uk", start, results))
        for _ in range(2)
    ]
    for child in children:
        child.start()
    got = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    assert [alpn for alpn, _ in got] == ["http/1.1", "http/1.1"]  # both contexts work
    (folder,) = cache.iterdir()
    assert sorted(p.name for p in folder.iterdir()) == ["leaf.key", "www.gov.uk.pem"]
    on_disk = x509.load_pem_x509_certificates((folder / "www.gov.uk.pem").read_bytes())[0]
    for _, pem in got:  # one leaf key for both processes
        assert x509.load_pem_x509_certificate(pem).public_key() == on_disk.public_key()


def test_a_leaf_cut_short_by_the_ca_is_not_signed_again_and_again(tmp_path: Path) -> None:
    init_ca(tmp_path / "short", now=NOW, validity=timedelta(days=3))
    clock = Clock(NOW + timedelta(days=2, hours=12))  # the CA has 12 hours left
    minter = LeafMinter(load_ca(tmp_path / "short", clock.at), tmp_path / "leaves", now=clock)
    context = minter.context_for("www.gov.uk")
    leaf = x509.load_pem_x509_certificate(minter.certificate_pem_for("www.gov.uk"))
    assert leaf.not_valid_after_utc == minter.ca.certificate.not_valid_after_utc
    assert minter.context_for("www.gov.uk") is context and minter.signed == 1


@pytest.mark.parametrize(("breakage", "message"), [
    (lambda key: key.chmod(0o644), "readable by others"),
    (lambda key: key.write_text("garbage"), "not a PEM private key"),
])
def test_an_unsafe_or_damaged_leaf_key_is_refused(
    minter: LeafMinter, breakage: Callable[[Path], None], message: str
) -> None:
    breakage(minter.key_path)
    with pytest.raises(LeafCacheError, match=message):
        LeafMinter(minter.ca, minter.directory.parent, now=real_now)


def test_a_cache_folder_shared_with_others_is_refused(ca_dir: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    (shared / "other.txt").write_text("not ours")
    with pytest.raises(LeafCacheError, match="can be read by others"):
        LeafMinter(load_ca(ca_dir, NOW), shared, now=real_now)
    assert sorted(p.name for p in shared.iterdir()) == ["other.txt"]
