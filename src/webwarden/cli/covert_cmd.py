"""`webwarden covert self-test`: what a website sees from a covert device (W3).

It asks the gateway's own self-test page (http://webwarden.invalid/self-test) through the
proxy, as the device would (from its address, signed in as its user), for JSON, and prints
it. Exit status: 0 when the device is on the covert profile, 1 when it is not, 2 when the
test could not be run.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import http.client
import json
import sys
from pathlib import Path
from typing import Any

from webwarden.gateway.config import PAGES_HOST, format_hostport, parse_hostport

SELF_TEST_PATH = "/self-test"
TIMEOUT = 30.0


class SelfTestError(Exception):
    """The self-test could not be run; the message says why, in words."""


def register(sub: argparse._SubParsersAction[Any]) -> None:
    covert = sub.add_parser("covert", help="the covert profile (W3)")
    csub = covert.add_subparsers(dest="covert_command", required=True, metavar="ACTION")
    test = csub.add_parser(
        "self-test",
        help="show what a website sees from a device, through the proxy",
        description="Fetch the gateway's self-test page through the proxy as a device and "
        "show what a website would get from it. Exit status 0: the device is on the covert "
        "profile; 1: it is not; 2: the test could not be run.",
    )
    test.add_argument("--proxy", required=True, type=_hostport, metavar="HOST:PORT",
                      help="the gateway's proxy address")
    test.add_argument("--user", required=True, metavar="ID", help="the person to sign in as")
    test.add_argument("--password-file", type=Path, metavar="FILE",
                      help="file whose first line is the password (default: ask)")
    test.add_argument("--source", metavar="ADDRESS",
                      help="local address to connect from: the device's address")
    test.add_argument("--json", action="store_true", help="print the page's JSON as it is")
    test.set_defaults(handler=_self_test)


def _hostport(text: str) -> tuple[str, int]:
    try:
        return parse_hostport(text, 3128)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _password(args: argparse.Namespace) -> str:
    if args.password_file is None:
        return getpass.getpass(f"Password for {args.user}: ")
    try:
        lines = args.password_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SelfTestError(f"cannot read the password file {args.password_file}: {exc}"
                            ) from None
    if not lines or not lines[0]:
        raise SelfTestError(f"the password file {args.password_file} is empty")
    password: str = lines[0]
    return password


def fetch_self_test(proxy: tuple[str, int], user: str, password: str,
                    source: str | None) -> dict[str, Any]:
    """The self-test page's JSON, asked for through the proxy as `user` from `source`."""
    host, port = proxy
    credentials = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    conn = http.client.HTTPConnection(
        host, port, timeout=TIMEOUT, source_address=(source, 0) if source else None
    )
    try:
        conn.request("GET", f"http://{PAGES_HOST}{SELF_TEST_PATH}", headers={
            "Host": PAGES_HOST,
            "Accept": "application/json",
            "Proxy-Authorization": f"Basic {credentials}",
        })
        response = conn.getresponse()
        body = response.read()
    except OSError as exc:
        where = format_hostport(host, port)
        raise SelfTestError(f"could not ask the proxy at {where}"
                            f"{f' from {source}' if source else ''}: {exc}") from None
    except http.client.HTTPException as exc:
        raise SelfTestError(f"the proxy's answer was not HTTP: {exc!r}") from None
    finally:
        conn.close()
    if response.status == 407:
        raise SelfTestError(f"the gateway did not accept the user name or password for {user}")
    if response.status != 200:
        raise SelfTestError(f"the gateway answered {response.status} {response.reason}")
    try:
        facts = json.loads(body)
    except ValueError:
        raise SelfTestError("the gateway's answer is not the self-test's JSON (is it a "
                            "webwarden gateway, and a version with the self-test?)") from None
    if not isinstance(facts, dict) or "covert" not in facts or "fields" not in facts:
        raise SelfTestError("the gateway's answer is not the self-test's JSON")
    return facts


def describe(facts: dict[str, Any]) -> str:
    """The self-test's findings for people."""
    out = [
        f"Device {facts.get('device')} ({facts.get('client_address')}), "
        f"signed in as {facts.get('person') or 'nobody'}",
    ]
    if facts["covert"]:
        out.append("Covert profile: yes. Websites see nothing of the organisation, the "
                   "gateway or this device.")
    else:
        out.append("WARNING: This device is not on the covert profile: websites see what "
                   "it sends now:")
        out += [f"    {f['name']}: {f['value']}" for f in facts.get("not_covert_fields", [])]
        out.append("What the covert profile would send instead:")
    out.append(f"Request a website gets ({facts.get('site')}):")
    out += [f"    {line}" for line in str(facts.get("request_head", "")).splitlines() if line]
    out.append("Fields:")
    for f in facts["fields"]:
        if f["change"] == "removed":
            out.append(f"    removed  {f['name']}: {f['original']}")
        elif f["change"] == "changed":
            out.append(f"    changed  {f['name']}: {f['original']}  ->  {f['sent']}")
        elif f["change"] == "added":
            out.append(f"    added    {f['name']}: {f['sent']}")
        else:
            out.append(f"    kept     {f['name']}: {f['sent']}")
    out.append(f"Connections leave from: {facts.get('source_address')}")
    tls = facts.get("tls")
    if isinstance(tls, dict):
        out.append(
            f"TLS: {', '.join(tls.get('versions', []))}; ALPN "
            f"{', '.join(tls.get('alpn', [])) or 'none'}; groups "
            f"{', '.join(tls.get('groups', []))}"
        )
        out.append(f"     JA3 {tls.get('ja3_md5')}  JA4 {tls.get('ja4')}")
    else:
        out.append(f"TLS: {facts.get('tls_problem') or 'not known'}")
    return "\n".join(out)


def _self_test(args: argparse.Namespace) -> int:
    try:
        facts = fetch_self_test(args.proxy, args.user, _password(args), args.source)
    except SelfTestError as exc:
        print(f"webwarden covert self-test: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        print(describe(facts))
    return 0 if facts["covert"] else 1
