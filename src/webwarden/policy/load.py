"""Loading policy files into a `PolicySet`: all or nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from webwarden.policy.compile import (
    compile_regime,
    content_hash,
    validate,
    validate_rules_apart,
)
from webwarden.policy.compiled import PolicySet, Regime
from webwarden.sources import Located, Problem, SourceError, load_yaml

PolicyError = SourceError


def load_policy_set(paths: Sequence[Path], known_categories: frozenset[str]) -> PolicySet:
    """Load every regime; raise PolicyError with every problem of every file, loading
    nothing, if any file is wrong."""
    if not paths:
        raise PolicyError([Problem("(policy)", None, "no policy file given")])
    regimes: list[Regime] = []
    problems: list[Problem] = []
    blobs: list[bytes] = []
    for path in paths:
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), None, f"cannot read: {exc}"))
            continue
        try:
            located = load_yaml(text, str(path))
        except SourceError as exc:
            problems.extend(exc.problems)
            continue
        try:
            doc = validate(located)
            regime = compile_regime(located, doc, known_categories)
        except SourceError as exc:
            problems.extend(exc.problems)
            problems.extend(_more_problems(located, known_categories, exc.problems))
            continue
        regimes.append(dataclasses.replace(regime, version=content_hash(raw)))
        blobs.append(raw)
    by_date: dict[object, Regime] = {}
    for regime in regimes:
        other = by_date.get(regime.in_force_from)
        if other is not None:
            problems.append(
                Problem(regime.source_file, None, f"regime '{regime.id}' comes into force on "
                        f"{regime.in_force_from}, the same day as '{other.id}' "
                        f"({other.source_file}); which applies would be ambiguous")
            )
        by_date[regime.in_force_from] = regime
    ids = [r.id for r in regimes]
    for rid in {i for i in ids if ids.count(i) > 1}:
        problems.append(Problem("(policy)", None, f"two files declare regime id '{rid}'"))
    if problems:
        raise PolicyError(problems)
    regimes.sort(key=lambda r: r.in_force_from)
    return PolicySet(regimes=tuple(regimes), version=content_hash(*sorted(blobs)))


def _more_problems(
    located: Located, known_categories: frozenset[str], found: list[Problem]
) -> list[Problem]:
    """After structural mistakes, check the well-formed rules too (reported once each)."""
    partial = validate_rules_apart(located)
    if partial is None:
        return []
    doc, positions = partial
    try:
        compile_regime(located, doc, known_categories, positions)
    except SourceError as exc:
        seen = {str(p) for p in found}
        return [p for p in exc.problems if str(p) not in seen]
    return []
