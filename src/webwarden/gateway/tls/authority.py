"""The gateway's certificate authority on disk: create, load, rotate, export.

Layout of the CA directory (0700):

    ca.json        which generations exist and from when each one signs
    ca-N.pem       generation N's certificate (0644)
    ca-N.key       generation N's private key, PKCS#8 PEM (0600, created so)

Key type: ECDSA P-256. Every new host the gateway intercepts costs one signature by the CA
key; with P-256 that is about a quarter of a millisecond against almost two with RSA, the
keys and certificates are small, and every browser and operating system in support accepts
P-256 roots. RSA 3072 would only matter for clients older than anything that can be on a
force's network.

Rotation model. Each generation has a `signs_from` time. At any moment the *signing*
generation is the one with the latest `signs_from` that has passed; generations whose
`signs_from` lies ahead are *pending*. `init` makes generation 1, signing at once.
`rotate --grace-days N` adds a generation that signs from now + N days; until then the old
one keeps signing, and both are exported, so the new one can reach every browser while
nothing breaks for those that have not got it yet. When the grace period ends the new one
signs and the old one is no longer exported (its files stay, for the record, until the next
rotation or `init --force`). A gateway that loaded the CA before the switch should load it
again after `CertificateAuthority.signing_until`.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from webwarden.gateway.tls.files import (
    PRIVATE,
    PUBLIC,
    ensure_private_directory,
    write_atomic,
)

STATE_FILE = "ca.json"
DEFAULT_NAME = "webwarden gateway CA"
DEFAULT_VALIDITY = timedelta(days=3652)  # ten years
DEFAULT_GRACE = timedelta(days=30)
# Clocks on client machines run a little behind; a CA that starts "now" would be rejected.
BACKDATE = timedelta(hours=1)
_GENERATION_FILE = re.compile(r"ca-([0-9]+)\.(pem|key)")


class CaError(Exception):
    """The CA directory is missing, unreadable, inconsistent or unsafe; the message says
    which file and what to do."""


@dataclass(frozen=True, slots=True)
class CaFiles:
    """Where one generation of the CA was written."""

    directory: Path
    certificate_path: Path
    key_path: Path
    fingerprint: str  # SHA-256 of the DER certificate, colon-separated upper-case hex
    signs_from: datetime


@dataclass(frozen=True, slots=True)
class Generation:
    """One CA certificate the directory holds, and its place in the rotation."""

    number: int
    certificate: x509.Certificate
    certificate_path: Path
    key_path: Path
    signs_from: datetime

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate)

    @property
    def not_before(self) -> datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    def role(self, now: datetime, signing: Generation | None) -> str:
        """`signing`, `pending` (introduced, signs later), `retired` or `expired`."""
        if now >= self.not_after:
            return "expired"
        if signing is not None and signing.number == self.number:
            return "signing"
        if self.signs_from > now:
            return "pending"
        return "retired"


@dataclass(frozen=True, slots=True)
class CertificateAuthority:
    """The generation that signs now, with its key, and what browsers should trust."""

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey
    certificate_path: Path
    generation: int
    # Every certificate a browser should trust now (the signing one first).
    trusted: tuple[x509.Certificate, ...]
    # When a pending generation takes over: load the CA again after this. None: no rotation.
    signing_until: datetime | None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate)

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("the time given must carry a time zone (UTC)")
    return now.astimezone(UTC)


# --- creating ---------------------------------------------------------------------------


def _ca_certificate(
    key: ec.EllipticCurvePrivateKey, name: str, generation: int, now: datetime,
    validity: timedelta,
) -> x509.Certificate:
    # The generation is part of the name so that two generations trusted side by side
    # during a rotation never share a subject: trust stores list them apart, and path
    # building need not rely on key identifiers alone.
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "webwarden"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"generation {generation}"),
        x509.NameAttribute(NameOID.COMMON_NAME, name),
    ])
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _new_generation(
    directory: Path, number: int, name: str, now: datetime, validity: timedelta,
) -> tuple[x509.Certificate, Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _ca_certificate(key, name, number, now, validity)
    key_path = directory / f"ca-{number}.key"
    cert_path = directory / f"ca-{number}.pem"
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_atomic(key_path, key_pem, PRIVATE)
    write_atomic(cert_path, certificate.public_bytes(serialization.Encoding.PEM), PUBLIC)
    return certificate, cert_path, key_path


def _existing_generation_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _GENERATION_FILE.fullmatch(p.name))


def init_ca(
    directory: Path,
    *,
    force: bool = False,
    name: str = DEFAULT_NAME,
    now: datetime,
    validity: timedelta = DEFAULT_VALIDITY,
) -> CaFiles:
    """Create a CA in `directory` (made 0700), signing from `now`.

    Refuses (CaError) when a CA is already there, unless `force`: then the old generations'
    files are removed once the new CA is in place, and browsers must be given the new one."""
    now = _aware(now)
    name = name.strip()
    if not name or len(name) > 64:
        raise CaError("the CA name must be 1 to 64 characters")
    if validity <= timedelta(days=1):
        raise CaError("the CA validity must be longer than a day")
    if directory.exists() and not directory.is_dir():
        raise CaError(f"{directory} exists and is not a directory")
    old_files = _existing_generation_files(directory)
    if (old_files or (directory / STATE_FILE).exists()) and not force:
        raise CaError(
            f"a CA already exists in {directory}; use --force to replace it (browsers that "
            "trust the old one will then need the new one), or `webwarden ca rotate` to "
            "introduce a new one without breaking them"
        )
    try:
        ensure_private_directory(directory)
        numbers = [int(m.group(1)) for p in old_files if (m := _GENERATION_FILE.fullmatch(p.name))]
        number = max(numbers, default=0) + 1
        certificate, cert_path, key_path = _new_generation(
            directory, number, name, now, validity
        )
        _write_state(directory, name, [(number, now)])
        for old in old_files:
            old.unlink(missing_ok=True)
    except OSError as exc:
        raise CaError(f"cannot write the CA in {directory}: {exc.strerror or exc}") from exc
    return CaFiles(directory, cert_path, key_path, fingerprint(certificate), now)


def rotate_ca(
    directory: Path,
    *,
    grace: timedelta = DEFAULT_GRACE,
    now: datetime,
    validity: timedelta = DEFAULT_VALIDITY,
) -> CaFiles:
    """Introduce a new generation that signs from `now + grace`; the current one keeps
    signing (and is exported beside the new one) until then.

    Refuses while an earlier rotation is still pending, and when the current CA's key is
    unsafe or broken (a rotation must not hide that). A current CA that has expired can
    only be replaced at once (`grace` zero)."""
    now = _aware(now)
    if grace < timedelta(0):
        raise CaError("the grace period cannot be negative")
    name, _ = _read_state(directory)
    generations = _generations(directory)
    current = _signing(generations, now)
    if current is None:
        raise CaError(f"no CA generation in {directory} signs yet (clock set back?)")
    pending = [g for g in generations if g.signs_from > now]
    if pending:
        raise CaError(
            f"a rotation is already under way: generation {pending[-1].number} signs from "
            f"{pending[-1].signs_from:%Y-%m-%d %H:%M} UTC; wait until then"
        )
    signs_from = now + grace
    if now >= current.not_after:
        if grace:
            raise CaError(
                f"the current CA expired on {current.not_after:%Y-%m-%d}; nothing can sign "
                "during a grace period: rotate with --grace-days 0"
            )
    else:
        load_ca(directory, now)  # the key must be sound: its mode, and that it matches
        if signs_from >= current.not_after:
            raise CaError(
                "the grace period ends after the current CA expires "
                f"({current.not_after:%Y-%m-%d}); use a shorter one"
            )
    number = max(g.number for g in generations) + 1
    # Generations that stopped signing before the current one are of no use any more.
    stale = [g for g in generations if g.number != current.number]
    try:
        certificate, cert_path, key_path = _new_generation(
            directory, number, name, now, validity
        )
        _write_state(directory, name, [(current.number, current.signs_from),
                                       (number, signs_from)])
        for old in stale:
            old.certificate_path.unlink(missing_ok=True)
            old.key_path.unlink(missing_ok=True)
    except OSError as exc:
        raise CaError(f"cannot write the CA in {directory}: {exc.strerror or exc}") from exc
    return CaFiles(directory, cert_path, key_path, fingerprint(certificate), signs_from)


# --- the state file ---------------------------------------------------------------------


def _write_state(directory: Path, name: str, generations: list[tuple[int, datetime]]) -> None:
    state = {
        "format": 1,
        "name": name,
        "generations": [
            {"number": n, "signs_from": s.isoformat()} for n, s in sorted(generations)
        ],
    }
    write_atomic(directory / STATE_FILE, (json.dumps(state, indent=2) + "\n").encode(), PUBLIC)


def _read_state(directory: Path) -> tuple[str, list[tuple[int, datetime]]]:
    path = directory / STATE_FILE
    if not path.exists():
        if directory.is_dir() and _existing_generation_files(directory):
            raise CaError(f"{path} is missing: the CA directory is incomplete")
        raise CaError(f"there is no CA in {directory}: create one with `webwarden ca init`")
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CaError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise CaError(f"{path} is not valid JSON: {exc}") from exc
    try:
        if raw["format"] != 1:
            raise CaError(f"{path}: format {raw['format']!r} is not one this version reads")
        name = str(raw["name"])
        generations = [
            (int(g["number"]), _aware(datetime.fromisoformat(g["signs_from"])))
            for g in raw["generations"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise CaError(f"{path} is damaged ({type(exc).__name__}: {exc})") from exc
    if not generations:
        raise CaError(f"{path} lists no CA generation")
    return name, sorted(generations)


def _read_certificate(path: Path) -> x509.Certificate:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CaError(f"cannot read the CA certificate {path}: {exc.strerror or exc}") from exc
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise CaError(f"{path} is not a PEM certificate: {exc}") from exc


def _generations(directory: Path) -> list[Generation]:
    _, listed = _read_state(directory)
    return [
        Generation(
            number=n,
            certificate=_read_certificate(directory / f"ca-{n}.pem"),
            certificate_path=directory / f"ca-{n}.pem",
            key_path=directory / f"ca-{n}.key",
            signs_from=s,
        )
        for n, s in listed
    ]


def _signing(generations: list[Generation], now: datetime) -> Generation | None:
    started = [g for g in generations if g.signs_from <= now]
    return max(started, key=lambda g: g.signs_from) if started else None


def _trusted(generations: list[Generation], now: datetime) -> list[Generation]:
    signing = _signing(generations, now)
    pending = [g for g in generations if g.signs_from > now and now < g.not_after]
    return ([signing] if signing is not None and now < signing.not_after else []) + pending


# --- loading and exporting ----------------------------------------------------------------


def status(directory: Path, now: datetime) -> list[tuple[Generation, str]]:
    """Every generation on disk with its role now (see `Generation.role`)."""
    now = _aware(now)
    generations = _generations(directory)
    signing = _signing(generations, now)
    return [(g, g.role(now, signing)) for g in generations]


def load_ca(directory: Path, now: datetime) -> CertificateAuthority:
    """The generation that signs at `now`, with its private key.

    Raises CaError when the directory or a file is missing or unreadable, the key file is
    readable by group or others, the key does not belong to the certificate, or the
    signing certificate is not valid at `now`."""
    now = _aware(now)
    generations = _generations(directory)
    signing = _signing(generations, now)
    if signing is None:
        raise CaError(f"no CA generation in {directory} signs yet (clock set back?)")
    if not signing.not_before <= now < signing.not_after:
        raise CaError(
            f"the CA certificate {signing.certificate_path} is valid from "
            f"{signing.not_before.isoformat()} to {signing.not_after.isoformat()}, not now; "
            "run `webwarden ca rotate --grace-days 0` and give browsers the new one"
        )
    key = _read_private_key(signing.key_path)
    if _spki(key.public_key()) != _spki(signing.certificate.public_key()):
        raise CaError(
            f"the private key {signing.key_path} does not belong to the certificate "
            f"{signing.certificate_path}"
        )
    later = [g.signs_from for g in generations if g.signs_from > now]
    return CertificateAuthority(
        certificate=signing.certificate,
        private_key=key,
        certificate_path=signing.certificate_path,
        generation=signing.number,
        trusted=tuple(g.certificate for g in _trusted(generations, now)),
        signing_until=min(later) if later else None,
    )


def _spki(public: Any) -> bytes:
    return bytes(public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ))


def _read_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        mode = os.stat(path).st_mode
        if mode & 0o077:
            raise CaError(
                f"the CA private key {path} is readable by others (mode "
                f"{stat.S_IMODE(mode):04o}); run `chmod 600 {path}` and check who copied it"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise CaError(f"cannot read the CA private key {path}: {exc.strerror or exc}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise CaError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CaError(f"{path} is not an ECDSA key")
    return key


def export_certificates(directory: Path, *, der: bool, now: datetime) -> bytes:
    """What browsers should trust: PEM, every certificate trusted now (during a rotation
    the old and the new, signing one first); DER, only the signing one (DER holds one
    certificate). Reads certificates only, never the private keys."""
    now = _aware(now)
    generations = _generations(directory)
    trusted = _trusted(generations, now)
    if not trusted:
        raise CaError(
            f"no CA certificate in {directory} is valid now; run `webwarden ca rotate "
            "--grace-days 0`"
        )
    if der:
        return trusted[0].certificate.public_bytes(serialization.Encoding.DER)
    return b"".join(g.certificate.public_bytes(serialization.Encoding.PEM) for g in trusted)
