from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from gatewaybench import procs


def test_steal_percent_is_the_share_of_stolen_ticks() -> None:
    before = [0] * 10
    after = [60, 0, 20, 10, 0, 0, 0, 10, 0, 0]
    assert procs.steal_percent(before, after) == 10.0
    assert procs.steal_percent(before, before) == 0.0


def test_supervisor_stops_the_whole_process_tree(tmp_path: Path) -> None:
    # A parent that starts a child and waits: both must be found, measured and stopped.
    script = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', " \
             "'import time; time.sleep(60)']); time.sleep(60)"
    with procs.Supervisor() as supervisor:
        proc = supervisor.start("tree", [sys.executable, "-c", script], tmp_path / "out.log")
        deadline = time.monotonic() + 10
        while len(procs.process_tree(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        tree = procs.process_tree(proc.pid)
        assert len(tree) == 2
        assert procs.memory(proc.pid).processes == 2
        assert procs.cpu_seconds(proc.pid) >= 0.0
        supervisor.stop("tree")
    for pid in tree:
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2] == "Z"


def test_free_port_is_bindable() -> None:
    port = procs.free_port()
    assert 0 < port < 65536


def test_clean_env_drops_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("KEEP_ME", "1")
    env = procs.clean_env()
    assert "HTTPS_PROXY" not in env
    assert "no_proxy" not in env
    assert env["KEEP_ME"] == "1"


def test_foreign_cpu_is_machine_busy_time_minus_ours() -> None:
    ticks = os.sysconf("SC_CLK_TCK")
    cpus = os.cpu_count() or 1
    before = procs.CpuSnapshot(wall=0.0, machine=[0] * 10, own_s=1.0, trees_s=2.0)
    # 10 s of wall time; the machine was busy for 4 s of CPU, 1.5 s of it ours.
    busy = [3 * ticks, 0, 1 * ticks, 0, 0, 0, 0, 0, 0, 0]
    after = procs.CpuSnapshot(wall=10.0, machine=busy, own_s=1.5, trees_s=3.0)
    assert procs.foreign_cpu_percent(before, after) == pytest.approx(100 * 2.5 / (10 * cpus))
    # Never below zero, even when our own accounting runs ahead of /proc/stat's.
    assert procs.foreign_cpu_percent(before, before) == 0.0
