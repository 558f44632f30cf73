"""A worker's side of its audit process, against the real process (python -m ...)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.unit.gateway.test_audit_process import chain_file, config, fields
from webwarden.audit.sink import AuditSinkError
from webwarden.audit.verify import verify_database, verify_jsonl
from webwarden.gateway.audit_client import AuditProcess
from webwarden.gateway.config import CONFIG_ENV, GatewayConfig
from webwarden.store.engine import make_engine


def env_for(cfg: GatewayConfig) -> dict[str, str]:
    return {**os.environ, CONFIG_ENV: cfg.to_json()}


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def run_until(loop: asyncio.AbstractEventLoop, done: Callable[[], bool], timeout: float = 10
              ) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        loop.run_until_complete(asyncio.sleep(0.01))


def started(cfg: GatewayConfig, loop: asyncio.AbstractEventLoop) -> AuditProcess:
    audit = AuditProcess.start(0, env=env_for(cfg))
    audit.wait_ready(30)
    audit.attach(loop)
    return audit


def test_records_reach_every_sink_and_close_waits_for_them(
    tmp_path: Path, loop: asyncio.AbstractEventLoop
) -> None:
    cfg = config(tmp_path)
    audit = started(cfg, loop)
    for _ in range(20):
        audit.write_batch(fields(50))
    audit.flush()
    (report,) = verify_jsonl([chain_file(tmp_path)])
    assert report.ok and report.count == 1000  # stored when flush returned
    audit.write_batch(fields(3))
    audit.close()
    (report,) = verify_jsonl([chain_file(tmp_path)])
    assert report.count == 1003
    (in_db,) = verify_database(make_engine(cfg.db_url))
    assert in_db.ok and in_db.count == 1003 and in_db.last_hash == report.last_hash
    assert audit.healthy


def test_a_sink_failure_comes_back_and_stops_further_writes(
    tmp_path: Path, loop: asyncio.AbstractEventLoop
) -> None:
    audit = started(config(tmp_path, access_log=Path("/dev/full")), loop)
    told: list[tuple[str, int]] = []
    audit.on_failure = lambda reason, lost: told.append((reason, lost))
    audit.write_batch(fields(4))
    run_until(loop, lambda: bool(told))
    assert told[0][1] == 4 and "disk full" in told[0][0]
    assert not audit.healthy and "disk full" in (audit.failure_reason or "")
    with pytest.raises(AuditSinkError, match="disk full"):
        audit.write_batch(fields(1))
    with pytest.raises(AuditSinkError, match="disk full"):
        audit.close()


def test_a_process_that_dies_fails_the_trail_and_says_so(
    tmp_path: Path, loop: asyncio.AbstractEventLoop
) -> None:
    audit = started(config(tmp_path), loop)
    ended: list[str] = []
    audit.on_exit = ended.append
    os.kill(audit.pid, signal.SIGKILL)
    run_until(loop, lambda: bool(ended))
    assert "ended unexpectedly" in ended[0] and "signal 9" in ended[0]
    assert not audit.healthy
    with pytest.raises(AuditSinkError, match="ended unexpectedly"):
        audit.write_batch(fields(1))
    with pytest.raises(AuditSinkError):
        audit.close()


def test_records_sent_before_the_worker_dies_are_still_stored(tmp_path: Path) -> None:
    # A worker that crashes closes its end of the pipe without a word: the audit process
    # stores what it was sent and exits cleanly.
    audit = AuditProcess.start(0, env=env_for(config(tmp_path)))
    audit.wait_ready(30)
    audit.write_batch(fields(7))
    process = audit._process
    assert process.stdin is not None
    process.stdin.close()
    assert process.wait(30) == 0
    (report,) = verify_jsonl([chain_file(tmp_path)])
    assert report.ok and report.count == 7


def test_the_process_ignores_the_signals_a_terminal_sends_its_group(
    tmp_path: Path, loop: asyncio.AbstractEventLoop
) -> None:
    audit = started(config(tmp_path), loop)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        os.kill(audit.pid, sig)
    audit.write_batch(fields(2))
    audit.close()  # the worker, not a signal, ends it: nothing is cut off
    (report,) = verify_jsonl([chain_file(tmp_path)])
    assert report.count == 2


def test_a_process_that_cannot_open_the_trail_says_why(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the log folder should be")
    audit = AuditProcess.start(0, env=env_for(config(tmp_path, audit_jsonl_dir=blocker / "logs")))
    with pytest.raises(AuditSinkError, match="blocker"):
        audit.wait_ready(30)


def test_the_chain_continues_across_processes(
    tmp_path: Path, loop: asyncio.AbstractEventLoop
) -> None:
    cfg = config(tmp_path)
    first = started(cfg, loop)
    first.write_batch(fields(5))
    first.close()
    second = started(cfg, loop)
    second.write_batch(fields(5))
    second.close()
    (report,) = verify_jsonl([chain_file(tmp_path)])
    assert report.ok and report.count == 10 and report.first_seq == 1


def test_a_process_that_takes_nothing_fails_the_trail_after_the_put_timeout(
    tmp_path: Path,
) -> None:
    audit = AuditProcess.start(0, env=env_for(config(tmp_path)), put_timeout=0.3)
    audit.wait_ready(30)
    os.kill(audit.pid, signal.SIGSTOP)  # a process that has stopped reading
    try:
        batch = fields(50)
        with pytest.raises(AuditSinkError, match="not keeping up"):
            for _ in range(10_000):  # the pipe holds far fewer
                audit.write_batch(batch)
        assert not audit.healthy
    finally:
        os.kill(audit.pid, signal.SIGCONT)
    with pytest.raises(AuditSinkError, match="not keeping up"):
        audit.close()


def test_a_database_failure_found_by_its_thread_comes_back_without_more_records(
    tmp_path: Path, loop: asyncio.AbstractEventLoop
) -> None:
    cfg = config(tmp_path)
    audit = started(cfg, loop)
    told: list[tuple[str, int]] = []
    audit.on_failure = lambda reason, lost: told.append((reason, lost))
    audit.write_batch(fields(2))
    audit.flush()
    with sqlite3.connect(tmp_path / "audit.db") as db:
        db.execute("DROP TABLE audit_records")
    audit.write_batch(fields(3))  # kept by the files; the database thread fails on them
    # Nothing more is written: the process reports the failure while idle.
    run_until(loop, lambda: bool(told))
    assert "no such table" in told[0][0] and not audit.healthy
    with pytest.raises(AuditSinkError, match="no such table"):
        audit.close()
    (report,) = verify_jsonl([chain_file(tmp_path)])
    assert report.ok and report.count == 5  # the chain file has every record
