"""The CA on disk: creation, refusal to overwrite, loading checks, rotation, export."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from webwarden.gateway.tls.authority import (
    CaError,
    export_certificates,
    fingerprint,
    init_ca,
    load_ca,
    rotate_ca,
    status,
)

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_init_writes_a_p256_ca_with_the_right_extensions_and_modes(tmp_path: Path) -> None:
    directory = tmp_path / "state" / "ca"
    old_umask = os.umask(0)  # the modes must not depend on the umask
    try:
        files = init_ca(directory, name="Example Constabulary gateway CA", now=NOW)
    finally:
        os.umask(old_umask)
    assert mode(directory) == 0o700
    assert mode(files.key_path) == 0o600
    cert = x509.load_pem_x509_certificate(files.certificate_path.read_bytes())
    assert fingerprint(cert) == files.fingerprint
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert isinstance(cert.public_key().curve, ec.SECP256R1)  # type: ignore[union-attr]
    assert cert.subject == cert.issuer
    assert "CN=Example Constabulary gateway CA" in cert.subject.rfc4514_string()
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca and basic.value.path_length == 0
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert cert.not_valid_before_utc < NOW
    assert cert.not_valid_after_utc - NOW == timedelta(days=3652)
    cert.verify_directly_issued_by(cert)  # self-signed, signature good


def test_init_refuses_to_overwrite_and_force_replaces(tmp_path: Path) -> None:
    first = init_ca(tmp_path / "ca", now=NOW)
    before = snapshot(tmp_path / "ca")
    with pytest.raises(CaError, match=r"already exists.*--force"):
        init_ca(tmp_path / "ca", now=NOW)
    assert snapshot(tmp_path / "ca") == before
    second = init_ca(tmp_path / "ca", now=NOW, force=True)
    assert second.fingerprint != first.fingerprint
    assert not first.key_path.exists() and not first.certificate_path.exists()
    assert load_ca(tmp_path / "ca", NOW).fingerprint == second.fingerprint


@pytest.mark.parametrize("name", ["", "   ", "x" * 65])
def test_init_rejects_a_bad_name_and_writes_nothing(tmp_path: Path, name: str) -> None:
    with pytest.raises(CaError, match="name"):
        init_ca(tmp_path / "ca", name=name, now=NOW)
    assert not (tmp_path / "ca").exists()


def test_init_needs_an_aware_time(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="time zone"):
        init_ca(tmp_path / "ca", now=datetime(2026, 3, 3, 10, 0))


def test_init_refuses_a_file_in_place_of_the_directory(tmp_path: Path) -> None:
    (tmp_path / "ca").write_text("not a directory")
    with pytest.raises(CaError, match="not a directory"):
        init_ca(tmp_path / "ca", now=NOW)


def test_load_returns_the_key_of_the_certificate(tmp_path: Path) -> None:
    files = init_ca(tmp_path / "ca", now=NOW)
    ca = load_ca(tmp_path / "ca", NOW + timedelta(days=100))
    assert ca.fingerprint == files.fingerprint
    assert ca.private_key.public_key() == ca.certificate.public_key()
    assert ca.generation == 1 and ca.signing_until is None
    assert ca.trusted == (ca.certificate,)


def _other_key_pem() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _chmod(mode_bits: int) -> Callable[[Path], None]:
    return lambda d: os.chmod(d / "ca-1.key", mode_bits)


BREAKAGES: list[tuple[str, Callable[[Path], None], str]] = [
    ("group-readable key", _chmod(0o640), r"readable by others \(mode 0640\).*chmod 600"),
    ("world-readable key", _chmod(0o604), r"readable by others \(mode 0604\)"),
    ("key of another CA", lambda d: (d / "ca-1.key").write_bytes(_other_key_pem()),
     "does not belong to the certificate"),
    ("key missing", lambda d: (d / "ca-1.key").unlink(), "cannot read the CA private key"),
    ("key not PEM", lambda d: (d / "ca-1.key").write_bytes(b"garbage"),
     "not an unencrypted PEM private key"),
    ("certificate not PEM", lambda d: (d / "ca-1.pem").write_text("garbage"),
     "is not a PEM certificate"),
    ("certificate missing", lambda d: (d / "ca-1.pem").unlink(), "cannot read the CA certificate"),
    ("state not JSON", lambda d: (d / "ca.json").write_text("{"), "not valid JSON"),
    ("state damaged", lambda d: (d / "ca.json").write_text('{"format": 1}'), "damaged"),
    ("state of a newer format", lambda d: (d / "ca.json").write_text('{"format": 9}'),
     "format 9"),
    ("state missing", lambda d: (d / "ca.json").unlink(), "incomplete"),
]


@pytest.mark.parametrize(("label", "breakage", "message"), BREAKAGES,
                         ids=[b[0] for b in BREAKAGES])
def test_load_refuses_a_broken_or_unsafe_ca(
    tmp_path: Path, label: str, breakage: Callable[[Path], None], message: str
) -> None:
    init_ca(tmp_path / "ca", now=NOW)
    breakage(tmp_path / "ca")
    with pytest.raises(CaError, match=message):
        load_ca(tmp_path / "ca", NOW)


@pytest.mark.parametrize(("when", "message"), [
    (NOW + timedelta(days=3653), "not now"),  # expired
    (NOW - timedelta(days=1), "signs yet"),  # clock set back before the CA existed
])
def test_load_refuses_a_ca_outside_its_validity(
    tmp_path: Path, when: datetime, message: str
) -> None:
    init_ca(tmp_path / "ca", now=NOW)
    with pytest.raises(CaError, match=message):
        load_ca(tmp_path / "ca", when)


def test_load_says_how_to_create_a_missing_ca(tmp_path: Path) -> None:
    with pytest.raises(CaError, match=r"no CA in .*webwarden ca init"):
        load_ca(tmp_path / "nothing", NOW)
    with pytest.raises(CaError, match="no CA"):
        export_certificates(tmp_path / "nothing", der=False, now=NOW)


def _certs(pem: bytes) -> list[str]:
    return [fingerprint(c) for c in x509.load_pem_x509_certificates(pem)]


def test_rotation_exports_both_until_the_grace_period_ends(tmp_path: Path) -> None:
    directory = tmp_path / "ca"
    old = init_ca(directory, now=NOW)
    rotated_at = NOW + timedelta(days=400)
    new = rotate_ca(directory, grace=timedelta(days=30), now=rotated_at)
    assert new.signs_from == rotated_at + timedelta(days=30)
    assert mode(new.key_path) == 0o600

    during = rotated_at + timedelta(days=29)
    ca = load_ca(directory, during)
    assert ca.fingerprint == old.fingerprint  # the old one still signs
    assert ca.signing_until == new.signs_from
    assert _certs(export_certificates(directory, der=False, now=during)) == [
        old.fingerprint, new.fingerprint]
    der = export_certificates(directory, der=True, now=during)
    assert fingerprint(x509.load_der_x509_certificate(der)) == old.fingerprint
    roles = {g.number: role for g, role in status(directory, during)}
    assert roles == {1: "signing", 2: "pending"}
    # Two generations trusted side by side never share a subject.
    a, b = (x509.load_pem_x509_certificate(p.read_bytes()) for p in
            (old.certificate_path, new.certificate_path))
    assert a.subject != b.subject

    after = new.signs_from
    ca = load_ca(directory, after)
    assert ca.fingerprint == new.fingerprint and ca.signing_until is None
    assert _certs(export_certificates(directory, der=False, now=after)) == [new.fingerprint]
    assert {g.number: role for g, role in status(directory, after)} == {
        1: "retired", 2: "signing"}


def test_a_second_rotation_waits_for_the_first_and_drops_retired_generations(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "ca"
    first = init_ca(directory, now=NOW)
    rotate_ca(directory, grace=timedelta(days=30), now=NOW)
    before = snapshot(directory)
    with pytest.raises(CaError, match="already under way"):
        rotate_ca(directory, grace=timedelta(days=1), now=NOW + timedelta(days=10))
    assert snapshot(directory) == before
    third = rotate_ca(directory, grace=timedelta(0), now=NOW + timedelta(days=31))
    assert not first.key_path.exists()  # generation 1 retired before generation 2 signed
    ca = load_ca(directory, NOW + timedelta(days=31))
    assert ca.fingerprint == third.fingerprint  # no grace: signs at once
    assert _certs(export_certificates(directory, der=False, now=NOW + timedelta(days=31))) == [
        third.fingerprint]
    state = json.loads((directory / "ca.json").read_text())
    assert [g["number"] for g in state["generations"]] == [2, 3]


@pytest.mark.parametrize(("grace", "message"), [
    (timedelta(days=-1), "negative"),
    (timedelta(days=3653), "after the current CA expires"),
])
def test_rotation_refuses_a_bad_grace_period(
    tmp_path: Path, grace: timedelta, message: str
) -> None:
    init_ca(tmp_path / "ca", now=NOW)
    before = snapshot(tmp_path / "ca")
    with pytest.raises(CaError, match=message):
        rotate_ca(tmp_path / "ca", grace=grace, now=NOW)
    assert snapshot(tmp_path / "ca") == before


def test_rotation_refuses_a_broken_ca(tmp_path: Path) -> None:
    init_ca(tmp_path / "ca", now=NOW)
    os.chmod(tmp_path / "ca" / "ca-1.key", 0o644)
    with pytest.raises(CaError, match="readable by others"):
        rotate_ca(tmp_path / "ca", grace=timedelta(days=30), now=NOW)
    assert not (tmp_path / "ca" / "ca-2.pem").exists()


def test_export_reads_no_private_key(tmp_path: Path) -> None:
    files = init_ca(tmp_path / "ca", now=NOW)
    files.key_path.unlink()  # the admin port may run where the key is out of reach
    pem = export_certificates(tmp_path / "ca", der=False, now=NOW)
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----") and pem.count(b"BEGIN") == 1


def test_an_expired_ca_can_only_be_replaced_at_once(tmp_path: Path) -> None:
    old = init_ca(tmp_path / "ca", now=NOW, validity=timedelta(days=30))
    later = NOW + timedelta(days=31)
    with pytest.raises(CaError, match="--grace-days 0"):
        load_ca(tmp_path / "ca", later)
    with pytest.raises(CaError, match=r"expired on 2026-04-02.*--grace-days 0"):
        rotate_ca(tmp_path / "ca", grace=timedelta(days=30), now=later)
    new = rotate_ca(tmp_path / "ca", grace=timedelta(0), now=later)
    assert load_ca(tmp_path / "ca", later).fingerprint == new.fingerprint != old.fingerprint
    assert _certs(export_certificates(tmp_path / "ca", der=False, now=later)) == [
        new.fingerprint]


def test_init_leaves_a_shared_directory_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    (shared / "notes.txt").write_text("someone else's")
    with pytest.raises(CaError, match="can be read by others and already holds files"):
        init_ca(shared, now=NOW)
    assert mode(shared) == 0o755 and sorted(p.name for p in shared.iterdir()) == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    os.chmod(empty, 0o755)
    init_ca(empty, now=NOW)
    assert mode(empty) == 0o700
