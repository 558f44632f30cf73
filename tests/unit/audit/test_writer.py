from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tests.unit.audit.conftest import RecordFactory
from webwarden.audit import db_sink
from webwarden.audit.chain import ChainedRecord, EncodedEntry
from webwarden.audit.db_sink import DatabaseSink
from webwarden.audit.ecs_jsonl import JsonlSink, read_jsonl
from webwarden.audit.files import AppendOnlyFile
from webwarden.audit.record import record_from_fields
from webwarden.audit.setup import ACCESS_LOG, default_chain, jsonl_path, open_writer
from webwarden.audit.sink import AuditSink, AuditSinkError
from webwarden.audit.squid_log import SquidAccessLog
from webwarden.audit.verify import verify_database, verify_jsonl
from webwarden.audit.writer import AuditWriter
from webwarden.store import audit_log, make_engine

CHAIN = "gw-w0"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'state' / 'webwarden.db'}")
    yield engine
    engine.dispose()


def write_some(writer: AuditWriter, record: RecordFactory, count: int) -> list[ChainedRecord]:
    return [writer.write(record(decision_id=f"dec-{i}")) for i in range(count)]


def test_writes_every_sink(tmp_path: Path, engine: Engine, record: RecordFactory) -> None:
    writer = open_writer(tmp_path / "logs", chain=CHAIN, engine=engine)
    entries = write_some(writer, record, 4)
    writer.close()
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert len((tmp_path / "logs" / ACCESS_LOG).read_text().splitlines()) == 4
    jsonl = jsonl_path(tmp_path / "logs", CHAIN)
    assert [item for _, item in read_jsonl(jsonl)] == entries
    assert audit_log.count_rows(engine) == 4
    assert all(r.ok for r in verify_jsonl([jsonl]))
    assert all(r.ok for r in verify_database(engine))


def test_resumes_the_chain_after_a_restart(
    tmp_path: Path, engine: Engine, record: RecordFactory
) -> None:
    first = open_writer(tmp_path, chain=CHAIN, engine=engine)
    before = write_some(first, record, 3)
    first.close()
    second = open_writer(tmp_path, chain=CHAIN, engine=engine)
    assert second.head == before[-1].head
    after = write_some(second, record, 2)
    second.close()
    assert after[0].seq == 4 and after[0].prev == before[-1].hash
    (file_report,) = verify_jsonl([jsonl_path(tmp_path, CHAIN)])
    (db_report,) = verify_database(engine)
    assert file_report.ok and file_report.last_seq == 5
    assert db_report.ok and db_report.last_seq == 5


def test_each_worker_has_its_own_chain(
    tmp_path: Path, engine: Engine, record: RecordFactory
) -> None:
    w0 = open_writer(tmp_path, worker=0, engine=engine)
    w1 = open_writer(tmp_path, worker=1, engine=engine)
    write_some(w0, record, 2)
    write_some(w1, record, 3)
    w0.close()
    w1.close()
    assert w0.chain == default_chain(0) != w1.chain
    reports = {r.chain: r for r in verify_database(engine)}
    assert reports[w0.chain].last_seq == 2 and reports[w1.chain].last_seq == 3
    assert len((tmp_path / ACCESS_LOG).read_text().splitlines()) == 5


def test_database_catches_up_from_the_file(
    tmp_path: Path, engine: Engine, record: RecordFactory
) -> None:
    # The database missed records (a crash before its batch was stored): the next start
    # copies them from the JSON lines file, so the database chain has no gap.
    no_db = open_writer(tmp_path, chain=CHAIN, squid_log=False)
    write_some(no_db, record, 3)
    no_db.close()
    writer = open_writer(tmp_path, chain=CHAIN, engine=engine)
    assert audit_log.count_rows(engine) == 3
    write_some(writer, record, 1)
    writer.close()
    (report,) = verify_database(engine)
    assert report.ok and (report.first_seq, report.last_seq) == (1, 4)


def test_sinks_that_disagree_stop_the_start(
    tmp_path: Path, engine: Engine, record: RecordFactory
) -> None:
    writer = open_writer(tmp_path, chain=CHAIN, engine=engine)
    write_some(writer, record, 2)
    writer.close()
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET hash = 'x' WHERE seq = 2"))
    with pytest.raises(AuditSinkError, match="disagree at seq 2"):
        open_writer(tmp_path, chain=CHAIN, engine=engine)


def test_unwritable_log_directory(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    with pytest.raises(AuditSinkError, match="not a directory"):
        open_writer(not_a_dir / "logs", chain=CHAIN)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_read_only_log_directory(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    logs.chmod(0o500)
    try:
        with pytest.raises(AuditSinkError, match="permission denied"):
            open_writer(logs, chain=CHAIN)
    finally:
        logs.chmod(0o700)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_disk_fails_the_writer(tmp_path: Path, record: RecordFactory) -> None:
    sinks: list[AuditSink] = [JsonlSink(tmp_path / "a.jsonl"), SquidAccessLog(Path("/dev/full"))]
    writer = AuditWriter(sinks, chain=CHAIN)
    assert writer.healthy
    with pytest.raises(AuditSinkError, match="disk full"):
        writer.write(record())
    assert not writer.healthy
    assert writer.failure_reason is not None and "/dev/full" in writer.failure_reason
    with pytest.raises(AuditSinkError, match="disk full"):
        writer.write(record())
    for sink in sinks:
        sink.close()


def test_disk_full_on_the_chain_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record: RecordFactory
) -> None:
    writer = open_writer(tmp_path, chain=CHAIN)
    write_some(writer, record, 1)

    def no_space(self: AppendOnlyFile, line: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(AppendOnlyFile, "append", no_space)
    with pytest.raises(AuditSinkError) as caught:
        writer.write(record())
    assert "disk full" in str(caught.value)
    assert str(jsonl_path(tmp_path, CHAIN)) in str(caught.value)
    assert writer.failure_reason == str(caught.value)
    monkeypatch.undo()
    writer.close()


class _BrokenSink(AuditSink):
    name = "broken"

    def write(self, entry: ChainedRecord) -> None:
        raise RuntimeError("bug")


def test_a_sink_bug_is_a_sink_failure(record: RecordFactory) -> None:
    writer = AuditWriter([_BrokenSink()], chain=CHAIN)
    with pytest.raises(AuditSinkError, match="broken: RuntimeError: bug"):
        writer.write(record())
    assert not writer.healthy


def test_database_failure_surfaces(tmp_path: Path, engine: Engine, record: RecordFactory) -> None:
    writer = open_writer(tmp_path, chain=CHAIN, engine=engine)
    write_some(writer, record, 2)
    writer.flush()
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_records"))
    writer.write(record())  # queued; the insert fails in the background
    with pytest.raises(AuditSinkError, match=r"cannot store records 3\.\.3"):
        writer.flush()
    assert not writer.healthy
    assert "no such table" in (writer.failure_reason or "")
    with pytest.raises(AuditSinkError, match="database"):
        writer.write(record())
    with pytest.raises(AuditSinkError):
        writer.close()
    # The file still has everything the gateway forwarded.
    assert [r.last_seq for r in verify_jsonl([jsonl_path(tmp_path, CHAIN)])] == [3]


def test_database_that_cannot_keep_up(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, record: RecordFactory
) -> None:
    release = threading.Event()
    started = threading.Event()
    real_insert = audit_log.insert_raw_rows

    def slow_insert(e: Engine, rows: Sequence[audit_log.RawRow]) -> None:
        started.set()
        release.wait(timeout=10)
        real_insert(e, rows)

    monkeypatch.setattr(db_sink.audit_log, "insert_raw_rows", slow_insert)
    sink = DatabaseSink(engine, queue_size=1, put_timeout=0.05)
    writer = AuditWriter([sink], chain=CHAIN)
    writer.write(record())
    assert started.wait(timeout=10)
    writer.write(record())  # waits in the queue
    with pytest.raises(AuditSinkError, match="not keeping up"):
        writer.write(record())
    release.set()
    with pytest.raises(AuditSinkError):
        writer.close()
    assert not writer.healthy


def test_chain_names_must_be_file_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="chain name"):
        open_writer(tmp_path, chain="../escape")
    assert list(tmp_path.iterdir()) == []


def test_writer_needs_a_sink_and_a_chain_name() -> None:
    with pytest.raises(ValueError, match="at least one sink"):
        AuditWriter([], chain=CHAIN)
    with pytest.raises(ValueError, match="chain name"):
        AuditWriter([_BrokenSink()], chain="has space")


def test_a_batch_is_chained_as_single_writes_would_be(
    tmp_path: Path, engine: Engine, record: RecordFactory
) -> None:
    one_by_one = open_writer(tmp_path / "single", chain=CHAIN)
    singles = write_some(one_by_one, record, 5)
    one_by_one.close()
    batched = open_writer(tmp_path / "batched", chain=CHAIN, engine=engine)
    first = batched.write_batch([record(decision_id=f"dec-{i}") for i in range(2)])
    rest = batched.write_batch([record(decision_id=f"dec-{i}") for i in range(2, 5)])
    assert batched.write_batch([]) == []
    batched.close()
    assert first + rest == singles
    assert batched.head == singles[-1].head
    for path in (lambda d: d / ACCESS_LOG, lambda d: jsonl_path(d, CHAIN)):
        assert path(tmp_path / "single").read_bytes() == path(tmp_path / "batched").read_bytes()
    assert audit_log.count_rows(engine) == 5
    assert all(r.ok for r in verify_database(engine))


def test_each_log_file_gets_one_write_per_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record: RecordFactory
) -> None:
    writer = open_writer(tmp_path, chain=CHAIN)
    appended: list[tuple[Path, int]] = []
    real_append = AppendOnlyFile.append

    def counting(self: AppendOnlyFile, line: bytes) -> None:
        appended.append((self.path, line.count(b"\n")))
        real_append(self, line)

    monkeypatch.setattr(AppendOnlyFile, "append", counting)
    writer.write_batch([record(decision_id=f"dec-{i}") for i in range(7)])
    writer.close()
    assert sorted(appended) == sorted([(tmp_path / ACCESS_LOG, 7),
                                       (jsonl_path(tmp_path, CHAIN), 7)])


def test_a_failed_batch_fails_the_writer_and_leaves_no_torn_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record: RecordFactory
) -> None:
    writer = open_writer(tmp_path, chain=CHAIN)
    before = write_some(writer, record, 2)
    real_write = os.write

    def half_then_full(fd: int, data: bytes | memoryview) -> int:
        if len(data) > 1000:  # the batch: half of it goes, then the disk is full
            real_write(fd, bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(AuditSinkError, match="disk full"):
        writer.write_batch([record(decision_id=f"big-{i}") for i in range(5)])
    monkeypatch.undo()
    assert not writer.healthy
    assert writer.head == before[-1].head  # the chain did not move on
    with pytest.raises(AuditSinkError):
        writer.write_batch([record()])
    writer.close()
    # The chain's file was cut back to its last whole record: it still verifies.
    assert [item for _, item in read_jsonl(jsonl_path(tmp_path, CHAIN))] == before


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_batch_one_sink_cannot_keep_still_reaches_the_others(
    tmp_path: Path, record: RecordFactory
) -> None:
    # The access.log is on a full disk; the chain file after it in the list still gets
    # the batch, so the records are not lost, only missing from the failed sink.
    sinks: list[AuditSink] = [SquidAccessLog(Path("/dev/full")), JsonlSink(tmp_path / "a.jsonl")]
    writer = AuditWriter(sinks, chain=CHAIN)
    with pytest.raises(AuditSinkError, match="disk full"):
        writer.write_batch([record(decision_id=f"d{i}") for i in range(3)])
    kept = [item for _, item in read_jsonl(tmp_path / "a.jsonl")]
    assert [entry.record.decision_id for entry in kept] == ["d0", "d1", "d2"]  # type: ignore[union-attr]
    assert not writer.healthy and "disk full" in (writer.failure_reason or "")
    with pytest.raises(AuditSinkError):  # and nothing more is written after the failure
        writer.write(record())
    assert len(list(read_jsonl(tmp_path / "a.jsonl"))) == 3
    for sink in sinks:
        sink.close()


def test_a_failure_found_in_the_background_still_lets_the_batch_reach_the_files(
    tmp_path: Path, engine: Engine, record: RecordFactory
) -> None:
    database = DatabaseSink(engine, linger=0)
    writer = AuditWriter([JsonlSink(tmp_path / "a.jsonl"), database], chain=CHAIN)
    write_some(writer, record, 2)
    writer.flush()
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_records"))
    writer.write(record())  # queued; the insert fails in the background
    deadline = time.monotonic() + 10
    while database.failure() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # The writer learns of it with the next batch, which the chain file still keeps.
    with pytest.raises(AuditSinkError, match="no such table"):
        writer.write(record(decision_id="after"))
    assert [r.last_seq for r in verify_jsonl([tmp_path / "a.jsonl"])] == [4]
    with pytest.raises(AuditSinkError):
        writer.close()


# Plain values (the gateway's audit process): the one-pass encoder when it can be used.
PLAIN: tuple = (  # type: ignore[type-arg]
    1_714_557_600_123_456, "10.0.0.7", "pc-17", "GET", "http://news.example/p", "allow", 200,
    "alice", ("press",), ("allow-press",), "d1", "v1", 312, 4110, 180.25, (), (),
    "192.0.2.10:80", "text/html", "", False,
)  # fmt: skip


def logs_of(folder: Path) -> tuple[bytes, bytes]:
    return (folder / ACCESS_LOG).read_bytes(), jsonl_path(folder, CHAIN).read_bytes()


def test_plain_values_are_written_as_their_records_would_be(tmp_path: Path) -> None:
    batches = [
        [PLAIN, (*PLAIN[:4], "https://u:p@bank.example/a", *PLAIN[5:20], True)],
        [(*PLAIN[:7], None, *PLAIN[8:]), (*PLAIN[:14], True, *PLAIN[15:])],  # True: general
    ]
    engines = []
    for name in ("values", "records"):
        engine = make_engine(f"sqlite:///{tmp_path / name / 'webwarden.db'}")
        engines.append(engine)
        writer = open_writer(tmp_path / name, chain=CHAIN, engine=engine, db_defer=0.25)
        for batch in batches:
            if name == "values":
                writer.write_values(batch)
            else:
                writer.write_batch([record_from_fields(values) for values in batch])
        writer.close()
    assert logs_of(tmp_path / "values") == logs_of(tmp_path / "records")
    rows = [list(audit_log.chain_rows(engine, CHAIN)) for engine in engines]
    assert rows[0] == rows[1] and len(rows[0]) == 4
    assert all(r.ok for r in verify_jsonl([jsonl_path(tmp_path / "values", CHAIN)]))
    assert all(r.ok for r in verify_database(engines[0]))
    for engine in engines:
        engine.dispose()


def test_plain_values_no_record_may_hold_are_refused_unwritten(
    tmp_path: Path, engine: Engine
) -> None:
    writer = open_writer(tmp_path, chain=CHAIN, engine=engine)
    writer.write_values([PLAIN])
    head = writer.head
    with pytest.raises(ValueError, match="effect 'maybe'"):
        writer.write_values([PLAIN, (*PLAIN[:5], "maybe", *PLAIN[6:])])
    assert writer.head == head and writer.healthy
    writer.close()
    assert len((tmp_path / ACCESS_LOG).read_text().splitlines()) == 1
    assert audit_log.count_rows(engine) == 1


class WithoutPlain(AuditSink):
    """A sink that only takes the general path's batches."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def write_batch(self, batch: Sequence[EncodedEntry]) -> None:
        self.batches.append(len(batch))


def test_a_sink_without_plain_batches_gets_the_general_path(tmp_path: Path) -> None:
    other = WithoutPlain()
    writer = AuditWriter([JsonlSink(jsonl_path(tmp_path, CHAIN)), other], chain=CHAIN)
    writer.write_values([PLAIN, PLAIN])
    writer.close()
    assert other.batches == [2]
    assert [item.seq for _, item in read_jsonl(jsonl_path(tmp_path, CHAIN))] == [1, 2]
