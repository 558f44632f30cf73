"""From the raw runs of one benchmark to the markdown tables: medians per target,
ratios against Squid measured in the same run, the project's goals, sanity checks.

Works on the JSON-shaped raw record only, so a saved run can be re-rendered.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

BASELINE = "squid"
# The project's aims for the gateway (reported, never asserted).
GOAL_RATIO = 1.0
GOAL_CPU_US_PER_REQUEST = 150.0

Run = dict[str, Any]


def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


@dataclass
class HttpSummary:
    rps: float | None
    p50_ms: float | None
    p99_ms: float | None
    cpu_us_per_request: float | None
    bytes_per_response: float | None
    errors: int
    read_errors: int
    origin_ratio: float | None
    proxy_log_ratio: float | None
    all_rps: list[int]


@dataclass
class ConnectSummary:
    mb_per_s: float | None
    cpu_ms_per_mb: float | None
    failed: int
    origin_ratio: float | None
    all_mb_per_s: list[int]


# Stand-ins for a test that was not run: every figure unknown.
NO_HTTP = HttpSummary(rps=None, p50_ms=None, p99_ms=None, cpu_us_per_request=None,
                      bytes_per_response=None, errors=0, read_errors=0, origin_ratio=None,
                      proxy_log_ratio=None, all_rps=[])
NO_CONNECT = ConnectSummary(mb_per_s=None, cpu_ms_per_mb=None, failed=0, origin_ratio=None,
                            all_mb_per_s=[])


@dataclass
class TargetSummary:
    http: dict[str, HttpSummary] = field(default_factory=dict)
    connect: ConnectSummary | None = None
    rss_mib: float | None = None
    pss_mib: float | None = None
    processes: int | None = None
    steal_percent: float | None = None
    foreign_cpu_percent: float | None = None


def _ratio(part: float | None, whole: float | None) -> float | None:
    return part / whole if part is not None and whole else None


def _http_summary(runs: list[Run]) -> HttpSummary:
    return HttpSummary(
        rps=median(r["rps"] for r in runs),
        p50_ms=median(r["lat_p50_us"] / 1000 for r in runs),
        p99_ms=median(r["lat_p99_us"] / 1000 for r in runs),
        cpu_us_per_request=median(
            r["cpu_s"] / r["requests"] * 1e6 if r.get("cpu_s") is not None and r["requests"]
            else None for r in runs),
        bytes_per_response=median(_ratio(r["bytes"], r["requests"]) for r in runs),
        errors=sum(r["errors"] for r in runs),
        read_errors=sum(r["err_read"] for r in runs),
        origin_ratio=median(_ratio(r["origin_hits"], r["requests"]) for r in runs),
        proxy_log_ratio=median(_ratio(r.get("proxy_log_lines"), r["requests"]) for r in runs),
        all_rps=[round(r["rps"]) for r in runs],
    )


def _connect_summary(runs: list[Run]) -> ConnectSummary:
    return ConnectSummary(
        mb_per_s=median(r["mb_per_s"] for r in runs),
        cpu_ms_per_mb=median(
            r["cpu_s"] * 1000 / (r["bytes"] / 1e6) if r.get("cpu_s") is not None and r["bytes"]
            else None for r in runs),
        failed=sum(r["transfers_failed"] for r in runs),
        origin_ratio=median(_ratio(r["origin_hits"], r["transfers_ok"]) for r in runs),
        all_mb_per_s=[round(r["mb_per_s"]) for r in runs],
    )


def summarise(runs: list[Run]) -> TargetSummary:
    summary = TargetSummary()
    for test in ("ka", "close"):
        chosen = [r for r in runs if r["test"] == test]
        if chosen:
            summary.http[test] = _http_summary(chosen)
    connect = [r for r in runs if r["test"] == "connect"]
    if connect:
        summary.connect = _connect_summary(connect)
    rss = [r["rss_kib"] for r in runs if r.get("rss_kib")]
    pss = [r["pss_kib"] for r in runs if r.get("pss_kib")]
    summary.rss_mib = max(rss) / 1024 if rss else None
    summary.pss_mib = max(pss) / 1024 if pss else None
    summary.processes = max((r.get("processes") or 0 for r in runs), default=0) or None
    summary.steal_percent = median(r.get("steal_percent") for r in runs)
    summary.foreign_cpu_percent = median(r.get("foreign_cpu_percent") for r in runs)
    return summary


def _fmt(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _http(s: TargetSummary, test: str) -> HttpSummary:
    return s.http.get(test, NO_HTTP)


def _runs(values: list[int]) -> str:
    return ", ".join(f"{v:,}" for v in values) if values else "–"


def _rps(s: TargetSummary | None, test: str) -> float | None:
    h = s.http.get(test) if s else None
    return h.rps if h else None


def _mbps(s: TargetSummary | None) -> float | None:
    return s.connect.mb_per_s if s and s.connect else None


def _goal(value: float | None, ok: bool | None) -> str:
    if value is None or ok is None:
        return "–"
    return "met" if ok else "**not met**"


def render(raw: dict[str, Any]) -> str:
    meta = raw["meta"]
    names = [n for n in raw["targets"] if raw["runs"].get(n)]
    sums = {n: summarise(raw["runs"][n]) for n in names}
    base = sums.get(BASELINE)
    out: list[str] = []
    add = out.append

    add(f"## Gateway benchmark, {meta['date']}\n")
    add(f"- machine: {meta['nproc']} CPUs ({meta['cpu']}), {meta['mem_gib']:.0f} GiB RAM, "
        f"kernel {meta['kernel']}")
    add("- versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    add(f"- load: wrk {meta['threads']} threads × {meta['connections']} connections, "
        f"{meta['duration']} s per run; CONNECT: {meta['connect_parallel']} parallel curl "
        f"loops, {meta['per_tunnel']} × 1 MiB per tunnel, {meta['duration']} s per run")
    rounds = meta["rounds"]
    add(f"- {rounds} round{'' if rounds == 1 else 's'}, targets interleaved (order rotated "
        f"each round), each target running only during its own slot; figures are medians "
        f"over the rounds")
    add("- origin: nginx, 1 worker, 1 KiB file over HTTP, 1 MiB file over HTTPS "
        "(self-signed certificate made for the run)")
    for key, what in (("steal_percent", "hypervisor CPU steal"),
                      ("foreign_cpu_percent", "CPU used by other programs on the machine")):
        seen = [r[key] for n in names for r in raw["runs"][n] if r.get(key) is not None]
        if seen:
            add(f"- {what} during the runs: median {statistics.median(seen):.1f}%, "
                f"max {max(seen):.1f}% of all CPUs")
    waits = [r["quiet_wait_s"] for n in names for r in raw["runs"][n] if "quiet_wait_s" in r]
    if waits and "quiet_below" in meta:
        add(f"- before each run the benchmark waited (at most {meta['quiet_wait']:.0f} s) for "
            f"other programs to use less than {meta['quiet_below']:.0f}% of the CPUs: "
            f"waited {sum(waits):.0f} s in all, longest {max(waits):.0f} s")
    add("")

    add(f"### Throughput (medians) and ratio to {BASELINE}\n")
    add(f"| target | keep-alive req/s | × {BASELINE} | conn-close req/s | × {BASELINE} | "
        f"CONNECT MB/s | × {BASELINE} |")
    add("|---|---:|---:|---:|---:|---:|---:|")
    for n in names:
        s = sums[n]
        add(f"| {n} | {_fmt(_rps(s, 'ka'))} | {_fmt(_ratio(_rps(s, 'ka'), _rps(base, 'ka')), 2)} "
            f"| {_fmt(_rps(s, 'close'))} | "
            f"{_fmt(_ratio(_rps(s, 'close'), _rps(base, 'close')), 2)} | {_fmt(_mbps(s))} | "
            f"{_fmt(_ratio(_mbps(s), _mbps(base)), 2)} |")

    add("\n### Latency, CPU, memory (medians; memory: largest after load)\n")
    add("| target | KA p50 ms | KA p99 ms | close p50 ms | close p99 ms | CPU µs/req KA | "
        "CPU µs/req close | CPU ms/MB CONNECT | RSS MiB (PSS) | processes |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in names:
        s = sums[n]
        ka, close, conn = _http(s, "ka"), _http(s, "close"), s.connect or NO_CONNECT
        mem = "–" if s.rss_mib is None else f"{s.rss_mib:.1f} ({_fmt(s.pss_mib, 1)})"
        add(f"| {n} | {_fmt(ka.p50_ms, 2)} | {_fmt(ka.p99_ms, 2)} | {_fmt(close.p50_ms, 2)} | "
            f"{_fmt(close.p99_ms, 2)} | {_fmt(ka.cpu_us_per_request)} | "
            f"{_fmt(close.cpu_us_per_request)} | {_fmt(conn.cpu_ms_per_mb, 2)} | {mem} | "
            f"{s.processes or '–'} |")

    gateway_names = [n for n in names if n.startswith("webwarden")]
    if gateway_names:
        add(f"\n### Goals (≥ {GOAL_RATIO:.1f}× {BASELINE} req/s and CONNECT MB/s, "
            f"≤ {GOAL_CPU_US_PER_REQUEST:.0f} µs CPU per request)\n")
        add(f"| target | keep-alive × {BASELINE} | conn-close × {BASELINE} | "
            f"CONNECT × {BASELINE} | CPU µs/req KA | CPU µs/req close |")
        add("|---|---|---|---|---|---|")
        for n in gateway_names:
            s = sums[n]
            cells = []
            for value in (_ratio(_rps(s, "ka"), _rps(base, "ka")),
                          _ratio(_rps(s, "close"), _rps(base, "close")),
                          _ratio(_mbps(s), _mbps(base))):
                ok = None if value is None else value >= GOAL_RATIO
                cells.append(f"{_fmt(value, 2)} {_goal(value, ok)}")
            for test in ("ka", "close"):
                cpu = _http(s, test).cpu_us_per_request
                ok = None if cpu is None else cpu <= GOAL_CPU_US_PER_REQUEST
                cells.append(f"{_fmt(cpu)} {_goal(cpu, ok)}")
            add(f"| {n} | " + " | ".join(cells) + " |")

    add("\n### Sanity checks\n")
    add("| target | KA runs req/s | close runs req/s | CONNECT runs MB/s | wrk errors | "
        "wrk read errors | CONNECT failed transfers | bytes/response KA | "
        "origin hits ÷ requests KA / close / CONNECT | proxy log lines ÷ requests KA / close "
        "| block check | other load % | steal % |")
    add("|---|---|---|---|---:|---:|---:|---:|---|---|---|---:|---:|")
    checks = raw.get("checks", {})
    for n in names:
        s = sums[n]
        ka, close, conn = _http(s, "ka"), _http(s, "close"), s.connect or NO_CONNECT
        errors = sum(h.errors for h in s.http.values())
        read_errors = sum(h.read_errors for h in s.http.values())
        origin = " / ".join(_fmt(x, 3) for x in (ka.origin_ratio, close.origin_ratio,
                                                   conn.origin_ratio))
        logs = " / ".join(_fmt(x, 3) for x in (ka.proxy_log_ratio, close.proxy_log_ratio))
        block = checks.get(n, {}).get("block_ok")
        block_cell = "–" if block is None else ("blocked" if block else "**NOT blocked**")
        add(f"| {n} | {_runs(ka.all_rps)} | {_runs(close.all_rps)} | "
            f"{_runs(conn.all_mb_per_s)} | {errors} | {read_errors} | "
            f"{conn.failed if s.connect else '–'} | {_fmt(ka.bytes_per_response)} | "
            f"{origin} | {logs} | {block_cell} | {_fmt(s.foreign_cpu_percent, 1)} | "
            f"{_fmt(s.steal_percent, 1)} |")

    add("")
    for n in names:
        add(f"- **{n}**: {raw['notes'].get(n, '')}")
    for n, why in raw.get("skipped", {}).items():
        add(f"- **{n}**: skipped: {why}")
    sg = meta.get("squidguard")
    if sg:
        missing = f"; not in the lists: {', '.join(sg['missing'])}" if sg["missing"] else ""
        add(f"- squidGuard database: {', '.join(sg['categories'])} ({sg['domains']:,} domains, "
            f"{sg['urls']:,} URLs; compiled in {sg['build_seconds']:.0f} s){missing}")
    return "\n".join(out) + "\n"
