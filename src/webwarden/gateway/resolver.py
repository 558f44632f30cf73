"""Name resolution for upstream connections: resolve once, check every address, connect only
to a checked address.

A name is resolved by the system resolver (in asyncio's thread pool); answers are kept for
a short while (like Squid's ipcache) so a busy site is not looked up per request. Every
address of the answer must pass the DestinationGuard: a name that resolves to one public
and one private address is refused outright rather than trusted to pick the public one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time

from webwarden.gateway.addresses import DestinationGuard, DestinationRefusedError


class ResolveError(Exception):
    """The name does not resolve; the message is written for people."""


class Resolver:
    def __init__(
        self,
        guard: DestinationGuard,
        positive_ttl: float = 60.0,
        negative_ttl: float = 5.0,
        max_entries: int = 8192,
        static: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.guard = guard
        self._static = static or {}
        self._positive_ttl = positive_ttl
        self._negative_ttl = negative_ttl
        self._max = max_entries
        self._cache: dict[str, tuple[float, tuple[str, ...] | str]] = {}

    async def addresses(self, host: str, port: int) -> tuple[str, ...]:
        """Addresses to connect to for host:port, every one of them checked."""
        found = self._literal(host)
        if found is None:
            found = self._static.get(host)
        if found is None:
            found = await self._lookup(host)
        for address in found:
            self.guard.check(address, port)
        return found

    @staticmethod
    def _literal(host: str) -> tuple[str, ...] | None:
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return None
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            return (str(addr.ipv4_mapped),)
        return (str(addr),)

    async def _lookup(self, host: str) -> tuple[str, ...]:
        now = time.monotonic()
        cached = self._cache.get(host)
        if cached is not None and cached[0] > now:
            if isinstance(cached[1], str):
                raise ResolveError(cached[1])
            return cached[1]
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            reason = f"The name {host} could not be resolved ({exc})."
            self._store(host, now + self._negative_ttl, reason)
            raise ResolveError(reason) from None
        seen: list[str] = []
        for family, _type, _proto, _name, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = str(sockaddr[0]).split("%", 1)[0]
            mapped = self._literal(address)
            address = mapped[0] if mapped else address
            if address not in seen:
                seen.append(address)
        if not seen:
            reason = f"The name {host} has no usable address."
            self._store(host, now + self._negative_ttl, reason)
            raise ResolveError(reason)
        result = tuple(seen)
        self._store(host, now + self._positive_ttl, result)
        return result

    def _store(self, host: str, until: float, value: tuple[str, ...] | str) -> None:
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[host] = (until, value)


__all__ = ["DestinationRefusedError", "ResolveError", "Resolver"]
