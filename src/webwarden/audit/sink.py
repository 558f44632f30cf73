"""What a sink is: a place every chained record is written to.

Sinks raise `AuditSinkError` with a reason a gateway operator can act on ("disk full",
"permission denied", "database is locked"); the writer turns the first such error into
its failed state.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from webwarden.audit.chain import ChainedRecord, ChainHead, EncodedEntry

if TYPE_CHECKING:
    from webwarden.audit.plain_batch import EncodedBatch


class AuditSinkError(Exception):
    """A sink could not keep a record. The message says which sink and why."""


def describe_os_error(error: OSError) -> str:
    """A short, operator-facing reason for an OS error, e.g. 'no space left on device'."""
    if error.errno == errno.ENOSPC:
        return "disk full (no space left on device)"
    if error.errno == errno.EDQUOT:
        return "disk quota exceeded"
    if error.errno is not None:
        return os.strerror(error.errno).lower()
    return str(error)


class AuditSink:
    """Base of every sink; the defaults describe a sink that does not carry the chain.

    A sink that carries the chain (`head` returns where it stands) lets the writer resume
    after a restart; one that `backfills` accepts records it missed (written to another
    sink but lost here in a crash); one with `entries_after` can supply them.
    """

    name: str = "sink"
    backfills: bool = False

    def head(self, chain: str) -> ChainHead | None:
        """The last record of `chain` this sink holds, or None if none (or no chain)."""
        return None

    def entries_after(self, chain: str, seq: int) -> Iterator[ChainedRecord]:
        """The records of `chain` after `seq`, in order (only if this sink can replay)."""
        return iter(())

    def backfill(self, entries: Iterable[ChainedRecord]) -> None:
        """Store records this sink missed; only called when `backfills` is true."""

    def write(self, entry: ChainedRecord) -> None:
        raise NotImplementedError

    def write_encoded(self, encoded: EncodedEntry) -> None:
        """`write(encoded.entry)`, for a sink that can reuse the fields the writer has
        already encoded as JSON (the writer calls this one)."""
        self.write(encoded.entry)

    def write_batch(self, batch: Sequence[EncodedEntry]) -> None:
        """Every entry of `batch`, in order; sinks that can store them in one go (one
        write(2) for a file, one hand-over to the database thread) override this."""
        for encoded in batch:
            self.write_encoded(encoded)

    def write_plain(self, batch: EncodedBatch) -> None:
        """A batch encoded from plain values (audit/plain_batch.py), in order. A sink that
        does not override this makes the writer take the general path (`write_batch`)."""
        raise NotImplementedError

    def failure(self) -> str | None:
        """A failure found after `write` returned (background sinks), or None."""
        return None

    def flush(self) -> None:
        """Wait until every record handed over is stored; raise AuditSinkError if not."""

    def reopen(self) -> None:
        """Reopen files after log rotation moved them away."""

    def close(self) -> None:
        """Flush and release the sink."""
