"""The combining algorithm, on small policies written for each point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import UT1_NAMES
from webwarden.model.decision import Effect, Obligation
from webwarden.model.people import Device, DeviceClass, PersonKind, Principal, Qualification
from webwarden.model.request import (
    ContentFacts,
    Destination,
    Facts,
    Grant,
    GrantScopeKind,
    Phase,
)
from webwarden.policy.compiled import PolicySet
from webwarden.policy.decide import decide
from webwarden.policy.load import load_policy_set

POLICY = """\
regime: {id: t, name: Test, in_force_from: 2020-01-01}
timezone: Europe/London
working_hours: {days: [mon, tue, wed, thu, fri], start: "22:00", end: "06:00"}
vocabulary:
  qualifications:
    a: {title: A}
    b: {title: B}
    ab: {title: A and B, requires: [a, b]}
default: {clause: G1, message: Default deny., remedy: Ask.}
rules:
  - id: night-shift-news
    clause: X1
    effect: allow
    when: {categories: [press], working_hours: true}
  - id: qualified-only
    clause: Q1
    effect: allow
    when: {categories: [sports], qualified: [ab]}
  - id: big
    clause: G5
    effect: block
    message: Too big.
    remedy: Ask.
    when: {size_over: 1MB, methods: [GET]}
  - id: bigger
    clause: G5
    effect: block
    message: Far too big.
    remedy: Ask.
    when: {size_over: 2MB}
  - id: exe
    clause: G5
    effect: block
    message: No executables.
    remedy: Ask.
    when: {file_types: [executable]}
  - id: everything-else
    clause: G9
    effect: allow
    when: {categories: [shopping]}
    obligations: [inspect-downloads]
"""

PERSON = Principal(
    id="p1",
    kind=PersonKind.STAFF,
    unit="U",
    qualifications=(Qualification("a", datetime(2021, 1, 1).date()),
                    Qualification("b", datetime(2021, 1, 1).date(),
                                  datetime(2022, 1, 1).date())),
)
DEVICE = Device("d1", DeviceClass.WORKSTATION)


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> PolicySet:
    path: Path = tmp_path_factory.mktemp("p") / "p.yaml"
    path.write_text(POLICY)
    return load_policy_set([path], UT1_NAMES)


def facts(cats: set[str], at: datetime, **kw: object) -> Facts:
    return Facts(device=DEVICE, destination=Destination("http", "h.example", 80, "/",
                                                        frozenset(cats)),
                 method=kw.pop("method", "GET"), at=at, principal=PERSON, **kw)  # type: ignore[arg-type]


MONDAY_NIGHT = datetime(2021, 3, 1, 23, 0, tzinfo=UTC)
MONDAY_NOON = datetime(2021, 3, 1, 12, 0, tzinfo=UTC)


def test_default_deny_when_nothing_allows(policy: PolicySet) -> None:
    d = decide(policy, facts({"press"}, MONDAY_NOON))
    assert d.effect is Effect.BLOCK and d.rule_ids == ("default-deny",)
    assert d.message == "Default deny." and d.rules[0].clause == "G1"


def test_working_hours_across_midnight(policy: PolicySet) -> None:
    assert decide(policy, facts({"press"}, MONDAY_NIGHT)).effect is Effect.ALLOW


def test_derived_qualification_needs_every_part_valid(policy: PolicySet) -> None:
    assert decide(policy, facts({"sports"}, MONDAY_NOON)).effect is Effect.ALLOW
    later = datetime(2022, 6, 1, 12, tzinfo=UTC)  # qualification b has lapsed
    assert decide(policy, facts({"sports"}, later)).rule_ids == ("default-deny",)


def test_grant_can_lift_default_deny(policy: PolicySet) -> None:
    grant = Grant("g1", frozenset({"default-deny"}), GrantScopeKind.DOMAIN, "h.example",
                  MONDAY_NOON - timedelta(days=1), None, person_id="p1")
    d = decide(policy, facts({"press"}, MONDAY_NOON, grants=(grant,)))
    assert d.effect is Effect.ALLOW and d.grants_used == ("g1",)
    assert d.rule_ids == ("grant:g1",)


def test_download_limit_is_the_smallest_applicable(policy: PolicySet) -> None:
    assert decide(policy, facts({"shopping"}, MONDAY_NOON)).max_body_bytes == 1_000_000
    assert decide(policy, facts({"shopping"}, MONDAY_NOON, method="POST")).max_body_bytes == (
        2_000_000
    )


def test_allow_carries_obligations(policy: PolicySet) -> None:
    d = decide(policy, facts({"shopping"}, MONDAY_NOON))
    assert d.obligations == {Obligation.INSPECT_DOWNLOADS}


def test_content_phase(policy: PolicySet) -> None:
    exe = ContentFacts(sniffed_type="executable", size=10)
    d = decide(policy, facts({"shopping"}, MONDAY_NOON, phase=Phase.CONTENT, content=exe))
    assert d.effect is Effect.BLOCK and d.rule_ids == ("exe",)
    big = ContentFacts(sniffed_type="archive", size=3_000_000)
    d = decide(policy, facts({"shopping"}, MONDAY_NOON, phase=Phase.CONTENT, content=big))
    assert d.rule_ids == ("big", "bigger")
    ok = ContentFacts(sniffed_type="archive", size=10)
    d = decide(policy, facts({"shopping"}, MONDAY_NOON, phase=Phase.CONTENT, content=ok))
    assert d.effect is Effect.ALLOW and d.rules == ()


def test_decision_id_is_stable_and_given_id_wins(policy: PolicySet) -> None:
    a = decide(policy, facts({"shopping"}, MONDAY_NOON))
    b = decide(policy, facts({"shopping"}, MONDAY_NOON))
    assert a.id == b.id
    assert decide(policy, facts({"shopping"}, MONDAY_NOON, request_id="r-1")).id == "r-1"


def test_decision_records_version_and_categories(policy: PolicySet) -> None:
    d = decide(policy, facts({"shopping", "press"}, MONDAY_NOON))
    assert d.policy_version == policy.version and d.regime == "t"
    assert d.categories == {"shopping", "press"}
