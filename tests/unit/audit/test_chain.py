from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.audit.conftest import BASE, RecordFactory
from webwarden.audit.chain import (
    GENESIS,
    START,
    ChainedRecord,
    append,
    canonical_bytes,
    chain_hash,
)
from webwarden.audit.verify import ChainReport, ChainVerifier


def build(record: RecordFactory, count: int, chain: str = "gw-w0") -> list[ChainedRecord]:
    entries: list[ChainedRecord] = []
    head = START
    for i in range(count):
        entry = append(head, record(decision_id=f"dec-{i + 1}"), chain)
        entries.append(entry)
        head = entry.head
    return entries


def verify(entries: list[ChainedRecord], *, must_start_at_one: bool = False) -> ChainReport:
    verifier = ChainVerifier(must_start_at_one=must_start_at_one)
    for entry in entries:
        verifier.feed(entry, f"entry {entry.seq}")
    (report,) = verifier.reports()
    return report


def test_links_and_numbers(record: RecordFactory) -> None:
    entries = build(record, 3)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev == GENESIS
    assert entries[1].prev == entries[0].hash
    assert entries[2].prev == entries[1].hash
    assert all(e.hash_is_valid() for e in entries)


def test_canonical_form_is_stable() -> None:
    # Old logs must stay verifiable: a change here is a change of the on-disk format.
    text = canonical_bytes(BASE, "gw-w0", 1, GENESIS).decode()
    assert text.startswith('{"bytes_in":312,"bytes_out":4110,"categories":["press"],"chain":')
    assert '"duration_us":180250' in text
    assert '"time":"2024-05-01T10:00:00.123456Z"' in text
    entry = append(START, BASE, "gw-w0")
    assert entry.hash == "e529089ba810790fb8d38772c7df2860b43698e2a72d612d8d76d58218131779"


def test_intact_chain(record: RecordFactory) -> None:
    report = verify(build(record, 5), must_start_at_one=True)
    assert report.ok
    assert (report.count, report.first_seq, report.last_seq) == (5, 1, 5)
    assert "intact" in report.describe()


@pytest.mark.parametrize(
    "field_change",
    [
        {"url": "http://elsewhere.example/"},
        {"effect": "block"},
        {"person": None},
        {"bytes_out": 1},
        {"categories": ("press", "gambling")},
    ],
)
def test_changed_field_is_caught_at_its_seq(
    record: RecordFactory, field_change: dict[str, object]
) -> None:
    entries = build(record, 5)
    entries[2] = replace(entries[2], record=replace(entries[2].record, **field_change))
    report = verify(entries)
    assert not report.ok
    assert report.bad_seq == 3
    assert "hash does not match" in report.reason
    assert report.where == "entry 3"


def test_changed_seq_is_caught(record: RecordFactory) -> None:
    entries = build(record, 4)
    entries[3] = replace(entries[3], seq=7)
    report = verify(entries)
    assert report.bad_seq == 7
    assert "hash does not match" in report.reason


def test_removed_record_is_caught(record: RecordFactory) -> None:
    entries = build(record, 5)
    del entries[2]
    report = verify(entries)
    assert report.bad_seq == 3
    assert "records 3..3 are missing" in report.reason


def test_swapped_records_are_caught(record: RecordFactory) -> None:
    entries = build(record, 5)
    entries[1], entries[3] = entries[3], entries[1]
    report = verify(entries)
    assert report.bad_seq == 2
    assert "out of order" in report.reason


def test_adjacent_swap_reports_the_first_displaced_seq(record: RecordFactory) -> None:
    entries = build(record, 5)
    entries[2], entries[3] = entries[3], entries[2]
    assert verify(entries).bad_seq == 3


def test_duplicated_record_is_caught(record: RecordFactory) -> None:
    entries = build(record, 3)
    entries.insert(2, entries[1])
    report = verify(entries)
    assert report.bad_seq == 2
    assert "out of order" in report.reason


def test_replaced_record_with_its_own_valid_hash_is_caught(record: RecordFactory) -> None:
    # Someone rewrites record 3 and recomputes its hash, but cannot fix record 4's link.
    entries = build(record, 5)
    forged = append(entries[1].head, record(url="http://innocent.example/"), "gw-w0")
    entries[2] = forged
    report = verify(entries)
    assert report.bad_seq == 4
    assert "differs" in report.reason


def test_first_record_must_start_the_chain(record: RecordFactory) -> None:
    prev = "ab" * 32
    entry = ChainedRecord(BASE, "gw-w0", 1, prev, chain_hash(BASE, "gw-w0", 1, prev))
    report = verify([entry])
    assert report.bad_seq == 1
    assert "must not point" in report.reason


def test_mid_chain_start_allowed_for_files_but_not_the_database(record: RecordFactory) -> None:
    entries = build(record, 6)[3:]
    report = verify(entries)
    assert report.ok and report.starts_mid_chain
    assert "starts mid-chain" in report.describe()
    strict = verify(entries, must_start_at_one=True)
    assert strict.bad_seq == 1
    assert "records 1..3 are missing" in strict.reason


def test_damaged_line_is_charged_to_the_chain_being_read(record: RecordFactory) -> None:
    verifier = ChainVerifier()
    entries = build(record, 3)
    verifier.feed(entries[0], "line 1")
    verifier.damaged("line 2", "unreadable record: not valid JSON")
    verifier.feed(entries[2], "line 3")
    (report,) = verifier.reports()
    assert report.bad_seq == 2
    assert report.where == "line 2"
    assert "BROKEN at seq 2" in report.describe()


def test_chains_are_verified_separately(record: RecordFactory) -> None:
    verifier = ChainVerifier(must_start_at_one=True)
    a, b = build(record, 3, "gw-w0"), build(record, 3, "gw-w1")
    del b[1]
    for x, y in zip(a, b, strict=False):
        verifier.feed(x)
        verifier.feed(y)
    verifier.feed(a[2])
    reports = {r.chain: r for r in verifier.reports()}
    assert reports["gw-w0"].ok
    assert reports["gw-w1"].bad_seq == 2


def test_record_moved_to_another_chain_is_caught(record: RecordFactory) -> None:
    entries = build(record, 3)
    entries[1] = replace(entries[1], chain="gw-w9")
    verifier = ChainVerifier()
    for entry in entries:
        verifier.feed(entry)
    reports = {r.chain: r for r in verifier.reports()}
    assert reports["gw-w9"].bad_seq == 2
    assert reports["gw-w0"].bad_seq == 2  # it is missing from its own chain
