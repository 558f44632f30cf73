"""Chunked request bodies: decoded strictly, whatever way the bytes are split."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webwarden.gateway.chunked import LAST_CHUNK, ChunkedDecoder, encode_chunk
from webwarden.gateway.http1 import HttpError


def decode_all(data: bytes, step: int) -> tuple[bytes, int, bool]:
    decoder = ChunkedDecoder()
    buffer = bytearray()
    out = b""
    used_total = 0
    for i in range(0, len(data), step):
        buffer += data[i : i + step]
        pieces, used = decoder.feed(buffer)
        del buffer[:used]
        used_total += used
        out += b"".join(pieces)
    return out, used_total, decoder.done


BODY = b"5\r\nhello\r\n6;name=value\r\n world\r\n0\r\nTrailer: x\r\n\r\n"


@pytest.mark.parametrize("step", [1, 2, 3, 7, len(BODY)])
def test_decodes_in_any_split(step: int) -> None:
    out, used, done = decode_all(BODY + b"NEXT", step)
    assert out == b"hello world"
    assert done
    assert used == len(BODY)  # the next request's bytes are left alone


@pytest.mark.parametrize("bad", [
    b"0x5\r\nhello\r\n0\r\n\r\n",
    b"+5\r\nhello\r\n0\r\n\r\n",
    b" 5\r\nhello\r\n0\r\n\r\n",
    b"5 \r\nhello\r\n0\r\n\r\n",
    b"\r\n",
    b"g\r\n",
    b"11111111111111111\r\n",
    b"5\r\nhelloX\r\n0\r\n\r\n",
    b"5\nhello\r\n0\r\n\r\n",
    b"5\r\nhello\n0\r\n\r\n",
    b"0\r\nbad trailer\r\n\r\n",
    b"5;=x\r\nhello\r\n0\r\n\r\n",
])
def test_refuses(bad: bytes) -> None:
    with pytest.raises(HttpError) as caught:
        decode_all(bad, 1)
    assert caught.value.status == 400


def test_an_error_leaves_the_buffer_resizable() -> None:
    buffer = bytearray(b"zz\r\n")
    with pytest.raises(HttpError):
        ChunkedDecoder().feed(buffer)
    buffer.clear()  # no memoryview export may survive the error


@given(st.lists(st.binary(min_size=1, max_size=50), max_size=10), st.integers(1, 20))
def test_round_trip(pieces: list[bytes], step: int) -> None:
    encoded = b"".join(b"".join(encode_chunk(p)) for p in pieces) + LAST_CHUNK
    out, used, done = decode_all(encoded, step)
    assert out == b"".join(pieces) and done and used == len(encoded)
