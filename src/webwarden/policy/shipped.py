"""The policies shipped with webwarden: the 2013 regime (the default, in force today) and
the 2009 regime it replaced, so decisions about earlier dates use the rules of their time."""

from __future__ import annotations

from pathlib import Path

POLICY_DIR = Path(__file__).resolve().parent.parent / "data" / "policies"


def default_policy_paths() -> list[Path]:
    return [POLICY_DIR / "2009.yaml", POLICY_DIR / "2013.yaml"]
