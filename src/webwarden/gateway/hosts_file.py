"""Static host entries (`--hosts-file`), read before the system resolver, as Squid's
`hosts_file`: for split-horizon names, sites an organisation pins to an address, and
offline test and demo origins. The format is /etc/hosts: an address, then one or more
names; `#` starts a comment. Every address still passes the destination guard."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from webwarden.gateway.http1 import HttpError
from webwarden.gateway.target import normalise_host


class HostsFileError(ValueError):
    """The hosts file has mistakes; the message names each with its line."""


def parse_hosts(text: str, source: str = "hosts file") -> dict[str, tuple[str, ...]]:
    """Names → addresses in file order; every mistake reported at once."""
    found: dict[str, list[str]] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) < 2:
            problems.append(f"{source}:{number}: an address needs at least one name after it")
            continue
        try:
            address = str(ipaddress.ip_address(fields[0]))
        except ValueError:
            problems.append(f"{source}:{number}: '{fields[0]}' is not an IP address")
            continue
        for name in fields[1:]:
            try:
                host = normalise_host(name)
            except HttpError:
                problems.append(f"{source}:{number}: '{name}' is not a valid host name")
                continue
            addresses = found.setdefault(host, [])
            if address not in addresses:
                addresses.append(address)
    if problems:
        raise HostsFileError("\n".join(problems))
    return {name: tuple(addresses) for name, addresses in found.items()}


def read_hosts_file(path: Path) -> dict[str, tuple[str, ...]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HostsFileError(f"{path}: cannot be read ({exc})") from None
    return parse_hosts(text, str(path))
