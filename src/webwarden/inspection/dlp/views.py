"""One text as the detectors search it: the text itself, and byte views of it in which the
cheap anchor searches run. The views keep one byte per character, so an offset found in a
view is the same offset in the text.

Why byte views: Python's `re` scans at about 100 MB/s at best when a pattern starts with a
character class (it tries every position), while `bytes.find` of a literal runs at 1-2 GB/s.
So each detector finds literal anchors in a view (a word in the lower-cased view, a shape
such as "four capitals" or "six digits" in the shape view), and runs its precise regular
expression only in a small window of the text around each anchor."""

from __future__ import annotations

import re
from typing import Final, NamedTuple


def _shape_table() -> bytes:
    table = bytearray(b"." * 256)
    for code in range(256):
        char = chr(code)
        if "0" <= char <= "9":
            table[code] = ord("0")
        elif "A" <= char <= "Z":
            table[code] = ord("A")
        elif "a" <= char <= "z":
            table[code] = ord("a")
        elif char in " \t-()\xa0":
            # Separators inside written numbers: "020 7946 0018", "(020) 7230 1212", "4111-1111".
            table[code] = ord(" ")
        elif char in "\r\n":
            table[code] = ord("\n")
    return bytes(table)


# Digits become "0", capitals "A", small letters "a", number separators " ", line ends "\n",
# everything else ".".
SHAPE_TABLE: Final = _shape_table()


# Words in capitals some detector starts from (markings, vetting levels, BFPO numbers).
CAPITAL_WORDS: Final = frozenset(
    {b"SECRET", b"OFFICIAL", b"PROTECT", b"RESTRICTED", b"CONFIDENTIAL", b"NPPV", b"BPSS", b"BFPO"}
)
# Digit anchors in the shape view, each pattern with a literal prefix so that `re` skips
# ahead quickly: a run of at least six digits with separators (NI, NHS, card and phone
# numbers), and a postcode's inward code (a digit and two letters in one case).
_DIGIT_RUN: Final = re.compile(rb"00[0 ]{3,}0")
_INWARD: Final = re.compile(rb"0(?:AA|aa)(?![Aa])")
_ZERO, _SPACE, _CAPITAL, _SMALL = b"0 Aa"


class DigitRun(NamedTuple):
    start: int
    end: int
    digits: int


class TextView:
    """The text and its lazily built views: `raw` (latin-1, anything else as "?"),
    `lower` (raw with ASCII lower-cased) and `shape` (see SHAPE_TABLE), and the anchors
    found in them, each search done once however many detectors use it."""

    __slots__ = ("_capitals", "_digits", "_lower", "_raw", "_shape", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._raw: bytes | None = None
        self._lower: bytes | None = None
        self._shape: bytes | None = None
        self._capitals: dict[bytes, list[int]] | None = None
        self._digits: tuple[list[DigitRun], list[int]] | None = None

    @property
    def raw(self) -> bytes:
        if self._raw is None:
            # "replace" keeps one byte per character ("?" for what latin-1 cannot hold).
            self._raw = self.text.encode("latin-1", "replace")
        return self._raw

    @property
    def lower(self) -> bytes:
        if self._lower is None:
            self._lower = self.raw.lower()
        return self._lower

    @property
    def shape(self) -> bytes:
        if self._shape is None:
            self._shape = self.raw.translate(SHAPE_TABLE)
        return self._shape

    def capital_words(self) -> dict[bytes, list[int]]:
        """Offsets of each CAPITAL_WORDS word standing as a whole run of capitals (so
        "SECRET" in "SECRET:" but not in "SECRETARIAT")."""
        if self._capitals is None:
            shape, raw = self.shape, self.raw
            capital = ord("A")
            found: dict[bytes, list[int]] = {}
            for at in find_all(shape, b"AAAA") if b"AAAA" in shape else ():
                if at and shape[at - 1] == capital:
                    continue  # inside a run of capitals already looked at
                end = at + 4
                while end < len(shape) and shape[end] == capital:
                    end += 1
                word = raw[at:end]
                if word in CAPITAL_WORDS:
                    found.setdefault(word, []).append(at)
            self._capitals = found
        return self._capitals

    def digit_anchors(self) -> tuple[list[DigitRun], list[int]]:
        """Runs of six or more digits (with separators) and the offsets of postcode-like
        inward codes (see _DIGIT_ANCHOR)."""
        if self._digits is None:
            shape = self.shape
            runs = [
                DigitRun(start, end, shape.count(b"0", start, end))
                for start, end in (match.span() for match in _DIGIT_RUN.finditer(shape))
            ]
            inward = [
                match.start()
                for match in _INWARD.finditer(shape)
                if _after_outward(shape, self.raw, match.start())
            ]
            self._digits = (runs, inward)
        return self._digits

    def line_bounds(self, offset: int) -> tuple[int, int]:
        """Start and end of the line holding `offset` (end excludes the line break)."""
        text = self.text
        start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
        ends = [i for i in (text.find("\n", offset), text.find("\r", offset)) if i != -1]
        return start, min(ends) if ends else len(text)


def _after_outward(shape: bytes, raw: bytes, at: int) -> bool:
    """Whether the inward-code-like text at `at` follows what could end an outward code: a
    digit, or a digit and a letter, with or without a space ("1A 1AA", "1 1AA", "11AA"), or
    GIR. Ordinals ("the 2nd") and times ("10am") do not."""
    end = at - 1 if at and shape[at - 1] == _SPACE else at
    if end < 1:
        return False
    last = shape[end - 1]
    if last == _ZERO:
        return True
    if last in (_CAPITAL, _SMALL) and end >= 2 and shape[end - 2] == _ZERO:
        return True
    return raw[at - 4:at] == b"GIR "


def find_all(haystack: bytes, needle: bytes) -> list[int]:
    """Every offset of `needle` in `haystack`, overlapping ones included."""
    at = haystack.find(needle)
    if at == -1:
        return []  # the usual case, kept cheap: most texts hold no anchor
    found = []
    while at != -1:
        found.append(at)
        at = haystack.find(needle, at + 1)
    return found


class Hit(NamedTuple):
    """What a detector found, before it becomes a Finding. `key` is the normalised value and
    serves only to collapse repeats of the same value within one scan: it never leaves
    `scan_text`."""

    offset: int
    end: int
    kind: str
    label: str
    excerpt: str
    key: str


def is_word_char(text: str, index: int) -> bool:
    """Whether text[index] exists and is a letter or digit (a boundary check at an edge)."""
    return 0 <= index < len(text) and text[index].isalnum()
