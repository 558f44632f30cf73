"""What every connection of one worker process shares: the snapshot in force, the upstream
pool, the address guard, the audit trail, metrics, pages and the clock."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from webwarden.gateway.addresses import DestinationGuard
from webwarden.gateway.audit_link import AuditTrail
from webwarden.gateway.config import GatewayConfig
from webwarden.gateway.connect import Connector, SocketConnector
from webwarden.gateway.consent_token import ConsentTokens
from webwarden.gateway.consents import ConsentBook
from webwarden.gateway.metrics import GatewayMetrics
from webwarden.gateway.pages import Pages
from webwarden.gateway.resolver import Resolver
from webwarden.gateway.upstream import UpstreamPool
from webwarden.inspection.dlp import DlpRules
from webwarden.model.transaction import Transaction
from webwarden.pipeline import Devices, Snapshot

if TYPE_CHECKING:
    from webwarden.gateway.interceptor import Interceptor
    from webwarden.gateway.proxy import ProxyConnection

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if not n:
            return out


class WorkerContext:
    """Shared state of one worker. `snapshot` is replaced whole on reload; a transaction
    keeps the snapshot it started with."""

    def __init__(
        self,
        config: GatewayConfig,
        snapshot: Snapshot,
        *,
        audit: AuditTrail,
        consents: ConsentBook | None,
        tokens: ConsentTokens,
        metrics: GatewayMetrics | None,
        guard: DestinationGuard,
        worker_index: int = 0,
        interceptor: Interceptor | None = None,
        static_hosts: dict[str, tuple[str, ...]] | None = None,
        dlp: DlpRules | None = None,
    ) -> None:
        self.config = config
        self.snapshot = snapshot
        self.audit = audit
        self.consents = consents
        self.tokens = tokens
        self.metrics = metrics
        self.guard = guard
        self.interceptor = interceptor  # None: tunnels are never decrypted
        self.dlp = dlp if dlp is not None else DlpRules.default()  # what uploads are read for
        # The covert profile's fixed fields (W3), as the head builder wants them.
        self.covert_user_agent = config.covert_user_agent.encode("ascii")
        self.covert_accept_language = config.covert_accept_language.encode("ascii")
        self.resolver = Resolver(guard, static=static_hosts)
        # The seams tests replace: the way to the network, and the clock deadlines and
        # timings read (monotonic seconds).
        self.connector: Connector = SocketConnector(self.resolver, config.timeouts.connect)
        self.clock: Callable[[], float] = time.monotonic
        self.pool = UpstreamPool()
        self.devices = Devices()
        self.pages = Pages()
        self.connections: set[ProxyConnection] = set()
        self.draining = False
        self.request_access_url = config.effective_request_access_url()
        self.pac_url = config.admin_url() + "/proxy.pac"
        self.pages_origin = "http://webwarden.invalid"
        self._ids = itertools.count(1)
        # Decision ids: start time and pid make them unique across workers and restarts.
        self._id_prefix = f"{_base36(int(time.time()))}{_base36(os.getpid())}{worker_index}-"
        self.on_audit_failure: Callable[[str], None] | None = None
        audit.on_failure = self._audit_failed

    def next_id(self) -> str:
        return f"{self._id_prefix}{next(self._ids):x}"

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    def finish(self, txn: Transaction) -> None:
        """A transaction is over: its audit record, then its metrics."""
        self.audit.record(txn)
        if self.metrics is not None:
            self.metrics.observe(txn)

    def _audit_failed(self, reason: str, lost: int) -> None:
        if self.metrics is not None:
            self.metrics.audit_failed(lost)
        if self.on_audit_failure is not None:
            self.on_audit_failure(reason)
