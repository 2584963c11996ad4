"""liqcore._ws (``src/ws.c``: websocket frames read and written in C) and liqcore.feed.websocket (the
connection around it), against a reference reader written here from RFC 6455, a real aiohttp server
(plain and TLS) and a raw server that breaks the protocol on purpose."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import ssl
from typing import Any, AsyncIterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from liqcore import _ws
from liqcore.errors import ConcurrentUseError, FeedConfigError, LiqError, WebSocketError

pytest.importorskip("aiohttp")
from aiohttp import WSMsgType, web  # noqa: E402

from liqcore.feed.websocket import WebSocket, connect  # noqa: E402
from simtest import local_tls  # noqa: E402

TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 1, 2, 0, 8, 9, 10


# ------------------------------------------------------------------ the reference (RFC 6455 §5)
def server_frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = False, rsv: int = 0,
                 long_form: bool = False) -> bytes:
    """A frame as a server writes it (unmasked unless ``masked``)."""
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    m = 0x80 if masked else 0
    if n < 126 and not long_form:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([m | 127]) + n.to_bytes(8, "big")
    return head + (b"\0\0\0\0" if masked else b"") + payload


def reference_read(data: bytes, max_size: int) -> tuple[list[Any], int | None]:
    """The messages a client reads from ``data`` (text as str, others as (opcode, bytes)) and the
    close code it fails with (None: no violation; reading stops at a close frame)."""
    out: list[Any] = []
    pos, frag_op, frag = 0, None, b""
    while len(data) - pos >= 2:
        b0, b1 = data[pos], data[pos + 1]
        fin, rsv, op, masked, n = b0 >> 7, (b0 >> 4) & 7, b0 & 15, b1 >> 7, b1 & 127
        if rsv or masked or op not in (0, 1, 2, 8, 9, 10):
            return out, 1002
        head = 2 + {126: 2, 127: 8}.get(n, 0)
        if len(data) - pos < head:
            break
        if n >= 126:
            n = int.from_bytes(data[pos + 2:pos + head], "big")
            if n >> 63:
                return out, 1002
        if op >= 8 and (not fin or n > 125):
            return out, 1002
        if n > max_size:
            return out, 1009
        if len(data) - pos - head < n:
            break
        payload = data[pos + head:pos + head + n]
        pos += head + n
        if op >= 8:
            out.append((op, payload))
            if op == CLOSE:
                return out, None
            continue
        if op == CONTINUATION:
            if frag_op is None:
                return out, 1002
            if len(frag) + n > max_size:
                return out, 1009
            frag += payload
            if not fin:
                continue
            op, payload, frag_op, frag = frag_op, frag, None, b""
        elif frag_op is not None:
            return out, 1002
        elif not fin:
            frag_op, frag = op, payload
            continue
        if op == TEXT:
            try:
                out.append(payload.decode())
            except UnicodeDecodeError:
                return out, 1007
        else:
            out.append((op, payload))
    return out, None


def read_in_chunks(data: bytes, cuts: list[int], max_size: int = _ws.DEFAULT_MAX_SIZE) -> tuple[list[Any], int | None]:
    """What FrameReader reads from ``data`` fed in pieces cut at ``cuts``."""
    out: list[Any] = []
    reader = _ws.FrameReader(out.append, lambda op, payload: out.append((op, payload)), max_size=max_size)
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    try:
        for a, b in zip(bounds, bounds[1:]):
            reader.feed(data[a:b])
    except WebSocketError as exc:
        assert reader.closed and reader.pending == 0
        return out, exc.code
    return out, None


# ------------------------------------------------------------------ FrameReader
messages = st.lists(st.one_of(
    st.tuples(st.just(TEXT), st.text(max_size=300).map(str.encode), st.integers(1, 3)),
    st.tuples(st.just(BINARY), st.binary(max_size=300), st.integers(1, 3)),
    st.tuples(st.sampled_from([PING, PONG]), st.binary(max_size=125), st.just(1)),
), max_size=12)


def encode(msgs: list[tuple[int, bytes, int]], long_form: bool = False) -> tuple[bytes, list[Any]]:
    """Server frames of ``msgs`` (data messages split in ``parts`` fragments) and what a client reads."""
    wire, want = b"", []
    for op, payload, parts in msgs:
        if op >= 8:
            wire += server_frame(op, payload, long_form=long_form)
            want.append((op, payload))
            continue
        step = max(1, len(payload) // parts)
        pieces = [payload[i:i + step] for i in range(0, len(payload), step)] or [b""]
        for i, piece in enumerate(pieces):
            wire += server_frame(op if i == 0 else CONTINUATION, piece, fin=i == len(pieces) - 1, long_form=long_form)
            if i == 0 and len(pieces) > 1:
                wire += server_frame(PING, b"between")            # a control frame between fragments
                want.append((PING, b"between"))
        want.append(payload.decode() if op == TEXT else (op, payload))
    return wire, want


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(messages, st.lists(st.integers(0, 1 << 16), max_size=30), st.booleans())
def test_reader_reads_every_message_whatever_the_cuts(msgs, cuts, long_form):
    wire, want = encode(msgs, long_form)
    assert reference_read(wire, _ws.DEFAULT_MAX_SIZE) == (want, None)
    assert read_in_chunks(wire, cuts) == (want, None)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=12), st.integers(1, 300))
def test_reader_equals_the_reference_on_any_bytes(data, cuts, max_size):
    """Hostile bytes: the same messages as the reference and the same close code, never a crash."""
    assert read_in_chunks(data, cuts, max_size) == reference_read(data, max_size)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(messages, st.integers(0, 12), st.integers(0, 255), st.lists(st.integers(0, 1 << 16), max_size=8))
def test_reader_equals_the_reference_with_one_byte_changed(msgs, at, value, cuts):
    wire, _ = encode(msgs)
    if wire:
        i = at % len(wire)
        wire = wire[:i] + bytes([value]) + wire[i + 1:]
    assert read_in_chunks(wire, cuts, 4096) == reference_read(wire, 4096)


def test_reader_edges():
    out: list[Any] = []
    r = _ws.FrameReader(out.append, lambda op, p: out.append((op, p)), max_size=10)
    r.feed(server_frame(TEXT, b"0123456789"))                    # exactly the bound
    r.feed(bytearray(server_frame(BINARY, b"ab", fin=False)))
    r.feed(memoryview(server_frame(CONTINUATION, b"cd")))
    assert out == ["0123456789", (BINARY, b"abcd")] and r.messages == 2
    r.feed(server_frame(TEXT, b"x" * 6, fin=False))
    with pytest.raises(WebSocketError) as e:
        r.feed(server_frame(CONTINUATION, b"y" * 5))              # 11 bytes in all
    assert e.value.code == 1009 and isinstance(e.value, ConnectionError) and isinstance(e.value, LiqError)
    assert r.closed and r.pending == 0
    r.feed(server_frame(TEXT, b"ignored"))                        # a closed reader reads nothing
    assert out == ["0123456789", (BINARY, b"abcd")]
    # a close frame ends reading: what follows it is not read
    out.clear()
    r = _ws.FrameReader(out.append, lambda op, p: out.append((op, p)))
    r.feed(server_frame(CLOSE, b"\x03\xe8") + server_frame(TEXT, b"after"))
    assert out == [(CLOSE, b"\x03\xe8")] and r.closed
    # held bytes: a partial frame
    r = _ws.FrameReader(out.append, out.append)
    r.feed(server_frame(TEXT, b"abc")[:3])
    assert r.pending == 3
    r.close()
    assert r.pending == 0 and r.closed


def test_reader_goes_on_after_a_handler_raised():
    seen: list[str] = []

    def on_text(text: str) -> None:
        seen.append(text)
        if text == "boom":
            raise KeyError(text)
    r = _ws.FrameReader(on_text, lambda op, p: None)
    data = b"".join(server_frame(TEXT, t) for t in (b"a", b"boom", b"c")) + server_frame(TEXT, b"dd")[:2]
    with pytest.raises(KeyError):
        r.feed(data)
    assert seen == ["a", "boom"] and not r.closed
    r.feed(b"dd")                                  # the rest of what was fed, then the new bytes
    assert seen == ["a", "boom", "c", "dd"]


def test_a_feed_from_a_handler_is_refused_and_reads_nothing():
    seen: list[str] = []
    r: Any = None

    def on_text(text: str) -> None:
        seen.append(text)
        if text == "again":
            r.feed(server_frame(TEXT, b"inner"))
    r = _ws.FrameReader(on_text, lambda op, p: None)
    with pytest.raises(ConcurrentUseError):
        r.feed(server_frame(TEXT, b"again") + server_frame(TEXT, b"after"))
    r.feed(b"")
    assert seen == ["again", "after"] and not r.closed


def test_threads_feeding_one_reader_never_corrupt_it():
    """Two threads feed one reader (a handler that runs Python lets the other in): a refused feed
    raises ConcurrentUseError and reads nothing; every message read is whole and in its thread's order."""
    import threading
    got: list[str] = []

    def on_text(text: str) -> None:
        got.append(text)
        sum(range(50))                           # bytecodes: the other thread may run here
    r = _ws.FrameReader(on_text, lambda op, p: None)
    refused = [0, 0]

    def worker(k: int) -> None:
        for i in range(3000):
            frame = server_frame(TEXT, f"{k}:{i}".encode())
            while True:
                try:
                    r.feed(frame)
                    break
                except ConcurrentUseError:
                    refused[k] += 1
    threads = [threading.Thread(target=worker, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert r.pending == 0 and not r.closed and r.messages == 6000
    for k in (0, 1):
        assert [m for m in got if m.startswith(f"{k}:")] == [f"{k}:{i}" for i in range(3000)]


@pytest.mark.parametrize("bad", ["text", 5, None, 1.5, [1, 2], object()])
def test_reader_refuses_what_is_not_bytes(bad):
    r = _ws.FrameReader(print, print)
    with pytest.raises(TypeError):
        r.feed(bad)
    assert not r.closed and r.messages == 0


@pytest.mark.parametrize("max_size", [0, -1, 1 << 63, 1.0, "10", True])
def test_reader_refuses_a_bad_bound(max_size):
    with pytest.raises(FeedConfigError):
        _ws.FrameReader(print, print, max_size=max_size)
    with pytest.raises(TypeError):
        _ws.FrameReader(None, print)


# ------------------------------------------------------------------ write_frame
def reference_client_frame(opcode: int, payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG]), st.binary(max_size=70000), st.binary(min_size=4, max_size=4))
def test_write_frame_equals_the_reference(opcode, payload, mask):
    if opcode >= 8 and len(payload) > 125:
        with pytest.raises(WebSocketError):
            _ws.write_frame(opcode, payload, mask)
        return
    assert _ws.write_frame(opcode, payload, mask) == reference_client_frame(opcode, payload, mask)
    assert _ws.write_frame(opcode, bytearray(payload), mask) == reference_client_frame(opcode, payload, mask)


@pytest.mark.parametrize("opcode,payload,mask,exc", [
    (3, b"", b"abcd", WebSocketError), (16, b"", b"abcd", WebSocketError), (-1, b"", b"abcd", WebSocketError),
    (1, "text", b"abcd", TypeError), (1, 7, b"abcd", TypeError), (1, b"", b"abc", TypeError),
    (1, b"", "abcd", TypeError), (1 << 70, b"", b"abcd", OverflowError),
])
def test_write_frame_refuses_bad_arguments(opcode, payload, mask, exc):
    with pytest.raises(exc):
        _ws.write_frame(opcode, payload, mask)


# ------------------------------------------------------------------ the connection, against real servers
def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


class Collect:
    """A WebSocket's handlers: every message in arrival order; ``ended`` once the last one came."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.ended = asyncio.Event()

    def text(self, text: str) -> None:
        assert not self.ended.is_set()
        self.items.append(text)

    def message(self, msg: Any) -> None:
        assert not self.ended.is_set()
        self.items.append((msg.type, msg.data, msg.extra))
        if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR, WSMsgType.CLOSED):
            self.ended.set()


async def aiohttp_server(handler: Any, ssl_context: ssl.SSLContext | None = None) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]       # type: ignore[union-attr]
    return runner, f"{'wss' if ssl_context else 'ws'}://{'localhost' if ssl_context else '127.0.0.1'}:{port}/ws"


def test_a_conversation_with_an_aiohttp_server():
    """Text both ways, a ping answered by the client's pong, binary, then the server closes with
    a code and a reason: the client answers the close and its last message is CLOSE."""
    got: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False, compress=False)
        await ws.prepare(request)
        got["headers"] = dict(request.headers)
        got["hello"] = (await ws.receive()).data
        for i in range(200):
            await ws.send_str(f'{{"i":{i},"pad":"{"é" * (i % 7)}"}}')
        await ws.send_bytes(b"\x00\x01")
        await ws.ping(b"p1")
        got["pong"] = await ws.receive()
        await ws.send_str("x" * 100_000)
        await ws.close(code=4001, message=b"bye")
        return ws

    async def body() -> None:
        runner, url = await aiohttp_server(handler)
        try:
            ws = await connect(url + "?a=1", headers={"X-Liq": "yes"})
            c = Collect()
            ws.start(c.text, c.message)
            await ws.send_str("hello")
            while not c.ended.is_set():
                await asyncio.sleep(0.01)
                if any(isinstance(i, tuple) and i[0] is WSMsgType.PING for i in c.items) and "pong" not in got:
                    await ws.pong(b"p1")
                    got["pong"] = None
            await asyncio.sleep(0.05)
        finally:
            await runner.cleanup()
        texts = [i for i in c.items if isinstance(i, str)]
        assert texts[:200] == [f'{{"i":{i},"pad":"{"é" * (i % 7)}"}}' for i in range(200)]
        assert texts[200] == "x" * 100_000
        others = [i for i in c.items if not isinstance(i, str)]
        assert others == [(WSMsgType.BINARY, b"\x00\x01", None), (WSMsgType.PING, b"p1", None),
                          (WSMsgType.CLOSE, 4001, "bye")]
        assert got["hello"] == "hello" and got["headers"]["X-Liq"] == "yes"
        assert got["pong"].type is WSMsgType.PONG and got["pong"].data == b"p1"
        assert ws.closed and ws.close_code == 4001 and ws.reader.messages == 204
        assert await ws.close() is False          # already closed: nothing to do
        with pytest.raises(WebSocketError):
            await ws.send_str("late")
    run(body())


def test_a_local_close_is_the_last_message():
    """The client closes: the server sees close code 1000; nothing the server still sends reaches
    on_text; the last message is CLOSED."""
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False, autoclose=False)
        await ws.prepare(request)
        async def spam() -> None:
            while not ws.closed:
                await ws.send_str("tick")
                await asyncio.sleep(0.001)
        task = asyncio.ensure_future(spam())
        msg = await ws.receive()
        seen["close"] = (msg.type, msg.data)
        await ws.close()
        task.cancel()
        return ws

    async def body() -> None:
        runner, url = await aiohttp_server(handler)
        try:
            ws = await connect(url)
            c = Collect()
            ws.start(c.text, c.message)
            while len(c.items) < 5:
                await asyncio.sleep(0.005)
            assert await ws.close() is True
            n = len(c.items)
            await asyncio.sleep(0.05)
            assert len(c.items) == n and c.items[-1] == (WSMsgType.CLOSED, None, None)
            assert all(i == "tick" for i in c.items[:-1])
        finally:
            await runner.cleanup()
        assert seen["close"] == (WSMsgType.CLOSE, 1000)
    run(body())


def test_tls_with_a_local_certificate_authority():
    """wss:// against an aiohttp server with a certificate of a local CA (trustme): accepted with a
    context that trusts the CA, refused (certificate verify failed) with the default context, and
    accepted without verification (ccxt's verify=False)."""
    server_ctx, client_ctx = local_tls("localhost")

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str("over tls")
        await ws.close()
        return ws

    async def body() -> None:
        runner, url = await aiohttp_server(handler, server_ctx)
        try:
            for context in (client_ctx, False):
                ws = await connect(url, ssl=context)
                c = Collect()
                ws.start(c.text, c.message)
                await asyncio.wait_for(c.ended.wait(), 5)
                assert c.items == ["over tls", (WSMsgType.CLOSE, 1000, "")]
            with pytest.raises(ssl.SSLCertVerificationError):
                await connect(url)
        finally:
            await runner.cleanup()
    run(body())


async def raw_server(script: Any) -> tuple[asyncio.AbstractServer, str]:
    """A server that reads the client's handshake request and runs ``script(request_head, reader,
    writer)`` (it writes whatever it likes)."""
    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        try:
            await script(head, reader, writer)
        finally:
            writer.close()
    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    return server, f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/raw"


@contextlib.asynccontextmanager
async def started(script: Any) -> AsyncIterator[tuple[WebSocket, Collect]]:
    """A raw server running ``script`` and a connection to it, started with a :class:`Collect`."""
    server, url = await raw_server(script)
    async with server:
        ws = await connect(url)
        c = Collect()
        ws.start(c.text, c.message)
        yield ws, c


def accept_of(head: bytes) -> str:
    key = [line.split(b":", 1)[1].strip() for line in head.split(b"\r\n") if line.lower().startswith(b"sec-websocket-key")][0]
    return base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()).decode()


def upgrade(head: bytes, extra: str = "", accept: str | None = None) -> bytes:
    return (f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept or accept_of(head)}\r\n{extra}\r\n").encode()


def client_payload(data: bytes) -> bytes:
    """The unmasked payload of the first client frame in ``data`` (a short one: 7-bit length)."""
    mask, body = data[2:6], data[6:6 + (data[1] & 0x7F)]
    return bytes(b ^ mask[i % 4] for i, b in enumerate(body))


async def read_close(reader: asyncio.StreamReader, closes: list[int]) -> None:
    """A raw server's read of the client's close frame: its code appended to ``closes``."""
    data = await reader.read(1 << 16)
    if len(data) >= 8 and data[0] & 0x0F == CLOSE:
        closes.append(int.from_bytes(client_payload(data)[:2], "big"))


@pytest.mark.parametrize("response,status,match", [
    (lambda h: b"HTTP/1.1 403 Forbidden\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n", 403, "refused: HTTP 403"),
    (lambda h: upgrade(h, accept="d3Jvbmc="), 101, "Sec-WebSocket-Accept"),
    (lambda h: upgrade(h, extra="Sec-WebSocket-Extensions: permessage-deflate\r\n"), 101, "none was offered"),
    (lambda h: upgrade(h).replace(b"Upgrade: websocket", b"Upgrade: h2c"), 101, "does not upgrade"),
    (lambda h: upgrade(h).replace(b"Connection: Upgrade", b"Connection: keep-alive"), 101, "Connection"),
    (lambda h: b"SSH-2.0-OpenSSH\r\n\r\n", None, "not an HTTP response"),
    (lambda h: b"HTTP/1.1 1\xb21 OK\r\n\r\n", None, "not an HTTP response"),      # a superscript digit
    (lambda h: b"HTTP/1.1 101 OK\r\nno colon here\r\n\r\n", None, "malformed header"),
    (lambda h: b"HTTP/1.1 101 OK\r\n" + b"X: " + b"a" * 70_000, None, "over 65536 bytes"),
    (lambda h: b"HTTP/1.1 101 OK\r\n", None, "connection lost in the handshake"),
])
def test_a_refused_handshake_is_a_clear_error(response, status, match):
    async def script(head: bytes, reader: Any, writer: Any) -> None:
        writer.write(response(head))
        await writer.drain()

    async def body() -> None:
        server, url = await raw_server(script)
        async with server:
            with pytest.raises(WebSocketError, match=match) as e:
                await connect(url)
        assert e.value.status == status
        if status == 403:
            assert e.value.headers["retry-after"] == "7"
    run(body())


def _valid_head(key: str, extra: list[str]) -> bytes:
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Accept: {accept_of(f'Sec-WebSocket-Key: {key}'.encode())}", *extra]
    return "\r\n".join(lines).encode("latin-1")


@settings(max_examples=400, deadline=None)
@example(b"HTTP/1.1 1\xb21 OK", 0, b"", [])                   # a status of non-ASCII digits
@given(st.binary(max_size=300), st.integers(0, 400), st.binary(max_size=8),
       st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,10}: [ -~]{0,20}", fullmatch=True), max_size=3))
def test_a_handshake_response_is_accepted_or_refused_cleanly(noise, at, insert, extra):
    """Whatever a server answers, the handshake check accepts it (a valid 101 for our key, headers
    in any case and with extra ones) or raises WebSocketError, never another exception."""
    async def body() -> None:
        ws = WebSocket("ws://127.0.0.1/x", "dGhlIHNhbXBsZSBub25jZQ==", 1024)
        good = _valid_head(ws._key, [e for e in extra if not e.lower().startswith(("sec-websocket", "upgrade",
                                                                                     "connection"))])
        assert ws._check_head(good) is None
        assert ws._check_head(good.replace(b"Upgrade: websocket", b"UPGRADE: WebSocket")) is None
        for head in (noise, good[:at % (len(good) + 1)] + insert + good[at % (len(good) + 1):]):
            try:
                ws._check_head(head)
            except WebSocketError:
                pass
    asyncio.run(body())


@pytest.mark.parametrize("frames,code", [
    (server_frame(TEXT, b"ok") + server_frame(TEXT, b"masked", masked=True), 1002),
    (server_frame(TEXT, b"ok") + server_frame(TEXT, b"\xff\xfe"), 1007),
    (server_frame(TEXT, b"ok") + server_frame(CONTINUATION, b"orphan"), 1002),
    (server_frame(TEXT, b"ok") + server_frame(CLOSE, b"\x03"), 1002),
    (server_frame(TEXT, b"ok") + server_frame(CLOSE, b"\x03\xed"), 1002),          # 1005 may not be sent
    (server_frame(TEXT, b"ok") + server_frame(CLOSE, b"\x03\xe8\xff"), 1007),
    (server_frame(TEXT, b"ok") + server_frame(BINARY, b"b" * 2000), 1009),
])
def test_a_protocol_violation_fails_the_connection_with_its_code(frames, code):
    """Frames sent in the same packet as the 101 are read after start(); the violation is
    answered with a close frame of its code and reported as the last message (ERROR)."""
    closes: list[int] = []

    async def script(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(upgrade(head) + frames)
        await writer.drain()
        await read_close(reader, closes)

    async def body() -> None:
        server, url = await raw_server(script)
        async with server:
            ws = await connect(url, max_size=1024)
            await asyncio.sleep(0.05)                  # the frames wait for start()
            c = Collect()
            ws.start(c.text, c.message)
            await asyncio.wait_for(c.ended.wait(), 5)
            await asyncio.sleep(0.05)
        assert c.items[0] == "ok"
        kind, exc, _ = c.items[-1]
        assert kind is WSMsgType.ERROR and isinstance(exc, WebSocketError) and exc.code == code
        assert ws.closed and ws.close_code == code
        assert closes == [code]
    run(body())


def test_a_handler_that_raises_fails_the_connection_with_1011():
    closes: list[int] = []

    async def script(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(upgrade(head) + server_frame(TEXT, b"ok") + server_frame(TEXT, b"boom")
                     + server_frame(TEXT, b"never"))
        await writer.drain()
        await read_close(reader, closes)

    async def body() -> None:
        server, url = await raw_server(script)
        async with server:
            ws = await connect(url)
            c = Collect()

            def on_text(text: str) -> None:
                c.text(text)
                if text == "boom":
                    raise ValueError("handler bug")
            ws.start(on_text, c.message)
            await asyncio.wait_for(c.ended.wait(), 5)
            await asyncio.sleep(0.05)
        assert c.items[:2] == ["ok", "boom"] and c.items[-1][0] is WSMsgType.ERROR and len(c.items) == 3
        assert c.items[-1][1].code == 1011 and ws.close_code == 1011
        assert closes == [1011]
    run(body())


def test_bad_arguments_to_a_connection_are_refused_and_send_nothing():
    received: list[bytes] = []

    async def script(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(upgrade(head))
        await writer.drain()
        while data := await reader.read(1 << 16):
            received.append(data)

    async def body() -> None:
        async with started(script) as (ws, c):
            for call, exc in [(ws.send_str(5), TypeError), (ws.send_str(b"bytes"), TypeError),
                              (ws.send_bytes(5), TypeError), (ws.send_bytes("text"), TypeError),
                              (ws.ping(b"x" * 126), WebSocketError), (ws.pong(7), TypeError),
                              (ws.close(code=1005), FeedConfigError), (ws.close(code=999), FeedConfigError),
                              (ws.close(code=True), FeedConfigError), (ws.close(code=5000), FeedConfigError),
                              (ws.close(message=b"r" * 124), FeedConfigError),
                              (ws.close(message=b"\xff"), FeedConfigError), (ws.close(message="text"), TypeError)]:
                with pytest.raises(exc):
                    await call
            await asyncio.sleep(0.05)
            assert received == [] and not ws.closed
            await ws.send_bytes(memoryview(b"ok"))
            assert await ws.close(code=4000, message="bye".encode()) is True
            await asyncio.sleep(0.05)
        data = b"".join(received)
        assert data[:2] == b"\x82\x82" and client_payload(data) == b"ok"      # the binary, then the close
        assert data[8:10] == b"\x88\x85" and client_payload(data[8:]) == (4000).to_bytes(2, "big") + b"bye"
    run(body())


def test_frames_cut_anywhere_by_a_real_socket_arrive_whole_and_in_order():
    payloads = [os.urandom(n).hex() for n in (0, 1, 60, 125, 126, 500, 65535, 65536, 200_000)] * 3
    wire = b"".join(server_frame(TEXT, p.encode()) for p in payloads) + server_frame(CLOSE, b"\x03\xe8")

    async def script(head: bytes, reader: Any, writer: asyncio.StreamWriter) -> None:
        writer.write(upgrade(head))
        i, step = 0, 1
        while i < len(wire):
            writer.write(wire[i:i + step])
            await writer.drain()
            i, step = i + step, (step * 7 + 3) % 9000 + 1
            if i % 5 == 0:
                await asyncio.sleep(0)
        await reader.read(100)

    async def body() -> None:
        async with started(script) as (ws, c):
            await asyncio.wait_for(c.ended.wait(), 20)
        assert c.items[:-1] == payloads and c.items[-1] == (WSMsgType.CLOSE, 1000, "")
    run(body())


def test_a_socket_that_ends_without_a_close_frame_is_closed():
    async def script(head: bytes, reader: Any, writer: asyncio.StreamWriter) -> None:
        writer.write(upgrade(head) + server_frame(TEXT, b"last words"))
        await writer.drain()

    async def body() -> None:
        server, url = await raw_server(script)
        async with server:
            ws = await connect(url)
            await asyncio.sleep(0.1)                # the socket ended before start()
            c = Collect()
            ws.start(c.text, c.message)
            await asyncio.wait_for(c.ended.wait(), 5)
        assert c.items == ["last words", (WSMsgType.CLOSED, None, None)] and ws.close_code == 1006
        with pytest.raises(RuntimeError):
            ws.start(c.text, c.message)
    run(body())


@pytest.mark.parametrize("url,headers", [
    ("http://127.0.0.1/x", None), ("ws://", None), ("ws://127.0.0.1:99999/x", None),
    ("ws://127.0.0.1/a b", None), ("ws://127.0.0.1/x", {"X-Bad": "a\r\nInjected: 1"}),
    ("ws://127.0.0.1/x", {"Bad:Name": "v"}), ("ws://127.0.0.1/x", {"": "v"}),
])
def test_a_bad_url_or_header_is_refused_before_connecting(url, headers):
    async def body() -> None:
        with pytest.raises(WebSocketError):
            await connect(url, headers=headers)
    run(body())


def test_a_refused_connection_is_an_os_error():
    async def body() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(OSError):
            await connect(f"ws://127.0.0.1:{port}/x")
    run(body())


def test_websocket_has_what_ccxt_calls():
    """ccxt.pro's Client calls these on its connection (send_str, ping, pong, close, closed) and looks
    for aiohttp's ``_conn`` (its buffer property): present, and None."""
    for name in ("send_str", "send_bytes", "ping", "pong", "close", "start"):
        assert callable(getattr(WebSocket, name))
    assert isinstance(WebSocket.closed, property) and WebSocket._conn is None
