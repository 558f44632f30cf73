"""Small helpers the DLP tests share: scanning with one detector on, and check digits."""

from __future__ import annotations

from dataclasses import replace

from webwarden.inspection.dlp import DlpRules, scan_text
from webwarden.model.finding import Finding

RULES = DlpRules.default()


def only(detector: str, rules: DlpRules = RULES) -> DlpRules:
    """The rules with just one detector on."""
    return replace(rules, detectors=frozenset({detector}))


def found(text: str, detector: str, rules: DlpRules = RULES) -> tuple[Finding, ...]:
    return scan_text(text, only(detector, rules))


def nhs_number(first_nine: str) -> str:
    """A valid NHS number from nine digits (modulus 11, weights 10 to 2), or ValueError when
    those nine digits have no valid check digit."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 10:
        raise ValueError(f"{first_nine} has no valid NHS check digit")
    return first_nine + str(0 if check == 11 else check)


def luhn_complete(partial: str) -> str:
    """`partial` with the Luhn check digit appended."""
    total = 0
    for index, char in enumerate(reversed(partial)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return partial + str((10 - total % 10) % 10)
