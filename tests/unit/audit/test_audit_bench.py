"""bench/audit_bench.py still runs (tiny counts; the figures themselves live in bench/)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "audit_bench.py"


def load_bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_bench_runs_every_sink_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = load_bench(monkeypatch)
    out = tmp_path / "result.json"
    argv = ["--records", "60", "--paced-records", "40", "--rate", "20000", "--repeat", "1"]
    assert bench.main([*argv, "--work", str(tmp_path / "work"), "--json", str(out)]) == 0
    table = capsys.readouterr().out
    for sinks in ("squid", "squid+jsonl", "squid+jsonl+db"):
        assert f"| {sinks} | burst | 60 |" in table
        assert f"| {sinks} | paced 20,000/s | 40 |" in table
    assert out.read_text().count('"sinks"') == 6
