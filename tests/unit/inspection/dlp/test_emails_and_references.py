"""The organisation's e-mail addresses and its configured reference formats."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.inspection.dlp.helpers import RULES, found
from webwarden.inspection.dlp import REFERENCES, reference_format
from webwarden.model.finding import ORGANISATION_EMAIL


@pytest.mark.parametrize(
    ("text", "excerpt"),
    [
        ("drop me a line at jane.bloggs@met.police.uk", "j•••@met.police.uk"),
        ("<Jane.Bloggs@MET.Police.UK>", "J•••@met.police.uk"),
        ("sam.patel@met.pnn.police.uk.", "s•••@met.pnn.police.uk"),
        ("ops@digital.met.police.uk", "o•••@digital.met.police.uk"),
        ("x+tag@met.police.uk", "x•••@met.police.uk"),
    ],
)
def test_organisation_addresses_found(text: str, excerpt: str) -> None:
    (finding,) = found(text, ORGANISATION_EMAIL)
    assert finding.excerpt == excerpt
    assert finding.label == "organisation e-mail address"


@pytest.mark.parametrize(
    "text",
    [
        "jane@example.org",
        "jane@notmet.police.uk",  # not a sub-domain
        "jane@met.police.uk.example.com",
        "jane@gmp.police.uk",
        "follow @metpoliceuk for updates",
        "email @met.police.uk",  # no mailbox
    ],
)
def test_other_addresses_are_not_the_organisations(text: str) -> None:
    assert found(text, ORGANISATION_EMAIL) == ()


FORCE = replace(
    RULES,
    references=(
        reference_format("cad", r"CAD ?\d{3,5}/\d{2}[A-Z]{3}\d{2}"),
        reference_format("cris", r"\d{7}/\d{2}"),
        reference_format("pnc", r"\d{2}(?:\d{2})?/\d{1,7}[A-Z]"),
    ),
)


@pytest.mark.parametrize(
    ("text", "kind", "excerpt"),
    [
        ("Logged as CAD 1234/04DEC26 at 10:30", "reference-cad", "CA• ••••/•••••26"),
        ("CRIS 4412345/26 refers", "reference-cris", "44•••••/26"),
        ("PNC id 26/123456X", "reference-pnc", "26/•••••6X"),
        ("PNC id 2026/123456X", "reference-pnc", "20••/•••••6X"),
    ],
)
def test_reference_formats_found(text: str, kind: str, excerpt: str) -> None:
    (finding,) = found(text, REFERENCES, FORCE)
    assert (finding.kind, finding.excerpt) == (kind, excerpt)


@pytest.mark.parametrize(
    "text", ["CRIS 44123456/26", "X4412345/26", "4412345/261", "CAD 12/04DEC26"]
)
def test_references_must_stand_alone(text: str) -> None:
    assert found(text, REFERENCES, FORCE) == ()


def test_no_reference_formats_no_findings() -> None:
    assert found("CRIS 4412345/26", REFERENCES) == ()
