"""Pieces several subcommands share: loading the category index, the policy set and the
directory from command-line options, and reporting input problems the same way."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from webwarden.categories.index import CategoryIndex, open_index
from webwarden.categories.shipped import default_index, shipped_category_names
from webwarden.identity.directory import Directory, load_directory
from webwarden.identity.shipped import demo_directory_path
from webwarden.policy.compiled import PolicySet
from webwarden.policy.load import load_policy_set
from webwarden.policy.shipped import default_policy_paths
from webwarden.sources import SourceError


def add_category_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--categories", type=Path, metavar="SNAPSHOT",
                        help="compiled category snapshot (default: the shipped UT1 lists)")
    parser.add_argument("--overrides", type=Path, metavar="FILE",
                        help="local category overrides (YAML)")


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", type=Path, action="append", metavar="FILE",
                        help="policy regime file; repeat for several regimes "
                        "(default: the shipped 2009 and 2013 regimes)")


def add_directory_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--directory", type=Path, metavar="FILE",
                        help="people and devices, YAML or CSV (default: the demo directory)")


def category_index(args: argparse.Namespace) -> CategoryIndex:
    if args.categories is not None:
        return open_index(args.categories, args.overrides)
    return default_index(args.overrides)


def known_categories(args: argparse.Namespace) -> frozenset[str]:
    """Category names a policy may use, without loading the whole database when possible."""
    if args.categories is None and args.overrides is None:
        return shipped_category_names()
    return category_index(args).names


def policy_set(args: argparse.Namespace, names: frozenset[str]) -> PolicySet:
    paths: Sequence[Path] = args.policy or default_policy_paths()
    return load_policy_set(paths, names)


def directory(args: argparse.Namespace) -> Directory:
    return load_directory(args.directory or demo_directory_path())


def report(exc: SourceError, what: str) -> int:
    print(f"error: the {what} was not loaded:", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)
    return 2


def parse_time(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not an ISO time (e.g. 2026-03-02T10:00:00+00:00)"
        ) from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


SubParsers = "argparse._SubParsersAction[Any]"
__all__ = ["Any", "SubParsers"]
