"""The covert profile's settings: from the command line into the config, through the JSON a
worker gets, and refused when they could not be written into a request or bound to."""

from __future__ import annotations

from pathlib import Path

import pytest

from webwarden.cli import build_parser
from webwarden.cli.gateway_cmd import config_from_args
from webwarden.gateway.config import GatewayConfig
from webwarden.gateway.heads import COVERT_ACCEPT_LANGUAGE, COVERT_USER_AGENT


@pytest.mark.parametrize(
    ("options", "user_agent", "language", "egress"),
    [
        ([], COVERT_USER_AGENT, COVERT_ACCEPT_LANGUAGE, None),
        (["--covert-egress", "192.0.2.10"], COVERT_USER_AGENT, COVERT_ACCEPT_LANGUAGE,
         "192.0.2.10"),
        (["--covert-egress", "2001:db8::10", "--covert-user-agent", "Mozilla/5.0 (Macintosh)",
          "--covert-accept-language", "en-US,en;q=0.8"],
         "Mozilla/5.0 (Macintosh)", "en-US,en;q=0.8", "2001:db8::10"),
    ],
)
def test_covert_options(tmp_path: Path, options: list[str], user_agent: str, language: str,
                        egress: str | None) -> None:
    args = build_parser().parse_args(["gateway", "--state-dir", str(tmp_path), *options])
    config = config_from_args(args)
    assert (config.covert_user_agent, config.covert_accept_language, config.covert_egress) == (
        user_agent, language, egress
    )
    assert GatewayConfig.from_json(config.to_json()) == config


@pytest.mark.parametrize("options", [
    ["--covert-egress", "gateway.example"],
    ["--covert-egress", "10.0.0.0/8"],
    ["--covert-egress", ""],
    ["--covert-user-agent", "Evil\r\nX-Injected: 1"],
    ["--covert-user-agent", "  "],
    ["--covert-accept-language", "français"],
])
def test_bad_covert_options_are_refused(options: list[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["gateway", *options])


@pytest.mark.parametrize(("field", "value", "message"), [
    ("covert_egress", "not-an-address", "covert egress must be an IP address"),
    ("covert_user_agent", "a\nb", "covert user agent must be printable ASCII"),
    ("covert_accept_language", "", "covert accept-language must be printable ASCII"),
])
def test_bad_covert_settings_name_what_is_wrong(field: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GatewayConfig(**{field: value})  # type: ignore[arg-type]
