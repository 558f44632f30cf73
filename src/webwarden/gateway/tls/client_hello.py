"""Reading the TLS ClientHello a client sends first in a CONNECT tunnel (pure, no I/O).

The gateway decides whether to splice or decrypt a tunnel from the server name (SNI) and
ALPN before any TLS object exists, and it must then hand the very same bytes on, so it
reads the hello itself from what it has buffered. Neither the standard library nor
OpenSSL's Python bindings parse a ClientHello without also taking part in the handshake,
and the libraries that do (scapy, dpkt) are large packet toolkits that raise on bad
input; the format is small and fixed (RFC 8446 §4.1.2, RFC 5246 §6.2), so it is read
here with every length checked against what was actually received.

`read_client_hello(data)` answers one of three things:
- `ClientHello`: a whole hello was read;
- `NeedMore(at_least)`: nothing is wrong so far, but `data` must grow to at least
  `at_least` bytes before anything more can be said;
- `NotTls(reason)`: the bytes are not a TLS ClientHello (plain HTTP in a tunnel, an SSLv2
  hello, another record or handshake type, lengths that do not add up, too long).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass

MAX_HELLO = 65536  # bytes of records: real hellos are under 2 KiB (post-quantum ~1.8 KiB)
MAX_RECORD = 16384  # RFC 8446 §5.1: a plaintext fragment is at most 2^14 bytes
HANDSHAKE = 22
CLIENT_HELLO = 1
RECORD_VERSIONS = range(0x0301, 0x0305)

EXT_SERVER_NAME = 0x0000
EXT_SUPPORTED_GROUPS = 0x000A
EXT_EC_POINT_FORMATS = 0x000B
EXT_SIGNATURE_ALGORITHMS = 0x000D
EXT_ALPN = 0x0010
EXT_PRE_SHARED_KEY = 0x0029
EXT_SUPPORTED_VERSIONS = 0x002B
EXT_KEY_SHARE = 0x0033
EXT_ECH = 0xFE0D

VERSION_NAMES = {
    0x0300: "SSL 3.0",
    0x0301: "TLS 1.0",
    0x0302: "TLS 1.1",
    0x0303: "TLS 1.2",
    0x0304: "TLS 1.3",
}

# IANA names of the suites a current browser, OpenSSL or curl offers (others by number).
CIPHER_NAMES = {
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0x1304: "TLS_AES_128_CCM_SHA256",
    0x1305: "TLS_AES_128_CCM_8_SHA256",
    0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAA: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    0xC023: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    0xC024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    0xC027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    0xC028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256",
    0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",
    0x009E: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    0x009F: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA",
    0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
    0x003C: "TLS_RSA_WITH_AES_128_CBC_SHA256",
    0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",
    0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    0x006B: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    0x000A: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    0x00FF: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
    0x5600: "TLS_FALLBACK_SCSV",
}

GROUP_NAMES = {
    0x0017: "secp256r1",
    0x0018: "secp384r1",
    0x0019: "secp521r1",
    0x001D: "x25519",
    0x001E: "x448",
    0x0100: "ffdhe2048",
    0x0101: "ffdhe3072",
    0x0102: "ffdhe4096",
    0x0103: "ffdhe6144",
    0x0104: "ffdhe8192",
    0x11EB: "SecP256r1MLKEM768",
    0x11EC: "X25519MLKEM768",
    0x11ED: "SecP384r1MLKEM1024",
    0x6399: "X25519Kyber768Draft00",
}


def is_grease(value: int) -> bool:
    """RFC 8701: 0x0a0a, 0x1a1a, ... 0xfafa, values clients send to keep servers tolerant."""
    return (value & 0x0F0F) == 0x0A0A and (value >> 8) == (value & 0xFF)


@dataclass(frozen=True, slots=True)
class NeedMore:
    """The bytes so far are a plausible start; wait until there are `at_least` of them."""

    at_least: int


@dataclass(frozen=True, slots=True)
class NotTls:
    """Not a TLS ClientHello, and no more bytes would make it one."""

    reason: str


@dataclass(frozen=True, slots=True)
class ClientHello:
    """A ClientHello as sent. Lists keep the client's order and its GREASE values; the
    fingerprints leave GREASE out. `sni` is the server name only when it is a plausible
    DNS name (lower case); otherwise it is None and `sni_problem` says what was wrong.
    With `ech`, the SNI is the outer (cover) name, not the site the client wants.
    `length` is how many bytes of `data` the records carrying the hello took."""

    record_version: int
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suites: tuple[int, ...]
    compression_methods: tuple[int, ...]
    extensions: tuple[int, ...]
    sni: str | None
    sni_problem: str
    alpn: tuple[str, ...]
    supported_versions: tuple[int, ...]
    supported_groups: tuple[int, ...]
    ec_point_formats: tuple[int, ...]
    signature_algorithms: tuple[int, ...]
    key_share_groups: tuple[int, ...]
    psk: bool
    ech: bool
    length: int

    @property
    def grease(self) -> bool:
        """Did the client send GREASE values (as Chromium and Firefox do)?"""
        return any(
            is_grease(v)
            for values in (self.cipher_suites, self.extensions, self.supported_groups,
                           self.supported_versions, self.key_share_groups)
            for v in values
        )

    @property
    def versions(self) -> tuple[int, ...]:
        """The protocol versions offered, newest first (supported_versions, else legacy)."""
        offered = [v for v in self.supported_versions if not is_grease(v)]
        return tuple(sorted(offered, reverse=True)) if offered else (self.legacy_version,)

    @property
    def ja3(self) -> str:
        """The JA3 string (Salesforce): version, ciphers, extensions, groups, point formats."""

        def dashed(values: tuple[int, ...]) -> str:
            return "-".join(str(v) for v in values if not is_grease(v))

        return ",".join((
            str(self.legacy_version),
            dashed(self.cipher_suites),
            dashed(self.extensions),
            dashed(self.supported_groups),
            "-".join(str(v) for v in self.ec_point_formats),
        ))

    @property
    def ja3_md5(self) -> str:
        return hashlib.md5(self.ja3.encode("ascii"), usedforsecurity=False).hexdigest()

    @property
    def ja4(self) -> str:
        """The JA4 fingerprint (FoxIO), for TLS over TCP: `t13d1516h2_<ciphers>_<exts>`."""
        ciphers = [v for v in self.cipher_suites if not is_grease(v)]
        extensions = [v for v in self.extensions if not is_grease(v)]
        version = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10",
                   0x0300: "s3"}.get(self.versions[0], "00")
        sni = "d" if EXT_SERVER_NAME in extensions else "i"
        a = (f"t{version}{sni}{min(len(ciphers), 99):02d}{min(len(extensions), 99):02d}"
             f"{_ja4_alpn(self.alpn)}")
        b = _sha12(",".join(f"{v:04x}" for v in sorted(ciphers))) if ciphers else "0" * 12
        counted = sorted(v for v in extensions if v not in (EXT_SERVER_NAME, EXT_ALPN))
        c_text = ",".join(f"{v:04x}" for v in counted)
        if self.signature_algorithms:
            c_text += "_" + ",".join(f"{v:04x}" for v in self.signature_algorithms)
        c = _sha12(c_text) if counted else "0" * 12
        return f"{a}_{b}_{c}"

    def summary(self) -> dict[str, object]:
        """What the hello tells a server, in words, for people (and the self-test page)."""
        return {
            "server_name": self.sni,
            "server_name_problem": self.sni_problem,
            "versions": [VERSION_NAMES.get(v, f"0x{v:04x}") for v in self.versions],
            "cipher_suites": [CIPHER_NAMES.get(v, f"0x{v:04x}") for v in self.cipher_suites
                              if not is_grease(v)],
            "alpn": list(self.alpn),
            "groups": [GROUP_NAMES.get(v, f"0x{v:04x}") for v in self.supported_groups
                       if not is_grease(v)],
            "key_share_groups": [GROUP_NAMES.get(v, f"0x{v:04x}") for v in
                                 self.key_share_groups if not is_grease(v)],
            "signature_algorithms": [f"0x{v:04x}" for v in self.signature_algorithms],
            "extensions": len([v for v in self.extensions if not is_grease(v)]),
            "session_resumption_psk": self.psk,
            "encrypted_client_hello": self.ech,
            "grease": self.grease,
            "ja3": self.ja3,
            "ja3_md5": self.ja3_md5,
            "ja4": self.ja4,
        }


def _sha12(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:12]


def _ja4_alpn(alpn: tuple[str, ...]) -> str:
    if not alpn or not alpn[0]:
        return "00"
    first, last = alpn[0][0], alpn[0][-1]
    if first.isascii() and first.isalnum() and last.isascii() and last.isalnum():
        return first + last
    # JA4: a non-alphanumeric first or last byte is shown by its hex digits instead.
    return f"{ord(first):02x}"[0] + f"{ord(last):02x}"[1]


class _MalformedError(Exception):
    """Internal: the hello does not add up; the message names what is wrong."""


class _Reader:
    """A cursor over one message that refuses to read past its end."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def left(self) -> int:
        return self.end - self.pos

    def take(self, n: int, what: str) -> bytes:
        if n > self.end - self.pos:
            raise _MalformedError(f"{what} runs past the end of its container")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def u16(self, what: str) -> int:
        return int.from_bytes(self.take(2, what), "big")

    def sub(self, length_bytes: int, what: str, *, min_len: int = 0) -> _Reader:
        n = self.u8(what) if length_bytes == 1 else self.u16(what)
        if n < min_len:
            raise _MalformedError(f"{what} is empty")
        start = self.pos
        self.take(n, what)
        return _Reader(self.data, start, start + n)

    def done(self, what: str) -> None:
        if self.pos != self.end:
            raise _MalformedError(f"{what} has {self.end - self.pos} bytes left over")

    def u16_list(self, what: str) -> tuple[int, ...]:
        if self.left() % 2:
            raise _MalformedError(f"{what} has an odd length")
        raw = self.take(self.left(), what)
        return tuple(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))


def _first_byte_problem(data: bytes) -> str:
    """Why bytes that do not start with a handshake record are not TLS, in words."""
    first = data[0]
    if first & 0x80 and len(data) >= 3 and data[2] == 1:
        return "an SSLv2-compatible hello (SSL 2 and 3 are not supported)"
    head = data[:16]
    if re.match(rb"[A-Z]{3,10} ", head) or (head.isascii() and head[:1].isalpha()):
        shown = head.split(b"\r", 1)[0].decode("ascii", "replace")
        return f"plain text, not TLS (it starts {shown!r}: HTTP sent into a tunnel?)"
    if first in (20, 21, 23):
        return f"a TLS record of type {first}, not a handshake"
    return f"not TLS: the first byte is 0x{first:02x}, not 0x16 (handshake)"


def _collect(data: bytes) -> tuple[bytes, int] | NeedMore | NotTls:
    """The handshake message from the records at the start of `data` (it may span several
    records, split at any byte), and where the last of those records ends."""
    message = bytearray()
    pos = 0
    need = 0  # the handshake message's whole length once its header is known
    while True:
        if pos >= MAX_HELLO:
            return NotTls(f"no complete ClientHello in the first {MAX_HELLO} bytes")
        available = len(data) - pos
        if available < 1:
            return NeedMore(pos + 5)
        if data[pos] != HANDSHAKE:
            if pos == 0:
                return NotTls(_first_byte_problem(data))
            return NotTls(f"a record of type {data[pos]} in the middle of the ClientHello")
        if available < 3:
            if available == 2 and data[pos + 1] != 3:
                return NotTls(f"record version 0x{data[pos + 1]:02x}.. is not TLS")
            return NeedMore(pos + 5)
        version = int.from_bytes(data[pos + 1 : pos + 3], "big")
        if version not in RECORD_VERSIONS:
            return NotTls(f"record version 0x{version:04x} is not TLS 1.0 to 1.3")
        if available < 5:
            return NeedMore(pos + 5)
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        if length == 0:
            return NotTls("an empty handshake record (not allowed)")
        if length > MAX_RECORD:
            return NotTls(f"a record of {length} bytes (the limit is {MAX_RECORD})")
        body_start = pos + 5
        body_end = body_start + length
        # What is there of the record already counts, so a bad message type is refused
        # without waiting for the rest of a long record.
        message += data[body_start : min(body_end, len(data))]
        if message and message[0] != CLIENT_HELLO:
            return NotTls(f"handshake message type {message[0]}, not a ClientHello")
        if len(message) >= 4 and not need:
            need = 4 + int.from_bytes(message[1:4], "big")
            if need + 5 > MAX_HELLO:
                return NotTls(f"a ClientHello of {need} bytes is longer than any real one")
        if len(data) < body_end:
            return NeedMore(body_end)
        if need and len(message) >= need:
            if len(message) > need:
                return NotTls("bytes after the ClientHello in its record")
            return bytes(message), body_end
        pos = body_end


def read_client_hello(data: bytes) -> ClientHello | NeedMore | NotTls:
    """Read the ClientHello at the start of `data` (everything received from the client so
    far). Never raises, and never looks past `data`."""
    collected = _collect(data)
    if not isinstance(collected, tuple):
        return collected
    message, end = collected
    try:
        return _parse(message, int.from_bytes(data[1:3], "big"), end)
    except _MalformedError as exc:
        return NotTls(f"malformed ClientHello: {exc}")


def _parse(message: bytes, record_version: int, end: int) -> ClientHello:
    r = _Reader(message, 4)
    legacy_version = r.u16("the version")
    if legacy_version not in RECORD_VERSIONS:
        raise _MalformedError(f"client version 0x{legacy_version:04x} is not TLS 1.0 to 1.3")
    random = r.take(32, "the random")
    session = r.sub(1, "the session id")
    if session.left() > 32:
        raise _MalformedError("the session id is longer than 32 bytes")
    session_id = session.take(session.left(), "the session id")
    ciphers = r.sub(2, "the cipher suites", min_len=2).u16_list("the cipher suites")
    compression = r.sub(1, "the compression methods", min_len=1)
    compression_methods = tuple(compression.take(compression.left(), "compression"))
    fields = _Extensions()
    if r.left():  # a hello without extensions is legal (old clients)
        exts = r.sub(2, "the extensions")
        r.done("the ClientHello")
        while exts.left():
            ext_type = exts.u16("an extension type")
            body = exts.sub(2, f"extension 0x{ext_type:04x}")
            if ext_type in fields.types:
                raise _MalformedError(f"extension 0x{ext_type:04x} appears twice")
            if fields.types and fields.types[-1] == EXT_PRE_SHARED_KEY:
                raise _MalformedError("pre_shared_key is not the last extension")
            fields.types.append(ext_type)
            fields.read(ext_type, body)
    return ClientHello(
        record_version=record_version,
        legacy_version=legacy_version,
        random=random,
        session_id=session_id,
        cipher_suites=ciphers,
        compression_methods=compression_methods,
        extensions=tuple(fields.types),
        sni=fields.sni,
        sni_problem=fields.sni_problem,
        alpn=fields.alpn,
        supported_versions=fields.supported_versions,
        supported_groups=fields.supported_groups,
        ec_point_formats=fields.ec_point_formats,
        signature_algorithms=fields.signature_algorithms,
        key_share_groups=fields.key_share_groups,
        psk=EXT_PRE_SHARED_KEY in fields.types,
        ech=EXT_ECH in fields.types,
        length=end,
    )


class _Extensions:
    """The extensions read so far (only those the gateway decides on are looked into)."""

    def __init__(self) -> None:
        self.types: list[int] = []
        self.sni: str | None = None
        self.sni_problem = ""
        self.alpn: tuple[str, ...] = ()
        self.supported_versions: tuple[int, ...] = ()
        self.supported_groups: tuple[int, ...] = ()
        self.ec_point_formats: tuple[int, ...] = ()
        self.signature_algorithms: tuple[int, ...] = ()
        self.key_share_groups: tuple[int, ...] = ()

    def read(self, ext_type: int, body: _Reader) -> None:
        if ext_type == EXT_SERVER_NAME:
            self._server_name(body)
        elif ext_type == EXT_ALPN:
            names = body.sub(2, "the ALPN list", min_len=1)
            body.done("the ALPN extension")
            alpn = []
            while names.left():
                name = names.sub(1, "an ALPN protocol", min_len=1)
                alpn.append(name.take(name.left(), "an ALPN protocol").decode("latin-1"))
            self.alpn = tuple(alpn)
        elif ext_type == EXT_SUPPORTED_VERSIONS:
            versions = body.sub(1, "supported_versions", min_len=2)
            body.done("supported_versions")
            self.supported_versions = versions.u16_list("supported_versions")
        elif ext_type == EXT_SUPPORTED_GROUPS:
            groups = body.sub(2, "supported_groups", min_len=2)
            body.done("supported_groups")
            self.supported_groups = groups.u16_list("supported_groups")
        elif ext_type == EXT_EC_POINT_FORMATS:
            formats = body.sub(1, "ec_point_formats", min_len=1)
            body.done("ec_point_formats")
            self.ec_point_formats = tuple(formats.take(formats.left(), "ec_point_formats"))
        elif ext_type == EXT_SIGNATURE_ALGORITHMS:
            algorithms = body.sub(2, "signature_algorithms", min_len=2)
            body.done("signature_algorithms")
            self.signature_algorithms = algorithms.u16_list("signature_algorithms")
        elif ext_type == EXT_KEY_SHARE:
            shares = body.sub(2, "key_share")
            body.done("key_share")
            share_groups: list[int] = []
            while shares.left():
                share_groups.append(shares.u16("a key share group"))
                shares.sub(2, "a key share", min_len=1)
            self.key_share_groups = tuple(share_groups)

    def _server_name(self, body: _Reader) -> None:
        names = body.sub(2, "the server name list", min_len=1)
        body.done("the server_name extension")
        host: bytes | None = None
        while names.left():
            kind = names.u8("a server name type")
            name = names.sub(2, "a server name", min_len=1)
            value = name.take(name.left(), "a server name")
            if kind == 0:
                if host is not None:
                    raise _MalformedError("two host names in server_name")
                host = value
        if host is None:
            self.sni_problem = "server_name has no host name"
            return
        problem = dns_name_problem(host)
        if problem:
            self.sni_problem = problem
        else:
            self.sni = host.decode("ascii").lower()


# Letters, digits and hyphens, plus underscore: not valid in host names, but real sites use
# it in subdomains and browsers send it, so refusing it would break them.
_LABEL = re.compile(rb"[A-Za-z0-9_](?:[A-Za-z0-9_\-]{0,61}[A-Za-z0-9_])?")


def dns_name_problem(name: bytes) -> str:
    """Why `name` is not a plausible DNS host name for SNI (RFC 6066 §3), or ""."""
    shown = name[:80].decode("ascii", "backslashreplace")
    if len(name) > 253:
        return f"server name of {len(name)} bytes is longer than a DNS name can be"
    if not name.isascii():
        return f"server name {shown!r} is not ASCII (it should be punycode)"
    if name.endswith(b"."):
        return f"server name {shown!r} ends with a dot (not allowed in SNI)"
    labels = name.split(b".")
    for label in labels:
        if not label:
            return f"server name {shown!r} has an empty label"
        if _LABEL.fullmatch(label) is None:
            return f"server name {shown!r} has a label that is not a DNS label"
    try:
        ipaddress.ip_address(name.decode("ascii"))
    except ValueError:
        pass
    else:
        return f"server name {shown!r} is an IP address (not allowed in SNI)"
    if labels[-1].isdigit():
        return f"server name {shown!r} ends in a number, so it is no DNS name"
    return ""
