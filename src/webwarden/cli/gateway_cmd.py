"""`webwarden gateway`: run the forward proxy (see docs/gateway.md and docs/operations.md)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from webwarden.gateway.config import (
    GatewayConfig,
    Timeouts,
    check_covert_settings,
    default_state_dir,
    parse_hostport,
)
from webwarden.gateway.heads import COVERT_ACCEPT_LANGUAGE, COVERT_USER_AGENT

_DEFAULTS = Timeouts()


def _hostport(default_port: int) -> Any:
    def parse(text: str) -> tuple[str, int]:
        try:
            return parse_hostport(text, default_port)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _ports(text: str) -> frozenset[int]:
    try:
        ports = frozenset(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ports like 443,8443, got {text!r}") from None
    if not ports or any(not 0 < p < 65536 for p in ports):
        raise argparse.ArgumentTypeError(f"expected ports like 443,8443, got {text!r}")
    return ports


def _cidr(text: str) -> str:
    from webwarden.gateway.addresses import parse_networks

    try:
        parse_networks([text])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("between 1 and 64 workers")
    return value


def _address(text: str) -> str:
    try:
        check_covert_settings("-", "-", text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _header_text(text: str) -> str:
    try:
        check_covert_settings(text, text, None)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be printable ASCII text, got {text!r}"
        ) from None
    return text


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add `gateway` to the `webwarden` parser."""
    p = sub.add_parser(
        "gateway",
        help="run the forward proxy",
        description="Run webwarden's forward proxy: every request is judged by the policy "
        "and recorded in the audit trail. See docs/gateway.md.",
    )
    p.add_argument("--listen", type=_hostport(3128), default=("127.0.0.1", 3128),
                   metavar="HOST:PORT", help="proxy address (default 127.0.0.1:3128)")
    p.add_argument("--admin", type=_hostport(3129), default=("127.0.0.1", 3129),
                   metavar="HOST:PORT",
                   help="admin address: metrics, health, PAC file, pages (default "
                   "127.0.0.1:3129); never reachable through the proxy")
    p.add_argument("--policy", type=Path, action="append", default=[], metavar="FILE",
                   help="policy file (repeatable; default: the shipped 2009 and 2013 regimes)")
    p.add_argument("--directory", type=Path, metavar="FILE",
                   help="people and devices (default: the demo directory)")
    p.add_argument("--grants", type=Path, metavar="FILE", help="approved exceptions (G10)")
    p.add_argument("--categories", type=Path, metavar="SNAPSHOT",
                   help="compiled category snapshot (default: built from the shipped lists)")
    p.add_argument("--overrides", type=Path, metavar="FILE", help="local category overrides")
    p.add_argument("--workers", type=_workers, default=1, metavar="N",
                   help="worker processes sharing the proxy port (default 1)")
    p.add_argument("--state-dir", type=Path, metavar="DIR",
                   help="logs, database, keys (default $WEBWARDEN_STATE_DIR or "
                   "~/.local/state/webwarden)")
    p.add_argument("--access-log", type=Path, metavar="FILE",
                   help="Squid-format access log (default <state>/logs/access.log)")
    p.add_argument("--audit-jsonl", type=Path, metavar="DIR",
                   help="folder for the audit JSON lines, one file per worker "
                   "(default <state>/logs)")
    p.add_argument("--db", metavar="URL",
                   help="database URL (default: SQLite in the state directory)")
    p.add_argument("--request-access-url", metavar="URL",
                   help="where 'Ask for access' on block pages leads (default: the page on "
                   "the admin address)")
    p.add_argument("--connect-ports", type=_ports, metavar="PORTS",
                   help="ports CONNECT may reach, e.g. 443,8443 (default: the policy's "
                   "gateway.connect_ports, normally 443)")
    p.add_argument("--allow-destination", type=_cidr, action="append", default=[],
                   metavar="CIDR",
                   help="DANGEROUS: let the proxy connect to this private/loopback network "
                   "(repeatable; for test origins and benchmarks only)")
    p.add_argument("--no-intercept", dest="intercept", action="store_false",
                   help="never decrypt HTTPS: every tunnel is relayed untouched (by default "
                   "the gateway decrypts where the policy allows, once a CA exists: "
                   "'webwarden ca init')")
    p.add_argument("--ca-dir", type=Path, metavar="DIR",
                   help="the CA that signs the certificates shown to browsers (default: "
                   "<state>/ca)")
    p.add_argument("--upstream-ca-bundle", type=Path, metavar="FILE",
                   help="PEM certificates trusted for sites besides the system's store "
                   "(an internal CA, for instance)")
    p.add_argument("--hosts-file", type=Path, metavar="FILE",
                   help="static host names in /etc/hosts form, looked up before DNS (like "
                   "Squid's hosts_file); the addresses still pass the destination checks")
    p.add_argument("--covert-egress", type=_address, metavar="ADDRESS",
                   help="source address for upstream connections from covert devices (W3; "
                   "default: the gateway's own)")
    p.add_argument("--covert-user-agent", type=_header_text, default=COVERT_USER_AGENT,
                   metavar="TEXT", help="User-Agent covert requests carry (default: a "
                   "current desktop Chrome on Windows)")
    p.add_argument("--covert-accept-language", type=_header_text,
                   default=COVERT_ACCEPT_LANGUAGE, metavar="TEXT",
                   help=f"Accept-Language covert requests carry (default {COVERT_ACCEPT_LANGUAGE})")
    p.add_argument("--organisation-config", type=Path, metavar="FILE",
                   help="the organisation's names, e-mail domains, reference formats and logos "
                   "the upload detectors look for (the format of 'check-post --config'; "
                   "default: the shipped force's)")
    p.add_argument("--head-timeout", type=_positive, default=_DEFAULTS.head, metavar="SECONDS",
                   help=f"a request head must arrive within this time (default {_DEFAULTS.head:g})")
    p.add_argument("--idle-timeout", type=_positive, default=_DEFAULTS.idle, metavar="SECONDS",
                   help=f"idle keep-alive connections close after this (default "
                   f"{_DEFAULTS.idle:g})")
    p.set_defaults(handler=run)


def _absolute(path: Path | None) -> Path | None:
    return path.absolute() if path is not None else None


def config_from_args(args: argparse.Namespace) -> GatewayConfig:
    timeouts = dataclasses.replace(Timeouts(), head=args.head_timeout, idle=args.idle_timeout)
    return GatewayConfig(
        listen=args.listen,
        admin=args.admin,
        policy_paths=tuple(p.absolute() for p in args.policy),
        directory_path=_absolute(args.directory),
        grants_path=_absolute(args.grants),
        categories_path=_absolute(args.categories),
        overrides_path=_absolute(args.overrides),
        workers=args.workers,
        state_dir=(args.state_dir or default_state_dir()).absolute(),
        access_log=_absolute(args.access_log),
        audit_jsonl_dir=_absolute(args.audit_jsonl),
        db_url=args.db,
        request_access_url=args.request_access_url,
        connect_ports=args.connect_ports,
        allow_destinations=tuple(args.allow_destination),
        timeouts=timeouts,
        covert_user_agent=args.covert_user_agent,
        covert_accept_language=args.covert_accept_language,
        covert_egress=args.covert_egress,
        intercept=args.intercept,
        ca_dir=_absolute(args.ca_dir),
        upstream_ca_bundle=_absolute(args.upstream_ca_bundle),
        hosts_file=_absolute(args.hosts_file),
        organisation_config=_absolute(args.organisation_config),
    )


def run(args: argparse.Namespace) -> int:
    from webwarden.gateway import supervisor

    return supervisor.run(config_from_args(args))
