#!/usr/bin/env python3
"""Audit writer benchmark: what one `AuditWriter.write` costs the process that writes.

    .venv/bin/python bench/audit_bench.py [--records N] [--paced-records N] [--rate R]
                                          [--repeat K] [--only NAME,...] [--no-paced]
                                          [--work DIR] [--json FILE]

For each set of sinks (access.log alone, + JSON lines, + the SQLite database) it writes
the same realistic records through `open_writer` into a temporary folder and reports,
per record:

- CPU: CPU time of every thread of the process (the database thread counts) from the
  first write until `close` has stored everything, and how much of it the thread that
  called `write` spent (in the gateway's audit processes, their only thread);
- wall: elapsed time over the same span;
- write p50/p99/max: how long `write` held the calling thread (the database thread
  competes with it for the interpreter lock).

Modes:
  burst   write back to back, as fast as possible (full database batches);
  paced   write from an asyncio loop at --rate records/s, PACE_BURST per loop turn, as a
          busy worker does. The loop thread is charged only for its time inside `write`;
          caches go cold between turns, which makes each write dearer than in a burst.

Each row is the best of --repeat runs (other load on the machine only ever adds).
Building the records (`AuditRecord.from_decision`; the gateway's audit process builds one
per transaction) is measured separately. Every run is bounded by its record counts; the
folder is removed afterwards unless --work is given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from webwarden.audit import AuditRecord, AuditWriter, open_writer
from webwarden.model.decision import Decision, Effect, Obligation, RuleRef
from webwarden.store import make_engine

CHAIN = "bench-w0"
SINK_SETS = {
    "squid": {"squid_log": True, "jsonl": False, "db": False},
    "squid+jsonl": {"squid_log": True, "jsonl": True, "db": False},
    "squid+jsonl+db": {"squid_log": True, "jsonl": True, "db": True},
}
PACE_BURST = 20  # records written per loop turn in paced mode

HOSTS = [
    "news.example", "www.wikipedia.example", "cdn.static.example", "mail.example.org",
    "video.example.net", "bank.example", "shop.example.com", "casino.example",
    "api.weather.example", "school.example.edu", "maps.example", "fonts.example.com",
]  # fmt: skip
PATHS = [
    "/", "/index.html", "/static/app.3f9a1c.js", "/api/v2/items?page=3&sort=recent",
    "/news/2026/11/21/council-approves-new-budget-for-libraries",
    "/search?q=how+to+plant+tulips+in+autumn&lang=en&source=hp",
    "/img/photos/2026/IMG_20261121_101512.jpg", "/watch?v=dQw4w9WgXcQ&t=42s",
]  # fmt: skip
CATEGORIES = ["press", "reference", "cdn", "webmail", "video", "bank", "shopping", "gambling"]
CONTENT_TYPES = ["text/html; charset=utf-8", "application/javascript", "image/jpeg", "", "-"]


@dataclass(frozen=True, slots=True)
class Result:
    sinks: str
    mode: str
    records: int
    cpu_us: float
    loop_cpu_us: float  # of cpu_us, on the thread that called write
    wall_us: float
    p50_us: float
    p99_us: float
    max_us: float


def make_inputs(count: int, seed: int = 7) -> list[tuple[Decision, dict[str, Any]]]:
    """What the gateway has at the end of each transaction, shaped like a school's
    traffic: a few hundred clients, some anonymous, a third CONNECT tunnels, a few blocks,
    a metadata-only bank."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    inputs = []
    for i in range(count):
        host = rng.choice(HOSTS)
        connect = rng.random() < 0.3
        category = CATEGORIES[HOSTS.index(host) % len(CATEGORIES)]
        blocked = category == "gambling"
        decision = Decision(
            id=f"mh3k2f1a{i:x}",
            effect=Effect.BLOCK if blocked else Effect.ALLOW,
            rules=(RuleRef(f"{'block' if blocked else 'allow'}-{category}", "c1", Effect.ALLOW),),
            obligations=frozenset({Obligation.LOG_METADATA_ONLY} if category == "bank" else ()),
            categories=frozenset({category}),
            policy_version="9f2c1e7d5a3b4c6d",
            regime="2013",
            grants_used=("g-17",) if rng.random() < 0.05 else (),
        )
        # Half the URLs are seen once (ids, cache busters), half repeat (pages, assets).
        path = rng.choice(PATHS)
        if rng.random() < 0.5:
            path = f"{path}{'&' if '?' in path else '?'}id={rng.randrange(10**9)}"
        transaction = {
            "time": start + timedelta(milliseconds=37 * i),
            "client": f"10.20.{rng.randrange(4)}.{rng.randrange(1, 250)}",
            "device": f"ws-{rng.randrange(300):03d}",
            "method": "CONNECT" if connect else rng.choice(["GET", "GET", "GET", "POST"]),
            "url": f"{host}:443" if connect else f"http://{host}{path}",
            "status": 403 if blocked else rng.choice([200, 200, 200, 304, 404]),
            "person": None if rng.random() < 0.2 else f"pupil{rng.randrange(500)}",
            "bytes_in": rng.randrange(200, 2000),
            "bytes_out": rng.randrange(0, 2_000_000),
            "duration_ms": rng.random() * 900,
            "hierarchy": "-" if blocked else f"192.0.2.{rng.randrange(1, 250)}",
            "content_type": rng.choice(CONTENT_TYPES),
        }
        inputs.append((decision, transaction))
    return inputs


def make_records(count: int) -> list[AuditRecord]:
    return [AuditRecord.from_decision(d, **t) for d, t in make_inputs(count)]


@contextlib.contextmanager
def writer_for(work: Path, sinks: str) -> Iterator[AuditWriter]:
    conf = SINK_SETS[sinks]
    folder = Path(tempfile.mkdtemp(prefix=f"{sinks}-", dir=work))
    engine = make_engine(f"sqlite:///{folder / 'webwarden.db'}") if conf["db"] else None
    writer = open_writer(
        folder / "logs",
        chain=CHAIN,
        engine=engine,
        squid_log=bool(conf["squid_log"]),
        jsonl=bool(conf["jsonl"]),
    )
    try:
        yield writer
    finally:
        if engine is not None:
            engine.dispose()


def _summary(
    sinks: str, mode: str, cpu: tuple[float, float], wall: float, lat: Sequence[int]
) -> Result:
    n = len(lat)
    ordered = sorted(lat)
    return Result(
        sinks=sinks,
        mode=mode,
        records=n,
        cpu_us=cpu[0] / n * 1e6,
        loop_cpu_us=cpu[1] / n * 1e6,
        wall_us=wall / n * 1e6,
        p50_us=ordered[len(ordered) // 2] / 1000,
        p99_us=ordered[int(len(ordered) * 0.99)] / 1000,
        max_us=ordered[-1] / 1000,
    )


def run_burst(work: Path, sinks: str, records: Sequence[AuditRecord]) -> Result:
    lat = [0] * len(records)
    clock = time.perf_counter_ns
    with writer_for(work, sinks) as writer:
        write = writer.write
        gc.collect()
        cpu0, wall0 = _cpu(), time.perf_counter()
        for i, record in enumerate(records):
            t0 = clock()
            write(record)
            lat[i] = clock() - t0
        writer.close()
        cpu, wall = _cpu_since(cpu0), time.perf_counter() - wall0
    return _summary(sinks, "burst", cpu, wall, lat)


def _cpu() -> tuple[float, float]:
    """(process CPU time, this thread's CPU time)."""
    return time.process_time(), time.thread_time()


def _cpu_since(start: tuple[float, float]) -> tuple[float, float]:
    now = _cpu()
    return now[0] - start[0], now[1] - start[1]


async def _paced(
    records: Sequence[AuditRecord], rate: float, writer: AuditWriter
) -> tuple[list[int], float]:
    """Write `records` at `rate` per second, PACE_BURST per loop turn. Returns the write
    latencies and the CPU time this thread spent inside `write`."""
    loop = asyncio.get_running_loop()
    clock, thread_cpu = time.perf_counter_ns, time.thread_time
    lat: list[int] = []
    in_writes = 0.0
    begin = loop.time()
    for start in range(0, len(records), PACE_BURST):
        await asyncio.sleep(max(0.0, begin + start / rate - loop.time()))
        cpu0 = thread_cpu()
        for record in records[start : start + PACE_BURST]:
            t0 = clock()
            writer.write(record)
            lat.append(clock() - t0)
        in_writes += thread_cpu() - cpu0
    return lat, in_writes


def run_paced(work: Path, sinks: str, records: Sequence[AuditRecord], rate: float) -> Result:
    """CPU: this thread's time inside `write` plus every other thread's (the database
    thread's) time until `close` has stored everything; the event loop's own is left out."""
    with writer_for(work, sinks) as writer:
        gc.collect()
        cpu0, wall0 = _cpu(), time.perf_counter()
        lat, in_writes = asyncio.run(_paced(records, rate, writer))
        writer.close()
        process, this_thread = _cpu_since(cpu0)
        wall = time.perf_counter() - wall0
    others = process - this_thread
    return _summary(sinks, f"paced {rate:,.0f}/s", (in_writes + others, in_writes), wall, lat)


def build_cost(count: int) -> float:
    """µs per `AuditRecord.from_decision`, which the gateway calls once per transaction."""
    inputs = make_inputs(count)
    build = AuditRecord.from_decision
    gc.collect()
    cpu0 = time.thread_time()
    for decision, transaction in inputs:
        build(decision, **transaction)
    return (time.thread_time() - cpu0) / count * 1e6


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def table_row(r: Result) -> str:
    return (
        f"| {r.sinks} | {r.mode} | {r.records:,} | {r.cpu_us:.1f} | {r.loop_cpu_us:.1f} "
        f"| {r.wall_us:.1f} | {r.p50_us:.1f} / {r.p99_us:.1f} / {r.max_us:,.0f} |"
    )


def markdown(results: Sequence[Result], build_us: float) -> str:
    lines = [
        "| sinks | mode | records | CPU µs/record | of which loop thread | wall µs/record "
        "| write p50 / p99 / max µs |",
        "|---|---|---:|---:|---:|---:|---:|",
        *map(table_row, results),
        f"| (building the record) | `AuditRecord.from_decision` | | {build_us:.1f} | | | |",
    ]
    return "\n".join(lines)


def best_of(repeat: int, run: Callable[[], Result]) -> Result:
    """The run with the least CPU time: other load on the machine only ever adds."""
    results = [run() for _ in range(repeat)]
    best = min(results, key=lambda r: r.cpu_us)
    print(table_row(best), file=sys.stderr)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--records", type=int, default=50_000, help="burst mode (50,000)")
    parser.add_argument("--paced-records", type=int, default=20_000, help="paced mode (20,000)")
    parser.add_argument("--rate", type=float, default=4_000, help="paced records/s (4,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row, best kept (3)")
    sets = ",".join(SINK_SETS)
    parser.add_argument("--only", default="", help=f"sink sets, comma-separated: {sets}")
    parser.add_argument("--no-paced", action="store_true", help="skip the paced runs")
    parser.add_argument("--work", type=Path, help="folder to write into (default: temporary)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(SINK_SETS)
    unknown = set(names) - set(SINK_SETS)
    if unknown:
        parser.error(f"unknown sink sets: {', '.join(sorted(unknown))}")
    repeat = max(1, args.repeat)

    records = make_records(max(args.records, args.paced_records))
    burst, paced = records[: args.records], records[: args.paced_records]
    results: list[Result] = []
    with contextlib.ExitStack() as stack:
        if args.work:
            args.work.mkdir(parents=True, exist_ok=True)
            work = args.work
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="audit-bench-")))
        for name in names:
            results.append(best_of(repeat, functools.partial(run_burst, work, name, burst)))
        if not args.no_paced:
            for name in names:
                run = functools.partial(run_paced, work, name, paced, args.rate)
                results.append(best_of(repeat, run))
    build_us = min(build_cost(min(args.records, 20_000)) for _ in range(repeat))

    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    print(f"Run {stamp} on {machine()}.")
    print(
        f"`bench/audit_bench.py --records {args.records} --paced-records "
        f"{args.paced_records} --rate {args.rate:g} --repeat {repeat}` (best of {repeat})\n"
    )
    print(markdown(results, build_us))
    if args.json:
        summary: dict[str, object] = {"machine": machine(), "build_us": build_us}
        summary["results"] = [asdict(r) for r in results]
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
