"""scan_text: every detector at once over realistic text, in order, repeats collapsed, and no
Finding ever holding a full sensitive value."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.inspection.dlp.helpers import RULES, luhn_complete, nhs_number
from webwarden.inspection.dlp import DlpRules, scan_text
from webwarden.model.finding import (
    NHS_NUMBER,
    NI_NUMBER,
    ORGANISATION_EMAIL,
    PAYMENT_CARD,
    PROTECTIVE_MARKING,
    UK_PHONE,
    UK_POSTCODE,
    VETTING_LEVEL,
)

EMAIL = """\
OFFICIAL-SENSITIVE PERSONAL

From: Jane Bloggs <jane.bloggs@met.police.uk>
To: Sam Patel <sam@example.org>
Subject: New starter

Hi Sam,

Our new analyst starts on Monday 9 March at 09:00 and is SC cleared. Her NI number is
JG 10 37 59 A and she lives at 4 Acacia Avenue, London SE18 6HX; mobile 07911 123456.
Please keep this to the team: it is not a secret, but it is personal.

Thanks,
Jane

OFFICIAL-SENSITIVE PERSONAL
"""


def test_a_realistic_email_in_order_with_repeats_collapsed() -> None:
    findings = scan_text(EMAIL, RULES, where="the message text")
    assert [f.kind for f in findings] == [
        PROTECTIVE_MARKING,
        ORGANISATION_EMAIL,
        VETTING_LEVEL,
        NI_NUMBER,
        UK_POSTCODE,
        UK_PHONE,
    ]
    assert {f.where for f in findings} == {"the message text"}
    offsets = [f.offset for f in findings]
    assert offsets == sorted(offsets)
    assert EMAIL[findings[2].offset:].startswith("SC cleared")


def test_ordinary_text_has_no_findings() -> None:
    text = (
        "Thanks for sending this over. Can we move the team meeting to Tuesday at 10:30? "
        "The community event in Lewisham went well, 120 people came along. Our order "
        "123456789012 was dispatched on 12 March 2026. Room 4 on the 2nd floor is free. "
        "Trains from Croydon are delayed by about 15 minutes. Secret Santa is on Friday!"
    )
    assert scan_text(text, RULES) == ()


def test_detectors_that_are_off_find_nothing() -> None:
    rules = replace(RULES, detectors=frozenset({UK_POSTCODE}))
    assert [f.kind for f in scan_text(EMAIL, rules)] == [UK_POSTCODE]


def test_empty_text() -> None:
    assert scan_text("", RULES) == ()


@pytest.mark.parametrize(
    ("text", "rules", "where", "error"),
    [
        (b"bytes", RULES, "the text", TypeError),
        ("text", {"organisation": "Met"}, "the text", TypeError),
        ("text", RULES, " ", ValueError),
    ],
)
def test_bad_arguments_are_refused(text: object, rules: object, where: str, error: type) -> None:
    with pytest.raises(error):
        scan_text(text, rules, where)  # type: ignore[arg-type]


def test_offsets_hold_with_text_outside_latin1() -> None:
    text = "Meeting “today” – call 07911 123456 ✅ or email jane@met.police.uk"
    findings = scan_text(text, RULES)
    assert [text[f.offset:f.offset + 5] for f in findings] == ["07911", "jane@"]


# --- no Finding ever holds a full NI, NHS or card number ------------------------------------

NI_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NI_SECOND = "ABCEGHJKLMNPRSTWXYZ"


@st.composite
def ni_numbers(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(NI_FIRST)) + draw(st.sampled_from(NI_SECOND))
    if prefix in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
        prefix = "AB"
    digits = draw(st.from_regex(r"[0-9]{6}", fullmatch=True))
    spaced = draw(st.booleans())
    suffix = draw(st.sampled_from("ABCD"))
    if spaced:
        return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
    return f"{prefix}{digits}{suffix}"


@st.composite
def nhs_numbers(draw: st.DrawFn) -> str:
    first = draw(st.from_regex(r"[4-7][0-9]{8}", fullmatch=True))
    try:
        number = nhs_number(first)
    except ValueError:
        number = "9434765919"
    separator = draw(st.sampled_from(["", " ", "-"]))
    return separator.join((number[:3], number[3:6], number[6:]))


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["4", "51", "55", "2221", "34", "37", "6011"]))
    length = 15 if prefix in ("34", "37") else 16
    body = prefix + draw(st.from_regex(rf"[0-9]{{{length - len(prefix) - 1}}}", fullmatch=True))
    number = luhn_complete(body)
    separator = draw(st.sampled_from(["", " ", "-"]))
    return separator.join(number[i:i + 4] for i in range(0, len(number), 4))


FILLER = st.sampled_from(
    ["Please see below: ", "Details were ", "FYI ", "number ", "on the form, ", "(", "\n"]
)


def digits_and_letters(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text)


@settings(max_examples=200, deadline=None)
@given(
    before=FILLER,
    value=st.one_of(ni_numbers(), nhs_numbers(), card_numbers()),
    after=st.sampled_from([" thanks", ".", ")", "\nJane", ""]),
)
def test_no_excerpt_holds_a_full_number(before: str, value: str, after: str) -> None:
    findings = scan_text(f"{before}{value}{after}", RULES)
    kinds = {f.kind for f in findings}
    assert kinds & {NI_NUMBER, NHS_NUMBER, PAYMENT_CARD}, "the number itself was not found"
    full = digits_and_letters(value)
    for finding in findings:
        shown = digits_and_letters(finding.excerpt + finding.label)
        assert full not in shown
        assert re.sub(r"\D", "", value) not in re.sub(r"\D", "", finding.excerpt)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_text_scans_without_error(text: str) -> None:
    for finding in scan_text(text, DlpRules.default()):
        assert 0 <= finding.offset <= len(text)
