"""Upstream verification against real HTTPS servers on 127.0.0.1 whose certificates are made
here: each way a certificate can be wrong is recognised and put in words."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from webwarden.gateway.tls.verify import (
    BundleError,
    VerifyFailure,
    explain_verify_failure,
    upstream_context,
)

NOW = datetime.now(UTC).replace(microsecond=0)
SITE = "intranet.example.police.uk"


@dataclass
class Issuer:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_root(cn: str) -> Issuer:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=30)).not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return Issuer(key, cert)


def make_leaf(
    issuer: Issuer | None, names: list[str], *, start: datetime, end: datetime,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A server certificate; `issuer` None makes it self-signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(names[0])
    builder = (
        x509.CertificateBuilder().subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    return key, builder.sign(issuer.key if issuer else key, hashes.SHA256())


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Pki:
    root: Issuer
    stranger: Issuer  # a root the gateway does not trust
    bundle: Path
    folder: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    root = make_root("Example Constabulary Root CA")
    bundle = folder / "bundle.pem"
    bundle.write_bytes(pem(root.cert))
    return Pki(root, make_root("Unknown Issuer Root"), bundle, folder)


class Server:
    """An HTTPS server on 127.0.0.1 that presents one certificate (and its issuer)."""

    def __init__(self, folder: Path, key: ec.EllipticCurvePrivateKey,
                 chain: list[x509.Certificate]) -> None:
        self.folder = folder
        cert_file = folder / f"server-{id(self)}.pem"
        key_file = folder / f"server-{id(self)}.key"
        cert_file.write_bytes(b"".join(pem(c) for c in chain))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.set_alpn_protocols(["h2", "http/1.1"])
        self.context.load_cert_chain(cert_file, key_file)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        except (ssl.SSLError, OSError):
            pass
        finally:
            conn.close()

    def connect(self, context: ssl.SSLContext, name: str = SITE) -> str | None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as raw, \
                    context.wrap_socket(raw, server_hostname=name) as tls:
                return tls.selected_alpn_protocol()
        finally:
            self.thread.join(5)
            self.listener.close()


def serve(pki: Pki, case: str) -> tuple[Server, x509.Certificate]:
    valid = {"start": NOW - timedelta(days=1), "end": NOW + timedelta(days=90)}
    if case == "valid":
        key, cert = make_leaf(pki.root, [SITE], **valid)
    elif case == "expired":
        key, cert = make_leaf(pki.root, [SITE], start=datetime(2025, 3, 1, tzinfo=UTC),
                              end=datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    elif case == "not-yet-valid":
        key, cert = make_leaf(pki.root, [SITE], start=NOW + timedelta(days=10),
                              end=NOW + timedelta(days=100))
    elif case == "wrong-name":
        key, cert = make_leaf(pki.root, ["www.example.org", "example.org"], **valid)
    elif case == "unknown-issuer":
        key, cert = make_leaf(pki.stranger, [SITE], **valid)
        return Server(pki.folder, key, [cert, pki.stranger.cert]), cert
    elif case == "self-signed":
        key, cert = make_leaf(None, [SITE], **valid)
    else:
        raise AssertionError(case)
    return Server(pki.folder, key, [cert]), cert


def test_a_valid_certificate_from_the_bundle_is_accepted(pki: Pki) -> None:
    server, _ = serve(pki, "valid")
    assert server.connect(upstream_context(pki.bundle)) == "http/1.1"


def test_without_the_bundle_the_same_site_is_refused(pki: Pki) -> None:
    server, _ = serve(pki, "valid")
    with pytest.raises(ssl.SSLCertVerificationError) as caught:
        server.connect(upstream_context())
    assert explain_verify_failure(caught.value).kind == "unknown-issuer"


@pytest.mark.parametrize(("case", "kind", "words"), [
    ("expired", "expired", "The site's certificate has expired."),
    ("not-yet-valid", "not-yet-valid", "not valid yet"),
    ("wrong-name", "wrong-name", "issued for another site name"),
    ("unknown-issuer", "unknown-issuer", "not issued by an authority this gateway trusts"),
    ("self-signed", "self-signed", "signed its own certificate"),
])
def test_each_bad_certificate_is_classified(pki: Pki, case: str, kind: str, words: str) -> None:
    server, _ = serve(pki, case)
    with pytest.raises(ssl.SSLCertVerificationError) as caught:
        server.connect(upstream_context(pki.bundle))
    failure = explain_verify_failure(caught.value)
    assert failure.kind == kind
    assert words in failure.summary
    assert "OpenSSL verify code" in failure.detail
    assert caught.value.verify_message in failure.detail


def test_an_address_the_certificate_does_not_name_is_a_wrong_name(pki: Pki) -> None:
    server, _ = serve(pki, "valid")
    with pytest.raises(ssl.SSLCertVerificationError) as caught:
        server.connect(upstream_context(pki.bundle), name="127.0.0.1")
    assert explain_verify_failure(caught.value).kind == "wrong-name"


def test_the_certificate_adds_dates_and_names_to_the_words(pki: Pki) -> None:
    for case, expected in (
        ("expired", "The site's certificate expired on 1 March 2026 (12:00 UTC)."),
        ("wrong-name", "The certificate was issued for another site name "
                       "(www.example.org, example.org)."),
    ):
        server, cert = serve(pki, case)
        with pytest.raises(ssl.SSLCertVerificationError) as caught:
            server.connect(upstream_context(pki.bundle))
        der = cert.public_bytes(serialization.Encoding.DER)
        assert explain_verify_failure(caught.value, der).summary == expected


def test_a_revoked_certificate_is_recognised_when_a_crl_is_given(pki: Pki) -> None:
    key, cert = make_leaf(pki.root, [SITE], start=NOW - timedelta(days=1),
                          end=NOW + timedelta(days=90))
    revoked = (x509.RevokedCertificateBuilder().serial_number(cert.serial_number)
               .revocation_date(NOW - timedelta(hours=1)).build())
    crl = (x509.CertificateRevocationListBuilder().issuer_name(pki.root.cert.subject)
           .last_update(NOW - timedelta(hours=2)).next_update(NOW + timedelta(days=7))
           .add_revoked_certificate(revoked).sign(pki.root.key, hashes.SHA256()))
    bundle = pki.folder / "with-crl.pem"
    bundle.write_bytes(pem(pki.root.cert) + crl.public_bytes(serialization.Encoding.PEM))
    server = Server(pki.folder, key, [cert])
    with pytest.raises(ssl.SSLCertVerificationError) as caught:
        server.connect(upstream_context(bundle, check_crls=True))
    failure = explain_verify_failure(caught.value)
    assert failure.kind == "revoked" and "revoked" in failure.summary


@pytest.mark.parametrize("exc", [
    ConnectionResetError(104, "Connection reset by peer"),
    ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"),
    TimeoutError(),
])
def test_other_failures_are_other(exc: BaseException) -> None:
    failure = explain_verify_failure(exc)
    assert failure == VerifyFailure("other", "The secure connection to the site failed.",
                                    str(exc) or type(exc).__name__)


def test_an_unknown_verify_code_is_other() -> None:
    exc = ssl.SSLCertVerificationError(1, "certificate verify failed")
    exc.verify_code = 26  # invalid purpose
    exc.verify_message = "unsuitable certificate purpose"
    failure = explain_verify_failure(exc, b"not DER")
    assert failure.kind == "other"
    assert "unsuitable certificate purpose" in failure.detail


@pytest.fixture
def not_a_bundle(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "bundle.pem"
    path.write_text("This is not a certificate.\n")
    yield path


def test_a_missing_or_empty_bundle_is_refused(tmp_path: Path, not_a_bundle: Path) -> None:
    with pytest.raises(BundleError, match="does not exist"):
        upstream_context(tmp_path / "missing.pem")
    with pytest.raises(BundleError, match="no PEM certificate"):
        upstream_context(not_a_bundle)


def test_the_context_is_strict() -> None:
    context = upstream_context()
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_crl_checking_needs_a_bundle() -> None:
    with pytest.raises(BundleError, match="needs a bundle"):
        upstream_context(check_crls=True)
