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
from urllib.parse import urlsplit

from webwarden.audit.chain import ChainedRecord, EncodedEntry
from webwarden.audit.files import AppendOnlyFile
from webwarden.audit.record import NO_UPSTREAM, AuditRecord
from webwarden.audit.sink import AuditSink, AuditSinkError, describe_os_error

_EPOCH_DAY = date(1970, 1, 1).toordinal()
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}
# Everything but printable ASCII: besides white space and controls, non-ASCII text may hold
# Unicode line or paragraph separators that split fields for tools reading Unicode text.
_URL_UNSAFE = re.compile(r"[^\x21-\x7e]")
_USER_UNSAFE = re.compile(r"[^\x21-\x7e]|[%\[\]\\]")


def result_code(record: AuditRecord) -> str:
    if record.effect != "allow":
        return "TCP_DENIED"
    return "TCP_TUNNEL" if record.method == "CONNECT" else "TCP_MISS"


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group().encode("utf-8"))


def _log_url(record: AuditRecord) -> str:
    url = record.url
    if record.method == "CONNECT" and "://" in url:
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
def _log_user(person: str | None) -> str:
    return _USER_UNSAFE.sub(_percent, person) if person else "-"


@functools.lru_cache(maxsize=256)  # a few dozen content types in practice
def _log_content_type(content_type: str) -> str:
    media_type = re.split(r"[;\t ]", content_type.strip(), maxsplit=1)[0]
    return media_type or "-"


def _end_time(record: AuditRecord) -> str:
    """Squid stamps a line with the time the transaction finished, to the millisecond."""
    # Whole microseconds since the epoch, in integers (as the time + timedelta it stands
    # for, at a fraction of the cost).
    t = record.time
    seconds = (t.toordinal() - _EPOCH_DAY) * 86400 + t.hour * 3600 + t.minute * 60 + t.second
    micros = seconds * 1_000_000 + t.microsecond + round(record.duration_ms * 1000)
    whole, fraction = divmod(micros, 1_000_000)
    return f"{whole}.{fraction // 1000:03d}"


def format_line(record: AuditRecord) -> str:
    """One access.log line, without the newline."""
    upstream = record.hierarchy
    hierarchy = "HIER_NONE/-" if upstream == NO_UPSTREAM else f"HIER_DIRECT/{upstream}"
    if record.effect != "allow":
        result = "TCP_DENIED"
    else:
        result = "TCP_TUNNEL" if record.method == "CONNECT" else "TCP_MISS"
    return (
        f"{_end_time(record)} {int(record.duration_ms):6d} {record.client or '-'} "
        f"{result}/{record.status:03d} {record.bytes_out} {record.method} {_log_url(record)} "
        f"{_log_user(record.person)} {hierarchy} {_log_content_type(record.content_type)}"
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

    def _append(self, text: str) -> None:
        try:
            self._file.append(text.encode())
        except OSError as e:
            raise AuditSinkError(f"{self.name}: cannot write: {describe_os_error(e)}") from e

    def reopen(self) -> None:
        new = self._open()
        self._file.close()
        self._file = new

    def close(self) -> None:
        self._file.close()
