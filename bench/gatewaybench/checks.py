"""Functional checks before a target is measured: a proxy that answers wrongly fast
must not look like a fast proxy."""

from __future__ import annotations

from dataclasses import dataclass

from gatewaybench.load import fetch
from gatewaybench.origin import BLOCKED_MARKER, ORIGIN_HEADER, SIZE_1K, SIZE_1M, Origin
from gatewaybench.targets import Running

# Status codes a filter may answer a blocked plain-HTTP request with (block page).
BLOCK_STATUSES = (403, 451)


class TargetCheckError(RuntimeError):
    pass


@dataclass(frozen=True)
class CheckReport:
    http: str
    connect: str
    blocked: str | None
    """None when the target does not filter; otherwise what the check saw."""
    block_ok: bool | None


def _origin_answered(headers: str) -> bool:
    return f"\n{ORIGIN_HEADER}:" in f"\n{headers.lower()}"


def check_target(target: Running, origin: Origin, blocked_host: str | None) -> CheckReport:
    """The 1 KiB page and the 1 MiB file through the target; a blocked site if it filters.

    Raises TargetCheckError when the target cannot serve the load's requests; a filter
    that lets the blocked site through is reported, not raised, so the figures of a
    not-yet-complete filter still show up (marked) in the tables.
    """
    page = fetch(target, origin.url_1k)
    if page.status != 200 or page.size != SIZE_1K or not _origin_answered(page.headers):
        raise TargetCheckError(f"{target.name}: GET {origin.url_1k} gave status {page.status}, "
                          f"{page.size} bytes:\n{page.headers}\n{page.body_start[:200]!r}")
    tunnel = fetch(target, origin.url_1m)
    if tunnel.status != 200 or tunnel.size != SIZE_1M:
        raise TargetCheckError(f"{target.name}: GET {origin.url_1m} (CONNECT "
                          f"{tunnel.connect_status}) gave status {tunnel.status}, "
                          f"{tunnel.size} bytes:\n{tunnel.headers}")
    http_seen = f"200, {page.size} bytes"
    connect_seen = f"CONNECT {tunnel.connect_status}, 200, {tunnel.size} bytes"
    if blocked_host is None:
        return CheckReport(http=http_seen, connect=connect_seen, blocked=None, block_ok=None)
    # Only loopback is reachable: Squid resolves names through 127.0.0.1 (nothing
    # there), so an unblocked request fails with an error page instead of leaving.
    url = f"http://{blocked_host}/"
    answer = fetch(target, url)
    ok = BLOCKED_MARKER in answer.body_start or answer.status in BLOCK_STATUSES
    first_line = answer.headers.splitlines()[0] if answer.headers else f"status {answer.status}"
    return CheckReport(http=http_seen, connect=connect_seen,
                       blocked=f"GET {url}: {first_line}", block_ok=ok)
