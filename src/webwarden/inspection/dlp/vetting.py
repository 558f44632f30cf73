"""Vetting levels disclosed: national security vetting (BPSS, CTC, SC, eSC, DV, eDV) and
police vetting (RV, MV, NPPV 1/2/3), as acronyms or spelled out.

Short acronyms are ordinary letters elsewhere ("SC" for South Carolina, "DV" for domestic
violence in police text), so SC, eSC, DV, eDV, CTC, MV and RV count only next to a vetting
word: "SC cleared", "DV clearance", "SC-vetted", "SC level", "cleared to DV", "vetting
level: SC", "security checked and cleared". NPPV, BPSS and the spelled-out names ("developed
vetting", "counter terrorist check", "Non Police Personnel Vetting level 3") are vetting
terms wherever they stand. Acronyms must be written in capitals (with the small e of eDV
and eSC); the spelled-out names in any case."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from webwarden.inspection.dlp.rules import DlpRules
from webwarden.inspection.dlp.views import Hit, TextView, find_all
from webwarden.model.finding import VETTING_LEVEL

_CONTEXT: Final = r"(?i:cleared|clearance|vetted|vetting(?:[ \t]+level)?|level)"
_ACRONYM: Final = r"(?:eDV|eSC|CTC|SC|DV|MV|RV|(?i:security[ \t]+check(?:ed)?))"
_B: Final = r"(?<![A-Za-z0-9])"
_E: Final = r"(?![A-Za-z0-9])"

_VETTING: Final = re.compile(
    "|".join(
        (
            rf"{_B}(?P<nppv>NPPV)[ \t-]?(?:(?i:level)[ \t]*|L)?(?P<nppv_level>[123]){_E}",
            rf"{_B}(?P<nppv_words>(?i:non[ \t-]*police[ \t]+personnel[ \t]+vetting))"
            rf"(?:[ \t]+(?i:level)[ \t]*(?P<nppv_words_level>[123]))?{_E}",
            rf"{_B}(?P<nppv_bare>NPPV){_E}",
            rf"{_B}(?P<bpss>BPSS){_E}",
            rf"{_B}(?P<ctc>(?i:counter[ \t-]*terroris[mt][ \t]+check(?:ed)?)){_E}",
            rf"{_B}(?P<edv>(?i:enhanced[ \t]+developed[ \t]+vetting)){_E}",
            rf"{_B}(?P<dv>(?i:developed[ \t]+vetting)){_E}",
            rf"{_B}(?P<mv>(?i:management[ \t]+vetting)){_E}",
            rf"{_B}(?P<rv>(?i:recruitment[ \t]+vetting)){_E}",
            rf"{_B}(?P<sc_words>(?i:security[ \t]+cleared)){_E}",
            # An acronym then a vetting word: "SC cleared", "DV-vetted", "SC and DV cleared".
            rf"{_B}(?P<before>{_ACRONYM}(?:[ \t]*(?:/|,|and|or)[ \t]*{_ACRONYM})*)"
            rf"(?:[ \t]*\((?:e?SC|e?DV)\))?[ \t]*-?[ \t]*(?:(?i:and)[ \t]+)?{_CONTEXT}{_E}",
            # A vetting word then an acronym: "cleared to SC", "vetting level: DV".
            rf"{_B}{_CONTEXT}[ \t]*(?:(?i:to|at|of|is|was)[ \t]+|[:\-–][ \t]*)?"
            rf"(?:(?i:the)[ \t]+)?(?P<after>{_ACRONYM}){_E}",
        )
    )
)
_ACRONYM_NAMES: Final = {
    "EDV": "eDV (enhanced Developed Vetting)",
    "ESC": "eSC (enhanced Security Check)",
    "CTC": "CTC (Counter Terrorist Check)",
    "SC": "SC (Security Check)",
    "DV": "DV (Developed Vetting)",
    "MV": "MV (Management Vetting)",
    "RV": "RV (Recruitment Vetting)",
    "SECURITY CHECK": "SC (Security Check)",
    "SECURITY CHECKED": "SC (Security Check)",
}
_GROUP_NAMES: Final = {
    "bpss": "BPSS (Baseline Personnel Security Standard)",
    "ctc": "CTC (Counter Terrorist Check)",
    "edv": "eDV (enhanced Developed Vetting)",
    "dv": "DV (Developed Vetting)",
    "mv": "MV (Management Vetting)",
    "rv": "RV (Recruitment Vetting)",
    "sc_words": "SC (Security Check)",
    "nppv_bare": "NPPV (Non Police Personnel Vetting)",
}
_ACRONYM_ONLY: Final = re.compile(_ACRONYM)
# Every vetting finding holds one of these: a vetting word (lower-cased: "vetting",
# "cleared", "clearance", "Counter Terrorist Check"), or NPPV or BPSS in capitals. "level"
# alone is not searched for (it is too common a word to search every text for): "SC level"
# counts when another vetting word is near, as in "cleared to SC level".
_WORD_ANCHORS: Final = (b"vett", b"clear", b"terroris")
_CAPITAL_ANCHORS: Final = (b"NPPV", b"BPSS")
_WINDOW: Final = 48  # the longest form, "Non Police Personnel Vetting level 3", fits


def find_vetting(view: TextView, rules: DlpRules) -> list[Hit]:
    """Disclosed vetting levels, by the rule in this module's docstring."""
    del rules  # the vetting vocabulary is national
    lower = view.lower
    anchors = [at for word in _WORD_ANCHORS if word in lower for at in find_all(lower, word)]
    capitals = view.capital_words()
    if capitals:
        anchors.extend(at for word in _CAPITAL_ANCHORS for at in capitals.get(word, ()))
    return list(_vetting(view.text, anchors)) if anchors else []


def _vetting(text: str, anchors: list[int]) -> Iterator[Hit]:
    seen: set[int] = set()
    for at in anchors:
        lo, hi = max(0, at - _WINDOW), min(len(text), at + _WINDOW)
        for match in _VETTING.finditer(text, lo, hi):
            if match.start() in seen or not match.start() <= at < match.end():
                continue
            seen.add(match.start())
            for name in _names(match):
                yield Hit(
                    match.start(),
                    match.end(),
                    VETTING_LEVEL,
                    f"vetting level {name}",
                    " ".join(match.group().split()),
                    name,
                )


def _names(match: re.Match[str]) -> list[str]:
    group = match.lastgroup
    if group in ("nppv", "nppv_level"):
        return [f"NPPV level {match.group('nppv_level')} (Non Police Personnel Vetting)"]
    if group in ("nppv_words", "nppv_words_level"):
        level = match.group("nppv_words_level")
        suffix = f" level {level}" if level else ""
        return [f"NPPV{suffix} (Non Police Personnel Vetting)"]
    if group in _GROUP_NAMES:
        return [_GROUP_NAMES[group]]
    written = match.group("before") or match.group("after") or ""
    names: list[str] = []
    for acronym in _ACRONYM_ONLY.findall(written):
        name = _ACRONYM_NAMES[" ".join(acronym.upper().split())]
        if name not in names:
            names.append(name)
    return names
