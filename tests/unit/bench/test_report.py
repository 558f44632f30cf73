from __future__ import annotations

from typing import Any

from gatewaybench.report import render, summarise


def _http_run(test: str, rps: float, cpu_s: float | None, round_no: int) -> dict[str, Any]:
    requests = int(rps * 10)
    run: dict[str, Any] = {
        "test": test, "round": round_no, "requests": requests, "duration_s": 10.0,
        "bytes": requests * 1400, "rps": rps, "errors": 0, "err_read": 0,
        "lat_p50_us": 5000, "lat_p99_us": 20000, "origin_hits": requests,
        "proxy_log_lines": requests, "steal_percent": 1.0,
        "rss_kib": 40 * 1024, "pss_kib": 30 * 1024, "processes": 2,
    }
    if cpu_s is not None:
        run["cpu_s"] = cpu_s
    return run


def _connect_run(mb_per_s: float, round_no: int) -> dict[str, Any]:
    transfers = 100
    return {"test": "connect", "round": round_no, "bytes": transfers * 1024 * 1024,
            "transfers_ok": transfers, "transfers_failed": 0, "tunnels": 7,
            "elapsed_s": transfers * 1024 * 1024 / (mb_per_s * 1e6), "mb_per_s": mb_per_s,
            "origin_hits": transfers, "cpu_s": 0.1, "steal_percent": 0.5}


def _target(ka: list[float], close: float, mbps: float, cpu_s: float) -> list[dict[str, Any]]:
    runs = []
    for i, rps in enumerate(ka, start=1):
        runs += [_http_run("ka", rps, cpu_s, i), _http_run("close", close, cpu_s, i),
                 _connect_run(mbps, i)]
    return runs


def _raw() -> dict[str, Any]:
    return {
        "targets": ["squid", "webwarden", "direct"],
        "runs": {
            "squid": _target([4000, 5000, 9000], 2000, 400, cpu_s=8.0),
            "webwarden": _target([6000, 5500, 5000], 1000, 500, cpu_s=5.0),
            "direct": [],
        },
        "checks": {"webwarden": {"block_ok": True}},
        "skipped": {"direct": "origin down"},
        "notes": {"squid": "squid -N", "webwarden": "the gateway"},
        "meta": {"date": "2026-01-01 00:00 UTC", "nproc": 2, "cpu": "Test CPU",
                 "mem_gib": 8.0, "kernel": "6.1", "versions": {"squid": "5.7"},
                 "threads": 2, "connections": 50, "duration": 10, "connect_parallel": 4,
                 "per_tunnel": 16, "rounds": 3},
    }


def test_summary_takes_medians_over_rounds() -> None:
    summary = summarise(_raw()["runs"]["squid"])
    assert summary.http["ka"].rps == 5000
    assert summary.http["ka"].all_rps == [4000, 5000, 9000]
    assert summary.http["ka"].cpu_us_per_request == 8.0 / 50000 * 1e6
    assert summary.connect is not None
    assert round(summary.connect.mb_per_s or 0) == 400
    assert summary.rss_mib == 40.0


def test_render_shows_ratios_to_squid_and_the_goals() -> None:
    text = render(_raw())
    assert "| webwarden | 5,500 | 1.10 | 1,000 | 0.50 | 500 | 1.25 |" in text
    assert "| squid | 5,000 | 1.00 | 2,000 | 1.00 | 400 | 1.00 |" in text
    # CPU: 5 s over 55,000 requests = 91 µs (met); over 10,000 requests = 500 µs (not met).
    assert "| webwarden | 1.10 met | 0.50 **not met** | 1.25 met | 91 met | 500 **not met** |" \
        in text
    assert "| webwarden |" in text.split("### Sanity checks")[1]
    assert "blocked |" in text
    assert "- **direct**: skipped: origin down" in text


def test_render_without_squid_leaves_ratios_empty() -> None:
    raw = _raw()
    raw["targets"] = ["webwarden"]
    text = render(raw)
    assert "| webwarden | 5,500 | – | 1,000 | – | 500 | – |" in text
