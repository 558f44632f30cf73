"""Where the shipped demo directory lives."""

from __future__ import annotations

from pathlib import Path

_DATA = Path(__file__).resolve().parent.parent / "data"


def demo_directory_path() -> Path:
    return _DATA / "demo-directory.yaml"
