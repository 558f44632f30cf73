"""Squid's URL-rewrite helper protocol (`url_rewrite_program`), as pure functions.

Squid writes one request a line: `[channel-ID] URL client_ip/fqdn user method [key=value…]`
(the default `url_rewrite_extras`), and reads one answer a line, in order per channel:

- `ERR` leaves the request alone (allowed);
- `OK status=302 url="…"` sends the browser to the gateway's "ask for access" page with
  the facts of the decision (the same parameters a block page's link carries);
- `BH message="…"` says the helper could not judge the line (Squid treats it as a failure).

Squid authenticates the person (`user`); the client address maps to a device through the
directory, exactly as in webwarden's own gateway. A CONNECT line carries `host:port`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from webwarden.categories.normalise import HostError
from webwarden.identity.directory import Directory
from webwarden.model.decision import Decision, Effect
from webwarden.model.people import Principal
from webwarden.model.request import Destination, Facts
from webwarden.policy.scenario import ScenarioError, destination_for


class LineError(ValueError):
    """A line that is not a rewrite request."""


@dataclass(frozen=True, slots=True)
class HelperRequest:
    channel: str | None
    url: str
    client: str
    user: str | None
    method: str


def parse_line(line: str) -> HelperRequest:
    fields = line.split()
    channel = None
    if fields and fields[0].isdigit():
        channel = fields.pop(0)
    if len(fields) < 4:
        raise LineError("expected: [channel] URL client/fqdn user method")
    url, client_fqdn, user, method = fields[:4]
    client = client_fqdn.split("/", 1)[0]
    return HelperRequest(
        channel=channel,
        url=url,
        client=client,
        user=None if user == "-" else _unescape(user),
        method=method.upper(),
    )


def _unescape(user: str) -> str:
    # Squid %-encodes the user name field.
    from urllib.parse import unquote

    return unquote(user)


def destination_of(request: HelperRequest, lookup: object) -> Destination:
    """The destination of a line; CONNECT lines name `host:port`."""
    url = request.url
    if request.method == "CONNECT":
        host, _, port = url.rpartition(":")
        url = f"https://{host or url}:{port if host else 443}/"
    return destination_for(url, None, lookup)  # type: ignore[arg-type]


def facts_for_line(
    request: HelperRequest, directory: Directory, lookup: object, at: datetime
) -> Facts:
    principal: Principal | None = None
    if request.user is not None:
        principal = directory.person(request.user)
    try:
        destination = destination_of(request, lookup)
    except (ScenarioError, HostError) as exc:
        raise LineError(str(exc)) from exc
    return Facts(
        device=directory.device_for_address(request.client),
        destination=destination,
        method=request.method,
        at=at,
        principal=principal,
    )


def answer(request: HelperRequest, decision: Decision | None, block_url: str,
           error: str | None = None, facts: Facts | None = None) -> str:
    prefix = f"{request.channel} " if request.channel is not None else ""
    if error is not None or decision is None:
        return f'{prefix}BH message="{_quoted(error or "no decision")}"'
    if decision.effect is Effect.ALLOW:
        return f"{prefix}ERR"
    query = urlencode(
        {
            "url": request.url,
            "effect": decision.effect.value,
            "rule": ",".join(decision.rule_ids),
            "clause": ",".join(r.clause for r in decision.rules),
            "categories": ",".join(sorted(decision.categories)),
            "decision": decision.id,
            "person": request.user or "",
            "device": facts.device.id if facts is not None else "",
            "time": facts.at.isoformat(timespec="seconds") if facts is not None else "",
        }
    )
    return f'{prefix}OK status=302 url="{_quoted(f"{block_url}?{query}")}"'


def answer_bad_line(line: str, error: str) -> str:
    fields = line.split()
    prefix = f"{fields[0]} " if fields and fields[0].isdigit() else ""
    return f'{prefix}BH message="{_quoted(error)}"'


def _quoted(text: str) -> str:
    # Squid's quoted-string: no raw quotes, backslashes or line breaks inside.
    return quote(text, safe=":/?&=,;+@%.-_~*'()!$")
