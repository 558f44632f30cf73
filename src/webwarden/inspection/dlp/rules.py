"""What the DLP detectors look for in one organisation: its e-mail domains, its own reference
formats, its logos, and which detectors are on. Configuration, validated once; the detectors
only read it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from webwarden.model.finding import (
    DLP_KINDS,
    ORGANISATION_EMAIL,
    REFERENCE_PREFIX,
)

# The switch for the organisation's configured reference formats (each reports its own kind,
# `reference-<name>`); every other switch is named after the kind its detector reports.
REFERENCES: Final = "references"
DETECTORS: Final[tuple[str, ...]] = (*DLP_KINDS, REFERENCES)
# phash with the default 8x8 size: 64 bits, so a distance is out of 64. Ten bits apart still
# catches a logo that was resized and saved again as JPEG, and stays far from unrelated images.
LOGO_HASH_BITS: Final = 64
DEFAULT_LOGO_MAX_DISTANCE: Final = 10

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_HEX_HASH = re.compile(r"[0-9a-fA-F]{16}")
_KEYS: Final = (
    "organisation",
    "email-domains",
    "references",
    "logos",
    "logo-max-distance",
    "detectors",
)


@dataclass(frozen=True, slots=True)
class ReferenceFormat:
    """One of the organisation's own reference formats (crime numbers, CAD, CRIS, PNC ids):
    a lower-case slug name and the regular expression that finds it."""

    name: str
    pattern: re.Pattern[str]

    @property
    def kind(self) -> str:
        return REFERENCE_PREFIX + self.name


@dataclass(frozen=True, slots=True)
class LogoHash:
    """A logo to find in uploaded images: a name and its 64-bit perceptual hash
    (see `logo_hash`)."""

    name: str
    value: int


@dataclass(frozen=True, slots=True)
class DlpRules:
    """The DLP configuration of one organisation. Build it with `default()`,
    `from_mapping(...)` (configuration files), or directly; every way validates."""

    organisation: str
    email_domains: tuple[str, ...]
    references: tuple[ReferenceFormat, ...] = ()
    logos: tuple[LogoHash, ...] = ()
    logo_max_distance: int = DEFAULT_LOGO_MAX_DISTANCE
    detectors: frozenset[str] = field(default_factory=lambda: frozenset(DETECTORS))

    def __post_init__(self) -> None:
        problems = _check(self)
        if problems:
            raise ValueError("invalid DLP rules: " + "; ".join(problems))

    def enabled(self, detector: str) -> bool:
        """Whether the detector of that name (a kind, or `references`) is on."""
        return detector in self.detectors

    @classmethod
    def default(cls) -> DlpRules:
        """The shipped rules: the Metropolitan Police Service, its two e-mail domains, every
        shipped detector on, no logos and no reference formats (those are the force's own)."""
        return cls(
            organisation="Metropolitan Police Service",
            email_domains=("met.police.uk", "met.pnn.police.uk"),
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DlpRules:
        """Rules from configuration written in YAML or JSON:

            organisation: Metropolitan Police Service
            email-domains: [met.police.uk, met.pnn.police.uk]
            references: {cris: '\\b\\d{7}/\\d{2}\\b'}
            logos: {met-crest: c3a5964e1b1e0f3c}
            logo-max-distance: 10
            detectors: [protective-marking, vetting-level, ...]   # omitted: all on

        Every mistake is reported, each with its key, in one ValueError."""
        if not isinstance(data, Mapping):
            raise ValueError(f"the DLP rules must be a mapping, not {type(data).__name__}")
        problems = [
            f"unknown key {key!r} (expected one of: {', '.join(_KEYS)})"
            for key in data
            if key not in _KEYS
        ]
        organisation = data.get("organisation")
        if not isinstance(organisation, str) or not organisation.strip():
            problems.append("organisation: must be the organisation's name (non-empty text)")
            organisation = "?"
        domains = _strings(data.get("email-domains", []), "email-domains", problems)
        references = _references(data.get("references", {}), problems)
        logos = _logos(data.get("logos", {}), problems)
        distance = data.get("logo-max-distance", DEFAULT_LOGO_MAX_DISTANCE)
        if isinstance(distance, bool) or not isinstance(distance, int):
            problems.append(f"logo-max-distance: must be a whole number, not {distance!r}")
            distance = DEFAULT_LOGO_MAX_DISTANCE
        detectors = (
            _strings(data["detectors"], "detectors", problems)
            if "detectors" in data
            else DETECTORS
        )
        if problems:
            raise ValueError("; ".join(problems))
        return cls(
            organisation=organisation.strip(),
            email_domains=tuple(d.strip().lower() for d in domains),
            references=references,
            logos=logos,
            logo_max_distance=distance,
            detectors=frozenset(detectors),
        )


def reference_format(name: str, regex: str) -> ReferenceFormat:
    """A checked reference format: the name must be a lower-case slug ("cris", "cad-number")
    and the regex must compile and must not match empty text."""
    if not isinstance(name, str) or not _SLUG.fullmatch(name):
        raise ValueError(f"reference name {name!r} must be a lower-case slug such as 'cris'")
    if not isinstance(regex, str) or not regex:
        raise ValueError(f"reference {name!r}: the format must be a non-empty regular expression")
    try:
        pattern = re.compile(regex)
    except re.error as exc:
        raise ValueError(f"reference {name!r}: bad regular expression {regex!r}: {exc}") from None
    if pattern.search("") is not None:
        # It would "find" a reference at every position of every text.
        raise ValueError(f"reference {name!r}: the regular expression {regex!r} matches empty text")
    return ReferenceFormat(name, pattern)


def parse_logo_hash(value: object) -> int:
    """A logo hash as written in configuration: 16 hexadecimal digits (what `logo_hash`
    gives, formatted with `format(h, '016x')`), or the integer itself."""
    if isinstance(value, str) and _HEX_HASH.fullmatch(value.strip()):
        return int(value.strip(), 16)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 64:
        return value
    raise ValueError(f"{value!r} is not a logo hash (16 hexadecimal digits)")


def _check(rules: DlpRules) -> list[str]:
    problems: list[str] = []
    if not isinstance(rules.organisation, str) or not rules.organisation.strip():
        problems.append("organisation: must be the organisation's name")
    for domain in rules.email_domains:
        if not isinstance(domain, str) or not _DOMAIN.fullmatch(domain):
            problems.append(
                f"email-domains: {domain!r} is not a lower-case domain name such as "
                "'met.police.uk' (no '@', no scheme)"
            )
    if ORGANISATION_EMAIL in rules.detectors and not rules.email_domains:
        problems.append("email-domains: at least one is needed while organisation-email is on")
    names = [r.name for r in rules.references]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"references: {name!r} is given twice")
    for logo in rules.logos:
        if not _SLUG.fullmatch(logo.name):
            problems.append(f"logos: name {logo.name!r} must be a lower-case slug")
        if not 0 <= logo.value < 1 << LOGO_HASH_BITS:
            problems.append(f"logos: {logo.name!r} hash is not a 64-bit value")
    if isinstance(rules.logo_max_distance, bool) or not (
        isinstance(rules.logo_max_distance, int) and 0 <= rules.logo_max_distance <= 32
    ):
        problems.append(
            f"logo-max-distance: {rules.logo_max_distance!r} must be a whole number from 0 to "
            "32 (bits of 64 that may differ)"
        )
    unknown = sorted(set(rules.detectors) - set(DETECTORS))
    if unknown:
        problems.append(
            f"detectors: unknown {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(DETECTORS)})"
        )
    return problems


def _strings(value: Any, key: str, problems: list[str]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable) or isinstance(value, Mapping):
        problems.append(f"{key}: must be a list of text, not {value!r}")
        return ()
    items = list(value)
    bad = [item for item in items if not isinstance(item, str)]
    if bad:
        problems.append(f"{key}: every entry must be text; not {', '.join(map(repr, bad))}")
        return ()
    return tuple(items)


def _references(value: Any, problems: list[str]) -> tuple[ReferenceFormat, ...]:
    if not isinstance(value, Mapping):
        problems.append(
            f"references: must be a mapping of name to regular expression, not {value!r}"
        )
        return ()
    found: list[ReferenceFormat] = []
    for name, regex in value.items():
        try:
            found.append(reference_format(name, regex))
        except ValueError as exc:
            problems.append(f"references.{name}: {exc}")
    return tuple(found)


def _logos(value: Any, problems: list[str]) -> tuple[LogoHash, ...]:
    if not isinstance(value, Mapping):
        problems.append(f"logos: must be a mapping of name to hash, not {value!r}")
        return ()
    found: list[LogoHash] = []
    for name, written in value.items():
        if not isinstance(name, str) or not _SLUG.fullmatch(name):
            problems.append(f"logos.{name}: the name must be a lower-case slug")
            continue
        try:
            found.append(LogoHash(name, parse_logo_hash(written)))
        except ValueError as exc:
            problems.append(f"logos.{name}: {exc}")
    return tuple(found)
