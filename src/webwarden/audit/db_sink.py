"""The database sink: audit records as rows, inserted in batches off the event loop.

Trade-off (docs/decisions/0003-audit-chain.md): `write` only queues the record; a
background thread inserts what has queued up, a batch per transaction, a batch being what
gathers in a quarter of a second (at most 2,048 rows by default). An insert that fails
puts the sink in a failed state that the writer reports on its next call and through
`AuditWriter.healthy`, so at most the records of the batch in flight are missing from the
database when the gateway stops forwarding; they are in the JSON lines file, which is
written first, and the next start copies them over (`backfill`). A queue that stays full
for `put_timeout` seconds (the database is not keeping up) is a failure too.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from webwarden.audit.chain import ChainedRecord, ChainHead, EncodedEntry
from webwarden.audit.record import AuditRecord
from webwarden.audit.sink import AuditSink, AuditSinkError
from webwarden.store import audit_log

if TYPE_CHECKING:
    from webwarden.audit.plain_batch import EncodedBatch


def entry_to_row(entry: ChainedRecord) -> audit_log.Row:
    r = entry.record
    return {
        "chain": entry.chain,
        "seq": entry.seq,
        "prev": entry.prev,
        "hash": entry.hash,
        "time": r.time,
        "person": r.person,
        "device": r.device,
        "client": r.client,
        "method": r.method,
        "url": r.url,
        "categories": list(r.categories),
        "effect": r.effect,
        "rule_ids": list(r.rule_ids),
        "decision_id": r.decision_id,
        "policy_version": r.policy_version,
        "status": r.status,
        "bytes_in": r.bytes_in,
        "bytes_out": r.bytes_out,
        "duration_ms": r.duration_ms,
        "grant_ids": list(r.grant_ids),
        "consent_ids": list(r.consent_ids),
        "hierarchy": r.hierarchy,
        "content_type": r.content_type,
        "reason": r.reason,
    }


def row_to_entry(row: audit_log.Row) -> ChainedRecord:
    values = dict(row)
    chain, seq, prev, hash_ = (values.pop(k) for k in ("chain", "seq", "prev", "hash"))
    for name in ("categories", "rule_ids", "grant_ids", "consent_ids"):
        values[name] = tuple(values[name])
    return ChainedRecord(AuditRecord(**values), chain, int(seq), prev, hash_)


def describe_db_error(error: Exception) -> str:
    if isinstance(error, IntegrityError):
        return (
            "a record with this chain and sequence number is already stored "
            "(another process is writing the same chain)"
        )
    if isinstance(error, DBAPIError):
        return str(error.orig).strip() or type(error.orig).__name__
    return str(error).strip() or type(error).__name__


_CHAIN = audit_log.RAW_COLUMNS.index("chain")
_SEQ = audit_log.RAW_COLUMNS.index("seq")


def raw_row(encoded: EncodedEntry) -> audit_log.RawRow:
    """The row as the database stores it (store.audit_log.RAW_COLUMNS), from the fields the
    writer encoded anyway: the time text and the JSON lists are reused, not redone."""
    entry, j = encoded.entry, encoded.json
    r = entry.record
    # j.time is "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC); the row wants audit_log.raw_time's
    # "YYYY-MM-DD HH:MM:SS.ffffff".
    time = f"{j.time[:10]} {j.time[11:26]}"
    return (
        entry.chain, entry.seq, entry.prev, entry.hash, time, r.person, r.device, r.client,
        r.method, r.url, j.categories, r.effect, j.rule_ids, r.decision_id, r.policy_version,
        r.status, r.bytes_in, r.bytes_out, r.duration_ms, j.grant_ids, j.consent_ids,
        r.hierarchy, r.content_type, r.reason,
    )  # fmt: skip


class DatabaseSink(AuditSink):
    """Audit rows in the database. `background=False` inserts in the caller's thread:
    each batch before `write_batch` returns, or, with `defer` seconds, once rows have
    waited that long (or `batch_size` are waiting), at a later `write_batch` or `flush`
    (the gateway's audit processes: one large transaction costs SQLite far less per row
    than many small ones, and no second thread competes for the interpreter lock).

    With the thread, `write` appends the row to a deque and wakes the thread only when it
    is idle; the thread waits up to `linger` seconds for more rows (or until `batch_size`
    are waiting, or someone flushes), then inserts everything waiting, `batch_size` rows
    per transaction. A transaction per handful of rows would cost SQLite more than the
    rows themselves. `write` is called from one thread at a time (the writer's lock).
    """

    backfills = True

    def __init__(
        self,
        engine: Engine,
        *,
        background: bool = True,
        batch_size: int = 2048,
        queue_size: int = 10_000,
        put_timeout: float = 2.0,
        linger: float = 0.25,
        defer: float = 0.0,
    ) -> None:
        if batch_size < 1 or queue_size < 1:
            raise ValueError("batch_size and queue_size must be at least 1")
        if defer and background:
            raise ValueError("defer is for inserting without the background thread")
        self.name = f"database {engine.url!r}"
        self._engine = engine
        self._batch_size = batch_size
        self._queue_size = queue_size
        self._put_timeout = put_timeout
        self._linger = linger
        self._defer = defer
        self._deferred: list[audit_log.RawRow] = []
        self._deferred_since = 0.0
        self._error: str | None = None
        self._closed = False
        # Rows waiting for the thread. The writer appends, the thread pops; a deque does
        # both without a lock. Counts tell flush when everything handed over is stored.
        self._pending: deque[audit_log.RawRow] = deque()
        self._handed_over = 0
        self._done = 0  # stored, or given up on after a failure
        self._wake = threading.Event()  # rows are waiting (set by write when idle)
        self._hurry = threading.Event()  # stop lingering: full batch, flush or close
        self._progress = threading.Condition()  # the thread finished a batch
        self._stopping = False
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(
                target=self._insert_loop, name="audit-db-sink", daemon=True
            )
            self._thread.start()

    def head(self, chain: str) -> ChainHead | None:
        try:
            found = audit_log.chain_head(self._engine, chain)
        except SQLAlchemyError as e:
            raise AuditSinkError(f"{self.name}: cannot read: {describe_db_error(e)}") from e
        return ChainHead(*found) if found else None

    def entries_after(self, chain: str, seq: int) -> Iterator[ChainedRecord]:
        return (row_to_entry(row) for row in audit_log.chain_rows(self._engine, chain, seq))

    def backfill(self, entries: Iterable[ChainedRecord]) -> None:
        batch: list[audit_log.Row] = []
        try:
            for entry in entries:
                batch.append(entry_to_row(entry))
                if len(batch) >= self._batch_size:
                    audit_log.insert_rows(self._engine, batch)
                    batch = []
            audit_log.insert_rows(self._engine, batch)
        except SQLAlchemyError as e:
            raise AuditSinkError(f"{self.name}: cannot catch up: {describe_db_error(e)}") from e

    def write(self, entry: ChainedRecord) -> None:
        self.write_encoded(EncodedEntry.of(entry))

    def write_encoded(self, encoded: EncodedEntry) -> None:
        self.write_batch((encoded,))

    def write_batch(self, batch: Sequence[EncodedEntry]) -> None:
        self._store([raw_row(encoded) for encoded in batch])

    def write_plain(self, batch: EncodedBatch) -> None:
        self._store(batch.rows)

    def _store(self, rows: list[audit_log.RawRow]) -> None:
        if self._error is not None:
            raise AuditSinkError(self._error)
        if self._closed:
            raise AuditSinkError(f"{self.name}: closed")
        if self._thread is None:
            if self._defer:
                self._defer_rows(rows)
            else:
                self._insert(rows)
            if self._error is not None:
                raise AuditSinkError(self._error)
            return
        pending = self._pending
        if len(pending) + len(rows) > self._queue_size:
            self._wait_for_room()
        pending.extend(rows)
        self._handed_over += len(rows)
        if not self._wake.is_set():
            self._wake.set()
        if len(pending) >= self._batch_size and not self._hurry.is_set():
            self._hurry.set()

    def _defer_rows(self, rows: list[audit_log.RawRow]) -> None:
        deferred = self._deferred
        if not deferred:
            self._deferred_since = time.monotonic()
        deferred.extend(rows)
        if (
            len(deferred) >= self._batch_size
            or time.monotonic() - self._deferred_since >= self._defer
        ):
            self._insert_deferred()

    def _insert_deferred(self) -> None:
        rows, self._deferred = self._deferred, []
        for start in range(0, len(rows), self._batch_size):
            self._insert(rows[start : start + self._batch_size])

    def _wait_for_room(self) -> None:
        self._hurry.set()
        with self._progress:
            room = self._progress.wait_for(
                lambda: len(self._pending) < self._queue_size or self._error is not None,
                timeout=self._put_timeout,
            )
        if self._error is not None:
            raise AuditSinkError(self._error)
        if not room:
            self._error = (
                f"{self.name}: {len(self._pending)} records waiting for "
                f"{self._put_timeout:g} s; the database is not keeping up"
            )
            raise AuditSinkError(self._error)

    def failure(self) -> str | None:
        return self._error

    def flush(self) -> None:
        if self._deferred:
            self._insert_deferred()
        if self._thread is not None:
            target = self._handed_over
            self._hurry.set()
            self._wake.set()
            with self._progress:
                # Rechecked every second as well, should the thread have died.
                while not self._progress.wait_for(
                    lambda: self._done >= target or not self._thread_alive(), timeout=1.0
                ):
                    pass
        if self._error is not None:
            raise AuditSinkError(self._error)

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._deferred:
            self._insert_deferred()
        if self._thread is not None:
            self._stopping = True
            self._hurry.set()
            self._wake.set()
            self._thread.join()

    def _insert(self, rows: list[audit_log.RawRow]) -> None:
        if self._error is not None or not rows:
            return
        try:
            audit_log.insert_raw_rows(self._engine, rows)
        except Exception as e:  # any failure must surface, whatever raised it
            self._error = (
                f"{self.name}: cannot store records {rows[0][_SEQ]}..{rows[-1][_SEQ]} "
                f"of chain {rows[0][_CHAIN]}: {describe_db_error(e)}"
            )

    def _insert_loop(self) -> None:
        pending, wake, hurry = self._pending, self._wake, self._hurry
        while True:
            wake.wait()
            if not self._stopping and self._linger > 0:
                hurry.wait(self._linger)  # let a batch gather
            # Clear before looking: a row appended after this point sets them again.
            wake.clear()
            hurry.clear()
            # What is waiting now; rows that come in meanwhile gather for the next round
            # (a trickle of tiny transactions would cost more than it saves in delay).
            waiting = len(pending)
            while waiting:
                size = min(waiting, self._batch_size)
                batch = [pending.popleft() for _ in range(size)]
                waiting -= size
                self._insert(batch)
                with self._progress:
                    self._done += size
                    self._progress.notify_all()
            if self._stopping and not pending:
                return
