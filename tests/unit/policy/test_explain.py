"""`explain` says the rule, clause, categories and remedy in words."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import DEMO_DIRECTORY, UT1_NAMES
from webwarden.identity.directory import load_directory
from webwarden.policy.decide import decide
from webwarden.policy.explain import as_mapping, as_text
from webwarden.policy.load import load_policy_set
from webwarden.policy.scenario import facts_for
from webwarden.policy.shipped import default_policy_paths


def test_blocked_request_in_words() -> None:
    directory = load_directory(DEMO_DIRECTORY)
    policy = load_policy_set(default_policy_paths(), UT1_NAMES)
    facts = facts_for(url="http://mail.example/inbox", at=datetime(2026, 3, 3, 10, tzinfo=UTC),
                      device=directory.devices["ws-lam-0001"],
                      principal=directory.person("pc1001"),
                      categories=frozenset({"webmail"}))
    decision = decide(policy, facts)
    text = as_text(decision, facts)
    assert text.startswith("BLOCKED: GET http://mail.example/inbox")
    assert "block-webmail (clause G2, block)" in text
    assert "categories:  webmail" in text
    assert "remedy:      Use your corporate e-mail" in text
    data = as_mapping(decision, facts)
    assert data["effect"] == "block" and data["rules"][0]["clause"] == "G2"
    assert data["person"]["id"] == "pc1001" and data["regime"] == "2013"
