"""A websocket client connection whose frames are read in C, synchronously, as the socket delivers them.

aiohttp's websocket (what ccxt.pro reads) parses frames into a queue and wakes a reader task per message:
a future, a task switch and a method call per frame before any handler runs, about 20 µs per frame on
the scale study's machine when frames arrive one by one (``docs/scale.md``). Here an asyncio
:class:`~asyncio.Protocol` hands the received bytes to :class:`liqcore._ws.FrameReader` (``src/ws.c``)
inside ``data_received``, which calls the handler of each complete text message right there.

    ws = await connect("wss://stream.binance.com:9443/ws", ssl=context)
    ws.start(on_text, on_message)      # on_text(str); on_message(aiohttp.WSMessage): the rest
    await ws.send_str('{"method":"SUBSCRIBE",...}')

:class:`WebSocket` has the methods ccxt.pro's ``Client`` calls on its aiohttp connection (``send_str``,
``ping``, ``pong``, ``close``, ``closed``), so an adapter returns it from ``Client.create_connection``
(``liqcore.feed.engine``). What it does not do, the adapter leaves to aiohttp: proxies, cookies and
permessage-deflate (no extension is offered: the venues send plain frames to a client that offers none).

Lifecycle: :func:`connect` returns once the server accepted the handshake (RFC 6455 §4); bytes that
arrive before :meth:`WebSocket.start` are held (reading pauses past ``_EARLY_LIMIT``) and handed over
by it. Every message after that goes to the handlers in arrival order, then exactly one last message
ends the connection: ``CLOSE`` (the server closed; the close was answered), ``ERROR`` (a protocol
violation, answered with its close code, or a transport error) or ``CLOSED`` (a local :meth:`close`, or
the socket ended without a close frame). Nothing reaches ``on_text`` after a local ``close()`` began.
A handler that raises fails the connection (close code 1011, then ``ERROR``): the exception is logged,
never raised into the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import ssl as ssl_module
from typing import Any, Callable
from urllib.parse import urlsplit

from aiohttp import WSMessage, WSMsgType

from liqcore._ws import BINARY, CLOSE, DEFAULT_MAX_SIZE, PING, PONG, TEXT, FrameReader, write_frame
from liqcore.errors import FeedConfigError, WebSocketError

__all__ = ["WebSocket", "connect"]

log = logging.getLogger("liqcore.feed")

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"      # RFC 6455 §1.3
#: response-head bytes a server may send before the handshake fails
_MAX_HEAD = 64 * 1024
#: bytes held before start() beyond which reading pauses
_EARLY_LIMIT = 1 << 20
#: seconds a local close waits for the server's close frame before dropping the socket
CLOSE_TIMEOUT = 2.0
#: headers the handshake writes itself: a caller's are not sent in their place
_OWN_HEADERS = frozenset({"host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version",
                          "sec-websocket-extensions", "sec-websocket-protocol"})
_TYPES = {BINARY: WSMsgType.BINARY, PING: WSMsgType.PING, PONG: WSMsgType.PONG}
_CLOSED_MESSAGE = WSMessage(WSMsgType.CLOSED, None, None)


def _accept(key: str) -> str:
    """The Sec-WebSocket-Accept a server must answer ``key`` with (RFC 6455 §4.2.2)."""
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()


def _valid_close_code(code: int) -> bool:
    """A code a close frame may carry (RFC 6455 §7.4: 1004-1006 and 1015 are never sent)."""
    return code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014) or 3000 <= code <= 4999


class WebSocket(asyncio.Protocol):
    """One client connection (see the module's docstring). Made by :func:`connect`.

    Attributes: ``url``; ``reader`` (the :class:`~liqcore._ws.FrameReader`: ``reader.messages``
    messages so far); ``close_code`` (the code the connection ended with, once it did).
    """

    _conn = None     # ccxt's Client.buffer looks for aiohttp's connection here: there is none

    def __init__(self, url: str, key: str, max_size: int) -> None:
        self.url = url
        self._key = key
        self._transport: asyncio.Transport | None = None
        self._head = bytearray()
        self.handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.reader = FrameReader(_before_start, _before_start, max_size=max_size)
        self._early: list[bytes] | None = []     # bytes received before start()
        self._early_size = 0
        self._on_message: Callable[[WSMessage], Any] | None = None
        self._closing = False        # a close frame was sent (or the connection failed)
        self._local_close = False    # close() began it: its end is CLOSED, not the server's answer
        self._lost_exc: Exception | None = None
        self._ended = False          # the one last message was handed over
        self._lost = asyncio.get_running_loop().create_future()
        self._write_ready: asyncio.Future[None] | None = None
        self.close_code: int | None = None

    # ------------------------------------------------------------------ asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._early is None:
            try:
                self.reader.feed(data)
            except WebSocketError as exc:
                self._fail(exc)
            except Exception as exc:     # a handler raised: fail the connection (1011), never the loop
                log.exception("%s: a message handler raised; closing the connection", self.url)
                self._fail(WebSocketError(1011, f"a message handler raised {exc!r}"))
        elif not self.handshake.done():
            self._read_head(data)
        else:
            self._hold(data)

    def eof_received(self) -> bool:
        return False                 # the transport closes; connection_lost ends the connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._lost_exc = exc
        if not self.handshake.done():
            self.handshake.set_exception(WebSocketError(1006, f"connection lost in the handshake: {exc!r}"))
        if not self._lost.done():
            self._lost.set_result(None)
        if self._write_ready is not None and not self._write_ready.done():
            self._write_ready.set_result(None)
        if self._early is None:      # started: report the end (else start() reads what is held, then reports it)
            self.reader.close()
            self._end_lost()

    def _end_lost(self) -> None:
        if self._local_close:
            return                   # close() reports the end
        exc = self._lost_exc
        self._end(_CLOSED_MESSAGE if exc is None else WSMessage(WSMsgType.ERROR, exc, None), 1006)

    def pause_writing(self) -> None:
        if self._write_ready is None or self._write_ready.done():
            self._write_ready = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._write_ready is not None and not self._write_ready.done():
            self._write_ready.set_result(None)

    # ------------------------------------------------------------------ handshake
    def _read_head(self, data: bytes) -> None:
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) > _MAX_HEAD:
                self._refuse(WebSocketError(1006, f"handshake response head over {_MAX_HEAD} bytes"))
            return
        head, rest = bytes(self._head[:end]), bytes(self._head[end + 4:])
        self._head = bytearray()
        try:
            self._check_head(head)
        except WebSocketError as exc:
            self._refuse(exc)
            return
        self.handshake.set_result(None)
        if rest:
            self._hold(rest)

    def _check_head(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not (parts[1].isascii() and parts[1].isdigit()):
            raise WebSocketError(1006, f"handshake: not an HTTP response: {lines[0][:80]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise WebSocketError(1006, f"handshake: malformed header line {line[:80]!r}")
            key = name.lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        status = int(parts[1])
        chosen = [n for n in ("sec-websocket-extensions", "sec-websocket-protocol") if headers.get(n)]
        if status != 101:
            problem = f"handshake refused: HTTP {status} {parts[2] if len(parts) > 2 else ''}".rstrip()
        elif headers.get("upgrade", "").lower() != "websocket":
            problem = "handshake: the response does not upgrade to websocket"
        elif "upgrade" not in {t.strip().lower() for t in headers.get("connection", "").split(",")}:
            problem = "handshake: the response's Connection is not Upgrade"
        elif headers.get("sec-websocket-accept") != _accept(self._key):
            problem = "handshake: wrong Sec-WebSocket-Accept"
        elif chosen:
            problem = f"handshake: the server chose {chosen[0]} {headers[chosen[0]]!r}, none was offered"
        else:
            return
        raise WebSocketError(1006, problem, status=status, headers=headers)

    def _refuse(self, exc: WebSocketError) -> None:
        self._closing = True
        if not self.handshake.done():
            self.handshake.set_exception(exc)
        if self._transport is not None:
            self._transport.abort()

    def _hold(self, data: bytes) -> None:
        assert self._early is not None
        self._early.append(data)
        self._early_size += len(data)
        if self._early_size > _EARLY_LIMIT and self._transport is not None:
            self._transport.pause_reading()

    # ------------------------------------------------------------------ messages
    def start(self, on_text: Callable[[str], Any], on_message: Callable[[WSMessage], Any]) -> None:
        """Begin handing messages over: ``on_text(str)`` per text message, ``on_message(WSMessage)``
        for every other one (binary, ping, pong) and for the one last message (``CLOSE``, ``ERROR``,
        ``CLOSED``). Bytes held since the handshake are read first, in this call. Once only."""
        if self._early is None:
            raise RuntimeError("WebSocket.start: already started")
        early, self._early = self._early, None
        self.reader.on_text = on_text
        self.reader.on_other = self._other
        self._on_message = on_message
        for data in early:
            self.data_received(data)
        if self._lost.done():            # the socket ended before start(): report it now
            self.reader.close()
            self._end_lost()
        elif self._early_size > _EARLY_LIMIT and self._transport is not None:
            self._transport.resume_reading()

    def _other(self, opcode: int, payload: bytes) -> None:
        if opcode != CLOSE:
            if not self._closing:
                assert self._on_message is not None
                self._on_message(WSMessage(_TYPES[opcode], payload, None))
            return
        code, reason = 1005, ""                           # 1005: the frame carried no code
        if len(payload) >= 2:
            code = int.from_bytes(payload[:2], "big")
            try:
                reason = payload[2:].decode()
            except UnicodeDecodeError:
                self._fail(WebSocketError(1007, "a close frame's reason is not UTF-8"))
                return
            if not _valid_close_code(code):
                self._fail(WebSocketError(1002, f"a close frame with code {code}"))
                return
        elif payload:
            self._fail(WebSocketError(1002, "a close frame of one byte"))
            return
        self._close_socket(code if code != 1005 else None)   # answered (RFC 6455 §5.5.1)
        if not self._local_close:
            self._end(WSMessage(WSMsgType.CLOSE, code, reason), code)

    def _fail(self, exc: WebSocketError) -> None:
        """The peer broke the protocol: close with its code, report ERROR, drop the socket."""
        self.reader.close()
        self._close_socket(exc.code)
        self._end(WSMessage(WSMsgType.ERROR, exc, None), exc.code)

    def _close_socket(self, code: int | None) -> None:
        """Send a close frame of ``code`` (None: without one) unless a close was sent already, then
        close the socket once that frame is flushed."""
        if not self._closing:
            self._closing = True
            self._write_close(code)
        if self._transport is not None:
            self._transport.close()

    def _end(self, msg: WSMessage, code: int) -> None:
        if self._ended:
            return
        self._ended = True
        self.close_code = code
        if self._on_message is not None:
            self.reader.on_text = _ignore_text
            self._on_message(msg)

    # ------------------------------------------------------------------ ccxt's Client interface
    @property
    def closed(self) -> bool:
        """True once a close began (either side), the protocol failed or the socket ended."""
        return self._closing or self._lost.done()

    async def send_str(self, data: str, compress: Any = None) -> None:
        """Send one text message (``compress`` is accepted for aiohttp's signature; nothing is
        compressed). Waits while the socket's write buffer is over its high-water mark."""
        if type(data) is not str:
            raise TypeError(f"send_str takes a str, not {type(data).__name__}")
        await self._send(TEXT, data.encode())

    async def send_bytes(self, data: bytes, compress: Any = None) -> None:
        """Send one binary message (bytes, bytearray or memoryview)."""
        await self._send(BINARY, data)

    async def ping(self, message: bytes = b"") -> None:
        """Send a ping (at most 125 bytes of payload: more raises WebSocketError, nothing sent)."""
        await self._send(PING, message)

    async def pong(self, message: bytes = b"") -> None:
        """Send a pong (at most 125 bytes, as :meth:`ping`)."""
        await self._send(PONG, message)

    async def _send(self, opcode: int, payload: Any) -> None:
        if self.closed or self._transport is None:
            raise WebSocketError(1006, f"cannot send on a closed connection to {self.url}")
        self._transport.write(write_frame(opcode, payload, os.urandom(4)))
        if self._write_ready is not None and not self._write_ready.done():
            await self._write_ready

    def _write_close(self, code: int | None, reason: bytes = b"") -> None:
        if self._transport is None or self._transport.is_closing():
            return
        payload = b"" if code is None else code.to_bytes(2, "big") + reason
        self._transport.write(write_frame(CLOSE, payload, os.urandom(4)))

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool:
        """Close: send a close frame, wait (``CLOSE_TIMEOUT`` at most) for the server's answer and
        the socket's end, then drop it. Nothing more reaches ``on_text``; the last message is
        ``CLOSED`` unless the server's close or an error came first. Returns False when the
        connection was already closing. ``code``: 1000-1003, 1007-1014 or 3000-4999;
        ``message``: at most 123 bytes of UTF-8 (else FeedConfigError, and nothing is sent)."""
        if type(code) is not int or not _valid_close_code(code):
            raise FeedConfigError(f"a close code must be 1000-1003, 1007-1014 or 3000-4999, not {code!r}")
        if not isinstance(message, (bytes, bytearray, memoryview)):
            raise TypeError(f"a close message is bytes, not {type(message).__name__}")
        message = bytes(message)
        try:
            message.decode()
        except UnicodeDecodeError:
            raise FeedConfigError("a close message must be UTF-8") from None
        if len(message) > 123:
            raise FeedConfigError(f"a close message is at most 123 bytes, not {len(message)}")
        if self._closing:
            if self._transport is not None and not self._lost.done():
                self._transport.close()
            return False
        self._closing = self._local_close = True
        self.reader.on_text = _ignore_text
        self._write_close(code, message)
        try:
            await asyncio.wait_for(asyncio.shield(self._lost), CLOSE_TIMEOUT)
        except asyncio.TimeoutError:
            pass
        finally:
            if self._transport is not None and not self._lost.done():
                self._transport.abort()
            self._end(_CLOSED_MESSAGE, code)
        return True


def _before_start(*message: Any) -> None:
    """The reader's handlers until start(): never called (bytes are held, not read, until then)."""
    raise AssertionError("a message before start()")


def _ignore_text(text: str) -> None:
    """on_text once a close began: what the server still sends is not handed over."""


def _request(url: str, key: str, headers: dict[str, str] | None) -> tuple[str, int, bool, bytes]:
    """(host, port, tls, the handshake request) of ``url`` (ws:// or wss://)."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise WebSocketError(1006, f"not a websocket url: {url!r}")
    tls = parts.scheme == "wss"
    try:
        port = parts.port or (443 if tls else 80)
    except ValueError as exc:
        raise WebSocketError(1006, f"not a websocket url: {url!r} ({exc})") from None
    host = parts.hostname
    netloc = f"[{host}]" if ":" in host else host
    if port != (443 if tls else 80):
        netloc = f"{netloc}:{port}"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {netloc}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    for name, value in (headers or {}).items():
        name, value = str(name), str(value)
        if any(c in name + value for c in "\r\n\0") or not name or ":" in name:
            raise WebSocketError(1006, f"handshake: header {name!r} cannot be sent")
        if name.lower() not in _OWN_HEADERS:
            lines.append(f"{name}: {value}")
    if any(c in target for c in " \r\n\0"):
        raise WebSocketError(1006, f"not a websocket url: {url!r}")
    return host, port, tls, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def connect(url: str, *, headers: dict[str, str] | None = None, ssl: ssl_module.SSLContext | bool | None = None,
                  max_size: int = DEFAULT_MAX_SIZE) -> WebSocket:
    """Open a websocket to ``url`` (``ws://`` or ``wss://``) and complete the handshake.

    ``headers``: extra request headers (the handshake's own are not replaced); ``ssl`` (wss only):
    an :class:`ssl.SSLContext`, None for the default verified context, False for no verification
    (ccxt's ``verify=False``); ``max_size``: the bound of one message, in bytes. Raises
    :class:`liqcore.errors.WebSocketError` when the server refuses the handshake (its ``status``
    and ``headers``), or ``OSError`` when the socket cannot be opened. Cancelling it closes the socket.
    """
    key = base64.b64encode(os.urandom(16)).decode()
    host, port, tls, request = _request(url, key, headers)
    context: ssl_module.SSLContext | None = None
    if tls:
        if ssl is None or ssl is True:
            context = ssl_module.create_default_context()
        elif ssl is False:
            context = ssl_module.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl_module.CERT_NONE
        else:
            context = ssl
    loop = asyncio.get_running_loop()
    transport, ws = await loop.create_connection(lambda: WebSocket(url, key, max_size), host, port, ssl=context,
                                                 server_hostname=host if tls else None)
    try:
        transport.write(request)
        await ws.handshake
    except BaseException:
        transport.abort()
        raise
    return ws
