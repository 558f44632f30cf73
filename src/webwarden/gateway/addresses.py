"""Which addresses and ports the gateway will connect to on a client's behalf.

A proxy that connects wherever it is told becomes a way into the networks behind it (SSRF).
The rule, applied to every address a name resolves to (not to the name): only globally
routable unicast addresses, unless an operator allowed a network with `--allow-destination`;
never this machine's own addresses; never the gateway's own listening sockets, whatever is
allowed (that would be a loop). IPv6 forms that embed an IPv4 address (mapped, NAT64, 6to4)
are judged by the embedded address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# Squid's default Safe_ports: plain HTTP is refused to ports where other protocols live
# (mail, ssh, ...) so a browser cannot be used to talk to them.
SAFE_HTTP_PORTS = frozenset({80, 443, 70, 210, 280, 488, 591, 777}) | frozenset(
    range(1025, 65536)
)


class DestinationRefusedError(Exception):
    """The gateway will not connect there; `reason` is written for the person who asked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def _is_this_machine(addr: IPAddress) -> bool:
    """True if the address belongs to this machine: binding to it works only then."""
    family = socket.AF_INET6 if addr.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((str(addr), 0))
    except OSError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Endpoint:
    address: IPAddress
    port: int


class DestinationGuard:
    """Decides whether one (address, port) may be connected to. Cheap on the hot path:
    verdicts about addresses are cached (the bind probe runs once per new address)."""

    def __init__(
        self,
        allowed_networks: Iterable[IPNetwork] = (),
        own_endpoints: Iterable[tuple[str, int]] = (),
        cache_size: int = 4096,
    ) -> None:
        self._allowed = tuple(allowed_networks)
        self._own_ports: dict[int, set[IPAddress]] = {}
        for host, port in own_endpoints:
            self._own_ports.setdefault(port, set()).add(ipaddress.ip_address(host))
        self._verdicts: dict[str, str | None] = {}
        self._cache_size = cache_size

    def check(self, address: str, port: int) -> None:
        """Raise DestinationRefusedError unless (address, port) may be connected to."""
        reason = self._verdicts.get(address, "")
        if reason == "":
            reason = self._judge(address)
            if len(self._verdicts) >= self._cache_size:
                self._verdicts.clear()
            self._verdicts[address] = reason
        if reason is not None:
            raise DestinationRefusedError(reason)
        own = self._own_ports.get(port)
        if own is not None:
            addr = ipaddress.ip_address(address)
            if addr in own or (any(a.is_unspecified for a in own) and _is_this_machine(addr)):
                raise DestinationRefusedError("That is the gateway itself.")

    def _judge(self, address: str) -> str | None:
        addr: IPAddress = ipaddress.ip_address(address)
        if isinstance(addr, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(addr)
            if embedded is not None:
                addr = embedded
        if any(addr in net for net in self._allowed):
            return None
        if addr.is_loopback or addr.is_unspecified:
            return "The gateway does not connect to this machine's own addresses."
        if addr.is_multicast:
            return "The gateway does not connect to multicast addresses."
        if addr.is_link_local:
            return "The gateway does not connect to link-local addresses."
        if not addr.is_global:
            return "The gateway does not connect to private or reserved addresses."
        if _is_this_machine(addr):
            return "The gateway does not connect to this machine's own addresses."
        return None


def parse_networks(specs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Networks from CIDR strings (`127.0.0.1/32`, `::1`); ValueError names a bad one."""
    nets: list[IPNetwork] = []
    for spec in specs:
        try:
            nets.append(ipaddress.ip_network(spec, strict=False))
        except ValueError:
            raise ValueError(f"not an address or network: {spec!r}") from None
    return tuple(nets)
