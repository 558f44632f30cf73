"""What a worker needs to decrypt tunnels: the leaf minter (the CA's certificates for each
site, shared by the workers) and the TLS context for sites. None when interception is off
(`--no-intercept`) or no CA exists yet: then every tunnel is relayed untouched, as before
interception existed, and the start-up banner says so."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime

from webwarden.gateway.config import GatewayConfig
from webwarden.gateway.tls.authority import STATE_FILE, load_ca
from webwarden.gateway.tls.leaves import LeafMinter
from webwarden.gateway.tls.verify import upstream_context


@dataclass(frozen=True, slots=True)
class Interceptor:
    minter: LeafMinter
    upstream: ssl.SSLContext
    # When a rotated CA's new generation takes over (None: no rotation under way); the
    # worker opens the interceptor again then (`renewed`).
    signing_until: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self.signing_until is not None and now >= self.signing_until


def _now() -> datetime:
    return datetime.now(UTC)


def _has_ca(config: GatewayConfig) -> bool:
    return (config.effective_ca_dir / STATE_FILE).exists()


def interception_state(config: GatewayConfig) -> str:
    """In words, for the start-up banner."""
    if not config.intercept:
        return "off (--no-intercept): HTTPS tunnels are relayed untouched"
    if not _has_ca(config):
        return (f"off: no CA in {config.effective_ca_dir} ('webwarden ca init' creates one); "
                "HTTPS tunnels are relayed untouched")
    return f"on where the policy allows (CA in {config.effective_ca_dir})"


def open_interceptor(config: GatewayConfig) -> Interceptor | None:
    """The worker's interceptor, or None when interception is off. A CA that exists but
    cannot be used (unreadable, key open to others, inconsistent) raises CaError: the
    gateway refuses to start rather than quietly relaying what the policy says to
    inspect."""
    if not config.intercept or not _has_ca(config):
        return None
    ca = load_ca(config.effective_ca_dir, _now())
    config.leaf_cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    minter = LeafMinter(ca, config.leaf_cache_dir, now=_now)
    return Interceptor(minter=minter, upstream=upstream_context(config.upstream_ca_bundle),
                       signing_until=ca.signing_until)


def renewed(
    config: GatewayConfig, current: Interceptor | None, now: datetime
) -> Interceptor | None:
    """The interceptor to use from now on: `current`, or a new one once a rotation's new
    CA generation has taken over (browsers were given it during the grace period). A CA
    that cannot be loaded then keeps the current one and raises, for the log."""
    if current is None or not current.due(now):
        return current
    return open_interceptor(config)
