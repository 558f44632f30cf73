"""One gateway worker process: serves the proxy port it was handed until told to stop.

Started by the supervisor as `python -m webwarden.gateway.worker` with the settings in the
environment (JSON), the listening socket and a pipe to report readiness on. Each worker
loads the snapshot itself (the category index is a shared read-only map), hands its
records to an audit process of its own that writes its chain (gateway/audit_process.py),
and reloads on SIGHUP or when a source file changes. SIGTERM or SIGINT: stop accepting,
finish open transactions (bounded by the drain timeout), let the audit process store the
last records, close.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import socket
import sys
import time
from datetime import UTC, datetime, timedelta

import uvloop

from webwarden.audit.sink import AuditSinkError
from webwarden.gateway.addresses import DestinationGuard, parse_networks
from webwarden.gateway.audit_client import AuditProcess
from webwarden.gateway.audit_link import BATCH_SECONDS, AuditTrail
from webwarden.gateway.collector import tune_collector
from webwarden.gateway.config import CONFIG_ENV, GatewayConfig
from webwarden.gateway.consent_token import ConsentTokens, load_or_create_key
from webwarden.gateway.consents import ConsentBook
from webwarden.gateway.context import WorkerContext
from webwarden.gateway.hosts_file import read_hosts_file
from webwarden.gateway.interceptor import open_interceptor, renewed
from webwarden.gateway.loading import LoadError, Reloader, Sources, load_snapshot
from webwarden.gateway.metrics import GatewayMetrics
from webwarden.gateway.proxy import ProxyConnection
from webwarden.gateway.tls.authority import CaError
from webwarden.inspection.post_config import load_post_config
from webwarden.sources import SourceError
from webwarden.store.consents import ConsentStore
from webwarden.store.engine import make_engine

log = logging.getLogger("webwarden.gateway")


class Worker:
    def __init__(self, config: GatewayConfig, index: int, sock: socket.socket) -> None:
        self.config = config
        self.index = index
        self.sock = sock
        self.stopping = asyncio.Event()
        self.reload_requested = False
        self.health_path = config.run_dir / f"worker-{index}.json"
        self.started = time.time()
        self.parent = os.getppid()
        self.exit_code = 0

    def write_health(self, ctx: WorkerContext, reloader: Reloader) -> None:
        state = {
            "index": self.index,
            "pid": os.getpid(),
            "healthy": ctx.audit.healthy,
            "reason": ctx.audit.failure_reason or "",
            "snapshot": ctx.snapshot.version,
            "reload_error": reloader.last_error,
            "started": self.started,
            "updated": time.time(),
            "connections": len(ctx.connections),
        }
        tmp = self.health_path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(state))
            tmp.replace(self.health_path)
        except OSError as exc:
            log.warning("cannot write health file %s: %s", self.health_path, exc)

    async def run(self, ready: int | None) -> int:
        loop = asyncio.get_running_loop()
        config = self.config
        sources = Sources.from_config(config)
        # Started first: it opens the audit trail while this process loads the snapshot.
        try:
            audit = AuditProcess.start(self.index)
        except OSError as exc:
            _report(ready, f"error: cannot start the audit process: {exc}")
            return 2
        try:
            snapshot = await asyncio.to_thread(load_snapshot, sources)
            interceptor = open_interceptor(config)
            static_hosts = (
                read_hosts_file(config.hosts_file) if config.hosts_file is not None else None
            )
            dlp = (
                load_post_config(config.organisation_config)[1]
                if config.organisation_config is not None else None
            )
            engine = make_engine(config.db_url)
            await asyncio.to_thread(audit.wait_ready)
        except (LoadError, AuditSinkError, CaError, SourceError, ValueError, OSError) as exc:
            with contextlib.suppress(AuditSinkError):
                audit.close()
            _report(ready, f"error: {exc}")
            return 2
        audit.attach(loop)
        trail = AuditTrail(audit, schedule=lambda write: loop.call_later(BATCH_SECONDS, write))
        audit.on_failure = trail.writer_failed
        audit.on_exit = self._audit_process_ended
        metrics = GatewayMetrics()
        guard = DestinationGuard(
            parse_networks(config.allow_destinations),
            own_endpoints=[config.listen, config.admin],
        )
        ctx = WorkerContext(
            config,
            snapshot,
            audit=trail,
            consents=ConsentBook(ConsentStore(engine)),
            tokens=ConsentTokens(load_or_create_key(config.consent_key_path)),
            metrics=metrics,
            guard=guard,
            worker_index=self.index,
            interceptor=interceptor,
            static_hosts=static_hosts,
            dlp=dlp,
        )

        def on_reload(ok: bool, detail: str) -> None:
            metrics.reloaded(ok)
            if ok:
                ctx.snapshot = reloader.snapshot
            self.write_health(ctx, reloader)

        reloader = Reloader(sources, snapshot, on_result=on_reload)
        ctx.on_audit_failure = lambda reason: self.write_health(ctx, reloader)
        tune_collector()
        self.sock.listen(1024)  # only now: until the worker is ready, clients are refused
        server = await loop.create_server(
            lambda: ProxyConnection(ctx), sock=self.sock, backlog=1024
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self._request_reload)
        loop.add_signal_handler(signal.SIGUSR1, audit.reopen)
        self.write_health(ctx, reloader)
        _report(ready, "ready")
        ticker = loop.create_task(self._tick(ctx, reloader))
        await self.stopping.wait()
        ticker.cancel()
        server.close()
        await self._drain(ctx)
        ctx.pool.close()
        trail.flush()
        metrics.flush()
        try:
            audit.close()  # its last records are stored before the worker exits
        except AuditSinkError as exc:
            log.error("audit records may be missing from a sink: %s", exc)
        with contextlib.suppress(OSError):
            self.health_path.unlink()
        return self.exit_code

    def _request_reload(self) -> None:
        self.reload_requested = True

    def _audit_process_ended(self, reason: str) -> None:
        # Nothing can be forwarded without it; a fresh worker (the supervisor starts one)
        # gets a fresh audit process that resumes the chain.
        log.error("%s; worker %d stops", reason, self.index)
        self.exit_code = 1
        self.stopping.set()

    async def _tick(self, ctx: WorkerContext, reloader: Reloader) -> None:
        """Once a second: timeouts, idle upstream connections, changed files, parent."""
        last_poll = 0.0
        while True:
            await asyncio.sleep(1.0)
            now = ctx.clock()
            for conn in list(ctx.connections):
                if conn.deadline and now >= conn.deadline:
                    try:
                        conn.on_deadline(now)
                    except Exception:
                        log.exception("timeout handling failed")
            ctx.pool.sweep(now)
            if ctx.metrics is not None:
                ctx.metrics.flush()
            wall = datetime.now(UTC)
            interceptor = ctx.interceptor
            if interceptor is not None and interceptor.due(wall):
                try:
                    ctx.interceptor = renewed(self.config, interceptor, wall)
                    log.info("the rotated CA's new generation signs from now on")
                except (CaError, OSError) as exc:
                    # The old generation goes on signing; try again in a minute.
                    log.error("the rotated CA could not be loaded (%s); the old one signs", exc)
                    ctx.interceptor = dataclasses.replace(
                        interceptor, signing_until=wall + timedelta(minutes=1))
            if self.reload_requested or now - last_poll >= self.config.reload_poll_seconds:
                last_poll = now
                forced, self.reload_requested = self.reload_requested, False
                if forced or reloader.changed():
                    reloader.install(await asyncio.to_thread(reloader.load))
            if os.getppid() != self.parent:
                log.error("the supervisor went away; worker %d stops", self.index)
                self.stopping.set()

    async def _drain(self, ctx: WorkerContext) -> None:
        ctx.draining = True
        for conn in list(ctx.connections):
            conn.drain()
        deadline = time.monotonic() + self.config.timeouts.drain
        while ctx.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for conn in list(ctx.connections):
            if conn.transport is not None:
                conn.transport.abort()
        await asyncio.sleep(0)


def _report(fd: int | None, message: str) -> None:
    if fd is None:
        print(message, file=sys.stderr if message.startswith("error") else sys.stdout)
        return
    with contextlib.suppress(OSError):
        os.write(fd, (message.replace("\n", " ") + "\n").encode("utf-8"))
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="webwarden-gateway-worker")
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--ready-fd", type=int)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s webwarden worker {args.index}: %(levelname)s %(message)s",
    )
    config = GatewayConfig.from_json(os.environ[CONFIG_ENV])
    sock = socket.socket(fileno=args.listen_fd)
    worker = Worker(config, args.index, sock)
    return uvloop.run(worker.run(args.ready_fd))


if __name__ == "__main__":
    sys.exit(main())

