"""Checks a validated policy document against the world it names (categories, roles,
qualifications, notices) and compiles it into a `Regime`. Every problem is collected and
reported together, with its line."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from webwarden.model.decision import Effect, NoticeText, RuleRef
from webwarden.model.people import DeviceClass
from webwarden.model.request import FILE_TYPES
from webwarden.policy.compiled import (
    DEFAULT_DENY,
    Conditions,
    Regime,
    Rule,
    RuleIndex,
    TlsSettings,
    WorkingHours,
)
from webwarden.policy.schema import (
    ConditionsDoc,
    PolicyDoc,
    RuleDoc,
    parse_duration,
    parse_size,
)
from webwarden.sources import Located, Problem, SourceError

_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_PERSON_CONDITIONS = ("person_kinds", "units", "roles", "qualified")


def validate(located: Located) -> PolicyDoc:
    """Structure and types; raises SourceError naming each wrong key with its line."""
    if not isinstance(located.data, dict):
        raise SourceError([located.problem((), "a policy is a mapping with regime:, rules: …")])
    try:
        return PolicyDoc.model_validate(located.data)
    except ValidationError as exc:
        problems = [_problem_from_error(located, err) for err in exc.errors()]
        raise SourceError(problems) from exc


def _problem_from_error(located: Located, err: Any) -> Problem:
    loc: tuple[str | int, ...] = tuple(
        part for part in err["loc"] if not (isinstance(part, str) and "[" in part)
    )
    path = ".".join(str(p) for p in loc) or "(top)"
    kind = err["type"]
    if kind == "extra_forbidden":
        message = (
            f"{path}: unknown key '{loc[-1]}' (check the spelling; see docs/policy-language.md)"
        )
    elif kind == "missing":
        message = f"{path}: required key is missing"
    else:
        message = f"{path}: {err['msg']}"
        if kind in ("enum", "literal_error") and "ctx" in err:
            message = f"{path}: {err['msg']}"
    return located.problem(loc, message)


def validate_rules_apart(located: Located) -> tuple[PolicyDoc, list[int]] | None:
    """When a document has structural mistakes, the rules that are well formed can still
    be checked against the categories, roles and notices, so the author sees every
    mistake in one pass. Returns the document with only those rules (and their positions),
    or None when the rest of the document is itself malformed."""
    data = located.data
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        return None
    good: list[RuleDoc] = []
    positions: list[int] = []
    for index, raw in enumerate(data["rules"]):
        try:
            good.append(RuleDoc.model_validate(raw))
            positions.append(index)
        except ValidationError:
            continue
    if not good:
        return None
    try:
        rest = PolicyDoc.model_validate({**data, "rules": [r.model_dump() for r in good]})
    except ValidationError:
        return None
    return rest, positions


def compile_regime(
    located: Located,
    doc: PolicyDoc,
    known_categories: frozenset[str],
    positions: list[int] | None = None,
) -> Regime:
    """Cross-reference checks and compilation; raises SourceError with every problem.
    `positions` gives each rule's index in the file when `doc` holds only some of them."""
    problems: list[Problem] = []

    def report(loc: tuple[str | int, ...], message: str) -> None:
        problems.append(located.problem(loc, message))

    try:
        zone = ZoneInfo(doc.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        report(("timezone",), f"unknown time zone '{doc.timezone}' (e.g. Europe/London, UTC)")
        zone = ZoneInfo("UTC")

    hours = None
    if doc.working_hours is not None:
        wh = doc.working_hours
        start, end = time.fromisoformat(wh.start), time.fromisoformat(wh.end)
        if start == end:
            report(("working_hours",), "working hours start and end at the same time")
        hours = WorkingHours(frozenset(_DAYS[d] for d in wh.days), start, end)

    roles = dict(doc.vocabulary.roles)
    quals = doc.vocabulary.qualifications
    derived: dict[str, frozenset[str]] = {}
    for name, qual in quals.items():
        for i, needed in enumerate(qual.requires):
            if needed not in quals:
                report(
                    ("vocabulary", "qualifications", name, "requires", i),
                    f"qualification '{name}' requires unknown qualification '{needed}'",
                )
            if needed == name:
                report(("vocabulary", "qualifications", name), f"'{name}' requires itself")
        if qual.requires:
            derived[name] = frozenset(qual.requires)

    groups: dict[str, frozenset[str]] = {}
    for group, members in doc.category_groups.items():
        if group in known_categories:
            report(("category_groups", group), f"group '{group}' has the name of a category")
        for i, member in enumerate(members):
            if member not in known_categories:
                report(
                    ("category_groups", group, i),
                    f"unknown category '{member}'{_suggest(member, known_categories)}",
                )
        groups[group] = frozenset(members)

    notices = {
        nid: NoticeText(
            id=nid,
            title=n.title,
            text=" ".join(n.text.split()),
            scope=n.scope,
            remember_seconds=parse_duration(n.remember),
        )
        for nid, n in doc.notices.items()
    }

    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for order, rule_doc in enumerate(doc.rules):
        index = positions[order] if positions is not None else order
        loc: tuple[str | int, ...] = ("rules", index)
        if rule_doc.id in seen or rule_doc.id == DEFAULT_DENY:
            report((*loc, "id"), f"duplicate rule id '{rule_doc.id}' (ids must be unique)")
        seen[rule_doc.id] = index
        conditions = _compile_conditions(
            rule_doc.when,
            (*loc, "when"),
            report,
            known_categories,
            groups,
            roles,
            set(quals),
            hours is not None,
        )
        notice = None
        if rule_doc.effect is Effect.NOTICE:
            if rule_doc.notice is None:
                report(loc, f"rule '{rule_doc.id}' has effect notice but names no notice:")
            elif rule_doc.notice not in notices:
                report((*loc, "notice"), f"unknown notice '{rule_doc.notice}'")
            else:
                notice = notices[rule_doc.notice]
        elif rule_doc.notice is not None:
            report((*loc, "notice"), "notice: only goes with effect: notice")
        if rule_doc.effect is Effect.BLOCK and not rule_doc.message:
            report(loc, f"block rule '{rule_doc.id}' needs a message: the person reads it")
        if rule_doc.effect is not Effect.ALLOW and not rule_doc.remedy:
            report(loc, f"rule '{rule_doc.id}' needs a remedy: what the person can do next")
        if rule_doc.effect is Effect.BLOCK and rule_doc.obligations:
            report((*loc, "obligations"), "a block rule has nothing to oblige")
        _check_never_matches(rule_doc, conditions, loc, report)
        rules.append(
            Rule(
                id=rule_doc.id,
                clause=rule_doc.clause,
                effect=rule_doc.effect,
                when=conditions,
                message=" ".join(rule_doc.message.split()),
                remedy=" ".join(rule_doc.remedy.split()),
                notice=notice,
                obligations=frozenset(rule_doc.obligations),
                order=index,
                ref=RuleRef(rule_doc.id, rule_doc.clause, rule_doc.effect),
                request_part=dataclasses.replace(
                    conditions, size_over=None, file_types=None, findings=None
                ),
            )
        )

    if problems:
        raise SourceError(problems)
    request_rules = tuple(r for r in rules if not r.when.is_content)
    content_rules = tuple(r for r in rules if r.when.is_content)
    return Regime(
        id=doc.regime.id,
        name=doc.regime.name,
        in_force_from=doc.regime.in_force_from,
        source_file=located.file,
        version="",
        timezone=zone,
        working_hours=hours,
        derived_qualifications=derived,
        request_rules=request_rules,
        content_rules=content_rules,
        request_index=RuleIndex.of(request_rules),
        content_index=RuleIndex.of(content_rules),
        default_clause=doc.default.clause,
        default_message=" ".join(doc.default.message.split()),
        default_remedy=" ".join(doc.default.remedy.split()),
        connect_ports=frozenset(doc.gateway.connect_ports),
        tls=TlsSettings(
            never_decrypt=_expand_categories(
                doc.gateway.never_decrypt, ("gateway", "never_decrypt"), report,
                known_categories, groups,
            ),
            splice_domains=tuple(doc.gateway.splice_domains),
            upload_window=parse_size(doc.gateway.upload_window),
            past_window_blocks=doc.gateway.past_window == "block",
        ),
        roles=roles,
        qualification_titles={k: v.title for k, v in quals.items()},
    )


def _expand_categories(
    names: list[str],
    loc: tuple[str | int, ...],
    report: Any,
    known_categories: frozenset[str],
    groups: dict[str, frozenset[str]],
) -> frozenset[str]:
    """Category names and groups → the set of categories; an unknown name is reported."""
    out: set[str] = set()
    for i, name in enumerate(names):
        if name in groups:
            out |= groups[name]
        elif name in known_categories:
            out.add(name)
        else:
            report(
                (*loc, i),
                f"unknown category '{name}'{_suggest(name, known_categories | set(groups))}",
            )
    return frozenset(out)


def _compile_conditions(
    doc: ConditionsDoc,
    loc: tuple[str | int, ...],
    report: Any,
    known_categories: frozenset[str],
    groups: dict[str, frozenset[str]],
    roles: dict[str, str],
    quals: set[str],
    has_hours: bool,
) -> Conditions:
    for field_name in ConditionsDoc.model_fields:
        value = getattr(doc, field_name)
        if isinstance(value, list) and not value:
            report((*loc, field_name), f"{field_name}: an empty list can never match")

    def cats(field_name: str, names: list[str] | None) -> frozenset[str] | None:
        if names is None:
            return None
        return _expand_categories(names, (*loc, field_name), report, known_categories, groups)

    def names(field_name: str, values: list[str] | None, known: set[str] | dict[str, str],
              what: str) -> frozenset[str] | None:
        if values is None:
            return None
        for i, value in enumerate(values):
            if value not in known:
                report((*loc, field_name, i),
                       f"unknown {what} '{value}'{_suggest(value, set(known))} "
                       f"(declare it under vocabulary:)")
        return frozenset(values)

    if doc.working_hours is not None and not has_hours:
        report((*loc, "working_hours"), "working_hours: used, but the policy defines no "
               "working_hours: section")
    file_types = None
    if doc.file_types is not None:
        for i, ft in enumerate(doc.file_types):
            if ft not in FILE_TYPES:
                report((*loc, "file_types", i),
                       f"unknown file type '{ft}' (one of {', '.join(sorted(FILE_TYPES))})")
        file_types = frozenset(doc.file_types)

    def hosts(values: list[str] | None) -> tuple[str, ...] | None:
        return None if values is None else tuple(v.lower().rstrip(".") for v in values)

    return Conditions(
        authenticated=doc.authenticated,
        person_kinds=None if doc.person_kinds is None else frozenset(doc.person_kinds),
        units=None if doc.units is None else frozenset(doc.units),
        roles=names("roles", doc.roles, roles, "role"),
        not_roles=names("not_roles", doc.not_roles, roles, "role"),
        qualified=names("qualified", doc.qualified, quals, "qualification"),
        unqualified=names("unqualified", doc.unqualified, quals, "qualification"),
        device_classes=None if doc.device_classes is None else frozenset(doc.device_classes),
        device_authorised=doc.device_authorised,
        syops_signed=doc.syops_signed,
        categories=cats("categories", doc.categories),
        not_categories=cats("not_categories", doc.not_categories),
        domains=hosts(doc.domains),
        not_domains=hosts(doc.not_domains),
        url_prefixes=None if doc.url_prefixes is None else tuple(doc.url_prefixes),
        schemes=None if doc.schemes is None else frozenset(doc.schemes),
        ports=None if doc.ports is None else frozenset(doc.ports),
        methods=None if doc.methods is None else frozenset(doc.methods),
        working_hours=doc.working_hours,
        file_types=file_types,
        size_over=None if doc.size_over is None else parse_size(doc.size_over),
        findings=None if doc.findings is None else frozenset(doc.findings),
    )


def _check_never_matches(
    rule: RuleDoc, c: Conditions, loc: tuple[str | int, ...], report: Any
) -> None:
    """Conditions that contradict each other make a rule dead; say so rather than load it."""
    rid = rule.id
    person_tests = [name for name in _PERSON_CONDITIONS if getattr(c, name) is not None]
    if c.authenticated is False and person_tests:
        report(loc, f"rule '{rid}' can never match: it tests the person "
               f"({', '.join(person_tests)}) but also requires nobody to be authenticated")
    if c.categories and c.not_categories and c.categories <= c.not_categories:
        report(loc, f"rule '{rid}' can never match: every category it names is also excluded")
    if c.roles and c.not_roles and c.roles <= c.not_roles:
        report(loc, f"rule '{rid}' can never match: every role it names is also excluded")
    if c.qualified and c.unqualified and c.unqualified <= c.qualified:
        report(loc, f"rule '{rid}' can never match: it requires qualifications it also "
               "requires to be missing")
    if c.domains and c.not_domains and all(
        any(d == n or d.endswith("." + n) for n in c.not_domains) for d in c.domains
    ):
        report(loc, f"rule '{rid}' can never match: every domain it names is excluded")
    if c.device_classes == frozenset({DeviceClass.UNREGISTERED}) and (
        c.device_authorised or c.syops_signed
    ):
        report(loc, f"rule '{rid}' can never match: an unregistered device has no "
               "authorisation or signed SyOPs")
    if c.methods == frozenset({"CONNECT"}) and (c.url_prefixes or c.is_content):
        report(loc, f"rule '{rid}' can never match: a CONNECT tunnel has no path or body the "
               "gateway can see")
    if c.schemes == frozenset({"http"}) and c.methods == frozenset({"CONNECT"}):
        report(loc, f"rule '{rid}' can never match: CONNECT is never plain http")
    if c.is_content and rule.effect is Effect.NOTICE:
        report(loc, f"rule '{rid}': a notice must be shown before the request, so it cannot "
               "test file types, sizes or findings")


def _suggest(name: str, known: set[str] | frozenset[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def content_hash(*chunks: bytes) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(len(chunk).to_bytes(8, "big"))
        digest.update(chunk)
    return digest.hexdigest()[:16]
