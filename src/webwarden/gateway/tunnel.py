"""The origin side of a relayed connection: a spliced CONNECT tunnel, or a WebSocket once
the origin has switched protocols. Bytes are copied both ways, never read (a spliced
tunnel is one the policy never decrypts, interception.py). Backpressure: when one side's
write buffer fills, the other side stops reading until it drains. A half-close (EOF) is
passed on, and the tunnel ends when both directions are finished or either connection is
lost.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, cast


class TunnelClient(Protocol):
    """The client connection the tunnel belongs to."""

    def tunnel_data(self, data: bytes) -> None: ...

    def tunnel_upstream_eof(self) -> None: ...

    def tunnel_upstream_lost(self, exc: Exception | None) -> None: ...

    def tunnel_pause_client(self) -> None: ...

    def tunnel_resume_client(self) -> None: ...


class TunnelUpstream(asyncio.Protocol):
    __slots__ = ("client", "closed", "eof", "last_activity", "transport")

    def __init__(self) -> None:
        self.client: TunnelClient | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.eof = False
        self.last_activity = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.set_write_buffer_limits(high=256 * 1024)

    def data_received(self, data: bytes) -> None:
        self.last_activity = time.monotonic()
        if self.client is not None:
            self.client.tunnel_data(data)

    def eof_received(self) -> bool:
        self.eof = True
        if self.client is not None:
            self.client.tunnel_upstream_eof()
        # Keep the other direction open, where the transport can half-close (TLS cannot).
        return self.transport is not None and self.transport.can_write_eof()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        client, self.client = self.client, None
        if client is not None:
            client.tunnel_upstream_lost(exc)

    def pause_writing(self) -> None:
        if self.client is not None:
            self.client.tunnel_pause_client()

    def resume_writing(self) -> None:
        if self.client is not None:
            self.client.tunnel_resume_client()

    def write(self, data: bytes) -> None:
        self.last_activity = time.monotonic()
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def close(self) -> None:
        self.client = None
        if self.transport is not None and not self.closed:
            self.transport.close()
