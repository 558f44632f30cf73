"""Connections to origin servers: the response parser (httptools) and the keep-alive pool.

Responses are parsed by httptools (llhttp, in C): the body path is where the bytes are,
and llhttp is strict about framing. The gateway re-frames every response it forwards, so
nothing the origin does with its framing reaches the client unchecked.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol, cast

import httptools

log = logging.getLogger("webwarden.gateway")


class ResponseSink(Protocol):
    """Who receives one response: the client connection that sent the request."""

    def on_response_head(
        self, status: int, reason: bytes, version: str, headers: list[tuple[bytes, bytes]]
    ) -> None: ...

    def on_response_body(self, data: bytes) -> None: ...

    def on_response_end(self) -> None: ...

    def on_upstream_failed(self, reason: str, response_started: bool) -> None: ...

    def on_upstream_pause(self) -> None: ...

    def on_upstream_resume(self) -> None: ...

    def on_upgrade(self, conn: UpstreamConnection, rest: bytes) -> None: ...

    def on_upstream_read_done(self) -> None: ...


# scheme, host, port, covert (covert traffic never shares a socket; https ones carry TLS)
PoolKey = tuple[str, str, int, bool]


class _HeadDoneError(Exception):
    """Raised from on_headers_complete to stop llhttp after the head of a HEAD response."""


class UpstreamConnection(asyncio.Protocol):
    """One TCP connection to an origin, carrying one request at a time."""

    __slots__ = (
        "_closed_callback",
        "_parser",
        "_reason",
        "_status",
        "address",
        "body_framing",
        "closed",
        "connected",
        "fields",
        "got_bytes",
        "head_request",
        "headers",
        "idle_since",
        "key",
        "last_activity",
        "reusable",
        "sink",
        "transport",
        "upgrade",
        "writing_paused",
    )

    def __init__(self, key: PoolKey, address: str) -> None:
        self.key = key
        self.address = address
        self.transport: asyncio.Transport | None = None
        self.sink: ResponseSink | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        # The response's fields by name, the last value of each (llhttp refuses repeated or
        # conflicting framing fields, so for them the last is the only one).
        self.fields: dict[bytes, bytes] = {}
        self._parser: httptools.HttpResponseParser | None = None
        self._status = 0
        self._reason = b""
        self.head_request = False
        self.upgrade = False  # a WebSocket upgrade was asked for: 101 switches protocols
        self.got_bytes = False
        self.reusable = False
        self.closed = False
        self.connected: asyncio.Future[None] | None = None
        self.writing_paused = False
        self.body_framing = "none"  # "length", "chunked", "close" or "none"
        self.idle_since = 0.0
        self.last_activity = 0.0
        self._closed_callback: Callable[[UpstreamConnection], None] | None = None

    # -- asyncio.Protocol -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.set_write_buffer_limits(high=256 * 1024)

    def data_received(self, data: bytes) -> None:
        self.last_activity = time.monotonic()
        sink = self.sink
        parser = self._parser
        if sink is None or parser is None:
            # Bytes nobody asked for (or after the response): the connection is unusable.
            self.abort()
            return
        self.got_bytes = True
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self._upgraded(data[int(exc.args[0]):])
            return
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadDoneError):
                self._finish_response(reusable=False)
                return
            # A failure in the gateway's own handling (a bug): logged, and the client gets
            # an error rather than a half-judged response.
            log.error("handling a response failed", exc_info=exc.__context__)
            self._fail(f"the gateway could not handle the response ({exc.__context__!r})")
            return
        except httptools.HttpParserError as exc:
            self._fail(f"the origin sent a malformed response ({exc})")
            return
        sink = self.sink
        if sink is not None:
            # The response goes on: what this read produced goes to the client in one write.
            sink.on_upstream_read_done()

    def eof_received(self) -> bool | None:
        # A body delimited by the connection closing ends here; otherwise connection_lost
        # reports what is missing.
        if self.sink is not None and self._status >= 200 and self.body_framing == "close":
            self._finish_response(reusable=False)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.connected is not None and not self.connected.done():
            self.connected.set_exception(exc or ConnectionResetError("closed"))
        sink = self.sink
        if sink is not None:
            if self._status >= 200 and self.body_framing == "close":
                self._finish_response(reusable=False)
            else:
                self.sink = None
                sink.on_upstream_failed(
                    "the origin closed the connection" + (f" ({exc})" if exc else ""),
                    self._status >= 200,
                )
        if self._closed_callback is not None:
            self._closed_callback(self)

    def pause_writing(self) -> None:
        self.writing_paused = True
        if self.sink is not None:
            self.sink.on_upstream_pause()

    def resume_writing(self) -> None:
        self.writing_paused = False
        if self.sink is not None:
            self.sink.on_upstream_resume()

    # -- httptools callbacks ----------------------------------------------------------
    def on_status(self, reason: bytes) -> None:
        self._reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        parser = self._parser
        assert parser is not None
        status = parser.get_status_code()
        self._status = status
        if status == 101 and self.upgrade:
            # Switching protocols (WebSocket): the head goes to the client, and whatever
            # follows it is no longer HTTP (see _upgraded).
            self.fields = dict(self.headers)
            self.body_framing = "upgrade"
            sink = self.sink
            assert sink is not None
            sink.on_response_head(status, self._reason, parser.get_http_version(), self.headers)
            return
        if status < 200:
            # An interim response (103 Early Hints...): not forwarded; wait for the real one.
            return
        self.fields = fields = dict(self.headers)
        if self.head_request or status in (204, 304):
            framing = "none"
        elif b"transfer-encoding" in fields:
            framing = "chunked"
        elif b"content-length" in fields:
            framing = "length"
        else:
            framing = "close"
        self.body_framing = framing
        sink = self.sink
        assert sink is not None
        sink.on_response_head(status, self._reason, parser.get_http_version(), self.headers)
        if self.head_request:
            raise _HeadDoneError

    def on_body(self, body: bytes) -> None:
        if self._status >= 200 and self.sink is not None:
            self.sink.on_response_body(body)

    def on_message_complete(self) -> None:
        if self.body_framing == "upgrade":
            return  # llhttp reports the switch next (HttpParserUpgrade)
        if self._status < 200:
            self.headers = []
            self._reason = b""
            self._status = 0
            return
        parser = self._parser
        reusable = parser is not None and parser.should_keep_alive()
        self._finish_response(reusable)

    # -- used by the client side --------------------------------------------------------
    def send(
        self, head: bytes, sink: ResponseSink, head_request: bool, upgrade: bool = False
    ) -> None:
        """Write a request head and route the response to `sink`."""
        self.sink = sink
        self.upgrade = upgrade
        self._parser = httptools.HttpResponseParser(self)
        self.headers = []
        self._reason = b""
        self._status = 0
        self.got_bytes = False
        self.head_request = head_request
        self.body_framing = "none"
        self.last_activity = time.monotonic()
        assert self.transport is not None
        self.transport.write(head)

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def pause_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def abort(self) -> None:
        self.sink = None
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _upgraded(self, rest: bytes) -> None:
        """The origin switched protocols: hand the socket to the sink, which relays it
        from now on; this object is done with it."""
        sink = self.sink
        if sink is None or self.body_framing != "upgrade":
            self._fail("the origin switched protocols without being asked to")
            return
        self.sink = None
        self._parser = None
        self.reusable = False
        self._closed_callback = None
        sink.on_upgrade(self, rest)

    def _finish_response(self, reusable: bool) -> None:
        sink = self.sink
        self.sink = None
        self._parser = None
        self.reusable = reusable and not self.closed
        if sink is not None:
            sink.on_response_end()

    def _fail(self, reason: str) -> None:
        sink = self.sink
        started = self._status >= 200
        self.abort()
        if sink is not None:
            sink.on_upstream_failed(reason, started)


class UpstreamPool:
    """Idle keep-alive connections by (scheme, host, port, covert), most recently used first,
    bounded per key and overall; idle ones are closed after `idle_timeout` seconds."""

    def __init__(
        self, per_key: int = 256, total: int = 2048, idle_timeout: float = 30.0
    ) -> None:
        self._idle: dict[PoolKey, list[UpstreamConnection]] = {}
        self._count = 0
        self.per_key = per_key
        self.total = total
        self.idle_timeout = idle_timeout

    def get(self, key: PoolKey) -> UpstreamConnection | None:
        conns = self._idle.get(key)
        while conns:
            conn = conns.pop()
            self._count -= 1
            if not conn.closed and conn.transport is not None and not conn.transport.is_closing():
                return conn
        return None

    def put(self, conn: UpstreamConnection) -> None:
        if conn.closed or not conn.reusable or self._count >= self.total:
            conn.abort()
            return
        conns = self._idle.setdefault(conn.key, [])
        if len(conns) >= self.per_key:
            conn.abort()
            return
        conn.idle_since = time.monotonic()
        conn._closed_callback = self._discard
        conns.append(conn)
        self._count += 1

    def _discard(self, conn: UpstreamConnection) -> None:
        conns = self._idle.get(conn.key)
        if conns and conn in conns:
            conns.remove(conn)
            self._count -= 1

    def sweep(self, now: float) -> None:
        """Close connections idle for longer than the timeout."""
        for key in list(self._idle):
            conns = self._idle[key]
            keep = [c for c in conns if now - c.idle_since < self.idle_timeout and not c.closed]
            for c in conns:
                if c not in keep:
                    c._closed_callback = None
                    c.abort()
            self._count -= len(conns) - len(keep)
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]

    def close(self) -> None:
        for conns in self._idle.values():
            for c in conns:
                c._closed_callback = None
                c.abort()
        self._idle.clear()
        self._count = 0

    def __len__(self) -> int:
        return self._count
