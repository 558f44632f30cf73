"""The frames a worker sends its audit process, and the status lines that come back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webwarden.gateway.audit_pipe import (
    FLUSH,
    HEADER,
    MAX_PAYLOAD,
    RECORDS,
    REOPEN,
    FrameError,
    FrameReader,
    frame,
    parse_status,
    status_line,
)

frames = st.lists(st.tuples(st.sampled_from([RECORDS, FLUSH, REOPEN]), st.binary(max_size=300)),
                  max_size=8)


@given(frames, st.lists(st.integers(min_value=1, max_value=64), min_size=1))
def test_frames_come_out_whole_however_the_bytes_are_cut(
    sent: list[tuple[bytes, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(frame(kind, payload) for kind, payload in sent)
    reader, got, at, i = FrameReader(), [], 0, 0
    while at < len(stream):
        size = cuts[i % len(cuts)]
        got.extend(reader.feed(stream[at : at + size]))
        at, i = at + size, i + 1
    assert got == sent and reader.pending == 0


def test_an_incomplete_frame_is_held_back() -> None:
    reader = FrameReader()
    data = frame(RECORDS, b"abcdef")
    assert reader.feed(data[:-2]) == [] and reader.pending == len(data) - 2
    assert reader.feed(data[-2:]) == [(RECORDS, b"abcdef")]


@pytest.mark.parametrize("header", [HEADER.pack(b"X", 1), HEADER.pack(RECORDS, MAX_PAYLOAD + 1)])
def test_a_corrupt_header_is_an_error_not_a_guess(header: bytes) -> None:
    with pytest.raises(FrameError):
        FrameReader().feed(header + b"x")


def test_only_known_kinds_are_framed() -> None:
    with pytest.raises(FrameError):
        frame(b"Z")


def test_a_status_line_stays_one_line() -> None:
    line = status_line("failed", 3, "disk\nfull\r\nnow")
    assert line == b"failed 3 disk full  now\n"
    assert parse_status(line.decode()) == ("failed", "3 disk full  now")
    assert parse_status("ready\n") == ("ready", "")
