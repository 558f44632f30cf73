"""Prometheus metrics of the gateway.

Every worker process updates its own values; with prometheus_client's multiprocess mode
(the supervisor sets PROMETHEUS_MULTIPROC_DIR before it starts the workers) the values live
in memory-mapped files that the admin server in the supervisor sums across workers, so
/metrics always covers every worker.

Per request, the counts are only added up in plain Python dictionaries; `flush` (once a
second, from the worker's tick, and at shutdown) hands the sums to prometheus_client. A
memory-mapped update costs about a microsecond and a request would make half a dozen, so
this keeps the hot path cheap; scrapes lag by at most a second.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.registry import CollectorRegistry

from webwarden.model.decision import Effect
from webwarden.model.transaction import Transaction

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                   5.0, 10.0, 30.0, 60.0)


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        reg = registry if registry is not None else REGISTRY
        self.requests = Counter(
            "webwarden_requests", "Transactions by effect and outcome.",
            ["effect", "outcome"], registry=reg,
        )
        self.requests_by_category = Counter(
            "webwarden_requests_by_category", "Decided transactions by category and effect.",
            ["category", "effect"], registry=reg,
        )
        self.latency = Histogram(
            "webwarden_request_duration_seconds",
            "Time from the request head to the end of the response.",
            buckets=LATENCY_BUCKETS, registry=reg,
        )
        self.bytes = Counter(
            "webwarden_bytes", "Bytes to and from clients.", ["direction"], registry=reg
        )
        self.open_connections = Gauge(
            "webwarden_open_connections", "Client connections open now.",
            multiprocess_mode="livesum", registry=reg,
        )
        self.reloads = Counter(
            "webwarden_reloads", "Configuration reloads by result.", ["result"], registry=reg
        )
        self.sink_errors = Counter(
            "webwarden_audit_sink_errors", "Audit records that could not be written.",
            registry=reg,
        )
        self.audit_healthy = Gauge(
            "webwarden_audit_healthy", "1 while the audit trail is healthy, else 0.",
            multiprocess_mode="livemin", registry=reg,
        )
        self.audit_healthy.set(1)
        self._by_outcome: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._by_category: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._bytes_in = 0
        self._bytes_out = 0
        self._latency_counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self._latency_sum = 0.0
        self._connections = 0

    def observe(self, txn: Transaction) -> None:
        """Count a finished transaction (cheap: plain additions until the next flush)."""
        content = txn.content_decision
        decision = (
            content if content is not None and content.effect is Effect.BLOCK else txn.decision
        )
        # Enum members are the keys (StrEnum: a member is its value as a string); `.value`
        # costs a property lookup per call.
        effect: str = decision.effect if decision is not None else "none"
        outcome: str = txn.outcome if txn.outcome is not None else "none"
        self._by_outcome[(effect, outcome)] += 1
        if decision is not None:
            by_category = self._by_category
            if decision.categories:
                for category in decision.categories:
                    by_category[(category, effect)] += 1
            else:
                by_category[("none", effect)] += 1
        timings = txn.timings
        duration = max(timings.finished - timings.started, 0.0) if timings.finished else 0.0
        self._latency_counts[bisect_left(LATENCY_BUCKETS, duration)] += 1
        self._latency_sum += duration
        counts = txn.bytes
        self._bytes_in += counts.from_client
        self._bytes_out += counts.to_client

    def connection_opened(self) -> None:
        self._connections += 1

    def connection_closed(self) -> None:
        self._connections -= 1

    def flush(self) -> None:
        """Hand the sums since the last flush to prometheus_client."""
        for (effect, outcome), n in self._by_outcome.items():
            self.requests.labels(str(effect), str(outcome)).inc(n)
        self._by_outcome.clear()
        for (category, effect), n in self._by_category.items():
            self.requests_by_category.labels(category, str(effect)).inc(n)
        self._by_category.clear()
        if self._bytes_in:
            self.bytes.labels("from_client").inc(self._bytes_in)
        if self._bytes_out:
            self.bytes.labels("to_client").inc(self._bytes_out)
        self._bytes_in = self._bytes_out = 0
        counts = self._latency_counts
        if any(counts):
            # The histogram's own values (pinned prometheus-client): one update per bucket
            # per flush instead of two per request. The last slot (over the largest bound)
            # is the +Inf bucket.
            for i, n in enumerate(counts):
                if n:
                    self.latency._buckets[i].inc(n)
            self.latency._sum.inc(self._latency_sum)
            self._latency_counts = [0] * len(counts)
            self._latency_sum = 0.0
        self.open_connections.set(self._connections)

    def reloaded(self, ok: bool) -> None:
        self.reloads.labels("ok" if ok else "refused").inc()

    def audit_failed(self, records: int = 1) -> None:
        """`records` transactions' records could not be written."""
        self.sink_errors.inc(records)
        self.audit_healthy.set(0)
