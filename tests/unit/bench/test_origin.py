from __future__ import annotations

from pathlib import Path

import pytest

from gatewaybench import origin as origin_module
from gatewaybench.origin import Origin


def test_new_hits_counts_whole_new_lines_by_path_and_status(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(origin_module.time, "sleep", lambda seconds: None)
    log = tmp_path / "access.log"
    log.write_text("/1k 200\n/1k 200\n/1m?n=3 200\n/blocked 200\n/1k 5")
    origin = Origin(http_port=1, https_port=2, access_log=log)
    hits = origin.new_hits()
    assert hits == {"/1k 200": 2, "/1m 200": 1, "/blocked 200": 1}
    with open(log, "a") as f:
        f.write("02\n/1k 200\n")
    assert origin.new_hits() == {"/1k 502": 1, "/1k 200": 1}
    assert origin.new_hits() == {}


def test_urls_point_at_loopback() -> None:
    origin = Origin(http_port=8080, https_port=8443, access_log=Path("unused"))
    assert origin.url_1k == "http://127.0.0.1:8080/1k"
    assert origin.url_1m == "https://127.0.0.1:8443/1m"
