"""A decision in words, for people (`webwarden explain`) and as a plain mapping for
machines (`--json`). The block page and the audit record show the same facts."""

from __future__ import annotations

from typing import Any

from webwarden.model.decision import Decision, Effect
from webwarden.model.request import Facts

_VERDICT = {
    Effect.ALLOW: "ALLOWED",
    Effect.BLOCK: "BLOCKED",
    Effect.NOTICE: "NOTICE FIRST (the person must accept a notice)",
}


def as_mapping(decision: Decision, facts: Facts) -> dict[str, Any]:
    p = facts.principal
    return {
        "decision_id": decision.id,
        "effect": decision.effect.value,
        "url": facts.destination.url,
        "method": facts.method,
        "at": facts.at.isoformat(),
        "phase": facts.phase.value,
        "person": None if p is None else {"id": p.id, "kind": p.kind.value, "unit": p.unit},
        "device": {"id": facts.device.id, "class": facts.device.device_class.value},
        "categories": sorted(decision.categories),
        "rules": [
            {"id": r.rule_id, "clause": r.clause, "effect": r.effect.value}
            for r in decision.rules
        ],
        "message": decision.message,
        "remedy": decision.remedy,
        "obligations": sorted(o.value for o in decision.obligations),
        "notice": None
        if decision.notice is None
        else {
            "id": decision.notice.id,
            "title": decision.notice.title,
            "text": decision.notice.text,
            "scope": decision.notice_scope,
            "remember_seconds": decision.notice.remember_seconds,
        },
        "grants_used": list(decision.grants_used),
        "consents_used": list(decision.consents_used),
        "max_body_bytes": decision.max_body_bytes,
        "policy_version": decision.policy_version,
        "regime": decision.regime,
    }


def as_text(decision: Decision, facts: Facts) -> str:
    p = facts.principal
    who = (
        "nobody signed in"
        if p is None
        else f"{p.id} ({p.name or p.id}, {p.kind.value}, {p.unit})"
    )
    lines = [
        f"{_VERDICT[decision.effect]}: {facts.method} {facts.destination.url}",
        f"  person:      {who}",
        f"  device:      {facts.device.id} ({facts.device.device_class.value})",
        f"  time:        {facts.at.isoformat()}",
        f"  categories:  {', '.join(sorted(decision.categories)) or 'none'}",
    ]
    for i, rule in enumerate(decision.rules):
        label = "rule:" if i == 0 else "also:"
        lines.append(f"  {label:<12} {rule.rule_id} (clause {rule.clause}, {rule.effect.value})")
    if not decision.rules:
        lines.append("  rule:        none matched")
    if decision.message:
        lines.append(f"  why:         {decision.message}")
    if decision.remedy and decision.effect is not Effect.ALLOW:
        lines.append(f"  remedy:      {decision.remedy}")
    if decision.notice is not None:
        lines.append(f"  notice:      {decision.notice.title} (accept once for "
                     f"{decision.notice_scope}; remembered "
                     f"{decision.notice.remember_seconds // 86400} days)")
    if decision.obligations:
        lines.append(f"  obligations: {', '.join(sorted(o.value for o in decision.obligations))}")
    if decision.max_body_bytes is not None:
        lines.append(f"  downloads:   limited to {decision.max_body_bytes:,} bytes")
    if decision.grants_used:
        lines.append(f"  grants:      {', '.join(decision.grants_used)}")
    if decision.consents_used:
        lines.append(f"  consents:    {', '.join(decision.consents_used)}")
    lines.append(f"  decision:    {decision.id} (policy {decision.policy_version}, regime "
                 f"{decision.regime or 'none'})")
    return "\n".join(lines)
