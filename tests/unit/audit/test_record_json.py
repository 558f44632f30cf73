"""The hand-built JSON (hash input, ECS line) against json.dumps over the same values: a
difference here would make old logs unverifiable or change the file format."""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.audit.conftest import BASE, RecordFactory
from webwarden.audit.chain import GENESIS, ChainedRecord, EncodedEntry, canonical_bytes
from webwarden.audit.ecs_jsonl import encode_line, to_ecs
from webwarden.audit.record import AuditRecord

# Any text, including quotes, backslashes, control characters and non-ASCII.
TEXT = st.text(max_size=40)
TEXTS = st.lists(TEXT, max_size=3).map(tuple)
URLS = st.one_of(
    TEXT,
    st.builds(lambda host, path: f"http://{host}/{path}", TEXT, TEXT),
    st.builds(lambda host, rest: f"https://{host}{rest}", TEXT, TEXT),
    st.sampled_from(["http://[::1]:8080/x", "http://user:pw@host.example/", "HTTP://A.example"]),
)


@st.composite
def records(draw: st.DrawFn) -> AuditRecord:
    return AuditRecord(
        time=datetime(2024, 5, 1, tzinfo=UTC)
        + timedelta(microseconds=draw(st.integers(0, 10**14))),
        client=draw(st.one_of(TEXT, st.sampled_from(["10.0.0.1", "::1", "unix-socket"]))),
        device=draw(TEXT),
        method=draw(st.sampled_from(["GET", "CONNECT", "PÖST", 'M"X'])),
        url=draw(URLS),
        effect=draw(st.sampled_from(["allow", "block", "notice"])),
        status=draw(st.integers(0, 999)),
        person=draw(st.none() | TEXT),
        categories=draw(TEXTS),
        rule_ids=draw(TEXTS),
        decision_id=draw(TEXT),
        policy_version=draw(TEXT),
        bytes_in=draw(st.integers(0, 2**63)),
        bytes_out=draw(st.integers(0, 2**63)),
        duration_ms=draw(st.floats(0, 10**9, allow_nan=False)),
        grant_ids=draw(TEXTS),
        consent_ids=draw(TEXTS),
        hierarchy=draw(st.one_of(st.just("-"), TEXT)),
        content_type=draw(TEXT),
        reason=draw(TEXT),
    )


def reference_canonical(record: AuditRecord, chain: str, seq: int, prev: str) -> bytes:
    plain = record.to_plain()
    plain.update(chain=chain, seq=seq, prev=prev)
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def reference_line(entry: ChainedRecord) -> bytes:
    return (json.dumps(to_ecs(entry), ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def surrogate_free(record: AuditRecord) -> bool:
    # A lone surrogate cannot be written as UTF-8 by either encoder.
    try:
        json.dumps(record.to_plain(), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(records(), st.integers(1, 2**40), TEXT)
def test_canonical_bytes_are_json_dumps(record: AuditRecord, seq: int, chain: str) -> None:
    if not surrogate_free(record):
        return
    assert canonical_bytes(record, chain, seq, GENESIS) == reference_canonical(
        record, chain, seq, GENESIS
    )


@settings(max_examples=300, deadline=None)
@given(records(), st.integers(1, 2**40))
def test_ecs_line_is_json_dumps_of_to_ecs(record: AuditRecord, seq: int) -> None:
    if not surrogate_free(record):
        return
    entry = EncodedEntry(record, "gw-w0", seq, GENESIS, '"gw-w0"').entry
    try:
        expected = reference_line(entry)
    except ValueError:  # urlsplit refuses the URL (bad IPv6 brackets): so must the line
        with pytest.raises(ValueError):
            encode_line(entry)
        return
    assert encode_line(entry) == expected


def test_a_url_urlsplit_refuses_is_refused(record: RecordFactory) -> None:
    entry = EncodedEntry(record(url="http://[::1/x"), "gw-w0", 1, GENESIS, '"gw-w0"').entry
    with pytest.raises(ValueError, match="IPv6"):
        reference_line(entry)
    with pytest.raises(ValueError, match="IPv6"):
        encode_line(entry)


class Code(enum.IntEnum):
    OK = 200


@given(st.sampled_from([{"status": True}, {"status": Code.OK}, {"decision_id": 17}]))
def test_values_of_other_types_encode_as_json_dumps_would(changes: dict[str, Any]) -> None:
    # The record does not check types; whatever it holds must hash as json.dumps has it.
    record = AuditRecord(**{**_fields(BASE), **changes})
    assert canonical_bytes(record, "c", 1, GENESIS) == reference_canonical(record, "c", 1, GENESIS)
    entry = EncodedEntry(record, "c", 1, GENESIS, '"c"').entry
    assert encode_line(entry) == reference_line(entry)


def _fields(record: AuditRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}
