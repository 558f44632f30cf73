"""Reading ClientHellos: real ones (Python's TLS client, openssl s_client, curl), whole,
byte by byte and re-fragmented into many records; and every kind of bytes that is not one."""

from __future__ import annotations

import hashlib
import shutil
import socket
import ssl
import struct
import subprocess
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webwarden.gateway.tls.client_hello import (
    ClientHello,
    NeedMore,
    NotTls,
    dns_name_problem,
    is_grease,
    read_client_hello,
)


def python_hello(server_hostname: str | None, alpn: list[str] | None = None,
                 maximum: ssl.TLSVersion | None = None) -> bytes:
    """The first flight of Python's own TLS client (OpenSSL), read from its memory BIO."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if server_hostname is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if alpn:
        context.set_alpn_protocols(alpn)
    if maximum is not None:
        context.maximum_version = maximum
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=server_hostname)
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def parsed(data: bytes) -> ClientHello:
    result = read_client_hello(data)
    assert isinstance(result, ClientHello), result
    return result


def check_every_prefix(data: bytes, hello: ClientHello) -> None:
    """Fed one byte at a time, the reader asks for more (never less than it has) until the
    whole hello is there, and never asks for more than the hello's records."""
    for end in range(hello.length):
        result = read_client_hello(data[:end])
        assert isinstance(result, NeedMore), (end, result)
        assert end < result.at_least <= hello.length
    assert read_client_hello(data[: hello.length]) == hello


@pytest.mark.parametrize(
    ("name", "alpn", "maximum", "sni", "versions"),
    [
        ("www.gov.uk", None, None, "www.gov.uk", ["TLS 1.3", "TLS 1.2"]),
        ("Www.Met.Police.UK", ["h2", "http/1.1"], None, "www.met.police.uk",
         ["TLS 1.3", "TLS 1.2"]),
        ("bbc.co.uk", ["http/1.1"], ssl.TLSVersion.TLSv1_2, "bbc.co.uk", ["TLS 1.2"]),
        ("xn--bcher-kva.example", None, None, "xn--bcher-kva.example", ["TLS 1.3", "TLS 1.2"]),
        (None, ["h2"], None, None, ["TLS 1.3", "TLS 1.2"]),
    ],
)
def test_python_client_hellos(name: str | None, alpn: list[str] | None,
                              maximum: ssl.TLSVersion | None, sni: str | None,
                              versions: list[str]) -> None:
    data = python_hello(name, alpn, maximum)
    hello = parsed(data)
    assert hello.sni == sni
    assert hello.sni_problem == ""
    assert (0x0000 in hello.extensions) == (name is not None)
    assert hello.alpn == tuple(alpn or ())
    summary = hello.summary()
    assert summary["versions"] == versions
    assert summary["server_name"] == sni
    assert not hello.ech and not hello.psk
    assert hello.length == len(data)
    assert len(hello.random) == 32
    if maximum is None:
        assert "TLS_AES_256_GCM_SHA384" in summary["cipher_suites"]  # type: ignore[operator]
        assert hello.key_share_groups
    check_every_prefix(data, hello)


def test_bytes_after_the_hello_are_left_alone() -> None:
    data = python_hello("www.gov.uk")
    hello = parsed(data)
    # Early data or anything else the client sends next is not the reader's business.
    assert read_client_hello(data + b"\x17\x03\x03\x00\x05hello") == hello


def split_records(data: bytes, cuts: list[int]) -> bytes:
    """The same handshake message carried in several records, cut where `cuts` says."""
    message = b""
    pos = 0
    while pos < len(data):
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        message += data[pos + 5 : pos + 5 + length]
        pos += 5 + length
    points = sorted({c for c in cuts if 0 < c < len(message)})
    pieces = [message[a:b] for a, b in zip([0, *points], [*points, len(message)], strict=True)]
    return b"".join(b"\x16\x03\x01" + struct.pack(">H", len(p)) + p for p in pieces)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=600), max_size=12))
def test_a_hello_split_into_records_at_any_byte(cuts: list[int]) -> None:
    data = python_hello("intranet-lookalike.example.org", ["h2", "http/1.1"])
    whole = parsed(data)
    fragmented = split_records(data, cuts)
    hello = parsed(fragmented)
    assert hello.length == len(fragmented)
    assert (hello.sni, hello.alpn, hello.cipher_suites, hello.extensions, hello.ja4) == (
        whole.sni, whole.alpn, whole.cipher_suites, whole.extensions, whole.ja4
    )


def test_a_hello_in_one_byte_records() -> None:
    data = split_records(python_hello("www.gov.uk"), list(range(1, 2000)))
    hello = parsed(data)
    assert hello.sni == "www.gov.uk"
    check_every_prefix(data, hello)


# --- real clients against a listener that only records what it is sent -----------------


def capture_first_flight(command: list[str], port_holder: socket.socket) -> bytes:
    """Run a client against the listener and keep what it sends until the hello is whole."""
    received = bytearray()

    def serve() -> None:
        conn, _ = port_holder.accept()
        with conn:
            conn.settimeout(5)
            while isinstance(read_client_hello(bytes(received)), NeedMore):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                received.extend(chunk)

    thread = threading.Thread(target=serve)
    thread.start()
    subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=15,
                   check=False)
    thread.join(10)
    return bytes(received)


@pytest.fixture
def listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    sock.settimeout(10)
    return sock


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
@pytest.mark.parametrize(
    ("options", "sni", "alpn"),
    [
        (["-servername", "www.police.uk"], "www.police.uk", ()),
        (["-servername", "www.police.uk", "-alpn", "h2,http/1.1"], "www.police.uk",
         ("h2", "http/1.1")),
        (["-noservername"], None, ()),
        (["-servername", "legacy.example", "-tls1_2"], "legacy.example", ()),
    ],
)
def test_openssl_s_client(listener: socket.socket, options: list[str], sni: str | None,
                          alpn: tuple[str, ...]) -> None:
    port = listener.getsockname()[1]
    data = capture_first_flight(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *options], listener
    )
    hello = parsed(data)
    assert hello.sni == sni and hello.alpn == alpn
    check_every_prefix(data, hello)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize(("host", "sni"), [("shop.example.co.uk", "shop.example.co.uk"),
                                           ("127.0.0.1", None)])
def test_curl(listener: socket.socket, host: str, sni: str | None) -> None:
    port = listener.getsockname()[1]
    resolve = [] if sni is None else ["--resolve", f"{host}:{port}:127.0.0.1"]
    data = capture_first_flight(
        ["curl", "-sk", "--max-time", "5", *resolve, f"https://{host}:{port}/"], listener
    )
    hello = parsed(data)
    assert hello.sni == sni
    assert "http/1.1" in hello.alpn
    check_every_prefix(data, hello)


# --- hellos built field by field -------------------------------------------------------


def ext(kind: int, body: bytes) -> bytes:
    return struct.pack(">HH", kind, len(body)) + body


def u16s(values: list[int], size: int = 2) -> bytes:
    raw = b"".join(struct.pack(">H", v) for v in values)
    return (struct.pack(">H", len(raw)) if size == 2 else bytes([len(raw)])) + raw


def sni_ext(name: bytes) -> bytes:
    entry = b"\x00" + struct.pack(">H", len(name)) + name
    return ext(0, struct.pack(">H", len(entry)) + entry)


def alpn_ext(*names: bytes) -> bytes:
    raw = b"".join(bytes([len(n)]) + n for n in names)
    return ext(16, struct.pack(">H", len(raw)) + raw)


def build(extensions: list[bytes] | None, *, ciphers: list[int] | None = None,
          version: int = 0x0303, session: bytes = b"", message_type: int = 1) -> bytes:
    """A ClientHello in one record."""
    body = struct.pack(">H", version) + bytes(range(32)) + bytes([len(session)]) + session
    body += u16s(ciphers or [0x1301, 0xC02F]) + b"\x01\x00"
    if extensions is not None:
        raw = b"".join(extensions)
        body += struct.pack(">H", len(raw)) + raw
    message = bytes([message_type]) + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(message)) + message


# A Chrome 143 hello as published by a TLS fingerprinting service (extensions, groups,
# ciphers and signature algorithms from its JA3 and JA4 texts), with GREASE added the way
# Chrome adds it.
CHROME_CIPHERS = [0x2A2A, 4865, 4866, 4867, 49195, 49199, 49196, 49200, 52393, 52392, 49171,
                  49172, 156, 157, 47, 53]
CHROME_SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
CHROME_EXTENSIONS = [
    ext(0x3A3A, b""),
    ext(45, b"\x01\x01"),
    ext(51, struct.pack(">H", 5 + 36) + b"\x4a\x4a\x00\x01\x00\x00\x1d\x00\x20" + bytes(32)),
    alpn_ext(b"h2", b"http/1.1"),
    ext(65037, b"\x00\x00\x01\x00\x01\x42\x00\x00"),
    ext(23, b""),
    ext(17613, b"\x00\x03\x02h2"),
    sni_ext(b"tls.example.com"),
    ext(11, b"\x01\x00"),
    ext(10, u16s([0x5A5A, 4588, 29, 23, 24])),
    ext(43, b"\x06\x6a\x6a\x03\x04\x03\x03"),
    ext(65281, b"\x00"),
    ext(35, b""),
    ext(18, b""),
    ext(5, b"\x01\x00\x00\x00\x00"),
    ext(13, u16s(CHROME_SIGALGS)),
    ext(27, b"\x02\x00\x02"),
    ext(0x1A1A, b"\x00"),
]


def test_chrome_fingerprints_match_the_published_ones() -> None:
    hello = parsed(build(CHROME_EXTENSIONS, ciphers=CHROME_CIPHERS))
    assert hello.grease and hello.ech and hello.sni == "tls.example.com"
    assert hello.ja3_md5 == "98487aa16281980e7d1120d399efb6a4"
    assert hello.ja4 == "t13d1516h2_8daaf6152771_d8a2da3f94cd"
    assert hello.summary()["groups"] == ["X25519MLKEM768", "x25519", "secp256r1", "secp384r1"]
    assert hello.summary()["versions"] == ["TLS 1.3", "TLS 1.2"]
    assert hashlib.md5(hello.ja3.encode(), usedforsecurity=False).hexdigest() == hello.ja3_md5


def test_grease_values() -> None:
    assert [v for v in range(0x10000) if is_grease(v)] == [0x0A0A + 0x1010 * i
                                                          for i in range(16)]


@pytest.mark.parametrize(
    ("name", "sni", "problem"),
    [
        (b"www.gov.uk", "www.gov.uk", ""),
        (b"WWW.GOV.UK", "www.gov.uk", ""),
        (b"a-b.c_d.example", "a-b.c_d.example", ""),
        (b"localhost", "localhost", ""),
        (b"10.1.2.3", None, "is an IP address"),
        (b"10.1.2.300", None, "ends in a number"),
        (b"www.gov.uk.", None, "ends with a dot"),
        (b"www..gov.uk", None, "empty label"),
        (b"-bad.example", None, "not a DNS label"),
        (b"caf\xc3\xa9.example", None, "not ASCII"),
        (b"a" * 64 + b".example", None, "not a DNS label"),
        (b"host name.example", None, "not a DNS label"),
        (b"x." * 127 + b"uk", None, "longer than a DNS name"),
        (b"[::1]", None, "not a DNS label"),
    ],
)
def test_server_names(name: bytes, sni: str | None, problem: str) -> None:
    hello = parsed(build([sni_ext(name)]))
    assert hello.sni == sni
    assert problem in hello.sni_problem and bool(hello.sni_problem) == bool(problem)
    assert dns_name_problem(name) == hello.sni_problem


def test_old_client_without_extensions() -> None:
    hello = parsed(build(None, version=0x0301))
    assert hello.sni is None and hello.extensions == ()
    assert hello.summary()["versions"] == ["TLS 1.0"]
    assert hello.ja4.startswith("t10i0200")


def test_psk_and_ja4_alpn_hex() -> None:
    psk = ext(41, b"\x00\x05\x00\x01\x01\x00\x00\x00\x00\x00\x03\x02\x01\x01")
    hello = parsed(build([alpn_ext(b"\x01x\xff"), ext(43, b"\x02\x03\x04"), psk]))
    assert hello.psk and hello.ja4.startswith("t13i0203") and hello.ja4[8:10] == "0f"


def extra_in_record(record: bytes, extra: bytes) -> bytes:
    """The record with more bytes after the ClientHello, its length grown to match."""
    body = record[5:] + extra
    return record[:3] + struct.pack(">H", len(body)) + body


def test_an_empty_extension_list_is_allowed() -> None:
    assert parsed(build([])).extensions == ()


HTTP = b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"
SSL2 = bytes.fromhex("802e0103010015000000100100800300800700c0060040020080040080") + bytes(16)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (HTTP, "plain text"),
        (b"CONNECT x:443 HTTP/1.1\r\n\r\n", "plain text"),
        (b"G", "plain text"),
        (SSL2, "SSLv2"),
        (b"\x15\x03\x03\x00\x02\x02\x28", "type 21"),
        (b"\x17\x03\x03\x00\x01x", "type 23"),
        (b"\x00\x00\x00\x00\x00", "first byte is 0x00"),
        (b"\x16\x02", "record version"),
        (b"\x16\x03\x05\x00\x10", "record version 0x0305"),
        (b"\x16\x03\x00\x00\x10", "record version 0x0300"),
        (b"\x16\x03\x01\x00\x00", "empty handshake record"),
        (b"\x16\x03\x01\x40\x01", "a record of 16385 bytes"),
        (b"\x16\x03\x01\x00\x04\x02\x00\x00\x00", "type 2, not a ClientHello"),
        (b"\x16\x03\x01\x00\x01\x0b", "type 11"),
        (b"\x16\x03\x01\x00\x04\x01\xff\xff\xff", "longer than any real one"),
        (extra_in_record(build([sni_ext(b"a.example")]), b"\x0b\x00\x00\x00"),
         "bytes after the ClientHello"),
        (build([sni_ext(b"a.example")], version=0x0200), "client version 0x0200"),
        (build([sni_ext(b"a.example")], session=bytes(33)), "longer than 32"),
        (build([sni_ext(b"a.example"), sni_ext(b"b.example")]), "appears twice"),
        (build([ext(41, b"\x00"), sni_ext(b"a.example")]), "not the last"),
        (build([ext(16, b"\x00\x03\x00\x01h")]), "ALPN"),
        (build([ext(16, b"\x00\x00")]), "ALPN list is empty"),
        (build([ext(43, b"\x03\x03\x04\x03")]), "odd length"),
        (build([ext(10, b"\x00\x04\x00\x1d")]), "supported_groups runs past"),
        (build([ext(13, b"\x00\x02\x04\x03\x00")]), "left over"),
        (build([ext(51, b"\x00\x04\x00\x1d\x00\x00")]), "key share is empty"),
        (build([ext(0, b"\x00\x06\x00\x00\x02ab")]), "server name list"),
    ],
)
def test_not_a_client_hello(data: bytes, reason: str) -> None:
    result = read_client_hello(data)
    assert isinstance(result, NotTls), result
    assert reason in result.reason


def test_a_record_of_another_type_inside_the_hello() -> None:
    data = split_records(python_hello("www.gov.uk"), [100])
    second = 5 + 100
    broken = data[:second] + b"\x17" + data[second + 1 :]
    result = read_client_hello(broken)
    assert isinstance(result, NotTls) and "in the middle" in result.reason


def test_many_tiny_records_are_cut_off() -> None:
    # A client trickling a hello that claims 60 KB in one-byte records stops being read
    # at 64 KiB of records, whatever it says.
    header = b"\x01" + (60000).to_bytes(3, "big")
    data = b"".join(b"\x16\x03\x01\x00\x01" + bytes([b]) for b in header + bytes(20000))
    result = read_client_hello(data)
    assert isinstance(result, NotTls) and "65536" in result.reason


@pytest.mark.parametrize(("data", "at_least"), [(b"", 5), (b"\x16", 5), (b"\x16\x03\x01", 5),
                                                (b"\x16\x03\x01\x01\x00", 261),
                                                (b"\x16\x03\x01\x00\x03\x01\x00\x00", 13)])
def test_need_more(data: bytes, at_least: int) -> None:
    assert read_client_hello(data) == NeedMore(at_least)


SEED = python_hello("www.gov.uk", ["h2", "http/1.1"])


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes(data: bytes) -> None:
    check_total(data)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(SEED) - 1), st.integers(0, 255)), max_size=4),
       st.integers(0, len(SEED)))
def test_mutated_real_hellos(changes: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(SEED)
    for where, value in changes:
        data[where] = value
    check_total(bytes(data[:cut]) if cut else bytes(data))


def check_total(data: bytes) -> None:
    """One of the three answers, always; more bytes never change a final answer."""
    result = read_client_hello(data)
    assert isinstance(result, ClientHello | NeedMore | NotTls)
    if isinstance(result, NeedMore):
        assert result.at_least > len(data)
    elif isinstance(result, ClientHello):
        assert result.length <= len(data)
        assert read_client_hello(data + b"\x00" * 7) == result
        assert read_client_hello(data[: result.length]) == result
        result.summary()
    else:
        assert result.reason
        assert isinstance(read_client_hello(data + b"\x16\x03\x01\x00\x05"), NotTls)
