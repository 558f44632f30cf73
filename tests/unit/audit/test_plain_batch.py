"""The one-pass encoder of plain values against the general path: the same JSON lines,
access.log lines, database rows and chain, byte for byte, for anything the general path
accepts; a refusal wherever the general path refuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.audit.test_record_json import TEXT, TEXTS, URLS
from webwarden.audit.chain import GENESIS, ChainHead, EncodedEntry
from webwarden.audit.db_sink import raw_row
from webwarden.audit.ecs_jsonl import ecs_line
from webwarden.audit.plain_batch import encode_plain
from webwarden.audit.record import RecordFields, record_from_fields
from webwarden.audit.record_json import json_text
from webwarden.audit.squid_log import format_line
from webwarden.store.audit_log import RawRow

FAILURES = (ValueError, TypeError, OverflowError, OSError)


@dataclass
class Expected:
    jsonl: bytes
    access_log: bytes
    rows: list[RawRow]
    head: ChainHead


def general_path(batch: Sequence[RecordFields], chain: str, seq: int, prev: str) -> Expected:
    """What the writer's general path hands each sink (record_from_fields, EncodedEntry,
    then each sink's own formatting)."""
    records = [record_from_fields(values) for values in batch]
    encoded: list[EncodedEntry] = []
    for record in records:
        seq += 1
        entry = EncodedEntry(record, chain, seq, prev, json_text(chain))
        prev = entry.entry.hash
        encoded.append(entry)
    return Expected(
        b"".join([ecs_line(e) for e in encoded]),
        "".join([format_line(e.entry.record) + "\n" for e in encoded]).encode(),
        [raw_row(e) for e in encoded],
        ChainHead(seq, prev),
    )


@st.composite
def values(draw: st.DrawFn) -> RecordFields:
    """Record values as a worker sends them, now and then one no record may hold."""
    return (
        draw(st.integers(-(10**12), 10**17)),  # 1938 to 5138
        draw(st.one_of(TEXT, st.sampled_from(["10.0.0.1", "::1", "", "unix-socket"]))),
        draw(TEXT),
        draw(st.sampled_from(["GET", "CONNECT", "PÖST", 'M"X', "", "G ET"])),
        draw(st.one_of(URLS, st.sampled_from(["host.example:443", "https://u:p@h.example/x"]))),
        draw(st.sampled_from(["allow", "block", "notice", "maybe"])),
        draw(st.integers(-2, 1001)),
        draw(st.none() | TEXT),
        draw(st.lists(st.sampled_from(["press", "bank", "Ünï"]) | TEXT, max_size=4).map(tuple)),
        draw(TEXTS),
        draw(TEXT),
        draw(TEXT),
        draw(st.integers(-1, 2**63)),
        draw(st.integers(-1, 2**63)),
        draw(st.one_of(st.floats(-1, 10**9), st.integers(0, 10**6))),
        draw(TEXTS),
        draw(TEXTS),
        draw(st.sampled_from(["-", "", "192.0.2.10:80"]) | TEXT),
        draw(st.sampled_from(["", "text/html; charset=utf-8"]) | TEXT),
        draw(TEXT),
        draw(st.booleans()),
    )


@settings(max_examples=400, deadline=None)
@given(st.lists(values(), min_size=1, max_size=4), TEXT, st.integers(0, 2**40))
def test_the_same_bytes_as_the_general_path(
    batch: list[RecordFields], chain: str, seq: int
) -> None:
    try:
        expected = general_path(batch, chain, seq, GENESIS)
    except FAILURES:
        # The general path refuses the batch (or a sink could not write it): so must this.
        with pytest.raises(FAILURES):
            encode_plain(batch, chain, seq, GENESIS)
        return
    got = encode_plain(batch, chain, seq, GENESIS)
    assert got.jsonl == expected.jsonl
    assert got.access_log == expected.access_log
    assert got.rows == expected.rows
    assert got.head == expected.head
    assert got.count == len(batch)


WORKER_VALUES: RecordFields = (
    1_732_251_585_123_456, "10.0.0.7", "pc-17", "GET", "http://news.example/p/1", "allow",
    200, "alice", ("press", "blog", "press"), ("allow-press",), "d1", "v1", 312, 4110,
    180.25, (), (), "192.0.2.10:80", "text/html", "", False,
)  # fmt: skip


def test_a_worker_batch_takes_this_path_and_chains_on() -> None:
    metadata_only = (*WORKER_VALUES[:4], "https://u:p@bank.example/a", *WORKER_VALUES[5:20], True)
    nobody = (WORKER_VALUES[0] + 999_999, *WORKER_VALUES[1:7], None, *WORKER_VALUES[8:])
    batch: list[RecordFields] = [WORKER_VALUES, metadata_only, nobody]  # type: ignore[list-item]
    first = encode_plain(batch, "gw-w0", 0, GENESIS)
    assert first.rows[1][9] == "https://bank.example"  # metadata only: scheme and host
    assert first.rows[2][5] is None
    expected = general_path(batch, "gw-w0", 0, GENESIS)
    assert (first.jsonl, first.access_log, first.rows, first.head) == (
        expected.jsonl, expected.access_log, expected.rows, expected.head
    )
    second = encode_plain(batch, "gw-w0", first.head.seq, first.head.hash)
    assert second.rows[0][1:3] == (4, first.head.hash)


@pytest.mark.parametrize(
    ("position", "value"),
    [
        (14, True),  # a duration the general path takes as 1.0
        (6, True),  # a status json.dumps writes as true
        (1, 17),  # a client that is not text
        (20, 1),  # a flag that is not a bool
    ],
)
def test_values_of_other_types_are_left_to_the_general_path(position: int, value: object) -> None:
    batch = [(*WORKER_VALUES[:position], value, *WORKER_VALUES[position + 1 :])]
    with pytest.raises((TypeError, ValueError)):
        encode_plain(batch, "gw-w0", 0, GENESIS)  # type: ignore[arg-type]
