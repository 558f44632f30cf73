"""`webwarden check-post`: check a personal post against the guidance before publishing it
(P1). Exit 0 when the post is clean, 1 when it would breach the guidance, 2 when it could
not be checked (missing or unreadable file, bad configuration)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from webwarden.cli import common
from webwarden.inspection.dlp import DlpRules
from webwarden.inspection.post_check import (
    POST,
    PROFILE,
    OrganisationNames,
    PostReport,
    check_post,
)
from webwarden.inspection.post_config import load_post_config
from webwarden.model.finding import Finding
from webwarden.sources import SourceError

STDIN = "-"


class _UnreadableError(Exception):
    """An input file that cannot be read; the message says which and why."""


def register(sub: argparse._SubParsersAction[Any]) -> None:
    check = sub.add_parser(
        "check-post",
        help="check a personal post against the social media guidance before publishing it",
        description=__doc__,
    )
    check.add_argument("file", metavar="FILE|-", help="the post, as text ('-': standard input)")
    check.add_argument("--profile", type=Path, metavar="FILE",
                       help="the author's profile or bio text, checked with the post")
    check.add_argument("--config", type=Path, metavar="FILE",
                       help="the organisation's names and DLP rules (YAML; default: the "
                       "Metropolitan Police Service and the shipped rules)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(handler=_check_post)


def _check_post(args: argparse.Namespace) -> int:
    try:
        text = _read(args.file)
        profile = _read(str(args.profile)) if args.profile is not None else ""
    except _UnreadableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not text.strip():
        print(f"error: {_name(args.file)} is empty: there is no post to check", file=sys.stderr)
        return 2
    names: OrganisationNames
    rules: DlpRules
    if args.config is not None:
        try:
            names, rules = load_post_config(args.config)
        except SourceError as exc:
            return common.report(exc, "post checker configuration")
    else:
        names, rules = OrganisationNames.default(), DlpRules.default()
    report = check_post(text, names=names, rules=rules, profile=profile)
    texts = {POST: text, PROFILE: profile}
    if args.json:
        print(json.dumps(as_mapping(report, texts, _name(args.file)), indent=2,
                         ensure_ascii=False))
    else:
        print(as_text(report, texts, _name(args.file)))
    return 0 if report.clean else 1


def as_mapping(report: PostReport, texts: dict[str, str], name: str) -> dict[str, Any]:
    """The report as a JSON-ready mapping: every breach with its line and column."""
    return {
        "file": name,
        "clean": report.clean,
        "breaches": [
            {
                "kind": f.kind,
                "label": f.label,
                "excerpt": f.excerpt,
                "where": f.where,
                "offset": f.offset,
                **dict(zip(("line", "column"), _line_column(texts.get(f.where, ""), f.offset),
                           strict=True)),
                "advice": advice,
            }
            for f, advice in zip(report.breaches, report.advice, strict=True)
        ],
    }


def as_text(report: PostReport, texts: dict[str, str], name: str) -> str:
    """The report for a person: what, where (line:column), the masked excerpt, advice."""
    if report.clean:
        return f"{name}: clean: nothing in it breaches the guidance on personal posts"
    count = len(report.breaches)
    lines = [f"{name}: would breach the guidance on personal posts "
             f"({count} finding{'s' if count != 1 else ''})"]
    for i, (finding, advice) in enumerate(zip(report.breaches, report.advice, strict=True), 1):
        lines += ["", *_finding_lines(i, finding, advice, texts)]
    return "\n".join(lines)


def _finding_lines(i: int, f: Finding, advice: str, texts: dict[str, str]) -> list[str]:
    line, column = _line_column(texts.get(f.where, ""), f.offset)
    return [
        f"{i}. {f.label}",
        f"   where:   {f.where}, line {line}, column {column} ({line}:{column})",
        f"   excerpt: \"{f.excerpt}\"",
        f"   advice:  {advice}",
    ]


def _line_column(text: str, offset: int) -> tuple[int, int]:
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _name(file: str) -> str:
    return "standard input" if file == STDIN else file


def _read(file: str) -> str:
    try:
        raw = sys.stdin.buffer.read() if file == STDIN else Path(file).read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _UnreadableError(f"cannot read {_name(file)}: {reason}") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _UnreadableError(
            f"cannot read {_name(file)}: it is not UTF-8 text (byte {exc.start})"
        ) from exc
