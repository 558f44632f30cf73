"""Writing the CA's and the leaves' files: atomically, with their final mode from the start.

A private key must never be readable by anyone else, not even for the moment between
creating a file and changing its mode, so files are created with `os.open(..., mode)`
rather than `open()` followed by `chmod`.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

PRIVATE = 0o600
PUBLIC = 0o644
DIRECTORY = 0o700


class UnsafeDirectoryError(OSError):
    """An existing directory others can read, holding files: not ours to lock down."""


def ensure_private_directory(directory: Path) -> None:
    """Create `directory` (and parents) if missing, mode 0700. An existing one that group
    or others can enter is made 0700 only if it is empty: changing the mode of a directory
    with other things in it (a home, /tmp) is not this program's business."""
    directory.mkdir(parents=True, exist_ok=True, mode=DIRECTORY)
    if stat.S_IMODE(directory.stat().st_mode) == DIRECTORY:
        return
    if stat.S_IMODE(directory.stat().st_mode) & 0o077 and any(directory.iterdir()):
        raise UnsafeDirectoryError(
            f"{directory} can be read by others and already holds files; give a directory "
            "of its own"
        )
    # mkdir's mode is filtered by the umask and ignored for an existing directory.
    os.chmod(directory, DIRECTORY)


def _write_temp(directory: Path, data: bytes, mode: int) -> Path:
    temp = directory / f".tmp-{os.getpid()}-{secrets.token_hex(6)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have removed bits we want (0644 for certs)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        temp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return temp


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Replace `path` with `data` in one step: readers see the old file or the new one."""
    temp = _write_temp(path.parent, data, mode)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_if_absent(path: Path, data: bytes, mode: int) -> bool:
    """Create `path` with `data` unless it exists; True if this call created it.

    `link` fails when the name exists, so when several processes race, exactly one wins and
    the others can read the winner's complete file."""
    temp = _write_temp(path.parent, data, mode)
    try:
        os.link(temp, path)
    except FileExistsError:
        return False
    finally:
        temp.unlink(missing_ok=True)
    return True
