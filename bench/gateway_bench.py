#!/usr/bin/env python3
"""Side-by-side benchmark of the webwarden gateway against Squid and Squid+squidGuard.

Everything runs on 127.0.0.1 in one run: an nginx origin, the targets (each one
started only for its own slot of a round, targets interleaved, order rotated every
round), wrk for keep-alive and connection-close request rates with latency, curl
loops through CONNECT tunnels for throughput, CPU time and memory of each proxy's
process tree from /proc. Ratios are against Squid measured in the same run.

Normally started through bench/run_gateway_bench.sh, which installs the tools.
Writes bench/results/gateway-<time>.json (every run) and .md (the tables), and
prints the tables.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from gatewaybench import procs
from gatewaybench.checks import TargetCheckError, check_target
from gatewaybench.load import run_connect, run_wrk
from gatewaybench.origin import Origin, start_origin
from gatewaybench.report import render
from gatewaybench.squidguard import (
    DEFAULT_BLOCKED,
    SHIPPED_UT1,
    SquidGuardDb,
    build_db,
    decides_blocked,
    sample_blocked_host,
    unpack_lists,
)
from gatewaybench.targets import TARGETS, RunContext, Running

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_TARGETS = ("direct", "squid", "squid-2w", "squid+squidGuard", "webwarden",
                   "webwarden-2w")
TESTS = ("ka", "close", "connect")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", default=",".join(DEFAULT_TARGETS),
                    help=f"comma-separated, from: {', '.join(TARGETS)} (default: all)")
    ap.add_argument("--tests", default=",".join(TESTS),
                    help="ka (keep-alive), close (Connection: close), connect (default: all)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds over all targets (3)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per measured run (10)")
    ap.add_argument("--warmup", type=int, default=2,
                    help="seconds of keep-alive load before a target is measured (2)")
    ap.add_argument("--connections", type=int, default=50, help="wrk connections (50)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    ap.add_argument("--connect-parallel", type=int, default=4,
                    help="parallel curl loops for CONNECT (4)")
    ap.add_argument("--per-tunnel", type=int, default=16,
                    help="1 MiB fetches per CONNECT tunnel (16)")
    ap.add_argument("--quiet-below", type=float, default=20.0, metavar="PERCENT",
                    help="before each run, wait until other programs use less than this "
                         "share of the CPUs (20)")
    ap.add_argument("--quiet-wait", type=float, default=30.0, metavar="SECONDS",
                    help="longest wait for that, then measure anyway (30; 0: never wait)")
    ap.add_argument("--ut1", type=Path, default=None,
                    help="UT1 lists for squidGuard: a folder in squidGuard layout or a "
                         "tarball (default: the one webwarden ships, "
                         "src/webwarden/data/ut1/ut1.tar.xz)")
    ap.add_argument("--sg-categories", default=",".join(DEFAULT_BLOCKED),
                    help="categories squidGuard blocks (default: roughly the default policy's)")
    ap.add_argument("--webwarden", type=Path, default=None,
                    help="the webwarden command (default: the one next to this Python)")
    ap.add_argument("--webwarden-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for `webwarden gateway`, repeatable; write options "
                         "as --webwarden-arg=--idle-timeout=5")
    ap.add_argument("--work", type=Path, default=None,
                    help="work directory for configs, logs, databases (default: a new "
                         "temporary one, removed after a successful run)")
    ap.add_argument("--keep-work", action="store_true", help="keep the work directory")
    ap.add_argument("--results", type=Path, default=HERE / "results",
                    help="where the .json and .md go (default: bench/results)")
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


class LineCounter:
    """New lines appended to a log since the last call (the proxy's own record of work)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.offset = self._size()

    def _size(self) -> int:
        try:
            return self.path.stat().st_size if self.path else 0
        except OSError:
            return 0

    def new_lines(self) -> int | None:
        if self.path is None or not self.path.exists():
            return None
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        return complete.count(b"\n")


def measure(target: Running, origin: Origin, test: str, args: argparse.Namespace
            ) -> dict[str, Any]:
    origin.new_hits()  # also waits for the previous run's log lines and lets queues drain
    idle_busy, waited = procs.wait_for_quiet(args.quiet_below, args.quiet_wait)
    proxy_log = LineCounter(target.access_log)
    cpu_before = procs.cpu_seconds(target.leader) if target.leader else None
    stat_before = procs.cpu_counters()
    servers = [origin.pid, *([target.leader] if target.leader else [])]
    snapshot_before = procs.cpu_snapshot(servers)
    result: dict[str, Any]
    if test == "connect":
        run = run_connect(target, origin, duration=args.duration,
                          parallel=args.connect_parallel, per_tunnel=args.per_tunnel)
        result = dataclasses.asdict(run) | {"mb_per_s": run.mb_per_s}
    else:
        wrk = run_wrk(target, origin, close=test == "close", duration=args.duration,
                      connections=args.connections, threads=args.threads)
        result = dataclasses.asdict(wrk) | {"rps": wrk.rps, "errors": wrk.errors}
    result["steal_percent"] = procs.steal_percent(stat_before, procs.cpu_counters())
    result["foreign_cpu_percent"] = procs.foreign_cpu_percent(snapshot_before,
                                                              procs.cpu_snapshot(servers))
    result["busy_before_percent"], result["quiet_wait_s"] = idle_busy, waited
    if target.leader and cpu_before is not None:
        result["cpu_s"] = procs.cpu_seconds(target.leader) - cpu_before
        mem = procs.memory(target.leader)
        result |= {"rss_kib": mem.rss_kib, "pss_kib": mem.pss_kib, "processes": mem.processes}
    hits = origin.new_hits()
    result["origin_hits"] = hits["/1m 200"] if test == "connect" else hits["/1k 200"]
    result["origin_other"] = {k: v for k, v in hits.items()
                              if k not in ("/1m 200", "/1k 200")}
    if test != "connect":
        result["proxy_log_lines"] = proxy_log.new_lines()
    result["test"] = test
    return result


def describe(name: str, test: str, r: dict[str, Any]) -> str:
    other = f" other-load={r['foreign_cpu_percent']:.0f}%"
    if test == "connect":
        return (f"{name:17s} connect {r['mb_per_s']:8.1f} MB/s  tunnels={r['tunnels']} "
                f"failed={r['transfers_failed']}{other}")
    cpu = (f" cpu={r['cpu_s'] / r['requests'] * 1e6:.0f}µs/req"
           if r.get("cpu_s") is not None and r["requests"] else "")
    return (f"{name:17s} {test:7s} {r['rps']:8.0f} req/s  p50={r['lat_p50_us'] / 1000:.2f}ms "
            f"p99={r['lat_p99_us'] / 1000:.2f}ms errors={r['errors']}{cpu} "
            f"origin/requests={r['origin_hits'] / max(1, r['requests']):.3f}{other}")


def _first_line(command: list[str], pick: Callable[[str], str] = lambda s: s,
                any_status: bool = False) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        if done.returncode != 0 and not any_status:
            return "?"
        text = (done.stdout + done.stderr).strip().splitlines()[0]
        return pick(text)
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def versions() -> dict[str, str]:
    try:
        webwarden = importlib.metadata.version("webwarden")
    except importlib.metadata.PackageNotFoundError:
        webwarden = "?"
    commit = _first_line(["git", "-C", str(REPO), "describe", "--always", "--dirty"])
    try:
        from webwarden import compiled

        built = len(compiled.compiled_modules())
        path = f"request path compiled, {built} modules" if built else "request path not compiled"
    except ImportError:
        path = "?"
    return {
        "webwarden": f"{webwarden} (git {commit}; {path})",
        "squid": _first_line(["squid", "-v"], lambda s: s.split()[-1]),
        "squidGuard": _first_line(["squidGuard", "-v"], lambda s: s.split()[1].rstrip(":")),
        "nginx": _first_line(["nginx", "-v"], lambda s: s.split("/")[-1]),
        # wrk prints its version with its usage and exits 1.
        "wrk": _first_line(["wrk", "-v"], lambda s: s.split()[1], any_status=True),
        "curl": _first_line(["curl", "--version"], lambda s: s.split()[1]),
        "openssl": _first_line(["openssl", "version"], lambda s: s.split()[1]),
        "python": platform.python_version(),
    }


def machine() -> dict[str, Any]:
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "mem_gib": os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30}


def find_webwarden(given: Path | None) -> Path | None:
    if given is not None:
        return given
    beside = Path(sys.executable).parent / "webwarden"
    if beside.exists():
        return beside
    found = shutil.which("webwarden")
    return Path(found) if found else None


@contextlib.contextmanager
def work_directory(args: argparse.Namespace) -> Iterator[Path]:
    work = args.work or Path(tempfile.mkdtemp(prefix="webwarden-gateway-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    # Squid and nginx workers run as unprivileged users and must reach their folders.
    os.chmod(work, 0o755)
    ok = False
    try:
        yield work
        ok = True
    finally:
        if ok and args.work is None and not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"work directory kept: {work}")


def _sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def prepare_lists(args: argparse.Namespace, work: Path, origin: Origin, raw: dict[str, Any]
                  ) -> tuple[str | None, SquidGuardDb | None]:
    """Unpack the UT1 lists and compile squidGuard's database when a target needs them.

    Returns the host every filtering target must block, and the database.
    """
    if not any(TARGETS[t].filtering for t in args.targets):
        return None, None
    try:
        lists_root = unpack_lists(args.ut1 or SHIPPED_UT1, work)
    except (OSError, RuntimeError, tarfile.TarError) as e:
        log(f"no UT1 lists ({e}); pass --ut1 DIR")
        if "squid+squidGuard" in args.targets:
            raw["skipped"]["squid+squidGuard"] = "no UT1 lists (pass --ut1 DIR or TARBALL)"
        return None, None
    blocked_host = sample_blocked_host(lists_root)
    if "squid+squidGuard" not in args.targets:
        return blocked_host, None
    categories = tuple(c.strip() for c in args.sg_categories.split(",") if c.strip())
    log("compiling the squidGuard database ...")
    db = build_db(lists_root, work, categories, origin.url_blocked)
    if not decides_blocked(db, f"http://{db.sample_blocked_host}/"):
        raise RuntimeError("squidGuard does not block its own sample host")
    raw["meta"]["squidguard"] = {"categories": db.categories, "missing": db.missing,
                                 "domains": db.domains, "urls": db.urls,
                                 "build_seconds": db.build_seconds}
    log(f"squidGuard: {db.domains:,} domains, {db.urls:,} URLs in {db.build_seconds:.0f} s")
    return blocked_host, db


def run_slot(ctx: RunContext, name: str, round_no: int, blocked_host: str | None,
             args: argparse.Namespace, raw: dict[str, Any]) -> None:
    """One target's turn in a round: start, check, warm up, measure, stop.

    A target that fails is skipped for the rest of the run; the others go on.
    """
    spec = TARGETS[name]
    try:
        target = spec.start(ctx)
        report = check_target(target, ctx.origin, blocked_host if spec.filtering else None)
        raw["checks"].setdefault(name, dataclasses.asdict(report))
        if report.block_ok is False:
            log(f"{name}: blocked site NOT blocked: {report.blocked}")
        if args.warmup:
            run_wrk(target, ctx.origin, close=False, duration=args.warmup,
                    connections=args.connections, threads=args.threads)
        for test in args.tests:
            result = measure(target, ctx.origin, test, args)
            result["round"] = round_no + 1
            raw["runs"][name].append(result)
            log(f"round {round_no + 1}: {describe(name, test, result)}")
    except (TargetCheckError, RuntimeError, OSError, subprocess.SubprocessError) as e:
        log(f"{name}: skipped: {e}")
        raw["skipped"][name] = str(e).splitlines()[0][:300]
    finally:
        ctx.supervisor.stop(name)


def run(args: argparse.Namespace) -> dict[str, Any]:
    webwarden = find_webwarden(args.webwarden)
    raw: dict[str, Any] = {
        "targets": list(args.targets), "runs": {t: [] for t in args.targets},
        "checks": {}, "skipped": {}, "notes": {t: TARGETS[t].note for t in args.targets},
        "meta": {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            **machine(), "versions": versions(), "rounds": args.rounds,
            "duration": args.duration, "warmup": args.warmup,
            "connections": args.connections, "threads": args.threads,
            "connect_parallel": args.connect_parallel, "per_tunnel": args.per_tunnel,
            "tests": args.tests, "quiet_below": args.quiet_below,
            "quiet_wait": args.quiet_wait,
        },
    }
    with work_directory(args) as work, procs.Supervisor() as supervisor:
        log(f"work directory {work}")
        origin = start_origin(supervisor, work)
        blocked_host, db = prepare_lists(args, work, origin, raw)

        def squidguard() -> SquidGuardDb:
            if db is None:
                raise RuntimeError("no squidGuard database")
            return db

        ctx = RunContext(supervisor=supervisor, work=work, origin=origin,
                         webwarden_exe=webwarden, webwarden_args=tuple(args.webwarden_arg),
                         squidguard=squidguard)
        for round_no in range(args.rounds):
            # Rotate the order each round, so no target always follows the same one.
            shift = round_no % len(args.targets)
            for name in args.targets[shift:] + args.targets[:shift]:
                if name not in raw["skipped"]:
                    run_slot(ctx, name, round_no, blocked_host, args, raw)
    raw["targets"] = [t for t in args.targets if raw["runs"].get(t)]
    return raw


def run_and_record(args: argparse.Namespace, run_fn: Callable[[argparse.Namespace], dict[str, Any]],
                   render_fn: Callable[[dict[str, Any]], str], prefix: str) -> int:
    """The benchmarks' common main: render a saved run, or run, print the tables and
    write them with the raw figures to `args.results` as PREFIX-<UTC time>.md/.json."""
    if args.from_raw:
        print(render_fn(json.loads(args.from_raw.read_text())))
        return 0
    signal.signal(signal.SIGTERM, _sigterm)
    try:
        raw = run_fn(args)
    except KeyboardInterrupt:
        log("interrupted; every process the benchmark started has been stopped")
        return 130
    table = render_fn(raw)
    args.results.mkdir(parents=True, exist_ok=True)
    stem = args.results / f"{prefix}-{dt.datetime.now(dt.UTC).strftime('%Y%m%d-%H%M%S')}"
    stem.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str) + "\n")
    stem.with_suffix(".md").write_text(table)
    print(table)
    log(f"wrote {stem}.json and {stem}.md")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_and_record(parse_args(argv), run, render, "gateway")


if __name__ == "__main__":
    sys.exit(main())
