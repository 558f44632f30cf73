"""Append-only log files: one write(2) per record line, and reading a log from its end.

A line goes to the kernel in a single write on a descriptor opened with O_APPEND, so it is
with the operating system as soon as `append` returns (it survives the gateway process
dying, not the machine losing power), and lines from several processes sharing a file do
not interleave. There is no Python buffer to lose.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

_BLOCK = 64 * 1024


class FileInUseError(OSError):
    """Another process holds the exclusive lock on a log file."""


class AppendOnlyFile:
    """A log file opened for appending whole lines.

    With `exclusive`, the file is locked (flock) against a second writer, and a line that
    fails half-written is cut off again, so a full disk does not leave a torn line that
    would glue onto the next one.
    """

    def __init__(self, path: Path, *, exclusive: bool = False) -> None:
        self.path = path
        self._exclusive = exclusive
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            if exclusive:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError as e:
                    raise FileInUseError(e.errno, "another process is writing it") from e
            self.size = os.fstat(self._fd).st_size
        except BaseException:
            os.close(self._fd)
            raise

    def append(self, line: bytes) -> None:
        try:
            written = os.write(self._fd, line)
            if written < len(line):  # rare (a signal, a nearly full disk): write the rest
                view = memoryview(line)[written:]
                while view:
                    view = view[os.write(self._fd, view) :]
        except OSError:
            if self._exclusive:
                self._cut_back()
            raise
        self.size += len(line)

    def _cut_back(self) -> None:
        # Cutting back is a courtesy to the next reader; the write error is what matters.
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, self.size)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def lines_from_end(path: Path) -> Iterator[bytes]:
    """The non-empty lines of `path`, last first, read in blocks from the end (resuming a
    chain must not read a whole year of log)."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        end = handle.seek(0, os.SEEK_END)
        rest = b""
        while end > 0:
            start = max(0, end - _BLOCK)
            handle.seek(start)
            block = handle.read(end - start) + rest
            end = start
            lines = block.split(b"\n")
            # The first piece may be the tail of a line that starts in an earlier block.
            rest = lines.pop(0) if end > 0 else b""
            for line in reversed(lines):
                if line.strip():
                    yield line
        if rest.strip():
            yield rest
