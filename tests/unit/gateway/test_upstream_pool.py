"""The keep-alive pool: bounded, most recently used first, idle connections expire."""

from __future__ import annotations

from tests.unit.gateway.harness import FakeTransport
from webwarden.gateway.upstream import UpstreamConnection, UpstreamPool


def connection(
    key: tuple[str, str, int, bool] = ("http", "a.example", 80, False),
) -> UpstreamConnection:
    conn = UpstreamConnection(key, "93.184.216.34")
    conn.connection_made(FakeTransport())  # type: ignore[arg-type]
    conn.reusable = True
    return conn


def test_lifo_and_keys() -> None:
    pool = UpstreamPool()
    first, second = connection(), connection()
    covert = connection(("http", "a.example", 80, True))
    for c in (first, second, covert):
        pool.put(c)
    assert pool.get(("http", "a.example", 80, False)) is second
    assert pool.get(("http", "a.example", 80, True)) is covert  # covert traffic has its own sockets
    assert pool.get(("http", "a.example", 80, True)) is None


def test_bounds() -> None:
    pool = UpstreamPool(per_key=2, total=3)
    conns = [connection() for _ in range(3)]
    for c in conns:
        pool.put(c)
    assert len(pool) == 2 and conns[2].closed
    unusable = connection(("http", "b.example", 80, False))
    unusable.reusable = False
    pool.put(unusable)
    assert unusable.closed and len(pool) == 2


def test_idle_connections_expire_and_closed_ones_leave() -> None:
    pool = UpstreamPool(idle_timeout=30)
    old, young = connection(), connection()
    pool.put(old)
    pool.put(young)
    old.idle_since -= 60
    pool.sweep(young.idle_since + 1)
    assert old.closed and len(pool) == 1
    young.connection_lost(None)
    assert len(pool) == 0 and pool.get(("http", "a.example", 80, False)) is None
