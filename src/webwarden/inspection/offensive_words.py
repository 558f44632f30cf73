"""The offensive-language word list (P1) and the matcher that finds its terms in a post
through the usual disguises.

Hand-written because the profanity libraries either match substrings (the Scunthorpe
problem), ship no slurs by protected characteristic, or need a statistical model with a
large dependency tree; a curated list matched on whole words is predictable, explainable
and easy for an organisation to extend."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

SHIPPED_LIST = "offensive-words.txt"

# What a disguised letter may look like. Digits and symbols are the l33t spellings people
# use to slip past filters; a letter not listed here stands only for itself.
_LOOKALIKES: dict[str, str] = {
    "a": "a4@",
    "b": "b8",
    "e": "e3",
    "g": "g9",
    "i": "i1!|",
    "l": "l1|",
    "o": "o0",
    "s": "s5$",
    "t": "t7+",
    "u": "uv",
    "z": "z2",
}
# Characters that hide a letter inside a word: f**k, c#nt, sh•t.
_MASKS = "*#•_%"
# Between the letters of one word, one kind of separator repeated: f.u.c.k, f u c k.
_SEPARATORS = r"[ .\-_*•·]?"
_NOT_WORD = r"[^0-9a-z]+"
_CATEGORY = re.compile(r"^\[([a-z][a-z-]*)\]$")
_TERM = re.compile(r"^[a-z][a-z' -]*[a-z]$")


class WordListError(ValueError):
    """A line of a word list that cannot be used; the message names the line."""


@dataclass(frozen=True, slots=True)
class Term:
    """One listed word or phrase, its category and the compiled pattern that finds it."""

    text: str
    category: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class WordMatch:
    """A term found in a text: which term, and the span of the text that spelled it."""

    term: Term
    start: int
    end: int
    written: str

    @property
    def masked(self) -> str:
        """The match as written, with the middle hidden (see `mask`)."""
        if " " in self.term.text or "-" in self.term.text:
            return mask(self.written)
        # One word spelled out with separators ("f u c k") is still one word.
        return _mask_word(self.written)


@dataclass(frozen=True, slots=True)
class OffensiveWords:
    """A parsed word list: the terms, and the innocent phrases that excuse a match."""

    terms: tuple[Term, ...]
    allowed: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def parse(cls, text: str, source: str = "the word list") -> OffensiveWords:
        """Parse the word-list format (see the shipped file's header); raise WordListError
        naming the line of the first mistake."""
        terms: list[Term] = []
        allowed: list[re.Pattern[str]] = []
        seen: set[str] = set()
        category: str | None = None
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            heading = _CATEGORY.match(line)
            if heading:
                category = heading.group(1)
                continue
            phrase = line[1:].strip() if line.startswith("!") else line
            if not _TERM.match(phrase):
                raise WordListError(
                    f"{source}:{number}: '{line}' is not a term: write lower-case letters, "
                    "spaces, hyphens or apostrophes, or '[category]' for a section"
                )
            if line.startswith("!"):
                allowed.append(re.compile(_plain_phrase(phrase), re.IGNORECASE))
                continue
            if category is None:
                raise WordListError(
                    f"{source}:{number}: '{line}' comes before any [category] heading"
                )
            if phrase in seen:
                raise WordListError(f"{source}:{number}: '{line}' is listed twice")
            seen.add(phrase)
            terms.append(Term(phrase, category, _compile(phrase)))
        if not terms:
            raise WordListError(f"{source}: no terms")
        return cls(tuple(terms), tuple(allowed))

    @staticmethod
    @functools.cache
    def shipped() -> OffensiveWords:
        """The list shipped with webwarden (read once, from the package's data)."""
        text = resources.files("webwarden").joinpath("data", SHIPPED_LIST).read_text("utf-8")
        return OffensiveWords.parse(text, SHIPPED_LIST)

    def find(self, text: str) -> tuple[WordMatch, ...]:
        """Every listed term in `text`, in order of position, overlapping matches merged
        into the longest (a phrase wins over a word inside it)."""
        excused = [m.span() for p in self.allowed for m in p.finditer(text)]
        found: list[WordMatch] = []
        for term in self.terms:
            for m in term.pattern.finditer(text):
                start, end = m.span()
                if any(a <= start and end <= b for a, b in excused):
                    continue
                found.append(WordMatch(term, start, end, m.group(0)))
        found.sort(key=lambda w: (w.start, -(w.end - w.start)))
        kept: list[WordMatch] = []
        for match in found:
            if kept and match.start < kept[-1].end:
                continue
            kept.append(match)
        return tuple(kept)


def mask(written: str) -> str:
    """Hide the middle of every word: 'fuck' → 'f••k', 'kill yourself' → 'k••l y••••••f'.
    Words of one or two characters are left as they are."""
    return re.sub(r"[^\s]{3,}", lambda m: _mask_word(m.group(0)), written)


def _mask_word(word: str) -> str:
    if len(word) < 3:
        return word
    return word[0] + "•" * (len(word) - 2) + word[-1]


def _letter(char: str, *, inner: bool) -> str:
    if char == "'":
        return "['’]?"
    if char in " -":
        return _NOT_WORD
    chars = _LOOKALIKES.get(char, char) + (_MASKS if inner else "")
    return "[" + re.escape(chars) + "]+"


def _word(word: str, separator: str) -> str:
    # Runs of one letter collapse to one class with '+': "faggot" and "fagot" alike.
    runs = [word[0]]
    for char in word[1:]:
        if char != runs[-1][-1]:
            runs.append(char)
    last = len(runs) - 1
    parts = [_letter(run[0], inner=0 < i < last) for i, run in enumerate(runs)]
    return separator.join(parts)


def _compile(term: str) -> re.Pattern[str]:
    if " " in term or "-" in term:
        # Phrases: the words are disguised letter by letter, but not split up.
        body = _NOT_WORD.join(_word(w, "") for w in re.split(r"[ -]+", term))
    else:
        # One separator, captured once and repeated, so that "f.u.c.k" is found but letters
        # are not glued together across different punctuation.
        head = _word(term[0], "")
        rest = _word(term, "(?P=sep)")[len(head) + len("(?P=sep)"):]
        body = head + f"(?P<sep>{_SEPARATORS})" + rest if rest else head
    # Whole words only: no letter or digit on either side (Scunthorpe, classic, cockpit).
    return re.compile(rf"(?<![0-9a-z]){body}(?:e?s)?(?![0-9a-z])", re.IGNORECASE)


def _plain_phrase(phrase: str) -> str:
    words = re.split(r"[ -]+", phrase)
    return r"(?<![0-9a-z])" + _NOT_WORD.join(re.escape(w) for w in words) + r"(?![0-9a-z])"
