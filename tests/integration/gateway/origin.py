"""Real servers on loopback for the gateway's end-to-end tests.

- `Origin`: an HTTP/1.1 origin (and, with a TLS context, an HTTPS one) that records the
  exact bytes every connection delivered, so tests can check what the gateway forwarded
  (and that nothing smuggled got through).
- `Canary`: listeners that must never see a connection (addresses the gateway must refuse).

Everything runs on one asyncio loop in a background thread; `Servers.stop()` ends it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import ssl
import struct
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

PAGE = b"<!doctype html><title>Origin page</title><h1 id=origin>Hello from the origin</h1>\n"
BANK = b"<!doctype html><title>Bank</title><h1 id=bank>Your bank account</h1>\n"
SECURE = b"<!doctype html><title>Secure</title><h1 id=secure>Hello over TLS</h1>\n"
# A Windows executable (MZ header pointing at a PE signature), as the bytes of a "photo".
FAKE_JPEG = b"MZ" + b"\x90" * 58 + struct.pack("<I", 64) + b"PE\x00\x00" + b"\x00" * 4000
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 6000
CHUNKED_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 6000


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


# A zip holding a Windows executable after a harmless readme, and one of documents only.
TOOLS_ZIP = _zip({"readme.txt": b"Install notes\n" * 50, "bin/setup.exe": FAKE_JPEG})
DOCS_ZIP = _zip({"minutes.txt": b"Minutes of the meeting\n" * 100,
                 "agenda.txt": b"Agenda\n" * 40})


@dataclass
class Received:
    """Everything one connection to the origin delivered, byte for byte."""

    peer: str
    data: bytearray = field(default_factory=bytearray)


class _Request:
    def __init__(self, method: str, target: str, headers: list[tuple[str, str]],
                 body: bytes) -> None:
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


class _OriginProtocol(asyncio.Protocol):
    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.record: Received | None = None
        self.echo = False  # after a WebSocket handshake: every byte is sent back

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.record = Received(peer=str(peer[0]) if peer else "?")
        self.origin.connections.append(self.record)

    def data_received(self, data: bytes) -> None:
        assert self.record is not None
        self.record.data += data
        if self.echo:
            assert self.transport is not None
            self.transport.write(data)
            return
        self.buffer += data
        while True:
            request = self._parse()
            if request is None:
                return
            self.origin.requests.append(request)
            self._answer(request)

    def _parse(self) -> _Request | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:]]
        hdrs: list[tuple[str, str]] = [(h[0], h[1]) for h in headers if len(h) == 2]
        rest = bytes(self.buffer[end + 4:])
        te = next((v for k, v in hdrs if k.lower() == "transfer-encoding"), None)
        cl = next((v for k, v in hdrs if k.lower() == "content-length"), None)
        if te is not None:
            body = bytearray()
            pos = 0
            while True:
                nl = rest.find(b"\r\n", pos)
                if nl < 0:
                    return None
                size = int(rest[pos:nl].split(b";")[0], 16)
                if size == 0:
                    trailer_end = rest.find(b"\r\n\r\n", nl)
                    if rest[nl:nl + 4] == b"\r\n\r\n":
                        consumed = nl + 4
                    elif trailer_end >= 0:
                        consumed = trailer_end + 4
                    else:
                        return None
                    break
                if len(rest) < nl + 2 + size + 2:
                    return None
                body += rest[nl + 2: nl + 2 + size]
                pos = nl + 2 + size + 2
            del self.buffer[: end + 4 + consumed]
            return _Request(method, target, hdrs, bytes(body))
        length = int(cl) if cl is not None else 0
        if len(rest) < length:
            return None
        del self.buffer[: end + 4 + length]
        return _Request(method, target, hdrs, rest[:length])

    def _answer(self, req: _Request) -> None:
        assert self.transport is not None
        upgrade = (req.header("upgrade") or "").lower()
        if req.target.split("?", 1)[0] == "/ws" and upgrade == "websocket":
            # RFC 6455 opening handshake, then an echo of whatever arrives.
            key = req.header("sec-websocket-key") or ""
            accept = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            self.transport.write(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n".encode())
            self.echo = True
            rest, self.buffer = bytes(self.buffer), bytearray()
            if rest:
                self.transport.write(rest)
            return
        handler = self.origin.routes.get(req.target.split("?", 1)[0])
        if handler is None:
            handler = self.origin.routes.get("*")
        assert handler is not None
        handler(req, self.transport)


def respond(transport: asyncio.Transport, status: int, body: bytes,
            content_type: str = "text/html", *, extra: str = "", head: bool = False) -> None:
    transport.write(
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n".encode() + (b"" if head else body)
    )


def _query_size(target: str, default: int) -> int:
    _, _, query = target.partition("?")
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "size":
            return int(value)
    return default


class Origin:
    """An origin server with the routes the tests use."""

    def __init__(self, tls: ssl.SSLContext | None = None, page: bytes = PAGE) -> None:
        self.tls = tls
        self.connections: list[Received] = []
        self.requests: list[_Request] = []
        self.port = 0
        self.page = page
        self.routes: dict[str, Callable[[_Request, asyncio.Transport], None]] = {
            "*": lambda r, t: respond(t, 200, self.page, head=r.method == "HEAD"),
            "/echo": self._echo,
            "/chunked": self._chunked,
            "/large": self._large,
            "/large-chunked": self._large_chunked,
            "/declared-huge": self._declared_huge,
            "/photo.jpg": lambda r, t: respond(t, 200, FAKE_JPEG, "image/jpeg"),
            "/real.jpg": lambda r, t: respond(t, 200, JPEG, "image/jpeg"),
            "/song.mp3": lambda r, t: respond(t, 200, MP3, "audio/mpeg"),
            "/tools.zip": lambda r, t: respond(t, 200, TOOLS_ZIP, "application/zip"),
            "/docs.zip": lambda r, t: respond(t, 200, DOCS_ZIP, "application/zip"),
            "/bank/account": lambda r, t: respond(t, 200, BANK),
            "/close-delimited": self._close_delimited,
            "/slow": self._slow,
        }

    def _echo(self, req: _Request, t: asyncio.Transport) -> None:
        body = json.dumps({
            "method": req.method,
            "target": req.target,
            "headers": req.headers,
            "body_length": len(req.body),
            "body": req.body.decode("latin-1")[:200],
        }).encode()
        respond(t, 200, body, "application/json")

    @staticmethod
    def _chunked(req: _Request, t: asyncio.Transport) -> None:
        t.write(CHUNKED_HEAD)
        for piece in (b"first piece,", b"second piece,", b"last piece"):
            t.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        t.write(b"0\r\n\r\n")

    @staticmethod
    def _large(req: _Request, t: asyncio.Transport) -> None:
        size = _query_size(req.target, 1 << 20)
        t.write(f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {size}\r\n\r\n"
                .encode())
        block = b"a" * 65536
        left = size
        while left:
            n = min(left, len(block))
            t.write(block[:n])
            left -= n

    @staticmethod
    def _large_chunked(req: _Request, t: asyncio.Transport) -> None:
        size = _query_size(req.target, 1 << 20)
        t.write(CHUNKED_HEAD)
        block = b"b" * 65536
        left = size
        while left:
            n = min(left, len(block))
            t.write(b"%x\r\n%s\r\n" % (n, block[:n]))
            left -= n
        t.write(b"0\r\n\r\n")

    @staticmethod
    def _declared_huge(req: _Request, t: asyncio.Transport) -> None:
        t.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                b"Content-Length: 10000000000\r\n\r\n" + b"z" * 1000)

    @staticmethod
    def _close_delimited(req: _Request, t: asyncio.Transport) -> None:
        t.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
                b"body without a length")
        t.close()

    @staticmethod
    def _slow(req: _Request, t: asyncio.Transport) -> None:
        """Answers after a second: a transaction still in flight when a test acts."""
        asyncio.get_running_loop().call_later(1.0, respond, t, 200, b"slow but sure")

    def reset(self) -> None:
        self.connections.clear()
        self.requests.clear()

    def received(self) -> bytes:
        return b"".join(bytes(c.data) for c in self.connections)


class _CanaryProtocol(asyncio.Protocol):
    def __init__(self, canary: Canary) -> None:
        self.canary = canary

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.canary.hits += 1
        transport.close()


class Canary:
    def __init__(self) -> None:
        self.hits = 0
        self.port = 0


class Servers:
    """The origins and canaries, on one loop in a background thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._servers: list[asyncio.AbstractServer] = []

    def _run(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)  # type: ignore[arg-type]

    def start_origin(self, host: str, tls: ssl.SSLContext | None = None,
                     page: bytes = PAGE) -> Origin:
        origin = Origin(tls, page)

        async def start() -> None:
            server = await self.loop.create_server(
                lambda: _OriginProtocol(origin), host, 0, ssl=tls
            )
            self._servers.append(server)
            origin.port = server.sockets[0].getsockname()[1]

        self._run(start())
        return origin

    def start_canary(self, hosts: list[str]) -> Canary:
        canary = Canary()

        async def start() -> None:
            port = 0
            for host in hosts:
                server = await self.loop.create_server(
                    lambda: _CanaryProtocol(canary), host, port
                )
                self._servers.append(server)
                port = server.sockets[0].getsockname()[1]
            canary.port = port

        self._run(start())
        return canary

    def stop(self) -> None:
        async def stop() -> None:
            for server in self._servers:
                server.close()

        self._run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
