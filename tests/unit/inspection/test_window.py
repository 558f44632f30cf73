"""The bounded inspection window: what it keeps of a streamed body, and what it counts."""

from __future__ import annotations

import pytest

from webwarden.inspection.window import DEFAULT_LIMIT, InspectionWindow

BODY = b"name=PC+Smith&collar=4521&message=OFFICIAL-SENSITIVE+briefing+notes" * 50


@pytest.mark.parametrize(
    ("limit", "chunk", "kept", "overflowed"),
    [
        (len(BODY), 1, BODY, False),  # exactly full, fed a byte at a time
        (len(BODY), 333, BODY, False),
        (len(BODY) + 1, 4096, BODY, False),
        (len(BODY) - 1, 1, BODY[:-1], True),  # one byte too many
        (100, 64, BODY[:100], True),  # the limit falls inside a chunk
        (128, 64, BODY[:128], True),  # the limit falls between chunks
        (1, 10_000, BODY[:1], True),
    ],
)
def test_the_window_keeps_the_first_limit_bytes(
    limit: int, chunk: int, kept: bytes, overflowed: bool
) -> None:
    window = InspectionWindow(limit)
    for start in range(0, len(BODY), chunk):
        window.feed(BODY[start : start + chunk])
    assert window.bytes() == kept
    assert window.held == len(kept)
    assert window.overflowed is overflowed
    assert window.total == len(BODY)


def test_an_empty_body_and_empty_chunks() -> None:
    window = InspectionWindow(10)
    assert window.bytes() == b"" and not window.overflowed and window.total == 0
    window.feed(b"")
    window.feed(b"abc")
    window.feed(b"")
    assert window.bytes() == b"abc" and window.total == 3 and not window.overflowed


def test_chunks_may_be_bytearrays_and_memoryviews_and_are_copied() -> None:
    window = InspectionWindow(8)
    chunk = bytearray(b"abcd")
    window.feed(chunk)
    window.feed(memoryview(b"efghij"))
    chunk[:] = b"XXXX"  # the caller reuses its buffer
    assert window.bytes() == b"abcdefgh" and window.overflowed and window.total == 10


def test_bytes_can_be_read_while_feeding_goes_on() -> None:
    window = InspectionWindow(6)
    window.feed(b"abc")
    assert window.bytes() == b"abc"
    window.feed(b"defgh")
    assert window.bytes() == b"abcdef"
    assert window.total == 8


def test_the_default_limit_is_one_mebibyte() -> None:
    window = InspectionWindow()
    window.feed(b"x" * (DEFAULT_LIMIT + 5))
    assert DEFAULT_LIMIT == 1 << 20
    assert window.held == DEFAULT_LIMIT and window.overflowed


@pytest.mark.parametrize("limit", [0, -5, True, 1.5, "1024", None])
def test_a_limit_must_be_a_positive_integer(limit: object) -> None:
    with pytest.raises(ValueError, match="inspection window limit must be a positive integer"):
        InspectionWindow(limit)  # type: ignore[arg-type]


@pytest.mark.parametrize("chunk", ["text", 42, None, [1, 2]])
def test_a_chunk_must_be_bytes(chunk: object) -> None:
    window = InspectionWindow(10)
    with pytest.raises(TypeError, match="a body chunk must be bytes"):
        window.feed(chunk)  # type: ignore[arg-type]
    assert window.total == 0 and window.bytes() == b""
