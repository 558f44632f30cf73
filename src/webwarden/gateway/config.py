"""The gateway's settings: what the command line gives, with the defaults filled in.

The supervisor hands the same settings to every worker process as JSON, so a worker is
configured exactly as the command line said, whatever its environment.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webwarden.gateway.heads import COVERT_ACCEPT_LANGUAGE, COVERT_USER_AGENT

# The environment variable that hands a worker (and its audit process) the settings, as JSON.
CONFIG_ENV = "WEBWARDEN_GATEWAY_CONFIG"

STATE_DIR_ENV = "WEBWARDEN_STATE_DIR"
PAGES_HOST = "webwarden.invalid"  # reserved (RFC 2606): never a real site


def default_state_dir() -> Path:
    configured = os.environ.get(STATE_DIR_ENV)
    if configured:
        return Path(configured)
    return Path.home() / ".local" / "state" / "webwarden"


def parse_hostport(text: str, default_port: int | None = None) -> tuple[str, int]:
    """`HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces is never the default)."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:([0-9]{1,5})|([^:\[\]]*):([0-9]{1,5})", text)
    if m is None:
        if default_port is not None and re.fullmatch(r"[A-Za-z0-9.\-]+", text):
            return text, default_port
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    host = m.group(1) or m.group(3) or "0.0.0.0"
    port = int(m.group(2) or m.group(4))
    if port > 65535:
        raise ValueError(f"port {port} is out of range")
    return host, port


def format_hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_covert_settings(user_agent: str, accept_language: str, egress: str | None) -> None:
    """ValueError naming what is wrong: the header values must be printable ASCII (they are
    written into every covert request as they are), the egress an IP address."""
    for what, value in (("covert user agent", user_agent),
                        ("covert accept-language", accept_language)):
        if not value.strip() or not all(" " <= c <= "~" for c in value):
            raise ValueError(f"the {what} must be printable ASCII text, got {value!r}")
    if egress is not None:
        try:
            ipaddress.ip_address(egress)
        except ValueError:
            raise ValueError(f"the covert egress must be an IP address, got {egress!r}") from None


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. `head`: a request head must be complete this long after its first byte (or
    after the connection opened): 408. `idle`: a keep-alive connection with nothing to do
    is closed. `body`: a request body that makes no progress is abandoned. `connect`: an
    origin that does not accept the connection: 504. `upstream`: an origin that sends
    nothing for this long: 504 (or the download is cut). `tunnel`: a CONNECT tunnel with no
    traffic either way is closed. `drain`: how long shutdown waits for transactions."""

    head: float = 20.0
    idle: float = 60.0
    body: float = 60.0
    connect: float = 10.0
    upstream: float = 120.0
    tunnel: float = 600.0
    drain: float = 10.0


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    listen: tuple[str, int] = ("127.0.0.1", 3128)
    admin: tuple[str, int] = ("127.0.0.1", 3129)
    policy_paths: tuple[Path, ...] = ()  # empty: the shipped regimes
    directory_path: Path | None = None  # None: the demo directory
    grants_path: Path | None = None
    categories_path: Path | None = None  # None: the shipped snapshot
    overrides_path: Path | None = None
    workers: int = 1
    state_dir: Path = dataclasses.field(default_factory=default_state_dir)
    access_log: Path | None = None  # None: <state>/logs/access.log
    audit_jsonl_dir: Path | None = None  # None: <state>/logs
    db_url: str | None = None  # None: SQLite in the state directory
    request_access_url: str | None = None  # None: the page on the admin address
    connect_ports: frozenset[int] | None = None  # None: the policy's gateway.connect_ports
    allow_destinations: tuple[str, ...] = ()
    reload_poll_seconds: float = 1.5
    timeouts: Timeouts = dataclasses.field(default_factory=Timeouts)
    # HTTPS interception (G3, G6): on wherever the policy allows once a CA exists in
    # `ca_dir` (`webwarden ca init`); `intercept=False` relays every tunnel untouched.
    intercept: bool = True
    ca_dir: Path | None = None  # None: <state>/ca
    upstream_ca_bundle: Path | None = None  # trusted besides the system's store
    hosts_file: Path | None = None  # static names, read before DNS (gateway/hosts_file.py)
    # The organisation's names and DLP rules (the `check-post --config` format); None: the
    # shipped defaults (the seeds' force).
    organisation_config: Path | None = None
    # The covert profile (W3): what covert devices' requests say instead of the browser's
    # own, and the address their upstream connections leave from (None: the gateway's own).
    covert_user_agent: str = COVERT_USER_AGENT
    covert_accept_language: str = COVERT_ACCEPT_LANGUAGE
    covert_egress: str | None = None
    contact: str = (
        "Write to your gateway team (the IT service desk forwards requests to them) with "
        "the details on this page."
    )

    def __post_init__(self) -> None:
        check_covert_settings(self.covert_user_agent, self.covert_accept_language,
                              self.covert_egress)

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def metrics_dir(self) -> Path:
        return self.state_dir / "run" / "metrics"

    @property
    def effective_ca_dir(self) -> Path:
        return self.ca_dir if self.ca_dir is not None else self.state_dir / "ca"

    @property
    def leaf_cache_dir(self) -> Path:
        return self.state_dir / "run" / "leaves"

    @property
    def consent_key_path(self) -> Path:
        return self.state_dir / "consent.key"

    def admin_url(self, host_for_clients: str | None = None) -> str:
        host, port = self.admin
        if host in ("0.0.0.0", "::", ""):
            host = host_for_clients or "127.0.0.1"
        return "http://" + format_hostport(host, port)

    def effective_request_access_url(self) -> str:
        return self.request_access_url or self.admin_url() + "/request-access"

    def to_json(self) -> str:
        def plain(value: Any) -> Any:
            if isinstance(value, Path):
                return str(value)
            if isinstance(value, frozenset):
                return sorted(value)
            if isinstance(value, tuple):
                return [plain(v) for v in value]
            if isinstance(value, Timeouts):
                return dataclasses.asdict(value)
            return value

        return json.dumps({f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)})

    @classmethod
    def from_json(cls, text: str) -> GatewayConfig:
        raw = json.loads(text)

        def path(value: str | None) -> Path | None:
            return Path(value) if value is not None else None

        return cls(
            listen=(raw["listen"][0], int(raw["listen"][1])),
            admin=(raw["admin"][0], int(raw["admin"][1])),
            policy_paths=tuple(Path(p) for p in raw["policy_paths"]),
            directory_path=path(raw["directory_path"]),
            grants_path=path(raw["grants_path"]),
            categories_path=path(raw["categories_path"]),
            overrides_path=path(raw["overrides_path"]),
            workers=int(raw["workers"]),
            state_dir=Path(raw["state_dir"]),
            access_log=path(raw["access_log"]),
            audit_jsonl_dir=path(raw["audit_jsonl_dir"]),
            db_url=raw["db_url"],
            request_access_url=raw["request_access_url"],
            connect_ports=frozenset(raw["connect_ports"])
            if raw["connect_ports"] is not None
            else None,
            allow_destinations=tuple(raw["allow_destinations"]),
            reload_poll_seconds=float(raw["reload_poll_seconds"]),
            timeouts=Timeouts(**raw["timeouts"]),
            intercept=bool(raw["intercept"]),
            ca_dir=path(raw["ca_dir"]),
            upstream_ca_bundle=path(raw["upstream_ca_bundle"]),
            hosts_file=path(raw["hosts_file"]),
            organisation_config=path(raw["organisation_config"]),
            covert_user_agent=raw["covert_user_agent"],
            covert_accept_language=raw["covert_accept_language"],
            covert_egress=raw["covert_egress"],
            contact=raw["contact"],
        )
