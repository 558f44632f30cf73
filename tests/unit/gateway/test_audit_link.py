"""From a finished transaction to its audit record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from tests.unit.gateway.harness import RecordingWriter
from webwarden.audit.record import AuditRecord, record_from_fields
from webwarden.gateway.audit_link import AuditTrail, to_fields
from webwarden.model.decision import Decision, Effect, Obligation, RuleRef
from webwarden.model.request import Destination
from webwarden.model.transaction import Outcome, Transaction


def transaction(outcome: Outcome, decision: Decision | None = None) -> Transaction:
    txn = Transaction(id="t-9", at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
                      client_address="127.0.0.1", method="GET")
    txn.destination = Destination("http", "bank.example", 80, "/account?id=42")
    txn.decision = decision
    txn.outcome = outcome
    txn.status = 200
    txn.timings.started, txn.timings.finished = 1.0, 1.25
    txn.bytes.from_client, txn.bytes.to_client = 120, 4000
    return txn


def to_record(txn: Transaction) -> AuditRecord:
    """The record the audit process makes of what the worker sends for `txn`."""
    return record_from_fields(to_fields(txn))


def test_metadata_only_keeps_the_host() -> None:
    decision = Decision("d", Effect.ALLOW, (RuleRef("secure-session-notice", "G6", Effect.NOTICE),),
                        frozenset({Obligation.LOG_METADATA_ONLY}), frozenset({"bank"}), "v",
                        "2013", consents_used=("personal-secure-session:category:bank",))
    record = to_record(transaction(Outcome.FORWARDED, decision))
    assert record.url == "http://bank.example"
    assert record.consent_ids == ("personal-secure-session:category:bank",)
    assert record.duration_ms == 250.0 and record.bytes_out == 4000
    assert record.hierarchy == "-"


def test_decisionless_transactions_are_recorded_as_the_gateways_blocks() -> None:
    txn = transaction(Outcome.INVALID)
    txn.error = "Content-Length is repeated."
    record = to_record(txn)
    assert record.effect == "block" and record.reason == "Content-Length is repeated."
    assert record.decision_id == "t-9"
    local = to_record(transaction(Outcome.CONSENT_RECORDED))
    assert local.effect == "allow"


def test_a_blocking_content_decision_is_the_one_recorded() -> None:
    allow = Decision("d", Effect.ALLOW, (RuleRef("use", "G9", Effect.ALLOW),), frozenset(),
                     frozenset(), "v", "2013")
    block = Decision("d", Effect.BLOCK, (RuleRef("block-risky-downloads", "G5", Effect.BLOCK),),
                     frozenset(), frozenset(), "v", "2013")
    txn = transaction(Outcome.BLOCKED, allow)
    txn.content_decision = block
    assert to_record(txn).rule_ids == ("block-risky-downloads",)
    assert txn.final_decision is block and txn.url == "http://bank.example/account?id=42"


def test_a_failed_write_makes_the_trail_unhealthy() -> None:
    writer = RecordingWriter()
    trail = AuditTrail(writer)
    assert trail.record(transaction(Outcome.FORWARDED))
    writer.fail_with = "JSON lines: disk full"
    assert not trail.record(transaction(Outcome.FORWARDED))
    assert not trail.healthy and trail.failure_reason == "JSON lines: disk full"


def test_a_scheduled_trail_writes_one_batch_per_window() -> None:
    writer = RecordingWriter()
    scheduled: list[Callable[[], None]] = []
    trail = AuditTrail(writer, schedule=scheduled.append)
    assert trail.record(transaction(Outcome.FORWARDED))
    assert trail.record(transaction(Outcome.BLOCKED))
    assert writer.records == [] and len(scheduled) == 1  # one write for the window
    scheduled.pop()()
    assert [r.decision_id for r in writer.records] == ["t-9", "t-9"]
    assert writer.batches == [2]
    trail.record(transaction(Outcome.FORWARDED))
    assert len(scheduled) == 1
    assert trail.flush()  # shutting down: what is queued is written now
    assert writer.batches == [2, 1]


def test_a_failed_batch_is_reported_with_the_records_lost() -> None:
    writer = RecordingWriter()
    scheduled: list[Callable[[], None]] = []
    trail = AuditTrail(writer, schedule=scheduled.append)
    lost: list[tuple[str, int]] = []
    trail.on_failure = lambda reason, count: lost.append((reason, count))
    for _ in range(3):
        trail.record(transaction(Outcome.FORWARDED))
    writer.fail_with = "access log: disk full"
    scheduled.pop()()
    assert lost == [("access log: disk full", 3)]
    assert not trail.healthy and trail.failure_reason == "access log: disk full"
    assert not trail.record(transaction(Outcome.FORWARDED))  # refused at once from now on
    assert lost[-1] == ("access log: disk full", 1) and scheduled == []


def test_a_full_batch_is_written_without_waiting() -> None:
    writer = RecordingWriter()
    scheduled: list[Callable[[], None]] = []
    trail = AuditTrail(writer, schedule=scheduled.append, max_records=3)
    for _ in range(7):
        trail.record(transaction(Outcome.FORWARDED))
    assert writer.batches == [3, 3]
    scheduled.pop(0)()  # the window of the first batch ends: the seventh record goes
    assert writer.batches == [3, 3, 1]
    assert scheduled == []  # the full batches did not schedule writes of their own


def test_refused_credentials_are_recorded_with_the_name_tried() -> None:
    txn = transaction(Outcome.AUTH_REQUIRED)
    txn.attempted_user = "pc1001\nforged line"
    record = to_record(txn)
    assert record.person is None  # a claim, not an identity
    assert record.reason == "auth-required; credentials refused for user 'pc1001\\nforged line'"
