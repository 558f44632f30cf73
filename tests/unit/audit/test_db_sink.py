from __future__ import annotations

import json
import threading
import time
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


def _entries(record: RecordFactory, count: int) -> list[EncodedEntry]:
    entries, head = [], START
    for i in range(count):
        entry = append(head, record(decision_id=f"dec-{i + 1}"), CHAIN)
        entries.append(EncodedEntry.of(entry))
        head = entry.head
    return entries


def test_deferred_rows_wait_to_share_a_transaction(engine: Engine, record: RecordFactory) -> None:
    sink = DatabaseSink(engine, background=False, defer=3600, batch_size=5)
    entries = _entries(record, 7)
    sink.write_batch(entries[:3])
    assert audit_log.count_rows(engine) == 0  # waiting
    sink.write_batch(entries[3:6])  # five or more waiting: inserted
    assert audit_log.count_rows(engine) == 6
    sink.write_batch(entries[6:])
    assert audit_log.count_rows(engine) == 6
    sink.flush()  # an idle audit process, or a clean stop
    assert audit_log.count_rows(engine) == 7
    sink.close()
    (report,) = verify_database(engine)
    assert report.ok and report.count == 7


def test_deferred_rows_go_in_once_they_have_waited_long_enough(
    engine: Engine, record: RecordFactory
) -> None:
    sink = DatabaseSink(engine, background=False, defer=0.05)
    first, second = _entries(record, 2)
    sink.write_batch([first])
    assert audit_log.count_rows(engine) == 0
    time.sleep(0.06)
    sink.write_batch([second])
    assert audit_log.count_rows(engine) == 2
    sink.close()


def test_closing_stores_deferred_rows(engine: Engine, record: RecordFactory) -> None:
    sink = DatabaseSink(engine, background=False, defer=3600)
    sink.write_batch(_entries(record, 4))
    sink.close()
    assert audit_log.count_rows(engine) == 4


def test_a_failed_deferred_insert_is_reported_by_the_next_call(
    engine: Engine, record: RecordFactory
) -> None:
    sink = DatabaseSink(engine, background=False, defer=3600)
    first, second = _entries(record, 2)
    sink.write_batch([first])
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_records"))
    with pytest.raises(AuditSinkError, match="no such table"):
        sink.flush()
    assert sink.failure() is not None
    with pytest.raises(AuditSinkError, match="no such table"):
        sink.write_batch([second])
    sink.close()


def test_deferring_is_for_the_callers_own_thread(engine: Engine) -> None:
    with pytest.raises(ValueError, match="defer"):
        DatabaseSink(engine, defer=0.25)
