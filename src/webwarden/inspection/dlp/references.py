"""The organisation's own reference formats (crime reference numbers, CAD and CRIS numbers,
PNC ids), each a configured regular expression; a finding's kind is `reference-<name>`."""

from __future__ import annotations

from collections.abc import Iterator

from webwarden.inspection.dlp.masking import mask_alnum
from webwarden.inspection.dlp.rules import DlpRules
from webwarden.inspection.dlp.views import Hit, TextView, is_word_char


def find_references(view: TextView, rules: DlpRules) -> list[Hit]:
    """Every configured reference format's matches that stand as whole words."""
    return list(_references(view, rules)) if rules.references else []


def _references(view: TextView, rules: DlpRules) -> Iterator[Hit]:
    text = view.text
    for reference in rules.references:
        for match in reference.pattern.finditer(text):
            start, end = match.span()
            if start == end:
                continue
            # "1234567/26" inside "X1234567/261" is part of something else.
            if (is_word_char(text, start - 1) and text[start].isalnum()) or (
                is_word_char(text, end) and text[end - 1].isalnum()
            ):
                continue
            written = match.group()
            yield Hit(
                start, end, reference.kind, f"reference ({reference.name})",
                mask_alnum(written, 2, 2), " ".join(written.upper().split()),
            )
