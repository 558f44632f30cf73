"""The audit process's side: frames in, records chained and stored, failures reported."""

from __future__ import annotations

import fcntl
import marshal
import os
import time
from pathlib import Path

import pytest

from tests.unit.gateway.test_audit_link import transaction
from webwarden.audit.ecs_jsonl import read_jsonl
from webwarden.audit.files import FileInUseError
from webwarden.audit.sink import AuditSinkError
from webwarden.audit.verify import verify_database, verify_jsonl
from webwarden.audit.writer import AuditWriter
from webwarden.gateway.audit_link import to_fields
from webwarden.gateway.audit_pipe import FLUSH, RECORDS, REOPEN, parse_status
from webwarden.gateway.audit_process import (
    Recorder,
    gather,
    open_audit_writer,
    open_when_free,
)
from webwarden.gateway.config import GatewayConfig
from webwarden.model.decision import Decision, Effect, RuleRef
from webwarden.model.transaction import Outcome
from webwarden.store.engine import make_engine

ALLOW = Decision("d1", Effect.ALLOW, (RuleRef("use", "G9", Effect.ALLOW),), frozenset(),
                 frozenset({"news"}), "v", "2013")


def fields(n: int) -> list[tuple[object, ...]]:
    out = []
    for i in range(n):
        txn = transaction(Outcome.FORWARDED, ALLOW)
        txn.id = f"t-{i}"
        out.append(to_fields(txn))
    return out


def records_frame(n: int) -> tuple[bytes, bytes]:
    return RECORDS, marshal.dumps(fields(n))


class Reports:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, line: bytes) -> None:
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        self.lines.append(parse_status(line.decode()))


def config(tmp_path: Path, **changes: object) -> GatewayConfig:
    return GatewayConfig(state_dir=tmp_path, db_url=f"sqlite:///{tmp_path / 'audit.db'}",
                         **changes)  # type: ignore[arg-type]


def chain_file(tmp_path: Path) -> Path:
    (found,) = (tmp_path / "logs").glob("audit-*.jsonl")
    return found


def test_records_of_several_frames_are_stored_in_order_in_every_sink(tmp_path: Path) -> None:
    reports = Reports()
    recorder = Recorder(open_audit_writer(config(tmp_path), 0), reports)
    recorder.handle([records_frame(2), records_frame(3), (FLUSH, b"7")])
    recorder.handle([records_frame(1)])
    recorder.close()
    assert reports.lines == [("flushed", "7")]
    (report,) = verify_jsonl([chain_file(tmp_path)])
    assert report.ok and report.count == 6
    assert [r.count for r in verify_database(make_engine(config(tmp_path).db_url))] == [6]
    assert len((tmp_path / "logs" / "access.log").read_text().splitlines()) == 6
    ids = [entry.record.decision_id for _, entry in read_jsonl(chain_file(tmp_path))]  # type: ignore[union-attr]
    assert ids == ["d1"] * 6


def test_a_failing_sink_is_reported_once_with_what_was_lost(tmp_path: Path) -> None:
    reports = Reports()
    writer = open_audit_writer(config(tmp_path, access_log=Path("/dev/full")), 0)
    recorder = Recorder(writer, reports)
    recorder.handle([records_frame(3)])
    recorder.handle([records_frame(2), (FLUSH, b"1")])
    word, rest = reports.lines[0]
    assert word == "failed" and rest.startswith("3 ") and "disk full" in rest
    assert reports.lines[1] == ("failed", rest.replace("3 ", "2 ", 1))  # counted, not written
    assert reports.lines[2] == ("flushed", "1")  # a flush is answered even then
    recorder.close()


def test_a_record_the_schema_refuses_fails_the_trail(tmp_path: Path) -> None:
    reports = Reports()
    recorder = Recorder(open_audit_writer(config(tmp_path), 0), reports)
    bad = list(fields(1)[0])
    bad[5] = "maybe"  # not an effect
    recorder.handle([(RECORDS, marshal.dumps([tuple(bad)]))])
    recorder.close()
    ((word, rest),) = reports.lines
    assert word == "failed" and "audit record refused" in rest and "maybe" in rest
    assert not chain_file(tmp_path).read_text()


def test_damaged_records_fail_the_trail(tmp_path: Path) -> None:
    reports = Reports()
    recorder = Recorder(open_audit_writer(config(tmp_path), 0), reports)
    recorder.handle([records_frame(1), (RECORDS, b"\x00garbage")])
    recorder.close()
    assert reports.lines[0][0] == "failed" and "damaged" in reports.lines[0][1]
    (report,) = verify_jsonl([chain_file(tmp_path)])
    assert report.count == 1  # what came before the damage is kept


def test_reopen_follows_a_rotated_access_log(tmp_path: Path) -> None:
    recorder = Recorder(open_audit_writer(config(tmp_path), 0), Reports())
    recorder.handle([records_frame(1)])
    log = tmp_path / "logs" / "access.log"
    log.rename(log.with_suffix(".log.1"))
    recorder.handle([(REOPEN, b""), records_frame(2)])
    recorder.close()
    assert len(log.read_text().splitlines()) == 2


def test_a_new_process_waits_for_the_one_before_it_to_let_go_of_the_chain(
    tmp_path: Path,
) -> None:
    tries: list[int] = []

    def opener() -> AuditWriter:
        tries.append(1)
        if len(tries) < 3:
            raise AuditSinkError("busy") from FileInUseError(11, "in use")
        return open_audit_writer(config(tmp_path), 0)

    open_when_free(opener, wait=5.0).close()
    assert len(tries) == 3
    with pytest.raises(AuditSinkError, match="busy"):
        open_when_free(opener_busy, wait=0.1)
    started = time.monotonic()
    with pytest.raises(AuditSinkError, match="other"):  # any other failure at once
        open_when_free(opener_broken, wait=5.0)
    assert time.monotonic() - started < 1.0


def opener_busy() -> AuditWriter:
    raise AuditSinkError("busy") from FileInUseError(11, "in use")


def opener_broken() -> AuditWriter:
    raise AuditSinkError("other")


def test_gathering_waits_for_more_records_while_the_pipe_has_room() -> None:
    read, write = os.pipe()
    try:
        os.write(write, b"x" * 10)
        started = time.monotonic()
        gather(read, started + 0.05)
        assert time.monotonic() - started >= 0.05
    finally:
        os.close(read)
        os.close(write)


def test_gathering_stops_once_the_pipe_is_half_full() -> None:
    read, write = os.pipe()
    try:
        capacity = fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, 4096)  # the smallest a pipe gets
        os.write(write, b"x" * (capacity // 2))
        started = time.monotonic()
        gather(read, started + 30)  # would block the worker's writes if it waited that long
        assert time.monotonic() - started < 5
    finally:
        os.close(read)
        os.close(write)
