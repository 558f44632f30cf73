"""Approved exceptions (G10) from a validated YAML file, until the portal's database holds
them. Each grant lifts exactly the rules it names, for a person or a unit, for one
destination, in a time window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from webwarden.model.request import FILE_TYPES, Grant, GrantScopeKind
from webwarden.policy.compiled import DEFAULT_DENY, PolicySet
from webwarden.sources import Located, Problem, SourceError, load_yaml_file

GrantError = SourceError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ScopeDoc(_Strict):
    domain: str | None = None
    url_prefix: str | None = None
    category: str | None = None
    file_type: str | None = None

    @model_validator(mode="after")
    def _one(self) -> ScopeDoc:
        given = [k for k, v in self.model_dump().items() if v is not None]
        if len(given) != 1:
            raise ValueError("name exactly one of domain, url_prefix, category, file_type")
        if self.file_type is not None and self.file_type not in FILE_TYPES:
            raise ValueError(f"unknown file type '{self.file_type}'")
        return self


class GrantDoc(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    person: str | None = None
    unit: str | None = None
    lifts: list[str] = Field(min_length=1)
    scope: ScopeDoc
    starts: datetime | date = Field(alias="from")
    ends: datetime | date | None = Field(default=None, alias="until")
    approved_by: str = Field(min_length=1)
    reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _whom(self) -> GrantDoc:
        if (self.person is None) == (self.unit is None):
            raise ValueError("name exactly one of person or unit")
        if self.ends is not None and _instant(self.ends) <= _instant(self.starts):
            raise ValueError("until: must be after from:")
        return self


class GrantsDoc(_Strict):
    grants: list[GrantDoc] = []


def _instant(value: datetime | date) -> datetime:
    """A date means midnight UTC at its start; a time without a zone is refused."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-01-05T09:00:00Z")
        return value
    return datetime.combine(value, time(0), tzinfo=UTC)


def load_grants(path: Path, policy: PolicySet | None = None) -> tuple[Grant, ...]:
    located = load_yaml_file(path)
    return build_grants(located, policy)


def build_grants(located: Located, policy: PolicySet | None = None) -> tuple[Grant, ...]:
    data: Any = located.data
    try:
        doc = GrantsDoc.model_validate(data)
    except ValidationError as exc:
        raise GrantError(
            [
                located.problem(tuple(e["loc"]), f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
                for e in exc.errors()
            ]
        ) from exc
    known: set[str] | None = None
    if policy is not None:
        known = {r.id for regime in policy.regimes for r in regime.rules} | {DEFAULT_DENY}
    problems: list[Problem] = []
    grants: list[Grant] = []
    seen: set[str] = set()
    for i, g in enumerate(doc.grants):
        if g.id in seen:
            problems.append(located.problem(("grants", i, "id"), f"duplicate grant '{g.id}'"))
        seen.add(g.id)
        if known is not None:
            for j, rule in enumerate(g.lifts):
                if rule not in known:
                    problems.append(located.problem(("grants", i, "lifts", j),
                                                    f"no rule '{rule}' in the policy"))
        kind, value = next((k, v) for k, v in g.scope.model_dump().items() if v is not None)
        grants.append(
            Grant(
                id=g.id,
                lifts=frozenset(g.lifts),
                scope_kind=GrantScopeKind(kind.replace("_", "-")),
                scope=value.lower() if kind == "domain" else value,
                starts=_instant(g.starts),
                ends=None if g.ends is None else _instant(g.ends),
                person_id=g.person,
                unit=g.unit,
                approved_by=g.approved_by,
                reason=g.reason,
            )
        )
    if problems:
        raise GrantError(problems)
    return tuple(grants)
