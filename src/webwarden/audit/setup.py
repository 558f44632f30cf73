"""Building the audit writer of one gateway worker's chain from its settings (the
gateway's audit processes and tools use it).

Layout in `log_dir`: `access.log` (Squid format, shared by every worker of the machine;
`access_log` may put it elsewhere) and `audit-<chain>.jsonl` (one per worker: each worker
has its own chain). The database holds every chain. The default chain name is
`<host>-w<worker>`, so that several gateways can share one database, and a worker
restarted with the same number continues its own chain.
"""

from __future__ import annotations

import platform
import re
from pathlib import Path

from sqlalchemy import Engine

from webwarden.audit.db_sink import DatabaseSink
from webwarden.audit.ecs_jsonl import JsonlSink
from webwarden.audit.sink import AuditSink, AuditSinkError, describe_os_error
from webwarden.audit.squid_log import SquidAccessLog
from webwarden.audit.writer import AuditWriter

ACCESS_LOG = "access.log"
_CHAIN_NAME = re.compile(r"[A-Za-z0-9._-]{1,200}")


def default_chain(worker: int) -> str:
    host = re.sub(r"[^A-Za-z0-9.-]", "-", platform.node()) or "gateway"
    return f"{host}-w{worker}"


def jsonl_path(log_dir: Path, chain: str) -> Path:
    return log_dir / f"audit-{chain}.jsonl"


def open_writer(
    log_dir: Path,
    *,
    worker: int = 0,
    chain: str | None = None,
    engine: Engine | None = None,
    squid_log: bool = True,
    jsonl: bool = True,
    access_log: Path | None = None,
    db_defer: float | None = None,
    db_batch_rows: int = 2048,
) -> AuditWriter:
    """The writer for one worker's chain. Pass `engine` (store.make_engine) to write the
    database too: by a background thread, or with `db_defer` seconds in the writing
    thread (DatabaseSink's `defer`). `access_log` puts the Squid log elsewhere than
    `log_dir`. Raises AuditSinkError if a sink cannot be opened or the chain cannot be
    resumed, ValueError for a chain name that cannot name a file; create it in the process
    that writes, after any fork. Sinks in order: the chain file (its home), the access.log,
    the database (the slowest, and caught up from the chain file should it miss records)."""
    chain = chain or default_chain(worker)
    if not _CHAIN_NAME.fullmatch(chain):
        raise ValueError(f"chain name {chain!r} may hold only letters, digits, '.', '_' and '-'")
    access_log = access_log or log_dir / ACCESS_LOG
    for folder in (log_dir, access_log.parent):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise AuditSinkError(f"log directory {folder}: {describe_os_error(e)}") from e
    sinks: list[AuditSink] = []
    try:
        if jsonl:
            sinks.append(JsonlSink(jsonl_path(log_dir, chain)))
        if squid_log:
            sinks.append(SquidAccessLog(access_log))
        if engine is not None:
            background = db_defer is None
            sinks.append(
                DatabaseSink(
                    engine, background=background, defer=db_defer or 0.0, batch_size=db_batch_rows
                )
            )
        return AuditWriter(sinks, chain=chain)
    except BaseException:
        for sink in sinks:
            sink.close()
        raise
