"""One client connection to the proxy port: requests in, decisions, responses out.

The hot path (a keep-alive request to an origin with an idle pooled connection) runs as
plain callbacks, with no task and no await: head parsed → identity → categories → decision
→ request written upstream → response head and body streamed back. Tasks are created only
for what must wait: name resolution and connecting, the database (consents) and tunnels.

One request is handled at a time per connection; pipelined requests wait in the buffer
(reading pauses if too much piles up). Bodies stream both ways with backpressure: when a
write buffer fills, the other side stops reading until it drains.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote

from webwarden.gateway import local_pages
from webwarden.gateway.addresses import SAFE_HTTP_PORTS
from webwarden.gateway.chunked import LAST_CHUNK, ChunkedDecoder, encode_chunk
from webwarden.gateway.config import PAGES_HOST
from webwarden.gateway.connect import ConnectFailedError
from webwarden.gateway.consent_token import TOKEN_LIFETIME_SECONDS, ConsentTicket
from webwarden.gateway.context import WorkerContext
from webwarden.gateway.decrypted import DecryptedTransport
from webwarden.gateway.encoding import decoded_head
from webwarden.gateway.heads import (
    client_response_head,
    header_safe,
    local_response,
    upstream_request_head,
)
from webwarden.gateway.http1 import (
    HOP_BY_HOP,
    HttpError,
    RequestHead,
    check_incomplete,
    find_head_end,
    parse_request_head,
    skip_leading_blank_lines,
)
from webwarden.gateway.target import (
    Target,
    check_host_header,
    normalise_host,
    parse_inner_target,
    parse_target,
)
from webwarden.gateway.tls.client_hello import ClientHello, NeedMore, read_client_hello
from webwarden.gateway.tls.session import ClientTls, Closed, Data, Established, Failed
from webwarden.gateway.tls.verify import explain_verify_failure
from webwarden.gateway.tunnel import TunnelUpstream
from webwarden.gateway.upstream import UpstreamConnection
from webwarden.inspection.filetype import SNIFF_BYTES, sniff
from webwarden.inspection.uploads import describe_findings, read_upload, record_findings
from webwarden.inspection.window import InspectionWindow
from webwarden.inspection.zipstream import ZipStreamTyper, type_member
from webwarden.interception import TunnelAction, TunnelPlan, inner_may_forward, plan_tunnel
from webwarden.model.decision import Decision, Effect, Obligation
from webwarden.model.request import Consent, ConsentScopeKind, ContentFacts, Destination
from webwarden.model.transaction import AuthStatus, Outcome, Transaction
from webwarden.pipeline import (
    Identities,
    Snapshot,
    categorise,
    categorise_and_decide,
    challenge_for_credentials,
    connect_ports,
    content_may_block,
    decide_content,
    decide_request,
)

log = logging.getLogger("webwarden.gateway")

# The connection's states, and the only moves between them (`_goto` refuses any other: a
# move outside the table is a bug, and the connection fails closed).
#
# | from      | to                        | when                                          |
# |-----------|---------------------------|-----------------------------------------------|
# | IDLE      | BUSY                      | a request head is complete (or cannot be)     |
# | BUSY      | IDLE                      | the transaction ended, the connection is kept |
# | BUSY      | TUNNEL                    | a CONNECT spliced (no interception), or a     |
# |           |                           | WebSocket's 101                               |
# | BUSY      | PEEK                      | interception: the CONNECT accepted, the       |
# |           |                           | ClientHello awaited                           |
# | PEEK      | TUNNEL                    | the plan says splice                          |
# | PEEK      | DECRYPTED                 | the plan says decrypt (or show a page): the   |
# |           |                           | client speaks TLS to the gateway, an inner    |
# |           |                           | connection runs the requests inside           |
# | any       | CLOSED                    | closed by either side                         |
IDLE, BUSY, TUNNEL, CLOSED, PEEK, DECRYPTED = range(6)
STATE_NAMES = ("IDLE", "BUSY", "TUNNEL", "CLOSED", "PEEK", "DECRYPTED")
TRANSITIONS: tuple[frozenset[int], ...] = (
    frozenset({BUSY, CLOSED}),  # IDLE
    frozenset({IDLE, TUNNEL, PEEK, CLOSED}),  # BUSY
    frozenset({CLOSED}),  # TUNNEL
    frozenset({CLOSED}),  # CLOSED
    frozenset({TUNNEL, DECRYPTED, CLOSED}),  # PEEK
    frozenset({CLOSED}),  # DECRYPTED
)
# What the deadline guards
NO_DEADLINE, HEAD_DEADLINE, IDLE_DEADLINE, BODY_DEADLINE, UPSTREAM_DEADLINE, TUNNEL_DEADLINE = (
    range(6)
)
# Why reading from the client is paused (bit flags)
PAUSE_UPSTREAM, PAUSE_BUFFER, PAUSE_WAIT, PAUSE_INNER = 1, 2, 4, 8
MAX_PIPELINED = 256 * 1024
MAX_LOCAL_BODY = 16 * 1024
PENDING_BODY_LIMIT = 256 * 1024
# A zip download is held this far while its members are typed, so that a blocked member
# gets the block page; past it the rest streams, and a blocked member cuts the download.
ZIP_HOLD_BYTES = 1024 * 1024

CONTINUE_100 = b"HTTP/1.1 100 Continue\r\n\r\n"
ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"
# Inside a decrypted tunnel, the gateway's own pages (notice acceptance) live under this
# path of the site itself: a form posted from an https page to http:// would warn.
INNER_PAGES_PREFIX = "/.well-known/webwarden/"
_VERSION_TEXT = {(1, minor): f"1.{minor}" for minor in range(10)}
REQUEST_TIMEOUT = local_response(
    408, b"The request did not arrive in time.\n", content_type=b"text/plain", keep_alive=False
)


def wants_websocket(req: RequestHead) -> bool:
    """A WebSocket opening handshake (RFC 6455: GET with Upgrade: websocket)."""
    if req.method != "GET" or b"upgrade" not in req.names:
        return False
    value = req.get(b"upgrade")
    return (
        value is not None
        and value.strip().lower() == b"websocket"
        and b"upgrade" in req.connection_tokens
    )


def switching_head(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The 101 sent to the client: the origin's fields (Sec-WebSocket-Accept and the
    like) with the gateway's own hop-by-hop ones."""
    parts = [b"HTTP/1.1 101 Switching Protocols\r\n"]
    for name, value in headers:
        if name in HOP_BY_HOP or name == b"content-length":
            continue
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
    return b"".join(parts)


def _filename(
    path: str, headers: list[tuple[bytes, bytes]], fields: dict[bytes, bytes] | None = None
) -> str | None:
    """The file name of a download: Content-Disposition's (the first), else the URL's last
    path segment. `fields` (the headers by name), when given, saves the search."""
    if fields is None or b"content-disposition" in fields:
        for name, value in headers:
            if name == b"content-disposition":
                text = value.decode("latin-1")
                for part in text.split(";"):
                    key, _, val = part.strip().partition("=")
                    if key.lower() == "filename":
                        return val.strip().strip('"') or None
    last = path.split("?", 1)[0].rsplit("/", 1)[-1]
    return unquote(last) or None


@dataclass(frozen=True, slots=True)
class Inside:
    """What an inner connection (the requests inside a decrypted tunnel) inherits from
    its tunnel: the site it was opened for, the plan, and the CONNECT's credentials
    (browsers send Proxy-Authorization to the proxy, never inside the tunnel)."""

    host: str
    port: int
    plan: TunnelPlan
    proxy_authorization: str | None


class ProxyConnection(asyncio.Protocol):
    def __init__(self, ctx: WorkerContext, inside: Inside | None = None) -> None:
        self.ctx = ctx
        self.inside = inside
        # A decrypted tunnel's parts (outer connection only).
        self.tls: ClientTls | None = None
        self.inner: ProxyConnection | None = None
        self.plan: TunnelPlan | None = None
        self._tunnel_decision: Decision | None = None
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_event_loop()
        self.client_ip = ""
        self.buffer = bytearray()
        self.state = IDLE
        self.deadline = 0.0
        self.deadline_kind = NO_DEADLINE
        self.closed = False
        self._paused = 0
        # Response bytes gathered while one read from the origin is handled, written to
        # the client in one go (head and body in one writev, not a write each).
        self._out: list[bytes] = []
        self.identities = Identities(ctx.devices)
        self._reset()

    def _reset(self) -> None:
        """Forget the finished transaction."""
        self.txn: Transaction | None = None
        self.req: RequestHead | None = None
        self.target: Target | None = None
        self.snapshot: Snapshot | None = None
        self.keep_alive = True
        self.body_left = 0
        self.chunked: ChunkedDecoder | None = None
        self.body_done = True
        self.body_chunked_upstream = False
        self.body_pending: list[bytes] | None = None
        self.local_body: bytearray | None = None
        self.upstream: UpstreamConnection | None = None
        self.upstream_head = b""
        self.reused = False
        self.retried = False
        self.head_sent = False
        self.out_framing = "none"
        self.response_head: tuple[int, bytes, list[tuple[bytes, bytes]]] | None = None
        self.holding = False
        self.held: list[bytes] | None = None
        self.held_bytes = 0
        self.limit: int | None = None
        self.counted = 0
        self.size_checked = False
        self.declared_size: int | None = None
        self.tunnel: TunnelUpstream | None = None
        self.expect_continue = False
        self.websocket = False
        self.upload: InspectionWindow | None = None  # an upload held for the detectors
        self._inspecting = False
        self.zip_typer: ZipStreamTyper | None = None  # a zip download's members, typed
        self.client_eof = False
        self.upstream_eof = False
        self._local_body_waiter: asyncio.Future[None] | None = None

    # ---------------------------------------------------------------- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.set_write_buffer_limits(high=256 * 1024)
        peer = transport.get_extra_info("peername")
        self.client_ip = str(peer[0]) if peer else "-"
        if self.client_ip.startswith("::ffff:") and "." in self.client_ip:
            self.client_ip = self.client_ip[7:]
        self.ctx.connections.add(self)
        if self.ctx.metrics is not None and self.inside is None:
            self.ctx.metrics.connection_opened()
        self._set_deadline(HEAD_DEADLINE, self.ctx.config.timeouts.head)

    def data_received(self, data: bytes) -> None:
        try:
            self._data_received(data)
        except Exception:
            self._crashed()

    def _crashed(self) -> None:
        """A bug, not a bad request: log it, answer 500 if nothing was sent yet, close
        (fail closed: the transaction is recorded with the error)."""
        log.exception("transaction failed")
        conn, self.upstream = self.upstream, None
        if conn is not None:
            conn.abort()
        if self.txn is not None and not self.head_sent and not self.closed:
            try:
                self._internal_error("The gateway failed while handling this request.")
                return
            except Exception:
                log.exception("answering the failed transaction failed too")
        if self.txn is not None:
            self.txn.error = self.txn.error or "internal error"
            self._end(Outcome.ABORTED, close=True)
        elif not self.closed:
            self._close()

    def _data_received(self, data: bytes) -> None:
        state = self.state
        if state == TUNNEL:
            self._tunnel_from_client(data)
            return
        if state == DECRYPTED:
            self._tls_from_client(data)
            return
        if state == PEEK:
            self.buffer += data
            if self.plan is None:
                self._peek()
            return
        buffer = self.buffer
        if (
            state == IDLE
            and not buffer
            and data.endswith(b"\r\n\r\n")
            and data.find(b"\r\n\r\n") == len(data) - 4
            and data[:2] != b"\r\n"
            and not self.closed
        ):
            # One whole head and nothing after it (a client waiting for its answer, the
            # usual case): straight to work, without going through the buffer.
            self._start(data)
            return
        buffer += data
        if state == IDLE:
            if self.deadline_kind == IDLE_DEADLINE:
                self._set_deadline(HEAD_DEADLINE, self.ctx.config.timeouts.head)
            self._process()
        elif state == BUSY:
            if (not self.body_done and self.body_pending is not None) or self._body_flowing():
                self._feed_body()
            if len(buffer) > MAX_PIPELINED:
                self._pause(PAUSE_BUFFER)

    def eof_received(self) -> bool | None:
        self.client_eof = True
        if self.state == TUNNEL:
            if self.tunnel is not None and self.tunnel.transport is not None:
                if self.tunnel.transport.can_write_eof():
                    self.tunnel.transport.write_eof()
                if self.upstream_eof:
                    return None
            return True
        if self.state == BUSY:
            # A client may half-close after its request; the response still goes out.
            self.keep_alive = False
            return True
        if self.state == DECRYPTED and self.inner is not None:
            # TLS has no half-close: the client is done. Only a response under way still
            # goes out; anything else (an idle connection, a WebSocket) ends here.
            inner = self.inner
            if inner.eof_received() and inner.state == BUSY:
                return True
            return None
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed:
            return
        self.closed = True
        self._goto(CLOSED)
        self.ctx.connections.discard(self)
        if self.ctx.metrics is not None and self.inside is None:
            self.ctx.metrics.connection_closed()
        if (self.inner is not None or self.plan is not None) and self.tunnel is None:
            inner, self.inner = self.inner, None
            if inner is not None:
                inner.connection_lost(exc)
            if self.txn is not None:
                self._end(Outcome.TUNNELLED, close=False)
            return
        tunnel = self.tunnel
        if tunnel is not None:
            tunnel.close()
            self._end(Outcome.TUNNELLED, close=False)
            return
        upstream = self.upstream
        if upstream is not None:
            self.upstream = None
            upstream.abort()
        if self.txn is not None:
            if not self.txn.error:
                self.txn.error = "the client closed the connection"
            self._end(Outcome.ABORTED, close=False)

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()
        elif self.tunnel is not None and self.tunnel.transport is not None:
            self.tunnel.transport.pause_reading()
        elif self.upstream is not None:
            self.upstream.pause_reading()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()
        elif self.tunnel is not None and self.tunnel.transport is not None:
            self.tunnel.transport.resume_reading()
        elif self.upstream is not None:
            self.upstream.resume_reading()
        if self.deadline_kind == UPSTREAM_DEADLINE:
            self._set_deadline(UPSTREAM_DEADLINE, self.ctx.config.timeouts.upstream)

    # ---------------------------------------------------------------- small helpers
    def _goto(self, state: int) -> None:
        if state not in TRANSITIONS[self.state]:
            raise RuntimeError(
                f"connection state {STATE_NAMES[self.state]} -> {STATE_NAMES[state]} is not "
                "in the table"
            )
        self.state = state

    def _set_deadline(self, kind: int, seconds: float) -> None:
        self.deadline_kind = kind
        self.deadline = self.ctx.clock() + seconds

    def _pause(self, reason: int) -> None:
        if not self._paused and self.transport is not None:
            self.transport.pause_reading()
        self._paused |= reason

    def _resume(self, reason: int) -> None:
        if self._paused & reason:
            self._paused &= ~reason
            if not self._paused and self.transport is not None and not self.closed:
                self.transport.resume_reading()

    def _write(self, data: bytes) -> None:
        if self._out:
            self._flush()
        if self.transport is not None and not self.closed:
            self.transport.write(data)
            if self.txn is not None:
                self.txn.bytes.to_client += len(data)

    def _queue(self, data: bytes) -> None:
        """Send `data` to the client with the rest of what the current read produced."""
        if self.transport is not None and not self.closed:
            self._out.append(data)
            if self.txn is not None:
                self.txn.bytes.to_client += len(data)

    def _flush(self) -> None:
        out = self._out
        if out:
            self._out = []
            transport = self.transport
            if transport is not None and not self.closed:
                if len(out) == 1:
                    transport.write(out[0])
                else:
                    transport.writelines(out)

    def _close(self) -> None:
        self._flush()
        self._goto(CLOSED)
        if self.transport is not None:
            self.transport.close()

    def _body_flowing(self) -> bool:
        return not self.body_done and (
            self.upstream is not None or self.local_body is not None
        )

    # ---------------------------------------------------------------- request heads
    def _process_soon(self) -> None:
        try:
            self._process()
        except Exception:
            self._crashed()

    def _process(self) -> None:
        """Handle the next complete head in the buffer, if there is one."""
        if self.state != IDLE or self.closed:
            return
        buffer = self.buffer
        if buffer[:2] == b"\r\n":
            skip_leading_blank_lines(buffer)
        if not buffer:
            return
        end = find_head_end(buffer)
        if end < 0:
            try:
                check_incomplete(buffer)
            except HttpError as exc:
                self._refuse_unparsed(exc)
            return
        head = bytes(buffer[:end])
        del buffer[:end]
        self._start(head)

    def _refuse_unparsed(self, exc: HttpError) -> None:
        txn = Transaction(id=self.ctx.next_id(), at=self.ctx.now(), client_address=self.client_ip)
        txn.timings.started = self.ctx.clock()
        txn.bytes.from_client = len(self.buffer)
        self.buffer.clear()
        self.txn = txn
        self._goto(BUSY)
        self._refuse(exc)

    def _start(self, head: bytes) -> None:
        ctx = self.ctx
        txn = Transaction(ctx.next_id(), ctx.now(), self.client_ip)
        txn.timings.started = self.ctx.clock()
        txn.bytes.from_client = len(head)
        self.txn = txn
        self._goto(BUSY)
        self.deadline_kind = NO_DEADLINE
        try:
            req = parse_request_head(head)
            method = txn.method = req.method
            txn.http_version = _VERSION_TEXT[req.version]
            inside = self.inside
            if inside is None:
                target = parse_target(method, req.target)
                if req.host is not None and req.host != target.given_authority:
                    check_host_header(target, req.host, method)
            else:
                if method == "CONNECT":
                    raise HttpError(400, "A CONNECT inside an encrypted connection is refused.")
                target = parse_inner_target(req.target, req.host, inside.host, inside.port)
                txn.metadata_only = inside.plan.metadata_only
        except HttpError as exc:
            self._refuse(exc)
            return
        self.req = req
        self.target = target
        txn.destination = Destination(target.scheme, target.host, target.port, target.path)
        if inside is not None and inside.plan.fronting:
            self._refuse(HttpError(421, f"Refused: {inside.plan.reason}. One encrypted "
                                        "connection may only reach the site it names "
                                        "(anything else is domain fronting)."))
            return
        self.keep_alive = req.keep_alive and not ctx.draining
        if req.chunked or req.content_length:
            self.body_done = False
            if req.chunked:
                self.chunked = ChunkedDecoder()
            else:
                self.body_left = req.content_length or 0
            if method == "CONNECT":
                self._refuse(HttpError(400, "A CONNECT request cannot carry a body."))
                return
        if b"expect" in req.names:
            expect = req.get(b"expect")
            if expect is None or expect.lower() != b"100-continue":
                self._refuse(HttpError(417, "Only 'Expect: 100-continue' is understood."))
                return
            self.expect_continue = True
        snapshot = ctx.snapshot
        self.snapshot = snapshot
        if inside is not None and target.path.startswith(INNER_PAGES_PREFIX):
            # The gateway's own pages, reached from a page shown inside this tunnel.
            path = "/" + target.path[len(INNER_PAGES_PREFIX):]
            self.target = Target("http", PAGES_HOST, 80, path, PAGES_HOST)
            self.identities.identify(snapshot, txn, self._proxy_authorization())
            self._spawn(self._local_page())
            return
        if target.host == PAGES_HOST:
            self.identities.identify(snapshot, txn, self._proxy_authorization())
            self._spawn(self._local_page())
            return
        if not ctx.audit.healthy:
            self._unavailable()
            return
        if req.method == "CONNECT":
            allowed_ports = ctx.config.connect_ports or connect_ports(snapshot, txn)
            if target.port not in allowed_ports:
                self._refused_destination(
                    f"Tunnels (CONNECT) are only allowed to port "
                    f"{', '.join(str(p) for p in sorted(allowed_ports))}."
                )
                return
        elif inside is None and target.port not in SAFE_HTTP_PORTS:
            self._refused_destination(f"The gateway does not forward HTTP to port {target.port}.")
            return
        try:
            self.identities.identify(snapshot, txn, self._proxy_authorization())
            decision = categorise_and_decide(snapshot, txn)
        except Exception:  # fail closed: an error in a stage denies, with a page saying so
            log.exception("pipeline failed for %s", txn.url)
            self._internal_error("The gateway could not judge this request.")
            return
        if decision.effect is Effect.NOTICE and txn.principal is not None:
            if not self._apply_cached_consents(decision):
                self._spawn(self._decide_with_stored_consents())
            return
        self._after_decision(decision)

    def _proxy_authorization(self) -> str | None:
        if self.inside is not None:
            return self.inside.proxy_authorization
        assert self.req is not None
        value = self.req.get(b"proxy-authorization")
        return value.decode("latin-1") if value is not None else None

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._pause(PAUSE_WAIT)
        task = self.loop.create_task(coro)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._resume(PAUSE_WAIT)
        if not task.cancelled() and task.exception() is not None:
            log.error("transaction task failed", exc_info=task.exception())
            if self.txn is not None and not self.head_sent and not self.closed:
                self._internal_error("The gateway failed while handling this request.")
            elif not self.closed:
                self._close()

    # ---------------------------------------------------------------- consents
    def _apply_cached_consents(self, decision: Decision) -> bool:
        """Decide again with the person's cached consents; True if that settled it."""
        book = self.ctx.consents
        txn = self.txn
        assert txn is not None and txn.principal is not None and self.snapshot is not None
        if book is None:
            self._after_decision(decision)
            return True
        cached = book.cached(txn.principal.id)
        if cached is None:
            return False
        consents, age = cached
        if consents:
            decision = decide_request(self.snapshot, txn, consents)
        if decision.effect is not Effect.NOTICE:
            self._after_decision(decision)
            return True
        if age < 1.0:
            self._after_decision(decision)
            return True
        return False

    async def _decide_with_stored_consents(self) -> None:
        book = self.ctx.consents
        txn = self.txn
        if txn is None or self.closed:  # the client went away before the task started
            return
        assert book is not None and txn.principal is not None and self.snapshot is not None
        try:
            consents = await book.fetch(txn.principal.id, txn.at)
        except Exception as exc:
            log.error("consents could not be read: %s", exc)
            self._internal_error("The gateway could not check your acceptance of the notice.")
            return
        if self.closed or self.txn is not txn:
            return
        self._after_decision(decide_request(self.snapshot, txn, consents))

    # ---------------------------------------------------------------- after the decision
    def _after_decision(self, decision: Decision) -> None:
        txn = self.txn
        req = self.req
        assert txn is not None and req is not None
        txn.timings.decided = self.ctx.clock()
        assert self.snapshot is not None
        intercepting = req.method == "CONNECT" and self.ctx.interceptor is not None
        if decision.effect is Effect.BLOCK:
            if self.inside is None and challenge_for_credentials(self.snapshot, txn):
                self._challenge(decision)
            elif intercepting:
                self._peek_tunnel(decision)
            elif req.method == "CONNECT":
                self._refuse_tunnel(decision)
            else:
                self._block_page(decision)
            return
        if decision.effect is Effect.NOTICE:
            if intercepting:
                self._peek_tunnel(decision)
            elif req.method == "CONNECT":
                self._refuse_tunnel(decision)
            else:
                self._notice_page(decision)
            return
        if intercepting:
            self._peek_tunnel(decision)
            return
        inside = self.inside
        if inside is not None and self.target is not None and not inner_may_forward(
            self.snapshot.policy.current_tls(txn.at), decision, self.target.host
        ):
            self._send_outside()
            return
        txn.covert = Obligation.STRIP_IDENTIFYING_HEADERS in decision.obligations
        if Obligation.INSPECT_UPLOADS in decision.obligations and req.method == "CONNECT":
            # Interception is off (no CA, or --no-intercept), so nothing inside this tunnel
            # could be read: an obligation the gateway cannot meet is a reason to refuse,
            # never to forward uninspected (fail closed).
            reason = ("The policy requires uploads to this site to be inspected, and this "
                      "gateway does not decrypt HTTPS (no CA is set up), so the connection "
                      "is not made.")
            txn.error = reason
            self._respond(403, reason.encode(), Outcome.REFUSED,
                          extra=self._decision_headers(decision),
                          content_type=b"text/plain; charset=utf-8")
            return
        if Obligation.INSPECT_UPLOADS in decision.obligations and req.has_body:
            # Held in a bounded window and read by the detectors before anything is sent.
            self.upload = InspectionWindow(self.snapshot.policy.current_tls(txn.at).upload_window)
        if req.method == "CONNECT":
            self._spawn(self._open_tunnel())
        else:
            self._forward()

    # ---------------------------------------------------------------- HTTPS tunnels
    def _peek_tunnel(self, decision: Decision) -> None:
        """Interception is on: accept the CONNECT, then read the ClientHello before
        deciding whether to splice or decrypt (interception.plan_tunnel)."""
        txn = self.txn
        assert txn is not None
        self._tunnel_decision = decision
        txn.status = 200
        self.head_sent = True
        self._write(ESTABLISHED)
        self._goto(PEEK)
        self._set_deadline(HEAD_DEADLINE, self.ctx.config.timeouts.head)
        if self.buffer:
            self._peek()

    def _peek(self) -> None:
        txn, target, decision = self.txn, self.target, self._tunnel_decision
        assert txn is not None and target is not None and decision is not None
        assert self.snapshot is not None
        hello = read_client_hello(bytes(self.buffer))
        if isinstance(hello, NeedMore):
            return
        self.deadline_kind = NO_DEADLINE
        is_tls = isinstance(hello, ClientHello)
        sni: str | None = None
        sni_decision: Decision | None = None
        if isinstance(hello, ClientHello) and hello.sni_problem:
            txn.error = f"the ClientHello's server name is not valid ({hello.sni_problem})"
            txn.status = 400
            self._end(Outcome.INVALID, close=True)
            return
        if isinstance(hello, ClientHello) and hello.sni:
            try:
                sni = normalise_host(hello.sni)
            except HttpError:
                txn.error = "the ClientHello named no valid host"
                txn.status = 400
                self._end(Outcome.INVALID, close=True)
                return
            if sni != target.host:
                sni_decision = self._decide_for_name(sni)
        settings = self.snapshot.policy.current_tls(txn.at)
        plan = plan_tunnel(
            settings, target.host, decision, is_tls=is_tls, sni=sni, sni_decision=sni_decision
        )
        self.plan = plan
        txn.metadata_only = plan.metadata_only
        if plan.decision is not decision:
            txn.decision = plan.decision
            txn.categories = plan.decision.categories
        if plan.action is TunnelAction.SPLICE:
            txn.error = f"spliced: {plan.reason}"
            self._spawn(self._open_tunnel())
        elif plan.action is TunnelAction.REFUSE:
            txn.error = plan.reason
            txn.status = 403
            self._end(Outcome.REFUSED, close=True)
        else:
            self._start_decrypt(plan)

    def _decide_for_name(self, name: str) -> Decision:
        """The CONNECT decided again for another name (the SNI), with the same person,
        device and time, and the person's cached consents."""
        txn, target, snapshot = self.txn, self.target, self.snapshot
        assert txn is not None and target is not None and snapshot is not None
        probe = Transaction(txn.id, txn.at, txn.client_address, method="CONNECT")
        probe.destination = Destination("https", name, target.port, "/")
        probe.principal = txn.principal
        probe.auth_status = txn.auth_status
        probe.device = txn.device
        consents: tuple[Consent, ...] = ()
        book = self.ctx.consents
        if book is not None and txn.principal is not None:
            cached = book.cached(txn.principal.id)
            if cached is not None:
                consents = cached[0]
        categorise(snapshot, probe)
        return decide_request(snapshot, probe, consents)

    def _start_decrypt(self, plan: TunnelPlan) -> None:
        txn, target = self.txn, self.target
        interceptor = self.ctx.interceptor
        assert txn is not None and target is not None and interceptor is not None
        try:
            context = interceptor.minter.context_for(plan.server_name)
        except Exception:  # fail closed: no certificate, no tunnel
            log.exception("no certificate could be made for %s", plan.server_name)
            txn.error = f"the gateway could not make a certificate for {plan.server_name}"
            txn.status = 500
            self._end(Outcome.REFUSED, close=True)
            return
        tls = self.tls = ClientTls(context)
        self._goto(DECRYPTED)
        txn.error = f"decrypted: {plan.reason}"
        inner = ProxyConnection(
            self.ctx,
            Inside(plan.server_name, target.port, plan, self._proxy_authorization()),
        )
        self.inner = inner
        inner.connection_made(DecryptedTransport(self, tls))
        data = bytes(self.buffer)
        self.buffer.clear()
        self._tls_from_client(data)

    def _tls_from_client(self, data: bytes) -> None:
        tls, inner, txn = self.tls, self.inner, self.txn
        if tls is None or inner is None:
            return
        if txn is not None:
            txn.bytes.from_client += len(data)
        events = tls.receive(data)
        out = tls.data_to_send()
        if out:
            self.tls_write(out)
        for event in events:
            if isinstance(event, Data):
                inner.data_received(event.data)
            elif isinstance(event, Established):
                if txn is not None:
                    txn.http_version = event.version or txn.http_version
            elif isinstance(event, Closed):
                if not inner.eof_received():
                    self._close()
            elif isinstance(event, Failed):
                if txn is not None:
                    txn.error = f"TLS with the browser failed: {event.reason}"
                self._close()
                return

    # The outer connection as the owner of a DecryptedTransport (gateway/decrypted.py).
    def tls_write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)
            if self.txn is not None:
                self.txn.bytes.to_client += len(data)

    def tls_close(self) -> None:
        if not self.closed and self.state != CLOSED:
            self._close()

    def tls_pause_reading(self) -> None:
        self._pause(PAUSE_INNER)

    def tls_resume_reading(self) -> None:
        self._resume(PAUSE_INNER)

    def tls_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default) if self.transport else default

    def _send_outside(self) -> None:
        """An allowed request, inside a decrypted tunnel, to a site that is never
        decrypted: ask the browser to send it again on a new connection, which is then
        spliced (nothing of it is read or sent from here)."""
        txn = self.txn
        assert txn is not None
        txn.error = "sent again outside this decrypted connection: the site is never decrypted"
        self._respond(307, b"", Outcome.LOCAL, extra=[(b"Location", header_safe(txn.url))],
                      keep_alive=False)

    def _pages_origin(self) -> str:
        """Where the gateway's own pages are, as this connection's client reaches them."""
        inside = self.inside
        if inside is None:
            return self.ctx.pages_origin
        host = f"[{inside.host}]" if ":" in inside.host else inside.host
        port = "" if inside.port == 443 else f":{inside.port}"
        return f"https://{host}{port}{INNER_PAGES_PREFIX[:-1]}"

    def _challenge(self, decision: Decision) -> None:
        txn = self.txn
        assert txn is not None
        body = self.ctx.pages.sign_in(
            txn, decision, self.ctx.pac_url, txn.auth_status is AuthStatus.BAD_CREDENTIALS
        )
        extra = [
            (b"Proxy-Authenticate", b'Basic realm="webwarden", charset="UTF-8"'),
            (b"X-Webwarden-Decision", header_safe(decision.id)),
        ]
        self._respond(407, body, Outcome.AUTH_REQUIRED, extra=extra)

    def _decision_headers(self, decision: Decision) -> list[tuple[bytes, bytes]]:
        return [
            (b"X-Webwarden-Decision", header_safe(decision.id)),
            (b"X-Webwarden-Effect", decision.effect.value.encode("ascii")),
            (b"X-Webwarden-Rule", header_safe(",".join(decision.rule_ids))),
            (b"X-Webwarden-Reason", header_safe(decision.message)),
        ]

    def _block_page(self, decision: Decision) -> None:
        txn = self.txn
        assert txn is not None
        body = self.ctx.pages.block(txn, decision, self.ctx.request_access_url)
        self._respond(403, body, Outcome.BLOCKED, extra=self._decision_headers(decision))

    def _notice_ticket(self, decision: Decision, url: str) -> str:
        txn = self.txn
        assert txn is not None and txn.principal is not None and decision.notice is not None
        ticket = ConsentTicket(
            person_id=txn.principal.id,
            notice_id=decision.notice.id,
            scope_kind=ConsentScopeKind(decision.notice.scope),
            scope=decision.notice_scope,
            url=url,
            remember_seconds=decision.notice.remember_seconds,
            expires=int(time.time()) + TOKEN_LIFETIME_SECONDS,
        )
        return self.ctx.tokens.issue(ticket)

    def _notice_page(self, decision: Decision) -> None:
        txn = self.txn
        assert txn is not None
        if txn.principal is None:
            # A consent belongs to a person: with nobody signed in nobody can accept, so
            # the page says what is needed, as a block does.
            self._block_page(decision)
            return
        token = self._notice_ticket(decision, txn.url)
        assert decision.notice is not None
        body = self.ctx.pages.notice(
            decision.notice,
            url=txn.url,
            token=token,
            accept_url=self._pages_origin() + "/consent",
            scope=decision.notice_scope,
            at=txn.at,
            message=decision.message,
            decision_id=decision.id,
        )
        # 511 is the status for "accept terms before the network lets you through".
        self._respond(511, body, Outcome.NOTICE, extra=self._decision_headers(decision))

    def _refuse_tunnel(self, decision: Decision) -> None:
        """A CONNECT that is blocked or needs a notice first: browsers do not show a body
        here, so the reason also travels in headers."""
        txn = self.txn
        assert txn is not None and self.target is not None
        extra = self._decision_headers(decision)
        if decision.effect is Effect.NOTICE:
            token = self._notice_ticket(decision, f"https://{self.target.authority}/")
            notice_url = f"{self.ctx.pages_origin}/notice?token={token}"
            extra.append((b"X-Webwarden-Notice-Url", notice_url.encode("ascii")))
            text = (
                f"{decision.message}\nThe notice must be accepted first. Read and accept it "
                f"at {notice_url} (through this proxy), then try again.\n"
            )
            outcome = Outcome.NOTICE
        else:
            text = (
                f"Blocked: {decision.message}\nRule: {', '.join(decision.rule_ids)}\n"
                f"Decision: {decision.id}\n{decision.remedy}\n"
                f"Ask for access: {self.ctx.request_access_url}\n"
            )
            outcome = Outcome.BLOCKED
        self._respond(
            403, text.encode("utf-8"), outcome, extra=extra,
            content_type=b"text/plain; charset=utf-8",
        )

    def _refused_destination(self, reason: str) -> None:
        txn = self.txn
        assert txn is not None
        txn.error = reason
        body = self.ctx.pages.error("The gateway will not connect there", reason, txn=txn)
        self._respond(403, body, Outcome.REFUSED, extra=[(b"X-Webwarden-Reason",
                                                          header_safe(reason))])

    def _unavailable(self) -> None:
        txn = self.txn
        assert txn is not None
        reason = self.ctx.audit.failure_reason or "the audit trail is not available"
        txn.error = f"not forwarded: audit trail failed ({reason})"
        body = self.ctx.pages.error(
            "The web gateway is unavailable",
            "Every request through the gateway must be recorded, and the audit trail cannot "
            f"be written at the moment ({reason}), so nothing is forwarded.",
            txn=txn,
            remedy="The gateway team has been alerted by the gateway's health check. "
            "Try again later.",
        )
        self._respond(503, body, Outcome.UNAVAILABLE, extra=[(b"Retry-After", b"60")])

    def _internal_error(self, message: str) -> None:
        txn = self.txn
        if txn is None or self.closed:
            return
        txn.error = message
        body = self.ctx.pages.error("The gateway could not handle this request", message,
                                    txn=txn)
        self._respond(500, body, Outcome.REFUSED, keep_alive=False)

    def _refuse(self, exc: HttpError) -> None:
        txn = self.txn
        assert txn is not None
        txn.error = exc.reason
        body = self.ctx.pages.error("The request was refused", exc.reason, txn=txn)
        self.buffer.clear()
        self._respond(exc.status, body, Outcome.INVALID, keep_alive=False)

    def _respond(
        self,
        status: int,
        body: bytes,
        outcome: Outcome,
        *,
        extra: list[tuple[bytes, bytes]] | None = None,
        keep_alive: bool = True,
        content_type: bytes = b"text/html; charset=utf-8",
    ) -> None:
        """Answer the request with a response the gateway made, and end the transaction."""
        txn = self.txn
        assert txn is not None
        if self.state == PEEK:
            # The tunnel was accepted and nothing was decrypted: no HTTP answer can reach
            # the client any more; it sees the connection close.
            txn.status = status
            self._end(outcome, close=True)
            return
        keep = keep_alive and self.keep_alive and self.body_done and not self.client_eof
        response = local_response(
            status, body, content_type=content_type, keep_alive=keep, extra=extra
        )
        if self.req is not None and self.req.method == "HEAD":
            response = response[: len(response) - len(body)]
        txn.status = status
        txn.response_type = content_type.split(b";", 1)[0].decode("ascii")
        self.head_sent = True
        self._write(response)
        self._end(outcome, close=not keep)

    # ---------------------------------------------------------------- the local pages host
    async def _local_page(self) -> None:
        txn, req, target = self.txn, self.req, self.target
        if txn is None or req is None or target is None or self.closed:
            return
        if not self.body_done:
            if (req.content_length or 0) > MAX_LOCAL_BODY:
                self._refuse(HttpError(413, "That form is larger than any page here takes."))
                return
            self.local_body = bytearray()
            waiter: asyncio.Future[None] = self.loop.create_future()
            self._local_body_waiter = waiter
            self._resume(PAUSE_WAIT)
            self._feed_body()
            await waiter
            if self.closed or self.txn is not txn:
                return
        body = bytes(self.local_body or b"")
        answer = await local_pages.handle(self.ctx, txn, req, target, body)
        if self.closed or self.txn is not txn:
            return
        if answer.status == 407:
            self._respond(407, answer.body, answer.outcome, extra=[
                (b"Proxy-Authenticate", b'Basic realm="webwarden", charset="UTF-8"')
            ])
            return
        # Inside a tunnel the answer closes the connection: after a notice is accepted the
        # browser then opens a new tunnel, decided (and perhaps spliced) afresh.
        self._respond(answer.status, answer.body, answer.outcome, extra=answer.headers,
                      keep_alive=self.inside is None, content_type=answer.content_type)

    # ---------------------------------------------------------------- request bodies
    def _feed_body(self) -> None:
        """Move request body bytes from the buffer to wherever they go now."""
        if self.body_done:
            return
        buffer = self.buffer
        pieces: list[bytes]
        if self.chunked is not None:
            try:
                pieces, used = self.chunked.feed(buffer)
            except HttpError as exc:
                self._bad_body(exc)
                return
            del buffer[:used]
            finished = self.chunked.done
        else:
            take = min(self.body_left, len(buffer))
            if not take:
                return
            pieces = [bytes(buffer[:take])]
            del buffer[:take]
            self.body_left -= take
            finished = self.body_left == 0
        if self.deadline_kind == BODY_DEADLINE or not finished:
            self._set_deadline(BODY_DEADLINE, self.ctx.config.timeouts.body)
        for piece in pieces:
            self._body_piece(piece)
        if finished:
            self.body_done = True
            self._body_finished()

    def _body_piece(self, piece: bytes) -> None:
        txn = self.txn
        assert txn is not None
        txn.bytes.request_body += len(piece)
        if self.local_body is not None:
            self.local_body += piece
            if len(self.local_body) > MAX_LOCAL_BODY:
                self._bad_body(HttpError(413, "That form is larger than any page here takes."))
            return
        if self.upstream is not None:
            if self.body_chunked_upstream:
                self.upstream.write(b"".join(encode_chunk(piece)))
            else:
                self.upstream.write(piece)
        elif self.body_pending is not None:
            self.body_pending.append(piece)
            upload = self.upload
            if upload is not None:
                upload.feed(piece)
                if upload.total >= upload.limit:
                    # The window is full: read what it holds now, the rest waits.
                    self._pause(PAUSE_UPSTREAM)
                    self._start_upload_inspection()
            elif sum(len(p) for p in self.body_pending) > PENDING_BODY_LIMIT:
                self._pause(PAUSE_UPSTREAM)

    def _body_finished(self) -> None:
        if self.deadline_kind == BODY_DEADLINE:
            self._set_deadline(UPSTREAM_DEADLINE, self.ctx.config.timeouts.upstream)
        if self.local_body is not None:
            waiter = self._local_body_waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return
        if self.upstream is not None and self.body_chunked_upstream:
            self.upstream.write(LAST_CHUNK)
        elif self.upload is not None:
            self._start_upload_inspection()

    def _bad_body(self, exc: HttpError) -> None:
        self.body_done = True
        self.keep_alive = False
        if self.head_sent or self.txn is None:
            self._abort_transaction(exc.reason)
            return
        if self.upstream is not None:
            self.upstream.abort()
            self.upstream = None
        self._refuse(exc)

    # ---------------------------------------------------------------- uploads (G7)
    def _start_upload_inspection(self) -> None:
        if self.upload is not None and not self._inspecting:
            self._inspecting = True
            self._spawn(self._inspect_upload())

    async def _inspect_upload(self) -> None:
        """The detectors read the held upload (in a thread: a document's text can take a
        while); the content phase decides on what they found; then the upload is sent, or
        refused with a page that says what was found (never the value itself)."""
        txn, req, window, snapshot = self.txn, self.req, self.upload, self.snapshot
        if txn is None or req is None or window is None or snapshot is None or self.closed:
            return
        content_type = req.get(b"content-type")
        encoding = req.get(b"content-encoding")
        try:
            reading = await asyncio.to_thread(
                read_upload, window.bytes(),
                content_type.decode("latin-1") if content_type is not None else None,
                encoding.decode("latin-1") if encoding is not None else None,
                rules=self.ctx.dlp, limit=window.limit,
                overflowed=window.overflowed or not self.body_done,
            )
        except Exception:  # fail closed: an inspection error refuses the upload
            log.exception("upload inspection failed for %s", txn.url)
            if self.txn is txn:
                self._internal_error("The gateway could not inspect this upload.")
            return
        if self.closed or self.txn is not txn:
            return
        self.upload = None
        notes = []
        if reading.findings:
            notes.append(f"found {record_findings(reading.findings)}")
            content = ContentFacts(findings=reading.kinds, declared_type=(
                content_type.decode("latin-1").split(";", 1)[0].strip()
                if content_type is not None else None))
            verdict = decide_content(snapshot, txn, content)
            if verdict.effect is Effect.BLOCK:
                txn.error = f"upload blocked: {notes[0]}"
                body = self.ctx.pages.block(txn, verdict, self.ctx.request_access_url,
                                            describe_findings(reading.findings), upload=True)
                self._respond(403, body, Outcome.BLOCKED, extra=self._decision_headers(verdict))
                return
        if reading.unread:
            notes.append("not read: " + "; ".join(reading.unread))
            if snapshot.policy.current_tls(txn.at).past_window_blocks:
                txn.error = "upload refused: " + notes[-1]
                body = self.ctx.pages.error(
                    "The upload was not sent",
                    "Uploads to this site are checked before they leave, and part of this one "
                    f"could not be read ({'; '.join(reading.unread)}), so it was not sent.",
                    txn=txn,
                    remedy="Send a smaller file, or one in a common format (text, Office, "
                    "OpenDocument, PDF). If you need to send this one for your work, ask the "
                    "gateway team.",
                )
                self._respond(403, body, Outcome.REFUSED)
                return
        txn.error = "upload inspected: " + ("; ".join(notes) if notes else "nothing found")
        await self._connect_and_send()

    # ---------------------------------------------------------------- forwarding
    def _forward(self) -> None:
        req, target, txn = self.req, self.target, self.txn
        assert req is not None and target is not None and txn is not None
        body = "none"
        if req.chunked:
            body = "chunked"
            self.body_chunked_upstream = True
        elif req.content_length:
            body = "length"
        if txn.covert:
            ctx = self.ctx
            self.upstream_head = upstream_request_head(
                req, target, covert=True, body=body, user_agent=ctx.covert_user_agent,
                accept_language=ctx.covert_accept_language,
            )
        else:
            self.upstream_head = upstream_request_head(req, target, covert=False, body=body)
        if body == "none" and wants_websocket(req):
            # Relayed when the policy allows the URL (it did, to get here): the upgrade
            # fields are hop-by-hop, so the gateway asks the origin for the switch itself.
            self.websocket = True
            self.upstream_head = (
                self.upstream_head[:-2] + b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
            )
        if self.expect_continue and not self.body_done:
            self._write(CONTINUE_100)
        decision = txn.decision
        assert decision is not None
        self.limit = decision.max_body_bytes
        if body == "none" and not self.websocket:
            conn = self.ctx.pool.get((target.scheme, target.host, target.port, txn.covert))
            if conn is not None:
                self.reused = True
                self._send_upstream(conn)
                return
        else:
            self.body_pending = []
            self._feed_body()
            if self.txn is not txn:  # the body was malformed and the request refused
                return
            if self.upload is not None:
                return  # connected once the detectors have read it (_inspect_upload)
        self._spawn(self._connect_and_send())

    async def _connect(
        self, factory: Callable[[str], asyncio.Protocol], *, tls: bool = False
    ) -> tuple[Transaction, asyncio.Protocol] | None:
        """A connection to the target through the worker's connector (with TLS, verifying
        the site's certificate, for requests inside a decrypted tunnel; from the covert
        egress address for covert devices), with the transaction it was made for; None
        after answering the client with the reason, or when the connection moved on
        meanwhile (the client went away)."""
        txn, target = self.txn, self.target
        if txn is None or target is None or self.closed:
            return None
        context: ssl.SSLContext | None = None
        if tls:
            assert self.ctx.interceptor is not None
            context = self.ctx.interceptor.upstream
        egress = self.ctx.config.covert_egress if txn.covert else None
        try:
            connected = await self.ctx.connector.connect(
                target.host, target.port, factory, tls=context, local_address=egress
            )
        except ssl.SSLCertVerificationError as exc:
            if not self.closed and self.txn is txn:
                self._certificate_refused(exc)
            return None
        except ConnectFailedError as exc:
            if not self.closed and self.txn is txn:
                if exc.refused:
                    self._refused_destination(exc.message)
                else:
                    self._gateway_error(exc.status, exc.title, exc.message)
            return None
        if self.closed or self.txn is not txn:
            protocol = connected.protocol
            if isinstance(protocol, UpstreamConnection):
                protocol.abort()
            elif isinstance(protocol, TunnelUpstream):
                protocol.close()
            return None
        txn.upstream_address = connected.address
        txn.timings.upstream_connected = self.ctx.clock()
        return txn, connected.protocol

    async def _connect_and_send(self) -> None:
        target, txn = self.target, self.txn
        if target is None or txn is None:
            return
        key = (target.scheme, target.host, target.port, txn.covert)
        made = await self._connect(
            functools.partial(UpstreamConnection, key), tls=target.scheme == "https"
        )
        if made is None:
            return
        conn = made[1]
        assert isinstance(conn, UpstreamConnection)
        self._send_upstream(conn)

    def _send_upstream(self, conn: UpstreamConnection) -> None:
        txn, req = self.txn, self.req
        assert txn is not None and req is not None
        self.upstream = conn
        if not txn.upstream_address:
            txn.upstream_address = conn.address
        conn.send(self.upstream_head, self, req.method == "HEAD", self.websocket)
        if conn.writing_paused:
            self._pause(PAUSE_UPSTREAM)
        pending = self.body_pending
        if pending is not None:
            self.body_pending = None
            for piece in pending:
                conn.write(b"".join(encode_chunk(piece)) if self.body_chunked_upstream else piece)
            self._resume(PAUSE_UPSTREAM)
            if self.body_done and self.body_chunked_upstream:
                conn.write(LAST_CHUNK)
            self._feed_body()
        if self.deadline_kind != BODY_DEADLINE:
            self._set_deadline(UPSTREAM_DEADLINE, self.ctx.config.timeouts.upstream)

    def _certificate_refused(self, exc: ssl.SSLCertVerificationError) -> None:
        """The site's certificate did not verify: a page that says why, and no way past
        it (a person cannot judge a certificate; the gateway team can add a CA bundle)."""
        txn, target = self.txn, self.target
        assert txn is not None and target is not None
        failure = explain_verify_failure(exc)
        txn.error = f"the site's certificate was refused ({failure.kind}): {failure.detail}"
        body = self.ctx.pages.error(
            "The site's certificate is not valid",
            f"{failure.summary} The gateway did not connect to {target.host}, because "
            "someone could be pretending to be that site.",
            txn=txn,
            remedy="If this is a site you need for your work, tell the gateway team: they "
            "can check the site and, for an internal site, trust its certificate authority.",
        )
        self._respond(502, body, Outcome.UPSTREAM_ERROR,
                      extra=[(b"X-Webwarden-Reason", header_safe(txn.error))])

    def _gateway_error(self, status: int, title: str, message: str) -> None:
        txn = self.txn
        if txn is None or self.closed:
            return
        txn.error = message
        body = self.ctx.pages.error(title, message, txn=txn)
        self._respond(status, body, Outcome.UPSTREAM_ERROR)

    # ---------------------------------------------------------------- ResponseSink
    def on_response_head(
        self, status: int, reason: bytes, version: str, headers: list[tuple[bytes, bytes]]
    ) -> None:
        txn = self.txn
        conn = self.upstream
        assert txn is not None and conn is not None and self.snapshot is not None
        txn.timings.response_started = self.ctx.clock()
        txn.status = status
        fields = conn.fields
        declared = fields.get(b"content-type")
        declared_type = declared.decode("latin-1") if declared is not None else ""
        length = fields.get(b"content-length")
        declared_size = int(length) if length is not None and length.strip().isdigit() else None
        txn.response_type = declared_type.split(";", 1)[0].strip()
        if status == 101:
            self.head_sent = True
            self._write(switching_head(headers))
            return
        self.declared_size = declared_size
        self.response_head = (status, reason, headers)
        has_body = conn.body_framing != "none"
        decision = txn.decision
        assert decision is not None
        if has_body and self.limit is not None and declared_size is not None and (
            declared_size > self.limit
        ):
            self.size_checked = True
            content = ContentFacts(declared_type=declared_type or None, size=declared_size)
            verdict = decide_content(self.snapshot, txn, content)
            if verdict.effect is Effect.BLOCK:
                self._refuse_download(verdict, f"{declared_size:,} bytes (declared)")
                return
        if has_body and Obligation.INSPECT_DOWNLOADS in decision.obligations:
            self.holding = True
            self.held = []
            self.held_bytes = 0
            return
        self._send_response_head()

    def _send_response_head(self) -> None:
        txn, req = self.txn, self.req
        assert txn is not None and req is not None and self.response_head is not None
        conn = self.upstream
        status, reason, headers = self.response_head
        framing = conn.body_framing if conn is not None else "none"
        head, self.out_framing = client_response_head(
            status,
            reason,
            headers,
            framing=framing,
            keep_alive=self.keep_alive and not self.ctx.draining,
            client_version=req.version,
            covert=txn.covert,
        )
        if self.out_framing == "close":
            self.keep_alive = False
        self.head_sent = True
        self._queue(head)

    def on_response_body(self, data: bytes) -> None:
        if self.holding:
            held = self.held
            assert held is not None
            held.append(data)
            self.held_bytes += len(data)
            if self.zip_typer is not None:
                if not self._zip_blocked(data) and self.held_bytes >= ZIP_HOLD_BYTES:
                    self._release_zip_hold()
            elif self.held_bytes >= SNIFF_BYTES:
                self._release_held()
            return
        if self.zip_typer is not None and self._zip_blocked(data):
            return
        self._forward_body(data)

    def _zip_blocked(self, data: bytes, *, last: bool = False) -> bool:
        """Type the members of a zip download whose local headers `data` completes; True
        when one is blocked (a page if nothing was sent yet, else the download is cut)."""
        typer, txn, snapshot = self.zip_typer, self.txn, self.snapshot
        assert typer is not None and txn is not None and snapshot is not None
        members = typer.feed(data) if data else []
        if last:
            members += typer.finish()
        for member in members:
            label = type_member(member)
            content = ContentFacts(sniffed_type=label, declared_type=txn.response_type or None,
                                   size=member.uncompressed_size)
            if not content_may_block(snapshot, content):
                continue
            before = txn.content, txn.content_decision
            verdict = decide_content(snapshot, txn, content)
            if verdict.effect is not Effect.BLOCK:
                txn.content, txn.content_decision = before
                continue
            self.zip_typer = None
            what = f"{label} '{member.name}' inside the zip archive"
            if self.head_sent:
                self._cut(f"the archive holds {what}")
            else:
                self.holding = False
                self._refuse_download(verdict, what)
            return True
        return False

    def _release_zip_hold(self) -> None:
        """A zip download held while its first members were typed: send what is held, and
        go on typing the rest as it streams."""
        held = self.held
        assert held is not None
        self.holding = False
        self.held = None
        self._send_response_head()
        data = b"".join(held)
        if data:
            self._forward_body(data)

    def on_upstream_read_done(self) -> None:
        try:
            self._flush()
        except Exception:
            self._crashed()

    def _forward_body(self, data: bytes) -> None:
        txn = self.txn
        assert txn is not None
        n = len(data)
        self.counted += n
        if self.limit is not None and self.counted > self.limit and not self.size_checked:
            self.size_checked = True
            assert self.snapshot is not None
            sniffed = txn.content.sniffed_type if txn.content is not None else None
            content = ContentFacts(
                sniffed_type=sniffed, declared_type=txn.response_type or None, size=self.counted
            )
            verdict = decide_content(self.snapshot, txn, content)
            if verdict.effect is Effect.BLOCK:
                self._cut(f"the download passed {self.limit:,} bytes")
                return
        txn.bytes.response_body += n
        if self.transport is None or self.closed:
            return
        if self.out_framing == "chunked":
            out = self._out
            out += encode_chunk(data)
            txn.bytes.to_client += n + len(out[-3]) + 2
        else:
            self._out.append(data)
            txn.bytes.to_client += n

    def _release_held(self) -> None:
        """The first bytes are in: sniff the type, decide on the content, then either send
        the held head and bytes or the block page (nothing was sent yet)."""
        txn, held = self.txn, self.held
        assert txn is not None and held is not None and self.snapshot is not None
        assert self.response_head is not None and self.target is not None
        self.holding = False
        self.held = None
        first = held[0] if len(held) == 1 else b"".join(held)
        headers = self.response_head[2]
        conn = self.upstream
        filename = _filename(self.target.path, headers, conn.fields if conn is not None else None)
        try:
            head = decoded_head(first, headers, SNIFF_BYTES)
            found = sniff(head, txn.response_type or None, filename)
        except Exception:  # fail closed: an inspection error blocks the download
            log.exception("file type inspection failed for %s", txn.url)
            self._download_error("The gateway could not inspect this download.")
            return
        content = ContentFacts(
            sniffed_type=found.label,
            declared_type=txn.response_type or None,
            size=self.declared_size,
        )
        txn.content = content
        if content_may_block(self.snapshot, content):
            verdict = decide_content(self.snapshot, txn, content)
            if verdict.effect is Effect.BLOCK:
                declared = f", sent as {txn.response_type}" if txn.response_type else ""
                self._refuse_download(verdict, f"{found.label} ({found.detail}{declared})")
                return
        if found.label == "archive" and first[:4] == b"PK\x03\x04":
            # A zip: its members are typed from their local headers as the bytes come, and
            # it is held (up to ZIP_HOLD_BYTES) so that a blocked member gets a page.
            self.zip_typer = ZipStreamTyper()
            if self._zip_blocked(first):
                return
            self.holding = True
            self.held = [first]
            self.held_bytes = len(first)
            return
        self._send_response_head()
        if first:
            self._forward_body(first)

    def _refuse_download(self, verdict: Decision, description: str) -> None:
        txn = self.txn
        assert txn is not None
        conn, self.upstream = self.upstream, None
        if conn is not None:
            conn.abort()
        body = self.ctx.pages.block(txn, verdict, self.ctx.request_access_url, description)
        self._respond(403, body, Outcome.BLOCKED, extra=self._decision_headers(verdict))

    def _download_error(self, message: str) -> None:
        conn, self.upstream = self.upstream, None
        if conn is not None:
            conn.abort()
        self._internal_error(message)

    def _cut(self, reason: str) -> None:
        """Stop a download whose head was already sent: the client sees it cut short."""
        txn = self.txn
        assert txn is not None
        txn.error = reason
        conn, self.upstream = self.upstream, None
        if conn is not None:
            conn.abort()
        self._end(Outcome.CUT, close=True)

    def on_response_end(self) -> None:
        if self.holding and self.zip_typer is None:
            self._release_held()  # may find a zip, and hold it while typing its members
            if self.txn is None or self.upstream is None:
                return
        if self.zip_typer is not None:
            if self._zip_blocked(b"", last=True):
                return
            if self.holding:
                self._release_zip_hold()
        txn = self.txn
        if txn is None:
            return
        if not self.head_sent:
            self._send_response_head()
        if self.out_framing == "chunked":
            self._queue(LAST_CHUNK)
        self._flush()
        conn, self.upstream = self.upstream, None
        if conn is not None:
            if conn.reusable and self.body_done:
                conn.sink = None
                self.ctx.pool.put(conn)
            else:
                conn.abort()
        self._end(Outcome.FORWARDED, close=not self.keep_alive or not self.body_done)

    def on_upstream_failed(self, reason: str, response_started: bool) -> None:
        txn, req, conn = self.txn, self.req, self.upstream
        if txn is None or req is None:
            return
        self.upstream = None
        if not self.head_sent:
            if (
                self.reused
                and not self.retried
                and conn is not None
                and not conn.got_bytes
                and not req.has_body
            ):
                # A pooled connection the origin had closed meanwhile: try a fresh one.
                self.retried = True
                self.reused = False
                self._spawn(self._connect_and_send())
                return
            self.holding = False
            self._gateway_error(502, "The site broke off", f"The response failed: {reason}.")
            return
        txn.error = reason
        self._end(Outcome.UPSTREAM_ERROR, close=True)

    def on_upstream_pause(self) -> None:
        self._pause(PAUSE_UPSTREAM)

    def on_upstream_resume(self) -> None:
        self._resume(PAUSE_UPSTREAM)

    def on_upgrade(self, conn: UpstreamConnection, rest: bytes) -> None:
        """The origin accepted the WebSocket: from now on the connection is a tunnel
        between client and origin (bytes copied both ways, one audit record for it, like
        a CONNECT's)."""
        txn = self.txn
        transport = conn.transport
        self.upstream = None
        if txn is None or transport is None or self.closed:
            conn.abort()
            return
        tunnel = TunnelUpstream()
        tunnel.transport = transport
        tunnel.client = self
        transport.set_protocol(tunnel)
        self.tunnel = tunnel
        self._goto(TUNNEL)
        self.keep_alive = False
        txn.error = "WebSocket relayed"
        self._set_deadline(TUNNEL_DEADLINE, self.ctx.config.timeouts.tunnel)
        self._resume(PAUSE_UPSTREAM | PAUSE_BUFFER)
        if rest:
            self._write(rest)
        if self.buffer:
            data = bytes(self.buffer)
            self.buffer.clear()
            self._tunnel_from_client(data)

    # ---------------------------------------------------------------- tunnels
    async def _open_tunnel(self) -> None:
        made = await self._connect(lambda _address: TunnelUpstream())
        if made is None:
            return
        txn, tunnel = made
        assert isinstance(tunnel, TunnelUpstream)
        tunnel.client = self
        self.tunnel = tunnel
        established = self.state == PEEK  # interception accepted the CONNECT already
        self._goto(TUNNEL)
        txn.status = 200
        self.head_sent = True
        if not established:
            self._write(ESTABLISHED)
        self._set_deadline(TUNNEL_DEADLINE, self.ctx.config.timeouts.tunnel)
        if self.buffer:
            data = bytes(self.buffer)
            self.buffer.clear()
            self._tunnel_from_client(data)
        if self.client_eof and tunnel.transport is not None and tunnel.transport.can_write_eof():
            tunnel.transport.write_eof()
        if tunnel.closed:
            self.tunnel_upstream_lost(None)

    def _tunnel_from_client(self, data: bytes) -> None:
        tunnel = self.tunnel
        if tunnel is None:
            return
        if self.txn is not None:
            self.txn.bytes.from_client += len(data)
        tunnel.write(data)

    def tunnel_data(self, data: bytes) -> None:
        self._write(data)

    def tunnel_upstream_eof(self) -> None:
        self.upstream_eof = True
        if self.transport is not None and self.transport.can_write_eof():
            self.transport.write_eof()
        if self.client_eof:
            self._close()

    def tunnel_upstream_lost(self, exc: Exception | None) -> None:
        if exc is not None and self.txn is not None:
            self.txn.error = f"the origin connection failed ({exc})"
        self._close()

    def tunnel_pause_client(self) -> None:
        self._pause(PAUSE_UPSTREAM)

    def tunnel_resume_client(self) -> None:
        self._resume(PAUSE_UPSTREAM)

    # ---------------------------------------------------------------- ending
    def _abort_transaction(self, reason: str) -> None:
        txn = self.txn
        if txn is not None:
            txn.error = reason
        conn, self.upstream = self.upstream, None
        if conn is not None:
            conn.abort()
        if txn is not None:
            self._end(Outcome.ABORTED, close=True)
        else:
            self._close()

    def _end(self, outcome: Outcome, *, close: bool) -> None:
        """The transaction is over: record it, then close or wait for the next request."""
        if self._out:
            self._flush()
        txn = self.txn
        if txn is not None:
            txn.outcome = outcome
            txn.timings.finished = self.ctx.clock()
            txn.bytes.from_client += txn.bytes.request_body
            self.txn = None
            self.ctx.finish(txn)
        self._reset()
        if close or self.closed or self.ctx.draining or self.client_eof:
            if not self.closed:
                self._close()
            return
        self._goto(IDLE)
        self._resume(PAUSE_BUFFER | PAUSE_UPSTREAM)
        if self.buffer:
            self._set_deadline(HEAD_DEADLINE, self.ctx.config.timeouts.head)
            self.loop.call_soon(self._process_soon)
        else:
            self._set_deadline(IDLE_DEADLINE, self.ctx.config.timeouts.idle)

    def on_deadline(self, now: float) -> None:
        """Called by the worker's sweeper once `deadline` has passed."""
        kind = self.deadline_kind
        timeouts = self.ctx.config.timeouts
        if kind == IDLE_DEADLINE:
            self._close()
        elif kind == HEAD_DEADLINE:
            if self.state == PEEK:
                if self.txn is not None:
                    self.txn.error = "no TLS ClientHello arrived in time"
                    self._end(Outcome.REFUSED, close=True)
                else:
                    self._close()
            elif self.state == IDLE:
                if self.buffer:
                    self._refuse_unparsed(HttpError(408, "The request head did not arrive in "
                                                         "time."))
                else:
                    if self.transport is not None:
                        self.transport.write(REQUEST_TIMEOUT)
                    self._close()
        elif kind == BODY_DEADLINE:
            self._abort_transaction("the request body stopped arriving")
        elif kind == UPSTREAM_DEADLINE:
            conn = self.upstream
            last = conn.last_activity if conn is not None else 0.0
            if now - last < timeouts.upstream:
                self.deadline = last + timeouts.upstream
                return
            if not self.head_sent and self.txn is not None:
                if conn is not None:
                    conn.abort()
                    self.upstream = None
                self._gateway_error(504, "The site did not answer",
                                    "The site sent nothing for too long.")
            else:
                self._abort_transaction("the site stopped sending")
        elif kind == TUNNEL_DEADLINE:
            tunnel = self.tunnel
            last = tunnel.last_activity if tunnel is not None else 0.0
            if now - last < timeouts.tunnel:
                self.deadline = last + timeouts.tunnel
                return
            self._close()
        self.deadline_kind = NO_DEADLINE if self.closed else self.deadline_kind

    def drain(self) -> None:
        """Shutdown: close now if idle; otherwise close after the current transaction."""
        self.keep_alive = False
        if self.state == IDLE and self.txn is None:
            self._close()
