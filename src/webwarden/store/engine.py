"""Opening the database: where it lives by default and how SQLite is set up.

The tables are created with `metadata.create_all` when missing. Alembic migrations take
over once the portal's schema settles; until then a schema change means a fresh database.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from webwarden.store.tables import metadata

STATE_DIR_ENV = "WEBWARDEN_STATE_DIR"
DATABASE_FILE = "webwarden.db"
# Several gateway workers write to one SQLite file; a writer waits this long for the lock
# before the write fails (and the audit writer reports it).
BUSY_TIMEOUT_MS = 10_000


def state_dir() -> Path:
    """WEBWARDEN_STATE_DIR, else ~/.local/state/webwarden (XDG state home)."""
    configured = os.environ.get(STATE_DIR_ENV)
    if configured:
        return Path(configured)
    return Path.home() / ".local" / "state" / "webwarden"


def default_url() -> str:
    return f"sqlite:///{state_dir() / DATABASE_FILE}"


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (the portal, `audit tail`) run beside writers; NORMAL synchronous is
    # safe in WAL mode (a power cut may lose the last commits, never corrupt the file).
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (default: the SQLite file in the state directory), with the
    tables created if missing. A bad URL or an unreachable database raises ValueError."""
    url = url or default_url()
    try:
        parsed = make_url(url)
    except Exception as e:  # SQLAlchemy raises ArgumentError; keep the caller's view simple
        raise ValueError(f"not a database URL: {url!r} ({e})") from e
    is_sqlite = parsed.get_backend_name() == "sqlite"
    database = parsed.database or ""
    if is_sqlite and database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    connect_args: dict[str, Any] = {"timeout": BUSY_TIMEOUT_MS / 1000} if is_sqlite else {}
    engine = create_engine(parsed, connect_args=connect_args)
    if is_sqlite:
        event.listen(engine, "connect", _tune_sqlite)
    _create_tables(engine)
    return engine


def _create_tables(engine: Engine) -> None:
    try:
        metadata.create_all(engine)
    except DBAPIError as e:
        # Two workers starting together may both find a table missing; the loser's CREATE
        # fails because the winner's exists. A second look finds everything in place.
        try:
            metadata.create_all(engine)
        except DBAPIError:
            raise ValueError(f"cannot open database {engine.url!r}: {e.orig}") from e
