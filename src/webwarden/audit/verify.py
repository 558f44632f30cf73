"""Checking a chain: every hash recomputed, every link followed, the first break reported.

The verifier is fed records in stored order (a JSON lines file top to bottom, database
rows by sequence number) and keeps one state per chain, so a file holding several chains
is fine. It stops judging a chain at its first break: everything after it is suspect, and
the first bad sequence number is what an auditor needs.

A chain alone cannot show that records were cut off its end; `compare_ends` does, by
setting the ends of the two sinks that carry the chain side by side (docs/audit.md).
`verify_jsonl` and `verify_database` feed the verifier from those two sinks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from webwarden.audit.chain import GENESIS, ChainedRecord, ChainHead
from webwarden.audit.db_sink import row_to_entry
from webwarden.audit.ecs_jsonl import DamagedLineError, read_jsonl
from webwarden.store import audit_log

UNKNOWN_CHAIN = "(unknown)"


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The verdict on one chain. `bad_seq` is the first sequence number that fails (or is
    missing), `where` says where in the source it was found."""

    chain: str
    count: int
    first_seq: int | None
    last_seq: int | None
    bad_seq: int | None = None
    reason: str = ""
    where: str = ""
    starts_mid_chain: bool = False
    last_hash: str | None = None

    @property
    def ok(self) -> bool:
        return not self.reason

    def describe(self) -> str:
        span = (
            f"seq {self.first_seq}..{self.last_seq}" if self.first_seq is not None else "no records"
        )
        if self.ok:
            note = " (starts mid-chain: earlier records are in an older file)"
            return (
                f"chain {self.chain}: {self.count} records, {span}, intact"
                f"{note if self.starts_mid_chain else ''}"
            )
        at = f" [{self.where}]" if self.where else ""
        return f"chain {self.chain}: BROKEN at seq {self.bad_seq}: {self.reason}{at}"


@dataclass(slots=True)
class _ChainState:
    count: int = 0
    first_seq: int | None = None
    last: ChainHead | None = None
    bad_seq: int | None = None
    reason: str = ""
    where: str = ""
    starts_mid_chain: bool = False


@dataclass(slots=True)
class ChainVerifier:
    """Feed records in stored order, then read `reports()`.

    `must_start_at_one`: a source that holds a whole chain (the database) must begin at
    seq 1; a JSON lines file may begin mid-chain, because files are rotated.
    """

    must_start_at_one: bool = False
    _chains: dict[str, _ChainState] = field(default_factory=dict)
    _last_chain: str | None = None

    def feed(self, entry: ChainedRecord, where: str = "") -> None:
        state = self._chains.setdefault(entry.chain, _ChainState())
        self._last_chain = entry.chain
        if not state.reason:
            self._check(state, entry, where)
        state.count += 1
        if state.first_seq is None:
            state.first_seq = entry.seq
        state.last = entry.head

    def damaged(self, where: str, reason: str, chain: str | None = None) -> None:
        """A stored record that could not even be read. It is charged to the chain being
        read when it turned up (a file holds one chain in practice)."""
        name = chain or self._last_chain or UNKNOWN_CHAIN
        state = self._chains.setdefault(name, _ChainState())
        if not state.reason:
            state.bad_seq = (state.last.seq if state.last else 0) + 1
            state.reason = reason
            state.where = where

    def reports(self) -> list[ChainReport]:
        return [
            ChainReport(
                chain=name,
                count=s.count,
                first_seq=s.first_seq,
                last_seq=s.last.seq if s.last else None,
                bad_seq=s.bad_seq,
                reason=s.reason,
                where=s.where,
                starts_mid_chain=s.starts_mid_chain,
                last_hash=s.last.hash if s.last else None,
            )
            for name, s in sorted(self._chains.items())
        ]

    def _check(self, state: _ChainState, entry: ChainedRecord, where: str) -> None:
        def fail(seq: int, reason: str) -> None:
            state.bad_seq, state.reason, state.where = seq, reason, where

        seq = entry.seq
        if not entry.hash_is_valid():
            fail(seq, "record changed after it was written: its hash does not match its content")
        elif state.last is None:
            if seq < 1:
                fail(seq, "sequence numbers start at 1")
            elif seq == 1 and entry.prev != GENESIS:
                fail(1, "the first record of a chain must not point to an earlier record")
            elif seq > 1 and self.must_start_at_one:
                fail(1, f"records 1..{seq - 1} are missing: the chain starts at seq {seq}")
            elif seq > 1:
                state.starts_mid_chain = True
        else:
            expected = state.last.seq + 1
            if seq > expected:
                fail(
                    expected,
                    f"expected seq {expected} next but found seq {seq}: "
                    f"records {expected}..{seq - 1} are missing or out of order",
                )
            elif seq < expected:
                fail(seq, f"seq {seq} comes after seq {state.last.seq}: records are out of order")
            elif entry.prev != state.last.hash:
                fail(
                    seq,
                    f"does not follow record {state.last.seq}: the hash it names as previous "
                    "differs (a record was replaced or the chain was spliced)",
                )


def verify_jsonl(paths: Sequence[Path]) -> list[ChainReport]:
    """Verify JSON lines files read in the order given (oldest rotated file first).
    Raises OSError if a file cannot be read."""
    verifier = ChainVerifier(must_start_at_one=False)
    for path in paths:
        for number, item in read_jsonl(path):
            where = f"line {number} of {path}"
            if isinstance(item, DamagedLineError):
                verifier.damaged(where, f"unreadable record: {item}")
            else:
                verifier.feed(item, where)
    return verifier.reports()


def verify_database(engine: Engine, chain: str | None = None) -> list[ChainReport]:
    """Verify every chain in the database (or one), each from seq 1 to its end."""
    verifier = ChainVerifier(must_start_at_one=True)
    names = [chain] if chain is not None else audit_log.chain_names(engine)
    for name in names:
        for row in audit_log.chain_rows(engine, name):
            try:
                entry = row_to_entry(row)
            except (ValueError, TypeError, KeyError) as e:
                verifier.damaged(f"row seq {row.get('seq')}", f"unreadable record: {e}", name)
                continue
            verifier.feed(entry, f"database row seq {entry.seq}")
    return verifier.reports()


@dataclass(frozen=True, slots=True)
class EndComparison:
    """Where one chain ends in the JSON lines files and in the database. Records cut off
    the end of one copy show as that copy ending early; `behind` is how many records the
    database lacks at the end, which is normal only while a gateway is writing (its
    batches reach the database up to a quarter of a second later, and a start copies
    over any it missed)."""

    chain: str
    file_last: int | None
    db_last: int | None
    reason: str = ""
    behind: int = 0

    @property
    def ok(self) -> bool:
        return not self.reason

    def describe(self) -> str:
        if not self.ok:
            return f"chain {self.chain}: ENDS DIFFER: {self.reason}"
        lag = (
            f"; the database is {self.behind} record(s) behind (normal only while the "
            "gateway runs)"
            if self.behind
            else ""
        )
        return f"chain {self.chain}: file and database both end at seq {self.file_last}{lag}"


def compare_ends(
    files: Sequence[ChainReport], database: Sequence[ChainReport]
) -> list[EndComparison]:
    """Compare where each chain of the JSON lines files ends with where it ends in the
    database (both verified first: a broken chain is reported by its own verdict). A
    chain the files hold must be in the database and end at the same record; the
    database may hold chains whose files were not given."""
    in_db = {r.chain: r for r in database}
    out: list[EndComparison] = []
    for f in files:
        if f.last_seq is None or f.chain == UNKNOWN_CHAIN:
            continue
        d = in_db.get(f.chain)
        if d is None or d.last_seq is None:
            out.append(EndComparison(f.chain, f.last_seq, None,
                                     "the database holds none of this chain's records"))
        elif d.last_seq > f.last_seq:
            out.append(EndComparison(
                f.chain, f.last_seq, d.last_seq,
                f"the files end at seq {f.last_seq} but the database goes on to seq "
                f"{d.last_seq}: records {f.last_seq + 1}..{d.last_seq} were cut from the "
                "end of the files (or a newer file was not given)",
            ))
        elif d.last_seq == f.last_seq and d.last_hash != f.last_hash:
            out.append(EndComparison(
                f.chain, f.last_seq, d.last_seq,
                f"both end at seq {f.last_seq} but with different records (different hashes)",
            ))
        else:
            out.append(EndComparison(f.chain, f.last_seq, d.last_seq,
                                     behind=f.last_seq - d.last_seq))
    return out
