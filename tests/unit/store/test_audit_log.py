from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from webwarden.store import audit_log, make_engine
from webwarden.store.tables import JSON_COLUMNS

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'webwarden.db'}")
    yield engine
    engine.dispose()


def row(chain: str, seq: int, minutes: int = 0) -> dict[str, Any]:
    return {
        "chain": chain,
        "seq": seq,
        "prev": "0" * 64,
        "hash": f"{seq:064d}",
        "time": T0 + timedelta(minutes=minutes),
        "person": "alice",
        "device": "ws-1",
        "client": "10.0.0.1",
        "method": "GET",
        "url": f"http://a.example/{seq}",
        "categories": ["press"],
        "effect": "allow",
        "rule_ids": ["r1"],
        "decision_id": f"d{seq}",
        "policy_version": "pv",
        "status": 200,
        "bytes_in": 1,
        "bytes_out": 2,
        "duration_ms": 3.5,
        "grant_ids": [],
        "consent_ids": [],
        "hierarchy": "-",
        "content_type": "",
        "reason": "",
    }


def test_heads_rows_and_names(engine: Engine) -> None:
    audit_log.insert_rows(engine, [row("b", s) for s in (1, 2, 3)] + [row("a", 1)])
    assert audit_log.chain_names(engine) == ["a", "b"]
    assert audit_log.chain_head(engine, "b") == (3, f"{3:064d}")
    assert audit_log.chain_head(engine, "nobody") is None
    rows = list(audit_log.chain_rows(engine, "b", batch=2))
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert rows[0]["time"] == T0 and rows[0]["categories"] == ["press"]
    assert [r["seq"] for r in audit_log.chain_rows(engine, "b", after_seq=2)] == [3]


def test_recent_rows_by_time_oldest_first(engine: Engine) -> None:
    audit_log.insert_rows(engine, [row("a", 1, 5), row("a", 2, 1), row("b", 1, 9)])
    assert [r["time"] for r in audit_log.recent_rows(engine, 2)] == [
        T0 + timedelta(minutes=5),
        T0 + timedelta(minutes=9),
    ]
    assert [r["seq"] for r in audit_log.recent_rows(engine, 10, chain="a")] == [2, 1]


def test_a_seq_is_stored_once_per_chain(engine: Engine) -> None:
    audit_log.insert_rows(engine, [row("a", 1)])
    with pytest.raises(IntegrityError):
        audit_log.insert_rows(engine, [row("a", 2), row("a", 1)])
    # All or nothing: seq 2 of the failed batch is not there either.
    assert audit_log.count_rows(engine) == 1


def as_raw(row: dict[str, Any]) -> audit_log.RawRow:
    values = dict(row, time=audit_log.raw_time(row["time"]))
    for name in JSON_COLUMNS:
        values[name] = json.dumps(row[name], ensure_ascii=False, separators=(",", ":"))
    return tuple(values[name] for name in audit_log.RAW_COLUMNS)


def test_raw_rows_store_what_rows_store(tmp_path: Path) -> None:
    # The fast path for SQLite must leave the same values behind as SQLAlchemy's insert.
    rows = [row("a", 1), row("a", 2, minutes=3)]
    rows[1].update(categories=["b", "ä"], person=None, time=T0 + timedelta(microseconds=7))
    stored = []
    for name, insert in (
        ("core", audit_log.insert_rows),
        ("raw", lambda e, r: audit_log.insert_raw_rows(e, [as_raw(x) for x in r])),
    ):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        insert(engine, rows)
        with engine.connect() as conn:
            times = conn.execute(text("SELECT time FROM audit_records ORDER BY seq")).scalars()
            stored.append((list(audit_log.chain_rows(engine, "a")), list(times)))
        engine.dispose()
    assert stored[0] == stored[1]
    assert stored[0][0] == rows


def test_raw_rows_are_converted_for_other_databases() -> None:
    original = row("a", 1, minutes=2)
    assert audit_log._cooked(as_raw(original)) == original


def test_raw_time_is_utc() -> None:
    berlin = timezone(timedelta(hours=2))
    assert audit_log.raw_time(datetime(2024, 5, 1, 12, 0, tzinfo=berlin)) == (
        "2024-05-01 10:00:00.000000"
    )


def test_raw_rows_in_more_than_one_statement(tmp_path: Path) -> None:
    # A batch larger than one multi-row statement holds is split, and every row lands once.
    count = audit_log._ROWS_PER_STATEMENT * 2 + 7
    engine = make_engine(f"sqlite:///{tmp_path / 'many.db'}")
    audit_log.insert_raw_rows(engine, [as_raw(row("a", seq)) for seq in range(1, count + 1)])
    with engine.connect() as conn:
        seqs = conn.execute(text("SELECT seq FROM audit_records ORDER BY seq")).scalars().all()
    engine.dispose()
    assert seqs == list(range(1, count + 1))


@pytest.mark.parametrize("count", [0, 1, 2, 3, 255, 256, 257, 1000, 1337])
def test_statements_come_in_few_sizes(count: int) -> None:
    sizes = audit_log.statement_sizes(count)
    assert sum(sizes) == count
    assert sizes == sorted(sizes, reverse=True)
    assert all(s & (s - 1) == 0 and s <= audit_log._ROWS_PER_STATEMENT for s in sizes)
    # at most one statement of each size below the largest
    small = [s for s in sizes if s < audit_log._ROWS_PER_STATEMENT]
    assert len(small) == len(set(small))
    # and a full statement stays within SQLite's limit on parameters
    assert len(audit_log.RAW_COLUMNS) * audit_log._ROWS_PER_STATEMENT < 32_766
