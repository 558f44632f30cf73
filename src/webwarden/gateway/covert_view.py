"""What a website sees from a covert device (W3), for the self-test page and command (pure).

The request head comes from the very function the gateway sends heads with, so the page
cannot drift from what the gateway does; the TLS summary comes from the gateway's upstream
TLS client driven through memory BIOs to its first flight, read back with the gateway's
own ClientHello reader.
"""

from __future__ import annotations

import functools
import ipaddress
import ssl
from dataclasses import dataclass

from webwarden.gateway.config import GatewayConfig
from webwarden.gateway.heads import upstream_request_head
from webwarden.gateway.http1 import RequestHead
from webwarden.gateway.target import Target
from webwarden.gateway.tls.client_hello import ClientHello, read_client_hello

GATEWAY_ADDRESS = "the gateway's own address"
_REPLACED = frozenset({"host", "user-agent", "accept-language"})
# Credentials are never shown back, not even to the device that sent them: the page may be
# seen over a shoulder or pasted into a ticket.
_SECRET = frozenset({"proxy-authorization", "authorization", "cookie"})
HIDDEN = "(not shown)"


@functools.cache
def _default_context() -> ssl.SSLContext:
    # Loading the system's trust store takes tens of milliseconds: once per process.
    return ssl.create_default_context()


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One header field as the device sent it and as the destination gets it. `change` is
    "kept", "changed" (a fixed value instead of the device's), "added" or "removed"."""

    name: str
    sent: str | None  # what the destination gets; None when removed
    original: str | None  # what the device sent; None when added
    change: str


@dataclass(frozen=True, slots=True)
class CovertView:
    """The request head a destination would get, field by field, where the connection comes
    from, and what the gateway's TLS client tells it (or why that could not be read)."""

    head: bytes
    fields: tuple[FieldChange, ...]
    source_address: str
    tls: dict[str, object] | None
    tls_problem: str

    def shown_head(self) -> str:
        """The head as text, credentials hidden."""
        request_line = self.head.decode("latin-1").split("\r\n", 1)[0]
        lines = [request_line, *(f"{name}: {value}" for name, value in head_fields(self.head))]
        return "\r\n".join(lines) + "\r\n\r\n"

    def to_json(self) -> dict[str, object]:
        return {
            "request_head": self.shown_head(),
            "fields": [
                {"name": f.name, "sent": f.sent, "original": f.original, "change": f.change}
                for f in self.fields
            ],
            "source_address": self.source_address,
            "tls": self.tls,
            "tls_problem": self.tls_problem,
        }


def what_destination_sees(
    request_head: RequestHead,
    target: Target,
    config: GatewayConfig,
    *,
    hello_context: ssl.SSLContext | None = None,
) -> CovertView:
    """The covert view of `request_head` sent to `target`, under `config`'s covert settings.
    `hello_context` is the upstream TLS client context (default: the standard library's
    default client context)."""
    body = "chunked" if request_head.chunked else (
        "length" if request_head.content_length else "none"
    )
    head = upstream_request_head(
        request_head,
        target,
        covert=True,
        body=body,
        user_agent=config.covert_user_agent.encode("ascii"),
        accept_language=config.covert_accept_language.encode("ascii"),
    )
    hello = first_client_hello(hello_context or _default_context(), target.host)
    return CovertView(
        head=head,
        fields=compare_fields(request_head, head),
        source_address=config.covert_egress or GATEWAY_ADDRESS,
        tls=hello.summary() if isinstance(hello, ClientHello) else None,
        tls_problem=hello if isinstance(hello, str) else "",
    )


def head_fields(head: bytes) -> list[tuple[str, str]]:
    """The (name, value) field lines of a request head, in order, names as written;
    credentials hidden."""
    out: list[tuple[str, str]] = []
    for line in head.decode("latin-1").split("\r\n")[1:]:
        if not line:
            break
        name, _, value = line.partition(":")
        out.append((name, HIDDEN if name.lower() in _SECRET else value.strip(" \t")))
    return out


def compare_fields(request_head: RequestHead, sent_head: bytes) -> tuple[FieldChange, ...]:
    """The fields sent, each marked against the device's own, then those removed."""
    original = head_fields(request_head.raw)
    sent = head_fields(sent_head)
    theirs: dict[str, list[str]] = {}
    for name, value in original:
        theirs.setdefault(name.lower(), []).append(value)
    sent_pairs = {(name.lower(), value) for name, value in sent}
    sent_names = {name for name, _ in sent_pairs}
    changes: list[FieldChange] = []
    for name, value in sent:
        values = theirs.get(name.lower())
        if values is None:
            changes.append(FieldChange(name, value, None, "added"))
        elif value in values:
            changes.append(FieldChange(name, value, value, "kept"))
        else:
            changes.append(FieldChange(name, value, values[0], "changed"))
    for name, value in original:
        key = name.lower()
        # A field whose value was replaced is shown once, as changed, above.
        replaced = key in sent_names and key in _REPLACED
        if (key, value) not in sent_pairs and not replaced:
            changes.append(FieldChange(name, None, value, "removed"))
    return tuple(changes)


def first_client_hello(context: ssl.SSLContext, host: str) -> ClientHello | str:
    """The ClientHello `context` sends to `host` (read, not sent anywhere), or a reason."""
    try:
        ipaddress.ip_address(host)
        server_name: str | None = None  # no SNI for an address, as browsers do
    except ValueError:
        server_name = host
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    try:
        tls = context.wrap_bio(incoming, outgoing, server_hostname=server_name)
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass  # the first flight is written and it now waits for the server: as wanted
    except (ssl.SSLError, ValueError) as exc:
        return f"the TLS client could not start: {exc}"
    else:
        return "the TLS client finished a handshake with nobody (it should not)"
    result = read_client_hello(outgoing.read())
    if isinstance(result, ClientHello):
        return result
    return f"the TLS client's first flight could not be read: {result}"
