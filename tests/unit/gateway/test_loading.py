"""Reload is all or nothing: a bad file is refused and the old set stays in force."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import UT1_NAMES
from webwarden.gateway.config import GatewayConfig
from webwarden.gateway.loading import LoadError, Reloader, Sources, load_snapshot
from webwarden.policy.shipped import default_policy_paths


@pytest.fixture
def sources(tmp_path: Path) -> Sources:
    lists = tmp_path / "ut1"
    for name in UT1_NAMES:
        (lists / name).mkdir(parents=True)
        (lists / name / "domains").write_text(f"{name}.test\n")
    from webwarden.categories.importers import import_ut1_dir
    from webwarden.categories.snapshot import build_snapshot

    snapshot = tmp_path / "lists.wwcat"
    build_snapshot(import_ut1_dir(lists), snapshot)
    policy = tmp_path / "2013.yaml"
    shutil.copy(default_policy_paths()[-1], policy)
    config = GatewayConfig(state_dir=tmp_path, policy_paths=(policy,), categories_path=snapshot)
    return Sources.from_config(config)


def test_reload_swaps_whole_or_not_at_all(sources: Sources) -> None:
    results: list[tuple[bool, str]] = []
    first = load_snapshot(sources)
    reloader = Reloader(sources, first, on_result=lambda ok, detail: results.append((ok, detail)))
    assert not reloader.changed()
    policy = sources.policies[0]
    policy.write_text(policy.read_text().replace("Gambling sites are blocked",
                                                 "Betting is blocked"))
    assert reloader.changed()
    assert reloader.reload()
    assert reloader.snapshot is not first and results[-1][0]
    assert reloader.snapshot.authenticator is first.authenticator  # same directory: kept
    good = reloader.snapshot
    policy.write_text("regime: {id: broken")
    assert not reloader.reload()
    assert reloader.snapshot is good
    assert "policy" in reloader.last_error and not results[-1][0]
    assert not reloader.changed()  # not retried until the file changes again


def test_a_missing_file_is_a_load_error(sources: Sources, tmp_path: Path) -> None:
    broken = Sources(sources.policies, tmp_path / "nowhere.yaml", sources.categories,
                     None, None)
    with pytest.raises(LoadError, match="directory"):
        load_snapshot(broken)
