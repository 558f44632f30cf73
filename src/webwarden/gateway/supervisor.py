"""The `webwarden gateway` process: checks the configuration, starts the workers, serves
the admin port, restarts a worker that dies, and passes signals on.

Sockets: one socket per worker, all bound to the proxy address with SO_REUSEPORT, so the
kernel spreads connections across workers; each worker starts listening on its socket once
it is ready. The supervisor keeps each socket open while its worker runs, so a restarted
worker takes over the same (still listening) socket and no queued connection is lost.
Workers are fresh interpreters (not forks): nothing of the supervisor's state, event loop
or threads leaks into them.

Signals: SIGTERM/SIGINT → every worker drains and stops, then the supervisor exits;
SIGHUP → every worker reloads; SIGUSR1 → every worker reopens its log files (rotation).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import uvloop
from prometheus_client.multiprocess import mark_process_dead

from webwarden import compiled
from webwarden.categories.shipped import default_snapshot_is_current
from webwarden.categories.snapshot import SnapshotError
from webwarden.gateway.admin import AdminConnection, AdminState, WorkerHealth
from webwarden.gateway.config import CONFIG_ENV, STATE_DIR_ENV, GatewayConfig, format_hostport
from webwarden.gateway.consent_token import load_or_create_key
from webwarden.gateway.hosts_file import HostsFileError, read_hosts_file
from webwarden.gateway.interceptor import interception_state, open_interceptor
from webwarden.gateway.loading import LoadError, Sources, load_snapshot
from webwarden.gateway.tls.authority import CaError
from webwarden.gateway.tls.verify import BundleError
from webwarden.inspection.post_config import load_post_config
from webwarden.sources import SourceError

METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
READY_TIMEOUT = 300.0  # the first start may build the category snapshot from the lists
RESTART_BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)


class StartError(Exception):
    """The gateway cannot start; the message says why, for the operator."""


def bind_listener(host: str, port: int, *, reuse_port: bool, listen: bool = True
                  ) -> socket.socket:
    """A bound socket; listening too unless `listen` is false (a proxy socket starts
    listening in its worker, once the worker is ready: until then a client is refused
    rather than left waiting on a socket nobody serves yet)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
        if listen:
            sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise StartError(f"cannot listen on {format_hostport(host, port)}: {exc.strerror}") from exc
    sock.set_inheritable(True)
    return sock


def probe_free(host: str, port: int) -> None:
    """Refuse a port something else listens on. SO_REUSEPORT would otherwise let a second
    gateway (same user) bind it too, and the kernel would split the traffic between them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise StartError(
                f"cannot listen on {format_hostport(host, port)}: {exc.strerror}"
            ) from exc


@dataclass
class WorkerSlot:
    index: int
    sock: socket.socket
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started: float = 0.0
    ready: bool = False
    detail: dict[str, object] = field(default_factory=dict)


class Supervisor:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.slots: list[WorkerSlot] = []
        self.admin_sock: socket.socket | None = None
        self.stopping = False

    # ------------------------------------------------------------------ start
    def prepare(self) -> None:
        """Everything that can fail for a reason the operator must fix, before any worker
        starts: state directory, configuration files, database, sockets."""
        config = self.config
        try:
            config.state_dir.mkdir(parents=True, exist_ok=True)
            config.run_dir.mkdir(parents=True, exist_ok=True)
            config.log_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StartError(f"state directory {config.state_dir}: {exc.strerror}") from exc
        os.environ[STATE_DIR_ENV] = str(config.state_dir)
        if config.categories_path is None:
            build_default_categories_aside()
        try:
            load_snapshot(Sources.from_config(config))
        except LoadError as exc:
            raise StartError(str(exc)) from exc
        try:
            from webwarden.store.engine import make_engine

            make_engine(config.db_url).dispose()
        except ValueError as exc:
            raise StartError(f"database: {exc}") from exc
        try:
            load_or_create_key(config.consent_key_path)
        except (OSError, ValueError) as exc:
            raise StartError(f"consent key: {exc}") from exc
        try:
            open_interceptor(config)
        except (CaError, BundleError, OSError) as exc:
            raise StartError(f"HTTPS interception: {exc}") from exc
        if config.organisation_config is not None:
            try:
                load_post_config(config.organisation_config)
            except SourceError as exc:
                raise StartError(f"organisation config: {exc}") from exc
        if config.hosts_file is not None:
            try:
                read_hosts_file(config.hosts_file)
            except HostsFileError as exc:
                raise StartError(f"hosts file: {exc}") from exc
        shutil.rmtree(config.metrics_dir, ignore_errors=True)
        config.metrics_dir.mkdir(parents=True)
        for stale in config.run_dir.glob("worker-*.json"):
            stale.unlink(missing_ok=True)
        host, port = config.listen
        if port:
            probe_free(host, port)
        first = bind_listener(host, port, reuse_port=True, listen=False)
        port = first.getsockname()[1]
        socks = [first] + [
            bind_listener(host, port, reuse_port=True, listen=False)
            for _ in range(config.workers - 1)
        ]
        self.config = config = _with_ports(config, port, None)
        self.admin_sock = bind_listener(*config.admin, reuse_port=False)
        self.config = config = _with_ports(config, None, self.admin_sock.getsockname()[1])
        self.slots = [WorkerSlot(i, s) for i, s in enumerate(socks)]

    def _spawn(self, slot: WorkerSlot) -> int:
        """Start the worker of `slot`; returns the read end of its ready pipe."""
        read_fd, write_fd = os.pipe()
        env = dict(os.environ)
        env[CONFIG_ENV] = self.config.to_json()
        env[METRICS_ENV] = str(self.config.metrics_dir)
        env[STATE_DIR_ENV] = str(self.config.state_dir)
        argv = [
            sys.executable, "-m", "webwarden.gateway.worker",
            "--index", str(slot.index),
            "--listen-fd", str(slot.sock.fileno()),
            "--ready-fd", str(write_fd),
        ]
        slot.process = subprocess.Popen(
            argv, env=env, pass_fds=(slot.sock.fileno(), write_fd), stdin=subprocess.DEVNULL
        )
        os.close(write_fd)
        slot.started = time.monotonic()
        slot.ready = False
        return read_fd

    def start_workers(self) -> None:
        pipes = [(slot, self._spawn(slot)) for slot in self.slots]
        problems = []
        for slot, fd in pipes:
            message = _read_line(fd, READY_TIMEOUT)
            if message == "ready":
                slot.ready = True
            else:
                problems.append(f"worker {slot.index}: {message or 'exited before it was ready'}")
        if problems:
            self.stop_workers()
            raise StartError("; ".join(problems))

    # ------------------------------------------------------------------ running
    def health(self) -> Iterable[WorkerHealth]:
        for slot in self.slots:
            alive = slot.process is not None and slot.process.poll() is None and slot.ready
            detail: dict[str, object] = {}
            path = self.config.run_dir / f"worker-{slot.index}.json"
            with contextlib.suppress(OSError, ValueError):
                detail = json.loads(path.read_text())
            healthy = bool(detail.get("healthy", False))
            reason = str(detail.get("reason", "")) or ("" if healthy else "not ready")
            if not alive:
                reason = "not running"
            detail.pop("healthy", None)
            detail.pop("reason", None)
            detail.pop("index", None)
            yield WorkerHealth(slot.index, alive, healthy, reason, detail)

    async def serve(self) -> int:
        loop = asyncio.get_running_loop()
        assert self.admin_sock is not None
        state = AdminState(self.config, lambda: list(self.health()))
        admin = await loop.create_server(lambda: AdminConnection(state), sock=self.admin_sock)
        done = asyncio.Event()

        def stop() -> None:
            self.stopping = True
            done.set()

        loop.add_signal_handler(signal.SIGTERM, stop)
        loop.add_signal_handler(signal.SIGINT, stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: self._signal_workers(signal.SIGHUP))
        loop.add_signal_handler(signal.SIGUSR1, lambda: self._signal_workers(signal.SIGUSR1))
        watcher = loop.create_task(self._watch(done))
        await done.wait()
        watcher.cancel()
        admin.close()
        await asyncio.to_thread(self.stop_workers)
        return 0

    async def _watch(self, done: asyncio.Event) -> None:
        """Restart workers that die, with a growing pause if they keep dying."""
        while not done.is_set():
            await asyncio.sleep(0.5)
            for slot in self.slots:
                proc = slot.process
                if proc is None or proc.poll() is None or self.stopping:
                    continue
                print(f"webwarden: worker {slot.index} exited with status {proc.returncode}; "
                      "restarting it", file=sys.stderr, flush=True)
                self._forget_metrics_of(proc.pid)
                pause = RESTART_BACKOFF[min(slot.restarts, len(RESTART_BACKOFF) - 1)]
                if time.monotonic() - slot.started > 60:
                    slot.restarts = 0
                slot.restarts += 1
                slot.process = None
                await asyncio.sleep(pause)
                if self.stopping:
                    return
                fd = self._spawn(slot)
                message = await asyncio.to_thread(_read_line, fd, READY_TIMEOUT)
                slot.ready = message == "ready"
                if not slot.ready:
                    print(f"webwarden: worker {slot.index} did not start: {message}",
                          file=sys.stderr, flush=True)

    def _forget_metrics_of(self, pid: int) -> None:
        """A dead worker's live gauges (open connections, audit health) must not count."""
        with contextlib.suppress(OSError):
            mark_process_dead(pid, str(self.config.metrics_dir))  # type: ignore[no-untyped-call]

    def _signal_workers(self, sig: signal.Signals) -> None:
        for slot in self.slots:
            if slot.process is not None and slot.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    slot.process.send_signal(sig)

    def stop_workers(self) -> None:
        self._signal_workers(signal.SIGTERM)
        deadline = time.monotonic() + self.config.timeouts.drain + 5.0
        for slot in self.slots:
            proc = slot.process
            if proc is None:
                continue
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self._forget_metrics_of(proc.pid)

    def banner(self) -> str:
        config = self.config
        proxy = format_hostport(*config.listen)
        admin = config.admin_url()
        host = config.listen[0]
        if host in ("0.0.0.0", "::"):
            proxy_for_clients = f"<this host's address>:{config.listen[1]}"
        else:
            proxy_for_clients = proxy
        workers = f"{config.workers} worker{'s' if config.workers != 1 else ''}"
        built = len(compiled.compiled_modules())
        path = (
            f"request path compiled ({built} modules)" if built
            else "request path not compiled (slower: see scripts/compile.py)"
        )
        return "\n".join([
            f"webwarden gateway listening: proxy={proxy} admin={format_hostport(*config.admin)}",
            f"  {workers}; {path}; state in {config.state_dir}",
            f"  browsers: set automatic proxy configuration to {admin}/proxy.pac",
            f"            (or the proxy {proxy_for_clients} for HTTP and HTTPS)",
            f"  curl:     curl -x http://{proxy_for_clients} -U pc1001:demo http://example.com/",
            f"  HTTPS:    interception {interception_state(config)}",
            f"  health:   {admin}/healthz    metrics: {admin}/metrics",
            "  reload:   kill -HUP <this pid> (files are also watched); stop: Ctrl-C or SIGTERM",
        ])


def _with_ports(config: GatewayConfig, listen: int | None, admin: int | None) -> GatewayConfig:
    import dataclasses

    changes: dict[str, object] = {}
    if listen is not None:
        changes["listen"] = (config.listen[0], listen)
    if admin is not None:
        changes["admin"] = (config.admin[0], admin)
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


def _read_line(fd: int, timeout: float) -> str:
    """One line from a worker's ready pipe ("ready" or "error: ..."), "" on EOF/timeout."""
    import select

    data = b""
    deadline = time.monotonic() + timeout
    try:
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                return "did not report ready in time"
            readable, _, _ = select.select([fd], [], [], left)
            if not readable:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    return data.decode("utf-8", "replace").strip()


_BUILD_DEFAULT_SNAPSHOT = (
    "from webwarden.categories.shipped import ensure_default_snapshot; "
    "ensure_default_snapshot()"
)


def build_default_categories_aside() -> None:
    """Build the default category snapshot from the shipped lists, when it needs building,
    in a child process. The build peaks at a few hundred MB of heap, which the supervisor,
    running for months, would otherwise keep."""
    try:
        if default_snapshot_is_current():
            return
    except SnapshotError as exc:
        raise StartError(f"categories: {exc}") from exc
    print("building the category snapshot from the shipped UT1 lists (first start) ...",
          file=sys.stderr, flush=True)
    done = subprocess.run(
        [sys.executable, "-c", _BUILD_DEFAULT_SNAPSHOT],
        capture_output=True, text=True, check=False, env=os.environ.copy(),
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        raise StartError(f"categories: building the default snapshot failed: {lines[-1]}")


def run(config: GatewayConfig) -> int:
    """Run the gateway until SIGTERM/SIGINT; returns the process exit status."""
    supervisor = Supervisor(config)
    try:
        supervisor.prepare()
        supervisor.start_workers()
    except StartError as exc:
        print(f"webwarden gateway: cannot start: {exc}", file=sys.stderr, flush=True)
        return 2
    print(supervisor.banner(), flush=True)
    return uvloop.run(supervisor.serve())
