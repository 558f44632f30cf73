"""Several worker processes writing at once: one shared access.log, one SQLite database,
a chain each, and every chain still verifies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from webwarden.audit.setup import ACCESS_LOG, jsonl_path
from webwarden.audit.verify import verify_database, verify_jsonl
from webwarden.store import audit_log, make_engine

pytestmark = pytest.mark.integration

WORKERS = 3
RECORDS = 300

WORKER = """
import sys
from datetime import UTC, datetime
from pathlib import Path

from webwarden.audit.record import AuditRecord
from webwarden.audit.setup import open_writer
from webwarden.store import make_engine

log_dir, url, worker, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
writer = open_writer(log_dir, worker=worker, chain=f"w{worker}", engine=make_engine(url))
for i in range(count):
    writer.write(
        AuditRecord(
            time=datetime.now(UTC),
            client=f"10.0.0.{worker}",
            device=f"dev-{worker}",
            method="GET",
            url=f"http://w{worker}.example/{i}?" + "q" * (i % 300),
            effect="allow",
            status=200,
            bytes_out=i,
            duration_ms=0.5,
            hierarchy="192.0.2.1",
        )
    )
writer.close()
"""


def test_workers_write_side_by_side(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    make_engine(url).dispose()  # tables exist before the race starts
    log_dir = tmp_path / "logs"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(log_dir), url, str(worker), str(RECORDS)],
            stderr=subprocess.PIPE,
        )
        for worker in range(WORKERS)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()

    lines = (log_dir / ACCESS_LOG).read_text().splitlines()
    assert len(lines) == WORKERS * RECORDS
    assert all(len(line.split()) == 10 for line in lines)

    engine = make_engine(url)
    assert audit_log.count_rows(engine) == WORKERS * RECORDS
    reports = verify_database(engine)
    engine.dispose()
    assert [r.chain for r in reports] == [f"w{w}" for w in range(WORKERS)]
    assert all(r.ok and r.last_seq == RECORDS for r in reports), reports
    for worker in range(WORKERS):
        (report,) = verify_jsonl([jsonl_path(log_dir, f"w{worker}")])
        assert report.ok and report.count == RECORDS
