from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from webwarden.audit import files
from webwarden.audit.files import AppendOnlyFile, FileInUseError, lines_from_end


def test_lines_from_end_crosses_block_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "log"
    lines = [f"{i:06d} ".encode() + b"x" * (i * 37 % 5000) for i in range(200)]
    path.write_bytes(b"\n".join(lines) + b"\n\n")
    assert list(lines_from_end(path)) == list(reversed(lines))


def test_lines_from_end_of_missing_or_empty_file(tmp_path: Path) -> None:
    assert list(lines_from_end(tmp_path / "nothing")) == []
    (tmp_path / "empty").write_bytes(b"")
    assert list(lines_from_end(tmp_path / "empty")) == []
    (tmp_path / "one").write_bytes(b"no newline at end")
    assert list(lines_from_end(tmp_path / "one")) == [b"no newline at end"]


def test_exclusive_lock(tmp_path: Path) -> None:
    first = AppendOnlyFile(tmp_path / "log", exclusive=True)
    with pytest.raises(FileInUseError):
        AppendOnlyFile(tmp_path / "log", exclusive=True)
    first.close()


def test_half_written_line_is_cut_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "log"
    log = AppendOnlyFile(path, exclusive=True)
    log.append(b"first line\n")
    real_write = os.write
    calls = 0

    def disk_fills_up(fd: int, data: bytes | memoryview) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return real_write(fd, bytes(data[:5]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "write", disk_fills_up)
    with pytest.raises(OSError) as caught:
        log.append(b"second line\n")
    monkeypatch.undo()
    assert caught.value.errno == errno.ENOSPC
    log.append(b"third line\n")
    log.close()
    assert path.read_bytes() == b"first line\nthird line\n"
