"""The proxies under test and how each one is started for its slot of a round.

Each target gets its own folder in the run's work directory (config, pid file,
logs); Squid runs under a service name of its own, so its SMP sockets and shared
memory never meet the system's Squid. Nothing here touches system configuration.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gatewaybench.origin import Origin
from gatewaybench.procs import LOOPBACK, Supervisor, free_port, wait_port
from gatewaybench.squidguard import SquidGuardDb

# Demo identity known to webwarden's demo directory; 127.0.0.1 is registered there as
# a workstation, so requests from the load tools are judged like a desk PC's.
DEMO_USER = "pc1001"
DEMO_PASSWORD = "demo"
# Squid drops to this user when started as root (Debian's cache_effective_user).
SQUID_USER = "proxy"


@dataclass
class RunContext:
    supervisor: Supervisor
    work: Path
    origin: Origin
    webwarden_exe: Path | None
    webwarden_args: tuple[str, ...]
    squidguard: Callable[[], SquidGuardDb]
    ports: dict[str, int] = field(default_factory=dict)

    def port_for(self, name: str) -> int:
        """One port per target for the whole run, so restarts reuse it."""
        if name not in self.ports:
            self.ports[name] = free_port()
        return self.ports[name]


@dataclass(frozen=True)
class Running:
    """A started target. `leader` is None when no proxy runs (the direct baseline)."""
    name: str
    port: int
    leader: int | None
    access_log: Path | None
    proxied: bool = True


@dataclass(frozen=True)
class TargetSpec:
    name: str
    note: str
    start: Callable[[RunContext], Running]
    filtering: bool


def _target_dir(ctx: RunContext, name: str) -> Path:
    d = ctx.work / name.replace("+", "-")
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o755)
    return d


def _give_to_squid_user(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", f"{SQUID_USER}:{SQUID_USER}", str(path)], check=True)


def squid_config(d: Path, port: int, origin: Origin, extra: str = "",
                 port_options: str = "") -> str:
    """Squid's config; `port_options` go on the http_port line (ssl-bump and its CA)."""
    max_fds = min(65536, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    return f"""
# A non-caching forward proxy for loopback clients; Squid defaults elsewhere.
http_port {LOOPBACK}:{port} {port_options}
visible_hostname gateway-bench
pid_filename {d}/squid.pid
cache_log {d}/cache.log
access_log daemon:{d}/access.log squid
cache_store_log none
coredump_dir {d}
cache deny all
max_filedescriptors {max_fds}
shutdown_lifetime 1 seconds
# Keep every lookup on loopback: a name the filter failed to block cannot reach out.
dns_nameservers {LOOPBACK}
pinger_enable off
acl benchclients src {LOOPBACK}/32
acl SSL_ports port 443 {origin.https_port}
acl Safe_ports port 80 443 {origin.http_port} {origin.https_port}
acl CONNECT method CONNECT
http_access deny !Safe_ports
http_access deny CONNECT !SSL_ports
http_access allow benchclients
http_access deny all
{extra}
"""


def _start_squid(ctx: RunContext, name: str, workers: int, extra: str = "",
                 port_options: str = "") -> Running:
    d = _target_dir(ctx, name)
    port = ctx.port_for(name)
    extra = f"workers {workers}\n{extra}" if workers > 1 else extra
    conf = d / "squid.conf"
    conf.write_text(squid_config(d, port, ctx.origin, extra, port_options))
    _give_to_squid_user(d)
    service = "gwbench" + "".join(ch for ch in name if ch.isalnum())
    # -N (no daemon) also turns SMP off, so several workers need --foreground instead.
    mode = ["-N"] if workers == 1 else ["--foreground"]
    argv = ["squid", *mode, "-n", service, "-f", str(conf)]
    subprocess.run([*argv[:1], "-k", "parse", "-n", service, "-f", str(conf)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    proc = ctx.supervisor.start(name, argv, d / "stdout.log")
    wait_port(port, proc)
    return Running(name=name, port=port, leader=proc.pid, access_log=d / "access.log")


def start_squid(ctx: RunContext) -> Running:
    return _start_squid(ctx, "squid", 1)


def start_squid_2w(ctx: RunContext) -> Running:
    return _start_squid(ctx, "squid-2w", 2)


def start_squid_squidguard(ctx: RunContext) -> Running:
    db = ctx.squidguard()
    _give_to_squid_user(db.config.parent)
    extra = f"""
url_rewrite_program {shutil.which("squidGuard") or "/usr/bin/squidGuard"} -c {db.config}
url_rewrite_children 5 startup=5 idle=1 concurrency=0
# Fail closed like the gateway: no answer from squidGuard, no forwarding.
url_rewrite_bypass off
"""
    return _start_squid(ctx, "squid+squidGuard", 1, extra)


def _start_webwarden(ctx: RunContext, name: str, workers: int) -> Running:
    if ctx.webwarden_exe is None:
        raise RuntimeError("the webwarden command was not found (install with scripts/venv.sh)")
    d = _target_dir(ctx, name)
    state = d / "state"
    state.mkdir(exist_ok=True)
    port, admin = ctx.port_for(name), ctx.port_for(f"{name}-admin")
    argv = [str(ctx.webwarden_exe), "gateway",
            "--listen", f"{LOOPBACK}:{port}", "--admin", f"{LOOPBACK}:{admin}",
            "--workers", str(workers), "--state-dir", str(state),
            # The origin is on loopback, which the gateway refuses unless told.
            "--allow-destination", "127.0.0.0/8",
            "--connect-ports", f"443,{ctx.origin.https_port}", *ctx.webwarden_args]
    proc = ctx.supervisor.start(name, argv, d / "stdout.log")
    wait_port(port, proc, timeout=180)
    return Running(name=name, port=port, leader=proc.pid,
                   access_log=state / "logs" / "access.log")


def start_webwarden(ctx: RunContext) -> Running:
    return _start_webwarden(ctx, "webwarden", 1)


def start_webwarden_2w(ctx: RunContext) -> Running:
    return _start_webwarden(ctx, "webwarden-2w", 2)


def start_direct(ctx: RunContext) -> Running:
    return Running(name="direct", port=ctx.origin.http_port, leader=None, access_log=None,
                   proxied=False)


TARGETS: dict[str, TargetSpec] = {t.name: t for t in (
    TargetSpec("direct", "no proxy: wrk and curl straight to nginx (the origin's ceiling)",
               start_direct, filtering=False),
    TargetSpec("squid", "squid -N: one worker, cache deny all, daemon access log",
               start_squid, filtering=False),
    TargetSpec("squid-2w", "squid with workers 2 (SMP), otherwise as squid",
               start_squid_2w, filtering=False),
    TargetSpec("squid+squidGuard", "squid as above + url_rewrite_program squidGuard (5 "
               "children) with the UT1 lists of the categories webwarden blocks",
               start_squid_squidguard, filtering=True),
    TargetSpec("webwarden", "webwarden gateway --workers 1: default policy, shipped UT1 "
               "categories, every audit sink on (access.log, JSON lines, SQLite)",
               start_webwarden, filtering=True),
    TargetSpec("webwarden-2w", "as webwarden, --workers 2",
               start_webwarden_2w, filtering=True),
)}
