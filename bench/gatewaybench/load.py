"""Load against one target: wrk for request rates, curl loops for CONNECT throughput.

Every run is bounded twice: by its duration and by a hard timeout on each tool.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from gatewaybench.origin import SIZE_1M, Origin
from gatewaybench.procs import LOOPBACK, clean_env
from gatewaybench.targets import DEMO_PASSWORD, DEMO_USER, Running

LUA_SCRIPT = Path(__file__).resolve().parents[1] / "proxy.lua"
_WRK_MARK = "WRKJSON "


def proxy_auth_header() -> str:
    token = base64.b64encode(f"{DEMO_USER}:{DEMO_PASSWORD}".encode()).decode()
    return f"Proxy-Authorization: Basic {token}"


def curl_proxy_args(target: Running) -> list[str]:
    """curl options that send a request through the target (or straight to the origin)."""
    if not target.proxied:
        return ["--noproxy", "*"]
    return ["--proxy", f"http://{LOOPBACK}:{target.port}",
            "--proxy-user", f"{DEMO_USER}:{DEMO_PASSWORD}"]


@dataclass(frozen=True)
class WrkRun:
    requests: int
    duration_s: float
    bytes: int
    err_connect: int
    err_read: int
    err_write: int
    err_status: int
    err_timeout: int
    lat_mean_us: float
    lat_p50_us: int
    lat_p90_us: int
    lat_p99_us: int
    lat_max_us: int

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def errors(self) -> int:
        """Failed requests: connect/write/timeout errors and 4xx/5xx answers.

        wrk's read errors are left out: with `Connection: close` a server that
        closes right after the response shows up there for every request.
        """
        return self.err_connect + self.err_write + self.err_status + self.err_timeout


def parse_wrk(stdout: str) -> WrkRun:
    """The figures proxy.lua's done() printed."""
    for line in stdout.splitlines():
        if line.startswith(_WRK_MARK):
            data = json.loads(line[len(_WRK_MARK):])
            duration_us = data.pop("duration_us")
            return WrkRun(duration_s=duration_us / 1e6, **data)
    raise RuntimeError(f"wrk printed no summary:\n{stdout[-2000:]}")


def run_wrk(target: Running, origin: Origin, *, close: bool, duration: int, connections: int,
            threads: int, headers: tuple[str, ...] = (), path: str = "/1k") -> WrkRun:
    env = clean_env()
    env["WRK_TARGET"] = origin.url_1k if target.proxied else ""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "5s",
            "--latency", "-s", str(LUA_SCRIPT)]
    if target.proxied:
        argv += ["-H", proxy_auth_header()]
    if close:
        argv += ["-H", "Connection: close"]
    for header in headers:
        argv += ["-H", header]
    argv.append(f"http://{LOOPBACK}:{target.port}{path}")
    # wrk's exit status says nothing useful; its summary line is checked instead.
    result = subprocess.run(argv, env=env, capture_output=True, text=True,
                            timeout=duration + 60, check=False)
    return parse_wrk(result.stdout + result.stderr)


@dataclass(frozen=True)
class ConnectRun:
    bytes: int
    transfers_ok: int
    transfers_failed: int
    tunnels: int
    elapsed_s: float

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.elapsed_s / 1e6 if self.elapsed_s else 0.0


def run_connect(target: Running, origin: Origin, *, duration: int, parallel: int,
                per_tunnel: int, url: str | None = None) -> ConnectRun:
    """`parallel` loops; each runs curls that open one CONNECT tunnel (one TLS session
    to nginx) and fetch the 1 MiB file `per_tunnel` times through it.

    New tunnels start until `duration` is up; a started curl finishes, bounded by
    its own --max-time. Ctrl-C kills the curls still running.
    """
    max_time = duration + 30
    argv = ["curl", "-sk", *curl_proxy_args(target), "--max-time", str(max_time),
            "-o", "/dev/null", "-w", "%{http_code} %{size_download}\\n",
            f"{url or origin.url_1m}?n=[1-{per_tunnel}]"]
    env = clean_env()
    lock = threading.Lock()
    stop = threading.Event()
    live: set[subprocess.Popen[str]] = set()
    totals = {"bytes": 0, "ok": 0, "failed": 0, "tunnels": 0}
    deadline = time.monotonic() + duration
    # A ceiling on tunnels per loop, so the load stays bounded even if curl fails fast.
    max_tunnels = max(1, duration * 50)

    def loop() -> None:
        for _ in range(max_tunnels):
            if stop.is_set() or time.monotonic() >= deadline:
                return
            proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
            with lock:
                live.add(proc)
            try:
                out, _ = proc.communicate(timeout=max_time + 10)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            with lock:
                live.discard(proc)
            ok = failed = 0
            for line in out.splitlines():
                code, _, size = line.partition(" ")
                if code == "200" and int(float(size or 0)) == SIZE_1M:
                    ok += 1
                else:
                    failed += 1
            # Transfers curl never reached (tunnel refused, killed) count as failed too.
            failed += max(0, per_tunnel - ok - failed)
            with lock:
                totals["bytes"] += ok * SIZE_1M
                totals["ok"] += ok
                totals["failed"] += failed
                totals["tunnels"] += 1

    started = time.monotonic()
    workers = [threading.Thread(target=loop, daemon=True) for _ in range(parallel)]
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            worker.join()
    finally:
        stop.set()
        with lock:
            for proc in live:
                proc.kill()
        for worker in workers:
            worker.join(timeout=10)
    return ConnectRun(bytes=totals["bytes"], transfers_ok=totals["ok"],
                      transfers_failed=totals["failed"], tunnels=totals["tunnels"],
                      elapsed_s=time.monotonic() - started)


@dataclass(frozen=True)
class Fetch:
    status: int
    connect_status: int
    size: int
    headers: str
    body_start: str


def fetch(target: Running, url: str) -> Fetch:
    """One request through the target, for the functional checks."""
    argv = ["curl", "-sk", *curl_proxy_args(target), "--max-time", "30", "-D", "-",
            "-o", "-", "-w", "\nCURLW %{http_code} %{http_connect} %{size_download}", url]
    out = subprocess.run(argv, env=clean_env(), capture_output=True, timeout=60,
                         check=False).stdout
    text = out.decode("latin-1")
    body, _, tail = text.rpartition("\nCURLW ")
    code, connect, size = [*tail.split(), "0", "0", "0"][:3]
    head, _, rest = body.partition("\r\n\r\n")
    # With a tunnel or a redirect curl prints several header blocks; keep the last one.
    while rest.startswith("HTTP/"):
        head, _, rest = rest.partition("\r\n\r\n")
    return Fetch(status=int(code), connect_status=int(connect), size=int(float(size)),
                 headers=head, body_start=rest[:300])
