"""The worker's interceptor: off without a CA or with --no-intercept; a rotated CA's new
generation taken up once its grace period ends."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from webwarden.gateway.config import GatewayConfig
from webwarden.gateway.interceptor import interception_state, open_interceptor, renewed
from webwarden.gateway.tls.authority import CaError, init_ca, rotate_ca


def config(tmp_path: Path, **changes: object) -> GatewayConfig:
    return dataclasses.replace(GatewayConfig(state_dir=tmp_path), **changes)  # type: ignore[arg-type]


def test_no_ca_means_no_interception_and_the_banner_says_how(tmp_path: Path) -> None:
    assert open_interceptor(config(tmp_path)) is None
    assert "webwarden ca init" in interception_state(config(tmp_path))
    init_ca(tmp_path / "ca", now=datetime.now(UTC))
    assert open_interceptor(config(tmp_path, intercept=False)) is None
    assert "--no-intercept" in interception_state(config(tmp_path, intercept=False))
    assert open_interceptor(config(tmp_path)) is not None
    assert interception_state(config(tmp_path)).startswith("on")


def test_an_unsafe_ca_stops_the_start(tmp_path: Path) -> None:
    files = init_ca(tmp_path / "ca", now=datetime.now(UTC))
    files.key_path.chmod(0o644)
    with pytest.raises(CaError):
        open_interceptor(config(tmp_path))


def test_a_rotation_is_taken_up_once_its_grace_period_ends(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    init_ca(tmp_path / "ca", now=now - timedelta(days=1))
    rotate_ca(tmp_path / "ca", grace=timedelta(hours=1), now=now)
    cfg = config(tmp_path)
    current = open_interceptor(cfg)
    assert current is not None and current.signing_until is not None
    assert abs(current.signing_until - (now + timedelta(hours=1))) < timedelta(seconds=5)
    assert not current.due(now) and current.due(now + timedelta(hours=1, seconds=5))
    assert renewed(cfg, current, now) is current
    assert renewed(cfg, current, now + timedelta(hours=2)) is not current
    assert renewed(cfg, None, now) is None
