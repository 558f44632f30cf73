"""The servers a benchmark run starts, and what they cost in CPU and memory.

Every long-running child is started in a session of its own, so its session id is
its pid. Stopping a target signals that process group and then sweeps the session:
whatever is still in it was started by us (squid's helpers, gateway workers), and
nothing outside it is ever signalled.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

LOOPBACK = "127.0.0.1"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def clean_env() -> dict[str, str]:
    """The environment without proxy variables, so curl and wrk go where they are told."""
    proxy_vars = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    return {k: v for k, v in os.environ.items() if k.lower() not in proxy_vars}


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_port(port: int, proc: subprocess.Popen[bytes] | None, timeout: float = 60.0) -> None:
    """Wait until something accepts on loopback:port; fail early if `proc` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with status {proc.returncode} before "
                               f"port {port} opened")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} did not open within {timeout:.0f} s")


@dataclass(frozen=True)
class _Stat:
    pid: int
    ppid: int
    session: int
    cpu_ticks: int


def _read_stat(pid: int) -> _Stat | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; the fields start after the last ')'.
    fields = text[text.rfind(")") + 2:].split()
    return _Stat(pid=pid, ppid=int(fields[1]), session=int(fields[3]),
                 cpu_ticks=int(fields[11]) + int(fields[12]))


def _all_stats() -> list[_Stat]:
    stats = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _read_stat(int(entry))
            if stat is not None:
                stats.append(stat)
    return stats


def process_tree(leader: int) -> list[int]:
    """The leader, every process in its session and every descendant of either."""
    stats = _all_stats()
    members = {s.pid for s in stats if leader in (s.session, s.pid)}
    grew = True
    while grew:
        children = {s.pid for s in stats if s.ppid in members} - members
        members |= children
        grew = bool(children)
    return sorted(members)


def cpu_seconds(leader: int) -> float:
    """User plus system CPU time of every live process in the tree (all threads)."""
    total = 0
    for pid in process_tree(leader):
        stat = _read_stat(pid)
        if stat is not None:
            total += stat.cpu_ticks
    return total / _CLOCK_TICKS


@dataclass(frozen=True)
class Memory:
    rss_kib: int
    pss_kib: int
    processes: int


def memory(leader: int) -> Memory:
    """Resident (RSS) and proportional (PSS, shared pages split) memory of the tree."""
    rss = pss = count = 0
    for pid in process_tree(leader):
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        count += 1
        for line in lines:
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return Memory(rss_kib=rss, pss_kib=pss, processes=count)


def cpu_counters() -> list[int]:
    """The machine-wide `cpu` line of /proc/stat (user, nice, system, idle, ..., steal)."""
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:]]


def steal_percent(before: list[int], after: list[int]) -> float:
    """Share of CPU time the hypervisor took away between two readings (noise indicator)."""
    delta = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(delta[:8])  # user..steal; guest time is already inside user
    return 100.0 * delta[7] / total if total else 0.0


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU time at one moment: the machine's, ours (this process and the wrk/curl
    children it has waited for) and that of the server trees we measure."""
    wall: float
    machine: list[int]
    own_s: float
    trees_s: float


def cpu_snapshot(leaders: list[int]) -> CpuSnapshot:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSnapshot(wall=time.monotonic(), machine=cpu_counters(),
                       own_s=me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
                       trees_s=sum(cpu_seconds(pid) for pid in leaders))


def _busy_ticks(delta: list[int]) -> int:
    return sum(delta[i] for i in (0, 1, 2, 5, 6))  # user nice system irq softirq


def wait_for_quiet(threshold_percent: float, max_wait_s: float) -> tuple[float, float]:
    """Between runs nothing of ours is busy, so CPU use now is someone else's: wait
    (at most max_wait_s) until it drops under the threshold. Returns the last busy
    percentage seen and the seconds waited."""
    started = time.monotonic()
    while True:
        before = cpu_counters()
        time.sleep(1.0)
        delta = [b - a for a, b in zip(before, cpu_counters(), strict=True)]
        total = sum(delta[:8])
        busy = 100.0 * _busy_ticks(delta) / total if total else 0.0
        waited = time.monotonic() - started
        if busy < threshold_percent or waited >= max_wait_s:
            return busy, waited


def foreign_cpu_percent(before: CpuSnapshot, after: CpuSnapshot) -> float:
    """CPU the rest of the machine used meanwhile, as % of all CPUs: other work
    competing with the benchmark, which makes its figures noisy."""
    delta = [b - a for a, b in zip(before.machine, after.machine, strict=True)]
    busy = _busy_ticks(delta) / _CLOCK_TICKS
    ours = (after.own_s - before.own_s) + (after.trees_s - before.trees_s)
    capacity = (after.wall - before.wall) * (os.cpu_count() or 1)
    return max(0.0, 100.0 * (busy - ours) / capacity) if capacity > 0 else 0.0


class Supervisor:
    """Owns the servers of a run; `stop_all` (also on exceptions) leaves none behind."""

    def __init__(self) -> None:
        self._running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], log_path: Path, *,
              env: dict[str, str] | None = None, cwd: Path | None = None
              ) -> subprocess.Popen[bytes]:
        if name in self._running:
            raise RuntimeError(f"{name} is already running")
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, cwd=cwd,
                                    env=env if env is not None else clean_env(),
                                    start_new_session=True)
        self._running[name] = proc
        return proc

    def stop(self, name: str) -> None:
        proc = self._running.pop(name, None)
        if proc is None:
            return
        leader = proc.pid
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(leader, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(leader, signal.SIGKILL)
                proc.wait(timeout=5)
        self._sweep_session(leader)

    @staticmethod
    def _sweep_session(leader: int) -> None:
        # Helpers (squid's log daemon, url rewriters) may outlive their parent for a moment.
        deadline = time.monotonic() + 5
        while True:
            left = [s.pid for s in _all_stats() if s.session == leader]
            if not left:
                return
            if time.monotonic() > deadline:
                for pid in left:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.1)

    def stop_all(self) -> None:
        for name in reversed(list(self._running)):
            self.stop(name)

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop_all()
