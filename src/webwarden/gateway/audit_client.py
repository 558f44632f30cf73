"""A gateway worker's side of its audit process (gateway/audit_process.py).

`write_batch` marshals the records' plain values into one frame and writes it to the
process's pipe without blocking the event loop, unless the pipe is full (the process is
not keeping up): then it waits up to `put_timeout` seconds, which is back-pressure the
worker should feel, and fails after that. Status lines come back on the other pipe and are
read by the event loop (`attach`); a reported failure makes the next `write_batch` raise,
as a failed sink does in a writer of the worker's own, and is passed to `on_failure` with
the number of records lost. The process ending unexpectedly is a failure too, and is
passed to `on_exit` as well (the worker stops, and the supervisor starts a new one).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import marshal
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence

from webwarden.audit.record import RecordFields
from webwarden.audit.sink import AuditSinkError
from webwarden.gateway.audit_pipe import FLUSH, RECORDS, REOPEN, frame, parse_status

# A pipe of 1 MiB (Linux's default ceiling for unprivileged processes) holds a few
# thousand records: room for the audit process to pause (a database checkpoint) without
# the worker noticing.
PIPE_SIZE = 1024 * 1024
START_TIMEOUT = 120.0  # a first start may copy a lagging database's missing rows
CLOSE_TIMEOUT = 60.0


class AuditProcess:
    """The audit process of one worker. Start it with `start`, wait with `wait_ready`,
    then `attach` it to the event loop before writing."""

    def __init__(self, process: subprocess.Popen[bytes], *, put_timeout: float = 2.0) -> None:
        if process.stdin is None or process.stdout is None:
            raise ValueError("the audit process needs pipes on its standard input and output")
        self._process = process
        self._records = process.stdin.fileno()
        self._status = process.stdout.fileno()
        # Never blocking: a full pipe waits in `_send`, bounded by `put_timeout`.
        os.set_blocking(self._records, False)
        os.set_blocking(self._status, False)
        self._put_timeout = put_timeout
        self._partial = b""  # an incomplete status line
        self._failure: str | None = None
        self._ended = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tokens = itertools.count(1)
        self._flushed = 0
        self.on_failure: Callable[[str, int], None] | None = None
        self.on_exit: Callable[[str], None] | None = None

    @classmethod
    def start(
        cls, index: int, *, env: Mapping[str, str] | None = None, put_timeout: float = 2.0
    ) -> AuditProcess:
        command = [sys.executable, "-m", "webwarden.gateway.audit_process", "--index", str(index)]
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True
        )
        if process.stdin is not None:
            with contextlib.suppress(OSError):  # a smaller pipe only means less slack
                fcntl.fcntl(process.stdin.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        return cls(process, put_timeout=put_timeout)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def healthy(self) -> bool:
        return self._failure is None

    @property
    def failure_reason(self) -> str | None:
        return self._failure

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Block until the process says it is ready; AuditSinkError with its reason if it
        cannot start (it has exited then)."""
        line = self._read_line(time.monotonic() + timeout)
        word, rest = parse_status(line or "")
        if word == "ready":
            return
        if word == "error":
            reason = rest
        elif line is None:
            reason = f"the audit process did not start within {timeout:g} s"
        else:
            reason = f"the audit process ended before it was ready ({self._ending()})"
        self._kill()
        raise AuditSinkError(reason)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read status lines on `loop` (failures reach `on_failure` as they come)."""
        loop.add_reader(self._status, self._on_status)
        self._loop = loop

    def write_batch(self, records: Sequence[RecordFields]) -> None:
        if self._failure is not None:
            raise AuditSinkError(self._failure)
        self._send(frame(RECORDS, marshal.dumps(list(records))))

    def reopen(self) -> None:
        """Ask for the log files to be reopened (after rotation)."""
        if self._failure is None:
            with contextlib.suppress(AuditSinkError):  # the failure is recorded already
                self._send(frame(REOPEN))

    def flush(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Block until everything written so far is stored; AuditSinkError if it was not."""
        if self._failure is None:
            token = next(self._tokens)
            self._send(frame(FLUSH, str(token).encode("ascii")))
            deadline = time.monotonic() + timeout
            while self._flushed < token and self._failure is None:
                if not self._read_status(deadline):
                    break
            if self._flushed < token and self._failure is None:
                self._fail(f"the audit process did not store its records within {timeout:g} s")
        if self._failure is not None:
            raise AuditSinkError(self._failure)

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Let the process store what it was sent and exit; AuditSinkError if something
        was not stored. Called once, when the worker stops."""
        self._detach()
        with contextlib.suppress(OSError):
            os.set_blocking(self._records, True)
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()  # end of records: the process finishes and exits
        deadline = time.monotonic() + timeout
        while self._read_status(deadline):
            pass
        try:
            code = self._process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._kill()
            self._fail(f"the audit process did not finish within {timeout:g} s; killed")
        else:
            if code != 0 and self._failure is None:
                self._fail(f"the audit process exited with status {code}")
        self._ended = True
        if self._process.stdout is not None:
            self._process.stdout.close()
        if self._failure is not None:
            raise AuditSinkError(self._failure)

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        deadline: float | None = None
        while view:
            try:
                view = view[os.write(self._records, view) :]
                continue
            except BlockingIOError:
                pass
            except OSError as exc:  # the process is gone (EPIPE)
                self._fail(f"the audit process is gone: {exc.strerror or exc}")
                raise AuditSinkError(self._failure or "") from exc
            now = time.monotonic()
            deadline = deadline or now + self._put_timeout
            if now >= deadline or not select.select([], [self._records], [], deadline - now)[1]:
                self._fail(
                    f"the audit process took no records for {self._put_timeout:g} s; "
                    "it is not keeping up"
                )
                raise AuditSinkError(self._failure or "")

    def _on_status(self) -> None:
        try:
            data = os.read(self._status, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._detach()
            if not self._ended:
                self._ended = True
                reason = f"the audit process ended unexpectedly ({self._ending()})"
                self._fail(reason, notify=True)
                if self.on_exit is not None:
                    self.on_exit(reason)
            return
        self._take(data)

    def _take(self, data: bytes) -> None:
        *lines, self._partial = (self._partial + data).split(b"\n")
        for line in lines:
            self._handle(line.decode("utf-8", "replace"))

    def _handle(self, line: str) -> None:
        word, rest = parse_status(line)
        if word == "failed":
            count, _, reason = rest.partition(" ")
            lost = int(count) if count.isdigit() else 0
            self._fail(reason or "the audit process failed", lost, notify=True)
        elif word == "flushed" and rest.isdigit():
            self._flushed = max(self._flushed, int(rest))

    def _fail(self, reason: str, lost: int = 0, *, notify: bool = False) -> None:
        if self._failure is None:
            self._failure = reason
        if notify and self.on_failure is not None:
            self.on_failure(self._failure, lost)

    def _read_status(self, deadline: float) -> bool:
        """Read and handle what comes back before `deadline`; False at its end or then."""
        line = self._read_line(deadline)
        if line is None:
            return False
        self._handle(line)
        return True

    def _read_line(self, deadline: float) -> str | None:
        """The next status line, blocking until `deadline`; None at end of file or then."""
        while b"\n" not in self._partial:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._status], [], [], remaining)[0]:
                return None
            try:
                data = os.read(self._status, 65536)
            except BlockingIOError:
                continue
            except OSError:
                return None
            if not data:
                return None
            self._partial += data
        line, _, self._partial = self._partial.partition(b"\n")
        return line.decode("utf-8", "replace")

    def _detach(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self._status)
            self._loop = None

    def _ending(self) -> str:
        code = self._process.poll()
        if code is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self._process.wait(1.0)
        if code is None:
            return "still running"
        return f"signal {-code}" if code < 0 else f"status {code}"

    def _kill(self) -> None:
        with contextlib.suppress(OSError):
            self._process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(5.0)
