"""The compiled, immutable form of a policy that `decide` reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from webwarden.model.decision import Effect, NoticeText, Obligation, RuleRef
from webwarden.model.people import DeviceClass, PersonKind

DEFAULT_DENY = "default-deny"


@dataclass(frozen=True, slots=True)
class Conditions:
    """Compiled `when:` block. None means "not tested"; sets mean "any of"."""

    authenticated: bool | None = None
    person_kinds: frozenset[PersonKind] | None = None
    units: frozenset[str] | None = None
    roles: frozenset[str] | None = None
    not_roles: frozenset[str] | None = None
    qualified: frozenset[str] | None = None
    unqualified: frozenset[str] | None = None
    device_classes: frozenset[DeviceClass] | None = None
    device_authorised: bool | None = None
    syops_signed: bool | None = None
    categories: frozenset[str] | None = None
    not_categories: frozenset[str] | None = None
    domains: tuple[str, ...] | None = None
    not_domains: tuple[str, ...] | None = None
    url_prefixes: tuple[str, ...] | None = None
    schemes: frozenset[str] | None = None
    ports: frozenset[int] | None = None
    methods: frozenset[str] | None = None
    working_hours: bool | None = None
    file_types: frozenset[str] | None = None
    size_over: int | None = None
    findings: frozenset[str] | None = None

    @property
    def is_content(self) -> bool:
        """A rule that tests the body can only be decided in the content phase."""
        return (
            self.file_types is not None or self.size_over is not None or self.findings is not None
        )

    @property
    def only_size(self) -> bool:
        return self.size_over is not None and self.file_types is None and self.findings is None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    clause: str
    effect: Effect
    when: Conditions
    message: str
    remedy: str
    notice: NoticeText | None
    obligations: frozenset[Obligation]
    order: int
    ref: RuleRef  # made once here rather than once per decision
    request_part: Conditions  # `when` without its content conditions (for download limits)


@dataclass(frozen=True, slots=True)
class RuleIndex:
    """Rules by the categories they require, so a request only evaluates the rules that
    could match it: most requests are to uncategorised hosts, and most rules name
    categories."""

    always: tuple[Rule, ...]
    by_category: dict[str, tuple[Rule, ...]]

    @classmethod
    def of(cls, rules: tuple[Rule, ...]) -> RuleIndex:
        always = tuple(r for r in rules if r.when.categories is None)
        by_category: dict[str, list[Rule]] = {}
        for rule in rules:
            for category in rule.when.categories or ():
                by_category.setdefault(category, []).append(rule)
        return cls(always, {k: tuple(v) for k, v in by_category.items()})

    def candidates(self, categories: frozenset[str]) -> tuple[Rule, ...] | list[Rule]:
        """The rules that could match, in document order."""
        extra: dict[int, Rule] = {}
        for category in categories:
            for rule in self.by_category.get(category, ()):
                extra[rule.order] = rule
        if not extra:
            return self.always
        for rule in self.always:
            extra[rule.order] = rule
        return [extra[order] for order in sorted(extra)]


@dataclass(frozen=True, slots=True)
class WorkingHours:
    days: frozenset[int]  # Monday is 0
    start: time
    end: time

    def contains(self, local: datetime) -> bool:
        if local.weekday() not in self.days:
            return False
        now = local.time()
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end  # a shift across midnight


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """What the regime says about HTTPS and uploads beyond its rules (policy `gateway:`).
    `never_decrypt`: categories whose sessions are spliced, never read (groups expanded).
    `splice_domains`: domains, with their sub-domains, always spliced. `upload_window`:
    bytes of a request body the detectors read; `past_window_blocks`: whether a body
    larger than that is refused (True) or sent on with the rest unread (False)."""

    never_decrypt: frozenset[str] = frozenset({"bank", "financial"})
    splice_domains: tuple[str, ...] = ()
    upload_window: int = 1024 * 1024
    past_window_blocks: bool = True

    def splices_domain(self, host: str) -> bool:
        return any(host == d or host.endswith("." + d) for d in self.splice_domains)


DEFAULT_TLS = TlsSettings()


@dataclass(frozen=True, slots=True)
class Regime:
    """One policy document: a regime in force from a date (G9)."""

    id: str
    name: str
    in_force_from: date
    source_file: str
    version: str
    timezone: ZoneInfo
    working_hours: WorkingHours | None
    derived_qualifications: dict[str, frozenset[str]]
    request_rules: tuple[Rule, ...]
    content_rules: tuple[Rule, ...]
    default_clause: str
    default_message: str
    default_remedy: str
    connect_ports: frozenset[int]
    tls: TlsSettings
    roles: dict[str, str]
    qualification_titles: dict[str, str]
    request_index: RuleIndex
    content_index: RuleIndex

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(sorted(self.request_rules + self.content_rules, key=lambda r: r.order))


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Every loaded regime, oldest first. `version` hashes all of them."""

    regimes: tuple[Regime, ...]
    version: str

    def in_force(self, at: datetime) -> Regime | None:
        """The newest regime whose date has come, judged in that regime's own time zone."""
        chosen: Regime | None = None
        for regime in self.regimes:
            if at.astimezone(regime.timezone).date() >= regime.in_force_from:
                chosen = regime
        return chosen

    def current_connect_ports(self, at: datetime) -> frozenset[int]:
        regime = self.in_force(at)
        return regime.connect_ports if regime else frozenset({443})

    def current_tls(self, at: datetime) -> TlsSettings:
        regime = self.in_force(at)
        return regime.tls if regime else DEFAULT_TLS
