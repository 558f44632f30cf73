from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.audit.conftest import BASE, RecordFactory
from webwarden.audit.chain import GENESIS, START, ChainedRecord, append
from webwarden.audit.ecs_jsonl import (
    DamagedLineError,
    JsonlSink,
    decode_line,
    encode_line,
    from_ecs,
    read_jsonl,
    to_ecs,
    url_domain,
)
from webwarden.audit.sink import AuditSinkError


def chain_of(record: RecordFactory, count: int, chain: str = "gw-w0") -> list[ChainedRecord]:
    entries, head = [], START
    for i in range(count):
        entry = append(head, record(decision_id=f"dec-{i + 1}"), chain)
        entries.append(entry)
        head = entry.head
    return entries


def test_golden_document() -> None:
    entry = append(START, BASE, "gw-w0")
    doc = to_ecs(entry)
    assert doc["@timestamp"] == "2024-05-01T10:00:00.123456Z"
    assert doc["event"] == {
        "kind": "event",
        "category": ["network", "web"],
        "type": ["access", "allowed"],
        "action": "allow",
        "outcome": "success",
        "duration": 180_250_000,
        "id": "dec-1",
        "sequence": 1,
        "hash": entry.hash,
    }
    assert doc["source"] == {"address": "10.0.0.5", "ip": "10.0.0.5"}
    assert doc["user"] == {"id": "alice"}
    assert doc["device"] == {"id": "laptop-17"}
    assert doc["url"] == {"full": "http://news.example/today?x=1", "domain": "news.example"}
    assert doc["http"] == {
        "request": {"method": "GET", "bytes": 312},
        "response": {"status_code": 200, "bytes": 4110},
    }
    assert doc["destination"] == {"address": "192.0.2.10"}
    assert doc["rule"] == {"id": ["allow-press"], "ruleset": "pv-abc"}
    assert doc["webwarden"] == {
        "categories": ["press"],
        "grant_ids": [],
        "consent_ids": [],
        "content_type": "text/html; charset=utf-8",
        "chain": {"name": "gw-w0", "prev": GENESIS},
    }
    assert doc["ecs"]["version"]
    assert doc["observer"]["type"] == "proxy"


def test_blocked_anonymous_record_without_upstream(record: RecordFactory) -> None:
    r = record(
        effect="block",
        status=403,
        person=None,
        hierarchy="-",
        client="unix-socket",
        reason="category gambling",
    )
    doc = to_ecs(append(START, r, "gw-w0"))
    assert doc["event"]["type"] == ["access", "denied"]
    assert doc["event"]["outcome"] == "failure"
    assert doc["event"]["reason"] == "category gambling"
    assert "user" not in doc and "destination" not in doc
    assert doc["source"] == {"address": "unix-socket"}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"person": None, "hierarchy": "-", "content_type": "", "reason": ""},
        {"effect": "notice", "status": 0, "reason": "client went away", "duration_ms": 0.001},
        {"method": "CONNECT", "url": "bank.example:443", "grant_ids": ("g1",)},
        {"url": "http://ünïcode.example/ä", "categories": ("z", "a"), "duration_ms": 99999.999},
    ],
)
def test_round_trip_is_lossless(record: RecordFactory, changes: dict[str, object]) -> None:
    entry = append(START, record(**changes), "gw-w0")
    assert from_ecs(to_ecs(entry)) == entry
    again = decode_line(encode_line(entry))
    assert again == entry
    assert again.hash_is_valid()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"event": {}}', "not an audit record"),
    ],
)
def test_damaged_lines(line: bytes, message: str) -> None:
    with pytest.raises(DamagedLineError, match=message):
        decode_line(line)


def test_sink_writes_and_reads_back_its_head(tmp_path: Path, record: RecordFactory) -> None:
    path = tmp_path / "audit.jsonl"
    sink = JsonlSink(path)
    assert sink.head("gw-w0") is None
    entries = chain_of(record, 3)
    for entry in entries:
        sink.write(entry)
    assert sink.head("gw-w0") == entries[-1].head
    assert list(sink.entries_after("gw-w0", 1)) == entries[1:]
    assert list(sink.entries_after("gw-w0", 3)) == []
    sink.close()
    assert [item for _, item in read_jsonl(path)] == entries


def test_second_writer_of_a_chain_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    first = JsonlSink(path)
    with pytest.raises(AuditSinkError, match="another process is writing this chain"):
        JsonlSink(path)
    first.close()
    JsonlSink(path).close()  # free again once the first one closed


def test_file_of_another_chain_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    sink = JsonlSink(path)
    sink.write(append(START, BASE, "gw-w0"))
    with pytest.raises(AuditSinkError, match="holds chain 'gw-w0'"):
        sink.head("gw-w1")
    sink.close()


def test_damaged_last_line_stops_resuming(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(encode_line(append(START, BASE, "gw-w0")) + b'{"half a rec')
    sink = JsonlSink(path)
    with pytest.raises(AuditSinkError, match="last line is damaged"):
        sink.head("gw-w0")
    sink.close()


def test_read_jsonl_reports_damaged_lines_with_numbers(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    good = encode_line(append(START, BASE, "gw-w0"))
    path.write_bytes(good + b"\n" + b"garbage\n" + json.dumps({"a": 1}).encode() + b"\n")
    items = list(read_jsonl(path))
    assert [number for number, _ in items] == [1, 3, 4]
    assert isinstance(items[0][1], ChainedRecord)
    assert isinstance(items[1][1], DamagedLineError)
    assert isinstance(items[2][1], DamagedLineError)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.builds("http://{}".format, st.text(max_size=40)),
        st.builds("https://{}/{}".format, st.text(max_size=20), st.text(max_size=10)),
    )
)
def test_domain_is_urlsplits_hostname(url: str) -> None:
    try:
        expected = urlsplit(url).hostname
    except ValueError:  # refused either way
        with pytest.raises(ValueError):
            url_domain(url)
        return
    assert url_domain(url) == expected
