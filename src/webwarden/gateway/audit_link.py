"""From a finished transaction to the audit trail (G4, G8), and what a failure means.

The record is written when the transaction ends, with its final status, byte counts and
duration. The boundary (docs/gateway.md, "Audit"): a request is forwarded only while the
trail is healthy; its record is written when it ends; if that write fails, the failure is
logged and shown on /healthz, and no further request is forwarded by this worker.
"""

from __future__ import annotations

import logging
from typing import Protocol

from webwarden.audit.record import NO_UPSTREAM, AuditRecord
from webwarden.audit.sink import AuditSinkError
from webwarden.model.decision import Decision, Effect, Obligation
from webwarden.model.transaction import Outcome, Transaction

log = logging.getLogger("webwarden.gateway")


class RecordWriter(Protocol):
    @property
    def healthy(self) -> bool: ...

    @property
    def failure_reason(self) -> str | None: ...

    def write(self, record: AuditRecord) -> object: ...


_NO_REASON = frozenset({Outcome.FORWARDED, Outcome.TUNNELLED})


def deciding_decision(txn: Transaction) -> Decision | None:
    """The decision the record shows: a blocking content decision, else the request one."""
    content = txn.content_decision
    if content is not None and content.effect is Effect.BLOCK:
        return content
    return txn.decision


def to_record(txn: Transaction) -> AuditRecord:
    decision = deciding_decision(txn)
    timings = txn.timings
    duration_ms = max(0.0, timings.finished - timings.started) * 1000.0 if timings.finished else 0.0
    person = txn.principal.id if txn.principal is not None else None
    hierarchy = txn.upstream_address or NO_UPSTREAM
    reason = txn.error
    outcome = txn.outcome
    if not reason and outcome is not None and outcome not in _NO_REASON:
        reason = str(outcome)
    url = txn.url or "error:invalid-request"
    if decision is None:
        # Refused before any policy decision (malformed request, closed port, audit down):
        # recorded as a block by the gateway itself, with the reason. The gateway's own
        # pages (notice acceptance) forward nothing and are recorded as allowed.
        own_page = outcome in (Outcome.LOCAL, Outcome.CONSENT_RECORDED)
        return AuditRecord(
            time=txn.at,
            client=txn.client_address,
            device=txn.device.id,
            method=txn.method or "-",
            url=url,
            effect=Effect.ALLOW.value if own_page else Effect.BLOCK.value,
            status=txn.status,
            person=person,
            categories=tuple(txn.categories),
            decision_id=txn.id,
            bytes_in=txn.bytes.from_client,
            bytes_out=txn.bytes.to_client,
            duration_ms=duration_ms,
            hierarchy=hierarchy,
            content_type=txn.response_type,
            reason=reason or "refused by the gateway",
        )
    record = AuditRecord.from_decision(
        decision,
        time=txn.at,
        client=txn.client_address,
        device=txn.device.id,
        method=txn.method,
        url=url,
        status=txn.status,
        person=person,
        bytes_in=txn.bytes.from_client,
        bytes_out=txn.bytes.to_client,
        duration_ms=duration_ms,
        hierarchy=hierarchy,
        content_type=txn.response_type,
        reason=reason,
    )
    return record


class AuditTrail:
    """The gateway's side of the audit writer: records transactions, remembers failure."""

    def __init__(self, writer: RecordWriter) -> None:
        self._writer = writer
        self._failure: str | None = None

    @property
    def healthy(self) -> bool:
        return self._failure is None and self._writer.healthy

    @property
    def failure_reason(self) -> str | None:
        return self._failure or self._writer.failure_reason

    def record(self, txn: Transaction) -> bool:
        """Write the transaction's record; False (and unhealthy from now on) if it failed."""
        try:
            self._writer.write(to_record(txn))
        except AuditSinkError as exc:
            if self._failure is None:
                log.error("audit trail failed, forwarding stops: %s", exc)
            self._failure = str(exc)
            return False
        except ValueError as exc:  # a record the schema refuses is a bug: fail closed
            self._failure = f"audit record refused: {exc}"
            log.error("audit trail failed, forwarding stops: %s", self._failure)
            return False
        return True


def metadata_only(decision: Decision | None) -> bool:
    return decision is not None and Obligation.LOG_METADATA_ONLY in decision.obligations
