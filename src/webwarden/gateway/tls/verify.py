"""Checking the certificates of the sites the gateway connects to, and saying in words why
one was refused.

Trust: the operating system's store (what `ssl.create_default_context()` loads) plus an
optional bundle of the organisation's own roots. Revocation is checked where it can be
without a network fetch on the request path: OpenSSL reports a revoked certificate when a
CRL for its issuer is in the bundle (`upstream_context(..., check_crls=True)`); OCSP and CRL
downloads are not done.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509

ALPN = ["http/1.1"]

# OpenSSL's X509_V_ERR_* codes (x509_vfy.h) and what they mean for a member of staff.
_KINDS: dict[int, str] = {
    2: "unknown-issuer",  # unable to get issuer certificate
    9: "not-yet-valid",
    10: "expired",
    18: "self-signed",  # depth zero self-signed
    19: "unknown-issuer",  # self-signed certificate in chain: a root we do not trust
    20: "unknown-issuer",  # unable to get local issuer certificate
    21: "unknown-issuer",  # unable to verify the first certificate
    23: "revoked",
    62: "wrong-name",  # hostname mismatch
    64: "wrong-name",  # IP address mismatch
}
_SUMMARIES: dict[str, str] = {
    "expired": "The site's certificate has expired.",
    "not-yet-valid": "The site's certificate is not valid yet.",
    "wrong-name": "The certificate was issued for another site name.",
    "unknown-issuer": "The certificate was not issued by an authority this gateway trusts.",
    "self-signed": (
        "The site signed its own certificate; no authority this gateway trusts vouches "
        "for it."
    ),
    "revoked": "The certificate has been revoked by the authority that issued it.",
    "other": "The site's certificate could not be checked.",
}


class BundleError(ValueError):
    """The configured CA bundle cannot be read or holds no certificate."""


@dataclass(frozen=True, slots=True)
class VerifyFailure:
    """Why an upstream certificate was refused: `kind` for records and metrics, `summary`
    for the page a person sees, `detail` (OpenSSL's words) for the gateway team."""

    kind: str
    summary: str
    detail: str


def upstream_context(
    extra_bundle: Path | None = None, *, check_crls: bool = False
) -> ssl.SSLContext:
    """A client context for connections to sites: the system store plus `extra_bundle`
    (PEM certificates, and CRLs when `check_crls`), host names checked, TLS 1.2 minimum,
    ALPN `http/1.1`. With `check_crls`, every site certificate needs a CRL for its issuer in
    the bundle, so it suits closed networks only."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(ALPN)
    if extra_bundle is not None:
        try:
            context.load_verify_locations(cafile=extra_bundle)
        except FileNotFoundError as exc:
            raise BundleError(f"the CA bundle {extra_bundle} does not exist") from exc
        except ssl.SSLError as exc:  # before OSError, of which it is a subclass
            raise BundleError(
                f"the CA bundle {extra_bundle} holds no PEM certificate OpenSSL accepts: "
                f"{exc.reason or exc}"
            ) from exc
        except OSError as exc:
            raise BundleError(
                f"cannot read the CA bundle {extra_bundle}: {exc.strerror or exc}"
            ) from exc
    if check_crls:
        if extra_bundle is None:
            raise BundleError("checking CRLs needs a bundle that holds them")
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    return context


def explain_verify_failure(exc: BaseException, certificate: bytes | None = None) -> VerifyFailure:
    """Classify a failed upstream handshake. `certificate` (DER), when the caller has it,
    adds the expiry date or the names the certificate does carry to the summary. Pure."""
    if not isinstance(exc, ssl.SSLCertVerificationError):
        detail = str(exc) or type(exc).__name__
        return VerifyFailure("other", "The secure connection to the site failed.", detail)
    code = exc.verify_code
    message = exc.verify_message or str(exc)
    kind = _KINDS.get(code, "other")
    summary = _SUMMARIES[kind]
    cert = _parse(certificate)
    if cert is not None:
        summary = _with_facts(kind, summary, cert)
    detail = f"certificate verify failed: {message} (OpenSSL verify code {code})"
    return VerifyFailure(kind, summary, detail)


def _parse(der: bytes | None) -> x509.Certificate | None:
    if der is None:
        return None
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        return None


def _with_facts(kind: str, summary: str, cert: x509.Certificate) -> str:
    if kind == "expired":
        return f"The site's certificate expired on {_day(cert.not_valid_after_utc)}."
    if kind == "not-yet-valid":
        return f"The site's certificate is not valid until {_day(cert.not_valid_before_utc)}."
    if kind == "wrong-name":
        names = _names(cert)
        if names:
            return f"{summary[:-1]} ({', '.join(names[:5])}{', …' if len(names) > 5 else ''})."
    return summary


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y} ({moment:%H:%M} UTC)"


def _names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(n) for n in san.get_values_for_type(x509.DNSName)] + [
        str(a) for a in san.get_values_for_type(x509.IPAddress)
    ]
