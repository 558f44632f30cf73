"""Squid's native access.log format, so existing log analysers read the gateway's log.

Squid's default `logformat squid` (squid.conf.documented) is

    %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt

time the transaction ended (seconds.milliseconds), elapsed milliseconds, client address,
result code/status, bytes sent to the client, method, URL, user, hierarchy/peer address,
content type. How webwarden fills it:

- result code: an allowed CONNECT is TCP_TUNNEL, any other allowed request TCP_MISS (the
  gateway keeps no cache); a block is TCP_DENIED, and so is a notice page, because the
  request was not forwarded either (the JSON lines and the database tell the two apart);
- hierarchy: HIER_DIRECT/<upstream address> when the request went upstream, else
  HIER_NONE/-;
- URL: as Squid, CONNECT requests are logged as host:port; white space, control
  characters and anything outside printable ASCII are %-encoded (as UTF-8; like Squid's
  `uri_whitespace encode`, and stricter) so a line always has ten fields;
- user: Squid's `[` encoding, which additionally %-encodes the space for the same reason;
- content type: the media type without parameters, as Squid logs it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from webwarden.audit.chain import ChainedRecord, EncodedEntry
from webwarden.audit.files import AppendOnlyFile
from webwarden.audit.record import NO_UPSTREAM, AuditRecord
from webwarden.audit.sink import AuditSink, AuditSinkError, describe_os_error

if TYPE_CHECKING:
    from webwarden.audit.plain_batch import EncodedBatch

_EPOCH_DAY = date(1970, 1, 1).toordinal()
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}
# Everything but printable ASCII: besides white space and controls, non-ASCII text may hold
# Unicode line or paragraph separators that split fields for tools reading Unicode text.
_URL_UNSAFE = re.compile(r"[^\x21-\x7e]")
_USER_UNSAFE = re.compile(r"[^\x21-\x7e]|[%\[\]\\]")


def result_code(record: AuditRecord) -> str:
    return result_text(record.effect, record.method)


def result_text(effect: str, method: str) -> str:
    if effect != "allow":
        return "TCP_DENIED"
    return "TCP_TUNNEL" if method == "CONNECT" else "TCP_MISS"


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group().encode("utf-8"))


def _log_url(record: AuditRecord) -> str:
    return log_url(record.method, record.url)


def log_url(method: str, url: str) -> str:
    """The URL as the line shows it (see the module's description)."""
    if method == "CONNECT" and "://" in url:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        try:
            port = parts.port
        except ValueError:
            port = None
        if port is None and parts.scheme in _DEFAULT_PORTS:
            netloc = f"{netloc}:{_DEFAULT_PORTS[parts.scheme]}"
        url = netloc
    if url.isascii() and url.isprintable() and " " not in url:  # nothing to encode
        return url or "-"
    return _URL_UNSAFE.sub(_percent, url) or "-"


@functools.lru_cache(maxsize=4096)  # the same people over and over
def log_user(person: str | None) -> str:
    return _USER_UNSAFE.sub(_percent, person) if person else "-"


@functools.lru_cache(maxsize=256)  # a few dozen content types in practice
def log_content_type(content_type: str) -> str:
    media_type = re.split(r"[;\t ]", content_type.strip(), maxsplit=1)[0]
    return media_type or "-"


def _end_time(record: AuditRecord) -> str:
    """Squid stamps a line with the time the transaction finished, to the millisecond."""
    # Whole microseconds since the epoch, in integers (as the time + timedelta it stands
    # for, at a fraction of the cost).
    t = record.time
    seconds = (t.toordinal() - _EPOCH_DAY) * 86400 + t.hour * 3600 + t.minute * 60 + t.second
    return end_time_text(seconds * 1_000_000 + t.microsecond, record.duration_ms)


def end_time_text(start_us: int, duration_ms: float) -> str:
    """The end of a transaction that started `start_us` microseconds after the epoch, as
    seconds.milliseconds."""
    whole, fraction = divmod(start_us + round(duration_ms * 1000), 1_000_000)
    return f"{whole}.{fraction // 1000:03d}"


def format_line(record: AuditRecord) -> str:
    """One access.log line, without the newline."""
    return line_text(
        _end_time(record), record.duration_ms, record.client, record.effect, record.status,
        record.bytes_out, record.method, record.url, record.person, record.hierarchy,
        record.content_type,
    )


def line_text(
    end_time: str, duration_ms: float, client: str, effect: str, status: int, bytes_out: int,
    method: str, url: str, person: str | None, upstream: str, content_type: str,
) -> str:  # fmt: skip
    """One line, without the newline, from the record's values: the one definition of a
    line, which `format_line` and the plain-values encoder (audit/plain_batch.py) use."""
    hierarchy = "HIER_NONE/-" if upstream == NO_UPSTREAM else f"HIER_DIRECT/{upstream}"
    return (
        f"{end_time} {int(duration_ms):6d} {client or '-'} "
        f"{result_text(effect, method)}/{status:03d} {bytes_out} {method} "
        f"{log_url(method, url)} {log_user(person)} {hierarchy} "
        f"{log_content_type(content_type)}"
    )


class SquidAccessLog(AuditSink):
    """Appends records to an access.log that several worker processes may share."""

    backfills = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"access log {path}"
        self._file = self._open()

    def _open(self) -> AppendOnlyFile:
        try:
            return AppendOnlyFile(self.path)
        except OSError as e:
            raise AuditSinkError(f"{self.name}: cannot open: {describe_os_error(e)}") from e

    def write(self, entry: ChainedRecord) -> None:
        self._append(format_line(entry.record) + "\n")

    def write_encoded(self, encoded: EncodedEntry) -> None:
        self.write(encoded.entry)  # the line needs none of the JSON

    def write_batch(self, batch: Sequence[EncodedEntry]) -> None:
        # One write(2) for the lot: lines from other workers still never interleave
        # within a line (O_APPEND), only between batches.
        self._append("".join([format_line(encoded.entry.record) + "\n" for encoded in batch]))

    def write_plain(self, batch: EncodedBatch) -> None:
        self._append_bytes(batch.access_log)

    def _append(self, text: str) -> None:
        self._append_bytes(text.encode())

    def _append_bytes(self, data: bytes) -> None:
        try:
            self._file.append(data)
        except OSError as e:
            raise AuditSinkError(f"{self.name}: cannot write: {describe_os_error(e)}") from e

    def reopen(self) -> None:
        new = self._open()
        self._file.close()
        self._file = new

    def close(self) -> None:
        self._file.close()
