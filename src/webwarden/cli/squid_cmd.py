"""`webwarden squid-helper`: the policy engine as Squid's URL-rewrite helper."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from webwarden.cli import common
from webwarden.policy.cache import DecisionCache
from webwarden.sources import SourceError
from webwarden.squid.redirector import (
    LineError,
    answer,
    answer_bad_line,
    facts_for_line,
    parse_line,
)


def register(sub: argparse._SubParsersAction[Any]) -> None:
    helper = sub.add_parser(
        "squid-helper",
        help="decide for Squid: a url_rewrite_program that speaks Squid's helper protocol",
        description="Reads Squid URL-rewrite requests on stdin, one a line, and answers each: "
        "ERR (allowed) or a 302 to the block page. See docs/operations.md.",
    )
    helper.add_argument("--block-url", default="http://127.0.0.1:3129/request-access",
                        help="page blocked browsers are sent to, with the facts of the "
                        "decision as query parameters (default: the gateway admin port's "
                        "'ask for access' page)")
    common.add_policy_options(helper)
    common.add_directory_option(helper)
    common.add_category_options(helper)
    helper.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        index = common.category_index(args)
        policy = common.policy_set(args, index.names)
        directory = common.directory(args)
    except SourceError as exc:
        return common.report(exc, "configuration")
    serve(sys.stdin, sys.stdout, DecisionCache(policy), directory, index.lookup, args.block_url)
    return 0


def serve(stdin: TextIO, stdout: TextIO, cache: DecisionCache, directory: Any,
          lookup: Any, block_url: str) -> None:
    """Answer every line, flushing when no more input is waiting, as Squid needs."""
    write = stdout.write
    for line in stdin:
        if not line.strip():
            continue
        try:
            request = parse_line(line)
            facts = facts_for_line(request, directory, lookup, datetime.now(UTC))
            write(answer(request, cache.decide(facts), block_url, facts=facts) + "\n")
        except LineError as exc:
            write(answer_bad_line(line, str(exc)) + "\n")
        stdout.flush()
