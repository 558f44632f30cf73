"""Protective markings: the Government Security Classifications (OFFICIAL-SENSITIVE, SECRET,
TOP SECRET, with descriptors and caveats) and the older Protective Marking Scheme (PROTECT,
RESTRICTED, CONFIDENTIAL).

The rule, because "secret", "restricted" and "confidential" are ordinary English words:

1. Only capitals count ("SECRET", not "Secret" or "secret"), except after a label (3).
2. Forms that ordinary English never produces count wherever they stand: OFFICIAL-SENSITIVE
   in any spelling (hyphen, dash, space), a "UK" prefix ("UK SECRET"), a caveat ("SECRET UK
   EYES ONLY"), or a descriptor joined by a dash or colon ("PROTECT - PERSONAL").
3. After a classification label, any case counts: "Classification: RESTRICTED",
   "Protective marking: Official-Sensitive".
4. A bare tier in capitals (SECRET, TOP SECRET, PROTECT, RESTRICTED, CONFIDENTIAL) counts
   only as a banner or a tag: in brackets ("[SECRET]"), alone on its line (decorations such as
   "***" or "---" aside; "Subject:" and "RE:" count as the start of a line), at the start of
   a line followed by a separator ("RESTRICTED - Operation Kestrel", "SECRET: ..."), or at
   the end of a line after one ("Page 2 of 5 | RESTRICTED").

Plain OFFICIAL is never a finding: it is the baseline tier, unmarked in practice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from webwarden.inspection.dlp.rules import DlpRules
from webwarden.inspection.dlp.views import Hit, TextView, find_all, is_word_char
from webwarden.model.finding import PROTECTIVE_MARKING

_TIER: Final = (
    r"TOP[ \t]+SECRET|SECRET|OFFICIAL(?:[ \t]*[-–—_][ \t]*|[ \t]+)SENSITIVE"
    r"|PROTECT|RESTRICTED|CONFIDENTIAL"
)
# Descriptors of both schemes as forces use them (GSC: COMMERCIAL, LOCSEN, PERSONAL; GPMS
# descriptors such as POLICY, STAFF, INVESTIGATIONS).
_DESCRIPTOR: Final = (
    r"COMMERCIAL|PERSONAL|LOCSEN|POLICY|STAFF|CONTRACTS|APPOINTMENTS|HONOURS"
    r"|INVESTIGATIONS?|MANAGEMENT|MEDICAL|REGULATORY|SECURITY|INDIVIDUAL|LEGAL"
    r"|MARKET[ \t]+SENSITIVE"
)
_CAVEAT: Final = r"UK[ \t]+EYES[ \t]+ONLY|UKEO|EYES[ \t]+ONLY|ORCON|NOFORN"
_JOIN: Final = r"[ \t]*(?:[-–—:/|]|//)[ \t]*"

_MARKING: Final = re.compile(
    rf"(?P<uk>UK[ \t]+)?(?P<tier>{_TIER})"
    rf"(?P<extra>(?:(?:{_JOIN}|[ \t]+)(?:{_DESCRIPTOR}|{_CAVEAT}))*)"
    r"(?![A-Za-z0-9])"
)
_STRONG_EXTRA: Final = re.compile(rf"{_JOIN}(?:{_DESCRIPTOR})|{_CAVEAT}")
_LABELLED: Final = re.compile(
    r"(?i)(?<![a-z])(?:(?:protective|security)[ \t]+)?(?:classification|marking)"
    r"[ \t]*[:\-–—][ \t]*"
    rf"(?P<marking>(?:UK[ \t]+)?(?:{_TIER})(?:{_JOIN}(?:{_DESCRIPTOR}|{_CAVEAT}))*)"
    r"(?![a-z0-9])"
)
_LABEL_BEFORE: Final = re.compile(
    r"(?i)(?:classification|classified|marking|caveat)[ \t]*(?:[:\-–—][ \t]*)?$"
)
_DECORATION: Final = re.compile(r"[\s*=#_~\-–—|/:.!<>\[\]()]*")
_LINE_PREFIX: Final = re.compile(r"(?i)^[ \t]*(?:(?:subject|re|fwd?)[ \t]*:[ \t]*)+")
_SEPARATOR_AFTER: Final = re.compile(r"[ \t]*(?:[-–—:|]|//)")
_SEPARATOR_BEFORE: Final = re.compile(r"(?:[-–—:|]|//)[ \t]*$")
_TIER_WORDS: Final = frozenset({b"SECRET", b"OFFICIAL", b"PROTECT", b"RESTRICTED", b"CONFIDENTIAL"})
_WINDOW_BEFORE: Final = 12  # room for "UK TOP " before the anchor word
_WINDOW_AFTER: Final = 160


def find_markings(view: TextView, rules: DlpRules) -> list[Hit]:
    """Protective markings in the text, by the rule in this module's docstring."""
    del rules  # markings are the same for every organisation
    hits: list[Hit] = []
    capitals = view.capital_words()
    if capitals and not capitals.keys().isdisjoint(_TIER_WORDS):
        hits.extend(_capital_markings(view))
    lower = view.lower
    if b"marking" in lower or b"classif" in lower:
        hits.extend(_labelled_markings(view))
    return hits


def _capital_markings(view: TextView) -> Iterator[Hit]:
    text = view.text
    words = view.capital_words()
    anchors = sorted(at for word in _TIER_WORDS for at in words.get(word, ()))
    for at in anchors:
        lo = max(0, at - _WINDOW_BEFORE)
        for match in _MARKING.finditer(text, lo, min(len(text), at + _WINDOW_AFTER)):
            if match.start() > at:
                break
            if at < match.end():
                if not is_word_char(text, match.start() - 1) and _counts(view, match):
                    yield _hit(match.start(), match.end(), match.group())
                break


def _counts(view: TextView, match: re.Match[str]) -> bool:
    if match.group("uk") or "SENSITIVE" in match.group("tier"):
        return True
    if _STRONG_EXTRA.search(match.group("extra")):
        return True
    start, end = match.span()
    line_start, line_end = view.line_bounds(start)
    before, after = view.text[line_start:start], view.text[end:line_end]
    if before.rstrip().endswith(("[", "(")) and after.lstrip().startswith(("]", ")")):
        return True
    if _LABEL_BEFORE.search(before):
        return True
    head = _LINE_PREFIX.sub("", before)
    head_is_bare = _DECORATION.fullmatch(head) is not None
    tail_is_bare = _DECORATION.fullmatch(after) is not None
    return (
        (head_is_bare and tail_is_bare)
        or (head_is_bare and _SEPARATOR_AFTER.match(after) is not None)
        or (tail_is_bare and _SEPARATOR_BEFORE.search(before) is not None)
    )


def _labelled_markings(view: TextView) -> Iterator[Hit]:
    text, lower = view.text, view.lower
    for anchor in (b"marking", b"classif"):
        for at in find_all(lower, anchor):
            lo = max(0, at - 20)
            match = _LABELLED.search(text, lo, min(len(text), at + _WINDOW_AFTER))
            if match is not None:
                yield _hit(match.start("marking"), match.end("marking"), match.group("marking"))


def _hit(start: int, end: int, written: str) -> Hit:
    canonical = canonical_marking(written)
    label = f"protective marking {canonical}"
    return Hit(start, end, PROTECTIVE_MARKING, label, written.strip(), canonical)


def canonical_marking(written: str) -> str:
    """The marking in one spelling: capitals, words joined by single spaces, and
    OFFICIAL-SENSITIVE hyphenated ("Official – Sensitive" → "OFFICIAL-SENSITIVE")."""
    words = " ".join(re.findall(r"[A-Z]+", written.upper()))
    return words.replace("OFFICIAL SENSITIVE", "OFFICIAL-SENSITIVE")
