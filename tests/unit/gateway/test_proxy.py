"""The proxy connection as a transcript: bytes in from the client and the origin, bytes out,
no sockets. (End-to-end behaviour with real sockets is in tests/integration/gateway.)"""

from __future__ import annotations

import asyncio
import functools
import struct
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from tests.unit.gateway.harness import RecordingWriter, Transcript, make_context
from webwarden.pipeline import Snapshot

AUTH = b"Proxy-Authorization: Basic cGMxMDAxOmRlbW8=\r\n"  # pc1001:demo
PAGE = b"<p>hello</p>"


def request(host: bytes = b"site.example", path: bytes = b"/", extra: bytes = b"",
            method: bytes = b"GET", auth: bytes = AUTH) -> bytes:
    return (method + b" http://" + host + path + b" HTTP/1.1\r\nHost: " + host + b"\r\n" + auth
            + extra + b"\r\n")


def response(body: bytes = PAGE, content_type: bytes = b"text/html", extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def run(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body on a fresh loop (the proxy needs one; no await is needed on
    the hot path, so most tests never yield)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


@run
async def test_allowed_request_goes_upstream_and_back(tmp_path: Path) -> None:
    writer = RecordingWriter()
    t = Transcript(make_context(tmp_path, writer))
    t.send(request(extra=b"Proxy-Connection: keep-alive\r\n"))
    sent = t.origin.take()
    assert sent.startswith(b"GET / HTTP/1.1\r\nHost: site.example\r\n")
    assert b"Proxy-" not in sent and b"Via: 1.1 webwarden\r\n" in sent
    t.respond(response())
    reply = t.client.take()
    assert reply.startswith(b"HTTP/1.1 200 OK\r\n") and reply.endswith(PAGE)
    assert writer.records[-1].status == 200 and writer.records[-1].person == "pc1001"
    assert writer.records[-1].effect == "allow"
    # keep-alive both ways: the next request uses the same origin connection
    t.send(request(path=b"/two"))
    assert t.origin.take().startswith(b"GET /two HTTP/1.1")
    t.respond(response(b"two"))
    assert t.client.take().endswith(b"two")
    assert not t.client.closed and len(writer.records) == 2


@run
async def test_pipelined_requests_wait_their_turn(tmp_path: Path) -> None:
    t = Transcript(make_context(tmp_path))
    t.send(request(path=b"/a") + request(path=b"/b"))
    assert t.origin.take().startswith(b"GET /a ")  # only the first went out
    t.respond(response(b"A"))
    await asyncio.sleep(0)  # the next request is taken up on the next loop turn
    assert t.origin.take().startswith(b"GET /b ")
    t.respond(response(b"B"))
    reply = t.client.take()
    assert reply.index(b"A") < reply.rindex(b"B")


@run
async def test_blocked_request_never_leaves(tmp_path: Path) -> None:
    writer = RecordingWriter()
    t = Transcript(make_context(tmp_path, writer))
    t.send(request(host=b"casino.example"))
    reply = t.client.take()
    assert reply.startswith(b"HTTP/1.1 403 ")
    assert b"X-Webwarden-Rule: block-gambling" in reply
    assert t.origin.take() == b""
    assert writer.records[-1].effect == "block"
    assert writer.records[-1].rule_ids[0] == "block-gambling"


@run
async def test_no_credentials_get_a_challenge(tmp_path: Path) -> None:
    t = Transcript(make_context(tmp_path))
    t.send(request(auth=b""))
    reply = t.client.take()
    assert reply.startswith(b"HTTP/1.1 407 ")
    assert b'Proxy-Authenticate: Basic realm="webwarden"' in reply


@run
async def test_notice_shows_the_interstitial(tmp_path: Path) -> None:
    t = Transcript(make_context(tmp_path))
    t.send(request(host=b"bank.example"))
    reply = t.client.take()
    assert reply.startswith(b"HTTP/1.1 511 ")
    assert b'name="token"' in reply and b"personal capacity" in reply


@run
async def test_executable_disguised_as_image_is_blocked_before_any_byte(tmp_path: Path) -> None:
    writer = RecordingWriter()
    t = Transcript(make_context(tmp_path, writer))
    t.send(request(path=b"/photo.jpg"))
    t.origin.take()
    exe = b"MZ" + b"\x90" * 58 + struct.pack("<I", 64) + b"PE\x00\x00" + b"\x00" * 5000
    t.respond(response(exe, b"image/jpeg"))
    reply = t.client.take()
    assert reply.startswith(b"HTTP/1.1 403 ")
    assert b"executable" in reply and b"MZ" not in reply
    assert t.origin.closed  # the rest of the download is not fetched
    assert writer.records[-1].rule_ids == ("block-risky-downloads",)


@run
async def test_small_first_chunks_are_held_until_sniffed(tmp_path: Path) -> None:
    t = Transcript(make_context(tmp_path))
    t.send(request())
    body = b"<html>" + b"x" * 10000
    whole = response(body)
    t.respond(whole[:100])
    assert t.client.take() == b""  # head held back until the first bytes are judged
    t.respond(whole[100:])
    assert t.client.take().endswith(body)


@run
async def test_download_cut_when_counted_bytes_pass_the_limit(tmp_path: Path) -> None:
    writer = RecordingWriter()
    t = Transcript(make_context(tmp_path, writer))
    t.send(request(path=b"/big"))
    t.origin.take()
    t.respond(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
    block = b"a" * 4_000_000
    for _ in range(70):  # the shipped limit is 250 MB
        if t.client.closed:
            break
        t.respond(b"%x\r\n%s\r\n" % (len(block), block))
        t.client.take()
    assert t.client.closed
    assert writer.records[-1].rule_ids == ("limit-large-downloads",)


@run
async def test_declared_length_over_the_limit_is_refused(tmp_path: Path) -> None:
    t = Transcript(make_context(tmp_path))
    t.send(request(path=b"/iso"))
    t.respond(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
              b"Content-Length: 999999999999\r\n\r\nstart")
    reply = t.client.take()
    assert reply.startswith(b"HTTP/1.1 403 ") and b"limit-large-downloads" in reply


@run
async def test_interim_responses_are_not_forwarded(tmp_path: Path) -> None:
    t = Transcript(make_context(tmp_path))
    t.send(request())
    t.respond(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + response())
    reply = t.client.take()
    assert reply.startswith(b"HTTP/1.1 200 OK") and b"103" not in reply


@run
async def test_head_response_has_no_body(tmp_path: Path) -> None:
    t = Transcript(make_context(tmp_path))
    t.send(request(method=b"HEAD"))
    t.respond(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1234\r\n\r\n")
    reply = t.client.take()
    assert reply.startswith(b"HTTP/1.1 200 OK") and reply.endswith(b"\r\n\r\n")
    assert b"content-length: 1234" in reply


@run
async def test_audit_failure_stops_forwarding(tmp_path: Path) -> None:
    writer = RecordingWriter()
    ctx = make_context(tmp_path, writer)
    t = Transcript(ctx)
    writer.fail_with = "database: disk full"
    t.send(request())
    t.respond(response())
    assert t.client.take().startswith(b"HTTP/1.1 200")  # it was forwarded; its record failed
    assert not ctx.audit.healthy
    second = Transcript(ctx)
    second.send(request())
    reply = second.client.take()
    assert reply.startswith(b"HTTP/1.1 503 ") and b"disk full" in reply
    assert second.origin.take() == b""


@pytest.mark.parametrize("bad", [
    b"GET http://site.example/ HTTP/1.1\r\nHost: site.example\r\nContent-Length: 1\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n",
    b"GET http://site.example/ HTTP/1.1\r\nHost: other.example\r\n\r\n",
])
def test_bad_requests_close_the_connection(tmp_path: Path, bad: bytes) -> None:
    async def body() -> None:
        t = Transcript(make_context(tmp_path))
        t.send(bad)
        assert t.client.take().startswith(b"HTTP/1.1 400 ")
        assert t.client.closed

    asyncio.run(body())


UPLOAD_POLICY = """
regime: {id: uploads, name: Uploads must be inspected, in_force_from: 2000-01-01}
default: {clause: G1, message: Not allowed., remedy: Ask.}
rules:
  - id: inspect-everything
    clause: G7
    effect: allow
    obligations: [inspect-uploads]
  - id: no-markings
    clause: G7
    effect: block
    when: {findings: [protective-marking]}
    message: Marked material stays inside.
    remedy: Take it out.
"""


async def reply_of(t: Transcript, seconds: float = 10.0) -> bytes:
    """What the client got, once the detectors (in a thread) have had their turn."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        reply = t.client.take()
        if reply:
            return reply
        await asyncio.sleep(0.01)
    return b""


@run
async def test_uploads_are_read_before_anything_is_sent(tmp_path: Path) -> None:
    policy = tmp_path / "uploads.yaml"
    policy.write_text(UPLOAD_POLICY)
    ctx = make_context(tmp_path, policies=[policy])
    t = Transcript(ctx)
    post = b"note=SECRET%0AThe plan for Monday"
    t.send(request(method=b"POST", extra=b"Content-Type: application/x-www-form-urlencoded"
                   b"\r\nContent-Length: %d\r\n" % len(post)) + post)
    reply = await reply_of(t)
    assert reply.startswith(b"HTTP/1.1 403 ") and b"protective marking" in reply
    assert b"The plan for Monday" not in reply
    assert t.origin.take() == b""
    tunnel = Transcript(ctx)  # no CA: nothing inside a tunnel could be read
    tunnel.send(b"CONNECT site.example:443 HTTP/1.1\r\nHost: site.example:443\r\n" + AUTH
                + b"\r\n")
    assert tunnel.client.take().startswith(b"HTTP/1.1 403 ")
    plain = Transcript(ctx)
    plain.send(request())  # nothing to upload: forwarded
    assert plain.origin.take().startswith(b"GET / HTTP/1.1")


class BrokenCategories:
    version = "broken"

    def lookup(self, host: str, path: str = "/") -> frozenset[str]:
        raise RuntimeError("index unreadable")


@run
async def test_a_failing_stage_denies(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    old = ctx.snapshot
    ctx.snapshot = Snapshot.build(old.policy, old.directory, BrokenCategories())
    t = Transcript(ctx)
    t.send(request())
    reply = t.client.take()
    assert reply.startswith(b"HTTP/1.1 500 ") and b"could not judge" in reply
    assert t.origin.take() == b""


@run
async def test_what_one_origin_read_brings_goes_out_in_one_write(tmp_path: Path) -> None:
    t = Transcript(make_context(tmp_path))
    for body, chunked in ((PAGE, False), (b"x" * 6000, False), (b"abc", True)):
        t.send(request())
        t.origin.take()
        t.client.writes = 0
        if chunked:
            t.respond(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        else:
            t.respond(response(body))
        reply = t.client.take()
        assert t.client.writes == 1, (len(body), chunked)
        assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
        assert reply.endswith(b"3\r\nabc\r\n0\r\n\r\n" if chunked else body)


@run
async def test_a_head_is_not_held_back_for_a_later_read(tmp_path: Path) -> None:
    """Bytes gathered during one read from the origin go out when that read is done, not
    when the next one comes (a slow or streaming body must not hold back what is in)."""
    writer = RecordingWriter()
    t = Transcript(make_context(tmp_path, writer))
    t.send(request(method=b"HEAD"))
    t.origin.take()
    t.respond(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 99\r\n\r\n")
    assert t.client.take().startswith(b"HTTP/1.1 200 OK\r\n")
    big = bytes(range(256)) * 20  # past the sniffing window
    t = Transcript(t.ctx)  # a HEAD response leaves its origin connection unusable
    t.send(request())
    t.origin.take()
    t.respond(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
              b"Content-Length: " + str(len(big) + 10).encode() + b"\r\n\r\n" + big)
    first = t.client.take()
    assert first.startswith(b"HTTP/1.1 200 OK\r\n") and first.endswith(big)
    t.respond(b"0123456789")
    assert t.client.take() == b"0123456789"
    assert writer.records[-1].status == 200 and writer.records[-1].bytes_out == (
        len(first) + 10
    )
