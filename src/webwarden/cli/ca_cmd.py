"""`webwarden ca init|export|rotate|status`: the certificate authority that interception
uses. See docs/operations.md, "Trusting the gateway's CA"."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from webwarden.gateway.config import default_state_dir
from webwarden.gateway.tls.authority import (
    DEFAULT_GRACE,
    DEFAULT_NAME,
    CaError,
    export_certificates,
    fingerprint,
    init_ca,
    load_ca,
    rotate_ca,
    status,
)
from webwarden.gateway.tls.files import write_atomic


def default_ca_dir() -> Path:
    return default_state_dir() / "ca"


def register(sub: argparse._SubParsersAction[Any]) -> None:
    ca = sub.add_parser("ca", help="the certificate authority for HTTPS interception")
    csub = ca.add_subparsers(dest="ca_command", required=True, metavar="ACTION")

    def dir_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dir", type=Path, metavar="DIR", default=None,
                       help="CA directory (default: <state dir>/ca, state dir from "
                       "$WEBWARDEN_STATE_DIR or ~/.local/state/webwarden)")

    init = csub.add_parser("init", help="create the CA (refuses to replace one without --force)")
    dir_option(init)
    init.add_argument("--force", action="store_true",
                      help="replace an existing CA (browsers must then be given the new one)")
    init.add_argument("--name", default=DEFAULT_NAME,
                      help=f"common name (default {DEFAULT_NAME!r})")
    init.set_defaults(handler=_init)

    export = csub.add_parser("export", help="write the certificates browsers should trust")
    dir_option(export)
    export.add_argument("--der", action="store_true",
                        help="DER (binary, the signing certificate only) instead of PEM")
    export.add_argument("file", type=Path, nargs="?", metavar="FILE",
                        help="where to write (default: standard output)")
    export.set_defaults(handler=_export)

    rotate = csub.add_parser("rotate", help="introduce a new CA; the old one signs until the "
                             "grace period ends")
    dir_option(rotate)
    rotate.add_argument("--grace-days", type=int, default=DEFAULT_GRACE.days, metavar="N",
                        help=f"days before the new CA signs (default {DEFAULT_GRACE.days})")
    rotate.set_defaults(handler=_rotate)

    show = csub.add_parser("status", help="which CA signs now, fingerprints, validity")
    dir_option(show)
    show.set_defaults(handler=_status)


def _dir(args: argparse.Namespace) -> Path:
    directory: Path | None = args.dir
    return (directory or default_ca_dir()).absolute()


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _init(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    try:
        files = init_ca(_dir(args), force=args.force, name=args.name, now=now)
    except CaError as exc:
        return _fail(str(exc))
    print(f"created the CA in {files.directory}")
    print(f"  certificate  {files.certificate_path}")
    print(f"  private key  {files.key_path} (mode 0600)")
    print(f"  SHA-256      {files.fingerprint}")
    print("Next: `webwarden ca export ca.pem` and make browsers trust it "
          "(docs/operations.md, \"Trusting the gateway's CA\").")
    return 0


def _export(args: argparse.Namespace) -> int:
    try:
        data = export_certificates(_dir(args), der=args.der, now=datetime.now(UTC))
    except CaError as exc:
        return _fail(str(exc))
    if args.file is None:
        if args.der and sys.stdout.isatty():
            return _fail("DER is binary: give a FILE, or redirect standard output")
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    target: Path = args.file
    if target.is_dir():
        return _fail(f"{target} is a directory; give a file name")
    try:
        write_atomic(target.absolute(), data, 0o644)
    except OSError as exc:
        return _fail(f"cannot write {target}: {exc.strerror or exc}")
    print(f"wrote {target}", file=sys.stderr)
    return 0


def _rotate(args: argparse.Namespace) -> int:
    if args.grace_days < 0:
        return _fail("--grace-days cannot be negative")
    if args.grace_days > 3650:
        return _fail("--grace-days must be at most 3650")
    try:
        files = rotate_ca(_dir(args), grace=timedelta(days=args.grace_days),
                          now=datetime.now(UTC))
    except CaError as exc:
        return _fail(str(exc))
    print(f"new CA {files.certificate_path}")
    print(f"  SHA-256      {files.fingerprint}")
    print(f"  signs from   {files.signs_from:%Y-%m-%d %H:%M} UTC")
    print("Export again now (`webwarden ca export`) and give the bundle to every browser "
          "before that date; the current CA signs until then.")
    return 0


def _status(args: argparse.Namespace) -> int:
    directory = _dir(args)
    now = datetime.now(UTC)
    try:
        generations = status(directory, now)
    except CaError as exc:
        return _fail(str(exc))
    print(f"CA directory {directory}")
    for generation, role in generations:
        print(f"generation {generation.number}: {role}")
        print(f"  subject      {generation.subject}")
        print(f"  SHA-256      {generation.fingerprint}")
        print(f"  valid        {generation.not_before:%Y-%m-%d %H:%M} to "
              f"{generation.not_after:%Y-%m-%d %H:%M} UTC")
        print(f"  signs from   {generation.signs_from:%Y-%m-%d %H:%M} UTC")
        print(f"  certificate  {generation.certificate_path}")
    try:
        # Loading also checks the key: its mode and that it matches the certificate.
        ca = load_ca(directory, now)
    except CaError as exc:
        return _fail(str(exc))
    print(f"signing now: generation {ca.generation} ({fingerprint(ca.certificate)})")
    if ca.signing_until is not None:
        print(f"rotation under way: the next CA signs from {ca.signing_until:%Y-%m-%d %H:%M} "
              "UTC; browsers must trust both until then")
    else:
        print("no rotation under way")
    return 0
