"""Category names: the lists' own names (`agressif`, `publicite`, `audio-video`) and the
organisation's additions (`elearning`). One rule for every source keeps them comparable."""

from __future__ import annotations

import re

_CATEGORY_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")


class CategoryNameError(ValueError):
    """A category name that does not follow the naming rule."""


def check_category_name(name: str) -> str:
    """Return `name` if it is a valid category name, else raise CategoryNameError."""
    if not _CATEGORY_NAME.fullmatch(name):
        raise CategoryNameError(
            f"bad category name {name!r}: use 1 to 63 lower-case letters, digits, '-', '_' "
            "or '.', starting with a letter or digit"
        )
    return name
