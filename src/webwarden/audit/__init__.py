"""The audit trail (G4, G8): one record per transaction, hash-chained, written to a Squid
access.log, ECS JSON lines and the database.

The gateway builds an `AuditRecord` (usually `AuditRecord.from_decision`) when a
transaction is over and calls `AuditWriter.write`; `open_writer` builds the writer for a
worker process. See docs/audit.md.
"""

from webwarden.audit.chain import ChainedRecord, ChainHead
from webwarden.audit.record import AuditRecord, redact_url
from webwarden.audit.setup import open_writer
from webwarden.audit.sink import AuditSink, AuditSinkError
from webwarden.audit.writer import AuditWriter

__all__ = [
    "AuditRecord",
    "AuditSink",
    "AuditSinkError",
    "AuditWriter",
    "ChainHead",
    "ChainedRecord",
    "open_writer",
    "redact_url",
]
