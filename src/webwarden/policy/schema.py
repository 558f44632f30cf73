"""The policy document as typed, validated data (the policy language, see
docs/policy-language.md). Structure and types only; cross-references are checked in
`webwarden.policy.check`."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from webwarden.model.decision import Effect, Obligation
from webwarden.model.people import DeviceClass, PersonKind

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=80)]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?\s*$")
_SIZE_UNITS = {
    None: 1,
    "B": 1,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_size(value: str | int) -> int:
    """'100MB' → 100000000; a bare number is bytes."""
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return value
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"'{value}' is not a size: write e.g. 500KB, 100MB, 2GiB")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])


def parse_duration(value: str | int) -> int:
    """'30d' → seconds; a bare number is seconds."""
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("a duration must be positive")
        return value
    match = _DURATION.match(value)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"'{value}' is not a duration: write e.g. 8h, 30d, 2w")
    return int(match.group(1)) * _DURATION_UNITS[match.group(2)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class RegimeDoc(Strict):
    id: Name
    name: str = Field(min_length=1)
    in_force_from: date
    source: str = ""


class WorkingHoursDoc(Strict):
    days: list[Day] = Field(min_length=1)
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"'{value}' is not a time of day: write HH:MM, e.g. 08:00")
        return value


class QualificationDoc(Strict):
    title: str = Field(min_length=1)
    requires: list[Name] = []


class VocabularyDoc(Strict):
    roles: dict[Name, str] = {}
    qualifications: dict[Name, QualificationDoc] = {}


class NoticeDoc(Strict):
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)
    scope: Literal["category", "site"] = "category"
    remember: str | int = "30d"

    @field_validator("remember")
    @classmethod
    def _remember(cls, value: str | int) -> str | int:
        parse_duration(value)
        return value


DomainName = Annotated[
    str,
    Field(
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        max_length=253,
    ),
]


class GatewayDoc(Strict):
    connect_ports: list[Annotated[int, Field(ge=1, le=65535)]] = [443]
    # HTTPS (G6): categories (or groups) whose sessions are never decrypted, whatever a
    # rule says; and domains (with their sub-domains) always spliced, such as applications
    # that pin their certificates.
    never_decrypt: list[Name] = ["bank", "financial"]
    splice_domains: list[DomainName] = []
    # Uploads (G7): how much of a body the detectors read, and what happens past it.
    upload_window: str | int = "1MiB"
    past_window: Literal["allow", "block"] = "block"

    @field_validator("upload_window")
    @classmethod
    def _window(cls, value: str | int) -> str | int:
        size = parse_size(value)
        if not 1024 <= size <= 64 * 1024**2:
            raise ValueError("upload_window must be between 1KiB and 64MiB")
        return value


class DefaultDoc(Strict):
    clause: str = Field(min_length=1)
    message: str = Field(min_length=1)
    remedy: str = Field(min_length=1)


class ConditionsDoc(Strict):
    """Every condition named must hold; a list means any one of its values."""

    authenticated: bool | None = None
    person_kinds: list[PersonKind] | None = None
    units: list[str] | None = None
    roles: list[Name] | None = None
    not_roles: list[Name] | None = None
    qualified: list[Name] | None = None
    unqualified: list[Name] | None = None
    device_classes: list[DeviceClass] | None = None
    device_authorised: bool | None = None
    syops_signed: bool | None = None
    categories: list[Name] | None = None
    not_categories: list[Name] | None = None
    domains: list[str] | None = None
    not_domains: list[str] | None = None
    url_prefixes: list[str] | None = None
    schemes: list[Literal["http", "https"]] | None = None
    ports: list[Annotated[int, Field(ge=1, le=65535)]] | None = None
    methods: list[Annotated[str, Field(pattern=r"^[A-Z]+$")]] | None = None
    working_hours: bool | None = None
    # Content phase: these are only known once the body starts to arrive.
    file_types: list[Name] | None = None
    size_over: str | int | None = None
    findings: list[Name] | None = None

    @field_validator("size_over")
    @classmethod
    def _size(cls, value: str | int | None) -> str | int | None:
        if value is not None:
            parse_size(value)
        return value


class RuleDoc(Strict):
    id: Name
    clause: str = Field(min_length=1)
    effect: Effect
    description: str = ""
    when: ConditionsDoc = ConditionsDoc()
    message: str = ""
    remedy: str = ""
    notice: Name | None = None
    obligations: list[Obligation] = []

    @field_validator("when", mode="before")
    @classmethod
    def _empty_when(cls, value: object) -> object:
        # `when:` with nothing under it means the rule always applies.
        return {} if value is None else value


class PolicyDoc(Strict):
    regime: RegimeDoc
    timezone: str = "UTC"
    working_hours: WorkingHoursDoc | None = None
    vocabulary: VocabularyDoc = VocabularyDoc()
    category_groups: dict[Name, list[Name]] = {}
    notices: dict[Name, NoticeDoc] = {}
    gateway: GatewayDoc = GatewayDoc()
    default: DefaultDoc
    rules: list[RuleDoc] = Field(min_length=1)
