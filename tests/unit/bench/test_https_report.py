from __future__ import annotations

from typing import Any

import pytest

from gatewaybench.https_report import baseline_for, goal_cell, render_https


def _http(test: str, rps: float, cpu_s: float, round_no: int) -> dict[str, Any]:
    requests = int(rps * 5)
    return {"test": test, "round": round_no, "requests": requests, "duration_s": 5.0,
            "bytes": requests * 1300, "rps": rps, "errors": 0, "err_read": 0,
            "lat_p50_us": 4000, "lat_p99_us": 9000, "origin_hits": requests,
            "proxy_log_lines": requests, "cpu_s": cpu_s, "client_cpu_percent": 40.0,
            "foreign_cpu_percent": 1.0, "rss_kib": 100 * 1024, "pss_kib": 80 * 1024,
            "processes": 3}


def _spliced(mb_per_s: float, round_no: int) -> dict[str, Any]:
    transfers = 200
    size = transfers * 1024 * 1024
    return {"test": "connect", "round": round_no, "bytes": size, "transfers_ok": transfers,
            "transfers_failed": 0, "tunnels": 13, "elapsed_s": size / (mb_per_s * 1e6),
            "mb_per_s": mb_per_s, "origin_hits": transfers, "cpu_s": 0.2,
            "client_cpu_percent": 80.0}


def _target(ka: float, close: float, mbps: float, ka_cpu: float, close_cpu: float
            ) -> list[dict[str, Any]]:
    return [run for i in (1, 2) for run in (
        _http("ka", ka, ka_cpu, i), _http("close", close, close_cpu, i), _spliced(mbps, i))]


def _raw(targets: list[str]) -> dict[str, Any]:
    runs = {
        # 3,000 req/s, 5 s: 15,000 requests; 4.5 s CPU -> 300 µs a request.
        "webwarden": _target(3000, 500, 450, ka_cpu=4.5, close_cpu=3.75),
        "webwarden-2w": _target(3500, 600, 400, ka_cpu=6.125, close_cpu=4.5),
        "squid-bump": _target(2000, 150, 300, ka_cpu=2.5, close_cpu=4.5),
        "squid-bump-2w": _target(4000, 200, 400, ka_cpu=4.0, close_cpu=6.0),
    }
    return {
        "targets": targets, "runs": {t: runs[t] for t in targets},
        "checks": {"webwarden": {"decrypted": "200, certificate from the proxies' CA"}},
        "skipped": {}, "notes": {t: f"note for {t}" for t in targets},
        "meta": {"date": "2026-12-04 19:00 UTC", "nproc": 2, "cpu": "Test CPU",
                 "mem_gib": 8.0, "kernel": "6.1", "versions": {"squid": "5.7"},
                 "rounds": 2, "duration": 5, "connections": 50, "close_connections": 20,
                 "threads": 2, "connect_parallel": 4, "per_tunnel": 16,
                 "load_before": ["0.5", "0.6", "0.7"], "load_after": ["1.5", "1.1", "0.9"],
                 "decrypt_host": "shop.bench.test", "splice_host": "www.nhs.uk"},
    }


@pytest.mark.parametrize(("name", "present", "expected"), [
    ("webwarden", {"squid-bump", "squid-bump-2w"}, "squid-bump"),
    ("webwarden-2w", {"squid-bump", "squid-bump-2w"}, "squid-bump-2w"),
    ("webwarden-2w", {"squid-bump"}, "squid-bump"),      # falls back to one worker
    ("webwarden", {"squid-bump-2w"}, None),               # never against more workers
    ("webwarden", set(), None),
    ("squid-bump-2w", {"squid-bump", "squid-bump-2w"}, None),
])
def test_baseline_for(name: str, present: set[str], expected: str | None) -> None:
    assert baseline_for(name, present) == expected


@pytest.mark.parametrize(("value", "ok", "expected"), [
    (1.234, True, "1.23 met"),
    (0.5, False, "0.50 **not met**"),
    (None, None, "–"),
    (1.0, None, "–"),
])
def test_goal_cell(value: float | None, ok: bool | None, expected: str) -> None:
    assert goal_cell(value, ok) == expected


def test_render_compares_each_gateway_with_the_squid_of_as_many_workers() -> None:
    text = render_https(_raw(["webwarden", "webwarden-2w", "squid-bump", "squid-bump-2w"]))
    # 3,000 / 2,000 KA; 500 / 150 new sessions; 450 / 300 MB/s; 300 µs and 1,500 µs a request.
    assert "| webwarden | 3,000 | 1.50 | 500 | 3.33 | 450 | 1.50 | 300 | 1,500 |" in text
    assert "| webwarden-2w | 3,500 | 0.88 | 600 | 3.00 | 400 | 1.00 | 350 | 1,500 |" in text
    assert "| squid-bump | 2,000 | – | 150 | – | 300 | – | 250 | 6,000 |" in text
    goals = text.split("### Goals")[1].split("### Sanity")[0]
    # CPU per KA request 300 against 250 (1.20) and 350 against 200 (1.75): not met;
    # per new session 1,500 against 6,000: met.
    assert ("| webwarden | squid-bump | 1.50 met | 3.33 met | 1.50 met | 1.20 **not met** | "
            "0.25 met |") in goals
    assert ("| webwarden-2w | squid-bump-2w | 0.88 **not met** | 3.00 met | 1.00 met | "
            "1.75 **not met** | 0.25 met |") in goals
    assert "load average before 0.5 0.6 0.7, after 1.5 1.1 0.9" in text
    assert "  - decrypted: 200, certificate from the proxies' CA" in text
    assert "| webwarden | 3,000, 3,000 | 500, 500 | 450, 450 | 0 | 0 | 0 |" in text


def test_render_without_squid_has_no_ratios_and_no_goals() -> None:
    text = render_https(_raw(["webwarden"]))
    assert "| webwarden | 3,000 | – | 500 | – | 450 | – |" in text
    assert "### Goals" not in text
