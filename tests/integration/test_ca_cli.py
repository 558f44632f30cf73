"""`webwarden ca …` run the way an administrator runs it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

pytestmark = pytest.mark.integration


def webwarden(*args: str, state: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "webwarden", "ca", *args],
                          capture_output=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONWARNINGS": "ignore",
                               "WEBWARDEN_STATE_DIR": str(state)})


def sha256(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def test_init_export_rotate_status(tmp_path: Path) -> None:
    state = tmp_path / "state"
    done = webwarden("init", "--name", "Example Constabulary gateway CA", state=state)
    assert done.returncode == 0, done.stderr
    ca_dir = state / "ca"  # the default: <state dir>/ca
    key = ca_dir / "ca-1.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(ca_dir.stat().st_mode) == 0o700
    first_key = key.read_bytes()

    refused = webwarden("init", state=state)
    assert refused.returncode == 2
    assert b"already exists" in refused.stderr and b"--force" in refused.stderr
    assert b"Traceback" not in refused.stderr
    assert key.read_bytes() == first_key  # nothing changed

    exported = webwarden("export", state=state)
    assert exported.returncode == 0, exported.stderr
    (cert,) = x509.load_pem_x509_certificates(exported.stdout)
    assert "CN=Example Constabulary gateway CA" in cert.subject.rfc4514_string()
    assert sha256(cert).encode() in webwarden("status", state=state).stdout

    der_file = tmp_path / "ca.der"
    done = webwarden("export", "--der", str(der_file), state=state)
    assert done.returncode == 0, done.stderr
    assert x509.load_der_x509_certificate(der_file.read_bytes()) == cert

    forced = webwarden("init", "--force", state=state)
    assert forced.returncode == 0, forced.stderr
    (replaced,) = x509.load_pem_x509_certificates(webwarden("export", state=state).stdout)
    assert replaced != cert and not key.exists()

    rotated = webwarden("rotate", "--grace-days", "14", state=state)
    assert rotated.returncode == 0, rotated.stderr
    pem_file = tmp_path / "bundle.pem"
    assert webwarden("export", str(pem_file), state=state).returncode == 0
    both = x509.load_pem_x509_certificates(pem_file.read_bytes())
    assert len(both) == 2 and both[0] == replaced  # the signing one first
    der = webwarden("export", "--der", state=state).stdout
    assert x509.load_der_x509_certificate(der) == replaced  # DER: the signing one only

    shown = webwarden("status", state=state)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout.decode()
    assert f"signing now: generation 2 ({sha256(replaced)})" in text
    assert "rotation under way" in text
    assert sha256(both[1]) in text and ": pending" in text


@pytest.mark.parametrize(("args", "message"), [
    (("export",), b"there is no CA"),
    (("status",), b"there is no CA"),
    (("rotate",), b"there is no CA"),
    (("rotate", "--grace-days", "-3"), b"cannot be negative"),
    (("init", "--name", ""), b"1 to 64 characters"),
])
def test_mistakes_exit_2_with_a_message(tmp_path: Path, args: tuple[str, ...],
                                        message: bytes) -> None:
    done = webwarden(*args, state=tmp_path / "state")
    assert done.returncode == 2
    assert message in done.stderr and b"Traceback" not in done.stderr
    assert not (tmp_path / "state" / "ca" / "ca.json").exists()


def test_an_unsafe_key_is_reported_by_status(tmp_path: Path) -> None:
    assert webwarden("init", state=tmp_path).returncode == 0
    os.chmod(tmp_path / "ca" / "ca-1.key", 0o644)
    done = webwarden("status", state=tmp_path)
    assert done.returncode == 2
    assert b"readable by others (mode 0644)" in done.stderr


def test_an_explicit_directory(tmp_path: Path) -> None:
    ca_dir = tmp_path / "elsewhere"
    assert webwarden("init", "--dir", str(ca_dir), state=tmp_path / "unused").returncode == 0
    done = webwarden("export", "--dir", str(ca_dir), state=tmp_path / "unused")
    assert done.returncode == 0 and done.stdout.startswith(b"-----BEGIN CERTIFICATE-----")
    assert not (tmp_path / "unused").exists()
