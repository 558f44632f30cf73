from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.audit.conftest import BASE, START, RecordFactory
from webwarden.audit.record import AuditRecord, epoch_us, record_from_fields, redact_url
from webwarden.model.decision import Decision, Effect, Obligation, RuleRef


@pytest.mark.parametrize(
    ("url", "metadata_only", "expected"),
    [
        ("http://a.example/path?q=1#f", False, "http://a.example/path?q=1#f"),
        ("http://a.example/path?q=1#f", True, "http://a.example"),
        ("https://bank.example:8443/login", True, "https://bank.example:8443"),
        ("https://bank.example/", True, "https://bank.example"),
        ("http://bob:secret@a.example/x", False, "http://a.example/x"),
        ("http://bob:secret@a.example:81/x", True, "http://a.example:81"),
        ("http://[2001:db8::1]:8080/x", True, "http://[2001:db8::1]:8080"),
        ("bank.example:443", True, "bank.example:443"),
        ("bank.example:443", False, "bank.example:443"),
    ],
)
def test_redact_url(url: str, metadata_only: bool, expected: str) -> None:
    assert redact_url(url, metadata_only) == expected


def test_normalises_time_categories_and_duration(record: RecordFactory) -> None:
    plus_two = timezone(timedelta(hours=2))
    r = record(
        time=datetime(2024, 5, 1, 12, 0, tzinfo=plus_two),
        categories=("b", "a", "b"),
        duration_ms=1.23456,
        hierarchy="",
    )
    assert r.time == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert r.time.tzinfo is UTC
    assert r.categories == ("a", "b")
    assert r.duration_ms == 1.235
    assert r.hierarchy == "-"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"time": datetime(2024, 5, 1, 10, 0)}, "timezone-aware"),
        ({"effect": "deny"}, "effect"),
        ({"method": "GE T"}, "method"),
        ({"method": ""}, "method"),
        ({"status": 1000}, "status"),
        ({"bytes_out": -1}, "negative"),
        ({"duration_ms": float("nan")}, "duration"),
        ({"duration_ms": -0.5}, "duration"),
    ],
)
def test_rejects_bad_values(
    record: RecordFactory, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        record(**changes)


def test_plain_round_trip(record: RecordFactory) -> None:
    for r in (BASE, record(person=None, reason="upstream refused", grant_ids=("g1", "g2"))):
        plain = r.to_plain()
        assert plain["time"] == "2024-05-01T10:00:00.123456Z"
        assert plain["duration_us"] == round(r.duration_ms * 1000)
        assert AuditRecord.from_plain(plain) == r


def test_from_plain_rejects_unknown_fields() -> None:
    plain = BASE.to_plain() | {"colour": "red"}
    with pytest.raises(ValueError, match="colour"):
        AuditRecord.from_plain(plain)


def _decision(obligations: frozenset[Obligation]) -> Decision:
    return Decision(
        id="dec-9",
        effect=Effect.NOTICE,
        rules=(
            RuleRef("notice-banking", "G6", Effect.NOTICE),
            RuleRef("other", "G8", Effect.ALLOW),
        ),
        obligations=obligations,
        categories=frozenset({"bank", "financial"}),
        policy_version="pv-9",
        regime="2013",
        grants_used=("g-1",),
        consents_used=("c-1",),
    )


def test_from_decision_copies_the_policy_half() -> None:
    r = AuditRecord.from_decision(
        _decision(frozenset()),
        time=START,
        client="10.0.0.9",
        device="ws-1",
        method="GET",
        url="https://bank.example/account?id=7",
        status=403,
        person="bob",
    )
    assert r.effect == "notice"
    assert r.rule_ids == ("notice-banking", "other")
    assert r.categories == ("bank", "financial")
    assert (r.decision_id, r.policy_version) == ("dec-9", "pv-9")
    assert (r.grant_ids, r.consent_ids) == (("g-1",), ("c-1",))
    assert r.url == "https://bank.example/account?id=7"


def test_from_decision_applies_metadata_only() -> None:
    r = AuditRecord.from_decision(
        _decision(frozenset({Obligation.LOG_METADATA_ONLY})),
        time=START,
        client="10.0.0.9",
        device="ws-1",
        method="CONNECT",
        url="https://bank.example:443/account?id=7",
        status=200,
    )
    assert r.url == "https://bank.example:443"


def _reference_redact(url: str, metadata_only: bool) -> str:
    # redact_url by urlsplit alone, without its shortcut for plain URLs.
    if "://" not in url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    if metadata_only:
        return f"{parts.scheme}://{netloc}"
    if netloc == parts.netloc:
        return url
    return parts._replace(netloc=netloc).geturl()


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.builds("{}://{}".format, st.sampled_from(["http", "https", "ftp"]), st.text()),
    ),
    st.booleans(),
)
def test_redact_url_agrees_with_urlsplit(url: str, metadata_only: bool) -> None:
    try:
        expected = _reference_redact(url, metadata_only)
    except ValueError:  # e.g. unbalanced IPv6 brackets: refused either way
        with pytest.raises(ValueError):
            redact_url(url, metadata_only)
        return
    assert redact_url(url, metadata_only) == expected


# --- The plain values a worker sends its audit process ------------------------------------

def _fields(**changes: object) -> tuple[object, ...]:
    values: dict[str, object] = {
        "at": epoch_us(datetime(2026, 3, 1, 9, 30, 1, 123456, tzinfo=UTC)), "client": "10.0.0.7",
        "device": "pc1001", "method": "GET", "url": "http://bob:pw@a.example/x?q=1",
        "effect": "allow", "status": 200, "person": "p1", "categories": ("news", "bank"),
        "rule_ids": ("r1",), "decision_id": "d1", "policy_version": "v", "bytes_in": 10,
        "bytes_out": 20, "duration_ms": 1.5, "grant_ids": ("g",), "consent_ids": (),
        "hierarchy": "127.0.0.1:80", "content_type": "text/html", "reason": "",
        "metadata_only": False,
    }
    values.update(changes)
    return tuple(values.values())


def test_a_record_from_fields_is_built_and_checked_as_the_constructor_does() -> None:
    record = record_from_fields(_fields())  # type: ignore[arg-type]
    assert record.time == datetime(2026, 3, 1, 9, 30, 1, 123456, tzinfo=UTC)
    assert record.url == "http://a.example/x?q=1"  # credentials never recorded
    assert record.categories == ("bank", "news") and record.grant_ids == ("g",)
    short = record_from_fields(_fields(metadata_only=True))  # type: ignore[arg-type]
    assert short.url == "http://a.example"


@pytest.mark.parametrize(
    "values",
    [
        _fields()[:-1],  # one value missing
        [*_fields()],  # a list, not a tuple
        _fields(at=1.5),  # a float time loses microseconds: refused
        _fields(effect="maybe"),
        _fields(method="GET X"),
        _fields(status=-1),
        _fields(status="200"),
        _fields(bytes_in=-5),
        _fields(url=None),
        _fields(at=10**20),  # past year 9999
    ],
)
def test_fields_a_record_cannot_hold_are_refused(values: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        record_from_fields(values)  # type: ignore[arg-type]


@settings(max_examples=300)
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31),
                    timezones=st.just(UTC)))
def test_epoch_microseconds_keep_every_time_exactly(at: datetime) -> None:
    fields = _fields(at=epoch_us(at))
    assert record_from_fields(fields).time == at  # type: ignore[arg-type]
