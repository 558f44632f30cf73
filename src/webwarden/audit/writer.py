"""The audit writer: chains each record and hands it to every sink, or fails loudly.

A gateway worker's audit process calls `write_values` with the plain values of the
records its worker gathered (gateway/audit_process.py), encoded for every sink in one pass
(audit/plain_batch.py); tools and tests call `write_batch` with `AuditRecord`s. Either way
the work is encoding each record's fields once, a hash per record, one write(2) per log
file for the whole batch and the rows for the database (bench/audit_bench.py and
bench/audit_process_bench.py have the costs), so there is no async variant. `write` is
the batch of one. The one wait it can impose is a database thread's queue being full,
which is back-pressure the caller should feel.

The first failure of any sink puts the writer in a failed state for good: `write` raises
`AuditSinkError` from then on, `healthy` is false and `failure_reason` says why. The
gateway stops forwarding (fail closed) and an operator fixes the cause and restarts; the
new writer resumes the chain from the sinks.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from types import TracebackType

from webwarden.audit.chain import START, ChainedRecord, ChainHead, EncodedEntry
from webwarden.audit.plain_batch import encode_plain
from webwarden.audit.record import AuditRecord, RecordFields, record_from_fields
from webwarden.audit.record_json import json_text
from webwarden.audit.sink import AuditSink, AuditSinkError


class AuditWriter:
    """Writes to `sinks` in order (put the JSON lines sink first: it is the chain's home
    and the source for catching the database up). `chain` names this writer's chain and
    must be unique to the process (one per gateway worker)."""

    def __init__(self, sinks: Sequence[AuditSink], *, chain: str) -> None:
        if not sinks:
            raise ValueError("an audit writer needs at least one sink")
        if not chain or any(c.isspace() for c in chain):
            raise ValueError(f"chain name {chain!r} is empty or contains white space")
        self.chain = chain
        self._chain_json = json_text(chain)
        self._sinks = tuple(sinks)
        # Only sinks that can fail after `write` returned need asking on every call.
        self._watched = tuple(s for s in self._sinks if type(s).failure is not AuditSink.failure)
        # Batches of plain values take the one-pass encoder when every sink can store it.
        self._plain = all(
            type(s).write_plain is not AuditSink.write_plain for s in self._sinks
        )
        self._lock = threading.Lock()
        self._failure: str | None = None
        head = self._resume()
        self._seq, self._hash = head.seq, head.hash

    @property
    def head(self) -> ChainHead:
        return ChainHead(self._seq, self._hash)

    @property
    def healthy(self) -> bool:
        return self.failure_reason is None

    @property
    def failure_reason(self) -> str | None:
        if self._failure is None:
            for sink in self._watched:
                found = sink.failure()
                if found is not None:
                    self._failure = found
                    break
        return self._failure

    def write(self, record: AuditRecord) -> ChainedRecord:
        """Chain `record` and write it to every sink; raises AuditSinkError if any sink
        cannot keep it (and from then on)."""
        return self.write_batch((record,))[0]

    def write_batch(self, records: Sequence[AuditRecord]) -> list[ChainedRecord]:
        """Chain `records` in order and write them to every sink, each sink storing the lot
        in one go (one write(2) per log file); raises AuditSinkError if any sink cannot
        keep them (and from then on). A batch one sink failed to keep is still handed to
        every other sink; `webwarden audit verify` tells where it is missing."""
        with self._lock:
            return self._write_records(records)

    def write_values(self, batch: Sequence[RecordFields]) -> None:
        """`write_batch` for records given as plain values (the gateway's audit process):
        encoded for every sink in one pass (audit/plain_batch.py) when every value is of
        the plain type it should be and every sink takes such a batch, else through
        `record_from_fields` and `write_batch`. Raises ValueError or TypeError, before
        anything is written, for values no record may hold; AuditSinkError as
        `write_batch`."""
        with self._lock:
            self._check_healthy()
            if not batch:
                return
            encoded = None
            if self._plain:
                with contextlib.suppress(ValueError, TypeError, OverflowError, OSError):
                    encoded = encode_plain(batch, self.chain, self._seq, self._hash)
            if encoded is None:  # the general path decides, and says why it refuses
                self._write_records([record_from_fields(values) for values in batch])
                return
            self._to_every_sink(lambda sink: sink.write_plain(encoded))
            self._seq, self._hash = encoded.head.seq, encoded.head.hash

    def _check_healthy(self) -> None:
        # Only a failure already seen stops a batch here. One a sink found since (the
        # database thread's) is raised by that sink's own write below, after the sinks
        # before it have kept the batch.
        if self._failure is not None:
            raise AuditSinkError(self._failure)

    def _write_records(self, records: Sequence[AuditRecord]) -> list[ChainedRecord]:
        self._check_healthy()
        if not records:
            return []
        # Encoded once here; every sink builds its line or row from the same pieces.
        chain, chain_json = self.chain, self._chain_json
        seq, prev = self._seq, self._hash
        batch: list[EncodedEntry] = []
        for record in records:
            seq += 1
            encoded = EncodedEntry(record, chain, seq, prev, chain_json)
            prev = encoded.entry.hash
            batch.append(encoded)
        self._to_every_sink(lambda sink: sink.write_batch(batch))
        self._seq, self._hash = seq, prev
        return [encoded.entry for encoded in batch]

    def _to_every_sink(self, write: Callable[[AuditSink], None]) -> None:
        failed: AuditSinkError | None = None
        for sink in self._sinks:
            # A sink that fails does not keep the batch from the others: what they
            # store is not lost (and `verify` names the gap in the failed one).
            try:
                write(sink)
            except AuditSinkError as e:
                failed = failed or e
            except Exception as e:  # a sink bug must not let an unrecorded request pass
                error = AuditSinkError(f"{sink.name}: {type(e).__name__}: {e}")
                error.__cause__ = e
                failed = failed or error
        if failed is not None:
            self._failure = str(failed)
            raise failed

    def flush(self) -> None:
        """Wait until every sink has stored every record written so far."""
        for sink in self._sinks:
            try:
                sink.flush()
            except AuditSinkError as e:
                self._failure = self._failure or str(e)
                raise

    def reopen(self) -> None:
        """Reopen log files after rotation (the gateway calls this on a signal)."""
        with self._lock:
            for sink in self._sinks:
                try:
                    sink.reopen()
                except AuditSinkError as e:
                    self._failure = self._failure or str(e)
                    raise

    def close(self) -> None:
        """Flush and close every sink; the first error is raised after all are closed."""
        first: AuditSinkError | None = None
        for sink in self._sinks:
            try:
                sink.flush()
            except AuditSinkError as e:
                first = first or e
            finally:
                sink.close()
        if first is not None:
            raise first

    def __enter__(self) -> AuditWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _resume(self) -> ChainHead:
        """Continue the chain where the most advanced sink left it, after copying records a
        lagging database missed (a crash between the file write and the database batch)."""
        heads: list[tuple[AuditSink, ChainHead | None]] = [
            (sink, sink.head(self.chain)) for sink in self._sinks
        ]
        known = [(sink, head) for sink, head in heads if head is not None]
        if not known:
            return START
        leader, top = max(known, key=lambda item: item[1].seq)
        for sink, head in known:
            if head.seq == top.seq and head.hash != top.hash:
                raise AuditSinkError(
                    f"chain {self.chain}: {sink.name} and {leader.name} disagree at seq "
                    f"{top.seq}; run `webwarden audit verify` on both before restarting"
                )
        for sink, maybe_head in heads:
            if sink.backfills and (maybe_head is None or maybe_head.seq < top.seq):
                self._backfill(sink, maybe_head or START, leader)
        return top

    def _backfill(self, sink: AuditSink, head: ChainHead, leader: AuditSink) -> None:
        missing = list(leader.entries_after(self.chain, head.seq))
        if missing and missing[0].seq == head.seq + 1 and missing[0].prev == head.hash:
            sink.backfill(missing)
        # Otherwise the leader no longer has what is missing (a rotated file); the gap
        # stays, and `webwarden audit verify` on this sink will name it.
