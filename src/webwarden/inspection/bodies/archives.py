"""A zip file in memory, read member by member within the extraction budget."""

from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from typing import Final

from webwarden.inspection.bodies.parts import Budget

# Members looked at in one archive: enough for any document, few enough that a zip of a
# hundred thousand empty files costs little.
MAX_MEMBERS: Final = 1000

# What zipfile raises on hostile members: corrupt data, unsupported methods (NotImplemented),
# passwords (RuntimeError), short reads (EOFError), bad headers (ValueError, OSError).
_READ_ERRORS = (
    zipfile.BadZipFile,
    NotImplementedError,
    RuntimeError,
    EOFError,
    OSError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
)


class Archive:
    """The members of one zip file; `read` never returns more than the budget allows."""

    def __init__(self, archive: zipfile.ZipFile, filename: str | None, budget: Budget) -> None:
        self.filename = filename
        self._zip = archive
        self._budget = budget
        infos = [i for i in archive.infolist() if not i.is_dir()]
        self.skipped = max(0, len(infos) - MAX_MEMBERS)
        self._infos = {i.filename: i for i in infos[:MAX_MEMBERS]}
        self._problems: dict[str, str] = {}
        self._cut: set[str] = set()

    @classmethod
    def open(cls, data: bytes, filename: str | None, budget: Budget) -> Archive | str:
        """The archive, or why it cannot be opened (a cut or corrupt file)."""
        try:
            return cls(zipfile.ZipFile(io.BytesIO(data)), filename, budget)
        except _READ_ERRORS as problem:
            return f"cannot open zip archive: {problem}"

    def names(self) -> list[str]:
        """Member names in archive order (directories left out)."""
        return list(self._infos)

    def encrypted(self, name: str) -> bool:
        info = self._infos.get(name)
        return info is not None and bool(info.flag_bits & 0x1)

    def read(self, name: str) -> bytes | None:
        """The member's bytes, cut at the budget's allowance; None when it cannot be read
        (then `problem(name)` says why)."""
        info = self._infos.get(name)
        if info is None:
            self._problems[name] = f"no member {name!r}"
            return None
        if info.flag_bits & 0x1:
            self._problems[name] = "encrypted member (password protected)"
            return None
        allowance = self._budget.allowance()
        if allowance <= 0:
            self._problems[name] = "not read: the extraction bound is spent"
            return None
        try:
            with self._zip.open(info) as member:
                data = member.read(allowance + 1)
        except _READ_ERRORS as problem:
            self._problems[name] = f"cannot read member: {problem}"
            return None
        if len(data) > allowance:
            data = data[:allowance]
            self._cut.add(name)
        self._budget.spend(len(data))
        return data

    def problem(self, name: str) -> str:
        return self._problems.get(name, "not read")

    def cut(self, name: str) -> bool:
        """True when only the first part of the member was read."""
        return name in self._cut
