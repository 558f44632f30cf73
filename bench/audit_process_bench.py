#!/usr/bin/env python3
"""Audit process benchmark: the CPU a gateway worker's audit process spends per record.

    .venv/bin/python bench/audit_process_bench.py [--records N] [--rate R]
                                                  [--persons P,...] [--defer S,...]

Starts the real audit process (`python -m webwarden.gateway.audit_process`) on a fresh
state folder for every combination of people and database deferral, and feeds it records
the way a busy worker does: a batch every 4 ms (BATCH_EVERY) at --rate records/s, each
record naming one of P people at random. Reports the process's CPU time per record
(user + system, from /proc) from the first batch until everything is stored.

The number of people matters to SQLite: a transaction rewrites every index page it
touched, and the (person, time) index is touched in as many places as there are people
in the transaction. `--defer` sets how long the database's rows wait to share a
transaction (the process's DB_DEFER_SECONDS; 0 = one transaction per write). Every run is
bounded by --records; the folders are removed afterwards. Nothing asserts the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from webwarden.audit.record import RecordFields, epoch_us
from webwarden.gateway.audit_client import AuditProcess
from webwarden.gateway.config import CONFIG_ENV, GatewayConfig

BATCH_EVERY = 0.004
# The audit process as the worker starts it, with the database deferral set first.
PROCESS = (
    "import sys, webwarden.gateway.audit_process as audit; "
    "audit.DB_DEFER_SECONDS = float(sys.argv[1]); sys.exit(audit.main(['--index', '0']))"
)


def records(count: int, persons: int, rng: random.Random) -> list[RecordFields]:
    now = epoch_us(datetime.now(UTC))
    return [
        (
            now + i, "10.0.0.7", "pc-17", "GET", f"http://site{rng.randrange(50)}.example/p/{i}",
            "allow", 200, f"person{rng.randrange(persons)}", ("press",), ("allow-press",),
            f"d{i}", "v1", 312, 4110, 180.25, (), (), "192.0.2.10:80", "text/html", "", False,
        )
        for i in range(count)
    ]  # fmt: skip


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(total: int, rate: int, persons: int, defer: float) -> float:
    """CPU µs per record of one audit process storing `total` records."""
    with tempfile.TemporaryDirectory(prefix="audit-process-bench-") as folder:
        state = Path(folder)
        config = GatewayConfig(state_dir=state, db_url=f"sqlite:///{state / 'audit.db'}")
        env = {**os.environ, CONFIG_ENV: config.to_json()}
        process = subprocess.Popen(
            [sys.executable, "-c", PROCESS, str(defer)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
        )  # fmt: skip
        audit = AuditProcess(process)
        try:
            audit.wait_ready(60)
            rng = random.Random(persons)
            per_batch = max(1, round(rate * BATCH_EVERY))
            before = process_cpu_seconds(audit.pid)
            sent = 0
            while sent < total:
                count = min(per_batch, total - sent)
                audit.write_batch(records(count, persons, rng))
                sent += count
                time.sleep(BATCH_EVERY)
            audit.flush()
            used = process_cpu_seconds(audit.pid) - before
        finally:
            audit.close()
    return used / total * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=120_000)
    parser.add_argument("--rate", type=int, default=15_000, help="records per second")
    parser.add_argument("--persons", default="1,300,5000", help="comma-separated")
    parser.add_argument("--defer", default="0,0.25", help="seconds, comma-separated")
    args = parser.parse_args(argv)
    persons = [int(p) for p in args.persons.split(",")]
    defers = [float(d) for d in args.defer.split(",")]
    started = datetime.now(UTC)
    print("| people | database rows wait | records | CPU µs/record |")
    print("|---:|---:|---:|---:|")
    for p in persons:
        for d in defers:
            cost = run_once(args.records, args.rate, p, d)
            print(f"| {p:,} | {d:g} s | {args.records:,} | {cost:.1f} |", flush=True)
    print(
        f"Run {started:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; "
        f"{args.rate:,} records/s in batches every {BATCH_EVERY * 1000:g} ms."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
