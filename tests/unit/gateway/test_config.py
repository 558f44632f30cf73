"""Settings: parsed from the command line, handed to workers as JSON unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from webwarden.cli import build_parser
from webwarden.cli.gateway_cmd import config_from_args
from webwarden.gateway.config import GatewayConfig, parse_hostport


@pytest.mark.parametrize("text, expected", [
    ("127.0.0.1:3128", ("127.0.0.1", 3128)),
    (":8080", ("0.0.0.0", 8080)),
    ("[::1]:3128", ("::1", 3128)),
    ("proxy.example:80", ("proxy.example", 80)),
])
def test_parse_hostport(text: str, expected: tuple[str, int]) -> None:
    assert parse_hostport(text) == expected


@pytest.mark.parametrize("text", ["3128", "host:", "host:99999", "[::1]"])
def test_bad_hostport(text: str) -> None:
    with pytest.raises(ValueError):
        parse_hostport(text)


def test_command_line_to_config_and_back(tmp_path: Path) -> None:
    args = build_parser().parse_args([
        "gateway", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:9", "--workers", "3",
        "--policy", "a.yaml", "--policy", "b.yaml", "--state-dir", str(tmp_path),
        "--connect-ports", "443,8443", "--allow-destination", "127.0.0.1/32",
        "--head-timeout", "2.5",
    ])
    config = config_from_args(args)
    assert config.workers == 3
    assert [p.name for p in config.policy_paths] == ["a.yaml", "b.yaml"]
    assert all(p.is_absolute() for p in config.policy_paths)
    assert config.connect_ports == frozenset({443, 8443})
    assert config.timeouts.head == 2.5
    assert GatewayConfig.from_json(config.to_json()) == config
    assert config.effective_request_access_url() == "http://127.0.0.1:9/request-access"


@pytest.mark.parametrize("argv", [
    ["gateway", "--workers", "0"],
    ["gateway", "--connect-ports", "0"],
    ["gateway", "--allow-destination", "nonsense"],
    ["gateway", "--listen", "nope:x"],
])
def test_bad_options_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)
