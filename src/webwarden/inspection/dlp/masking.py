"""How a Finding shows a sensitive value: enough of it for a person to find it in their own
text, never the whole value. The marks keep the value's layout (spaces, dashes), so
"4111 1111 1111 1234" becomes "•••• •••• •••• 1234"."""

from __future__ import annotations

from typing import Final

MASK: Final = "•"


def mask_digits(value: str, keep_last: int) -> str:
    """Every digit masked except the last `keep_last`; other characters kept."""
    total = sum(char.isdigit() for char in value)
    shown = 0
    out: list[str] = []
    for char in value:
        if char.isdigit():
            shown += 1
            out.append(char if shown > total - keep_last else MASK)
        else:
            out.append(char)
    return "".join(out)


def mask_alnum(value: str, keep_first: int, keep_last: int) -> str:
    """Letters and digits masked except the first `keep_first` and last `keep_last`; with
    fewer than twice as many as are kept, only the last `keep_last` show."""
    total = sum(char.isalnum() for char in value)
    if total < 2 * (keep_first + keep_last):
        keep_first = 0
    seen = 0
    out: list[str] = []
    for char in value:
        if char.isalnum():
            seen += 1
            out.append(char if seen <= keep_first or seen > total - keep_last else MASK)
        else:
            out.append(char)
    return "".join(out)


def mask_email(local: str, domain: str) -> str:
    """"j•••@met.police.uk": the first character of the mailbox, then the domain."""
    return f"{local[:1]}{MASK * 3}@{domain}"
