"""Certificates for the HTTPS end-to-end tests: an "origin CA" standing for the public
CAs sites use (the gateway trusts it through --upstream-ca-bundle), and the sites'
certificates, good and bad, served by name (SNI) from one loopback address."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


class OriginCa:
    def __init__(self, folder: Path, name: str = "Test Origin Root CA") -> None:
        self.folder = folder
        self.key = _key()
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(digital_signature=True, content_commitment=False,
                              key_encipherment=False, data_encipherment=False,
                              key_agreement=False, key_cert_sign=True, crl_sign=True,
                              encipher_only=False, decipher_only=False),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                           critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.pem_path = folder / f"{name.replace(' ', '-').lower()}.pem"
        self.pem_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def context_for(self, names: list[str], *, expired: bool = False,
                    self_signed: bool = False) -> ssl.SSLContext:
        """A server context whose certificate names `names` (signed by this CA, or by
        itself), optionally already expired."""
        key = _key()
        now = datetime.now(UTC)
        start, end = (now - timedelta(days=30), now - timedelta(days=1)) if expired else (
            now - timedelta(days=1), now + timedelta(days=20))
        subject = _name(names[0])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject if self_signed else self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if not self_signed:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        cert = builder.sign(key if self_signed else self.key, hashes.SHA256())
        stem = self.folder / f"{names[0]}-{'expired' if expired else 'ok'}"
        cert_path, key_path = stem.with_suffix(".crt"), stem.with_suffix(".key")
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        context.set_alpn_protocols(["http/1.1"])
        return context


def serve_by_name(default: ssl.SSLContext, by_name: dict[str, ssl.SSLContext]) -> ssl.SSLContext:
    """`default`, switching to the context for the name the client asked for (SNI)."""

    def pick(sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        if name is not None and name in by_name:
            sock.context = by_name[name]

    default.sni_callback = pick  # type: ignore[assignment]
    return default
