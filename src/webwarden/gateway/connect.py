"""Resolve, check, connect: the one seam between a connection's exchange and the network.

The exchange (gateway/proxy.py) asks for a connection to host:port and gets one, or a
`ConnectFailedError` that says, for people, why not; it never touches the resolver or a socket
itself. Tests pass a connector of their own (tests/unit/gateway/harness.py), so an allowed
CONNECT, a name that does not resolve, a refused destination, a refused or silent origin
and a bad certificate are all exercised without a socket.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from webwarden.gateway.addresses import DestinationRefusedError
from webwarden.gateway.resolver import ResolveError, Resolver


class ConnectFailedError(Exception):
    """No connection. `status`, `title` and `message` are what the client is told;
    `refused`: the destination checks refused the address (a policy of the gateway's own,
    not a fault of the site)."""

    def __init__(self, status: int, title: str, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.refused = refused


@dataclass(frozen=True, slots=True)
class Connected:
    protocol: asyncio.Protocol
    address: str  # the address connected to, for the record


class Connector(Protocol):
    async def connect(
        self,
        host: str,
        port: int,
        factory: Callable[[str], asyncio.Protocol],
        *,
        tls: ssl.SSLContext | None = None,
        local_address: str | None = None,
    ) -> Connected:
        """Connect to `host`:`port` (TLS with `tls`, verifying the name `host`), leaving
        from `local_address` when given. `factory(address)` makes the protocol. Raises
        ConnectFailedError, or ssl.SSLCertVerificationError for a certificate that does not
        verify (the caller explains it)."""
        ...


class SocketConnector:
    """The real one: the worker's resolver (every address checked by the destination
    guard), then the first address that answers within `timeout` seconds."""

    def __init__(self, resolver: Resolver, timeout: float) -> None:
        self.resolver = resolver
        self.timeout = timeout

    async def connect(
        self,
        host: str,
        port: int,
        factory: Callable[[str], asyncio.Protocol],
        *,
        tls: ssl.SSLContext | None = None,
        local_address: str | None = None,
    ) -> Connected:
        try:
            addresses = await self.resolver.addresses(host, port)
        except DestinationRefusedError as exc:
            raise ConnectFailedError(403, "The gateway will not connect there", exc.reason,
                                refused=True) from None
        except ResolveError as exc:
            raise ConnectFailedError(502, "The site could not be found", str(exc)) from None
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address is not None else None
        last = ""
        for address in addresses:
            try:
                if tls is not None:
                    connecting = loop.create_connection(
                        functools.partial(factory, address), address, port, ssl=tls,
                        server_hostname=host, ssl_handshake_timeout=self.timeout,
                        local_addr=local,
                    )
                else:
                    connecting = loop.create_connection(
                        functools.partial(factory, address), address, port, local_addr=local,
                    )
                _transport, protocol = await asyncio.wait_for(connecting, self.timeout)
            except ssl.SSLCertVerificationError:
                raise
            except ssl.SSLError as exc:
                last = f"TLS with {address} port {port} failed ({exc.reason or exc})"
                continue
            except TimeoutError:
                last = f"connecting to {address} port {port} timed out"
                continue
            except OSError as exc:
                last = f"connecting to {address} port {port} failed ({exc.strerror})"
                continue
            return Connected(protocol, address)
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if last.endswith("timed out"):
            raise ConnectFailedError(504, "The site did not answer",
                                f"The gateway could not connect to {authority}: {last}.")
        raise ConnectFailedError(502, "The site could not be reached",
                            f"The gateway could not connect to {authority}: {last}.")
