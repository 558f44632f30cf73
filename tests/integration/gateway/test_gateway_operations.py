"""Running the gateway: several workers, reload, metrics, health, PAC, a failing audit sink,
a worker that dies, graceful shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.integration.gateway.conftest import (
    ORIGIN_HOST,
    Gateway,
    World,
    body_of,
    clean_env,
    curl,
    start_gateway,
    status_of,
)

pytestmark = pytest.mark.integration


def admin_get(gateway: Gateway, path: str) -> tuple[int, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(gateway.admin + path, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)


def worker_pids(gateway: Gateway) -> list[int]:
    _status, body = admin_get(gateway, "/healthz")
    return [w["pid"] for w in json.loads(body)["workers"] if "pid" in w]


@pytest.fixture(scope="module")
def overrides(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("overrides") / "overrides.yaml"
    path.write_text("add:\n  webmail.test: [webmail]\n")
    return path


@pytest.fixture(scope="module")
def two_workers(world: World, overrides: Path,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gw = start_gateway(
        tmp_path_factory.mktemp("two-workers"),
        "--workers", "2",
        "--policy", str(world.policy),
        "--categories", str(world.snapshot),
        "--overrides", str(overrides),
        "--allow-destination", f"{ORIGIN_HOST}/32",
    )
    yield gw
    gw.stop()


def origin_url(world: World, path: str) -> str:
    return f"http://{ORIGIN_HOST}:{world.origin.port}{path}"


def test_two_workers_share_the_port_and_each_keeps_its_chain(
    two_workers: Gateway, world: World
) -> None:
    for i in range(30):
        assert status_of(curl(two_workers, origin_url(world, f"/w{i}"))) == 200
    chains = sorted((two_workers.state_dir / "logs").glob("audit-*.jsonl"))
    assert len(chains) == 2
    # (records land a few milliseconds after their responses: wait for them)
    wait_until(lambda: sum(len(p.read_text().splitlines()) for p in chains) >= 30)
    assert all(path.stat().st_size > 0 for path in chains)


def test_metrics_cover_every_worker(two_workers: Gateway, world: World) -> None:
    for i in range(10):
        curl(two_workers, origin_url(world, f"/m{i}"))

    def total_requests() -> float:
        _status, text = admin_get(two_workers, "/metrics")
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("webwarden_requests_total{")
        )

    wait_until(lambda: total_requests() >= 10)  # workers hand their sums over each second
    status, text = admin_get(two_workers, "/metrics")
    assert status == 200
    assert "webwarden_request_duration_seconds_bucket" in text
    assert "webwarden_workers_alive 2.0" in text


def test_health_and_pac(two_workers: Gateway) -> None:
    status, body = admin_get(two_workers, "/healthz")
    assert status == 200
    health = json.loads(body)
    assert health["status"] == "ok" and len(health["workers"]) == 2
    status, pac = admin_get(two_workers, "/proxy.pac")
    assert status == 200
    assert f'return "PROXY 127.0.0.1:{two_workers.proxy_port}";' in pac
    assert "DIRECT" in pac and f"127.0.0.1:{two_workers.admin_port}" in pac
    status, page = admin_get(two_workers, "/request-access?url=http%3A%2F%2Fx.test%2F&rule=r1"
                                          "&decision=abc")
    assert status == 200 and "http://x.test/" in page and "abc" in page


def test_reload_on_change_and_refusal_of_a_bad_file(
    two_workers: Gateway, world: World, overrides: Path
) -> None:
    target = origin_url(world, "/reload-me")
    assert status_of(curl(two_workers, target)) == 200
    overrides.write_text(f"add:\n  {ORIGIN_HOST}/reload-me: [gambling]\n")

    def all_blocked() -> bool:
        return all(status_of(curl(two_workers, target)) == 403 for _ in range(6))

    wait_until(all_blocked)
    overrides.write_text("add:\n  [not, a, mapping\n")

    def refusal_reported() -> bool:
        _status, body = admin_get(two_workers, "/healthz")
        workers = json.loads(body)["workers"]
        return all("overrides" in w.get("reload_error", "") or "categories" in
                   w.get("reload_error", "") for w in workers)

    wait_until(refusal_reported)
    assert all(status_of(curl(two_workers, target)) == 403 for _ in range(4))  # old set stays
    assert "reload refused" in two_workers.log()
    # SIGHUP reloads at once (a valid file again).
    overrides.write_text("add:\n  webmail.test: [webmail]\n")
    os.kill(two_workers.process.pid, signal.SIGHUP)
    wait_until(lambda: all(status_of(curl(two_workers, target)) == 200 for _ in range(6)))


def test_a_worker_that_dies_is_replaced(two_workers: Gateway, world: World) -> None:
    for i in range(10):
        curl(two_workers, origin_url(world, f"/before-{i}"))
    time.sleep(0.1)  # a worker hands its records over within milliseconds (BATCH_SECONDS)
    before = worker_pids(two_workers)
    os.kill(before[0], signal.SIGKILL)  # no chance to write anything more itself
    wait_until(lambda: len(worker_pids(two_workers)) == 2
               and before[0] not in worker_pids(two_workers)
               and admin_get(two_workers, "/healthz")[0] == 200)
    assert all(status_of(curl(two_workers, origin_url(world, "/after"))) == 200
               for _ in range(6))
    # Its audit process outlived it and stored its records; the new worker's process
    # waited for that and continued the chain.
    logs = two_workers.state_dir / "logs"
    wait_until(lambda: (logs / "access.log").read_text().count("/before-") == 10
               and (logs / "access.log").read_text().count("/after") == 6)
    chains = sorted(logs.glob("audit-*.jsonl"))
    verify = subprocess.run(
        [sys.executable, "-m", "webwarden", "audit", "verify", "--jsonl", *map(str, chains)],
        check=False, capture_output=True, text=True, env=clean_env(), timeout=60,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.count("intact") == 2


def test_failing_audit_sink_stops_forwarding(world: World, tmp_path: Path) -> None:
    gw = start_gateway(
        tmp_path,
        "--policy", str(world.policy),
        "--categories", str(world.snapshot),
        "--allow-destination", f"{ORIGIN_HOST}/32",
        "--access-log", "/dev/full",  # every write fails: "no space left on device"
    )
    try:
        first = curl(gw, origin_url(world, "/first"))
        assert status_of(first) == 200  # forwarded; its record is what failed
        # The record is written within milliseconds of the response (docs/gateway.md,
        # "Audit: the boundary"); from then on nothing is forwarded.
        wait_until(lambda: admin_get(gw, "/healthz")[0] == 503)
        second = curl(gw, origin_url(world, "/second"))
        assert status_of(second) == 503
        assert "audit trail" in body_of(second)
        assert not any(r.target == "/second" for r in world.origin.requests)
        status, body = admin_get(gw, "/healthz")
        assert status == 503
        assert "disk full" in body or "no space" in body
    finally:
        gw.stop()


def test_graceful_shutdown_finishes_open_transactions(world: World, tmp_path: Path) -> None:
    gw = start_gateway(
        tmp_path,
        "--policy", str(world.policy),
        "--categories", str(world.snapshot),
        "--allow-destination", f"{ORIGIN_HOST}/32",
    )
    slow = subprocess.Popen(
        ["curl", "-s", "-x", gw.proxy, "-U", "pc1001:demo", origin_url(world, "/slow")],
        stdout=subprocess.PIPE, text=True, env=clean_env(),
    )
    time.sleep(0.4)
    gw.process.send_signal(signal.SIGTERM)
    out, _ = slow.communicate(timeout=20)
    assert out == "slow but sure"
    assert gw.process.wait(30) == 0
    assert "slow" in (gw.state_dir / "logs" / "access.log").read_text()


def test_log_rotation_on_sigusr1(two_workers: Gateway, world: World) -> None:
    logs = two_workers.state_dir / "logs"
    (logs / "access.log").rename(logs / "access.log.1")
    os.kill(two_workers.process.pid, signal.SIGUSR1)
    time.sleep(0.5)  # the signal reaches the workers through the supervisor
    for i in range(6):
        curl(two_workers, origin_url(world, f"/rotated{i}"))
    wait_until(lambda: (logs / "access.log").exists()
               and "/rotated5" in (logs / "access.log").read_text())
    assert "/rotated" not in (logs / "access.log.1").read_text()


def test_a_second_gateway_cannot_take_the_port(
    two_workers: Gateway, world: World, tmp_path: Path
) -> None:
    with pytest.raises(RuntimeError, match="already in use"):
        start_gateway(tmp_path, "--listen", f"127.0.0.1:{two_workers.proxy_port}",
                      "--categories", str(world.snapshot))


def test_a_bad_policy_stops_the_start_with_the_reason(world: World, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("regime: {id: x}\n")
    with pytest.raises(RuntimeError, match=r"bad\.yaml"):
        start_gateway(tmp_path, "--policy", str(bad), "--categories", str(world.snapshot))
