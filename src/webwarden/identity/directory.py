"""The directory of people and devices, from a validated YAML or CSV file, until the
portal's database holds them. Loading is all or nothing: every problem is reported with its
line and nothing is loaded."""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from webwarden.identity.passwords import is_password_hash
from webwarden.model.people import (
    UNREGISTERED_DEVICE,
    Device,
    DeviceClass,
    PersonKind,
    Principal,
    Qualification,
)
from webwarden.sources import Located, Problem, SourceError, load_yaml

DirectoryError = SourceError
Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$", max_length=64)]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class QualificationEntry(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
    completed: date
    expires: date | None = None


class PersonEntry(_Strict):
    id: Ident
    name: str = ""
    kind: PersonKind
    unit: str = Field(min_length=1)
    roles: list[str] = []
    line_manager: Ident | None = None
    password: str
    qualifications: list[QualificationEntry] = []

    @field_validator("password")
    @classmethod
    def _hashed(cls, value: str) -> str:
        if not is_password_hash(value):
            raise ValueError(
                "must be a password hash (scrypt$…); make one with "
                "`webwarden directory hash-password`. Plain passwords are never stored"
            )
        return value


class DeviceEntry(_Strict):
    id: Ident
    device_class: DeviceClass = Field(alias="class")
    unit: str = ""
    addresses: list[str] = Field(min_length=1)
    owner: Ident | None = None
    authorised_by: Ident | None = None
    syops_signed: list[Ident] = []

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=True)
            except ValueError as exc:
                raise ValueError(f"'{value}' is not an address or network: {exc}") from exc
        return values


class DirectoryDoc(_Strict):
    people: list[PersonEntry] = []
    devices: list[DeviceEntry] = []


@dataclass(frozen=True, slots=True)
class Directory:
    """People by id and devices by client address (most specific network wins)."""

    people: dict[str, Principal]
    password_hashes: dict[str, str]
    devices: dict[str, Device]
    exact: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, Device]
    networks: tuple[tuple[Network, Device], ...]
    version: str
    source: str

    def person(self, person_id: str) -> Principal | None:
        return self.people.get(person_id)

    def device_for_address(self, address: str) -> Device:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return UNREGISTERED_DEVICE
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        device = self.exact.get(ip)
        if device is not None:
            return device
        for network, candidate in self.networks:
            if ip.version == network.version and ip in network:
                return candidate
        return UNREGISTERED_DEVICE


def load_directory(path: Path) -> Directory:
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DirectoryError([Problem(str(path), None, f"cannot read: {exc}")]) from exc
    if path.suffix.lower() == ".csv":
        located = _csv_to_located(text, str(path))
    else:
        located = load_yaml(text, str(path))
    return build_directory(located, hashlib.sha256(raw).hexdigest()[:16])


def build_directory(located: Located, version: str) -> Directory:
    if not isinstance(located.data, dict):
        raise DirectoryError([located.problem((), "a directory has people: and devices:")])
    try:
        doc = DirectoryDoc.model_validate(located.data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            path = ".".join(str(p) for p in loc)
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            errors.append(located.problem(loc, f"{path}: {msg}"))
        raise DirectoryError(errors) from exc
    problems: list[Problem] = []
    people: dict[str, Principal] = {}
    hashes: dict[str, str] = {}
    for i, entry in enumerate(doc.people):
        if entry.id in people:
            problems.append(located.problem(("people", i, "id"), f"duplicate person '{entry.id}'"))
        people[entry.id] = Principal(
            id=entry.id,
            kind=entry.kind,
            unit=entry.unit,
            name=entry.name,
            roles=frozenset(entry.roles),
            qualifications=tuple(
                Qualification(q.name, q.completed, q.expires) for q in entry.qualifications
            ),
            line_manager=entry.line_manager,
        )
        hashes[entry.id] = entry.password
        for j, q in enumerate(entry.qualifications):
            if q.expires is not None and q.expires <= q.completed:
                problems.append(located.problem(("people", i, "qualifications", j),
                                                f"qualification '{q.name}' expires before it "
                                                "was completed"))
    for i, entry in enumerate(doc.people):
        if entry.line_manager is not None and entry.line_manager not in people:
            problems.append(located.problem(("people", i, "line_manager"),
                                            f"unknown line manager '{entry.line_manager}'"))
        if entry.line_manager == entry.id:
            problems.append(located.problem(("people", i, "line_manager"),
                                            "a person cannot be their own line manager"))
    devices: dict[str, Device] = {}
    exact: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, Device] = {}
    nets: list[tuple[Network, Device]] = []
    claimed: dict[Network, str] = {}
    for i, d in enumerate(doc.devices):
        if d.id in devices or d.id == UNREGISTERED_DEVICE.id:
            problems.append(located.problem(("devices", i, "id"), f"duplicate device '{d.id}'"))
        if d.device_class is DeviceClass.UNREGISTERED:
            problems.append(located.problem(("devices", i, "class"),
                                            "'unregistered' is for unknown addresses, not a "
                                            "class to register"))
        for field_name in ("owner", "authorised_by"):
            who = getattr(d, field_name)
            if who is not None and who not in people:
                problems.append(located.problem(("devices", i, field_name),
                                                f"unknown person '{who}'"))
        for j, who in enumerate(d.syops_signed):
            if who not in people:
                problems.append(located.problem(("devices", i, "syops_signed", j),
                                                f"unknown person '{who}'"))
        device = Device(
            id=d.id,
            device_class=d.device_class,
            unit=d.unit,
            owner=d.owner,
            authorised_by=d.authorised_by,
            syops_signed=frozenset(d.syops_signed),
        )
        devices[d.id] = device
        for j, text in enumerate(d.addresses):
            net = ipaddress.ip_network(text)
            if net in claimed:
                problems.append(located.problem(("devices", i, "addresses", j),
                                                f"{text} is already registered to device "
                                                f"'{claimed[net]}'"))
                continue
            claimed[net] = d.id
            if net.num_addresses == 1:
                exact[net.network_address] = device
            else:
                nets.append((net, device))
    if problems:
        raise DirectoryError(problems)
    nets.sort(key=lambda item: item[0].prefixlen, reverse=True)
    return Directory(
        people=people,
        password_hashes=hashes,
        devices=devices,
        exact=exact,
        networks=tuple(nets),
        version=version,
        source=located.file,
    )


_LIST_FIELDS = {"roles", "addresses", "syops_signed"}


def _csv_to_located(text: str, file: str) -> Located:
    """CSV form: one row per person or device, told apart by the `record` column. Lists are
    separated by `;`; qualifications are `name:completed[:expires]`."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "record" not in reader.fieldnames:
        raise DirectoryError([Problem(file, 1, "the CSV header needs a 'record' column "
                                      "(person or device)")])
    data: dict[str, list[dict[str, Any]]] = {"people": [], "devices": []}
    lines: dict[tuple[str | int, ...], int] = {(): 1}
    problems: list[Problem] = []
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(Problem(file, line, "more fields than the header has"))
            continue
        kind = (row.pop("record") or "").strip()
        entry: dict[str, Any] = {}
        for key, cell in row.items():
            value = (cell or "").strip()
            if not value:
                continue
            if key in _LIST_FIELDS:
                entry[key] = [v.strip() for v in value.split(";") if v.strip()]
            elif key == "qualifications":
                quals = []
                for item in value.split(";"):
                    parts = item.strip().split(":")
                    q: dict[str, Any] = {"name": parts[0]}
                    if len(parts) > 1:
                        q["completed"] = parts[1]
                    if len(parts) > 2:
                        q["expires"] = parts[2]
                    quals.append(q)
                entry[key] = quals
            else:
                entry[key] = value
        if kind == "person":
            section = "people"
        elif kind == "device":
            section = "devices"
        else:
            problems.append(Problem(file, line, f"record must be 'person' or 'device', not "
                                    f"'{kind}'"))
            continue
        index = len(data[section])
        data[section].append(entry)
        lines[(section, index)] = line
        for key in entry:
            lines[(section, index, key)] = line
    if problems:
        raise DirectoryError(problems)
    return Located(file=file, data=data, lines=lines)
