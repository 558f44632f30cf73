"""NI, NHS, card and phone numbers: their check rules, how they are written, the numbers
that look like them, and what the excerpt shows."""

from __future__ import annotations

import pytest

from tests.unit.inspection.dlp.helpers import found, luhn_complete, nhs_number
from webwarden.inspection.dlp import scan_text
from webwarden.inspection.dlp.numbers import card_network, is_drama_number
from webwarden.model.finding import NHS_NUMBER, NI_NUMBER, PAYMENT_CARD, UK_PHONE

from .helpers import RULES

# --- National Insurance numbers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "excerpt"),
    [
        ("NI number AB 12 34 56 C on the form", "AB •• •• •• C"),
        ("NINO: AB123456C", "AB••••••C"),
        ("ni ab123456d in lower case", "ab••••••d"),
        ("JG 10 37 59 A", "JG •• •• •• A"),
        ("(CE 99 00 11 B)", "CE •• •• •• B"),
        ("NI: AB 123456 C", "AB •••••• C"),
    ],
)
def test_ni_numbers_found(text: str, excerpt: str) -> None:
    (finding,) = found(text, NI_NUMBER)
    assert finding.excerpt == excerpt
    assert finding.label == "National Insurance number"


@pytest.mark.parametrize(
    "text",
    [
        "QQ 12 34 56 C is the example in the guidance",  # Q is never a first letter
        "DA 12 34 56 C",  # D first
        "AD 12 34 56 C",  # D second
        "AO 12 34 56 C",  # O second
        "BG 12 34 56 C",  # unallocated prefixes
        "GB 12 34 56 C",
        "NK 12 34 56 C",
        "KN 12 34 56 C",
        "TN 12 34 56 C",
        "NT 12 34 56 C",
        "ZZ 12 34 56 C",
        "AB 12 34 56 E",  # suffix A-D only
        "AB 12 34 5 C",  # five digits
        "AB1234567C",  # seven digits
        "XAB123456C",  # part of a longer token
        "At 12 34 56 b",  # mixed case is words and numbers
    ],
)
def test_not_ni_numbers(text: str) -> None:
    assert found(text, NI_NUMBER) == ()


# --- NHS numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "excerpt"),
    [
        ("NHS 943 476 5919", "••• ••• 5919"),
        ("NHS 943-476-5919", "•••-•••-5919"),
        ("NHS no. 9434765919.", "••••••5919"),
        (f"patient {nhs_number('401023213')[:3]} {nhs_number('401023213')[3:6]} "
         f"{nhs_number('401023213')[6:]}", "••• ••• " + nhs_number("401023213")[6:]),
    ],
)
def test_nhs_numbers_found(text: str, excerpt: str) -> None:
    (finding,) = found(text, NHS_NUMBER)
    assert finding.excerpt == excerpt


@pytest.mark.parametrize(
    "text",
    [
        "NHS 943 476 5918",  # wrong check digit
        "NHS 943 476 5910",
        "NHS 943 4765 919",  # not grouped 3-3-4
        "NHS 943-476 5919",  # mixed separators
        "ref 19434765919",  # eleven digits
        "order 9434765919123",
    ],
)
def test_not_nhs_numbers(text: str) -> None:
    assert found(text, NHS_NUMBER) == ()


# --- payment cards ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "network"),
    [
        ("4111 1111 1111 1111", "Visa"),
        ("4012888888881881", "Visa"),
        ("5555-5555-5555-4444", "Mastercard"),
        ("2221 0000 0000 0009", "Mastercard"),
        ("3782 822463 10005", "American Express"),
        ("6011 1111 1111 1117", "Discover"),
        ("3530 1113 3330 0000", "JCB"),
        ("3056 9309 0259 04", "Diners Club"),
        ("6759 6498 2643 8453", "Maestro"),
    ],
)
def test_card_numbers_found(number: str, network: str) -> None:
    (finding,) = found(f"card: {number} exp 04/29", PAYMENT_CARD)
    assert finding.label == f"payment card number ({network})"
    assert finding.excerpt.endswith(number[-4:])
    assert finding.excerpt.count("•") == sum(c.isdigit() for c in number) - 4


def test_card_excerpt_keeps_the_grouping() -> None:
    (finding,) = found("4111 1111 1111 1234"[:-4] + luhn_complete("411111111111123")[-4:],
                       PAYMENT_CARD)
    assert finding.excerpt.startswith("•••• •••• •••• ")


@pytest.mark.parametrize(
    "text",
    [
        "order 4111 1111 1111 1112 shipped",  # fails Luhn
        "order number 1234567812345670",  # passes Luhn, but no card starts with 1
        "account 9111 1111 1111 1119",  # passes Luhn, no scheme starts with 9
        "tracking 4111 1111 1111 1111 1111 22",  # a longer run of digits
        "4111 1111-1111 1111",  # mixed separators
        "ref 12 4111 1111 1111 1111",  # part of a longer run
    ],
)
def test_not_card_numbers(text: str) -> None:
    assert found(text, PAYMENT_CARD) == ()


@pytest.mark.parametrize(
    ("digits", "network"),
    [("4" + "0" * 12, "Visa"), ("5" + "1" * 14, None), ("34" + "0" * 13, "American Express"),
     ("2720" + "0" * 12, "Mastercard"), ("2721" + "0" * 12, None), ("9" * 16, None)],
)
def test_card_networks_by_prefix_and_length(digits: str, network: str | None) -> None:
    assert card_network(digits) == network


# --- UK phone numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "excerpt"),
    [
        ("call me on 07911 123456", "••••• •••456"),
        ("mob: 07911123456", "••••••••456"),
        ("(020) 7230 1212", "(•••) •••• •212"),
        ("020 7230 1212", "••• •••• •212"),
        ("020-7230-1212", "•••-••••-•212"),
        ("+44 20 7230 1212", "+•• •• •••• •212"),
        ("+44 (0)20 7230 1212", "+•• (•)•• •••• •212"),
        ("+447911123456", "+•••••••••456"),
        ("0161 234 5678", "•••• ••• •678"),
        ("01204 123456", "••••• •••456"),
        ("0300 123 1212", "•••• ••• •212"),
    ],
)
def test_phone_numbers_found(text: str, excerpt: str) -> None:
    (finding,) = found(text, UK_PHONE)
    assert finding.excerpt == excerpt
    assert finding.label == "UK phone number"


@pytest.mark.parametrize(
    "text",
    [
        "07700 900123",  # Ofcom's drama range
        "020 7946 0018",
        "0161 496 0000",
        "0113 496 0999",
        "01632 960123",
        "028 9649 6001",
        "0808 157 0123",
        "+1 202 555 0100",  # not a UK number
        "order 123456789012",
        "06 1234 5678",  # not a valid UK range
        "ISBN 0123456789",
    ],
)
def test_not_uk_phone_numbers(text: str) -> None:
    assert found(text, UK_PHONE) == ()


@pytest.mark.parametrize(
    ("national", "drama"),
    [("7700900123", True), ("2079460999", True), ("7911123456", False), ("207946001", False)],
)
def test_drama_numbers(national: str, drama: bool) -> None:
    assert is_drama_number(national) is drama


def test_a_card_number_is_not_also_a_phone_number() -> None:
    kinds = [f.kind for f in scan_text("pay with 4111 1111 1111 1111 today", RULES)]
    assert kinds == [PAYMENT_CARD]
