"""One scan of a text by every enabled detector: findings in the order they appear, one per
distinct value, never holding a sensitive value in full."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Final

from webwarden.inspection.dlp.emails import find_emails
from webwarden.inspection.dlp.markings import find_markings
from webwarden.inspection.dlp.numbers import NUMBER_KINDS, find_numbers
from webwarden.inspection.dlp.postcodes import find_postcodes
from webwarden.inspection.dlp.references import find_references
from webwarden.inspection.dlp.rules import REFERENCES, DlpRules
from webwarden.inspection.dlp.vetting import find_vetting
from webwarden.inspection.dlp.views import Hit, TextView
from webwarden.model.finding import (
    ORGANISATION_EMAIL,
    PROTECTIVE_MARKING,
    UK_POSTCODE,
    VETTING_LEVEL,
    Finding,
)

Detector = Callable[[TextView, DlpRules], list[Hit]]
# Each detector with the switches that turn it on (any one of them).
DETECTORS: Final[tuple[tuple[Detector, tuple[str, ...]], ...]] = (
    (find_markings, (PROTECTIVE_MARKING,)),
    (find_vetting, (VETTING_LEVEL,)),
    (find_numbers, NUMBER_KINDS),
    (find_postcodes, (UK_POSTCODE,)),
    (find_emails, (ORGANISATION_EMAIL,)),
    (find_references, (REFERENCES,)),
)


@functools.lru_cache(maxsize=64)
def _active(switches: frozenset[str]) -> tuple[Detector, ...]:
    return tuple(
        detector for detector, turned_on_by in DETECTORS if not switches.isdisjoint(turned_on_by)
    )


_NUMBER_RANK: Final = {kind: rank for rank, kind in enumerate(NUMBER_KINDS)}


def scan_text(text: str, rules: DlpRules, where: str = "the text") -> tuple[Finding, ...]:
    """Every enabled detector over `text`: the findings in order of offset, repeats of the
    same value (the same marking, the same card number) collapsed into the first. `where`
    names the part of the body ("the message text", "field 'comment'") in each Finding."""
    if not isinstance(text, str):
        raise TypeError(f"scan_text needs text (str), not {type(text).__name__}")
    if not isinstance(rules, DlpRules):
        raise TypeError(f"scan_text needs DlpRules, not {type(rules).__name__}")
    if not isinstance(where, str) or not where.strip():
        raise ValueError("where must name the part of the body scanned, e.g. 'the text'")
    view = TextView(text)
    hits: list[Hit] = []
    for detector in _active(rules.detectors):
        hits.extend(detector(view, rules))
    if not hits:
        return ()
    hits = _without_weaker_numbers(hits)
    hits.sort(key=lambda hit: (hit.offset, hit.end))
    seen: set[tuple[str, str]] = set()
    findings: list[Finding] = []
    for hit in hits:
        if (hit.kind, hit.key) in seen:
            continue
        seen.add((hit.kind, hit.key))
        findings.append(Finding(hit.kind, hit.label, hit.excerpt, where, hit.offset))
    return tuple(findings)


def _without_weaker_numbers(hits: Iterable[Hit]) -> list[Hit]:
    """Drop a number overlapping a stronger kind's number (a card number's digits read as a
    phone number, an NHS number's as a phone number)."""
    hits = list(hits)
    numbers = [hit for hit in hits if hit.kind in _NUMBER_RANK]
    if len(numbers) < 2:
        return hits
    weaker: set[int] = set()
    for index, hit in enumerate(hits):
        rank = _NUMBER_RANK.get(hit.kind)
        if rank is None:
            continue
        for other in numbers:
            if (
                _NUMBER_RANK[other.kind] < rank
                and other.offset < hit.end
                and hit.offset < other.end
            ):
                weaker.add(index)
                break
    return [hit for index, hit in enumerate(hits) if index not in weaker]
