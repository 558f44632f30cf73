"""bench/audit_process_bench.py still runs (tiny counts; the figures live in bench/)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "audit_process_bench.py"


def test_bench_runs_every_combination(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("audit_process_bench", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)
    spec.loader.exec_module(bench)
    args = ["--records", "300", "--rate", "20000", "--persons", "1,30", "--defer", "0,0.25"]
    assert bench.main(args) == 0
    table = capsys.readouterr().out
    for people in ("1", "30"):
        for wait in ("0 s", "0.25 s"):
            assert f"| {people} | {wait} | 300 |" in table
