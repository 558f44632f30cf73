"""The garbage collector settings of the gateway's processes."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from webwarden.gateway.collector import GC_THRESHOLDS, tune_collector


@pytest.fixture
def collector() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)
    gc.unfreeze()


@pytest.mark.usefixtures("collector")
def test_the_collector_runs_less_often_than_pythons_default() -> None:
    gc.set_threshold(700, 10, 10)
    tune_collector()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > 700
    assert gc.get_freeze_count() == 0  # a worker's objects can still be collected


@pytest.mark.usefixtures("collector")
def test_freezing_keeps_what_exists_out_of_every_collection() -> None:
    kept = [[] for _ in range(100)]
    tune_collector(freeze=True)
    assert gc.get_freeze_count() >= len(kept)
