"""A record's fields as JSON text, encoded once and shared by everything that writes it.

The writer needs the same field values as JSON three times per record: in the canonical
serialisation that is hashed, in the ECS line of the JSON lines file and in the JSON
columns of the database row. `RecordJson` encodes each field once; the three are then
plain string templates over these pieces, which costs a fraction of building a dict and
running `json.dumps` over it for each.

The pieces are exactly what `json.dumps(value, ensure_ascii=False)` gives for each value,
so a template over them is byte for byte what `json.dumps` gives for the whole document
(tests/unit/audit/test_record_json.py checks this against `json.dumps`). Strings go through
the json module's own C string encoder; a value of an unexpected type (the record does
not check types) is encoded by `json.dumps` itself, so it still comes out the same.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

from webwarden.audit.record import AuditRecord, format_time


def _generic(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_text(value: Any) -> str:
    """A field value as JSON text, exactly as `json.dumps` (compact, non-ASCII kept)."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    # Exactly int: bool and int subclasses are not plain numbers to json.dumps.
    return str(value) if kind is int else _generic(value)


class RecordJson:
    """Every field of `record` as JSON text (strings quoted, `person` possibly `null`),
    except `time`, which is the UTC text without quotes (it never needs escaping)."""

    __slots__ = (
        "bytes_in",
        "bytes_out",
        "categories",
        "client",
        "consent_ids",
        "content_type",
        "decision_id",
        "device",
        "duration_us",
        "effect",
        "grant_ids",
        "hierarchy",
        "method",
        "person",
        "policy_version",
        "reason",
        "record",
        "rule_ids",
        "status",
        "time",
        "url",
    )

    def __init__(self, record: AuditRecord) -> None:
        self.record = record
        self.time = format_time(record.time)
        self.duration_us = str(round(record.duration_ms * 1000))
        # Fields of the declared types are encoded without a Python call each; one of
        # another type makes encode_basestring (str only) or the int check raise TypeError.
        r, text = record, encode_basestring
        try:
            self.client = text(r.client)
            self.device = text(r.device)
            self.method = text(r.method)
            self.url = text(r.url)
            self.effect = text(r.effect)
            self.person = "null" if r.person is None else text(r.person)
            self.decision_id = text(r.decision_id)
            self.policy_version = text(r.policy_version)
            self.hierarchy = text(r.hierarchy)
            self.content_type = text(r.content_type)
            self.reason = text(r.reason)
            self.categories = f"[{','.join(map(text, r.categories))}]"
            self.rule_ids = f"[{','.join(map(text, r.rule_ids))}]"
            self.grant_ids = f"[{','.join(map(text, r.grant_ids))}]"
            self.consent_ids = f"[{','.join(map(text, r.consent_ids))}]"
            # Exactly int: json.dumps writes bool and int subclasses differently.
            if not type(r.status) is type(r.bytes_in) is type(r.bytes_out) is int:
                raise TypeError("not plain integers")
            self.status = str(r.status)
            self.bytes_in = str(r.bytes_in)
            self.bytes_out = str(r.bytes_out)
        except TypeError:  # let json.dumps encode each field
            self._encode_any(record)

    def _encode_any(self, r: AuditRecord) -> None:
        self.client = json_text(r.client)
        self.device = json_text(r.device)
        self.method = json_text(r.method)
        self.url = json_text(r.url)
        self.effect = json_text(r.effect)
        self.person = json_text(r.person)
        self.decision_id = json_text(r.decision_id)
        self.policy_version = json_text(r.policy_version)
        self.hierarchy = json_text(r.hierarchy)
        self.content_type = json_text(r.content_type)
        self.reason = json_text(r.reason)
        self.categories = _generic(r.categories)
        self.rule_ids = _generic(r.rule_ids)
        self.grant_ids = _generic(r.grant_ids)
        self.consent_ids = _generic(r.consent_ids)
        self.status = json_text(r.status)
        self.bytes_in = json_text(r.bytes_in)
        self.bytes_out = json_text(r.bytes_out)

    def canonical(self, chain_json: str, seq_json: str, prev_json: str) -> bytes:
        """The sorted-key compact JSON of `record.to_plain()` plus chain, seq and prev
        (given as JSON text): what the chain hashes."""
        return canonical_text(
            self.bytes_in, self.bytes_out, self.categories, chain_json, self.client,
            self.consent_ids, self.content_type, self.decision_id, self.device,
            self.duration_us, self.effect, self.grant_ids, self.hierarchy, self.method,
            self.person, self.policy_version, prev_json, self.reason, self.rule_ids, seq_json,
            self.status, self.time, self.url,
        ).encode()  # fmt: skip


def canonical_text(
    bytes_in: str, bytes_out: str, categories: str, chain: str, client: str,
    consent_ids: str, content_type: str, decision_id: str, device: str, duration_us: str,
    effect: str, grant_ids: str, hierarchy: str, method: str, person: str,
    policy_version: str, prev: str, reason: str, rule_ids: str, seq: str, status: str,
    time: str, url: str,
) -> str:  # fmt: skip
    """The canonical serialisation from each value's JSON text (`time` without quotes),
    keys in sorted order as json.dumps(sort_keys=True) puts them. The one definition of
    what the chain hashes: RecordJson and the plain-values encoder (audit/plain_batch.py)
    both use it."""
    return (
        f'{{"bytes_in":{bytes_in},"bytes_out":{bytes_out},'
        f'"categories":{categories},"chain":{chain},"client":{client},'
        f'"consent_ids":{consent_ids},"content_type":{content_type},'
        f'"decision_id":{decision_id},"device":{device},'
        f'"duration_us":{duration_us},"effect":{effect},'
        f'"grant_ids":{grant_ids},"hierarchy":{hierarchy},'
        f'"method":{method},"person":{person},'
        f'"policy_version":{policy_version},"prev":{prev},'
        f'"reason":{reason},"rule_ids":{rule_ids},"seq":{seq},'
        f'"status":{status},"time":"{time}","url":{url}}}'
    )
