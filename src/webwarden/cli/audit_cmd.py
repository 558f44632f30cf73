"""`webwarden audit`: verify the hash chain and read recent records."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from webwarden.audit.chain import ChainedRecord
from webwarden.audit.db_sink import row_to_entry
from webwarden.audit.record import format_time
from webwarden.audit.verify import ChainReport, compare_ends, verify_database, verify_jsonl
from webwarden.store import audit_log, default_url, make_engine

EXIT_OK, EXIT_BROKEN, EXIT_ERROR = 0, 1, 2
DEFAULT_DB = "default"  # `--db` given without a URL: the state directory's database


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's subcommands to the `webwarden` parser."""
    audit = sub.add_parser("audit", help="check and read the audit trail")
    commands = audit.add_subparsers(dest="audit_command", required=True, metavar="SUBCOMMAND")

    verify = commands.add_parser(
        "verify",
        help="check the hash chain: reports the first changed, missing or reordered record",
        description="Recompute every record's hash and follow the chain. With both --jsonl "
        "and --db, also check that each chain ends at the same record in the files and the "
        "database (records cut off the end of one copy). Exit status 0 if every chain is "
        "intact, 1 if one is broken or the copies end differently, 2 if the records cannot "
        "be read.",
    )
    verify.add_argument(
        "--jsonl",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="JSON lines files of one chain, oldest rotated file first",
    )
    verify.add_argument(
        "--db",
        metavar="URL",
        nargs="?",
        const=DEFAULT_DB,
        help="database URL (default: the state directory's); given alone or without "
        "--jsonl the database is verified, with --jsonl both are and their ends compared",
    )
    verify.add_argument("--chain", help="only this chain (with --db)")
    verify.set_defaults(handler=_verify)

    tail = commands.add_parser("tail", help="print the most recent audit records")
    tail.add_argument("--db", metavar="URL", help="database URL (default: the state directory)")
    tail.add_argument("-n", type=int, default=20, metavar="N", help="how many (default 20)")
    tail.add_argument("--chain", help="only this chain")
    tail.set_defaults(handler=_tail)


def _error(message: str) -> int:
    print(f"webwarden audit: {message}", file=sys.stderr)
    return EXIT_ERROR


def _open_existing(url: str | None) -> Engine:
    """The engine for a database that must already exist: reading must not create one."""
    url = url or default_url()
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise ValueError(f"not a database URL: {url!r}") from e
    database = parsed.database or ""
    is_file_db = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if is_file_db and not Path(database).is_file():
        raise ValueError(f"no database at {database}")
    return make_engine(url)


def _verify(args: argparse.Namespace) -> int:
    file_reports: list[ChainReport] = []
    db_reports: list[ChainReport] = []
    with_db = args.db is not None or not args.jsonl
    try:
        if args.jsonl:
            missing = [str(p) for p in args.jsonl if not p.is_file()]
            if missing:
                return _error(f"no such file: {', '.join(missing)}")
            file_reports = verify_jsonl(args.jsonl)
        if with_db:
            url = None if args.db in (None, DEFAULT_DB) else args.db
            db_reports = verify_database(_open_existing(url), args.chain)
    except (OSError, ValueError, SQLAlchemyError) as e:
        return _error(str(e))
    both = bool(args.jsonl) and with_db
    if not file_reports and not db_reports:
        print("no audit records found")
        return EXIT_OK
    for label, reports in (("JSON lines", file_reports), ("database", db_reports)):
        for report in reports:
            print(f"{label}: {report.describe()}" if both else report.describe())
    ends = compare_ends(file_reports, db_reports) if both else []
    for end in ends:
        print(end.describe())
    intact = all(r.ok for r in [*file_reports, *db_reports]) and all(e.ok for e in ends)
    return EXIT_OK if intact else EXIT_BROKEN


def describe_entry(entry: ChainedRecord) -> str:
    """One readable line per record, for people at a terminal."""
    r = entry.record
    who = f"{r.person or '-'}@{r.device} ({r.client})"
    parts = [
        format_time(r.time)[:23] + "Z",
        f"{r.effect.upper():6}",
        who,
        f"{r.method} {r.url}",
        f"-> {r.status:03d} {r.bytes_out}B {r.duration_ms:.0f}ms",
    ]
    if r.rule_ids:
        parts.append(f"rules={','.join(r.rule_ids)}")
    if r.categories:
        parts.append(f"categories={','.join(r.categories)}")
    if r.reason:
        parts.append(f"reason={r.reason!r}")
    parts.append(f"[{entry.chain}#{entry.seq}]")
    return "  ".join(parts)


def _tail(args: argparse.Namespace) -> int:
    if args.n < 1:
        return _error("-n must be at least 1")
    try:
        engine = _open_existing(args.db)
        rows = audit_log.recent_rows(engine, args.n, args.chain)
        entries = [row_to_entry(row) for row in rows]
    except (OSError, ValueError, SQLAlchemyError) as e:
        return _error(str(e))
    for entry in entries:
        print(describe_entry(entry))
    return EXIT_OK
