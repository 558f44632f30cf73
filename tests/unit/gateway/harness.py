"""Driving a ProxyConnection without sockets: fake transports record what is written, a
pooled upstream connection is fed the origin's bytes by the test (a transcript)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from tests.conftest import UT1_NAMES
from webwarden.audit.record import AuditRecord, RecordFields, record_from_fields
from webwarden.gateway.addresses import DestinationGuard, parse_networks
from webwarden.gateway.audit_link import AuditTrail
from webwarden.gateway.config import GatewayConfig
from webwarden.gateway.consent_token import ConsentTokens
from webwarden.gateway.context import WorkerContext
from webwarden.gateway.metrics import GatewayMetrics
from webwarden.gateway.proxy import ProxyConnection
from webwarden.gateway.upstream import UpstreamConnection
from webwarden.identity.directory import load_directory
from webwarden.identity.shipped import demo_directory_path
from webwarden.pipeline import Snapshot
from webwarden.policy.load import load_policy_set
from webwarden.policy.shipped import default_policy_paths


class FakeTransport:
    """Enough of asyncio.Transport for the proxy: writes are kept, closing is noted."""

    def __init__(self, peer: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.written = bytearray()
        self.writes = 0  # write and writelines calls: each is one system call on a socket
        self.closed = False
        self.paused = False
        self.peer = peer
        self.protocol: Any = None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.peer if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def write(self, data: bytes) -> None:
        self.writes += 1
        self.written += data

    def writelines(self, pieces: Iterable[bytes]) -> None:
        self.writes += 1
        for piece in pieces:
            self.written += piece

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.protocol is not None:
                asyncio.get_event_loop().call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        pass

    def take(self) -> bytes:
        data = bytes(self.written)
        self.written.clear()
        return data


@dataclass
class RecordingWriter:
    records: list[AuditRecord] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    fail_with: str | None = None

    @property
    def healthy(self) -> bool:
        return True

    @property
    def failure_reason(self) -> str | None:
        return None

    def write_batch(self, records: Sequence[RecordFields]) -> object:
        from webwarden.audit.sink import AuditSinkError

        if self.fail_with:
            raise AuditSinkError(self.fail_with)
        # Built as the audit process builds them: a record it would refuse fails the test.
        self.records.extend(record_from_fields(values) for values in records)
        self.batches.append(len(records))
        return records


class TableCategories:
    version = "table"

    def __init__(self, table: dict[str, frozenset[str]]) -> None:
        self.table = table

    def lookup(self, host: str, path: str = "/") -> frozenset[str]:
        return self.table.get(host, frozenset())


def make_context(tmp: Path, writer: RecordingWriter | None = None,
                 policies: list[Path] | None = None) -> WorkerContext:
    snapshot = Snapshot.build(
        load_policy_set(policies or default_policy_paths(), UT1_NAMES),
        load_directory(demo_directory_path()),
        TableCategories({"casino.example": frozenset({"gambling"}),
                         "bank.example": frozenset({"bank"})}),
    )
    config = GatewayConfig(state_dir=tmp, allow_destinations=("93.184.216.0/24",))
    return WorkerContext(
        config,
        snapshot,
        audit=AuditTrail(writer or RecordingWriter()),
        consents=None,
        tokens=ConsentTokens(b"k" * 32),
        metrics=GatewayMetrics(CollectorRegistry()),
        guard=DestinationGuard(parse_networks(config.allow_destinations)),
    )


class Transcript:
    """A client connection and one pooled origin connection, both fake."""

    def __init__(self, ctx: WorkerContext, host: str = "site.example", port: int = 80,
                 client: str = "127.0.0.1") -> None:
        self.ctx = ctx
        self.client = FakeTransport((client, 50000))
        self.proxy = ProxyConnection(ctx)
        self.client.protocol = self.proxy
        self.proxy.connection_made(self.client)  # type: ignore[arg-type]
        self.origin = FakeTransport(("93.184.216.34", port))
        self.upstream = UpstreamConnection(("http", host, port, False), "93.184.216.34")
        self.origin.protocol = self.upstream
        self.upstream.connection_made(self.origin)  # type: ignore[arg-type]
        self.upstream.reusable = True
        ctx.pool.put(self.upstream)

    def send(self, data: bytes) -> None:
        self.proxy.data_received(data)

    def respond(self, data: bytes) -> None:
        self.upstream.data_received(data)


class FakeConnector:
    """The network as a test says it is: each call takes the next outcome, either an
    exception to raise (a ConnectFailedError, a certificate error) or a peer address, for
    which a FakeTransport is made and handed to the new protocol. Calls are recorded."""

    def __init__(self, *outcomes: BaseException | str) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[str, int, bool, str | None]] = []
        self.transports: list[FakeTransport] = []

    async def connect(self, host: str, port: int, factory: Any, *, tls: Any = None,
                      local_address: str | None = None) -> Any:
        from webwarden.gateway.connect import Connected

        self.calls.append((host, port, tls is not None, local_address))
        outcome = self.outcomes.pop(0) if self.outcomes else "93.184.216.34"
        if isinstance(outcome, BaseException):
            raise outcome
        transport = FakeTransport((outcome, port))
        protocol = factory(outcome)
        transport.protocol = protocol
        protocol.connection_made(transport)
        self.transports.append(transport)
        return Connected(protocol, outcome)


class FakeClock:
    """Monotonic seconds that move only when the test says."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
