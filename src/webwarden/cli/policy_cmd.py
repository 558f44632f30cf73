"""`webwarden policy check|test`, `webwarden explain` and `webwarden directory …`."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from webwarden.authoring.cases import parse_cases, referenced_files, run_cases
from webwarden.categories.normalise import HostError
from webwarden.cli import common
from webwarden.identity.directory import load_directory
from webwarden.identity.passwords import hash_password
from webwarden.model.people import UNREGISTERED_DEVICE
from webwarden.policy.decide import decide
from webwarden.policy.explain import as_mapping, as_text
from webwarden.policy.load import load_policy_set
from webwarden.policy.scenario import ScenarioError, facts_for
from webwarden.sources import SourceError, load_yaml_file


def register(sub: argparse._SubParsersAction[Any]) -> None:
    policy = sub.add_parser("policy", help="check and test policy files")
    psub = policy.add_subparsers(dest="policy_command", required=True, metavar="ACTION")

    check = psub.add_parser(
        "check", help="validate policy files; nothing is loaded if any is wrong"
    )
    check.add_argument("files", type=Path, nargs="+", metavar="FILE")
    common.add_category_options(check)
    check.set_defaults(handler=_check)

    test = psub.add_parser("test", help="run decision tables (expected effect and rule ids)")
    test.add_argument("cases", type=Path, nargs="+", metavar="CASES.yaml")
    common.add_policy_options(test)
    common.add_directory_option(test)
    common.add_category_options(test)
    test.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    test.set_defaults(handler=_test)

    explain = sub.add_parser("explain", help="the decision for one request, in words")
    explain.add_argument("url", metavar="URL")
    explain.add_argument("--user", metavar="ID", help="person id (omit: nobody signed in)")
    explain.add_argument("--device", metavar="ID", default=None,
                         help="device id, or a client address (omit: unregistered device)")
    explain.add_argument("--at", metavar="ISO-TIME", help="when (default: now)")
    explain.add_argument("--method", default="GET")
    explain.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_policy_options(explain)
    common.add_directory_option(explain)
    common.add_category_options(explain)
    explain.set_defaults(handler=_explain)

    directory = sub.add_parser("directory", help="the people and devices file")
    dsub = directory.add_subparsers(dest="directory_command", required=True, metavar="ACTION")
    dcheck = dsub.add_parser("check", help="validate a directory file (YAML or CSV)")
    dcheck.add_argument("file", type=Path)
    dcheck.set_defaults(handler=_directory_check)
    hashpw = dsub.add_parser("hash-password", help="print a password hash for the directory")
    hashpw.add_argument("--stdin", action="store_true", help="read the password from stdin")
    hashpw.set_defaults(handler=_hash_password)


def _check(args: argparse.Namespace) -> int:
    try:
        names = common.known_categories(args)
        policy = load_policy_set(args.files, names)
    except SourceError as exc:
        return common.report(exc, "policy")
    for regime in policy.regimes:
        print(f"ok: {regime.source_file}: regime {regime.id} in force from "
              f"{regime.in_force_from}, {len(regime.rules)} rules, version {regime.version}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    try:
        at = common.parse_time(args.at)
        index = common.category_index(args)
        policy = common.policy_set(args, index.names)
        directory = common.directory(args)
    except SourceError as exc:
        return common.report(exc, "configuration")
    except argparse.ArgumentTypeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    principal = None
    if args.user is not None:
        principal = directory.person(args.user)
        if principal is None:
            print(f"error: no person '{args.user}' in {directory.source}", file=sys.stderr)
            return 2
    device = UNREGISTERED_DEVICE
    if args.device is not None:
        found = directory.devices.get(args.device)
        device = found if found is not None else directory.device_for_address(args.device)
        if found is None and device is UNREGISTERED_DEVICE and args.device != device.id:
            print(f"note: '{args.device}' is no registered device or address; deciding as "
                  "an unregistered device", file=sys.stderr)
    try:
        facts = facts_for(url=args.url, at=at, device=device, principal=principal,
                          method=args.method.upper(), lookup=index.lookup)
    except (ScenarioError, HostError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    decision = decide(policy, facts)
    if args.json:
        print(json.dumps(as_mapping(decision, facts), indent=2))
    else:
        print(as_text(decision, facts))
    return 0


def _test(args: argparse.Namespace) -> int:
    failed = total = 0
    index = None
    for path in args.cases:
        try:
            located = load_yaml_file(path)
            doc = parse_cases(located)
            policies, directory_path = referenced_files(doc, path.parent)
            if args.policy:
                policies = args.policy
            if args.directory:
                directory_path = args.directory
            needs_lookup = any(c.categories is None for c in doc.cases)
            if needs_lookup and index is None:
                index = common.category_index(args)
            names = index.names if index is not None else common.known_categories(args)
            policy = (load_policy_set(policies, names) if policies
                      else common.policy_set(args, names))
            directory = (load_directory(directory_path) if directory_path
                         else common.directory(args))
        except SourceError as exc:
            common.report(exc, f"case file {path}")
            return 2
        outcomes = run_cases(located, doc, policy, directory,
                             index.lookup if index is not None else None)
        for outcome in outcomes:
            total += 1
            where = f"{path}:{outcome.line}" if outcome.line else str(path)
            if outcome.passed:
                if args.verbose:
                    print(f"PASS {where}: {outcome.name}")
                continue
            failed += 1
            print(f"FAIL {where}: {outcome.name}")
            print(f"  - expected: {outcome.expected}")
            print(f"  + got:      {outcome.got}")
            if outcome.decision is not None and outcome.decision.message:
                print(f"    ({outcome.decision.message})")
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


def _directory_check(args: argparse.Namespace) -> int:
    try:
        d = load_directory(args.file)
    except SourceError as exc:
        return common.report(exc, "directory")
    print(f"ok: {args.file}: {len(d.people)} people, {len(d.devices)} devices, "
          f"version {d.version}")
    return 0


def _hash_password(args: argparse.Namespace) -> int:
    if args.stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("error: the two passwords differ", file=sys.stderr)
            return 2
    if len(password) < 4:
        print("error: the password is too short", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0
