"""From a finished transaction to the audit trail (G4, G8), and what a failure means.

The record's values are taken when the transaction ends, with its final status, byte
counts and duration, and handed to the worker's audit process (gateway/audit_client.py)
with the others that ended within the same few milliseconds, which builds, chains and
writes them. The boundary (docs/gateway.md, "Audit"): a request is forwarded only while
the trail is healthy; its record is handed over within `BATCH_SECONDS` of its end; if it
cannot be kept, the failure is logged and shown on /healthz, and no further request is
forwarded by this worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from webwarden.audit.record import NO_UPSTREAM, RecordFields, epoch_us
from webwarden.audit.sink import AuditSinkError
from webwarden.model.decision import Decision, Effect, Obligation
from webwarden.model.transaction import Outcome, Transaction

log = logging.getLogger("webwarden.gateway")


class RecordWriter(Protocol):
    @property
    def healthy(self) -> bool: ...

    @property
    def failure_reason(self) -> str | None: ...

    def write_batch(self, records: Sequence[RecordFields]) -> object: ...


_NO_REASON = frozenset({Outcome.FORWARDED, Outcome.TUNNELLED})

# How long a record may wait for others to share its write, and how many may wait. Under
# load a batch per turn of the event loop is often a batch of one; a few milliseconds
# gather tens of records (bench/README.md, Gateway). A worker that crashes loses at most
# this window's records; a clean shutdown writes them.
BATCH_SECONDS = 0.005
BATCH_RECORDS = 512


def deciding_decision(txn: Transaction) -> Decision | None:
    """The decision the record shows: a blocking content decision, else the request one."""
    content = txn.content_decision
    if content is not None and content.effect is Effect.BLOCK:
        return content
    return txn.decision


_ALLOW = Effect.ALLOW.value
_BLOCK = Effect.BLOCK.value


def to_fields(txn: Transaction) -> RecordFields:
    """The transaction's record as plain values (audit.record.RecordFields): cheap to make
    and to send; the audit process builds and checks the record itself."""
    decision = deciding_decision(txn)
    timings = txn.timings
    duration_ms = max(0.0, timings.finished - timings.started) * 1000.0 if timings.finished else 0.0
    person = txn.principal.id if txn.principal is not None else None
    hierarchy = txn.upstream_address or NO_UPSTREAM
    reason = txn.error
    outcome = txn.outcome
    if not reason and outcome is not None and outcome not in _NO_REASON:
        reason = str(outcome)
    if txn.attempted_user is not None and person is None:
        # The name is the client's claim, not an identity: it goes in the reason (repr
        # escapes whatever it holds), never in the person field.
        refused = f"credentials refused for user {txn.attempted_user!r}"
        reason = f"{reason}; {refused}" if reason else refused
    url = txn.url or "error:invalid-request"
    bytes_ = txn.bytes
    if decision is None:
        # Refused before any policy decision (malformed request, closed port, audit down):
        # recorded as a block by the gateway itself, with the reason. The gateway's own
        # pages (notice acceptance) forward nothing and are recorded as allowed.
        own_page = outcome in (Outcome.LOCAL, Outcome.CONSENT_RECORDED)
        return (
            epoch_us(txn.at), txn.client_address, txn.device.id, txn.method or "-", url,
            _ALLOW if own_page else _BLOCK, txn.status, person, tuple(txn.categories), (),
            txn.id, "", bytes_.from_client, bytes_.to_client, duration_ms, (), (), hierarchy,
            txn.response_type, reason or "refused by the gateway", txn.metadata_only,
        )  # fmt: skip
    return (
        epoch_us(txn.at), txn.client_address, txn.device.id, txn.method, url,
        decision.effect.value, txn.status, person, tuple(decision.categories),
        decision.rule_ids, decision.id, decision.policy_version, bytes_.from_client,
        bytes_.to_client, duration_ms, decision.grants_used, decision.consents_used,
        hierarchy, txn.response_type, reason,
        txn.metadata_only or Obligation.LOG_METADATA_ONLY in decision.obligations,
    )  # fmt: skip


class AuditTrail:
    """The gateway's side of the audit writer: records transactions, remembers failure.

    With `schedule` (the event loop's `call_later` bound to `BATCH_SECONDS`), `record`
    only queues the record and the first record of a batch schedules its write: every
    transaction that ends meanwhile shares it, up to `max_records`, which are written at
    once. Without it, each record is written at once. `on_failure(reason, lost)` is told
    whenever records could not be written.
    """

    def __init__(
        self,
        writer: RecordWriter,
        *,
        schedule: Callable[[Callable[[], None]], object] | None = None,
        max_records: int = BATCH_RECORDS,
    ) -> None:
        self._writer = writer
        self._schedule = schedule
        self._max_records = max_records
        self._scheduled = False
        self._pending: list[RecordFields] = []
        self._failure: str | None = None
        self.on_failure: Callable[[str, int], None] | None = None

    @property
    def healthy(self) -> bool:
        return self._failure is None and self._writer.healthy

    @property
    def failure_reason(self) -> str | None:
        return self._failure or self._writer.failure_reason

    def record(self, txn: Transaction) -> bool:
        """Queue (or write) the transaction's record; False, and unhealthy from now on, if
        it cannot be kept."""
        if self._failure is not None:
            self._lost(self._failure, 1)
            return False
        pending = self._pending
        pending.append(to_fields(txn))
        if self._schedule is None or len(pending) >= self._max_records:
            return self.flush()
        if not self._scheduled:
            self._scheduled = True
            self._schedule(self._flush_soon)
        return True

    def flush(self) -> bool:
        """Write what is queued now; False if it could not be written."""
        records, self._pending = self._pending, []
        if not records:
            return self._failure is None
        if self._failure is not None:
            self._lost(self._failure, len(records))
            return False
        try:
            self._writer.write_batch(records)
        except AuditSinkError as exc:
            self._fail(str(exc), len(records))
            return False
        return True

    def _flush_soon(self) -> None:
        self._scheduled = False
        self.flush()

    def writer_failed(self, reason: str, lost: int) -> None:
        """The writer found out later that records were lost (its process failed)."""
        self._fail(reason, lost)

    def _fail(self, reason: str, lost: int) -> None:
        if self._failure is None:
            log.error("audit trail failed, forwarding stops: %s", reason)
            self._failure = reason
        self._lost(self._failure, lost)

    def _lost(self, reason: str, lost: int) -> None:
        if self.on_failure is not None:
            self.on_failure(reason, lost)


def metadata_only(decision: Decision | None) -> bool:
    return decision is not None and Obligation.LOG_METADATA_ONLY in decision.obligations
