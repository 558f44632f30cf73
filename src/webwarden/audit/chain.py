"""The hash chain that makes the audit trail tamper-evident.

Each record of a chain gets a sequence number (1, 2, 3, ...), the hash of the record
before it (`prev`; 64 zeros for the first) and its own hash: SHA-256 over the canonical
serialisation, the sorted-key compact JSON of every record field plus `chain`, `seq` and
`prev`. Changing any field, removing a record or reordering records breaks the chain at
the first record affected. A chain belongs to one writer process (see
docs/decisions/0003-audit-chain.md); `chain` names it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from webwarden.audit.record import AuditRecord

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where a chain stands: the last sequence number and that record's hash."""

    seq: int
    hash: str


START = ChainHead(seq=0, hash=GENESIS)


@dataclass(frozen=True, slots=True)
class ChainedRecord:
    """A record with its place in a chain."""

    record: AuditRecord
    chain: str
    seq: int
    prev: str
    hash: str

    @property
    def head(self) -> ChainHead:
        return ChainHead(self.seq, self.hash)

    def hash_is_valid(self) -> bool:
        return chain_hash(self.record, self.chain, self.seq, self.prev) == self.hash


def canonical_bytes(record: AuditRecord, chain: str, seq: int, prev: str) -> bytes:
    plain = record.to_plain()
    plain.update(chain=chain, seq=seq, prev=prev)
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def chain_hash(record: AuditRecord, chain: str, seq: int, prev: str) -> str:
    return hashlib.sha256(canonical_bytes(record, chain, seq, prev)).hexdigest()


def append(head: ChainHead, record: AuditRecord, chain: str) -> ChainedRecord:
    """The record that follows `head` in `chain`."""
    seq = head.seq + 1
    return ChainedRecord(record, chain, seq, head.hash, chain_hash(record, chain, seq, head.hash))
