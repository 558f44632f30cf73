"""The access.log the gateway writes is read by a real Squid log analyser (calamaris)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from webwarden.audit.record import AuditRecord
from webwarden.audit.setup import ACCESS_LOG, open_writer

pytestmark = pytest.mark.integration

CALAMARIS = shutil.which("calamaris")
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def records() -> list[AuditRecord]:
    """Seven requests from three clients: allowed, blocked, a notice and a CONNECT tunnel."""
    made = []
    for i, (client, effect, method, url, status, upstream) in enumerate(
        [
            ("10.0.0.5", "allow", "GET", "http://news.example/", 200, "192.0.2.10"),
            ("10.0.0.5", "allow", "GET", "http://news.example/a.css", 200, "192.0.2.10"),
            ("10.0.0.6", "block", "GET", "http://casino.example/", 403, "-"),
            ("10.0.0.6", "notice", "GET", "http://shop.example/", 403, "-"),
            ("10.0.0.7", "allow", "CONNECT", "https://bank.example", 200, "198.51.100.7"),
            ("10.0.0.7", "allow", "POST", "http://forms.example/send", 201, "192.0.2.20"),
            ("10.0.0.5", "block", "GET", "http://webmail.example/inbox", 403, "-"),
        ]
    ):
        made.append(
            AuditRecord(
                time=T0 + timedelta(seconds=i),
                client=client,
                device=f"dev-{client}",
                method=method,
                url=url,
                effect=effect,
                status=status,
                person=None if effect == "block" else "alice",
                bytes_out=1000 + i,
                duration_ms=10.0 * (i + 1),
                hierarchy=upstream,
                content_type="" if method == "CONNECT" else "text/html; charset=utf-8",
            )
        )
    return made


def figure(report: str, label: str) -> int:
    match = re.search(rf"^{re.escape(label)}\s.*?(\d+)\s*$", report, re.MULTILINE)
    assert match, f"calamaris report has no line {label!r}:\n{report}"
    return int(match.group(1))


@pytest.mark.skipif(
    CALAMARIS is None, reason="calamaris is not installed (Debian: apt-get install calamaris)"
)
def test_calamaris_counts_the_requests(tmp_path: Path) -> None:
    assert CALAMARIS is not None
    writer = open_writer(tmp_path, chain="gw-w0")
    for record in records():
        writer.write(record)
    writer.close()
    log = (tmp_path / ACCESS_LOG).read_bytes()
    result = subprocess.run(
        [CALAMARIS, "--input-format", "squid", "-a"],
        input=log,
        capture_output=True,
        timeout=60,
        check=True,
    )
    report = result.stdout.decode()
    assert figure(report, "lines parsed:") == 7
    assert figure(report, "invalid lines:") == 0
    assert figure(report, "Total amount:") == 7
    assert figure(report, "unique hosts/users:") == 3
    assert re.search(r"^\s*TCP_DENIED\s+3\s", report, re.MULTILINE), report
    assert re.search(r"^\s*TCP_TUNNEL\s+1\s", report, re.MULTILINE), report
    assert re.search(r"^CONNECT\s+1\s", report, re.MULTILINE), report
