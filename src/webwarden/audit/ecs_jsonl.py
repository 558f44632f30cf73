"""JSON lines with Elastic Common Schema field names, one file per chain.

Every line is one chained record, nested the way Elasticsearch stores ECS documents:

    @timestamp                 request start (UTC, microseconds)
    event.action               the effect: allow, block or notice
    event.type                 ["access", "allowed" | "denied"]
    event.outcome              success (allowed and status < 400), failure, or unknown
    event.duration             nanoseconds
    event.id                   the decision id
    event.reason               why a connection failed, if it did
    event.sequence, event.hash the record's place in its chain and its hash
    source.address, source.ip  the client (ip only when it is an IP address)
    user.id, device.id         the person (absent when nobody authenticated) and device
    url.full, url.domain       the URL as recorded (redacted when metadata only)
    http.request.method, http.request.bytes, http.response.status_code,
    http.response.bytes
    destination.address        the upstream server address, when there was one
    rule.id, rule.ruleset      the deciding rules (first one speaks) and policy version
    webwarden.categories, webwarden.grant_ids, webwarden.consent_ids,
    webwarden.content_type, webwarden.chain.name, webwarden.chain.prev

The mapping is lossless: `from_ecs(to_ecs(e)) == e`, which is what lets
`webwarden audit verify --jsonl` recompute every hash from the file alone.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections.abc import Iterator, Sequence
from json.encoder import encode_basestring
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from webwarden.audit.chain import ChainedRecord, ChainHead, EncodedEntry
from webwarden.audit.files import AppendOnlyFile, FileInUseError, lines_from_end
from webwarden.audit.record import NO_UPSTREAM, AuditRecord, format_time, parse_time
from webwarden.audit.record_json import json_text
from webwarden.audit.sink import AuditSink, AuditSinkError, describe_os_error

if TYPE_CHECKING:
    from webwarden.audit.plain_batch import EncodedBatch

ECS_VERSION = "8.11.0"


class DamagedLineError(ValueError):
    """A line of an audit file that is not a readable audit record."""


@functools.lru_cache(maxsize=4096)  # the same few clients over and over
def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_OBSERVER = '"observer":{"type":"proxy","vendor":"webwarden","product":"webwarden"}'
# An http(s) URL's authority, when nothing before or in it needs urlsplit's clean-up
# (tabs and newlines it deletes, brackets it checks).
_PLAIN_AUTHORITY = re.compile(r"https?://([^/?#\[\]\t\r\n]*)(?=[/?#]|\Z)")


@functools.lru_cache(maxsize=4096)  # the same hosts over and over
def _host_of_authority(netloc: str) -> str | None:
    return urlsplit("//" + netloc).hostname


def url_domain(url: str) -> str | None:
    """`urlsplit(url).hostname`, cached by authority for the common http(s) URLs."""
    plain = _PLAIN_AUTHORITY.match(url)
    if plain is None:
        return urlsplit(url).hostname
    return _host_of_authority(plain.group(1))


def _outcome(record: AuditRecord) -> str:
    return outcome_text(record.effect, record.status)


def to_ecs(entry: ChainedRecord) -> dict[str, Any]:
    """The ECS document of `entry`: the definition of a line (`ecs_line` writes the same
    document without building it)."""
    r = entry.record
    event: dict[str, Any] = {
        "kind": "event",
        "category": ["network", "web"],
        "type": ["access", "allowed" if r.effect == "allow" else "denied"],
        "action": r.effect,
        "outcome": _outcome(r),
        "duration": round(r.duration_ms * 1_000_000),
        "id": r.decision_id,
        "sequence": entry.seq,
        "hash": entry.hash,
    }
    if r.reason:
        event["reason"] = r.reason
    url: dict[str, Any] = {"full": r.url}
    if "://" in r.url and (domain := urlsplit(r.url).hostname):
        url["domain"] = domain
    source: dict[str, Any] = {"address": r.client}
    if is_ip(r.client):
        source["ip"] = r.client
    webwarden: dict[str, Any] = {
        "categories": list(r.categories),
        "grant_ids": list(r.grant_ids),
        "consent_ids": list(r.consent_ids),
        "chain": {"name": entry.chain, "prev": entry.prev},
    }
    if r.content_type:
        webwarden["content_type"] = r.content_type
    doc: dict[str, Any] = {
        "@timestamp": format_time(r.time),
        "ecs": {"version": ECS_VERSION},
        "event": event,
        "observer": {"type": "proxy", "vendor": "webwarden", "product": "webwarden"},
        "source": source,
        "device": {"id": r.device},
        "url": url,
        "http": {
            "request": {"method": r.method, "bytes": r.bytes_in},
            "response": {"status_code": r.status, "bytes": r.bytes_out},
        },
        "rule": {"id": list(r.rule_ids), "ruleset": r.policy_version},
        "webwarden": webwarden,
    }
    if r.person is not None:
        doc["user"] = {"id": r.person}
    if r.hierarchy != NO_UPSTREAM:
        doc["destination"] = {"address": r.hierarchy}
    return doc


def from_ecs(doc: dict[str, Any]) -> ChainedRecord:
    """The chained record a line holds; raises DamagedLineError if it holds none."""
    try:
        event, http, ww = doc["event"], doc["http"], doc["webwarden"]
        record = AuditRecord(
            time=parse_time(doc["@timestamp"]),
            client=doc["source"]["address"],
            device=doc["device"]["id"],
            method=http["request"]["method"],
            url=doc["url"]["full"],
            effect=event["action"],
            status=http["response"]["status_code"],
            person=doc.get("user", {}).get("id"),
            categories=tuple(ww["categories"]),
            rule_ids=tuple(doc["rule"]["id"]),
            decision_id=event["id"],
            policy_version=doc["rule"]["ruleset"],
            bytes_in=http["request"]["bytes"],
            bytes_out=http["response"]["bytes"],
            duration_ms=event["duration"] / 1_000_000,
            grant_ids=tuple(ww["grant_ids"]),
            consent_ids=tuple(ww["consent_ids"]),
            hierarchy=doc.get("destination", {}).get("address", NO_UPSTREAM),
            content_type=ww.get("content_type", ""),
            reason=event.get("reason", ""),
        )
        return ChainedRecord(
            record=record,
            chain=ww["chain"]["name"],
            seq=event["sequence"],
            prev=ww["chain"]["prev"],
            hash=event["hash"],
        )
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise DamagedLineError(f"not an audit record ({type(e).__name__}: {e})") from e


def encode_line(entry: ChainedRecord) -> bytes:
    """The line for `entry`: `json.dumps(to_ecs(entry))`, compact, non-ASCII kept."""
    return ecs_line(EncodedEntry.of(entry))


def ecs_line(encoded: EncodedEntry) -> bytes:
    """`encode_line` from fields already encoded: the same bytes, built as a template
    (keys in the order `to_ecs` inserts them) instead of a nested dict for json.dumps."""
    entry, j, r = encoded.entry, encoded.json, encoded.entry.record
    return ecs_text(
        j.time, r.effect == "allow", j.effect, _outcome(r), round(r.duration_ms * 1_000_000),
        j.decision_id, encoded.seq_json, json_text(entry.hash), j.reason if r.reason else "",
        j.client, is_ip(r.client), j.device, j.url,
        url_domain(r.url) if "://" in r.url else None, j.method, j.bytes_in, j.status,
        j.bytes_out, j.rule_ids, j.policy_version, j.categories, j.grant_ids, j.consent_ids,
        encoded.chain_json, encoded.prev_json, j.content_type if r.content_type else "",
        j.person if r.person is not None else "",
        j.hierarchy if r.hierarchy != NO_UPSTREAM else "",
    ).encode()  # fmt: skip


def ecs_text(
    time: str, allowed: bool, effect: str, outcome: str, duration_ns: int, decision_id: str,
    seq: str, hash_: str, reason: str, client: str, client_is_ip: bool, device: str, url: str,
    domain: str | None, method: str, bytes_in: str, status: str, bytes_out: str,
    rule_ids: str, policy_version: str, categories: str, grant_ids: str, consent_ids: str,
    chain: str, prev: str, content_type: str, person: str, destination: str,
) -> str:  # fmt: skip
    """One line of the file, from each value's JSON text (`time` without quotes; `reason`,
    `content_type`, `person` and `destination` empty when the document leaves them out;
    `domain` as plain text or None): the one definition of a line, which `ecs_line` and
    the plain-values encoder (audit/plain_batch.py) both use."""
    reason = f',"reason":{reason}' if reason else ""
    ip = f',"ip":{client}' if client_is_ip else ""
    domain_json = f',"domain":{encode_basestring(domain)}' if domain else ""
    content_type = f',"content_type":{content_type}' if content_type else ""
    user = f',"user":{{"id":{person}}}' if person else ""
    upstream = f',"destination":{{"address":{destination}}}' if destination else ""
    return (
        f'{{"@timestamp":"{time}","ecs":{{"version":"{ECS_VERSION}"}},'
        f'"event":{{"kind":"event","category":["network","web"],'
        f'"type":["access","{"allowed" if allowed else "denied"}"],"action":{effect},'
        f'"outcome":"{outcome}","duration":{duration_ns},'
        f'"id":{decision_id},"sequence":{seq},'
        f'"hash":{hash_}{reason}}},{_OBSERVER},'
        f'"source":{{"address":{client}{ip}}},"device":{{"id":{device}}},'
        f'"url":{{"full":{url}{domain_json}}},'
        f'"http":{{"request":{{"method":{method},"bytes":{bytes_in}}},'
        f'"response":{{"status_code":{status},"bytes":{bytes_out}}}}},'
        f'"rule":{{"id":{rule_ids},"ruleset":{policy_version}}},'
        f'"webwarden":{{"categories":{categories},"grant_ids":{grant_ids},'
        f'"consent_ids":{consent_ids},'
        f'"chain":{{"name":{chain},"prev":{prev}}}'
        f"{content_type}}}{user}{upstream}}}\n"
    )


def outcome_text(effect: str, status: int) -> str:
    if status == 0:
        return "unknown"
    return "success" if effect == "allow" and status < 400 else "failure"


def decode_line(line: bytes) -> ChainedRecord:
    try:
        doc = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DamagedLineError(f"not valid JSON ({e})") from e
    if not isinstance(doc, dict):
        raise DamagedLineError("not a JSON object")
    return from_ecs(doc)


def read_jsonl(path: Path) -> Iterator[tuple[int, ChainedRecord | DamagedLineError]]:
    """(line number, record or the reason it is unreadable) for each non-empty line."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, decode_line(line)
            except DamagedLineError as e:
                yield number, e


class JsonlSink(AuditSink):
    """Appends one chain's records to its own file, locked against a second writer.

    The file is where the chain lives first: it is written before the database, each
    line handed to the kernel before `write` returns, and on start the writer reads the
    chain's head back from its last line.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"JSON lines {path}"
        self._file = self._open()

    def _open(self) -> AppendOnlyFile:
        try:
            return AppendOnlyFile(self.path, exclusive=True)
        except FileInUseError as e:
            raise AuditSinkError(
                f"{self.name}: another process is writing this chain; "
                "give each gateway worker its own chain"
            ) from e
        except OSError as e:
            raise AuditSinkError(f"{self.name}: cannot open: {describe_os_error(e)}") from e

    def _last_entries(self, chain: str) -> Iterator[ChainedRecord]:
        for line in lines_from_end(self.path):
            try:
                entry = decode_line(line)
            except DamagedLineError as e:
                raise AuditSinkError(
                    f"{self.name}: its last line is damaged ({e}); "
                    "run `webwarden audit verify` and move the file aside"
                ) from e
            if entry.chain != chain:
                raise AuditSinkError(f"{self.name}: holds chain {entry.chain!r}, not {chain!r}")
            yield entry

    def head(self, chain: str) -> ChainHead | None:
        for entry in self._last_entries(chain):
            return entry.head
        return None

    def entries_after(self, chain: str, seq: int) -> Iterator[ChainedRecord]:
        newer: list[ChainedRecord] = []
        for entry in self._last_entries(chain):
            if entry.seq <= seq:
                break
            newer.append(entry)
        return reversed(newer)

    def write(self, entry: ChainedRecord) -> None:
        self.write_encoded(EncodedEntry.of(entry))

    def write_encoded(self, encoded: EncodedEntry) -> None:
        self._append(ecs_line(encoded))

    def write_batch(self, batch: Sequence[EncodedEntry]) -> None:
        # One write(2): the file cuts a failed write back whole, so the chain's home
        # never ends in half a batch.
        self._append(b"".join([ecs_line(encoded) for encoded in batch]))

    def write_plain(self, batch: EncodedBatch) -> None:
        self._append(batch.jsonl)

    def _append(self, lines: bytes) -> None:
        try:
            self._file.append(lines)
        except OSError as e:
            raise AuditSinkError(f"{self.name}: cannot write: {describe_os_error(e)}") from e

    def reopen(self) -> None:
        self._file.close()
        self._file = self._open()

    def close(self) -> None:
        self._file.close()
