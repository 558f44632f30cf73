"""Building blocks of `bench/gateway_bench.py`, the side-by-side gateway benchmark.

procs: start/stop the servers we run, CPU and memory of their process trees.
origin: the nginx origin (1 KiB over HTTP, 1 MiB over HTTPS) and its hit counts.
squidguard: a squidGuard database built from UT1 lists.
targets: the proxies under test and how each one is started.
load: wrk and curl runs, and the functional checks before a target is measured.
report: medians, ratios against Squid and the markdown tables.
"""
