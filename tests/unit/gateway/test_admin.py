"""The admin port's documents: PAC, health."""

from __future__ import annotations

import json
from pathlib import Path

from webwarden.gateway.admin import AdminState, WorkerHealth, pac_file
from webwarden.gateway.config import GatewayConfig


def test_pac_sends_everything_through_the_proxy_but_the_admin_pages() -> None:
    pac = pac_file("10.0.0.1:3128", "http://10.0.0.1:3129")
    assert 'shExpMatch(url, "http://10.0.0.1:3129/*")) return "DIRECT"' in pac
    assert pac.rstrip().endswith('return "PROXY 10.0.0.1:3128";\n}')
    assert "; DIRECT" not in pac  # no fallback: fail closed


def test_pac_names_the_address_clients_used_when_listening_everywhere(tmp_path: Path) -> None:
    config = GatewayConfig(listen=("0.0.0.0", 3128), admin=("0.0.0.0", 3129),
                           state_dir=tmp_path)
    pac = AdminState(config, list).pac("gw.example:3129").decode()
    assert "PROXY gw.example:3128" in pac and "http://gw.example:3129/*" in pac


def test_health(tmp_path: Path) -> None:
    config = GatewayConfig(state_dir=tmp_path)
    ok = [WorkerHealth(0, True, True, "", {"pid": 1})]
    status, body = AdminState(config, lambda: ok).health()
    assert status == 200 and json.loads(body)["status"] == "ok"
    bad = [*ok, WorkerHealth(1, True, False, "access log: disk full", {})]
    status, body = AdminState(config, lambda: bad).health()
    assert status == 503
    assert json.loads(body)["reasons"] == ["worker 1: access log: disk full"]
    status, _ = AdminState(config, list).health()
    assert status == 503
