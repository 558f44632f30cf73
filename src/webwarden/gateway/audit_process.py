"""A gateway worker's audit process: builds, chains and stores the worker's records.

Started by its worker as `python -m webwarden.gateway.audit_process --index N` with the
gateway settings in the environment, records arriving on standard input and status lines
going out on standard output (gateway/audit_pipe.py). Why a process of its own
(docs/decisions/0004-audit-process.md): building, hashing and encoding a record and
inserting its row cost the worker's event loop more CPU than proxying the request did;
here that work runs beside the worker, on another CPU when one is free.

It writes exactly what the worker's own writer did (audit/setup.py's layout: the
worker's JSON lines chain, the database, the shared access.log), each batch in the order
it came. The first failure is reported at once, with the number of records lost; later
batches are counted as lost too, since the trail has failed for good. When the pipe
closes (the worker stopped, or died) it stores what it was sent and exits. It ignores the
signals a terminal or the supervisor sends its process group: its worker decides when it
stops, so that the records of a draining worker are not cut off.
"""

from __future__ import annotations

import argparse
import array
import contextlib
import fcntl
import logging
import marshal
import os
import select
import signal
import sys
import termios
import time
from collections.abc import Callable

from sqlalchemy import Engine

from webwarden.audit.files import FileInUseError
from webwarden.audit.record import RecordFields
from webwarden.audit.setup import ACCESS_LOG, open_writer
from webwarden.audit.sink import AuditSinkError
from webwarden.audit.writer import AuditWriter
from webwarden.gateway.audit_pipe import (
    FLUSH,
    RECORDS,
    REOPEN,
    FrameError,
    FrameReader,
    status_line,
)
from webwarden.gateway.collector import tune_collector
from webwarden.gateway.config import CONFIG_ENV, GatewayConfig
from webwarden.store.engine import make_engine

# How long a new audit process waits for the one before it (a worker that was replaced)
# to store its last records and let go of the chain's file.
CHAIN_WAIT_SECONDS = 15.0
_READ_SIZE = 1024 * 1024
# How often, at most, the process writes: a batch every few milliseconds (what each worker
# sends) cost a write(2) per log file each; gathering 25 ms worth cut the process's CPU
# per record with two workers
# (bench/README.md). The records wait in the pipe meanwhile, where a worker that dies
# cannot lose them; never past half of it.
LINGER_SECONDS = 0.025
_GATHER_STEP = 0.005
# The database gets its rows in transactions of up to a quarter of a second's worth
# (audit/db_sink.py, `defer`): every transaction rewrites each index page it touched, and
# with many people the (person, time) index is touched all over. Transactions of 350
# rows cost SQLite about 19 µs a row for 300 people, of 2,048 rows 10 µs, of 8,192 rows
# 8 µs (bench/README.md, Audit). The rows are in the chain file meanwhile, and a new
# audit process copies any the database missed. Inserted in this process's one thread:
# a database thread's hand-offs of the interpreter lock cost more than it saved.
DB_DEFER_SECONDS = 0.25
DB_BATCH_ROWS = 8192
# How often an idle audit process stores rows still deferred.
IDLE_SECONDS = 0.2
log = logging.getLogger("webwarden.gateway.audit")


def open_audit_writer(
    config: GatewayConfig, index: int, engine: Engine | None = None
) -> AuditWriter:
    """Worker `index`'s writer: its own JSON lines chain, the shared Squid-format
    access.log, the shared database (`engine`, else one made from the settings; in larger
    transactions than the files get: see DB_DEFER_SECONDS)."""
    return open_writer(
        config.audit_jsonl_dir or config.log_dir,
        worker=index,
        engine=engine or make_engine(config.db_url),
        access_log=config.access_log or config.log_dir / ACCESS_LOG,
        db_defer=DB_DEFER_SECONDS,
        db_batch_rows=DB_BATCH_ROWS,
    )


def open_when_free(
    opener: Callable[[], AuditWriter], wait: float = CHAIN_WAIT_SECONDS
) -> AuditWriter:
    """`opener()`, retried while another process still holds the chain's file."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return opener()
        except AuditSinkError as exc:
            if not isinstance(exc.__cause__, FileInUseError) or time.monotonic() >= deadline:
                raise
        time.sleep(0.05)


class Recorder:
    """Turns the frames read from the worker into writes, and reports on `report`."""

    def __init__(self, writer: AuditWriter, report: Callable[[bytes], None]) -> None:
        self.writer = writer
        self._report = report
        self.failure: str | None = None

    def handle(self, frames: list[tuple[bytes, bytes]]) -> None:
        """Everything in `frames`, in order; the records of consecutive frames in one write."""
        waiting: list[RecordFields] = []
        for kind, payload in frames:
            if kind == RECORDS:
                try:
                    waiting.extend(marshal.loads(payload))
                except (ValueError, EOFError, TypeError) as exc:
                    self._write(waiting)
                    waiting = []
                    self.fail(f"audit records arrived damaged: {exc}", 1)
                continue
            self._write(waiting)
            waiting = []
            if kind == FLUSH:
                self._flush(payload.decode("ascii", "replace"))
            elif kind == REOPEN:
                self._reopen()
        self._write(waiting)

    def _write(self, batch: list[RecordFields]) -> None:
        if not batch:
            return
        if self.failure is not None:
            self._report(status_line("failed", len(batch), self.failure))
            return
        try:
            self.writer.write_values(batch)
        except (ValueError, TypeError) as exc:  # a record the schema refuses is a bug
            self.fail(f"audit record refused: {exc}", len(batch))
        except AuditSinkError as exc:
            self.fail(str(exc), len(batch))

    def _flush(self, token: str) -> None:
        if self.failure is None:
            try:
                self.writer.flush()
            except AuditSinkError as exc:
                self.fail(str(exc), 0)
        self._report(status_line("flushed", token))

    def _reopen(self) -> None:
        if self.failure is not None:
            return
        try:
            self.writer.reopen()
        except AuditSinkError as exc:
            self.fail(f"reopening the audit logs failed: {exc}", 0)

    def idle(self) -> None:
        """Nothing came for a while: store what the sinks still hold (deferred rows)."""
        if self.failure is None:
            try:
                self.writer.flush()
            except AuditSinkError as exc:
                self.fail(str(exc), 0)

    def fail(self, reason: str, lost: int) -> None:
        if self.failure is None:
            self.failure = reason
            log.error("audit trail failed: %s", reason)
        self._report(status_line("failed", lost, self.failure))

    def close(self) -> None:
        try:
            self.writer.close()
        except AuditSinkError as exc:
            self.fail(f"audit records may be missing from a sink: {exc}", 0)


def serve(recorder: Recorder, records_fd: int, linger: float = LINGER_SECONDS) -> int:
    """Read frames until the worker closes the pipe; 0 if every record was stored."""
    reader = FrameReader()
    try:
        while True:
            if not select.select([records_fd], [], [], IDLE_SECONDS)[0]:
                recorder.idle()
                continue
            data = os.read(records_fd, _READ_SIZE)
            if not data:
                break
            started = time.monotonic()
            recorder.handle(reader.feed(data))
            # Let the next records gather in the pipe: every write costs a transaction and
            # a system call per file, whatever it holds (see LINGER_SECONDS).
            gather(records_fd, started + linger)
        if reader.pending:
            recorder.fail(f"the worker's last frame was cut off ({reader.pending} bytes)", 0)
    except FrameError as exc:
        recorder.fail(f"audit records arrived damaged: {exc}", 0)
    finally:
        recorder.close()
    return 0 if recorder.failure is None else 1


def gather(fd: int, until: float) -> None:
    """Wait until `until` for records to gather in the pipe `fd`, but no longer once it is
    half full: the worker must never find it full (it would have to wait), however small
    a pipe the system granted."""
    half = _pipe_capacity(fd) // 2
    while (remaining := until - time.monotonic()) > 0:
        time.sleep(min(remaining, _GATHER_STEP))
        if _waiting(fd) >= half:
            return


def _pipe_capacity(fd: int) -> int:
    try:
        return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)
    except OSError:  # not a pipe (a test's socket, a file): assume the smallest
        return 4096


def _waiting(fd: int) -> int:
    """Bytes waiting to be read from `fd`."""
    try:
        buffer = array.array("i", [0])
        fcntl.ioctl(fd, termios.FIONREAD, buffer, True)
        return buffer[0]
    except OSError:
        return 1 << 30  # unknown: stop waiting


def _writer(fd: int) -> Callable[[bytes], None]:
    def write(line: bytes) -> None:
        with contextlib.suppress(OSError):  # the worker is gone; nobody is left to tell
            os.write(fd, line)

    return write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="webwarden-gateway-audit")
    parser.add_argument("--index", type=int, required=True)
    args = parser.parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_IGN)
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s webwarden audit {args.index}: %(levelname)s %(message)s",
    )
    report = _writer(sys.stdout.fileno())
    try:
        config = GatewayConfig.from_json(os.environ[CONFIG_ENV])
        engine = make_engine(config.db_url)  # once, not on every wait for the chain file
        writer = open_when_free(lambda: open_audit_writer(config, args.index, engine))
    except (AuditSinkError, ValueError, OSError, KeyError) as exc:
        report(status_line("error", exc))
        return 2
    tune_collector(freeze=True)  # what it holds now (the database layer) it keeps for life
    report(status_line("ready"))
    return serve(Recorder(writer, report), sys.stdin.fileno())


if __name__ == "__main__":
    sys.exit(main())
