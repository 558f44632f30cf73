"""Encoding a batch of records given as plain values, for every sink, in one pass.

A gateway worker's audit process receives records as `RecordFields` tuples. The general
path builds an `AuditRecord` from each (a frozen dataclass: checked and normalised), then
its JSON pieces, its chain hash, its ECS line, its access.log line and its database row,
each from the record's attributes. `encode_plain` makes the same four things straight
from the tuple's values, each value converted once (the time text, for one, is worked
out once per second, not once per record): about half the CPU per record
(bench/audit_process_bench.py).

It shares the definitions of the hashed text, the ECS line and the access.log line with
the general path (record_json.canonical_text, ecs_jsonl.ecs_text, squid_log.line_text) and
the checks (record.check_values), and is held to the same bytes by a property test. It
takes only the plain types the worker sends (str, int, float, tuples of str, None for no
person) and raises ValueError or TypeError for anything else; the writer then takes the
general path for that batch, which accepts or refuses exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from hashlib import sha256
from json.encoder import encode_basestring

from webwarden.audit.chain import ChainHead
from webwarden.audit.ecs_jsonl import ecs_text, is_ip, outcome_text, url_domain
from webwarden.audit.record import (
    FIELD_COUNT,
    NO_UPSTREAM,
    RecordFields,
    check_values,
    redact_url,
)
from webwarden.audit.record_json import canonical_text
from webwarden.audit.squid_log import end_time_text, line_text
from webwarden.store.audit_log import RawRow


class EncodedBatch:
    """What the sinks store for a batch: the JSON lines and access.log lines as bytes to
    append, the database rows, and where the chain stands after the batch."""

    __slots__ = ("access_log", "count", "head", "jsonl", "rows")

    def __init__(
        self, jsonl: bytes, access_log: bytes, rows: list[RawRow], head: ChainHead
    ) -> None:
        self.jsonl = jsonl
        self.access_log = access_log
        self.rows = rows
        self.head = head
        self.count = len(rows)


def _json_list(items: tuple[str, ...]) -> str:
    return f"[{','.join(map(encode_basestring, items))}]" if items else "[]"


def encode_plain(
    batch: Sequence[RecordFields], chain: str, seq: int, prev: str
) -> EncodedBatch:
    """The batch chained after (`seq`, `prev`) in `chain`, encoded for every sink. Raises
    ValueError or TypeError if any record is not plainly valid (see the module), and
    OverflowError or OSError for a time the platform cannot represent."""
    text = encode_basestring
    chain_json = text(chain)
    jsonl: list[str] = []
    squid: list[str] = []
    rows: list[RawRow] = []
    second, iso, row_iso = None, "", ""
    for values in batch:
        if type(values) is not tuple or len(values) != FIELD_COUNT:
            raise TypeError("not a record's values")
        (at, client, device, method, url, effect, status, person, categories, rule_ids,
         decision_id, policy_version, bytes_in, bytes_out, duration, grant_ids, consent_ids,
         hierarchy, content_type, reason, metadata_only) = values  # fmt: skip
        if not type(at) is type(status) is type(bytes_in) is type(bytes_out) is int:
            raise TypeError("a time, status or byte count that is not a plain integer")
        if type(duration) is not float and type(duration) is not int:
            raise TypeError("a duration that is not a plain number")
        if not type(url) is type(hierarchy) is str or type(metadata_only) is not bool:
            raise TypeError("a URL, upstream or flag of another type")
        check_values(effect, method, status, bytes_in, bytes_out, duration)
        url = redact_url(url, metadata_only)
        duration_ms = round(float(duration), 3)
        hierarchy = hierarchy or NO_UPSTREAM
        whole, micro = divmod(at, 1_000_000)
        if whole != second:
            t = datetime.fromtimestamp(whole, UTC)
            iso = (
                f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:"
                f"{t.second:02d}"
            )
            row_iso = f"{iso[:10]} {iso[11:]}"
            second = whole
        time = f"{iso}.{micro:06d}Z"
        seq += 1
        j_client, j_device, j_method, j_url = text(client), text(device), text(method), text(url)
        j_effect, j_decision, j_version = text(effect), text(decision_id), text(policy_version)
        j_hierarchy, j_type, j_reason = text(hierarchy), text(content_type), text(reason)
        j_person = "null" if person is None else text(person)
        categories = tuple(sorted(set(categories)))
        j_categories, j_rules = _json_list(categories), _json_list(rule_ids)
        j_grants, j_consents = _json_list(grant_ids), _json_list(consent_ids)
        j_seq, j_prev = str(seq), text(prev)
        j_in, j_out, j_status = str(bytes_in), str(bytes_out), str(status)
        digest = sha256(
            canonical_text(
                j_in, j_out, j_categories, chain_json, j_client, j_consents, j_type,
                j_decision, j_device, str(round(duration_ms * 1000)), j_effect, j_grants,
                j_hierarchy, j_method, j_person, j_version, j_prev, j_reason, j_rules, j_seq,
                j_status, time, j_url,
            ).encode()
        ).hexdigest()  # fmt: skip
        jsonl.append(
            ecs_text(
                time, effect == "allow", j_effect, outcome_text(effect, status),
                round(duration_ms * 1_000_000), j_decision, j_seq, f'"{digest}"',
                j_reason if reason else "", j_client, is_ip(client), j_device, j_url,
                url_domain(url) if "://" in url else None, j_method, j_in, j_status, j_out,
                j_rules, j_version, j_categories, j_grants, j_consents, chain_json, j_prev,
                j_type if content_type else "", j_person if person is not None else "",
                j_hierarchy if hierarchy != NO_UPSTREAM else "",
            )
        )  # fmt: skip
        squid.append(
            line_text(
                end_time_text(at, duration_ms), duration_ms, client, effect, status, bytes_out,
                method, url, person, hierarchy, content_type,
            )
        )  # fmt: skip
        # store.audit_log.RAW_COLUMNS order, as db_sink.raw_row builds it.
        rows.append((
            chain, seq, prev, digest, f"{row_iso}.{micro:06d}", person, device, client, method,
            url, j_categories, effect, j_rules, decision_id, policy_version, status, bytes_in,
            bytes_out, duration_ms, j_grants, j_consents, hierarchy, content_type, reason,
        ))  # fmt: skip
        prev = digest
    return EncodedBatch(
        "".join(jsonl).encode(),
        ("\n".join(squid) + "\n").encode() if squid else b"",
        rows,
        ChainHead(seq, prev),
    )
