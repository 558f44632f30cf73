"""`decide`: the one entry point of the policy engine. Pure: no clock, no I/O.

Combining algorithm (docs/policy-language.md, "How a decision is made"):
1. Take the regime in force at `facts.at`; none in force → block.
2. Evaluate the rules of the phase (request or content) in document order.
3. Every matching block rule not lifted by an active grant that names it → block; the first
   such rule speaks to the person, all are recorded.
4. Else the first matching notice rule without a consent that covers it → notice.
5. Else matching allow rules (and notice rules already consented to) → allow, with the union
   of their obligations.
6. Else, in the request phase, default deny (unless a grant lifts `default-deny`); in the
   content phase, allow (the request was already allowed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from webwarden.model.decision import Decision, Effect, NoticeText, Obligation, RuleRef
from webwarden.model.people import Principal
from webwarden.model.request import (
    Consent,
    ConsentScopeKind,
    Facts,
    Grant,
    GrantScopeKind,
    Phase,
)
from webwarden.policy.compiled import DEFAULT_DENY, Conditions, PolicySet, Regime, Rule

NO_REGIME = "no-regime-in-force"


class _View:
    """The facts as the rules of one regime see them, with derived values computed once."""

    __slots__ = ("_hours", "_quals", "_url", "categories", "facts", "host", "regime")

    def __init__(self, regime: Regime, facts: Facts) -> None:
        self.regime = regime
        self.facts = facts
        dest = facts.destination
        self.categories = dest.categories | facts.extra_categories
        self.host = dest.host
        self._url: str | None = None
        self._quals: frozenset[str] | None = None
        self._hours: bool | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self.facts.destination.url
        return self._url

    @property
    def qualifications(self) -> frozenset[str]:
        if self._quals is None:
            principal = self.facts.principal
            self._quals = (
                _held(principal, self.facts.at, self.regime) if principal else frozenset()
            )
        return self._quals

    @property
    def in_working_hours(self) -> bool:
        if self._hours is None:
            hours = self.regime.working_hours
            local = self.facts.at.astimezone(self.regime.timezone)
            self._hours = hours is not None and hours.contains(local)
        return self._hours


def _held(principal: Principal, at: datetime, regime: Regime) -> frozenset[str]:
    """Qualifications valid on the day, plus those derived from them (Q1: Level 1 is the
    five NCALT packages)."""
    held = set(principal.qualification_names_on(at.astimezone(regime.timezone).date()))
    changed = True
    while changed:
        changed = False
        for name, needs in regime.derived_qualifications.items():
            if name not in held and needs <= held:
                held.add(name)
                changed = True
    return frozenset(held)


def _in_domains(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _matches(c: Conditions, v: _View) -> bool:
    f = v.facts
    p = f.principal
    if c.authenticated is not None and (p is not None) != c.authenticated:
        return False
    if c.device_classes is not None and f.device.device_class not in c.device_classes:
        return False
    if c.categories is not None and not (c.categories & v.categories):
        return False
    if c.not_categories is not None and c.not_categories & v.categories:
        return False
    if c.domains is not None and not _in_domains(v.host, c.domains):
        return False
    if c.not_domains is not None and _in_domains(v.host, c.not_domains):
        return False
    if c.methods is not None and f.method not in c.methods:
        return False
    if c.schemes is not None and f.destination.scheme not in c.schemes:
        return False
    if c.ports is not None and f.destination.port not in c.ports:
        return False
    if c.url_prefixes is not None and not _url_prefix_match(v, c.url_prefixes):
        return False
    if c.person_kinds is not None and (p is None or p.kind not in c.person_kinds):
        return False
    if c.units is not None and (p is None or p.unit not in c.units):
        return False
    if c.roles is not None and (p is None or not (p.roles & c.roles)):
        return False
    if c.not_roles is not None and p is not None and p.roles & c.not_roles:
        return False
    if c.qualified is not None and not c.qualified <= v.qualifications:
        return False
    if c.unqualified is not None and c.unqualified <= v.qualifications:
        return False
    if c.device_authorised is not None and (f.device.authorised_by is not None) != (
        c.device_authorised
    ):
        return False
    if c.syops_signed is not None:
        signed = p is not None and p.id in f.device.syops_signed
        if signed != c.syops_signed:
            return False
    if c.working_hours is not None and v.in_working_hours != c.working_hours:
        return False
    return _content_matches(c, f)


def _content_matches(c: Conditions, f: Facts) -> bool:
    if not c.is_content:
        return True
    content = f.content
    if content is None:
        return False
    if c.file_types is not None and content.sniffed_type not in c.file_types:
        return False
    if c.size_over is not None and (content.size is None or content.size <= c.size_over):
        return False
    return c.findings is None or bool(c.findings & content.findings)


def _url_prefix_match(v: _View, prefixes: tuple[str, ...]) -> bool:
    dest = v.facts.destination
    bare = f"{dest.host}{dest.path}"
    return any(v.url.startswith(p) if "://" in p else bare.startswith(p) for p in prefixes)


def _grant_covers(grant: Grant, facts: Facts, categories: frozenset[str]) -> bool:
    """Is the grant active now, for this person, for this destination?"""
    if facts.at < grant.starts or (grant.ends is not None and facts.at >= grant.ends):
        return False
    p = facts.principal
    if p is None:
        return False
    if grant.person_id is not None and grant.person_id != p.id:
        return False
    if grant.unit is not None and grant.unit != p.unit:
        return False
    kind, scope = grant.scope_kind, grant.scope
    dest = facts.destination
    if kind is GrantScopeKind.DOMAIN:
        return _in_domains(dest.host, (scope,))
    if kind is GrantScopeKind.URL_PREFIX:
        return (dest.url if "://" in scope else f"{dest.host}{dest.path}").startswith(scope)
    if kind is GrantScopeKind.CATEGORY:
        return scope in categories
    # A file-type grant can only speak once the type is known.
    return facts.content is not None and facts.content.sniffed_type == scope


def _notice_scope(rule: Rule, notice: NoticeText, v: _View) -> str:
    if notice.scope == ConsentScopeKind.SITE.value:
        return v.host
    named = (rule.when.categories or frozenset()) & v.categories
    pool = named or v.categories
    return min(pool) if pool else v.host


def _consent_covers(consent: Consent, notice: NoticeText, scope: str, facts: Facts) -> bool:
    p = facts.principal
    if p is None or consent.person_id != p.id or consent.notice != notice.id:
        return False
    if not consent.accepted <= facts.at < consent.expires:
        return False
    if consent.scope_kind is ConsentScopeKind.SITE:
        return _in_domains(facts.destination.host, (consent.scope,))
    return consent.scope == scope


def _decision_id(facts: Facts, version: str) -> str:
    if facts.request_id:
        return facts.request_id
    d = facts.destination
    who = facts.principal.id if facts.principal else "-"
    key = f"{version}|{facts.at.isoformat()}|{who}|{facts.device.id}|{facts.method}|{d.url}"
    return hashlib.blake2b(key.encode(), digest_size=10).hexdigest()


def decide(policy: PolicySet, facts: Facts) -> Decision:
    regime = policy.in_force(facts.at)
    categories = facts.destination.categories | facts.extra_categories
    did = _decision_id(facts, policy.version)
    if regime is None:
        return Decision(
            id=did,
            effect=Effect.BLOCK,
            rules=(RuleRef(NO_REGIME, "G9", Effect.BLOCK),),
            obligations=frozenset(),
            categories=categories,
            policy_version=policy.version,
            regime="",
            message="No acceptable-use policy is in force at this time, so nothing is allowed.",
            remedy="Ask the gateway team to publish a policy regime that covers this date.",
        )
    view = _View(regime, facts)
    content = facts.phase is Phase.CONTENT
    index = regime.content_index if content else regime.request_index
    matched = [r for r in index.candidates(view.categories) if _matches(r.when, view)]
    active_grants = [g for g in facts.grants if _grant_covers(g, facts, view.categories)]

    def lifting(rule_id: str) -> Grant | None:
        for grant in active_grants:
            if rule_id in grant.lifts:
                return grant
        return None

    def build(
        effect: Effect,
        deciding: list[Rule],
        *,
        refs: tuple[RuleRef, ...] | None = None,
        message: str | None = None,
        remedy: str | None = None,
        notice: NoticeText | None = None,
        notice_scope: str = "",
        grants: tuple[str, ...] = (),
        consents: tuple[str, ...] = (),
        limit: int | None = None,
    ) -> Decision:
        first = deciding[0] if deciding else None
        obligations: frozenset[Obligation] = frozenset()
        if effect is not Effect.BLOCK:
            obligations = frozenset(o for r in deciding for o in r.obligations)
        return Decision(
            id=did,
            effect=effect,
            rules=refs if refs is not None else tuple(r.ref for r in deciding),
            obligations=obligations,
            categories=view.categories,
            policy_version=policy.version,
            regime=regime.id,
            message=message if message is not None else (first.message if first else ""),
            remedy=remedy if remedy is not None else (first.remedy if first else ""),
            notice=notice,
            notice_scope=notice_scope,
            grants_used=grants,
            consents_used=consents,
            max_body_bytes=limit,
        )

    grants_used: list[str] = []
    blocks: list[Rule] = []
    for rule in matched:
        if rule.effect is Effect.BLOCK:
            grant = lifting(rule.id)
            if grant is None:
                blocks.append(rule)
            elif grant.id not in grants_used:
                grants_used.append(grant.id)
    if blocks:
        return build(Effect.BLOCK, blocks, grants=tuple(grants_used))

    allows: list[Rule] = []
    consents_used: list[str] = []
    for rule in matched:
        if rule.effect is Effect.NOTICE and rule.notice is not None:
            scope = _notice_scope(rule, rule.notice, view)
            consent = next(
                (c for c in facts.consents if _consent_covers(c, rule.notice, scope, facts)), None
            )
            if consent is None:
                return build(
                    Effect.NOTICE,
                    [rule],
                    notice=rule.notice,
                    notice_scope=scope,
                    grants=tuple(grants_used),
                )
            consents_used.append(f"{consent.notice}:{consent.scope_kind.value}:{consent.scope}")
            allows.append(rule)
        elif rule.effect is Effect.ALLOW:
            allows.append(rule)

    limit = None if content else _download_limit(regime, view, lifting)
    grants, consents = tuple(grants_used), tuple(consents_used)
    if allows or content:
        return build(Effect.ALLOW, allows, grants=grants, consents=consents, limit=limit)
    grant = lifting(DEFAULT_DENY)
    if grant is not None:
        return build(
            Effect.ALLOW,
            [],
            refs=(RuleRef(f"grant:{grant.id}", "G10", Effect.ALLOW),),
            message=f"Allowed by an approved exception ({grant.reason or grant.id}).",
            grants=(*grants, grant.id),
            limit=limit,
        )
    return build(
        Effect.BLOCK,
        [],
        refs=(RuleRef(DEFAULT_DENY, regime.default_clause, Effect.BLOCK),),
        message=regime.default_message,
        remedy=regime.default_remedy,
        grants=grants,
    )


def _download_limit(
    regime: Regime, view: _View, lifting: Callable[[str], Grant | None]
) -> int | None:
    """The smallest size limit that a content-phase size rule would apply to this request,
    so the gateway can enforce it on declared and counted bytes."""
    limit: int | None = None
    for rule in regime.content_rules:
        c = rule.when
        if rule.effect is not Effect.BLOCK or not c.only_size or c.size_over is None:
            continue
        if not _matches(rule.request_part, view):
            continue
        if lifting(rule.id) is not None:
            continue
        limit = c.size_over if limit is None else min(limit, c.size_over)
    return limit
