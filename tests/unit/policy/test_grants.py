"""Grants files: validated, tied to rules that exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import UT1_NAMES
from webwarden.model.request import GrantScopeKind
from webwarden.policy.grants import GrantError, load_grants
from webwarden.policy.load import load_policy_set
from webwarden.policy.shipped import default_policy_paths

GOOD = """\
grants:
  - id: g-elearning
    unit: Lambeth BOCU
    lifts: [block-video-streaming]
    scope: {domain: NCALT.example}
    from: 2026-01-01
    until: 2026-12-31T18:00:00Z
    approved_by: st6002
    reason: NCALT e-learning videos
"""


def test_good_grants_load(tmp_path: Path) -> None:
    path = tmp_path / "grants.yaml"
    path.write_text(GOOD)
    policy = load_policy_set(default_policy_paths(), UT1_NAMES)
    (grant,) = load_grants(path, policy)
    assert grant.scope_kind is GrantScopeKind.DOMAIN and grant.scope == "ncalt.example"
    assert grant.unit == "Lambeth BOCU" and grant.starts.tzinfo is not None


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (("lifts: [block-video-streaming]", "lifts: [no-such-rule]"), "no rule 'no-such-rule'"),
        (("unit: Lambeth BOCU", "unit: X\n    person: pc1001"), "exactly one of person or unit"),
        (("scope: {domain: NCALT.example}", "scope: {domain: a, category: b}"), "exactly one"),
        (("until: 2026-12-31T18:00:00Z", "until: 2025-01-01"), "after from"),
        (("until: 2026-12-31T18:00:00Z", "until: 2026-12-31T18:00:00"), "time zone"),
        (("reason: NCALT e-learning videos", "reason: ''"), "reason"),
    ],
)
def test_bad_grants_are_refused(tmp_path: Path, change: tuple[str, str], fragment: str) -> None:
    path = tmp_path / "grants.yaml"
    path.write_text(GOOD.replace(*change))
    policy = load_policy_set(default_policy_paths(), UT1_NAMES)
    with pytest.raises(GrantError) as info:
        load_grants(path, policy)
    assert fragment in str(info.value)
    assert "grants.yaml:" in str(info.value)
