"""The audit record: one per transaction, plain values only, so every sink can write it.

A record is built once the transaction is over (its status, byte counts and duration are
known). `AuditRecord.from_decision` fills the policy half from a `Decision` and applies
the metadata-only obligation (G6) to the URL; `redact_url` is the rule it applies.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from webwarden.model.decision import Decision, Effect, Obligation

EFFECTS = frozenset(e.value for e in Effect)
NO_UPSTREAM = "-"


def redact_url(url: str, metadata_only: bool) -> str:
    """The URL as it may be recorded.

    Credentials in the authority are never recorded. With `metadata_only` (a session that
    is never decrypted or read, G6) only `scheme://host[:port]` remains; the port is kept
    only where the URL spelled it. Authority-form targets (`host:port`, as in CONNECT)
    have nothing to redact and are returned as they are.
    """
    if "://" not in url:
        return url
    if not metadata_only and "@" not in url and _plain_url(url):
        return url  # no credentials to cut, and nothing urlsplit would refuse
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    if metadata_only:
        return f"{parts.scheme}://{netloc}"
    if netloc == parts.netloc:
        return url
    return parts._replace(netloc=netloc).geturl()


def _plain_url(url: str) -> bool:
    # urlsplit raises ValueError only for brackets (IPv6 literals) and for non-ASCII
    # host names that NFKC-normalise into delimiters; such URLs take the full path so
    # that they are refused exactly as before.
    return url.isascii() and "[" not in url and "]" not in url


@functools.lru_cache(maxsize=64)  # a handful of methods in practice
def _method_ok(method: str) -> bool:
    return bool(method) and not any(c.isspace() for c in method)


def check_values(
    effect: str, method: str, status: int, bytes_in: int, bytes_out: int, duration_ms: float
) -> None:
    """Raise ValueError for values no record may hold (every way of building one checks
    them here)."""
    if effect not in EFFECTS:
        raise ValueError(f"effect {effect!r} is not one of {sorted(EFFECTS)}")
    if not _method_ok(method):
        raise ValueError(f"method {method!r} is empty or contains white space")
    if not 0 <= status <= 999:
        raise ValueError(f"status {status} is outside 0..999")
    if bytes_in < 0 or bytes_out < 0:
        raise ValueError("byte counts cannot be negative")
    if not math.isfinite(duration_ms) or duration_ms < 0:
        raise ValueError(f"duration {duration_ms!r} ms is not a finite, positive number")


def format_time(at: datetime) -> str:
    """UTC time with microseconds and a `Z`, the form every sink and the chain use."""
    t = at if at.tzinfo is UTC else at.astimezone(UTC)
    # Spelled out: strftime costs several times as much, twice per record on the hot path.
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond:06d}Z"
    )


def parse_time(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError(f"time {text!r} has no time zone")
    return at.astimezone(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """What happened to one request, as the audit trail keeps it.

    `time` is the start of the request (aware, normalised to UTC); `url` is the full URL
    or, where the decision said metadata only, `scheme://host[:port]`; `categories` is
    sorted; `rule_ids` keeps the decision's order (the first rule is the one that spoke to
    the person). `status` is the HTTP status sent to the client (0 when none was sent),
    `bytes_in` counts bytes from the client and `bytes_out` bytes to it. `hierarchy` is the
    upstream server address the request went to, or "-" when it went nowhere.
    `duration_ms` is kept to the microsecond so that every sink stores it exactly.
    """

    time: datetime
    client: str
    device: str
    method: str
    url: str
    effect: str
    status: int
    person: str | None = None
    categories: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    decision_id: str = ""
    policy_version: str = ""
    bytes_in: int = 0
    bytes_out: int = 0
    duration_ms: float = 0.0
    grant_ids: tuple[str, ...] = ()
    consent_ids: tuple[str, ...] = ()
    hierarchy: str = NO_UPSTREAM
    content_type: str = ""
    reason: str = ""

    def __post_init__(self) -> None:
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise ValueError("audit record time must be timezone-aware")
        check_values(
            self.effect, self.method, self.status, self.bytes_in, self.bytes_out,
            self.duration_ms,
        )
        # Normalise in place: the dataclass is frozen, so this is the one moment to do it.
        set_ = object.__setattr__
        set_(self, "time", self.time.astimezone(UTC))
        set_(self, "categories", tuple(sorted(set(self.categories))))
        set_(self, "rule_ids", tuple(self.rule_ids))
        set_(self, "grant_ids", tuple(self.grant_ids))
        set_(self, "consent_ids", tuple(self.consent_ids))
        set_(self, "duration_ms", round(float(self.duration_ms), 3))
        set_(self, "hierarchy", self.hierarchy or NO_UPSTREAM)

    @classmethod
    def from_decision(
        cls,
        decision: Decision,
        *,
        time: datetime,
        client: str,
        device: str,
        method: str,
        url: str,
        status: int,
        person: str | None = None,
        bytes_in: int = 0,
        bytes_out: int = 0,
        duration_ms: float = 0.0,
        hierarchy: str = NO_UPSTREAM,
        content_type: str = "",
        reason: str = "",
    ) -> AuditRecord:
        """The record of a transaction that `decision` decided; redacts the URL when the
        decision carries the log-metadata-only obligation."""
        metadata_only = Obligation.LOG_METADATA_ONLY in decision.obligations
        return cls(
            time=time,
            client=client,
            device=device,
            method=method,
            url=redact_url(url, metadata_only),
            effect=decision.effect.value,
            status=status,
            person=person,
            categories=tuple(decision.categories),
            rule_ids=decision.rule_ids,
            decision_id=decision.id,
            policy_version=decision.policy_version,
            bytes_in=bytes_in,
            bytes_out=bytes_out,
            duration_ms=duration_ms,
            grant_ids=decision.grants_used,
            consent_ids=decision.consents_used,
            hierarchy=hierarchy,
            content_type=content_type,
            reason=reason,
        )

    def to_plain(self) -> dict[str, Any]:
        """Every field as a JSON value: time as UTC text, tuples as lists, the duration as
        whole microseconds (an integer hashes the same whatever stored it)."""
        plain: dict[str, Any] = {name: getattr(self, name) for name in _PLAIN_FIELDS}
        for name in _TUPLE_FIELDS:
            plain[name] = list(plain[name])
        plain["time"] = format_time(self.time)
        plain["duration_us"] = round(self.duration_ms * 1000)
        return plain

    @classmethod
    def from_plain(cls, plain: dict[str, Any]) -> AuditRecord:
        """The inverse of `to_plain`; raises ValueError or KeyError on a malformed dict."""
        values = dict(plain)
        values["time"] = parse_time(values["time"])
        values["duration_ms"] = values.pop("duration_us") / 1000
        for name in _TUPLE_FIELDS:
            values[name] = tuple(values[name])
        unknown = set(values) - RECORD_FIELDS
        if unknown:
            raise ValueError(f"unknown audit record fields: {sorted(unknown)}")
        return cls(**values)


# A record as plain values, the form a gateway worker hands to its audit process (which
# builds, checks and chains the record): (time in whole microseconds since the Unix epoch,
# client, device, method, url, effect, status, person, categories, rule_ids, decision_id,
# policy_version, bytes_in, bytes_out, duration_ms, grant_ids, consent_ids, hierarchy,
# content_type, reason, metadata_only). Only types `marshal` carries; `url` is unredacted
# and `metadata_only` says whether to keep only its scheme and host (`redact_url`).
RecordFields = tuple[
    int, str, str, str, str, str, int, str | None, tuple[str, ...], tuple[str, ...], str, str,
    int, int, float, tuple[str, ...], tuple[str, ...], str, str, str, bool,
]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_us(at: datetime) -> int:
    """`at` (aware) as whole microseconds since the Unix epoch: exact, unlike a float."""
    return (at - EPOCH) // _MICROSECOND


def record_from_fields(values: RecordFields) -> AuditRecord:
    """The record `values` describe (see RecordFields); raises ValueError or TypeError
    for values a record cannot hold, as the constructor does."""
    if type(values) is not tuple or len(values) != FIELD_COUNT:
        raise ValueError(f"an audit record needs {FIELD_COUNT} values, not {values!r:.200}")
    (at, client, device, method, url, effect, status, person, categories, rule_ids,
     decision_id, policy_version, bytes_in, bytes_out, duration_ms, grant_ids, consent_ids,
     hierarchy, content_type, reason, metadata_only) = values  # fmt: skip
    if type(at) is not int or type(url) is not str:
        raise TypeError("an audit record's time must be an integer and its URL a string")
    try:
        time = EPOCH + timedelta(microseconds=at)
    except OverflowError:
        raise ValueError(f"time {at} µs after the epoch is not a date") from None
    return AuditRecord(
        time=time,
        client=client,
        device=device,
        method=method,
        url=redact_url(url, bool(metadata_only)),
        effect=effect,
        status=status,
        person=person,
        categories=categories,
        rule_ids=rule_ids,
        decision_id=decision_id,
        policy_version=policy_version,
        bytes_in=bytes_in,
        bytes_out=bytes_out,
        duration_ms=duration_ms,
        grant_ids=grant_ids,
        consent_ids=consent_ids,
        hierarchy=hierarchy,
        content_type=content_type,
        reason=reason,
    )


FIELD_COUNT = 21
RECORD_FIELDS = frozenset(f.name for f in fields(AuditRecord))
_TUPLE_FIELDS = ("categories", "rule_ids", "grant_ids", "consent_ids")
_PLAIN_FIELDS = tuple(sorted(RECORD_FIELDS - {"time", "duration_ms"}))
