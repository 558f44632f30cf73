"""The outcome of `decide`: effect, the rules behind it and what must happen next."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Effect(StrEnum):
    ALLOW = "allow"
    BLOCK = "block"
    NOTICE = "notice"


class Obligation(StrEnum):
    """What an allowed transaction must undergo. Allow with obligations is the policy's
    allow-with-obligations effect."""

    INSPECT_UPLOADS = "inspect-uploads"
    INSPECT_DOWNLOADS = "inspect-downloads"
    NEVER_DECRYPT = "never-decrypt"
    STRIP_IDENTIFYING_HEADERS = "strip-identifying-headers"
    LOG_METADATA_ONLY = "log-metadata-only"


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A rule that took part in a decision, with the guidance clause it enforces."""

    rule_id: str
    clause: str
    effect: Effect


@dataclass(frozen=True, slots=True)
class NoticeText:
    """The notice a person must accept (G6) and how long an acceptance lasts."""

    id: str
    title: str
    text: str
    scope: str  # "category" or "site"
    remember_seconds: int


@dataclass(frozen=True, slots=True)
class Decision:
    """One decision. `rules` lists the deciding rules, the first being the one that
    speaks to the person (its message and remedy); `policy_version` is the content hash
    of the policy that decided."""

    id: str
    effect: Effect
    rules: tuple[RuleRef, ...]
    obligations: frozenset[Obligation]
    categories: frozenset[str]
    policy_version: str
    regime: str
    message: str = ""
    remedy: str = ""
    notice: NoticeText | None = None
    notice_scope: str = ""
    grants_used: tuple[str, ...] = ()
    consents_used: tuple[str, ...] = ()
    max_body_bytes: int | None = None

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r.rule_id for r in self.rules)

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOW
