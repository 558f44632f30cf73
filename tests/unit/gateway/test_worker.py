"""The worker process's own settings."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from webwarden.gateway import worker


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("thresholds")
def test_the_collector_runs_less_often_than_pythons_default() -> None:
    gc.set_threshold(700, 10, 10)
    worker._tune_collector()
    assert gc.get_threshold() == worker.GC_THRESHOLDS
    assert worker.GC_THRESHOLDS[0] > 700
