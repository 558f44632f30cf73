"""The supervisor's start-up work that is not about processes and sockets."""

from __future__ import annotations

from pathlib import Path

import pytest

from webwarden.categories import shipped
from webwarden.gateway.supervisor import StartError, build_default_categories_aside


def test_the_default_snapshot_is_built_in_a_child_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBWARDEN_STATE_DIR", str(tmp_path))

    def not_here() -> Path:
        raise AssertionError("the supervisor must not build the snapshot itself")

    monkeypatch.setattr(shipped, "ensure_default_snapshot", not_here)
    assert not shipped.default_snapshot_is_current()
    build_default_categories_aside()
    assert shipped.default_snapshot_is_current()
    built = shipped.default_snapshot_path().stat().st_mtime_ns
    build_default_categories_aside()  # up to date: nothing is rebuilt
    assert shipped.default_snapshot_path().stat().st_mtime_ns == built


def test_a_failed_build_stops_the_start_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBWARDEN_STATE_DIR", str(tmp_path))
    (tmp_path / "categories").write_text("a file where the folder should be")
    with pytest.raises(StartError, match="categories: building the default snapshot failed"):
        build_default_categories_aside()
