"""Reading and writing audit rows. Rows are plain dicts keyed by column name; the audit
package turns them into records, so this module knows tables, not records.

The gateway's audit thread inserts `RawRow`s instead: tuples already in the form the
database stores, so that SQLite gets them straight from the driver without SQLAlchemy
converting every value of every row (which cost about as much as the insert itself).
Their JSON columns are compact and keep non-ASCII text as it is, where SQLAlchemy's JSON
type writes `json.dumps` defaults; both read back as the same lists.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select

from webwarden.store.tables import JSON_COLUMNS, audit_records

Row = dict[str, Any]
RawRow = tuple[Any, ...]
_COLUMNS = [c for c in audit_records.columns if c.name != "id"]
# The order of a RawRow's values.
RAW_COLUMNS = tuple(c.name for c in _COLUMNS)
_TIME = RAW_COLUMNS.index("time")
_JSON = tuple(RAW_COLUMNS.index(name) for name in JSON_COLUMNS)


def insert_rows(engine: Engine, rows: Sequence[Row]) -> None:
    """Insert rows in one transaction (all or none)."""
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(audit_records), list(rows))


def raw_time(at: datetime) -> str:
    """`at` (aware) as a RawRow holds it: naive UTC text, as SQLAlchemy stores a DateTime
    in SQLite ("2024-05-01 10:00:00.123456")."""
    t = at.astimezone(UTC)
    return f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond:06d}"


def insert_raw_rows(engine: Engine, rows: Sequence[RawRow]) -> None:
    """Insert rows in one transaction (all or none). Each row holds the RAW_COLUMNS values
    as stored: `time` as `raw_time` text, the list columns as JSON text, the rest as is."""
    if not rows:
        return
    if engine.dialect.name != "sqlite":
        # Other databases store times and JSON in their own types: let SQLAlchemy convert.
        insert_rows(engine, [_cooked(row) for row in rows])
        return
    with engine.begin() as conn:
        # Many rows per statement: executemany hands the interpreter lock back and forth
        # for every row, which costs the gateway's event loop more than the insert itself.
        start = 0
        for size in statement_sizes(len(rows)):
            chunk = rows[start : start + size]
            start += size
            conn.exec_driver_sql(_sqlite_insert(size), tuple(itertools.chain.from_iterable(chunk)))


def statement_sizes(count: int) -> list[int]:
    """How many rows each INSERT statement of a batch of `count` carries: as many of
    _ROWS_PER_STATEMENT as fit, then the powers of two that make up the rest (largest
    first). Every statement text is then one of a handful the database driver keeps
    compiled; a statement sized to each batch was compiled anew for nearly every batch,
    which cost as much as the inserts themselves."""
    sizes = [_ROWS_PER_STATEMENT] * (count // _ROWS_PER_STATEMENT)
    rest = count % _ROWS_PER_STATEMENT
    size = _ROWS_PER_STATEMENT
    while rest:
        while size > rest:
            size //= 2
        sizes.append(size)
        rest -= size
    return sizes


def _cooked(raw: RawRow) -> Row:
    row = dict(zip(RAW_COLUMNS, raw, strict=True))
    row["time"] = datetime.fromisoformat(raw[_TIME]).replace(tzinfo=UTC)
    for index in _JSON:
        row[RAW_COLUMNS[index]] = json.loads(raw[index])
    return row


# A power of two (so the rest of a batch splits into the few sizes below it) that keeps
# a statement under SQLite's 32,766 parameters. Few, large statements: the database thread
# gives up the interpreter lock while SQLite runs each one and must wait for the event
# loop to hand it back, a few milliseconds, before the next.
_ROWS_PER_STATEMENT = 1024


@functools.lru_cache(maxsize=64)
def _sqlite_insert(rows: int) -> str:
    one = f"({', '.join('?' * len(RAW_COLUMNS))})"
    return (
        f"INSERT INTO {audit_records.name} ({', '.join(RAW_COLUMNS)}) "
        f"VALUES {', '.join([one] * rows)}"
    )


def chain_head(engine: Engine, chain: str) -> tuple[int, str] | None:
    """(seq, hash) of the last row of `chain`, or None if it has none."""
    query = (
        select(audit_records.c.seq, audit_records.c.hash)
        .where(audit_records.c.chain == chain)
        .order_by(audit_records.c.seq.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return (int(row.seq), str(row.hash)) if row else None


def chain_names(engine: Engine) -> list[str]:
    query = select(audit_records.c.chain).distinct().order_by(audit_records.c.chain)
    with engine.connect() as conn:
        return [str(name) for name in conn.execute(query).scalars()]


def chain_rows(engine: Engine, chain: str, after_seq: int = 0, batch: int = 1000) -> Iterator[Row]:
    """The rows of `chain` after `after_seq`, by seq, fetched a batch at a time so that
    verifying a long chain holds neither a long transaction nor all rows in memory."""
    last = after_seq
    while True:
        query = (
            select(*_COLUMNS)
            .where(audit_records.c.chain == chain, audit_records.c.seq > last)
            .order_by(audit_records.c.seq)
            .limit(batch)
        )
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1]["seq"]


def recent_rows(engine: Engine, limit: int, chain: str | None = None) -> list[Row]:
    """The `limit` most recent rows by request time, oldest first."""
    query = select(*_COLUMNS).order_by(audit_records.c.time.desc(), audit_records.c.id.desc())
    if chain is not None:
        query = query.where(audit_records.c.chain == chain)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query.limit(limit))]
    rows.reverse()
    return rows


def count_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_records)).scalar_one())
