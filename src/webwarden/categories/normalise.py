"""Host, path and URL normalisation shared by the importers and by lookups.

Both sides of a match go through the same functions, so a list entry and a request
that a browser would treat as the same place compare equal:

* hosts: lower case, one trailing dot dropped, port dropped, IDN labels converted to
  punycode (UTS #46 mapping, non-transitional, as browsers do), IPv4 in any
  inet_aton spelling (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`) turned into a
  dotted quad, IPv6 literals without brackets in compressed form. Underscores are
  allowed in labels because real lists (UT1) and real DNS names contain them.
* paths: fragment dropped, non-ASCII percent-encoded as UTF-8, percent escapes of
  unreserved characters decoded and the others upper-cased (RFC 3986 section 6.2.2).
  Paths stay case-sensitive.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, unquote

import idna

MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63

# A host that is already in normal form: the common case, checked with one regex.
_NORMAL_ASCII_HOST = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*")
# Same, minus hosts whose last label is numeric (those are IPv4 or invalid).
_NORMAL_DOMAIN = re.compile(r"(?:[a-z0-9_-]{1,63}\.)*(?!(?:0x[0-9a-f]*|[0-9]+)\Z)[a-z0-9_-]{1,63}")
_ASCII_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
# WHATWG URL: a host whose last label looks like a number is an IPv4 address (or invalid).
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Printable ASCII that may stay as it is in a path; everything else is percent-encoded.
_PATH_SAFE = "!$%&'()*+,-./:;=?@[]^_`{|}~"
# A leading label that squidGuard also strips before comparing URL entries.
_WWW_LIKE = re.compile(r"(?:www|web|ftp)[0-9]*")


class HostError(ValueError):
    """A host name (or URL) that cannot be normalised; `reason` says why."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"invalid host {host!r}: {reason}")
        self.host = host
        self.reason = reason


def normalise_host(raw: str) -> str:
    """Return the normal form of a host name or IP literal, or raise HostError."""
    if _NORMAL_DOMAIN.fullmatch(raw) and len(raw) <= MAX_HOST_LENGTH:
        return raw  # already normal: the common case, one regex
    host = raw.strip()
    if not host:
        raise HostError(raw, "empty host")
    if host[0] == "[":
        return _bracketed_ipv6(raw, host)
    if host.count(":") >= 2:
        return _ipv6(raw, host)
    if ":" in host:
        host, port = host.rsplit(":", 1)
        _check_port(raw, port)
    if "%" in host:
        # Browsers percent-decode hosts before anything else (WHATWG host parser).
        try:
            host = unquote(host, errors="strict")
        except UnicodeDecodeError:
            raise HostError(raw, "percent-escapes that are not UTF-8") from None
    if host.isascii():
        host = host.lower()
        if host.endswith("."):
            host = host[:-1]
        if len(host) <= MAX_HOST_LENGTH and _NORMAL_ASCII_HOST.fullmatch(host):
            last = host.rsplit(".", 1)[-1]
            if _NUMERIC_LABEL.fullmatch(last):
                return _ipv4(raw, host)
            return host
        return _checked_labels(raw, host.split("."))
    return _idn(raw, host)


def is_normal_domain(text: str) -> bool:
    """True if `text` is already a normalised domain name (not an IP address)."""
    return len(text) <= MAX_HOST_LENGTH and _NORMAL_DOMAIN.fullmatch(text) is not None


def is_ip(host: str) -> bool:
    """True for a normalised host that is an IP address (such hosts have no subdomains).
    A normalised domain never consists of digits and dots only: that would be IPv4."""
    return ":" in host or (host[-1:].isdigit() and host.replace(".", "").isdigit())


def strip_www_like(host: str) -> str | None:
    """`www.example.com` -> `example.com` (also `www2.`, `web.`, `ftp.`); None if no such label.

    squidGuard compares URL-list entries with the request host after removing such a
    prefix, and UT1's `urls` files are written for that rule (they never start with `www.`).
    """
    first, dot, rest = host.partition(".")
    if dot and "." in rest and _WWW_LIKE.fullmatch(first):
        return rest
    return None


def normalise_path(raw: str) -> str:
    """Return the normal form of a request path (with query, without fragment)."""
    path = raw.split("#", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    if not path.isascii() or any(c in path for c in ' "<>\\'):
        path = quote(path, safe=_PATH_SAFE, errors="strict")
    if "%" in path:
        path = _PERCENT_ESCAPE.sub(_normal_escape, path)
    return path


def split_url(url: str) -> tuple[str, str]:
    """Split `scheme://user@host:port/path?q#f`, `host/path` or `host:port` into the
    normalised host and path. Raises HostError for an unusable URL."""
    netloc, path = split_netloc(url)
    return normalise_host(netloc), normalise_path(path)


def split_netloc(url: str) -> tuple[str, str]:
    """Split a URL into its raw host[:port] and its raw path (with query); drops the
    scheme and any user info. Raises HostError if there is no host."""
    rest = url.strip()
    scheme_end = rest.find("://")
    if scheme_end >= 0 and "/" not in rest[:scheme_end]:
        rest = rest[scheme_end + 3 :]
    elif rest.startswith("//"):
        rest = rest[2:]
    cut = len(rest)
    for sep in "/?#":
        at = rest.find(sep)
        if 0 <= at < cut:
            cut = at
    netloc, path = rest[:cut], rest[cut:]
    if "@" in netloc:
        netloc = netloc.rsplit("@", 1)[1]
    if not netloc:
        raise HostError(url, "no host in URL")
    return netloc, path or "/"


def _normal_escape(match: re.Match[str]) -> str:
    byte = int(match.group(1), 16)
    return chr(byte) if byte in _UNRESERVED else "%" + match.group(1).upper()


def _check_port(raw: str, port: str) -> None:
    # An empty port (`example.com:`) is allowed by URL parsers and means the default.
    if port and not (port.isascii() and port.isdigit() and int(port) <= 65535):
        raise HostError(raw, f"bad port {port!r}")


def _bracketed_ipv6(raw: str, host: str) -> str:
    end = host.find("]")
    if end < 0:
        raise HostError(raw, "'[' without ']'")
    rest = host[end + 1 :]
    if rest:
        if rest[0] != ":":
            raise HostError(raw, f"unexpected {rest!r} after ']'")
        _check_port(raw, rest[1:])
    return _ipv6(raw, host[1:end])


def _ipv6(raw: str, text: str) -> str:
    if "%" in text:
        raise HostError(raw, "IPv6 zone identifiers are not allowed")
    try:
        return ipaddress.IPv6Address(text).compressed
    except ValueError as error:
        raise HostError(raw, f"bad IPv6 address ({error})") from None


def _ipv4(raw: str, host: str) -> str:
    """Parse the inet_aton forms browsers accept: 1 to 4 parts, each decimal, octal
    (leading 0) or hex (0x); the last part fills the remaining bytes."""
    parts = host.split(".")
    if len(parts) > 4:
        raise HostError(raw, "looks like an IPv4 address but has more than 4 parts")
    numbers = [_ipv4_part(raw, part) for part in parts]
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        raise HostError(raw, "IPv4 address part out of range")
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return str(ipaddress.IPv4Address(value))


def _ipv4_part(raw: str, part: str) -> int:
    try:
        if part.startswith("0x"):
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part[1:], 8)
        return int(part, 10)
    except ValueError:
        raise HostError(
            raw, f"ends in a number, so it must be an IPv4 address, but {part!r} is not a number"
        ) from None


def _checked_labels(raw: str, labels: list[str]) -> str:
    """Validate ASCII labels one by one to give a precise reason."""
    for label in labels:
        if not label:
            raise HostError(raw, "empty label")
        if len(label) > MAX_LABEL_LENGTH:
            raise HostError(raw, f"label longer than {MAX_LABEL_LENGTH} characters")
        if not _ASCII_LABEL.fullmatch(label):
            bad = next(c for c in label if not _ASCII_LABEL.fullmatch(c))
            raise HostError(raw, f"character {bad!r} not allowed in a host name")
    host = ".".join(labels)
    if len(host) > MAX_HOST_LENGTH:
        raise HostError(raw, f"longer than {MAX_HOST_LENGTH} characters")
    last = labels[-1]
    if _NUMERIC_LABEL.fullmatch(last):
        return _ipv4(raw, host)
    return host


def _idn(raw: str, host: str) -> str:
    """Non-ASCII host: UTS #46 mapping (case folding, full-width forms, ideographic full
    stops), then each non-ASCII label to punycode.

    IDNA2008 (the `idna` package's strict encoder) refuses some labels that browsers
    accept through UTS #46, such as emoji or a label with an underscore next to a
    non-ASCII one; for those we fall back to plain punycode of the mapped label, which
    is what UTS #46 ToASCII produces. Code points UTS #46 disallows are refused.
    """
    try:
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
    except idna.IDNAError as error:
        raise HostError(raw, f"not a valid international name ({error})") from None
    if mapped.endswith("."):
        mapped = mapped[:-1]
    labels: list[str] = []
    for label in mapped.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append(idna.alabel(label).decode("ascii"))
        except idna.IDNAError:
            try:
                labels.append("xn--" + label.encode("punycode").decode("ascii"))
            except UnicodeError as error:
                raise HostError(raw, f"label {label!r} cannot be encoded ({error})") from None
    return _checked_labels(raw, labels)
