"""The database tables (SQLAlchemy Core): audit records and consents.

Times are stored as naive UTC and read back as aware UTC (`UTCDateTime`), so SQLite, which
has no time zones, and PostgreSQL behave the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime in, naive UTC in the database, aware UTC out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


metadata = MetaData()

# One row per audit record. (chain, seq) is unique: a chain is written by one process, so
# a duplicate means two processes claim the same chain, and the insert must fail.
audit_records = Table(
    "audit_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chain", String(200), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("prev", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("time", UTCDateTime(), nullable=False),
    Column("person", String(200), nullable=True),
    Column("device", String(200), nullable=False),
    Column("client", String(100), nullable=False),
    Column("method", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("categories", JSON, nullable=False),
    Column("effect", String(16), nullable=False),
    Column("rule_ids", JSON, nullable=False),
    Column("decision_id", String(100), nullable=False),
    Column("policy_version", String(100), nullable=False),
    Column("status", Integer, nullable=False),
    Column("bytes_in", BigInteger, nullable=False),
    Column("bytes_out", BigInteger, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("grant_ids", JSON, nullable=False),
    Column("consent_ids", JSON, nullable=False),
    Column("hierarchy", String(100), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    UniqueConstraint("chain", "seq", name="uq_audit_records_chain_seq"),
    Index("ix_audit_records_time", "time"),
    Index("ix_audit_records_person_time", "person", "time"),
    Index("ix_audit_records_effect_time", "effect", "time"),
)

# The audit columns holding lists (as JSON).
JSON_COLUMNS = ("categories", "rule_ids", "grant_ids", "consent_ids")

consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(200), nullable=False),
    Column("notice", String(200), nullable=False),
    Column("scope_kind", String(32), nullable=False),
    Column("scope", String(500), nullable=False),
    Column("accepted", UTCDateTime(), nullable=False),
    Column("expires", UTCDateTime(), nullable=False),
    Index("ix_consents_person_expires", "person_id", "expires"),
)
