"""Strict request heads: what is accepted, and every ambiguity refused with its status."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webwarden.gateway.http1 import (
    MAX_HEAD_BYTES,
    HttpError,
    check_incomplete,
    find_head_end,
    parse_request_head,
    skip_leading_blank_lines,
)

HOST = b"Host: example.com\r\n"


def head(*lines: bytes, start: bytes = b"GET http://example.com/ HTTP/1.1") -> bytes:
    return start + b"\r\n" + b"".join(line + b"\r\n" for line in lines) + b"\r\n"


def test_a_plain_request() -> None:
    req = parse_request_head(head(b"Host: example.com", b"Accept: */*"))
    assert req.method == "GET"
    assert req.target == "http://example.com/"
    assert req.version == (1, 1)
    assert req.host == "example.com"
    assert req.keep_alive and not req.has_body
    assert req.get(b"accept") == b"*/*"
    assert req.headers[1].line == b"Accept: */*\r\n"


def test_values_are_trimmed_and_names_lowered() -> None:
    req = parse_request_head(head(b"Host: example.com", b"X-Thing:\t  spaced value \t"))
    assert req.get(b"x-thing") == b"spaced value"


@pytest.mark.parametrize("lines, length, chunked", [
    ((b"Host: a", b"Content-Length: 12"), 12, False),
    ((b"Host: a", b"Transfer-Encoding: chunked"), None, True),
    ((b"Host: a", b"Transfer-Encoding: Chunked"), None, True),
])
def test_body_framing(lines: tuple[bytes, ...], length: int | None, chunked: bool) -> None:
    req = parse_request_head(head(*lines, start=b"POST http://a/ HTTP/1.1"))
    assert req.content_length == length
    assert req.chunked is chunked
    assert req.has_body


@pytest.mark.parametrize("lines, status", [
    ((b"Host: a", b"Content-Length: 1", b"Transfer-Encoding: chunked"), 400),
    ((b"Host: a", b"Transfer-Encoding: chunked, identity"), 400),
    ((b"Host: a", b"Transfer-Encoding: gzip"), 400),
    ((b"Host: a", b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"), 400),
    ((b"Host: a", b"Content-Length: 1", b"Content-Length: 1"), 400),
    ((b"Host: a", b"Content-Length: -1"), 400),
    ((b"Host: a", b"Content-Length: 1 1"), 400),
    ((b"Host: a", b"Content-Length: 1,1"), 400),
    ((b"Host: a", b"Content-Length: "), 400),
    ((b"Host: a", b"X: a\x00b"), 400),
    ((b"Host: a", b"X: a\x1bb"), 400),
    ((b"Host: a", b"X: a\x7fb"), 400),
    ((b"Host: a", b"X: a\rb"), 400),
    ((b"Host: a", b"X: a", b" folded"), 400),
    ((b"Host: a", b"X: a", b"\tfolded"), 400),
    ((b"Host: a", b"X : a"), 400),
    ((b"Host: a", b"X\x01: a"), 400),
    ((b"Host: a", b": a"), 400),
    ((b"Host: a", b"Host: a"), 400),
    ((), 400),
])
def test_refused(lines: tuple[bytes, ...], status: int) -> None:
    with pytest.raises(HttpError) as caught:
        parse_request_head(head(*lines, start=b"POST http://a/ HTTP/1.1"))
    assert caught.value.status == status
    assert caught.value.reason


def test_http10_needs_no_host_but_may_not_be_chunked() -> None:
    assert parse_request_head(b"GET http://a/ HTTP/1.0\r\n\r\n").host is None
    with pytest.raises(HttpError):
        parse_request_head(head(b"Transfer-Encoding: chunked", start=b"POST http://a/ HTTP/1.0"))


@pytest.mark.parametrize("start, status", [
    (b"GET http://a/ HTTP/2.0", 505),
    (b"GET http://a/ HTTP/1.1 extra", 400),
    (b"GET  http://a/ HTTP/1.1", 400),
    (b"G(T http://a/ HTTP/1.1", 400),
    (b"GET http://a/\x80 HTTP/1.1", 400),
    (b"GET http://a/ http/1.1", 400),
])
def test_request_line(start: bytes, status: int) -> None:
    with pytest.raises(HttpError) as caught:
        parse_request_head(head(HOST.strip(), start=start))
    assert caught.value.status == status


@pytest.mark.parametrize("connection, version, keep", [
    (b"close", b"HTTP/1.1", False),
    (b"Keep-Alive", b"HTTP/1.1", True),
    (None, b"HTTP/1.1", True),
    (None, b"HTTP/1.0", False),
    (b"keep-alive", b"HTTP/1.0", True),
])
def test_keep_alive(connection: bytes | None, version: bytes, keep: bool) -> None:
    lines = [b"Host: a"] + ([b"Connection: " + connection] if connection else [])
    req = parse_request_head(head(*lines, start=b"GET http://a/ " + version))
    assert req.keep_alive is keep


def test_connection_tokens_include_proxy_connection() -> None:
    req = parse_request_head(head(b"Host: a", b"Connection: x-a, X-B", b"Proxy-Connection: c"))
    assert req.connection_tokens == frozenset({b"x-a", b"x-b", b"c"})


def test_limits() -> None:
    with pytest.raises(HttpError) as caught:
        check_incomplete(b"GET http://a/" + b"a" * 9000)
    assert caught.value.status == 414
    with pytest.raises(HttpError) as caught:
        check_incomplete(b"GET http://a/ HTTP/1.1\r\nX: " + b"a" * MAX_HEAD_BYTES)
    assert caught.value.status == 431
    with pytest.raises(HttpError) as caught:
        check_incomplete(b"GET http://a/ HTTP/1.1\nHost: a\n")
    assert caught.value.status == 400
    check_incomplete(b"GET http://a/ HTTP/1.1\r\nHost: a\r")  # just not complete yet


def test_framing_helpers() -> None:
    buffer = bytearray(b"\r\n\r\nGET http://a/ HTTP/1.1\r\nHost: a\r\n\r\nrest")
    skip_leading_blank_lines(buffer)
    assert buffer.startswith(b"GET")
    end = find_head_end(buffer)
    assert buffer[end:] == b"rest"
    assert find_head_end(b"GET http://a/ HTTP/1.1\r\nHost: a\r\n") == -1


FIELD_NAMES = [b"Host", b"Accept", b"X-Thing", b"Content-Length", b"Connection", b"Via",
               b"Proxy-Connection", b"Cookie", b"HOST", b"accept", b"Referer", b"A-B.c~d"]
field_value = st.binary(max_size=12).map(
    lambda v: bytes(b for b in v if b == 9 or 0x20 <= b <= 0x7E or b >= 0x80)
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FIELD_NAMES), field_value), max_size=8),
       st.sampled_from([b"HTTP/1.1", b"HTTP/1.0"]))
def test_fields_are_read_as_written(fields: list[tuple[bytes, bytes]], version: bytes) -> None:
    """Whatever lines a head carries, the parser sees exactly those fields."""
    lines = [name + b":" + value for name, value in fields]
    raw = head(*lines, start=b"GET http://a/ " + version)
    hosts = [v for n, v in fields if n.lower() == b"host"]
    lengths = [v.strip(b" \t") for n, v in fields if n.lower() == b"content-length"]
    refused = (
        len(hosts) > 1
        or (not hosts and version == b"HTTP/1.1")
        or len(lengths) > 1
        or (len(lengths) == 1 and re.fullmatch(rb"[0-9]{1,18}", lengths[0]) is None)
    )
    if refused:
        with pytest.raises(HttpError):
            parse_request_head(raw)
        return
    req = parse_request_head(raw)
    expected = [(n.lower(), v.strip(b" \t"), n + b":" + v + b"\r\n") for n, v in fields]
    assert [tuple(h) for h in req.headers] == expected
    assert req.field_names == [n for n, _, _ in expected]
    for name in {n for n, _, _ in expected} | {b"absent"}:
        values = [v for n, v, _ in expected if n == name]
        assert req.values(name) == values
        assert req.get(name) == (values[0] if values else None)
    assert req.host == (hosts[0].strip(b" \t").decode("latin-1") if hosts else None)
