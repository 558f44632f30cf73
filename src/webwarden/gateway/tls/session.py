"""The client side of a decrypted tunnel as a sans-I/O state machine: ciphertext in,
plaintext and events out, ciphertext to send back. No socket: the connection feeds it
what it reads and writes what it asks (Python's ssl.SSLObject over two MemoryBIOs is
the TLS engine; this module only keeps its states explicit).

States and transitions (the table below is the whole machine):

| state      | event                     | next       | what comes out                   |
|------------|---------------------------|------------|----------------------------------|
| HANDSHAKE  | bytes, handshake unfinished | HANDSHAKE | handshake bytes to send          |
| HANDSHAKE  | bytes, handshake done     | OPEN       | Established(alpn), then Data     |
| HANDSHAKE  | bytes, TLS error          | FAILED     | Failed(reason): an untrusted CA? |
| OPEN       | bytes                     | OPEN       | Data                             |
| OPEN       | close_notify from client  | CLOSED     | Closed                           |
| OPEN       | TLS error                 | FAILED     | Failed(reason)                   |
| OPEN       | send(plaintext)           | OPEN       | ciphertext to send               |
| OPEN       | close()                   | CLOSED     | close_notify to send             |
| FAILED, CLOSED | anything              | (same)     | nothing                          |
"""

from __future__ import annotations

import contextlib
import ssl
from dataclasses import dataclass
from enum import Enum

_READ = 256 * 1024


class TlsState(Enum):
    HANDSHAKE = "handshake"
    OPEN = "open"
    CLOSED = "closed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Established:
    alpn: str | None
    version: str | None


@dataclass(frozen=True, slots=True)
class Data:
    data: bytes


@dataclass(frozen=True, slots=True)
class Closed:
    pass


@dataclass(frozen=True, slots=True)
class Failed:
    reason: str


TlsEvent = Established | Data | Closed | Failed

TRANSITIONS: dict[tuple[TlsState, str], TlsState] = {
    (TlsState.HANDSHAKE, "pending"): TlsState.HANDSHAKE,
    (TlsState.HANDSHAKE, "established"): TlsState.OPEN,
    (TlsState.HANDSHAKE, "error"): TlsState.FAILED,
    (TlsState.OPEN, "data"): TlsState.OPEN,
    (TlsState.OPEN, "peer-closed"): TlsState.CLOSED,
    (TlsState.OPEN, "error"): TlsState.FAILED,
    (TlsState.OPEN, "send"): TlsState.OPEN,
    (TlsState.OPEN, "close"): TlsState.CLOSED,
}


def _describe(exc: ssl.SSLError) -> str:
    reason = getattr(exc, "reason", None) or str(exc)
    words = {
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "the browser does not trust the gateway's "
        "certificate (install the gateway's CA)",
        "TLSV1_ALERT_UNKNOWN_CA": "the browser does not trust the gateway's CA",
        "SSLV3_ALERT_BAD_CERTIFICATE": "the browser refused the gateway's certificate",
        "WRONG_VERSION_NUMBER": "the client did not speak TLS",
        "HTTP_REQUEST": "the client sent plain HTTP where TLS was expected",
        "NO_SHARED_CIPHER": "the client and the gateway share no cipher",
        "UNSUPPORTED_PROTOCOL": "the client offered only TLS versions the gateway refuses",
    }
    return words.get(str(reason), f"TLS failed ({reason})")


class ClientTls:
    """The server end of TLS towards the browser, for one decrypted tunnel."""

    __slots__ = ("_in", "_obj", "_out", "state")

    def __init__(self, context: ssl.SSLContext) -> None:
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._obj = context.wrap_bio(self._in, self._out, server_side=True)
        self.state = TlsState.HANDSHAKE

    def _move(self, event: str) -> None:
        self.state = TRANSITIONS[(self.state, event)]

    def receive(self, data: bytes) -> list[TlsEvent]:
        """Ciphertext from the client; what it amounts to, in order."""
        if self.state not in (TlsState.HANDSHAKE, TlsState.OPEN):
            return []
        if data:
            self._in.write(data)
        events: list[TlsEvent] = []
        if self.state is TlsState.HANDSHAKE:
            try:
                self._obj.do_handshake()
            except ssl.SSLWantReadError:
                self._move("pending")
                return events
            except ssl.SSLError as exc:
                self._move("error")
                events.append(Failed(_describe(exc)))
                return events
            self._move("established")
            events.append(Established(self._obj.selected_alpn_protocol(), self._obj.version()))
        chunks: list[bytes] = []
        while True:
            try:
                chunk = self._obj.read(_READ)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                chunk = b""
            except ssl.SSLError as exc:
                if chunks:
                    events.append(Data(b"".join(chunks)))
                    chunks = []
                self._move("error")
                events.append(Failed(_describe(exc)))
                return events
            if not chunk:
                # close_notify from the client (SSLObject.read answers b"" for it).
                if chunks:
                    events.append(Data(b"".join(chunks)))
                self._move("peer-closed")
                events.append(Closed())
                return events
            chunks.append(chunk)
        if chunks:
            self._move("data")
            events.append(Data(chunks[0] if len(chunks) == 1 else b"".join(chunks)))
        return events

    def send(self, plaintext: bytes) -> None:
        """Encrypt `plaintext` for the client (collect it with `data_to_send`)."""
        if self.state is not TlsState.OPEN:
            return
        self._move("send")
        view = memoryview(plaintext)
        while view:
            written = self._obj.write(view)
            view = view[written:]

    def close(self) -> None:
        """Say close_notify (collect it with `data_to_send`)."""
        if self.state is not TlsState.OPEN:
            return
        self._move("close")
        with contextlib.suppress(ssl.SSLError):
            self._obj.unwrap()

    def data_to_send(self) -> bytes:
        return self._out.read() if self._out.pending else b""
