"""The transport a request exchange inside a decrypted tunnel writes to: plaintext in,
TLS records out on the client's socket. With it, decrypted HTTP runs through the very
same exchange code as plain HTTP (one place decides, blocks, inspects and records,
whatever the transport)."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from webwarden.gateway.tls.session import ClientTls


class TlsOwner(Protocol):
    """The outer connection: owns the client's socket and the TLS state."""

    def tls_write(self, data: bytes) -> None: ...

    def tls_close(self) -> None: ...

    def tls_pause_reading(self) -> None: ...

    def tls_resume_reading(self) -> None: ...

    def tls_extra_info(self, name: str, default: Any = None) -> Any: ...


class DecryptedTransport(asyncio.Transport):
    def __init__(self, owner: TlsOwner, tls: ClientTls) -> None:
        super().__init__()
        self._owner = owner
        self._tls = tls
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:
            return
        self._tls.send(bytes(data))
        out = self._tls.data_to_send()
        if out:
            self._owner.tls_write(out)

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(list_of_data))

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._tls.close()
        out = self._tls.data_to_send()
        if out:
            self._owner.tls_write(out)
        self._owner.tls_close()

    def abort(self) -> None:
        self.close()

    def is_closing(self) -> bool:
        return self._closing

    def can_write_eof(self) -> bool:
        return False  # TLS has close_notify, not a half-close

    def write_eof(self) -> None:
        raise NotImplementedError("TLS connections cannot be half-closed")

    def pause_reading(self) -> None:
        self._owner.tls_pause_reading()

    def resume_reading(self) -> None:
        self._owner.tls_resume_reading()

    def is_reading(self) -> bool:
        return not self._closing

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass  # the client's socket has its own limits; its pause_writing reaches us

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._owner.tls_extra_info(name, default)
