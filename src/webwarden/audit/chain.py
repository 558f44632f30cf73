"""The hash chain that makes the audit trail tamper-evident.

Each record of a chain gets a sequence number (1, 2, 3, ...), the hash of the record
before it (`prev`; 64 zeros for the first) and its own hash: SHA-256 over the canonical
serialisation, the sorted-key compact JSON of every record field plus `chain`, `seq` and
`prev`. Changing any field, removing a record or reordering records breaks the chain at
the first record affected. A chain belongs to one writer process (see
docs/decisions/0003-audit-chain.md); `chain` names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256

from webwarden.audit.record import AuditRecord
from webwarden.audit.record_json import RecordJson, json_text

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


class EncodedEntry:
    """A chained record with its fields already encoded as JSON (`json`, and the chain
    name, seq and prev as JSON text), which the writer hands to every sink so that none
    encodes them again."""

    __slots__ = ("chain_json", "entry", "json", "prev_json", "seq_json")

    def __init__(
        self, record: AuditRecord, chain: str, seq: int, prev: str, chain_json: str
    ) -> None:
        self.json = fields = RecordJson(record)
        self.chain_json = chain_json
        self.seq_json = seq_json = json_text(seq)
        self.prev_json = prev_json = json_text(prev)
        digest = sha256(fields.canonical(chain_json, seq_json, prev_json)).hexdigest()
        self.entry = ChainedRecord(record, chain, seq, prev, digest)

    @classmethod
    def of(cls, entry: ChainedRecord) -> EncodedEntry:
        """The encoding of an entry chained before (its hash is kept, not recomputed)."""
        encoded = cls.__new__(cls)
        encoded.json = RecordJson(entry.record)
        encoded.chain_json = json_text(entry.chain)
        encoded.seq_json = json_text(entry.seq)
        encoded.prev_json = json_text(entry.prev)
        encoded.entry = entry
        return encoded


def canonical_bytes(record: AuditRecord, chain: str, seq: int, prev: str) -> bytes:
    """What the chain hashes: the sorted-key compact JSON (non-ASCII kept, UTF-8) of
    `record.to_plain()` plus `chain`, `seq` and `prev`, i.e.

        json.dumps({**record.to_plain(), "chain": chain, "seq": seq, "prev": prev},
                   sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    built from pre-encoded fields (record_json), which gives the same bytes faster."""
    return RecordJson(record).canonical(json_text(chain), json_text(seq), json_text(prev))


def chain_hash(record: AuditRecord, chain: str, seq: int, prev: str) -> str:
    return sha256(canonical_bytes(record, chain, seq, prev)).hexdigest()


def append(head: ChainHead, record: AuditRecord, chain: str) -> ChainedRecord:
    """The record that follows `head` in `chain`."""
    return EncodedEntry(record, chain, head.seq + 1, head.hash, json_text(chain)).entry
