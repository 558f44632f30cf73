"""Fixtures: small UT1-shaped list folders and archives made in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.categories.samples import make_archive, write_ut1


@pytest.fixture
def ut1_dir(tmp_path: Path) -> Path:
    return write_ut1(tmp_path / "ut1")


@pytest.fixture
def ut1_archive(tmp_path: Path, ut1_dir: Path) -> Path:
    return make_archive(ut1_dir, tmp_path / "blacklists.tar.gz")
