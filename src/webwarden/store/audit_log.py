"""Reading and writing audit rows. Rows are plain dicts keyed by column name; the audit
package turns them into records, so this module knows tables, not records."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, func, insert, select

from webwarden.store.tables import audit_records

Row = dict[str, Any]
_COLUMNS = [c for c in audit_records.columns if c.name != "id"]


def insert_rows(engine: Engine, rows: Sequence[Row]) -> None:
    """Insert rows in one transaction (all or none)."""
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(audit_records), list(rows))


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
