"""Who is asking and from which device: the identity facts a rule can test."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class PersonKind(StrEnum):
    OFFICER = "officer"
    STAFF = "staff"
    CONTRACTOR = "contractor"
    VOLUNTEER = "volunteer"


class DeviceClass(StrEnum):
    """Device classes of REQUIREMENTS W1 that reach the gateway."""

    WORKSTATION = "workstation"
    LAPTOP = "laptop"
    SMARTPHONE = "smartphone"
    OVERT_STANDALONE = "overt-standalone"
    COVERT_STANDALONE = "covert-standalone"
    UNREGISTERED = "unregistered"


@dataclass(frozen=True, slots=True)
class Qualification:
    """A course or package a person completed; `expires` None means it does not lapse."""

    name: str
    completed: date
    expires: date | None = None

    def valid_on(self, day: date) -> bool:
        return self.completed <= day and (self.expires is None or day < self.expires)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated person."""

    id: str
    kind: PersonKind
    unit: str
    name: str = ""
    roles: frozenset[str] = frozenset()
    qualifications: tuple[Qualification, ...] = ()
    line_manager: str | None = None

    def qualification_names_on(self, day: date) -> frozenset[str]:
        return frozenset(q.name for q in self.qualifications if q.valid_on(day))


@dataclass(frozen=True, slots=True)
class Device:
    """A registered device, or the stand-in for an address nobody registered.

    `authorised_by` is the unit commander's authorisation for a standalone connection (W2);
    `syops_signed` the people who signed the device's security operating procedures.
    """

    id: str
    device_class: DeviceClass
    unit: str = ""
    owner: str | None = None
    authorised_by: str | None = None
    syops_signed: frozenset[str] = field(default_factory=frozenset)


UNREGISTERED_DEVICE = Device(id="unregistered", device_class=DeviceClass.UNREGISTERED)
