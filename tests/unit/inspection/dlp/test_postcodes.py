"""UK postcodes: the official outward and inward rules, case, spacing, GIR 0AA, BFPO."""

from __future__ import annotations

import pytest

from tests.unit.inspection.dlp.helpers import found
from webwarden.model.finding import UK_POSTCODE


@pytest.mark.parametrize(
    ("text", "excerpt"),
    [
        ("10 Downing Street, London SW1A 2AA", "SW1A •••"),
        ("New Scotland Yard, SW1A 2JL.", "SW1A •••"),
        ("Islington N1 9GU", "N1 •••"),
        ("Woolwich SE18 6HX", "SE18 •••"),
        ("Manchester M60 2LA", "M60 •••"),
        ("BBC W1A 1AA", "W1A •••"),
        ("EC1A 1BB", "EC1A •••"),
        ("Leeds LS1 4AP", "LS1 •••"),
        ("ec1a 1bb in lower case", "ec1a •••"),
        ("postcode:SW1A2AA", "SW1A •••"),
        ("M11AE", "M1 •••"),
        ("Girobank GIR 0AA", "GIR •••"),
        ("BFPO 123", "BFPO •••"),
        ("BFPO1234", "BFPO •••"),
    ],
)
def test_postcodes_found(text: str, excerpt: str) -> None:
    (finding,) = found(text, UK_POSTCODE)
    assert finding.excerpt == excerpt


@pytest.mark.parametrize(
    "text",
    [
        "QA1 1AA",  # Q never starts a postcode
        "VA1 1AA",
        "XA1 1AA",
        "AI1 1AA",  # I never second
        "SW1A 1CA",  # C never in the inward code
        "SW1A 1AI",
        "SW1A 1AK",
        "SW1A 1AM",
        "SW1A 1AO",
        "SW1A 1AV",
        "W1I 1AA",  # third letter of A9A limited
        "EC1C 1BB",  # fourth letter of AA9A limited
        "M1 2nd floor",  # mixed case: a road and an ordinal
        "the 2nd floor at 10am",
        "sw1a1aa",  # no space: capitals only
        "XSW1A 1AA",  # part of a longer token
        "SW1A 1AAB",
        "bfpo 123",
        "AB12 CDE",  # a vehicle registration
    ],
)
def test_not_postcodes(text: str) -> None:
    assert found(text, UK_POSTCODE) == ()


def test_the_same_postcode_twice_is_one_finding() -> None:
    assert len(found("SW1A 2AA and again sw1a 2aa and SW1A2AA", UK_POSTCODE)) == 1
