"""Tables of cases a policy author writes to check a policy before publishing it
(`webwarden policy test CASES.yaml`): each case is a request in words and the effect and
rule ids it must get."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webwarden.identity.directory import Directory
from webwarden.model.decision import Decision, Effect, Obligation
from webwarden.model.people import UNREGISTERED_DEVICE
from webwarden.model.request import Consent, ConsentScopeKind, ContentFacts, Grant
from webwarden.policy.compiled import PolicySet
from webwarden.policy.decide import decide
from webwarden.policy.grants import GrantDoc, build_grants
from webwarden.policy.scenario import Lookup, ScenarioError, facts_for
from webwarden.sources import Located, Problem, SourceError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContentDoc(_Strict):
    type: str | None = None
    declared: str | None = None
    size: Annotated[int, Field(ge=0)] | None = None
    findings: list[str] = []


class ConsentDoc(_Strict):
    notice: str
    scope_kind: Literal["category", "site"] = "category"
    scope: str
    accepted: datetime
    expires: datetime


class ExpectDoc(_Strict):
    effect: Effect
    rules: list[str] | None = None
    obligations: list[Obligation] | None = None
    max_body_bytes: int | None = None
    notice_scope: str | None = None


class CaseDoc(_Strict):
    name: str = Field(min_length=1)
    user: str | None = None
    device: str | None = None
    url: str
    method: Annotated[str, Field(pattern=r"^[A-Z]+$")] | None = None
    at: datetime | None = None
    categories: list[str] | None = None
    content: ContentDoc | None = None
    grants: list[GrantDoc] = []
    consents: list[ConsentDoc] = []
    expect: ExpectDoc


class DefaultsDoc(_Strict):
    user: str | None = None
    device: str | None = None
    method: str = "GET"
    at: datetime | None = None


class CasesDoc(_Strict):
    policies: list[str] = []
    directory: str | None = None
    defaults: DefaultsDoc = DefaultsDoc()
    cases: list[CaseDoc] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    line: int | None
    passed: bool
    expected: str
    got: str
    decision: Decision | None


def parse_cases(located: Located) -> CasesDoc:
    try:
        return CasesDoc.model_validate(located.data)
    except ValidationError as exc:
        raise SourceError(
            [
                located.problem(tuple(e["loc"]), f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
                for e in exc.errors()
            ]
        ) from exc


def referenced_files(doc: CasesDoc, base: Path) -> tuple[list[Path], Path | None]:
    policies = [(base / p).resolve() for p in doc.policies]
    directory = (base / doc.directory).resolve() if doc.directory else None
    return policies, directory


def _describe(effect: str, rules: list[str] | None) -> str:
    return effect if rules is None else f"{effect} by [{', '.join(rules)}]"


def run_cases(
    located: Located,
    doc: CasesDoc,
    policy: PolicySet,
    directory: Directory,
    lookup: Lookup | None,
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for index, case in enumerate(doc.cases):
        line = located.line_of(("cases", index))
        try:
            decision = _decide_case(case, doc.defaults, policy, directory, lookup, located, index)
        except (ScenarioError, SourceError) as exc:
            outcomes.append(Outcome(case.name, line, False, "a decision", f"error: {exc}", None))
            continue
        exp = case.expect
        got_rules = list(decision.rule_ids)
        problems = []
        if decision.effect is not exp.effect:
            problems.append("effect")
        if exp.rules is not None and got_rules != exp.rules:
            problems.append("rules")
        if exp.obligations is not None and set(exp.obligations) != set(decision.obligations):
            problems.append("obligations")
        if "max_body_bytes" in exp.model_fields_set and exp.max_body_bytes != (
            decision.max_body_bytes
        ):
            problems.append("max_body_bytes")
        if exp.notice_scope is not None and exp.notice_scope != decision.notice_scope:
            problems.append("notice_scope")
        expected = _describe(exp.effect.value, exp.rules)
        got = _describe(decision.effect.value, got_rules)
        if "obligations" in problems:
            expected += f", obligations {sorted(o.value for o in exp.obligations or [])}"
            got += f", obligations {sorted(o.value for o in decision.obligations)}"
        if "max_body_bytes" in problems:
            expected += f", max_body_bytes {exp.max_body_bytes}"
            got += f", max_body_bytes {decision.max_body_bytes}"
        if "notice_scope" in problems:
            expected += f", notice scope {exp.notice_scope}"
            got += f", notice scope {decision.notice_scope}"
        outcomes.append(Outcome(case.name, line, not problems, expected, got, decision))
    return outcomes


def _decide_case(
    case: CaseDoc,
    defaults: DefaultsDoc,
    policy: PolicySet,
    directory: Directory,
    lookup: Lookup | None,
    located: Located,
    index: int,
) -> Decision:
    user = case.user if "user" in case.model_fields_set else defaults.user
    device_id = case.device or defaults.device
    at = case.at or defaults.at
    if at is None:
        raise ScenarioError("no time: give at: in the case or in defaults:")
    principal = None
    if user is not None:
        principal = directory.person(user)
        if principal is None:
            raise ScenarioError(f"unknown person '{user}' in the directory")
    if device_id is None or device_id == UNREGISTERED_DEVICE.id:
        device = UNREGISTERED_DEVICE
    else:
        found = directory.devices.get(device_id)
        if found is None:
            raise ScenarioError(f"unknown device '{device_id}' in the directory")
        device = found
    content = None
    if case.content is not None:
        c = case.content
        content = ContentFacts(c.type, c.declared, c.size, frozenset(c.findings))
    grants: tuple[Grant, ...] = ()
    if case.grants:
        sub = Located(located.file, {"grants": [_raw(g) for g in case.grants]}, {})
        grants = build_grants(sub, policy)
    consents = tuple(
        Consent(
            person_id=user or "",
            notice=c.notice,
            scope_kind=ConsentScopeKind(c.scope_kind),
            scope=c.scope,
            accepted=c.accepted,
            expires=c.expires,
        )
        for c in case.consents
    )
    facts = facts_for(
        url=case.url,
        at=at,
        device=device,
        principal=principal,
        method=case.method or defaults.method,
        categories=None if case.categories is None else frozenset(case.categories),
        lookup=lookup,
        content=content,
        grants=grants,
        consents=consents,
        request_id=f"case-{index + 1}",
    )
    return decide(policy, facts)


def _raw(grant: GrantDoc) -> dict[str, Any]:
    data = grant.model_dump(by_alias=True, exclude_none=True)
    data["scope"] = {k: v for k, v in data["scope"].items() if v is not None}
    return data


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


__all__ = ["CasesDoc", "Outcome", "Problem", "parse_cases", "referenced_files", "run_cases"]
