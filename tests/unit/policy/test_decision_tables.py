"""The decision tables in tests/decisions/ pass, and together they exercise every rule of
both shipped regimes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, UT1_NAMES
from webwarden.authoring.cases import parse_cases, referenced_files, run_cases
from webwarden.identity.directory import load_directory
from webwarden.policy.load import load_policy_set
from webwarden.policy.shipped import default_policy_paths
from webwarden.sources import load_yaml_file

TABLES = sorted((ROOT / "tests" / "decisions").glob("*.yaml"))


def _run(path: Path) -> list:  # type: ignore[type-arg]
    located = load_yaml_file(path)
    doc = parse_cases(located)
    policies, directory = referenced_files(doc, path.parent)
    assert directory is not None
    return run_cases(located, doc, load_policy_set(policies, UT1_NAMES),
                     load_directory(directory), None)


@pytest.mark.parametrize("table", TABLES, ids=lambda p: p.name)
def test_table_passes(table: Path) -> None:
    failures = [
        f"{o.name}: expected {o.expected}, got {o.got}" for o in _run(table) if not o.passed
    ]
    assert not failures, "\n".join(failures)


def test_every_rule_of_every_shipped_regime_is_exercised() -> None:
    policy = load_policy_set(default_policy_paths(), UT1_NAMES)
    for regime in policy.regimes:
        table = ROOT / "tests" / "decisions" / f"regime-{regime.id}.yaml"
        decided = {
            rule_id
            for outcome in _run(table)
            if outcome.decision is not None and outcome.decision.regime == regime.id
            for rule_id in outcome.decision.rule_ids
        }
        missing = {r.id for r in regime.rules} - decided
        assert not missing, f"regime {regime.id}: no case decided by {sorted(missing)}"
