"""UK postcodes in the official format: an outward code (A9, A99, AA9, AA99, A9A, AA9A, with
the letters each position may hold) and an inward code (a digit and two letters, never C, I,
K, M, O or V), plus GIR 0AA and BFPO numbers.

Case does not matter (BFPO aside: capitals only), but a postcode is written in one case:
"SW1A 1AA" and "sw1a 1aa" count,
"M1 2nd" (a road and an ordinal) does not. Without the space ("SW1A1AA") only capitals
count, where the shape cannot be a word."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from webwarden.inspection.dlp.masking import MASK
from webwarden.inspection.dlp.rules import DlpRules
from webwarden.inspection.dlp.views import Hit, TextView
from webwarden.model.finding import UK_POSTCODE

_OUTWARD: Final = (
    r"[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]"  # AA9A: EC1A
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"  # A9A: W1A
    r"|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"  # AA9, AA99: SW1, SE18
    r"|[A-PR-UWYZ][0-9][0-9]?"  # A9, A99: N1, M60
)
_POSTCODE: Final = re.compile(
    rf"(?<![A-Za-z0-9])(?:(?P<outward>{_OUTWARD})(?P<space>[ \t]?)[0-9][ABD-HJLNP-UW-Z]{{2}}"
    r"|(?P<gir>GIR)(?P<gir_space>[ \t]?)0AA)(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_BFPO: Final = re.compile(r"BFPO[ \t]?[0-9]{1,4}(?![A-Za-z0-9])")
_LONGEST_OUTWARD: Final = 5  # four characters and a space


def find_postcodes(view: TextView, rules: DlpRules) -> list[Hit]:
    """Postcodes and BFPO numbers, with only the outward code shown."""
    del rules
    _, inward = view.digit_anchors()
    capitals = view.capital_words()
    if not inward and b"BFPO" not in capitals:
        return []
    return list(_postcodes(view, inward))


def _postcodes(view: TextView, inward: list[int]) -> Iterator[Hit]:
    text = view.text
    # The inward code is the anchor: a digit, then two letters in one case.
    for at in inward:
        window = _POSTCODE.finditer(text, max(0, at - _LONGEST_OUTWARD), min(len(text), at + 4))
        match = next((m for m in window if m.end() == at + 3), None)
        if match is None or not _one_case(match):
            continue
        written = match.group()
        outward = match.group("outward") or match.group("gir")
        yield Hit(
            match.start(), match.end(), UK_POSTCODE, "UK postcode",
            f"{outward} {MASK * 3}", "".join(written.split()).upper(),
        )
    for at in view.capital_words().get(b"BFPO", ()):
        match = _BFPO.match(text, at)
        if match is not None:
            yield Hit(
                match.start(), match.end(), UK_POSTCODE, "UK postcode (BFPO)",
                f"{text[at:at + 4]} {MASK * 3}", "".join(match.group().split()).upper(),
            )


def _one_case(match: re.Match[str]) -> bool:
    written = match.group()
    spaced = bool(match.group("space") or match.group("gir_space"))
    return written.isupper() or (spaced and written.islower())
