"""The database sink: audit records as rows, inserted in batches off the event loop.

Trade-off (docs/decisions/0003-audit-chain.md): `write` only queues the record; a
background thread inserts what has queued up in one transaction. An insert that fails
puts the sink in a failed state that the writer reports on its next call and through
`AuditWriter.healthy`, so at most the records of the batch in flight are missing from the
database when the gateway stops forwarding; they are in the JSON lines file, which is
written first, and the next start copies them over (`backfill`). A queue that stays full
for `put_timeout` seconds (the database is not keeping up) is a failure too.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from webwarden.audit.chain import ChainedRecord, ChainHead
from webwarden.audit.record import AuditRecord
from webwarden.audit.sink import AuditSink, AuditSinkError
from webwarden.store import audit_log

_STOP = object()


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


class DatabaseSink(AuditSink):
    """Audit rows in the database. `background=False` inserts each record before `write`
    returns (for tools and tests; the gateway uses the background thread)."""

    backfills = True

    def __init__(
        self,
        engine: Engine,
        *,
        background: bool = True,
        batch_size: int = 128,
        queue_size: int = 10_000,
        put_timeout: float = 2.0,
    ) -> None:
        self.name = f"database {engine.url!r}"
        self._engine = engine
        self._batch_size = batch_size
        self._put_timeout = put_timeout
        self._error: str | None = None
        self._closed = False
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
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
        if self._error is not None:
            raise AuditSinkError(self._error)
        if self._closed:
            raise AuditSinkError(f"{self.name}: closed")
        if self._thread is None:
            self._insert([entry])
            if self._error is not None:
                raise AuditSinkError(self._error)
            return
        try:
            self._queue.put(entry, timeout=self._put_timeout)
        except queue.Full as e:
            self._error = (
                f"{self.name}: {self._queue.qsize()} records waiting for "
                f"{self._put_timeout:g} s; the database is not keeping up"
            )
            raise AuditSinkError(self._error) from e

    def failure(self) -> str | None:
        return self._error

    def flush(self) -> None:
        if self._thread is not None:
            self._queue.join()
        if self._error is not None:
            raise AuditSinkError(self._error)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()

    def _insert(self, entries: list[ChainedRecord]) -> None:
        if self._error is not None or not entries:
            return
        try:
            audit_log.insert_rows(self._engine, [entry_to_row(e) for e in entries])
        except Exception as e:  # any failure must surface, whatever raised it
            self._error = (
                f"{self.name}: cannot store records {entries[0].seq}..{entries[-1].seq} "
                f"of chain {entries[0].chain}: {describe_db_error(e)}"
            )

    def _insert_loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._batch_size:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._insert([item for item in batch if item is not _STOP])
            for _ in batch:
                self._queue.task_done()
            if any(item is _STOP for item in batch):
                return
