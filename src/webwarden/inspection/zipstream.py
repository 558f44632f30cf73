"""The members of a zip download, typed as its bytes stream by (G5).

A zip's table of contents (the central directory) is at its end, too late for a gateway
that decides while it forwards. So `ZipStreamTyper` reads the LOCAL FILE HEADER in front of
each member as the chunks arrive, and gives each member's name, sizes, method and first
bytes (inflated when deflated); `type_member` types them with the same sniffer as a bare
download, so an executable inside a zip is an `executable`.

Members whose sizes are not in the local header (flag bit 3: a data descriptor follows the
data, as written by any zip streamed to an unseekable output):
- deflated ones are inflated to the end of their deflate stream, which ends where the
  data does; the descriptor after it is checked against the bytes counted;
- others (stored or encrypted) are followed by scanning for the next header signature, and
  a candidate is accepted only when the descriptor just before it gives the size of the
  data scanned so far, so that a signature inside the data is not taken for a header.
When the stream cannot be followed (corrupt data, unexpected bytes, a bound reached) the
typer stops and says so in `reason`, with `incomplete` true. Hand-written because the zip
readers at hand (zipfile and others) need the central directory or a seekable file.
Pure: bytes in, values out.
"""

from __future__ import annotations

import enum
import struct
import zlib
from dataclasses import dataclass, field
from typing import Final

from webwarden.inspection.filetype import SNIFF_BYTES, sniff

_LOCAL: Final = b"PK\x03\x04"
_DESCRIPTOR: Final = b"PK\x07\x08"
_DIRECTORY: Final = (b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07")
_HEADER = struct.Struct("<4sHHHHHIIIHH")  # the 30 fixed bytes of a local file header
_ZIP64_EXTRA: Final = 0x0001
_MASK32: Final = 0xFFFFFFFF
_INFLATE_STEP: Final = 64 * 1024  # output per inflate call while skipping to a member's end
# Descriptor layouts tried before a candidate header: (length, has signature, zip64 sizes).
_LAYOUTS: Final = ((16, True, False), (12, False, False), (24, True, True), (20, False, True))

STORED: Final = 0
DEFLATED: Final = 8
_METHODS: Final = {
    STORED: "stored",
    DEFLATED: "deflated",
    9: "deflate64",
    12: "bzip2",
    14: "lzma",
    93: "zstd",
    95: "xz",
    99: "AES-encrypted",
}


@dataclass(frozen=True, slots=True)
class ZipMember:
    """One member as seen in its local header: `head` is its first (uncompressed) bytes,
    up to `SNIFF_BYTES` (empty when encrypted or compressed by a method not read here);
    sizes are None when the header did not give them and the member was typed before its
    end; `note` says why the head is missing or short."""

    name: str
    method: int
    compressed_size: int | None
    uncompressed_size: int | None
    head: bytes
    encrypted: bool = False
    zip64: bool = False
    data_descriptor: bool = False
    offset: int = 0
    note: str | None = None


class _State(enum.Enum):
    HEADER = "header"
    DATA = "data"  # compressed size known
    INFLATE = "inflate"  # deflated, size unknown: inflate to the end of the stream
    DESCRIPTOR = "descriptor"  # after an inflated member with a data descriptor
    SCAN = "scan"  # size unknown, data unreadable: scan for the next header
    DONE = "done"


@dataclass
class _Current:
    name: str
    method: int
    flags: int
    compressed_size: int | None
    uncompressed_size: int | None
    zip64: bool
    offset: int
    head: bytearray = field(default_factory=bytearray)
    head_done: bool = False
    emitted: bool = False
    remaining: int = 0
    consumed: int = 0
    produced: int = 0
    inflater: zlib._Decompress | None = None
    note: str | None = None

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & 0x1)


def _zip64_sizes(extra: bytes) -> tuple[int, int] | None:
    """(uncompressed, compressed) from a local header's zip64 extra field, if it has one."""
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        if kind == _ZIP64_EXTRA and size >= 16 and at + 4 + size <= len(extra):
            usize, csize = struct.unpack_from("<QQ", extra, at + 4)
            return usize, csize
        at += 4 + size
    return None


class ZipStreamTyper:
    """Feed a zip's bytes in chunks of any size; each call returns the members whose
    first bytes are now known. Stops (`done`) at the central directory, after
    `max_members` members or `max_bytes` bytes, or when the stream cannot be followed
    (`incomplete`, with the `reason`). Never raises on any input."""

    def __init__(self, *, max_members: int = 4096, max_bytes: int = 1 << 30) -> None:
        for label, value in (("max_members", max_members), ("max_bytes", max_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{label} must be a positive integer, not {value!r}")
        self.max_members = max_members
        self.max_bytes = max_bytes
        self.members = 0
        self.reason: str | None = None
        self.complete = False  # the central directory was reached
        self._state = _State.HEADER
        self._buf = bytearray()
        self._pos = 0  # stream offset of _buf[0]
        self._fed = 0
        self._tail = b""  # the last bytes of a scanned member's data, for descriptor checks
        self._member: _Current | None = None
        self._out: list[ZipMember] = []

    @property
    def done(self) -> bool:
        """True once nothing more will be read."""
        return self._state is _State.DONE

    @property
    def incomplete(self) -> bool:
        """True when the typer stopped before the end of the members."""
        return self.done and not self.complete

    def feed(self, chunk: bytes) -> list[ZipMember]:
        """Take the next chunk; the members typed thanks to it."""
        if self.done:
            return []
        self._fed += len(chunk)
        self._buf += chunk
        self._run(final=False)
        if not self.done and self._fed > self.max_bytes:
            self._flush_member()
            self._stop(f"stopped after {self.max_bytes} bytes")
        return self._take()

    def finish(self) -> list[ZipMember]:
        """The stream has ended: the members still being read, with what is known."""
        if not self.done:
            self._run(final=True)
        if not self.done:
            where = f" inside member {self._member.name!r}" if self._member else ""
            self._flush_member()
            self._stop(f"the stream ends{where} before the central directory")
        return self._take()

    def _take(self) -> list[ZipMember]:
        out, self._out = self._out, []
        return out

    def _stop(self, reason: str | None) -> None:
        self.reason = reason
        self.complete = reason is None
        self._state = _State.DONE
        self._buf = bytearray()

    def _consume(self, size: int) -> bytes:
        piece = bytes(self._buf[:size])
        del self._buf[:size]
        self._pos += size
        return piece

    def _run(self, final: bool) -> None:
        steps = {
            _State.HEADER: self._header,
            _State.DATA: self._data,
            _State.INFLATE: self._inflate,
            _State.DESCRIPTOR: self._descriptor,
            _State.SCAN: self._scan,
        }
        while not self.done and steps[self._state](final):
            pass

    # -- local header ------------------------------------------------------------------

    def _header(self, final: bool) -> bool:
        buf = self._buf
        if len(buf) < 4:
            return False
        signature = bytes(buf[:4])
        if signature in _DIRECTORY:
            self._stop(None)
            return False
        if signature == _DESCRIPTOR and self._pos == 0:
            self._consume(4)  # the marker that starts a split archive
            return True
        if signature != _LOCAL:
            what = "not a zip stream" if self._pos == 0 else "no zip header"
            self._stop(f"{what} at offset {self._pos}")
            return False
        if len(buf) < _HEADER.size:
            return False
        _, _, flags, method, _, _, _, csize, usize, name_len, extra_len = _HEADER.unpack_from(buf)
        end = _HEADER.size + name_len + extra_len
        if len(buf) < end:
            return False
        if self.members >= self.max_members:
            self._stop(f"stopped after {self.max_members} members")
            return False
        offset = self._pos
        header = self._consume(end)
        raw_name = header[_HEADER.size : _HEADER.size + name_len]
        # Bit 11: the name is UTF-8; otherwise it is in the IBM PC code page (APPNOTE 4.4.4).
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        sizes = _zip64_sizes(header[_HEADER.size + name_len :])
        zip64 = sizes is not None
        if sizes is not None and _MASK32 in (csize, usize):
            usize, csize = sizes
        unknown = bool(flags & 0x8)
        member = _Current(
            name,
            method,
            flags,
            None if unknown else csize,
            None if unknown else usize,
            zip64,
            offset,
        )
        self._member = member
        self.members += 1
        if member.encrypted:
            self._settle(member, "encrypted")
        elif method not in (STORED, DEFLATED):
            self._settle(member, f"compressed with {_METHODS.get(method, f'method {method}')}")
        elif method == DEFLATED:
            member.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        if not unknown:
            member.remaining = csize
            self._state = _State.DATA
        elif method == DEFLATED and not member.encrypted:
            self._state = _State.INFLATE
        else:
            self._tail = b""
            self._state = _State.SCAN
        return True

    # -- the first bytes of a member -----------------------------------------------------

    def _settle(self, member: _Current, note: str | None = None) -> None:
        member.head_done = True
        member.note = member.note or note

    def _emit(self, member: _Current) -> None:
        if member.emitted:
            return
        member.emitted = True
        self._out.append(
            ZipMember(
                member.name,
                member.method,
                member.compressed_size,
                member.uncompressed_size,
                bytes(member.head[:SNIFF_BYTES]),
                member.encrypted,
                member.zip64,
                bool(member.flags & 0x8),
                member.offset,
                member.note,
            )
        )

    def _collect(self, member: _Current, piece: bytes) -> None:
        """Add to the member's head from a piece of its (compressed) data."""
        if member.head_done:
            return
        need = SNIFF_BYTES - len(member.head)
        if member.inflater is None:
            member.head += piece[:need]
        else:
            try:
                member.head += member.inflater.decompress(piece, need)
            except zlib.error as problem:
                self._settle(member, f"corrupt deflate data: {problem}")
                return
            if member.inflater.eof:
                member.head_done = True
        if len(member.head) >= SNIFF_BYTES:
            member.head_done = True

    def _flush_member(self) -> None:
        if self._member is not None and not self._member.emitted:
            self._emit(self._member)

    # -- member data whose size is known -------------------------------------------------

    def _data(self, final: bool) -> bool:
        member = self._member
        assert member is not None
        if member.remaining == 0:
            self._settle(member)
            self._emit(member)
            self._member, self._state = None, _State.HEADER
            return True
        if not self._buf:
            return False
        piece = self._consume(min(len(self._buf), member.remaining))
        member.remaining -= len(piece)
        member.consumed += len(piece)
        self._collect(member, piece)
        if member.head_done:
            self._emit(member)
        return True

    # -- deflated data of unknown size ---------------------------------------------------

    def _inflate(self, final: bool) -> bool:
        member = self._member
        assert member is not None and member.inflater is not None
        if not self._buf and not final:
            return False
        piece = bytes(self._buf)
        data, inflater = piece, member.inflater
        while True:
            try:
                out = inflater.decompress(data, _INFLATE_STEP)
            except zlib.error as problem:
                self._settle(member, f"corrupt deflate data: {problem}")
                self._emit(member)
                self._stop(f"corrupt deflate data in member {member.name!r}")
                return False
            member.produced += len(out)
            if not member.head_done:
                member.head += out[: SNIFF_BYTES - len(member.head)]
                member.head_done = len(member.head) >= SNIFF_BYTES
            data = inflater.unconsumed_tail
            # A full output buffer may leave output pending in zlib: ask again.
            if inflater.eof or (not data and len(out) < _INFLATE_STEP):
                break
        used = len(piece) - len(inflater.unused_data) if inflater.eof else len(piece)
        self._consume(used)
        member.consumed += used
        if inflater.eof:
            member.head_done = True
            member.compressed_size, member.uncompressed_size = member.consumed, member.produced
            self._emit(member)
            self._state = _State.DESCRIPTOR
            return True
        if member.head_done:
            self._emit(member)
        return False

    def _descriptor(self, final: bool) -> bool:
        """Skip the data descriptor after an inflated member, checking its size field
        against the compressed bytes counted."""
        member = self._member
        assert member is not None
        buf = self._buf
        if len(buf) < 28 and not final:
            return False
        matches: list[int] = []
        for length, signed, wide in _LAYOUTS:
            if len(buf) < length or (signed and bytes(buf[:4]) != _DESCRIPTOR):
                continue
            size = struct.unpack_from("<Q" if wide else "<I", buf, 8 if signed else 4)[0]
            if size == member.consumed & (-1 if wide else _MASK32):
                matches.append(length)
        # A small zip64 size reads the same in 4 bytes as in 8: the layout followed by the
        # next signature is the one.
        followed = [length for length in matches if bytes(buf[length : length + 2]) == b"PK"]
        if not matches:
            self._stop(f"no valid data descriptor after member {member.name!r}")
            return False
        self._consume((followed or matches)[0])
        self._member, self._state = None, _State.HEADER
        return True

    # -- unreadable data of unknown size -------------------------------------------------

    def _boundary(self, window: bytes, at: int, scanned: int) -> int | None:
        """The descriptor length, when the bytes before `window[at]` are a descriptor
        whose size is that of the `scanned` bytes of data before it."""
        for length, signed, wide in _LAYOUTS:
            start = at - length
            if start < 0 or scanned < length:
                continue
            if signed and window[start : start + 4] != _DESCRIPTOR:
                continue
            size = struct.unpack_from("<Q" if wide else "<I", window, start + (8 if signed else 4))
            if size[0] == scanned - length:
                return length
        return None

    def _scan(self, final: bool) -> bool:
        member = self._member
        assert member is not None
        window = self._tail + bytes(self._buf)
        base = member.consumed - len(self._tail)  # member data before window[0]
        at = len(self._tail)
        while (at := window.find(b"PK", at)) >= 0:
            signature = window[at : at + 4]
            length = None
            if signature == _LOCAL or signature in _DIRECTORY:
                length = self._boundary(window, at, base + at)
            if length is not None:
                data_end = base + at - length
                piece = self._consume(at - len(self._tail))
                self._collect(member, piece)
                member.consumed = member.compressed_size = data_end
                if member.method == STORED and not member.encrypted:
                    member.uncompressed_size = data_end
                    member.head = member.head[:data_end]
                self._settle(member)
                self._emit(member)
                self._member, self._state = None, _State.HEADER
                return True
            at += 1
        # Keep three bytes back: a signature may be split across chunks.
        keep = 0 if final else 3
        piece = self._consume(max(0, len(self._buf) - keep))
        member.consumed += len(piece)
        self._collect(member, piece)
        self._tail = (self._tail + piece)[-32:]
        if member.head_done:
            self._emit(member)
        return False


def type_member(member: ZipMember) -> str:
    """The file type label of a member, from its first bytes and its name, by the same
    sniffer as a bare download: an executable in a zip is `executable`."""
    return sniff(member.head, None, member.name).label
