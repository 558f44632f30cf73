from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.audit.conftest import BASE, RecordFactory
from webwarden.audit.chain import START, append
from webwarden.audit.record import AuditRecord
from webwarden.audit.squid_log import SquidAccessLog, format_line

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# BASE starts at 2024-05-01T10:00:00.123456Z (1714557600.123456) and lasts 180.25 ms, so
# Squid's end-of-transaction stamp is 1714557600.303.
GOLDEN = [
    (
        {},
        "1714557600.303    180 10.0.0.5 TCP_MISS/200 4110 GET http://news.example/today?x=1 "
        "alice HIER_DIRECT/192.0.2.10 text/html",
    ),
    (
        {
            "effect": "block",
            "status": 403,
            "hierarchy": "-",
            "bytes_out": 3994,
            "duration_ms": 2.5,
            "person": None,
        },
        "1714557600.125      2 10.0.0.5 TCP_DENIED/403 3994 GET http://news.example/today?x=1 "
        "- HIER_NONE/- text/html",
    ),
    (
        {"effect": "notice", "status": 403, "hierarchy": "-"},
        "1714557600.303    180 10.0.0.5 TCP_DENIED/403 4110 GET http://news.example/today?x=1 "
        "alice HIER_NONE/- text/html",
    ),
    (
        {
            "method": "CONNECT",
            "url": "https://bank.example",
            "content_type": "",
            "duration_ms": 65432.1,
            "bytes_out": 152000,
        },
        "1714557665.555  65432 10.0.0.5 TCP_TUNNEL/200 152000 CONNECT bank.example:443 "
        "alice HIER_DIRECT/192.0.2.10 -",
    ),
    (
        {"method": "CONNECT", "url": "https://bank.example:8443", "content_type": ""},
        "1714557600.303    180 10.0.0.5 TCP_TUNNEL/200 4110 CONNECT bank.example:8443 "
        "alice HIER_DIRECT/192.0.2.10 -",
    ),
    (
        {
            "url": "http://a.example/a b\tc",
            "person": "Ann Smith[x]",
            "status": 0,
            "bytes_out": 0,
            "client": "2001:db8::5",
            "hierarchy": "2001:db8::80",
            "content_type": "application/json;charset=utf-8",
        },
        "1714557600.303    180 2001:db8::5 TCP_MISS/000 0 GET http://a.example/a%20b%09c "
        "Ann%20Smith%5Bx%5D HIER_DIRECT/2001:db8::80 application/json",
    ),
]


@pytest.mark.parametrize(("changes", "line"), GOLDEN)
def test_golden_lines(record: RecordFactory, changes: dict[str, object], line: str) -> None:
    assert format_line(record(**changes)) == line


def test_every_line_has_the_ten_squid_fields(record: RecordFactory) -> None:
    for changes, _ in GOLDEN:
        assert len(format_line(record(**changes)).split()) == 10


def test_sink_appends_lines(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    sink = SquidAccessLog(path)
    first = append(START, BASE, "c")
    sink.write(first)
    sink.write(append(first.head, BASE, "c"))
    sink.close()
    lines = path.read_text().splitlines()
    assert lines == [format_line(BASE)] * 2


def test_two_sinks_share_one_file(tmp_path: Path) -> None:
    # Workers each open access.log for appending; their lines must not overwrite each other.
    path = tmp_path / "access.log"
    a, b = SquidAccessLog(path), SquidAccessLog(path)
    entry = append(START, BASE, "c")
    for _ in range(3):
        a.write(entry)
        b.write(entry)
    a.close()
    b.close()
    assert len(path.read_text().splitlines()) == 6


def test_reopen_follows_rotation(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    sink = SquidAccessLog(path)
    entry = append(START, BASE, "c")
    sink.write(entry)
    path.rename(tmp_path / "access.log.1")
    sink.reopen()
    sink.write(entry)
    sink.close()
    assert len(path.read_text().splitlines()) == 1
    assert len((tmp_path / "access.log.1").read_text().splitlines()) == 1


def _reference_end_time(record: AuditRecord) -> str:
    # Squid's %ts.%03tu of the end of the transaction, by datetime arithmetic.
    since = record.time + timedelta(milliseconds=record.duration_ms) - EPOCH
    return f"{since.days * 86400 + since.seconds}.{since.microseconds // 1000:03d}"


def _reference_url(url: str) -> str:
    return re.sub(r"[^\x21-\x7e]", lambda m: "".join(f"%{b:02X}" for b in m[0].encode()), url)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(-(10**15), 10**15),
    st.floats(0, 10**9, allow_nan=False),
    st.text(max_size=30),
)
def test_time_stamp_and_url_as_by_the_book(offset_us: int, duration_ms: float, url: str) -> None:
    record = replace(
        BASE,
        time=EPOCH + timedelta(microseconds=offset_us) + timedelta(days=10_000),
        duration_ms=duration_ms,
        url=url,
    )
    line = format_line(record)
    assert line.startswith(f"{_reference_end_time(record)} ")
    assert f" GET {_reference_url(url) or '-'} alice " in line


def test_unicode_separators_cannot_split_a_line(record: RecordFactory) -> None:
    line = format_line(record(url="http://h.example/a\u2028b\u0085c\u00e9"))
    assert line.split()[6] == "http://h.example/a%E2%80%A8b%C2%85c%C3%A9"
    assert len(line.split()) == 10
