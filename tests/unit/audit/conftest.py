"""Records to write: a plain, fixed one and a factory for variations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from webwarden.audit.record import AuditRecord

START = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)

BASE = AuditRecord(
    time=START,
    client="10.0.0.5",
    device="laptop-17",
    method="GET",
    url="http://news.example/today?x=1",
    effect="allow",
    status=200,
    person="alice",
    categories=("press",),
    rule_ids=("allow-press",),
    decision_id="dec-1",
    policy_version="pv-abc",
    bytes_in=312,
    bytes_out=4110,
    duration_ms=180.25,
    hierarchy="192.0.2.10",
    content_type="text/html; charset=utf-8",
)

RecordFactory = Callable[..., AuditRecord]


@pytest.fixture
def record() -> RecordFactory:
    """`record(**changes)`: the base record with some fields changed."""

    def make(**changes: Any) -> AuditRecord:
        return replace(BASE, **changes)

    return make
