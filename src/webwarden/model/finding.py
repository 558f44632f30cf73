"""What a content detector found in a body or a post: the kind (a name the policy's
`findings:` condition matches), words for people, and where it was, never the sensitive
value itself in full."""

from __future__ import annotations

from dataclasses import dataclass

# The kinds the shipped detectors report. A policy's `findings:` condition names these;
# organisation-configured reference formats add kinds of their own, `reference-<name>`.
PROTECTIVE_MARKING = "protective-marking"
VETTING_LEVEL = "vetting-level"
NI_NUMBER = "ni-number"
NHS_NUMBER = "nhs-number"
PAYMENT_CARD = "payment-card"
UK_PHONE = "uk-phone"
UK_POSTCODE = "uk-postcode"
ORGANISATION_EMAIL = "organisation-email"
ORGANISATION_LOGO = "organisation-logo"
REFERENCE_PREFIX = "reference-"
# The post checker's own (P1): not content of the organisation, but breaches of the
# guidance on personal posts.
ASSOCIATION_WITHOUT_DISCLAIMER = "association-without-disclaimer"
OFFENSIVE_LANGUAGE = "offensive-language"

# What the DLP detectors report, in the order they run (inspection.dlp.DETECTORS).
DLP_KINDS: tuple[str, ...] = (
    PROTECTIVE_MARKING,
    VETTING_LEVEL,
    NI_NUMBER,
    NHS_NUMBER,
    PAYMENT_CARD,
    UK_PHONE,
    UK_POSTCODE,
    ORGANISATION_EMAIL,
    ORGANISATION_LOGO,
)
SHIPPED_KINDS: frozenset[str] = frozenset(
    (*DLP_KINDS, ASSOCIATION_WITHOUT_DISCLAIMER, OFFENSIVE_LANGUAGE)
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a detector found.

    `kind`: one of the kinds above. `label`: what it is in words ("protective marking
    OFFICIAL-SENSITIVE", "National Insurance number"). `excerpt`: enough for a person to
    find it in their own text, with the sensitive part masked ("AB •••• 56 C"); a marking
    or a vetting level is not secret and is shown as written. `where`: which part of the
    body ("the message text", "field 'comment'", "file 'report.docx'"). `offset`: the
    character offset within that part's text, for editors."""

    kind: str
    label: str
    excerpt: str
    where: str = "the text"
    offset: int = 0
