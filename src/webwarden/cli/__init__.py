"""The `webwarden` command: one entry point, a module per group of subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from webwarden import compiled
from webwarden.cli import (
    audit_cmd,
    ca_cmd,
    categories_cmd,
    covert_cmd,
    gateway_cmd,
    policy_cmd,
    post_cmd,
    squid_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="webwarden", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    policy_cmd.register(sub)
    categories_cmd.register(sub)
    gateway_cmd.register(sub)
    audit_cmd.register(sub)
    squid_cmd.register(sub)
    post_cmd.register(sub)
    ca_cmd.register(sub)
    covert_cmd.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        # Compiled modules built from older sources would run old code: refuse instead.
        compiled.check()
    except compiled.StaleCompiledModulesError as exc:
        print(f"webwarden: {exc}", file=sys.stderr)
        return 2
    handler = args.handler
    try:
        code: int = handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Python would complain again when flushing stdout at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
