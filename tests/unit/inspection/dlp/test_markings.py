"""Protective markings: each spelling of both schemes, banners, brackets and labels, and the
ordinary English that must not fire."""

from __future__ import annotations

import pytest

from tests.unit.inspection.dlp.helpers import found
from webwarden.model.finding import PROTECTIVE_MARKING


def markings(text: str) -> list[str]:
    return [f.label.removeprefix("protective marking ") for f in found(text, PROTECTIVE_MARKING)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Forms ordinary English never produces count anywhere.
        ("Leaked OFFICIAL-SENSITIVE briefing attached", "OFFICIAL-SENSITIVE"),
        ("see the OFFICIAL SENSITIVE annex", "OFFICIAL-SENSITIVE"),
        ("marked OFFICIAL - SENSITIVE at the top", "OFFICIAL-SENSITIVE"),
        ("marked OFFICIAL–SENSITIVE at the top", "OFFICIAL-SENSITIVE"),
        ("marked OFFICIAL—SENSITIVE at the top", "OFFICIAL-SENSITIVE"),
        ("[OFFICIAL-SENSITIVE] Operation Kestrel", "OFFICIAL-SENSITIVE"),
        ("this is UK OFFICIAL SENSITIVE material", "UK OFFICIAL-SENSITIVE"),
        ("OFFICIAL-SENSITIVE COMMERCIAL: tender scores", "OFFICIAL-SENSITIVE COMMERCIAL"),
        ("OFFICIAL-SENSITIVE PERSONAL", "OFFICIAL-SENSITIVE PERSONAL"),
        ("OFFICIAL-SENSITIVE: LOCSEN", "OFFICIAL-SENSITIVE LOCSEN"),
        ("shared as UK SECRET with partners", "UK SECRET"),
        ("shared as UK TOP SECRET with partners", "UK TOP SECRET"),
        ("a SECRET UK EYES ONLY annex", "SECRET UK EYES ONLY"),
        ("the file is PROTECT - PERSONAL so handle it", "PROTECT PERSONAL"),
        ("the file is RESTRICTED - POLICY until May", "RESTRICTED POLICY"),
        ("CONFIDENTIAL – MANAGEMENT notes", "CONFIDENTIAL MANAGEMENT"),
        # Bare tiers: as a banner line, in brackets, at a line's start or end by a separator.
        ("SECRET\nOperation Kestrel\nSECRET", "SECRET"),
        ("*** TOP SECRET ***\nminutes", "TOP SECRET"),
        ("---- RESTRICTED ----", "RESTRICTED"),
        ("Minutes of the meeting [CONFIDENTIAL]", "CONFIDENTIAL"),
        ("Report (RESTRICTED) attached", "RESTRICTED"),
        ("RESTRICTED - Operation Kestrel briefing", "RESTRICTED"),
        ("Subject: PROTECT: rota changes", "PROTECT"),
        ("RE: CONFIDENTIAL", "CONFIDENTIAL"),
        ("Page 2 of 5 | RESTRICTED", "RESTRICTED"),
        # After a classification label, any case.
        ("Classification: RESTRICTED", "RESTRICTED"),
        ("Classification: Restricted", "RESTRICTED"),
        ("Protective marking: Official-Sensitive", "OFFICIAL-SENSITIVE"),
        ("protective marking - official sensitive", "OFFICIAL-SENSITIVE"),
        ("Security classification: Top Secret", "TOP SECRET"),
        ("Marking: Confidential - Personal", "CONFIDENTIAL PERSONAL"),
    ],
)
def test_markings_found(text: str, expected: str) -> None:
    assert markings(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "She has a secret recipe for the best lemon drizzle cake.",
        "Planning a top secret birthday party for Sam on Friday!",
        "top secret plans for the weekend 🤫",
        "TOP SECRET plans for the weekend, can't wait",
        "Our confidential advice line is open every weekday.",
        "Restricted parking applies in Lewisham from Monday.",
        "We are looking at ways to protect your family this winter.",
        "The SECRETARY and the CONFIDENTIALITY agreement",
        "NOT PROTECTIVELY MARKED",
        "OFFICIAL",
        "Classification: OFFICIAL",
        "[OFFICIAL] minutes of the meeting",
        "This is official: sensitive topics are off the agenda",
        "Secret Santa is on Friday",
        "KEEP IT SECRET AND SAFE",
        "PROTECT YOUR PASSWORD",
        "Restricted: staff only beyond this point",
        "The classification of offences is changing",
        "watermarking: secret sauce",
    ],
)
def test_ordinary_english_is_not_a_marking(text: str) -> None:
    assert markings(text) == []


def test_an_email_with_a_banner_top_and_bottom_is_one_finding_at_the_first() -> None:
    email = (
        "OFFICIAL-SENSITIVE\n\n"
        "From: Jane Bloggs\nTo: Sam Patel\nSubject: Operation Kestrel\n\n"
        "Sam, the secret to a good briefing is a short one. Notes attached.\n\n"
        "Jane\n\nOFFICIAL-SENSITIVE\n"
    )
    (finding,) = found(email, PROTECTIVE_MARKING)
    assert finding.offset == 0
    assert finding.excerpt == "OFFICIAL-SENSITIVE"
    assert finding.label == "protective marking OFFICIAL-SENSITIVE"


def test_a_document_heading_and_its_offset() -> None:
    document = "Metropolitan Police Service\n\n    RESTRICTED - PERSONAL\n\nRisk assessment\n"
    (finding,) = found(document, PROTECTIVE_MARKING)
    assert document[finding.offset:].startswith("RESTRICTED - PERSONAL")
    assert finding.excerpt == "RESTRICTED - PERSONAL"


def test_a_tweet_about_weekend_plans_is_not_a_marking() -> None:
    tweet = "top secret plans for the weekend 🤫 restricted to close friends only #weekend"
    assert markings(tweet) == []
