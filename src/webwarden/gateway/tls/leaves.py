"""Leaf certificates for intercepted sites: one signature per host for the whole gateway.

Cost model (measured on the 2-core machines the gateway runs on): a leaf signed by a P-256
CA costs ~0.3 ms, building an `SSLContext` and loading the chain ~2 ms. So:

- every leaf of one CA carries the same P-256 key, generated once and kept (0600) in the
  cache directory: no key generation per host;
- ready contexts are kept in memory (LRU), because building them costs more than signing;
- the leaves themselves are kept as files in the cache directory, shared by every worker
  process: a worker that meets a host first looks there, so a host is signed once for the
  gateway, not once per worker. `load_cert_chain` only reads files, which is the other
  reason for the files.

Layout: `<cache_dir>/<first 16 hex digits of the CA's SHA-256>/leaf.key` and one
`<host>.pem` per host (leaf, then CA). A new CA generation gets a new folder, so leaves of
an old CA are never served with the new one.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import idna
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from webwarden.gateway.tls.authority import CaError, CertificateAuthority
from webwarden.gateway.tls.files import (
    PRIVATE,
    ensure_private_directory,
    write_atomic,
    write_if_absent,
)

LEAF_VALIDITY = timedelta(days=7)
LEAF_BACKDATE = timedelta(hours=1)  # client clocks a little behind still accept it
RENEW_BEFORE = timedelta(days=1)  # a leaf with less left is minted again
DEFAULT_CAPACITY = 10_000
ALPN = ["http/1.1"]
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")


class HostNameError(ValueError):
    """Not a host name or IP address a certificate can be made for."""


class LeafCacheError(CaError):
    """The leaf cache folder cannot be used: unsafe, damaged or not writable. A CaError, so
    that whoever reports a broken CA at start-up reports this too."""


@dataclass(frozen=True, slots=True)
class LeafHost:
    """A host as it goes into a certificate: a lower-case A-label name or an address."""

    name: str
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None

    @property
    def file_name(self) -> str:
        if self.address is not None:
            return "ip-" + self.address.exploded.replace(":", "-") + ".pem"
        return self.name + ".pem"

    def general_name(self) -> x509.GeneralName:
        if self.address is not None:
            return x509.IPAddress(self.address)
        return x509.DNSName(self.name)


def leaf_host(host: str) -> LeafHost:
    """Normalise `host` (SNI or CONNECT authority without the port): IP literals (IPv6 with
    or without brackets), or names, lower-cased, trailing dot dropped, U-labels turned into
    A-labels. Raises HostNameError naming the problem."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        return LeafHost(str(address), address)
    name = text.rstrip(".").lower()
    if not name:
        raise HostNameError(f"{host!r} is not a host name")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise HostNameError(f"{host!r} is not a valid international name: {exc}") from exc
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise HostNameError(
            f"{host!r} is not a host name (letters, digits, hyphens, dots; labels of at "
            "most 63 characters)"
        )
    return LeafHost(name, None)


def mint_leaf(
    ca: CertificateAuthority, key: ec.EllipticCurvePrivateKey, host: LeafHost, now: datetime,
    validity: timedelta = LEAF_VALIDITY,
) -> x509.Certificate:
    """A server certificate for `host`, carrying `key`'s public half, signed by the CA.
    Pure: the time is given."""
    not_after = min(now + validity, ca.certificate.not_valid_after_utc)
    # A common name longer than 64 characters is not allowed; the subject is then empty and
    # the subjectAltName must be critical (RFC 5280 §4.2.1.6). Browsers read only the SAN.
    short = len(host.name) <= 64
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host.name)] if short else [])
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - LEAF_BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([host.general_name()]), critical=not short)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski.value),
            critical=False,
        )
        .sign(ca.private_key, hashes.SHA256())
    )


class LeafMinter:
    """Server-side TLS contexts for intercepted hosts, minted on first use.

    `now` is the clock (passed in so that tests can move it). Safe to use from several
    threads and from several processes sharing `cache_dir`."""

    def __init__(
        self,
        ca: CertificateAuthority,
        cache_dir: Path,
        *,
        now: Callable[[], datetime],
        capacity: int = DEFAULT_CAPACITY,
        validity: timedelta = LEAF_VALIDITY,
        renew_before: timedelta = RENEW_BEFORE,
    ) -> None:
        if capacity < 1:
            raise ValueError("the leaf cache needs room for at least one host")
        if renew_before >= validity:
            raise ValueError("renew_before must be shorter than the leaf validity")
        self.ca = ca
        self.now = now
        self.capacity = capacity
        self.validity = validity
        self.renew_before = renew_before
        self.directory = cache_dir / ca.fingerprint.replace(":", "")[:16].lower()
        self.key_path = self.directory / "leaf.key"
        try:
            ensure_private_directory(cache_dir)
            ensure_private_directory(self.directory)
            self.key = self._leaf_key()
        except OSError as exc:
            raise LeafCacheError(
                f"cannot use the leaf cache {self.directory}: {exc.strerror or exc}"
            ) from exc
        self._contexts: OrderedDict[str, tuple[ssl.SSLContext, datetime]] = OrderedDict()
        self._lock = threading.Lock()
        self.signed = 0  # leaves this process signed (for tests and metrics)

    def _leaf_key(self) -> ec.EllipticCurvePrivateKey:
        if not self.key_path.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            # Another process may get there first: then everyone uses its key.
            write_if_absent(self.key_path, pem, PRIVATE)
        if self.key_path.stat().st_mode & 0o077:
            raise LeafCacheError(
                f"the leaf key {self.key_path} is readable by others; delete the folder "
                f"{self.directory} (it is made again) and check who copied the key"
            )
        try:
            loaded = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
        except ValueError as exc:
            raise LeafCacheError(
                f"{self.key_path} is not a PEM private key ({exc}); delete it to make a new one"
            ) from exc
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise LeafCacheError(f"{self.key_path} is not an ECDSA key; delete it")
        return loaded

    def context_for(self, host: str) -> ssl.SSLContext:
        """A server-side context presenting a leaf for `host` (TLS 1.2 minimum, ALPN
        `http/1.1`). Raises HostNameError for something that is not a host."""
        target = leaf_host(host)
        now = self.now()
        with self._lock:
            cached = self._contexts.get(target.name)
            if cached is not None and self._fresh(cached[1], now):
                self._contexts.move_to_end(target.name)
                return cached[0]
            path, not_after = self._leaf_file(target, now)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.set_alpn_protocols(ALPN)
            context.load_cert_chain(certfile=path, keyfile=self.key_path)
            self._contexts[target.name] = (context, not_after)
            self._contexts.move_to_end(target.name)
            while len(self._contexts) > self.capacity:
                self._contexts.popitem(last=False)
            return context

    def certificate_pem_for(self, host: str) -> bytes:
        """The leaf certificate (PEM, without the CA) that `context_for(host)` presents."""
        target = leaf_host(host)
        with self._lock:
            path, _ = self._leaf_file(target, self.now())
        return x509.load_pem_x509_certificates(path.read_bytes())[0].public_bytes(
            serialization.Encoding.PEM
        )

    def _leaf_file(self, host: LeafHost, now: datetime) -> tuple[Path, datetime]:
        """The path of a usable leaf file for `host`, minting it if there is none."""
        path = self.directory / host.file_name
        existing = self._usable(path, host, now)
        if existing is not None:
            return path, existing
        leaf = mint_leaf(self.ca, self.key, host, now, self.validity)
        self.signed += 1
        data = leaf.public_bytes(serialization.Encoding.PEM) + self.ca.certificate_pem
        if not write_if_absent(path, data, PRIVATE):
            # Another worker wrote one since we looked: take it if it will do.
            existing = self._usable(path, host, now)
            if existing is not None:
                return path, existing
            write_atomic(path, data, PRIVATE)
        return path, leaf.not_valid_after_utc

    def _usable(self, path: Path, host: LeafHost, now: datetime) -> datetime | None:
        """The leaf's expiry if the file holds a leaf for `host`, with our key, signed by our
        CA, valid now and not due for renewal; else None."""
        try:
            leaf = x509.load_pem_x509_certificates(path.read_bytes())[0]
        except (OSError, ValueError, IndexError):
            return None
        try:
            leaf.verify_directly_issued_by(self.ca.certificate)
            names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            return None
        if host.general_name() not in names:
            return None
        if leaf.public_key() != self.key.public_key():
            return None
        if leaf.not_valid_before_utc > now:
            return None
        if not self._fresh(leaf.not_valid_after_utc, now):
            return None
        return leaf.not_valid_after_utc

    def _fresh(self, not_after: datetime, now: datetime) -> bool:
        """Not due for renewal. A leaf cut short by the CA's own expiry cannot be bettered,
        so it is used to its end rather than signed again on every request."""
        if now >= not_after:
            return False
        return (not_after - now > self.renew_before
                or not_after >= self.ca.certificate.not_valid_after_utc)
