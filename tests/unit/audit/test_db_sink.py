from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tests.unit.audit.conftest import RecordFactory
from webwarden.audit.chain import GENESIS, START, ChainedRecord, EncodedEntry, append
from webwarden.audit.db_sink import DatabaseSink, entry_to_row, raw_row, row_to_entry
from webwarden.audit.sink import AuditSinkError
from webwarden.audit.verify import verify_database
from webwarden.store import audit_log, make_engine
from webwarden.store.tables import JSON_COLUMNS

CHAIN = "gw-w0"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'webwarden.db'}")
    yield engine
    engine.dispose()


def stored(engine: Engine, record: RecordFactory, count: int) -> list[ChainedRecord]:
    sink = DatabaseSink(engine, background=False)
    entries, head = [], START
    for i in range(count):
        r = record(decision_id=f"dec-{i + 1}", person=None if i % 2 else "al")
        entry = append(head, r, CHAIN)
        sink.write(entry)
        entries.append(entry)
        head = entry.head
    sink.close()
    return entries


def test_rows_round_trip_exactly(engine: Engine, record: RecordFactory) -> None:
    entries = stored(engine, record, 3)
    assert entry_to_row(entries[0])["time"].tzinfo is not None
    back = [row_to_entry(r) for r in audit_log.chain_rows(engine, CHAIN)]
    assert back == entries
    assert all(e.hash_is_valid() for e in back)


def test_background_sink_stores_in_batches(engine: Engine, record: RecordFactory) -> None:
    sink = DatabaseSink(engine, batch_size=4)
    head = START
    for i in range(10):
        entry = append(head, record(decision_id=f"dec-{i}"), CHAIN)
        sink.write(entry)
        head = entry.head
    sink.flush()
    assert sink.head(CHAIN) == head
    sink.close()
    assert audit_log.count_rows(engine) == 10


def test_verify_finds_a_changed_row(engine: Engine, record: RecordFactory) -> None:
    stored(engine, record, 5)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET url = 'http://x.example/' WHERE seq = 4"))
    (report,) = verify_database(engine)
    assert report.bad_seq == 4
    assert "hash does not match" in report.reason


def test_verify_finds_a_deleted_row(engine: Engine, record: RecordFactory) -> None:
    stored(engine, record, 5)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_records WHERE seq = 2"))
    (report,) = verify_database(engine)
    assert report.bad_seq == 2
    assert "missing" in report.reason


def test_verify_finds_swapped_rows(engine: Engine, record: RecordFactory) -> None:
    # Rows have no order but their seq: swapping two records means swapping their numbers.
    stored(engine, record, 5)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET seq = -1 WHERE seq = 2"))
        conn.execute(text("UPDATE audit_records SET seq = 2 WHERE seq = 3"))
        conn.execute(text("UPDATE audit_records SET seq = 3 WHERE seq = -1"))
    (report,) = verify_database(engine)
    assert report.bad_seq == 2


def test_verify_finds_a_missing_start(engine: Engine, record: RecordFactory) -> None:
    stored(engine, record, 3)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_records WHERE seq = 1"))
    (report,) = verify_database(engine)
    assert report.bad_seq == 1
    assert "records 1..1 are missing" in report.reason


def test_raw_row_holds_the_row_in_column_order(record: RecordFactory) -> None:
    entry = EncodedEntry(record(categories=("b", "ä")), CHAIN, 7, GENESIS, f'"{CHAIN}"')
    raw = dict(zip(audit_log.RAW_COLUMNS, raw_row(entry), strict=True))
    row = entry_to_row(entry.entry)
    assert raw["time"] == audit_log.raw_time(row["time"])
    for name in JSON_COLUMNS:
        assert json.loads(raw[name]) == row[name]
    plain = {k: v for k, v in raw.items() if k != "time" and k not in JSON_COLUMNS}
    assert plain == {k: row[k] for k in plain}


def test_flush_and_close_do_not_wait_for_the_batch_to_fill(
    engine: Engine, record: RecordFactory
) -> None:
    # With an hour to gather a batch, only flush and close can make the thread insert.
    sink = DatabaseSink(engine, linger=3600)
    first = append(START, record(), CHAIN)
    sink.write(first)
    sink.flush()
    assert sink.head(CHAIN) == first.head
    sink.write(append(first.head, record(), CHAIN))
    sink.close()
    assert audit_log.count_rows(engine) == 2


def test_a_full_batch_is_inserted_without_waiting(engine: Engine, record: RecordFactory) -> None:
    sink = DatabaseSink(engine, batch_size=3, linger=3600)
    head = START
    for _ in range(3):
        entry = append(head, record(), CHAIN)
        sink.write(entry)
        head = entry.head
    for _ in range(1000):  # bounded: the batch is stored long before
        if audit_log.count_rows(engine) == 3:
            break
        threading.Event().wait(0.01)
    assert audit_log.count_rows(engine) == 3
    sink.close()


def test_a_write_after_close_is_refused(engine: Engine, record: RecordFactory) -> None:
    sink = DatabaseSink(engine)
    sink.close()
    with pytest.raises(AuditSinkError, match="closed"):
        sink.write(append(START, record(), CHAIN))
