"""The directory file: validated, YAML or CSV; addresses map to devices."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DEMO_DIRECTORY
from webwarden.identity.directory import DirectoryError, load_directory
from webwarden.identity.passwords import hash_password, verify_password
from webwarden.model.people import DeviceClass, PersonKind

HASH = hash_password("secret", salt=b"0123456789abcdef")


def test_demo_directory_has_every_kind_and_class() -> None:
    d = load_directory(DEMO_DIRECTORY)
    assert {p.kind for p in d.people.values()} == set(PersonKind)
    classes = {dev.device_class for dev in d.devices.values()}
    assert classes == set(DeviceClass) - {DeviceClass.UNREGISTERED}


def test_address_lookup_most_specific_and_mapped_forms() -> None:
    d = load_directory(DEMO_DIRECTORY)
    assert d.device_for_address("127.0.0.1").id == "ws-lam-0001"
    assert d.device_for_address("::ffff:127.0.0.5").id == "cs-biu-0005"
    assert d.device_for_address("10.20.30.40").id == "ws-dps-0007"
    assert d.device_for_address("192.0.2.1").device_class is DeviceClass.UNREGISTERED
    assert d.device_for_address("garbage").device_class is DeviceClass.UNREGISTERED


def test_password_hashes_verify() -> None:
    assert verify_password("secret", HASH)
    assert not verify_password("Secret", HASH)
    assert not verify_password("secret", "plain-text")


YAML = f"""\
people:
  - id: a1
    kind: officer
    unit: U
    password: {HASH}
devices:
  - id: d1
    class: laptop
    addresses: [192.0.2.0/24]
"""


@pytest.mark.parametrize(
    ("change", "line", "fragment"),
    [
        (("kind: officer", "kind: sheriff"), 3, "kind"),
        (("unit: U", "unit: U\n    line_manager: nobody"), 5, "unknown line manager"),
        ((f"password: {HASH}", "password: hunter2"), 5, "must be a password hash"),
        (("class: laptop", "class: tablet"), 8, "class"),
        (("[192.0.2.0/24]", "[192.0.2.0/24, 192.0.2.0/24]"), 9, "already registered"),
        (("[192.0.2.0/24]", "[192.0.2.1/24]"), 9, "not an address or network"),
        (("    unit: U\n", "    unit: U\n    colour: red\n"), 5, "unknown key"),
    ],
)
def test_mistakes_are_reported(tmp_path: Path, change: tuple[str, str], line: int,
                               fragment: str) -> None:
    path = tmp_path / "dir.yaml"
    path.write_text(YAML.replace(*change))
    with pytest.raises(DirectoryError) as info:
        load_directory(path)
    assert any(fragment in str(p) and p.line == line for p in info.value.problems), (
        info.value.problems
    )


def test_csv_directory(tmp_path: Path) -> None:
    path = tmp_path / "dir.csv"
    path.write_text(
        "record,id,name,kind,unit,roles,line_manager,password,qualifications,class,addresses\n"
        f"person,a1,Ann,staff,U,gateway-team;line-manager,,{HASH},cii:2020-01-01,,\n"
        f"person,b2,Bob,volunteer,U,,a1,{HASH},,,\n"
        "device,d1,,,U,,,,,workstation,10.0.0.1;10.1.0.0/16\n"
    )
    d = load_directory(path)
    assert d.person("a1") is not None and d.person("a1").roles == {"gateway-team", "line-manager"}  # type: ignore[union-attr]
    assert d.person("b2").line_manager == "a1"  # type: ignore[union-attr]
    assert d.device_for_address("10.1.2.3").id == "d1"


def test_csv_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "dir.csv"
    path.write_text("record,id,kind,unit,password\nperson,a1,officer,U,x\nrobot,r1,,,\n")
    with pytest.raises(DirectoryError) as info:
        load_directory(path)
    assert any(p.line == 3 and "record must be" in p.message for p in info.value.problems)
