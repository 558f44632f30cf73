"""The HTTPS benchmark's tables, from its raw JSON-shaped record: decrypted request
rates (keep-alive and a new TLS session per request), spliced throughput, CPU per
request, memory, each webwarden target against the Squid with as many workers.

Pure: the medians come from gatewaybench.report.summarise, the same as the gateway
benchmark's.
"""

from __future__ import annotations

import statistics
from typing import Any

from gatewaybench.report import (
    NO_CONNECT,
    NO_HTTP,
    TargetSummary,
    _fmt,
    _ratio,
    _runs,
    summarise,
)

SQUID_1W = "squid-bump"
SQUID_2W = "squid-bump-2w"
GOAL_RATIO = 1.0

TARGET_NOTES = {
    "webwarden": "webwarden gateway --workers 1 --ca-dir --upstream-ca-bundle --hosts-file: "
                 "default policy, demo directory, shipped categories, every audit sink",
    "webwarden-2w": "as webwarden, --workers 2",
    "squid-bump": "squid -N (one process), http_port ssl-bump with the same CA, "
                  "security_file_certgen (5 helpers), peek at step 1, splice .nhs.uk, "
                  "bump all else, cache deny all, daemon access log",
    "squid-bump-2w": "as squid-bump, workers 2",
    "squid-bump-first": "as squid-bump, but no peek: splice (by the CONNECT's host) or "
                        "bump at step 1 (client-first), so Squid reuses its per-host TLS "
                        "contexts",
}


def baseline_for(name: str, present: set[str]) -> str | None:
    """The Squid a target is compared with: the one with as many workers, else one
    worker; None when neither ran (or the target is a Squid itself)."""
    if name.startswith("squid"):
        return None
    wanted = SQUID_2W if name.endswith("-2w") else SQUID_1W
    for candidate in (wanted, SQUID_1W):
        if candidate in present:
            return candidate
    return None


def goal_cell(value: float | None, ok: bool | None) -> str:
    """A figure with its verdict; a dash when it is unknown."""
    if value is None or ok is None:
        return "–"
    return f"{value:,.2f} met" if ok else f"{value:,.2f} **not met**"


def _rps(s: TargetSummary | None, test: str) -> float | None:
    h = s.http.get(test) if s else None
    return h.rps if h else None


def _cpu(s: TargetSummary | None, test: str) -> float | None:
    h = s.http.get(test) if s else None
    return h.cpu_us_per_request if h else None


def _mbps(s: TargetSummary | None) -> float | None:
    return s.connect.mb_per_s if s and s.connect else None


def _client_cpu(runs: list[dict[str, Any]], test: str) -> float | None:
    seen = [r["client_cpu_percent"] for r in runs
            if r["test"] == test and r.get("client_cpu_percent") is not None]
    return statistics.median(seen) if seen else None


def render_https(raw: dict[str, Any]) -> str:
    """Markdown tables of one run (or a saved one)."""
    meta = raw["meta"]
    names = [n for n in raw["targets"] if raw["runs"].get(n)]
    sums = {n: summarise(raw["runs"][n]) for n in names}
    present = set(names)
    out: list[str] = []
    add = out.append

    add(f"## HTTPS benchmark, {meta['date']}\n")
    add(f"- machine: {meta['nproc']} CPUs ({meta['cpu']}), {meta['mem_gib']:.0f} GiB RAM, "
        f"kernel {meta['kernel']}")
    add("- versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    add(f"- decrypted ({meta['decrypt_host']}, uncategorised): wrk {meta['threads']} threads "
        f"→ stunnel (CONNECT + TLS through the proxy, one tunnel per wrk connection, no "
        f"session resumption) → proxy → nginx over TLS; keep-alive: {meta['connections']} "
        f"connections; new session per request: {meta['close_connections']} connections "
        f"with `Connection: close`; {meta['duration']} s per run")
    add(f"- spliced ({meta['splice_host']}, health, never decrypted): "
        f"{meta['connect_parallel']} parallel curl loops, {meta['per_tunnel']} × 1 MiB per "
        f"tunnel, {meta['duration']} s per run")
    add(f"- {meta['rounds']} round(s), targets interleaved, order rotated each round; "
        f"medians over the rounds; load average before {' '.join(meta['load_before'])}"
        + (f", after {' '.join(meta['load_after'])}" if meta.get("load_after") else ""))
    add("")

    add("### Decrypted and spliced (medians); × is against the Squid with as many workers\n")
    add("| target | decrypted KA req/s | × | new session req/s (= handshakes/s) | × | "
        "spliced MB/s | × | CPU µs/req KA | CPU µs/req new session | CPU ms/MB spliced | "
        "RSS MiB (PSS) | processes |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in names:
        s = sums[n]
        b = baseline_for(n, present)
        base = sums.get(b) if b else None
        conn = s.connect or NO_CONNECT
        mem = "–" if s.rss_mib is None else f"{s.rss_mib:.1f} ({_fmt(s.pss_mib, 1)})"
        add(f"| {n} | {_fmt(_rps(s, 'ka'))} | {_fmt(_ratio(_rps(s, 'ka'), _rps(base, 'ka')), 2)}"
            f" | {_fmt(_rps(s, 'close'))} | "
            f"{_fmt(_ratio(_rps(s, 'close'), _rps(base, 'close')), 2)} | "
            f"{_fmt(_mbps(s))} | {_fmt(_ratio(_mbps(s), _mbps(base)), 2)} | "
            f"{_fmt(_cpu(s, 'ka'))} | "
            f"{_fmt(_cpu(s, 'close'))} | {_fmt(conn.cpu_ms_per_mb, 2)} | {mem} | "
            f"{s.processes or '–'} |")

    gateway = [n for n in names if baseline_for(n, present)]
    if gateway:
        add("\n### Goals (≥ 1.0× Squid's decrypted rates and spliced MB/s; CPU per "
            "decrypted request at most Squid's: shown as webwarden ÷ Squid, ≤ 1.0)\n")
        add("| target | against | KA req/s × | new session req/s × | spliced MB/s × | "
            "CPU/req KA ÷ | CPU/req new session ÷ |")
        add("|---|---|---|---|---|---|---|")
        for n in gateway:
            b = baseline_for(n, present)
            assert b is not None
            s, base = sums[n], sums[b]
            cells = []
            for value in (_ratio(_rps(s, "ka"), _rps(base, "ka")),
                          _ratio(_rps(s, "close"), _rps(base, "close")),
                          _ratio(_mbps(s), _mbps(base))):
                cells.append(goal_cell(value, None if value is None else value >= GOAL_RATIO))
            for test in ("ka", "close"):
                value = _ratio(_cpu(s, test), _cpu(base, test))
                cells.append(goal_cell(value, None if value is None else value <= GOAL_RATIO))
            add(f"| {n} | {b} | " + " | ".join(cells) + " |")

    add("\n### Sanity checks\n")
    add("| target | KA runs req/s | new-session runs req/s | spliced runs MB/s | wrk errors | "
        "wrk read errors | failed spliced transfers | bytes/response KA | origin hits ÷ "
        "requests KA / new / spliced | proxy log lines ÷ requests KA / new | load tools' "
        "CPU % KA / new / spliced | other load % |")
    add("|---|---|---|---|---:|---:|---:|---:|---|---|---|---:|")
    for n in names:
        s = sums[n]
        runs = raw["runs"][n]
        ka, close = s.http.get("ka", NO_HTTP), s.http.get("close", NO_HTTP)
        conn = s.connect or NO_CONNECT
        origin = " / ".join(_fmt(x, 3) for x in (ka.origin_ratio, close.origin_ratio,
                                                   conn.origin_ratio))
        logs = " / ".join(_fmt(x, 3) for x in (ka.proxy_log_ratio, close.proxy_log_ratio))
        client = " / ".join(_fmt(_client_cpu(runs, t)) for t in ("ka", "close", "connect"))
        add(f"| {n} | {_runs(ka.all_rps)} | {_runs(close.all_rps)} | "
            f"{_runs(conn.all_mb_per_s)} | {sum(h.errors for h in s.http.values())} | "
            f"{sum(h.read_errors for h in s.http.values())} | "
            f"{conn.failed if s.connect else '–'} | {_fmt(ka.bytes_per_response)} | "
            f"{origin} | {logs} | {client} | {_fmt(s.foreign_cpu_percent, 1)} |")

    add("")
    for n in names:
        add(f"- **{n}**: {raw['notes'].get(n, '')}")
        for what, seen in raw.get("checks", {}).get(n, {}).items():
            add(f"  - {what}: {seen}")
    for n, why in raw.get("skipped", {}).items():
        add(f"- **{n}**: skipped: {why}")
    return "\n".join(out) + "\n"
