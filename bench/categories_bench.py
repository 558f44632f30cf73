#!/usr/bin/env python3
"""Category benchmarks: snapshot build, load time, memory and lookup rates, side by side
with squidGuard on the same lists and the same URLs.

    .venv/bin/python bench/categories_bench.py [--quick] [--only NAME,...] [--work DIR]
                                               [--readme bench/README.md]

Measurements (each a function in MEASUREMENTS; add one there to extend the harness):
  ut1-build     import the shipped UT1 lists and build their snapshot (own process)
  ut1-lookups   load the UT1 snapshot, then lookups/s on a Zipf-like mix of repeated hosts
                and on all-distinct hosts (own process, for clean memory figures)
  squidguard    squidGuard's database build (`squidGuard -C all`) and answers/s through
                its redirector protocol, against `webwarden categories lookup -` fed the
                same URLs the same way
  large         1M real-shaped (UT1) + 5M synthetic domains: build, load, memory, lookups

Every run is bounded (fixed request counts, timeouts on every child process); all
files go to the work folder (a new temporary folder unless --work is given). Results
are printed as Markdown and, with --readme, written into that file's "Categories"
section (between the categories-bench markers), leaving other sections alone.
Figures are noisy: compare ratios measured in the same run, not numbers across runs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHILD_TIMEOUT = 1800
SQUIDGUARD = shutil.which("squidGuard")
START_MARK = "<!-- categories-bench:start -->"
END_MARK = "<!-- categories-bench:end -->"

# Paths a browser asks for; URL entries make some of them matter.
PATHS = ["/", "/", "/", "/index.html", "/search?q=news", "/static/app.js", "/news/2026/11/a"]
UNLISTED_WORDS = [
    "alpha", "bravo", "city", "dental", "energy", "farm", "garden", "harbour", "island",
    "journal", "kitchen", "library", "market", "nursery", "office", "parish", "quarry",
    "river", "school", "travel", "union", "valley", "water", "youth", "zone", "council",
    "museum", "theatre", "clinic", "bakery",
]  # fmt: skip
UNLISTED_TLDS = ["com", "com", "com", "org", "net", "fr", "de", "co.uk", "gov.uk", "ac.uk", "io"]


@dataclass
class Sizes:
    """Request counts; --quick makes everything small for a smoke run."""

    zipf_pool: int = 50_000
    zipf_requests: int = 1_000_000
    distinct_requests: int = 300_000
    pipe_requests: int = 200_000
    large_total: int = 6_000_000
    repeats: int = 3

    @classmethod
    def quick(cls) -> Sizes:
        return cls(5_000, 50_000, 20_000, 10_000, 800_000, 1)


@dataclass
class Context:
    work: Path
    sizes: Sizes
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    load_before: float = field(default_factory=lambda: os.getloadavg()[0])

    @property
    def lists(self) -> Path:
        return self.work / "lists" / "ut1"

    @property
    def ut1_snapshot(self) -> Path:
        return self.work / "ut1.wwcat"

    def row(self, what: str, value: str, note: str = "") -> None:
        self.rows.append((what, value, note))
        log(f"{what}: {value} {note}")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- preparation -----------------------------------------------------------------------


def prepare(ctx: Context) -> None:
    """Unpack the shipped UT1 archive (squidGuard needs the lists as files)."""
    if ctx.lists.is_dir():
        return
    archive = resources.files("webwarden").joinpath("data", "ut1", "ut1.tar.xz")
    with resources.as_file(archive) as path, tarfile.open(path) as tar:
        tar.extractall(ctx.work / "lists", filter="data")


def listed_names(lists: Path) -> list[str]:
    """Every distinct domain entry of the UT1 folder, in a fixed order."""
    names: set[str] = set()
    for domains in sorted(lists.glob("*/domains")):
        names.update(line.strip() for line in domains.read_text().splitlines() if line.strip())
    return sorted(names)


def unlisted_host(rng: random.Random) -> str:
    word = rng.choice(UNLISTED_WORDS)
    host = f"{word}{rng.randrange(100_000)}.{rng.choice(UNLISTED_TLDS)}"
    return f"www.{host}" if rng.random() < 0.5 else host


def visit_form(name: str, rng: random.Random) -> str:
    """How traffic reaches a listed name: itself, www., or some other subdomain."""
    if name.replace(".", "").isdigit():
        return name
    roll = rng.random()
    if roll < 0.4:
        return name
    if roll < 0.8:
        return f"www.{name}"
    return f"{rng.choice(['cdn', 'static', 'm', 'api', 'img'])}.{name}"


def zipf_workload(
    names: Sequence[str], pool_size: int, requests: int, seed: int = 1
) -> list[tuple[str, str]]:
    """Requests over `pool_size` hosts with Zipf-like popularity (rank r has weight
    1/r): 30 % of the pool are listed names, the rest uncategorised sites."""
    rng = random.Random(seed)
    listed = [visit_form(n, rng) for n in rng.sample(names, min(len(names), pool_size * 3 // 10))]
    pool = listed + [unlisted_host(rng) for _ in range(pool_size - len(listed))]
    rng.shuffle(pool)
    weights = [1.0 / rank for rank in range(1, len(pool) + 1)]
    hosts = rng.choices(pool, weights=weights, k=requests)
    return [(host, rng.choice(PATHS)) for host in hosts]


def distinct_workload(names: Sequence[str], requests: int, seed: int = 2) -> list[tuple[str, str]]:
    """Every request a different host: 30 % listed names (in visit forms), 70 % not."""
    rng = random.Random(seed)
    listed = [visit_form(n, rng) for n in rng.sample(names, min(len(names), requests * 3 // 10))]
    seen = set(listed)
    hosts = list(listed)
    while len(hosts) < requests:
        host = f"h{len(hosts)}.{unlisted_host(rng)}"
        if host not in seen:
            seen.add(host)
            hosts.append(host)
    rng.shuffle(hosts)
    return [(host, rng.choice(PATHS)) for host in hosts]


# --- child processes (fresh interpreter: clean time and memory figures) ----------------


def run_child(*args: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def rss_mb() -> tuple[float, float]:
    """Resident memory now and at its peak, in MB (from /proc)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def child_build_ut1(lists: str, output: str) -> dict[str, Any]:
    from webwarden.categories.importers import import_ut1_dir
    from webwarden.categories.snapshot import build_snapshot

    started = time.perf_counter()
    result = import_ut1_dir(Path(lists))
    imported = time.perf_counter()
    report = build_snapshot(result, Path(output))
    built = time.perf_counter()
    return {
        "import_s": imported - started,
        "build_s": built - imported,
        "lines": result.lines,
        "domain_entries": result.domain_entries,
        "url_entries": result.url_entries,
        "rejected": len(result.rejected),
        "names": report.domain_names,
        "size": report.size,
        "peak_rss_mb": rss_mb()[1],
    }


def child_build_large(lists: str, output: str, total: str) -> dict[str, Any]:
    """UT1 (about 1M real entries, 0.63M distinct names) plus generated names shaped like
    them (label lengths, top-level domains, category sizes), `total` names in all."""
    from webwarden.categories.importers import import_ut1_dir
    from webwarden.categories.snapshot import build_snapshot

    started = time.perf_counter()
    result = import_ut1_dir(Path(lists))
    real = sorted({n for hosts in result.domains.values() for n in hosts})
    categories = sorted(result.domains)
    weights = [len(result.domains[c]) for c in categories]
    tlds = [n.rsplit(".", 1)[-1] for n in real[::50] if not n[-1].isdigit()]
    rng = random.Random(3)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-"
    per_category = {c: result.domains[c] for c in categories}
    chosen = rng.choices(categories, weights=weights, k=int(total) - len(real))
    for category in chosen:
        length = rng.randint(5, 18)
        label = (
            "".join(rng.choices(alphabet[:26], k=2))
            + "".join(rng.choices(alphabet, k=length - 3))
            + rng.choice(alphabet[:26])
        )
        name = f"{label}.{rng.choice(tlds)}"
        if rng.random() < 0.25:
            name = f"{''.join(rng.choices(alphabet[:26], k=rng.randint(2, 8)))}.{name}"
        per_category[category].add(name)
    generated = time.perf_counter()
    report = build_snapshot(result, Path(output))
    built = time.perf_counter()
    return {
        "import_s": generated - started,
        "build_s": built - generated,
        "names": report.domain_names,
        "size": report.size,
        "peak_rss_mb": rss_mb()[1],
    }


def child_memory(snapshot: str, names_file: str) -> dict[str, Any]:
    """Resident memory of a fresh process that loads a snapshot, then looks up every
    listed name (streamed from a file, so the workload itself takes no memory): the
    worst case, where every page of the snapshot has been touched."""
    base, _ = rss_mb()
    from webwarden.categories.index import open_index

    imported, _ = rss_mb()
    index = open_index(Path(snapshot), verify=False)
    loaded, _ = rss_mb()
    count = 0
    with open(names_file) as names:
        for line in names:
            index.lookup(line.strip())
            index.lookup(f"x{count}.unlisted{count % 9973}.example")
            count += 1
    touched, peak = rss_mb()
    return {
        "interpreter_mb": base,
        "imported_mb": imported,
        "loaded_mb": loaded,
        "touched_mb": touched,
        "peak_mb": peak,
        "lookups": 2 * count,
    }


def child_lookups(snapshot: str, names_file: str, sizes_json: str) -> dict[str, Any]:
    """Load a snapshot and measure load time and lookup rates, in a fresh process. Each
    figure is the best of `sizes.repeats` runs, each with a freshly opened index (so an
    empty cache): on a shared machine the best run is the one least disturbed."""
    from webwarden.categories.index import CategoryIndex, open_index

    sizes = Sizes(**json.loads(sizes_json))
    names = Path(names_file).read_text().split()
    zipf = zipf_workload(names, sizes.zipf_pool, sizes.zipf_requests)
    distinct = distinct_workload(names, sizes.distinct_requests)
    zipf_urls = [f"http://{host}{path}" for host, path in zipf[: sizes.distinct_requests]]
    del names
    path = Path(snapshot)

    def load_time(verify: bool) -> float:
        best = float("inf")
        for _ in range(max(3, sizes.repeats)):
            started = time.perf_counter()
            index = open_index(path, verify=verify)
            best = min(best, time.perf_counter() - started)
            index.close()
        return best

    def best_rate(run: Callable[[CategoryIndex], int], cache_size: int = 65536) -> float:
        best = 0.0
        for _ in range(sizes.repeats):
            with open_index(path, verify=False, cache_size=cache_size) as index:
                started = time.perf_counter()
                count = run(index)
                best = max(best, count / (time.perf_counter() - started))
        return best

    def hosts(index: CategoryIndex) -> int:
        lookup = index.lookup
        for host, url_path in zipf:
            lookup(host, url_path)
        return len(zipf)

    def urls(index: CategoryIndex) -> int:
        lookup_url = index.lookup_url
        for url in zipf_urls:
            lookup_url(url)
        return len(zipf_urls)

    def all_distinct(index: CategoryIndex) -> int:
        lookup = index.lookup
        for host, url_path in distinct:
            lookup(host, url_path)
        return len(distinct)

    with open_index(path, verify=False, cache_size=0) as index:
        listed = [(h, p) for h, p in distinct if index.lookup(h, p)]
    with open_index(path, verify=False) as index:
        hosts(index)
        hit_ratio = index.cache_info().hits / len(zipf)

    def listed_only(index: CategoryIndex) -> int:
        lookup = index.lookup
        for host, url_path in listed:
            lookup(host, url_path)
        return len(listed)

    return {
        "load_s": load_time(verify=False),
        "verified_load_s": load_time(verify=True),
        "zipf_per_s": best_rate(hosts),
        "zipf_hit_ratio": hit_ratio,
        "zipf_url_per_s": best_rate(urls),
        "distinct_per_s": best_rate(all_distinct),
        "distinct_categorised": len(listed) / len(distinct),
        "listed_uncached_per_s": best_rate(listed_only, cache_size=0),
    }


def child_decisions(snapshot: str, names_file: str, sizes_json: str) -> dict[str, Any]:
    """Whole request-phase decisions as the gateway makes them: category lookup, facts,
    the decision cache in front of `decide`, a clock read per request; the shipped policy
    and the demo directory, one person on a workstation."""
    from datetime import UTC, datetime

    from webwarden.categories.index import open_index
    from webwarden.identity.directory import load_directory
    from webwarden.identity.shipped import demo_directory_path
    from webwarden.model.request import Destination, Facts
    from webwarden.policy.cache import DecisionCache
    from webwarden.policy.decide import decide
    from webwarden.policy.load import load_policy_set
    from webwarden.policy.shipped import default_policy_paths

    sizes = Sizes(**json.loads(sizes_json))
    names = Path(names_file).read_text().split()
    zipf = zipf_workload(names, sizes.zipf_pool, sizes.zipf_requests)
    distinct = distinct_workload(names, sizes.distinct_requests)
    del names
    directory = load_directory(demo_directory_path())
    person = directory.person("pc1001")
    device = directory.device_for_address("127.0.0.1")

    def cached_rate(workload: list[tuple[str, str]]) -> tuple[float, float]:
        """(first pass: every URL seen for the first time once; second pass: warm)."""
        cold = warm = 0.0
        for _ in range(sizes.repeats):
            with open_index(Path(snapshot), verify=False) as index:
                policy = load_policy_set(default_policy_paths(), index.names)
                decide_request = DecisionCache(policy, lookup=index.lookup).decide_request
                clock = time.time
                for attempt in range(2):
                    started = time.perf_counter()
                    for host, path in workload:
                        decide_request(person, device, "GET", "http", host, 80, path, clock())
                    rate = len(workload) / (time.perf_counter() - started)
                    if attempt == 0:
                        cold = max(cold, rate)
                    else:
                        warm = max(warm, rate)
        return cold, warm

    def uncached_rate(workload: list[tuple[str, str]]) -> float:
        best = 0.0
        for _ in range(sizes.repeats):
            with open_index(Path(snapshot), verify=False) as index:
                policy = load_policy_set(default_policy_paths(), index.names)
                lookup = index.lookup
                started = time.perf_counter()
                for host, path in workload:
                    destination = Destination("http", host, 80, path, lookup(host, path))
                    decide(policy, Facts(device, destination, "GET", datetime.now(UTC), person))
                best = max(best, len(workload) / (time.perf_counter() - started))
        return best

    zipf_cold, zipf_warm = cached_rate(zipf)
    distinct_cold, _ = cached_rate(distinct)
    return {
        "zipf_cold_per_s": zipf_cold,
        "zipf_warm_per_s": zipf_warm,
        "zipf_uncached_per_s": uncached_rate(zipf[: sizes.distinct_requests]),
        "distinct_per_s": distinct_cold,
        "zipf_distinct_keys": len(set(zipf)),
    }


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "decisions": child_decisions,
    "build-ut1": child_build_ut1,
    "build-large": child_build_large,
    "lookups": child_lookups,
    "memory": child_memory,
}


# --- measurements ----------------------------------------------------------------------


def measure_ut1_build(ctx: Context) -> None:
    result = run_child("build-ut1", str(ctx.lists), str(ctx.ut1_snapshot))
    ctx.raw["ut1-build"] = result
    ctx.row(
        "UT1 import (folder)",
        f"{result['import_s']:.2f} s",
        f"{result['lines']:,} lines, {result['rejected']} rejected",
    )
    ctx.row(
        "UT1 snapshot build",
        f"{result['build_s']:.2f} s",
        f"{result['names']:,} distinct names, {result['size'] / 1e6:.1f} MB file, "
        f"peak RSS {result['peak_rss_mb']:.0f} MB",
    )


def _lookup_rows(ctx: Context, label: str, result: dict[str, Any]) -> None:
    ctx.row(f"{label}: load (open + header checks)", f"{result['load_s'] * 1000:.1f} ms")
    ctx.row(f"{label}: load with full checksum", f"{result['verified_load_s'] * 1000:.0f} ms")
    ctx.row(
        f"{label}: lookups/s, Zipf mix (host, path)",
        f"{result['zipf_per_s']:,.0f}",
        f"cache hit ratio {result['zipf_hit_ratio']:.1%}",
    )
    ctx.row(f"{label}: lookup_url/s, Zipf mix", f"{result['zipf_url_per_s']:,.0f}")
    ctx.row(
        f"{label}: lookups/s, all-distinct hosts",
        f"{result['distinct_per_s']:,.0f}",
        f"{result['distinct_categorised']:.0%} categorised; every lookup a cache miss",
    )
    ctx.row(
        f"{label}: lookups/s, distinct listed hosts, no cache",
        f"{result['listed_uncached_per_s']:,.0f}",
    )


def _memory_rows(ctx: Context, label: str, result: dict[str, Any]) -> float:
    """Rows for a memory child; returns the index's own resident memory in MB."""
    index_mb = float(result["touched_mb"] - result["imported_mb"])
    ctx.row(
        f"{label}: RSS after load",
        f"{result['loaded_mb']:.0f} MB",
        f"interpreter {result['interpreter_mb']:.0f} MB, with webwarden imported "
        f"{result['imported_mb']:.0f} MB",
    )
    ctx.row(
        f"{label}: RSS after looking up every listed name",
        f"{result['touched_mb']:.0f} MB",
        f"index share (RSS growth since import, cache included): {index_mb:.0f} MB; "
        f"{result['lookups']:,} lookups",
    )
    return index_mb


def measure_ut1_lookups(ctx: Context) -> None:
    if not ctx.ut1_snapshot.exists():
        measure_ut1_build(ctx)
    names_file = ctx.work / "ut1-names.txt"
    names_file.write_text("\n".join(listed_names(ctx.lists)))
    result = run_child(
        "lookups", str(ctx.ut1_snapshot), str(names_file), json.dumps(ctx.sizes.__dict__)
    )
    ctx.raw["ut1-lookups"] = result
    _lookup_rows(ctx, "UT1", result)
    memory = run_child("memory", str(ctx.ut1_snapshot), str(names_file))
    ctx.raw["ut1-memory"] = memory
    _memory_rows(ctx, "UT1", memory)


def measure_large(ctx: Context) -> None:
    snapshot = ctx.work / "large.wwcat"
    built = run_child("build-large", str(ctx.lists), str(snapshot), str(ctx.sizes.large_total))
    ctx.raw["large-build"] = built
    label = f"{built['names'] / 1e6:.1f}M names"
    ctx.row(f"{label}: UT1 import + generating names", f"{built['import_s']:.1f} s")
    ctx.row(
        f"{label}: snapshot build",
        f"{built['build_s']:.1f} s",
        f"{built['size'] / 1e6:.0f} MB file, peak RSS {built['peak_rss_mb']:.0f} MB",
    )
    names_file = ctx.work / "ut1-names.txt"
    if not names_file.exists():
        names_file.write_text("\n".join(listed_names(ctx.lists)))
    result = run_child("lookups", str(snapshot), str(names_file), json.dumps(ctx.sizes.__dict__))
    ctx.raw["large-lookups"] = result
    _lookup_rows(ctx, label, result)
    memory = run_child("memory", str(snapshot), str(names_file))
    ctx.raw["large-memory"] = memory
    index_mb = _memory_rows(ctx, label, memory)
    met = result["verified_load_s"] <= 0.5 and index_mb <= 100
    ctx.notes.append(
        f"Targets for {label} (load <= 0.5 s, <= 100 MB resident): "
        f"{'met' if met else 'NOT met'}: load {result['load_s'] * 1000:.1f} ms "
        f"({result['verified_load_s'] * 1000:.0f} ms with the full checksum); the index "
        f"takes {index_mb:.0f} MB once every entry has been looked up (the whole process "
        f"{memory['touched_mb']:.0f} MB, of which {memory['imported_mb']:.0f} MB is the "
        "interpreter with webwarden imported)."
    )
    snapshot.unlink()


def measure_decisions(ctx: Context) -> None:
    if not ctx.ut1_snapshot.exists():
        measure_ut1_build(ctx)
    names_file = ctx.work / "ut1-names.txt"
    if not names_file.exists():
        names_file.write_text("\n".join(listed_names(ctx.lists)))
    result = run_child(
        "decisions", str(ctx.ut1_snapshot), str(names_file), json.dumps(ctx.sizes.__dict__)
    )
    ctx.raw["decisions"] = result
    ctx.row(
        "UT1: decisions/s, Zipf mix, warm (lookup + decision cache)",
        f"{result['zipf_warm_per_s']:,.0f}",
        "steady state: the same requests again, clock read included",
    )
    ctx.row(
        "UT1: decisions/s, Zipf mix, first pass",
        f"{result['zipf_cold_per_s']:,.0f}",
        f"{result['zipf_distinct_keys']:,} distinct URLs each decided once in full",
    )
    ctx.row(
        "UT1: decisions/s, Zipf mix, every decision computed (no decision cache)",
        f"{result['zipf_uncached_per_s']:,.0f}",
    )
    ctx.row(
        "UT1: decisions/s, all-distinct hosts",
        f"{result['distinct_per_s']:,.0f}",
        "every category lookup and decision a cache miss",
    )


def measure_squidguard(ctx: Context) -> None:
    if SQUIDGUARD is None:
        ctx.notes.append("squidGuard not installed (Debian package `squidguard`): skipped.")
        return
    if not ctx.ut1_snapshot.exists():
        measure_ut1_build(ctx)
    config = write_squidguard_config(ctx)
    started = time.perf_counter()
    subprocess.run(
        [SQUIDGUARD, "-c", str(config), "-C", "all"],
        check=True,
        timeout=CHILD_TIMEOUT,
        capture_output=True,
    )
    ctx.row("squidGuard: database build (`-C all`)", f"{time.perf_counter() - started:.1f} s")

    names = listed_names(ctx.lists)
    sizes = ctx.sizes
    workloads = {
        "Zipf mix": zipf_workload(names, sizes.zipf_pool, sizes.pipe_requests),
        "all-distinct": distinct_workload(names, sizes.pipe_requests),
    }
    webwarden = [
        sys.executable,
        "-c",
        "import sys; from webwarden.cli import main; sys.exit(main())",
        "categories",
        "lookup",
        "--flush",
        "--snapshot",
        str(ctx.ut1_snapshot),
        "-",
    ]
    helper = [
        sys.executable,
        "-c",
        "import sys; from webwarden.cli import main; sys.exit(main())",
        "squid-helper",
        "--categories",
        str(ctx.ut1_snapshot),
    ]
    squidguard = [SQUIDGUARD, "-c", str(config)]
    for label, workload in workloads.items():
        urls = [f"http://{host}{path}" for host, path in workload]
        # The same redirector-protocol lines for both helpers: a signed-in person on a
        # registered workstation (squidGuard ignores the user field in this config).
        lines = [f"{u} 127.0.0.1/- pc1001 GET" for u in urls]
        sg_rate, sg_answers = best_pipe_rate(squidguard, lines, sizes.repeats)
        ww_rate, ww_answers = best_pipe_rate(webwarden, urls, sizes.repeats)
        hp_rate, _ = best_pipe_rate(helper, lines, sizes.repeats)
        ctx.raw[f"helper-{label}"] = {"squidguard": sg_rate, "webwarden": hp_rate}
        ctx.row(
            f"webwarden `squid-helper` decisions/s, {label} (redirector protocol)",
            f"{hp_rate:,.0f}",
            f"{hp_rate / sg_rate:.2f}x squidGuard; the whole policy decides, not a category match",
        )
        sg_blocked = [not a.startswith("ERR") for a in sg_answers]
        ww_blocked = [not a.endswith("\tnone") for a in ww_answers]
        agree = sum(a == b for a, b in zip(sg_blocked, ww_blocked, strict=True)) / len(urls)
        ctx.raw[f"pipe-{label}"] = {"squidguard": sg_rate, "webwarden": ww_rate, "agree": agree}
        ctx.row(f"squidGuard answers/s, {label} (redirector protocol)", f"{sg_rate:,.0f}")
        ctx.row(
            f"webwarden `categories lookup -` answers/s, {label}",
            f"{ww_rate:,.0f}",
            f"{ww_rate / sg_rate:.2f}x squidGuard; same block/pass verdict on {agree:.2%}",
        )


def write_squidguard_config(ctx: Context) -> Path:
    """Every category as a squidGuard destination, all blocked, in one acl."""
    folder = ctx.work / "squidguard"
    (folder / "log").mkdir(parents=True, exist_ok=True)
    categories = sorted(p.parent.name for p in ctx.lists.glob("*/domains"))
    lines = [f"dbhome {ctx.lists}", f"logdir {folder / 'log'}", ""]
    for category in categories:
        lines.append(f"dest {category} {{")
        lines.append(f"    domainlist {category}/domains")
        if (ctx.lists / category / "urls").stat().st_size:
            lines.append(f"    urllist {category}/urls")
        lines.append("}")
    passes = " ".join(f"!{c}" for c in categories)
    lines += [
        "acl {",
        "    default {",
        f"        pass {passes} all",
        "        redirect http://blocked.invalid/?cat=%t",
        "    }",
        "}",
    ]
    config = folder / "squidGuard.conf"
    config.write_text("\n".join(lines) + "\n")
    return config


def best_pipe_rate(command: list[str], lines: list[str], repeats: int) -> tuple[float, list[str]]:
    runs = [pipe_rate(command, lines) for _ in range(max(1, min(repeats, 2)))]
    return max(rate for rate, _ in runs), runs[0][1]


def pipe_rate(command: list[str], lines: list[str]) -> tuple[float, list[str]]:
    """Feed `lines` to a line-by-line helper and time its answers, from the first to the
    last (process start-up excluded, the same for every helper)."""
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        bufsize=1 << 16,
    )
    assert process.stdin is not None and process.stdout is not None

    def feed() -> None:
        assert process.stdin is not None
        for line in lines:
            process.stdin.write(line + "\n")
        process.stdin.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    answers: list[str] = []
    first = 0.0
    deadline = time.monotonic() + CHILD_TIMEOUT
    for answer in process.stdout:
        if not answers:
            first = time.perf_counter()
        answers.append(answer.rstrip("\n"))
        if len(answers) == len(lines) or time.monotonic() > deadline:
            break
    last = time.perf_counter()
    writer.join(timeout=60)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if len(answers) != len(lines):
        raise RuntimeError(f"{command[0]} answered {len(answers)} of {len(lines)} lines")
    return (len(lines) - 1) / (last - first), answers


MEASUREMENTS: dict[str, Callable[[Context], None]] = {
    "ut1-build": measure_ut1_build,
    "ut1-lookups": measure_ut1_lookups,
    "decisions": measure_decisions,
    "squidguard": measure_squidguard,
    "large": measure_large,
}


# --- report ----------------------------------------------------------------------------


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    sg = "not installed"
    if SQUIDGUARD:
        done = subprocess.run([SQUIDGUARD, "-v"], capture_output=True, text=True, check=False)
        sg = (done.stdout + done.stderr).strip().splitlines()[0]
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem_kb / 1024 / 1024:.1f} GiB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}, {sg}"
    )


def report(ctx: Context, sizes: Sizes) -> str:
    lines = [
        "## Categories",
        "",
        START_MARK,
        f"Run {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} on {machine()}; load average "
        f"{ctx.load_before:.1f} before and {os.getloadavg()[0]:.1f} after (other work on the "
        "machine shows as noise: compare ratios within one run).",
        f"`.venv/bin/python bench/categories_bench.py` — Zipf mix: {sizes.zipf_requests:,} "
        f"requests over {sizes.zipf_pool:,} hosts (30 % listed, popularity 1/rank); "
        f"all-distinct: {sizes.distinct_requests:,} hosts (30 % listed); pipes: "
        f"{sizes.pipe_requests:,} URLs each. Rates and load times: best of "
        f"{sizes.repeats} runs (pipes: of {min(sizes.repeats, 2)}), each with an empty cache.",
        "",
        "| measurement | result | notes |",
        "|---|---:|---|",
        *(f"| {what} | {value} | {note} |" for what, value, note in ctx.rows),
        "",
        *(f"- {note}" for note in ctx.notes),
        "- squidGuard reports the first matching category of its acl; webwarden returns every "
        "matching category. squidGuard matches URL entries as plain prefixes "
        "(`example.org/casino` also blocks `example.org/casinox`); webwarden stops at a path "
        "boundary. Both strip a leading `www.` for URL entries. The verdict agreement "
        "counts block (any category) versus pass.",
        "- A decision is the request phase as the gateway makes it: category lookup, facts, "
        "the shipped policy (both regimes) and the demo directory, through the decision cache "
        "(`webwarden.policy.cache`). The `squid-helper` rows run the same decisions behind "
        "Squid's URL-rewrite protocol, the interface squidGuard is measured through.",
        END_MARK,
    ]
    return "\n".join(lines) + "\n"


def write_readme(readme: Path, section: str) -> None:
    """Replace the Categories section (or append it), keeping the rest of the file."""
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"
    pattern = re.compile(
        r"## Categories\n\n" + re.escape(START_MARK) + r".*?" + re.escape(END_MARK) + r"\n",
        re.DOTALL,
    )
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    readme.write_text(text)


@contextlib.contextmanager
def work_folder(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    folder = Path(tempfile.mkdtemp(prefix="webwarden-categories-bench-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts (a smoke run)")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(MEASUREMENTS)}")
    parser.add_argument("--work", type=Path, help="keep files here (default: a temporary folder)")
    parser.add_argument("--readme", type=Path, help="write the results into this README")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        name, *rest = args.child
        print(json.dumps(CHILDREN[name](*rest)))
        return 0
    selected = args.only.split(",") if args.only else list(MEASUREMENTS)
    unknown = [name for name in selected if name not in MEASUREMENTS]
    if unknown:
        parser.error(f"unknown measurement(s): {', '.join(unknown)}")
    sizes = Sizes.quick() if args.quick else Sizes()
    with work_folder(args.work) as work:
        ctx = Context(work=work, sizes=sizes)
        prepare(ctx)
        for name in selected:
            log(f"--- {name}")
            MEASUREMENTS[name](ctx)
        section = report(ctx, sizes)
        (work / "categories-bench.json").write_text(json.dumps(ctx.raw, indent=2))
    print(section)
    if args.readme:
        write_readme(args.readme, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
