from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from webwarden.store import default_url, make_engine, state_dir
from webwarden.store.engine import BUSY_TIMEOUT_MS, STATE_DIR_ENV


def test_state_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    assert state_dir() == tmp_path / "state"
    assert default_url() == f"sqlite:///{tmp_path / 'state' / 'webwarden.db'}"


def test_state_dir_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(STATE_DIR_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert state_dir() == tmp_path / ".local" / "state" / "webwarden"


def test_default_engine_creates_the_state_dir_and_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "deep" / "state"))
    engine = make_engine()
    assert (tmp_path / "deep" / "state" / "webwarden.db").is_file()
    tables = set(inspect(engine).get_table_names())
    assert {"audit_records", "consents"} <= tables
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("audit_records")}
    assert {"ix_audit_records_time", "ix_audit_records_person_time"} <= indexes
    assert "ix_audit_records_effect_time" in indexes
    engine.dispose()


def test_sqlite_is_tuned_for_several_writers(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == BUSY_TIMEOUT_MS
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    engine.dispose()


def test_opening_twice_keeps_the_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first = make_engine(url)
    with first.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO consents (person_id, notice, scope_kind, scope, accepted, expires)"
                " VALUES ('p', 'n', 'site', 's', '2024-01-01 00:00:00', '2024-02-01 00:00:00')"
            )
        )
    first.dispose()
    second = make_engine(url)
    with second.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM consents")).scalar() == 1
    second.dispose()


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a database URL"):
        make_engine("no scheme here")
