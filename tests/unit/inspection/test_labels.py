"""The labels inspection assigns are exactly the file types policies may name."""

from __future__ import annotations

from webwarden.inspection import labels
from webwarden.model.request import FILE_TYPES


def test_every_label_constant_is_a_policy_file_type() -> None:
    constants = {
        value for name, value in vars(labels).items() if name.isupper() and isinstance(value, str)
    }
    assert constants == FILE_TYPES
    assert labels.LABELS is FILE_TYPES
