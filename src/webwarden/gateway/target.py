"""Request targets a proxy accepts: `http://authority/path` and, for CONNECT, `host:port`.

Hosts are normalised the way browsers do (WHATWG URL host parsing): lower case, one trailing
dot dropped, IPv4 written in any of the legacy forms (`127.1`, `2130706433`, `0x7f000001`,
`0177.0.0.1`) turned into dotted decimal, IPv4-mapped IPv6 turned into IPv4. Policy,
categories, the audit trail and the address check therefore all see the address that will
really be connected to, whatever spelling the request used.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

from webwarden.gateway.http1 import HttpError

_DOMAIN_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*")
_NUMERIC_LABEL_RE = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")
_PORT_RE = re.compile(r"[0-9]{1,5}")
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Target:
    """Where a proxy request points: scheme, normalised host, port and origin-form path."""

    scheme: str
    host: str
    port: int
    path: str
    given_authority: str = ""  # as the request spelled it (for the Host check)

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if DEFAULT_PORTS.get(self.scheme) == self.port:
            return host
        return f"{host}:{self.port}"


def parse_ipv4(host: str) -> str | None:
    """Dotted decimal for a host that is an IPv4 address in any WHATWG-accepted spelling;
    None if it is a domain name. Raises HttpError for a host that looks numeric but is not
    a valid address (browsers refuse those too)."""
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    if not labels or _NUMERIC_LABEL_RE.fullmatch(labels[-1]) is None:
        return None
    if len(labels) > 4:
        raise HttpError(400, "The host is neither a valid domain name nor an IPv4 address.")
    numbers: list[int] = []
    for label in labels:
        numbers.append(_ipv4_number(label))
    for n in numbers[:-1]:
        if n > 255:
            raise HttpError(400, "The host is not a valid IPv4 address.")
    if numbers[-1] >= 256 ** (5 - len(numbers)):
        raise HttpError(400, "The host is not a valid IPv4 address.")
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n * 256 ** (3 - i)
    return str(ipaddress.IPv4Address(value))


def _ipv4_number(label: str) -> int:
    try:
        if label[:2] in ("0x", "0X"):
            return int(label[2:] or "0", 16)
        if len(label) > 1 and label[0] == "0":
            return int(label[1:], 8)
        return int(label, 10)
    except ValueError:
        raise HttpError(400, "The host is not a valid IPv4 address.") from None


@functools.lru_cache(maxsize=8192)
def normalise_host(raw: str) -> str:
    """The canonical form of a URL host (without brackets for IPv6), or HttpError.
    Cached: the same few thousand hosts come again and again (errors are not cached)."""
    if raw.startswith("["):
        if not raw.endswith("]"):
            raise HttpError(400, "An IPv6 host must be written inside brackets.")
        if "%" in raw:
            raise HttpError(400, "An IPv6 zone (%...) has no meaning beyond this machine.")
        try:
            addr = ipaddress.IPv6Address(raw[1:-1])
        except ValueError:
            raise HttpError(400, "The host is not a valid IPv6 address.") from None
        mapped = addr.ipv4_mapped
        return str(mapped) if mapped is not None else str(addr)
    host = raw.lower()
    if not host:
        raise HttpError(400, "The request names no host.")
    v4 = parse_ipv4(host)
    if v4 is not None:
        return v4
    if host.endswith("."):
        host = host[:-1]
    if len(host) > 253 or _DOMAIN_RE.fullmatch(host) is None:
        raise HttpError(400, "The host is not a valid domain name.")
    return host


def split_authority(authority: str, default_port: int | None) -> tuple[str, int]:
    """(normalised host, port) of `host[:port]`; a port is required if no default."""
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            raise HttpError(400, "An IPv6 host must be written inside brackets.")
        raw_host, rest = authority[: close + 1], authority[close + 1 :]
        if rest and not rest.startswith(":"):
            raise HttpError(400, "The authority is malformed.")
        raw_port = rest[1:] if rest else None
    else:
        raw_host, sep, port_text = authority.rpartition(":")
        if not sep:
            raw_host, raw_port = authority, None
        else:
            raw_port = port_text
    if "@" in raw_host:
        raise HttpError(400, "User names and passwords in URLs are refused.")
    host = normalise_host(raw_host)
    if raw_port is None or raw_port == "":
        if default_port is None:
            raise HttpError(400, "The request must name a port.")
        return host, default_port
    if _PORT_RE.fullmatch(raw_port) is None or not 0 < int(raw_port) < 65536:
        raise HttpError(400, "The port is not valid.")
    return host, int(raw_port)


@functools.lru_cache(maxsize=8192)
def _http_authority(authority: str) -> tuple[str, int]:
    """(host, port) of an http:// URL's authority. Cached: a few thousand sites make up
    nearly every request (errors are not cached)."""
    if "@" in authority:
        raise HttpError(400, "User names and passwords in URLs are refused.")
    return split_authority(authority, 80)


def parse_target(method: str, target: str) -> Target:
    """Interpret the request target of a request sent to a forward proxy."""
    if method == "CONNECT":
        if "/" in target or "@" in target:
            raise HttpError(400, "CONNECT takes host:port.")
        host, port = split_authority(target, None)
        return Target("https", host, port, "/", target)
    scheme, sep, rest = target.partition("://")
    if not sep:
        raise HttpError(
            400,
            "This is a forward proxy: requests must use an absolute URL (http://host/path).",
        )
    if scheme != "http" and scheme.lower() != "http":
        raise HttpError(400, "Only http:// URLs can be fetched; https:// goes through CONNECT.")
    if "#" in rest:
        raise HttpError(400, "A fragment (#...) is not part of a request target.")
    cut = rest.find("/")
    query = rest.find("?", 0, cut if cut >= 0 else len(rest))
    if query >= 0:
        cut = query
    elif cut < 0:
        cut = len(rest)
    authority, path = rest[:cut], rest[cut:]
    host, port = _http_authority(authority)
    if not path:
        path = "/"
    elif path[0] == "?":
        path = "/" + path
    return Target("http", host, port, path, authority)


def check_host_header(target: Target, host_header: str | None, method: str) -> None:
    """The Host header, when present, must name the same host and port as the target."""
    if host_header is None or host_header == target.given_authority:
        return
    default = target.port if method == "CONNECT" else DEFAULT_PORTS[target.scheme]
    try:
        host, port = split_authority(host_header, default)
    except HttpError:
        raise HttpError(400, "The Host header is malformed.") from None
    if (host, port) != (target.host, target.port):
        raise HttpError(400, "The Host header does not match the request target.")


def parse_inner_target(target: str, host_header: str | None, host: str, port: int) -> Target:
    """The target of a request inside a decrypted tunnel to `host`:`port`: origin-form
    (`/path?query`), or an absolute https URL naming the same site. The Host header must
    name that site too: a request for another site inside this tunnel (domain fronting)
    is refused with 421, since the tunnel was decided for this host alone."""
    if target.startswith(("https://", "HTTPS://")):
        rest = target[8:]
        cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
        authority, path = rest[:cut], rest[cut:] or "/"
        if path[0] == "?":
            path = "/" + path
        if split_authority(authority, 443) != (host, port):
            raise HttpError(421, "This request names another site than the one this "
                                 "encrypted connection was opened for.")
    elif target.startswith("/"):
        path = target
    else:
        raise HttpError(400, "Inside an encrypted connection a request names a path "
                             "(/...) on the site it was opened for.")
    if "#" in path:
        raise HttpError(400, "A fragment (#...) is not part of a request target.")
    if host_header is None:
        raise HttpError(400, "The request has no Host header.")
    try:
        named = split_authority(host_header, 443)
    except HttpError:
        raise HttpError(400, "The Host header is malformed.") from None
    if named != (host, port):
        raise HttpError(421, f"The Host header names {named[0]}, but this encrypted "
                             f"connection was opened for {host}: one connection, one site "
                             "(a request for another site inside it is domain fronting).")
    return Target("https", host, port, path, host_header)
