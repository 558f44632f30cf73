"""Vetting levels disclosed: every spelling, and the short acronyms' other meanings."""

from __future__ import annotations

import pytest

from tests.unit.inspection.dlp.helpers import found
from webwarden.model.finding import VETTING_LEVEL


def levels(text: str) -> list[str]:
    return [
        f.label.removeprefix("vetting level ").split(" (")[0] for f in found(text, VETTING_LEVEL)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Applicant holds BPSS only.", ["BPSS"]),
        ("He is CTC cleared.", ["CTC"]),
        ("passed a counter terrorist check last year", ["CTC"]),
        ("Counter-Terrorism Check completed", ["CTC"]),
        ("Jane is SC cleared and starts Monday", ["SC"]),
        ("Jane is SC-cleared", ["SC"]),
        ("holds SC clearance", ["SC"]),
        ("SC vetted staff only", ["SC"]),
        ("cleared to SC level", ["SC"]),
        ("vetting level: SC", ["SC"]),
        ("vetted to eSC", ["eSC"]),
        ("Security Check (SC) clearance required", ["SC"]),
        ("security checked and cleared", ["SC"]),
        ("she is security cleared", ["SC"]),
        ("DV cleared analyst", ["DV"]),
        ("holds DV clearance", ["DV"]),
        ("has developed vetting", ["DV"]),
        ("holds eDV clearance", ["eDV"]),
        ("Enhanced Developed Vetting renewal", ["eDV"]),
        ("He holds MV clearance", ["MV"]),
        ("Management Vetting is due", ["MV"]),
        ("Recruitment vetting complete", ["RV"]),
        ("Contractor holds NPPV3", ["NPPV level 3"]),
        ("contractor holds NPPV 2", ["NPPV level 2"]),
        ("NPPV level 3 annual vetting notice", ["NPPV level 3"]),
        ("NPPV-L1 for cleaners", ["NPPV level 1"]),
        ("Non Police Personnel Vetting level 3 granted", ["NPPV level 3"]),
        ("needs non-police personnel vetting", ["NPPV"]),
        ("is SC and DV cleared", ["SC", "DV"]),
    ],
)
def test_vetting_levels_found(text: str, expected: list[str]) -> None:
    assert levels(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Moving to Columbia, SC next year. The clearance sale starts Monday.",
        "Charleston, SC is lovely in spring",
        "DV risk assessment completed; risk level high",
        "the DV unit reviewed the case",
        "Bought a DVD and an SD card",
        "airport security check took ages",
        "The vetting process for new volunteers is simple.",
        "It is clear that the SC team won the match",
        "Press ESC to clear the screen",
        "the CCTV was cleared for release",
        "MV Britannia sailed at noon",
        "my RV is parked at the campsite",
    ],
)
def test_other_meanings_are_not_vetting(text: str) -> None:
    assert levels(text) == []


def test_the_excerpt_is_the_disclosure_as_written() -> None:
    (finding,) = found("FYI John  is SC\tcleared", VETTING_LEVEL)
    assert finding.excerpt == "SC cleared"
    assert finding.label == "vetting level SC (Security Check)"


def test_the_same_level_twice_is_one_finding() -> None:
    text = "Jane is SC cleared. Sam is SC cleared too."
    assert len(found(text, VETTING_LEVEL)) == 1
