"""The admin port: metrics, health, the PAC file and the pages people are sent to.

Served by the supervisor process (one per gateway, whatever the number of workers), on
its own address, which the proxy never connects to. GET and HEAD only; one request per
connection.

- `/metrics`: Prometheus text, summed over every worker (multiprocess mode);
- `/healthz`: JSON; 200 when every worker is up and its audit trail healthy, else 503
  with the reasons;
- `/proxy.pac`: proxy auto-configuration: everything through the proxy, except this
  admin address itself; no DIRECT fallback, so browsers fail closed if the proxy is down;
- `/request-access`: the "Ask for access" page that block pages link to;
- `/ca.pem`, `/ca.der`: the interception CA's certificates for browsers to trust (PEM:
  every one trusted now, during a rotation both; DER: the signing one), 404 without a CA;
- `/`: how to set a browser up.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import parse_qs

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from webwarden.gateway.config import GatewayConfig, format_hostport
from webwarden.gateway.heads import local_response
from webwarden.gateway.http1 import (
    HttpError,
    check_incomplete,
    find_head_end,
    parse_request_head,
)
from webwarden.gateway.pages import Pages
from webwarden.gateway.tls.authority import STATE_FILE, CaError, export_certificates

PAC_TYPE = b"application/x-ns-proxy-autoconfig"
CA_TYPES = {"/ca.pem": b"application/x-pem-file", "/ca.der": b"application/x-x509-ca-cert"}
REQUEST_ACCESS_FIELDS = (
    ("url", "URL"),
    ("rule", "Rule"),
    ("clause", "Guidance"),
    ("categories", "Categories"),
    ("decision", "Decision"),
    ("person", "Person"),
    ("device", "Device"),
    ("time", "Time"),
)


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    index: int
    alive: bool
    healthy: bool
    reason: str
    detail: dict[str, Any]


def pac_file(proxy: str, admin_origin: str) -> str:
    return (
        "// webwarden: every request goes through the gateway, except the gateway's own\n"
        "// admin pages. There is no DIRECT fallback: if the gateway is down, nothing leaves.\n"
        "function FindProxyForURL(url, host) {\n"
        f'  if (shExpMatch(url, "{admin_origin}/*")) return "DIRECT";\n'
        f'  return "PROXY {proxy}";\n'
        "}\n"
    )


class AdminState:
    """What the admin pages report: given by the supervisor."""

    def __init__(
        self,
        config: GatewayConfig,
        workers: Callable[[], Iterable[WorkerHealth]],
        pages: Pages | None = None,
    ) -> None:
        self.config = config
        self.workers = workers
        self.pages = pages or Pages()

    def metrics(self) -> bytes:
        registry = CollectorRegistry()
        MultiProcessCollector(  # type: ignore[no-untyped-call]
            registry, path=str(self.config.metrics_dir)
        )
        registry.register(_WorkerCollector(self.workers))
        return generate_latest(registry)

    def health(self) -> tuple[int, bytes]:
        workers = list(self.workers())
        reasons = [
            f"worker {w.index}: {w.reason}" for w in workers if not (w.alive and w.healthy)
        ]
        ok = bool(workers) and not reasons
        body = {
            "status": "ok" if ok else "unhealthy",
            "reasons": reasons,
            "workers": [
                {"index": w.index, "alive": w.alive, "healthy": w.healthy, "reason": w.reason,
                 **w.detail}
                for w in workers
            ],
        }
        return (200 if ok else 503), (json.dumps(body, indent=2) + "\n").encode("utf-8")

    def pac(self, host_header: str | None) -> bytes:
        client_host = (host_header or "").rsplit(":", 1)[0].strip("[]") or None
        listen_host, listen_port = self.config.listen
        if listen_host in ("0.0.0.0", "::", ""):
            listen_host = client_host or "127.0.0.1"
        admin_origin = self.config.admin_url(client_host)
        return pac_file(format_hostport(listen_host, listen_port), admin_origin).encode()

    def request_access(self, query: str) -> bytes:
        values = parse_qs(query, keep_blank_values=False)
        facts = [
            (label, values[key][0][:2000])
            for key, label in REQUEST_ACCESS_FIELDS
            if key in values and values[key][0]
        ]
        return self.pages.request_access(facts, self.config.contact)

    def ca_certificates(self, der: bool) -> tuple[int, bytes]:
        """The CA export (200); 404 saying how to create a CA when there is none; 500 with
        the reason when the one there cannot be read."""
        directory = self.config.effective_ca_dir
        if not (directory / STATE_FILE).exists():
            return 404, (
                "No interception CA has been created for this gateway. Create one on the "
                f"gateway with `webwarden ca init --dir {directory}`; it is served here at "
                "once.\n"
            ).encode()
        try:
            return 200, export_certificates(directory, der=der, now=datetime.now(UTC))
        except CaError as exc:
            return 500, f"The interception CA cannot be exported: {exc}\n".encode()

    def index(self) -> bytes:
        listen = format_hostport(*self.config.listen)
        admin = self.config.admin_url()
        facts = [
            ("Proxy", listen),
            ("Automatic configuration (PAC)", f"{admin}/proxy.pac"),
            ("Health", f"{admin}/healthz"),
            ("Metrics", f"{admin}/metrics"),
            ("Interception CA certificate", f"{admin}/ca.pem"),
        ]
        return self.pages.admin_index(facts, f"{admin}/proxy.pac")


class _WorkerCollector:
    """Supervisor-level gauges: workers alive and healthy right now."""

    def __init__(self, workers: Callable[[], Iterable[WorkerHealth]]) -> None:
        self._workers = workers

    def collect(self) -> Iterable[GaugeMetricFamily]:
        workers = list(self._workers())
        alive = GaugeMetricFamily("webwarden_workers_alive", "Worker processes running.")
        alive.add_metric([], sum(1 for w in workers if w.alive))
        healthy = GaugeMetricFamily(
            "webwarden_workers_healthy", "Worker processes running with a healthy audit trail."
        )
        healthy.add_metric([], sum(1 for w in workers if w.alive and w.healthy))
        return [alive, healthy]


class AdminConnection(asyncio.Protocol):
    def __init__(self, state: AdminState) -> None:
        self.state = state
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        asyncio.get_running_loop().call_later(10.0, self._timeout)

    def _timeout(self) -> None:
        if not self.done and self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.done:
            return
        self.buffer += data
        end = find_head_end(self.buffer)
        try:
            if end < 0:
                check_incomplete(self.buffer)
                return
            req = parse_request_head(bytes(self.buffer[:end]))
        except HttpError as exc:
            self._send(exc.status, exc.reason.encode() + b"\n", b"text/plain", head=False)
            return
        head_only = req.method == "HEAD"
        if req.method not in ("GET", "HEAD"):
            self._send(405, b"Only GET and HEAD are served here.\n", b"text/plain", head_only)
            return
        path, _, query = req.target.partition("?")
        state = self.state
        if path == "/metrics":
            self._send(200, state.metrics(), b"text/plain; version=0.0.4; charset=utf-8",
                       head_only)
        elif path == "/healthz":
            status, body = state.health()
            self._send(status, body, b"application/json", head_only)
        elif path == "/proxy.pac":
            host = req.host
            self._send(200, state.pac(host), PAC_TYPE, head_only)
        elif path == "/request-access":
            self._send(200, state.request_access(query), b"text/html; charset=utf-8", head_only)
        elif path in CA_TYPES:
            status, body = state.ca_certificates(der=path == "/ca.der")
            if status == 200:
                name = b"webwarden-ca" + path[3:].encode()
                self._send(200, body, CA_TYPES[path], head_only,
                           [(b"Content-Disposition", b'attachment; filename="' + name + b'"')])
            else:
                self._send(status, body, b"text/plain; charset=utf-8", head_only)
        elif path == "/":
            self._send(200, state.index(), b"text/html; charset=utf-8", head_only)
        else:
            self._send(404, b"Not found.\n", b"text/plain", head_only)

    def _send(self, status: int, body: bytes, content_type: bytes, head: bool,
              extra: list[tuple[bytes, bytes]] | None = None) -> None:
        self.done = True
        assert self.transport is not None
        response = local_response(status, body, content_type=content_type, keep_alive=False,
                                  extra=extra)
        if head:
            response = response[: len(response) - len(body)]
        self.transport.write(response)
        self.transport.close()
