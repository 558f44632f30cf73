#!/usr/bin/env python3
"""HTTPS side by side: webwarden's interception against Squid's ssl_bump, in one run.

The harness of bench/gateway_bench.py (origin, supervisor, /proc accounting, wrk,
curl loops) with an HTTPS origin whose certificate comes from a CA made for the run,
one CA shared by both proxies for the certificates they mint, and a hosts file that
maps the test names to the origin. Three measurements per target and round:

- ka: decrypted requests with keep-alive: wrk -> stunnel (CONNECT + TLS through the
  proxy, one tunnel per wrk connection) -> the proxy decrypts -> nginx over TLS.
- close: the same with `Connection: close`: a new CONNECT and a full TLS handshake
  with the proxy (no resumption) for every request; the rate is the handshake rate.
- connect: 1 MiB downloads from a never-decrypted (health) site through spliced
  tunnels, curl loops as in the gateway benchmark.

Writes bench/results/https-<time>.json and .md and prints the tables.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gateway_bench import (
    LineCounter,
    find_webwarden,
    log,
    machine,
    run_and_record,
    versions,
    work_directory,
)
from gatewaybench import procs
from gatewaybench.https_report import TARGET_NOTES, render_https
from gatewaybench.https_setup import (
    DECRYPT_HOST,
    SPLICE_HOST,
    TunnelClient,
    hosts_text,
    init_certgen_db,
    init_webwarden_ca,
    make_origin_pki,
    squid_bump_extra,
    squid_bump_port_options,
    squid_ca_copy,
    start_stunnel,
    webwarden_https_args,
)
from gatewaybench.load import run_connect, run_wrk
from gatewaybench.origin import ORIGIN_HEADER, SIZE_1K, SIZE_1M, Origin, start_origin
from gatewaybench.procs import LOOPBACK, clean_env
from gatewaybench.targets import (
    DEMO_PASSWORD,
    DEMO_USER,
    RunContext,
    Running,
    _start_squid,
    _start_webwarden,
    _target_dir,
)

HERE = Path(__file__).resolve().parent
TARGETS = ("webwarden", "webwarden-2w", "squid-bump", "squid-bump-2w", "squid-bump-first")
DEFAULT_TARGETS = TARGETS
TESTS = ("ka", "close", "connect")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", default=",".join(DEFAULT_TARGETS),
                    help=f"comma-separated, from: {', '.join(TARGETS)} (default: all)")
    ap.add_argument("--tests", default=",".join(TESTS),
                    help="ka (decrypted, keep-alive), close (decrypted, new TLS session "
                         "per request), connect (spliced 1 MiB downloads) (default: all)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds over all targets (2)")
    ap.add_argument("--duration", type=int, default=5, help="seconds per measured run (5)")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of keep-alive load first")
    ap.add_argument("--connections", type=int, default=50,
                    help="wrk connections, each one tunnel through the proxy (50)")
    ap.add_argument("--close-connections", type=int, default=20,
                    help="wrk connections for the new-session test (20)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    ap.add_argument("--connect-parallel", type=int, default=4,
                    help="parallel curl loops through spliced tunnels (4)")
    ap.add_argument("--per-tunnel", type=int, default=16,
                    help="1 MiB fetches per spliced tunnel (16)")
    ap.add_argument("--quiet-below", type=float, default=20.0, metavar="PERCENT")
    ap.add_argument("--quiet-wait", type=float, default=20.0, metavar="SECONDS")
    ap.add_argument("--webwarden", type=Path, default=None)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--keep-work", action="store_true")
    ap.add_argument("--results", type=Path, default=HERE / "results")
    ap.add_argument("--from-raw", type=Path, metavar="JSON",
                    help="only render the tables of a saved run")
    args = ap.parse_args(argv)
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    args.tests = [t.strip() for t in args.tests.split(",") if t.strip()]
    for name in args.targets:
        if name not in TARGETS:
            ap.error(f"unknown target {name!r}; choose from {', '.join(TARGETS)}")
    for test in args.tests:
        if test not in TESTS:
            ap.error(f"unknown test {test!r}; choose from {', '.join(TESTS)}")
    if args.rounds < 1 or args.duration < 1:
        ap.error("--rounds and --duration must be at least 1")
    return args


@dataclasses.dataclass(frozen=True)
class Pki:
    origin_ca: Path
    ca_dir: Path
    ca_cert: Path
    ca_key: Path
    hosts: Path


def start_target(ctx: RunContext, name: str, pki: Pki) -> Running:
    workers = 2 if name.endswith("-2w") else 1
    if name.startswith("webwarden"):
        return _start_webwarden(ctx, name, workers)
    d = _target_dir(ctx, name)
    init_certgen_db(d / "ssl_db")
    cert, key = squid_ca_copy(pki.ca_cert, pki.ca_key, d)
    extra = squid_bump_extra(d / "ssl_db", pki.origin_ca, pki.hosts,
                             peek=not name.endswith("-first"))
    return _start_squid(ctx, name, workers, extra, squid_bump_port_options(cert, key))


def fetch_verified(target: Running, url: str, cacert: Path) -> tuple[int, int, str]:
    """One GET through the proxy, the site's certificate checked against `cacert` only:
    (status, bytes, the issuer curl saw or its error)."""
    argv = ["curl", "-s", "--proxy", f"http://{LOOPBACK}:{target.port}",
            "--proxy-user", f"{DEMO_USER}:{DEMO_PASSWORD}", "--cacert", str(cacert),
            "--max-time", "30", "-D", "-", "-o", "/dev/null",
            "-w", "CURLW %{http_code} %{size_download} %{ssl_verify_result}", url]
    done = subprocess.run(argv, env=clean_env(), capture_output=True, text=True, timeout=60,
                          check=False)
    head, _, tail = done.stdout.rpartition("CURLW ")
    code, size, _ = [*tail.split(), "0", "0", "0"][:3]
    origin_seen = f"\n{ORIGIN_HEADER}:" in f"\n{head.lower()}"
    note = f"curl exit {done.returncode}" + ("" if origin_seen else ", no origin header")
    return int(code), int(float(size)), note


def check_https(target: Running, origin: Origin, pki: Pki) -> dict[str, str]:
    """Decrypted really is decrypted (the page verifies against the proxies' CA) and
    spliced really is spliced (the file verifies against the origin's own CA)."""
    page = f"https://{DECRYPT_HOST}:{origin.https_port}/1k"
    status, size, note = fetch_verified(target, page, pki.ca_cert)
    if status != 200 or size != SIZE_1K:
        raise RuntimeError(f"{target.name}: {page} verified by the proxies' CA: status "
                           f"{status}, {size} bytes ({note})")
    big = f"https://{SPLICE_HOST}:{origin.https_port}/1m"
    s_status, s_size, s_note = fetch_verified(target, big, pki.origin_ca)
    if s_status != 200 or s_size != SIZE_1M:
        raise RuntimeError(f"{target.name}: {big} verified by the origin's CA: status "
                           f"{s_status}, {s_size} bytes ({s_note})")
    return {"decrypted": f"{page}: 200, {size} bytes, certificate from the proxies' CA",
            "spliced": f"{big}: 200, {s_size} bytes, the origin's own certificate"}


def _children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def measure(target: Running, tunnel: Running, tunnel_pid: int, origin: Origin, test: str,
            args: argparse.Namespace) -> dict[str, Any]:
    origin.new_hits()
    busy, waited = procs.wait_for_quiet(args.quiet_below, args.quiet_wait)
    assert target.leader is not None
    proxy_log = LineCounter(target.access_log)
    cpu_before = procs.cpu_seconds(target.leader)
    client_before = procs.cpu_seconds(tunnel_pid) + _children_cpu()
    stat_before = procs.cpu_counters()
    servers = [origin.pid, target.leader, tunnel_pid]
    snapshot_before = procs.cpu_snapshot(servers)
    started = time.monotonic()
    result: dict[str, Any]
    if test == "connect":
        run = run_connect(target, origin, duration=args.duration,
                          parallel=args.connect_parallel, per_tunnel=args.per_tunnel,
                          url=f"https://{SPLICE_HOST}:{origin.https_port}/1m")
        result = dataclasses.asdict(run) | {"mb_per_s": run.mb_per_s}
    else:
        close = test == "close"
        wrk = run_wrk(tunnel, origin, close=close, duration=args.duration,
                      connections=args.close_connections if close else args.connections,
                      threads=args.threads,
                      headers=(f"Host: {DECRYPT_HOST}:{origin.https_port}",))
        result = dataclasses.asdict(wrk) | {"rps": wrk.rps, "errors": wrk.errors}
    wall = time.monotonic() - started
    result["steal_percent"] = procs.steal_percent(stat_before, procs.cpu_counters())
    result["foreign_cpu_percent"] = procs.foreign_cpu_percent(snapshot_before,
                                                              procs.cpu_snapshot(servers))
    result["busy_before_percent"], result["quiet_wait_s"] = busy, waited
    result["cpu_s"] = procs.cpu_seconds(target.leader) - cpu_before
    # The load tools' share (stunnel, wrk or curl): they must not be the bottleneck.
    client = procs.cpu_seconds(tunnel_pid) + _children_cpu() - client_before
    result["client_cpu_percent"] = 100.0 * client / wall if wall else None
    mem = procs.memory(target.leader)
    result |= {"rss_kib": mem.rss_kib, "pss_kib": mem.pss_kib, "processes": mem.processes}
    hits = origin.new_hits()
    result["origin_hits"] = hits["/1m 200"] if test == "connect" else hits["/1k 200"]
    result["origin_other"] = {k: v for k, v in hits.items() if k not in ("/1m 200", "/1k 200")}
    if test != "connect":
        result["proxy_log_lines"] = proxy_log.new_lines()
    result["test"] = test
    return result


def describe(name: str, r: dict[str, Any]) -> str:
    cpu = f"client={r['client_cpu_percent']:.0f}% other={r['foreign_cpu_percent']:.0f}%"
    if r["test"] == "connect":
        return (f"{name:14s} spliced {r['mb_per_s']:7.1f} MB/s failed={r['transfers_failed']}"
                f" cpu={r['cpu_s'] * 1000 / max(1e-9, r['bytes'] / 1e6):.2f}ms/MB {cpu}")
    return (f"{name:14s} {r['test']:7s} {r['rps']:7.0f} req/s errors={r['errors']} "
            f"read-errors={r['err_read']} cpu={r['cpu_s'] / max(1, r['requests']) * 1e6:.0f}"
            f"µs/req origin/req={r['origin_hits'] / max(1, r['requests']):.3f} {cpu}")


def run_slot(ctx: RunContext, name: str, round_no: int, pki: Pki, args: argparse.Namespace,
             raw: dict[str, Any]) -> None:
    """One target's turn in a round; a target that fails is skipped from then on."""
    stunnel_name = f"{name}-stunnel"
    try:
        target = start_target(ctx, name, pki)
        raw["checks"].setdefault(name, check_https(target, ctx.origin, pki))
        client = TunnelClient(listen_port=ctx.port_for(stunnel_name), proxy_port=target.port,
                              site=DECRYPT_HOST, site_port=ctx.origin.https_port,
                              ca_file=pki.ca_cert, user=DEMO_USER, password=DEMO_PASSWORD)
        proc = start_stunnel(ctx.supervisor, stunnel_name, ctx.work / "stunnel", client)
        tunnel = Running(name=stunnel_name, port=client.listen_port, leader=proc.pid,
                         access_log=None, proxied=False)
        if args.warmup:
            run_wrk(tunnel, ctx.origin, close=False, duration=args.warmup,
                    connections=args.connections, threads=args.threads,
                    headers=(f"Host: {DECRYPT_HOST}:{ctx.origin.https_port}",))
        for test in args.tests:
            result = measure(target, tunnel, proc.pid, ctx.origin, test, args)
            result["round"] = round_no + 1
            raw["runs"][name].append(result)
            log(f"round {round_no + 1}: {describe(name, result)}")
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        log(f"{name}: skipped: {e}")
        raw["skipped"][name] = str(e).splitlines()[0][:300]
    finally:
        ctx.supervisor.stop(stunnel_name)
        ctx.supervisor.stop(name)


def https_versions() -> dict[str, str]:
    found = {k: v for k, v in versions().items() if k != "squidGuard"}
    done = subprocess.run(["stunnel", "-version"], capture_output=True, text=True,
                          timeout=30, check=False)
    # stunnel prints its version among other lines, on stderr, and exits 1.
    lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.startswith("stunnel ")]
    found["stunnel"] = lines[0].split()[1] if lines else "?"
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    webwarden = find_webwarden(args.webwarden)
    if webwarden is None and any(t.startswith("webwarden") for t in args.targets):
        raise SystemExit("the webwarden command was not found")
    load = Path("/proc/loadavg").read_text().split()[:3]
    raw: dict[str, Any] = {
        "targets": list(args.targets), "runs": {t: [] for t in args.targets},
        "checks": {}, "skipped": {}, "notes": {t: TARGET_NOTES[t] for t in args.targets},
        "meta": {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            **machine(), "versions": https_versions(),
            "rounds": args.rounds, "duration": args.duration, "warmup": args.warmup,
            "connections": args.connections, "close_connections": args.close_connections,
            "threads": args.threads, "connect_parallel": args.connect_parallel,
            "per_tunnel": args.per_tunnel, "tests": args.tests,
            "load_before": load, "decrypt_host": DECRYPT_HOST, "splice_host": SPLICE_HOST,
        },
    }
    with work_directory(args) as work, procs.Supervisor() as supervisor:
        log(f"work directory {work}")
        origin_pki = make_origin_pki(work / "pki", (DECRYPT_HOST, SPLICE_HOST))
        origin = start_origin(supervisor, work, cert=(origin_pki.cert, origin_pki.key))
        hosts = work / "hosts"
        hosts.write_text(hosts_text(LOOPBACK, (DECRYPT_HOST, SPLICE_HOST)))
        ca_dir = work / "ca"
        if webwarden is not None:
            ca_cert, ca_key = init_webwarden_ca(webwarden, ca_dir)
        else:
            raise SystemExit("webwarden is needed to make the CA both proxies share")
        pki = Pki(origin_ca=origin_pki.ca_cert, ca_dir=ca_dir, ca_cert=ca_cert, ca_key=ca_key,
                  hosts=hosts)
        for path in (work / "pki", hosts):
            path.chmod(0o755 if path.is_dir() else 0o644)
        (work / "pki" / "origin-ca.pem").chmod(0o644)

        def no_squidguard() -> Any:
            raise RuntimeError("no squidGuard in the HTTPS benchmark")

        ctx = RunContext(supervisor=supervisor, work=work, origin=origin,
                         webwarden_exe=webwarden,
                         webwarden_args=webwarden_https_args(ca_dir, pki.origin_ca, hosts),
                         squidguard=no_squidguard)
        for round_no in range(args.rounds):
            shift = round_no % len(args.targets)
            for name in args.targets[shift:] + args.targets[:shift]:
                if name not in raw["skipped"]:
                    run_slot(ctx, name, round_no, pki, args, raw)
    raw["meta"]["load_after"] = Path("/proc/loadavg").read_text().split()[:3]
    raw["targets"] = [t for t in args.targets if raw["runs"].get(t)]
    return raw


def main(argv: list[str] | None = None) -> int:
    return run_and_record(parse_args(argv), run, render_https, "https")


if __name__ == "__main__":
    sys.exit(main())
