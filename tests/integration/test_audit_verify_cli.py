"""`webwarden audit verify` and `tail`, run as the installed command on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from webwarden.audit.record import AuditRecord
from webwarden.audit.setup import jsonl_path, open_writer
from webwarden.store import make_engine

WEBWARDEN = Path(sys.executable).with_name("webwarden")
CHAIN = "gw-w0"
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not WEBWARDEN.exists(), reason="the webwarden command is not installed"),
]


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, WEBWARDEN_STATE_DIR=str(tmp_path / "state"))
    return subprocess.run(
        [str(WEBWARDEN), "audit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


@pytest.fixture
def trail(tmp_path: Path) -> tuple[Path, str]:
    """Five records in a JSON lines file and a SQLite database."""
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    engine = make_engine(url)
    writer = open_writer(tmp_path / "logs", chain=CHAIN, engine=engine)
    for i in range(5):
        writer.write(
            AuditRecord(
                time=T0 + timedelta(seconds=i),
                client="10.0.0.5",
                device="laptop-17",
                method="GET",
                url=f"http://site{i}.example/",
                effect="block" if i == 2 else "allow",
                status=403 if i == 2 else 200,
                person="alice",
                rule_ids=("block-gambling",) if i == 2 else ("allow-rest",),
                categories=("gambling",) if i == 2 else (),
                decision_id=f"dec-{i}",
                policy_version="pv-1",
            )
        )
    writer.close()
    engine.dispose()
    return jsonl_path(tmp_path / "logs", CHAIN), url


def test_intact_trail_verifies(tmp_path: Path, trail: tuple[Path, str]) -> None:
    jsonl, url = trail
    by_file = run(tmp_path, "verify", "--jsonl", str(jsonl))
    assert by_file.returncode == 0, by_file.stderr
    assert f"chain {CHAIN}: 5 records, seq 1..5, intact" in by_file.stdout
    by_db = run(tmp_path, "verify", "--db", url)
    assert by_db.returncode == 0, by_db.stderr
    assert "5 records, seq 1..5, intact" in by_db.stdout


def test_changed_line_is_reported_with_its_seq(tmp_path: Path, trail: tuple[Path, str]) -> None:
    jsonl, _ = trail
    lines = jsonl.read_text().splitlines()
    doc = json.loads(lines[2])
    doc["event"]["action"] = "allow"  # someone hides a block
    lines[2] = json.dumps(doc)
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("\n".join(lines) + "\n")
    result = run(tmp_path, "verify", "--jsonl", str(tampered))
    assert result.returncode == 1
    assert "BROKEN at seq 3" in result.stdout
    assert "line 3 of" in result.stdout


def test_removed_line_is_reported(tmp_path: Path, trail: tuple[Path, str]) -> None:
    jsonl, _ = trail
    lines = jsonl.read_text().splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    result = run(tmp_path, "verify", "--jsonl", str(cut))
    assert result.returncode == 1
    assert "BROKEN at seq 2" in result.stdout


def test_changed_row_is_reported(tmp_path: Path, trail: tuple[Path, str]) -> None:
    _, url = trail
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET person = 'mallory' WHERE seq = 4"))
    engine.dispose()
    result = run(tmp_path, "verify", "--db", url)
    assert result.returncode == 1
    assert "BROKEN at seq 4" in result.stdout


def test_tail_prints_recent_records(tmp_path: Path, trail: tuple[Path, str]) -> None:
    _, url = trail
    result = run(tmp_path, "tail", "--db", url, "-n", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert "BLOCK" in lines[0] and "rules=block-gambling" in lines[0]
    assert lines[-1].endswith(f"[{CHAIN}#5]")


def test_missing_sources_are_clear_errors(tmp_path: Path) -> None:
    missing_db = run(tmp_path, "verify", "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert missing_db.returncode == 2
    assert "no database at" in missing_db.stderr
    assert not (tmp_path / "none.db").exists()
    missing_file = run(tmp_path, "verify", "--jsonl", str(tmp_path / "none.jsonl"))
    assert missing_file.returncode == 2
    assert "no such file" in missing_file.stderr
    default_db = run(tmp_path, "tail")
    assert default_db.returncode == 2
    assert "no database at" in default_db.stderr


def test_records_cut_from_the_end_are_found_by_comparing_the_copies(
    tmp_path: Path, trail: tuple[Path, str]
) -> None:
    jsonl, url = trail
    both = run(tmp_path, "verify", "--jsonl", str(jsonl), "--db", url)
    assert both.returncode == 0, both.stdout + both.stderr
    assert f"chain {CHAIN}: file and database both end at seq 5" in both.stdout
    # The last two records cut from the file: the file alone still verifies...
    lines = jsonl.read_text().splitlines()
    cut = tmp_path / "cut-end.jsonl"
    cut.write_text("\n".join(lines[:3]) + "\n")
    alone = run(tmp_path, "verify", "--jsonl", str(cut))
    assert alone.returncode == 0 and "intact" in alone.stdout
    # ...but not against the database, which goes on.
    against = run(tmp_path, "verify", "--jsonl", str(cut), "--db", url)
    assert against.returncode == 1
    assert "ENDS DIFFER" in against.stdout and "records 4..5 were cut" in against.stdout


def test_rows_cut_from_the_end_of_the_database_show_as_a_lag(
    tmp_path: Path, trail: tuple[Path, str]
) -> None:
    jsonl, url = trail
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_records WHERE seq = 5"))
    engine.dispose()
    result = run(tmp_path, "verify", "--jsonl", str(jsonl), "--db", url)
    assert result.returncode == 0  # as while a gateway is still writing its last batch
    assert "the database is 1 record(s) behind (normal only while the gateway runs)" in (
        result.stdout
    )
