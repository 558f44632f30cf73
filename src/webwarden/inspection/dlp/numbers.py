"""Numbers that identify a person or an account: National Insurance numbers, NHS numbers,
payment card numbers and UK phone numbers, each confirmed by its own rule (prefix rules,
modulus 11, Luhn, the national numbering plan), not by its shape alone.

All four hold a run of at least six digits, so one search of the shape view finds every
candidate run ("00" then digits and separators), and the precise checks run only on a small
window of the text around each run. Where two overlap (a card number also read as a phone
number), `scan_text` keeps the stronger, in the order of NUMBER_KINDS."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Final

import phonenumbers
from stdnum import luhn
from stdnum.gb import nhs

from webwarden.inspection.dlp.masking import MASK, mask_digits
from webwarden.inspection.dlp.rules import DlpRules
from webwarden.inspection.dlp.views import DigitRun, Hit, TextView
from webwarden.model.finding import NHS_NUMBER, NI_NUMBER, PAYMENT_CARD, UK_PHONE

# Strongest first: a span claimed by an earlier kind is not reported as a later one.
NUMBER_KINDS: Final = (PAYMENT_CARD, NHS_NUMBER, NI_NUMBER, UK_PHONE)

_BEFORE: Final = 8  # "+44 (", or the "AB " of a National Insurance number
_AFTER: Final = 4  # the " C" suffix of a National Insurance number

# HMRC's rules: first letter not D, F, I, Q, U, V; second not D, F, I, O, Q, U, V.
_NI: Final = re.compile(
    r"(?<![A-Za-z0-9])"
    r"(?P<prefix>[A-CEGHJ-PR-TW-Za-ceghj-pr-tw-z][A-CEGHJ-NPR-TW-Za-ceghj-npr-tw-z])[ \t]?"
    r"(?P<digits>[0-9][0-9][ \t]?[0-9][0-9][ \t]?[0-9][0-9])[ \t]?"
    r"(?P<suffix>[A-Da-d])(?![A-Za-z0-9])"
)
_NI_UNALLOCATED: Final = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_NHS: Final = re.compile(
    r"(?<![A-Za-z0-9])[0-9]{3}(?P<sep>[ -]?)[0-9]{3}(?P=sep)[0-9]{4}(?![A-Za-z0-9])"
)
_CARD: Final = re.compile(r"(?<![A-Za-z0-9])[0-9](?:[ -]?[0-9]){12,18}(?![A-Za-z0-9])")
_DIGIT_AFTER_SEPARATOR: Final = re.compile(r"[ -][0-9]")
# The shapes UK numbers are written in: 0 or +44 (with an optional "(0)"), then nine or ten
# digits with single spaces or dashes, or a bracketed area code: "(020) 7230 1212". The
# numbering plan (phonenumbers) then decides; the shape only spares it the other digits.
_PHONE: Final = re.compile(
    r"(?<![\w+])(?:\+44[ \t-]?(?:\(0\)[ \t-]?)?|\(0|0)(?:\)?[ \t-]?[0-9]){9,10}(?![\w])"
)

# Numbers Ofcom keeps for drama and examples: valid by the numbering plan, never anyone's.
_DRAMA_PREFIXES: Final = (
    "7700900",  # 07700 900xxx, mobile
    "1134960", "1144960", "1154960", "1164960", "1174960", "1184960",  # 011x 496 0xxx
    "1214960", "1314960", "1414960", "1514960", "1614960",  # 01x1 496 0xxx
    "2079460",  # 020 7946 0xxx
    "1914980",  # 0191 498 0xxx
    "2896496",  # 028 9649 6xxx
    "2920180",  # 029 2018 0xxx
    "1632960",  # 01632 960xxx
    "8081570",  # 0808 157 0xxx, freephone
    "9098790",  # 0909 879 0xxx, premium rate
    "3069990",  # 03069 990xxx
)


def find_numbers(view: TextView, rules: DlpRules) -> list[Hit]:
    """NI, NHS, card and phone numbers (those whose detectors are on)."""
    runs, _ = view.digit_anchors()
    return list(_numbers(view.text, runs, rules)) if runs else []


def _numbers(text: str, runs: list[DigitRun], rules: DlpRules) -> Iterator[Hit]:
    checks = _checks_for(rules.detectors)
    for run in runs:
        lo = max(0, run.start - _BEFORE)
        hi = min(len(text), run.end + _AFTER)
        for fewest, most, check in checks:
            # Checks run only on runs with as many digits as their number has, so an order
            # number costs a count, not four regular expressions.
            if fewest <= run.digits <= most:
                yield from check(text, lo, hi)


@functools.lru_cache(maxsize=64)
def _checks_for(detectors: frozenset[str]) -> tuple[tuple[int, int, _Check], ...]:
    return tuple(
        (fewest, most, check) for kind, fewest, most, check in _CHECKS if kind in detectors
    )


def _ni_numbers(text: str, lo: int, hi: int) -> Iterator[Hit]:
    for match in _NI.finditer(text, lo, hi):
        prefix, suffix = match.group("prefix"), match.group("suffix")
        if prefix.upper() in _NI_UNALLOCATED:
            continue
        letters = prefix + suffix
        if not (letters.isupper() or letters.islower()):
            continue  # "At 12 34 56 b": mixed case is words and numbers, not an NI number
        written = match.group()
        digits = match.group("digits")
        excerpt = written.replace(digits, "".join(MASK if c.isdigit() else c for c in digits))
        key = (prefix + digits.replace(" ", "").replace("\t", "") + suffix).upper()
        yield Hit(match.start(), match.end(), NI_NUMBER, "National Insurance number", excerpt, key)


def _nhs_numbers(text: str, lo: int, hi: int) -> Iterator[Hit]:
    for match in _NHS.finditer(text, lo, hi):
        written = match.group()
        digits = re.sub(r"[^0-9]", "", written)
        if nhs.is_valid(digits):
            excerpt = mask_digits(written, 4)
            yield Hit(match.start(), match.end(), NHS_NUMBER, "NHS number", excerpt, digits)


def card_network(digits: str) -> str | None:
    """The card scheme whose numbers start like this and have this length, or None."""
    length = len(digits)
    two, four, six = int(digits[:2]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4" and length in (13, 16, 19):
        return "Visa"
    if (51 <= two <= 55 or 2221 <= four <= 2720) and length == 16:
        return "Mastercard"
    if two in (34, 37) and length == 15:
        return "American Express"
    if (four == 6011 or 644 <= int(digits[:3]) <= 649 or two == 65) and 16 <= length <= 19:
        return "Discover"
    if 3528 <= four <= 3589 and 16 <= length <= 19:
        return "JCB"
    if (two in (36, 38, 39) or 300 <= int(digits[:3]) <= 305) and 14 <= length <= 19:
        return "Diners Club"
    if two == 62 and 16 <= length <= 19:
        return "UnionPay"
    if (two == 50 or 56 <= two <= 69 or 622126 <= six <= 622925) and 12 <= length <= 19:
        return "Maestro"
    return None


def _cards(text: str, lo: int, hi: int) -> Iterator[Hit]:
    for match in _CARD.finditer(text, lo, hi):
        written = match.group()
        separators = set(re.sub(r"[0-9]", "", written))
        if len(separators) > 1:
            continue  # "1234 5678-9012 3456" is not how a card number is written
        start, end = match.span()
        if _DIGIT_AFTER_SEPARATOR.match(text, end) or (
            start >= 2 and text[start - 1] in " -" and text[start - 2].isdigit()
        ):
            continue  # a longer run of digits (an order or account number) is not a card
        digits = re.sub(r"[^0-9]", "", written)
        network = card_network(digits)
        if network is None or not luhn.is_valid(digits):
            continue
        yield Hit(
            start, end, PAYMENT_CARD, f"payment card number ({network})",
            mask_digits(written, 4), digits,
        )


def _national_number(written: str) -> str | None:
    """The national significant number of a number in one of _PHONE's shapes: the digits
    without the 44 or the trunk 0 (the UK has no number whose significant part starts 0)."""
    digits = re.sub(r"[^0-9]", "", written)
    if written.startswith("+"):
        digits = digits[2:]  # the 44
        if "(0)" in written:
            digits = digits[1:]
    national = digits.removeprefix("0")
    return national if 9 <= len(national) <= 10 and national[0] != "0" else None


@functools.lru_cache(maxsize=4096)
def is_valid_uk_number(national_number: str) -> bool:
    """Whether the national significant number is valid in the +44 numbering plan (the UK,
    and the Crown Dependencies that share it: 07911 is a Guernsey mobile range). The
    phonenumbers metadata decides. The number is built here rather than parsed from the
    text (parsing costs as much again as the check, about 40 microseconds), and the cache
    makes a signature's number, repeated in every e-mail, cost nothing after the first."""
    number = phonenumbers.PhoneNumber(country_code=44, national_number=int(national_number))
    return bool(phonenumbers.is_valid_number(number))


def is_drama_number(national_number: str) -> bool:
    """Whether the national significant number (no leading 0) is one Ofcom keeps for
    drama: valid, but never anyone's."""
    return len(national_number) == 10 and national_number.startswith(_DRAMA_PREFIXES)


def _phones(text: str, lo: int, hi: int) -> Iterator[Hit]:
    if "0" not in text[lo:lo + _BEFORE + 2] and "+" not in text[lo:lo + _BEFORE]:
        return  # a UK number starts "0", "(0" or "+44": not an order number's "1234..."
    for match in _PHONE.finditer(text, lo, hi):
        written = match.group()
        if written.count("(") != written.count(")"):
            continue
        national = _national_number(written)
        if national is None or not is_valid_uk_number(national) or is_drama_number(national):
            continue
        yield Hit(
            match.start(), match.end(), UK_PHONE, "UK phone number",
            mask_digits(written, 3), national,
        )


_Check = Callable[[str, int, int], Iterator[Hit]]
# Each check with the fewest and most digits a run may hold for it: the number's own digits
# (a phone number's 10 or 11, or 12 and 13 with 44 and "(0)"). A run holding two numbers
# side by side ("943 476 5919 4111 1111 1111 1111") is missed: the limit of the speed.
_CHECKS: Final = (
    (PAYMENT_CARD, 13, 19, _cards),
    (NHS_NUMBER, 10, 10, _nhs_numbers),
    (NI_NUMBER, 6, 6, _ni_numbers),
    (UK_PHONE, 10, 13, _phones),
)
