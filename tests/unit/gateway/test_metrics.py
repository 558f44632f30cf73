"""Metrics are summed per request and flushed: the exposition is what direct updates give."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest

from webwarden.gateway.metrics import GatewayMetrics
from webwarden.model.decision import Decision, Effect
from webwarden.model.transaction import Outcome, Transaction


def finished(duration: float, effect: Effect, categories: frozenset[str]) -> Transaction:
    txn = Transaction(id="t", at=datetime.now(UTC), client_address="127.0.0.1")
    txn.decision = Decision("d", effect, (), frozenset(), categories, "v", "r")
    txn.outcome = Outcome.FORWARDED
    txn.timings.started = 0.0
    txn.timings.finished = duration
    txn.bytes.from_client = 100
    txn.bytes.to_client = 1000
    return txn


def test_flush_gives_the_same_numbers_as_direct_updates() -> None:
    registry = CollectorRegistry()
    metrics = GatewayMetrics(registry)
    durations = [0.0001, 0.0005, 0.003, 0.2, 99.0]
    for d in durations:
        metrics.observe(finished(d, Effect.ALLOW, frozenset({"news", "press"})))
    metrics.observe(finished(0.01, Effect.BLOCK, frozenset()))
    metrics.connection_opened()
    assert registry.get_sample_value("webwarden_requests_total",
                                     {"effect": "allow", "outcome": "forwarded"}) is None
    metrics.flush()
    value = registry.get_sample_value
    assert value("webwarden_requests_total", {"effect": "allow", "outcome": "forwarded"}) == 5
    assert value("webwarden_requests_by_category_total",
                 {"category": "press", "effect": "allow"}) == 5
    assert value("webwarden_requests_by_category_total",
                 {"category": "none", "effect": "block"}) == 1
    assert value("webwarden_bytes_total", {"direction": "to_client"}) == 6000
    assert value("webwarden_open_connections") == 1

    reference = CollectorRegistry()
    from prometheus_client import Histogram

    from webwarden.gateway.metrics import LATENCY_BUCKETS

    direct = Histogram("webwarden_request_duration_seconds", "x", buckets=LATENCY_BUCKETS,
                       registry=reference)
    for d in [*durations, 0.01]:
        direct.observe(d)

    def histogram_lines(reg: CollectorRegistry) -> list[str]:
        return [line for line in generate_latest(reg).decode().splitlines()
                if line.startswith("webwarden_request_duration_seconds_")
                and "_created" not in line]

    assert histogram_lines(registry) == histogram_lines(reference)
