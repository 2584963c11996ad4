"""What every request to the service passes first (an ASGI middleware, :class:`Guard`): the API
key, the per-client rate limit and the request body size limit, and the counters of what came in.

* API key: when one is set, every HTTP request and websocket handshake must carry it in the
  ``X-API-Key`` header (compared in constant time); else 401 (a websocket is closed with 1008).
  A browser cannot set a header on a websocket, so a handshake may instead offer the subprotocol
  ``liqcore.key.<key>`` (:data:`KEY_PROTOCOL`; the websocket accepts it back). Paths in
  ``public`` (the dashboard's page and static files: code, no data) need no key.
* Rate limit: a token bucket per client address: ``rate`` requests per second on average,
  bursts of ``burst``; beyond it 429 with ``Retry-After`` (seconds). At most ``max_clients``
  buckets are kept (the least recently seen is forgotten: memory is bounded whoever connects).
* Body size: a request whose ``Content-Length`` or streamed body exceeds ``max_body_bytes`` is
  answered 413 before the route runs.

Refusals are JSON ``{"error", "detail"}`` (:class:`~liqcore.service.models.ErrorResponse`).
Cost: O(1) per request (a dict lookup and a few float operations).
"""

from __future__ import annotations

import hmac
import math
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable, MutableMapping

import orjson

__all__ = ["Guard", "Counters", "RateLimiter", "KEY_PROTOCOL", "key_protocol"]

#: the websocket subprotocol prefix that carries the API key from a browser: ``liqcore.key.<key>``
KEY_PROTOCOL = "liqcore.key."


def key_protocol(offered: str) -> str | None:
    """The ``liqcore.key.<key>`` entry of a ``Sec-WebSocket-Protocol`` header, or None."""
    return next((p.strip() for p in offered.split(",") if p.strip().startswith(KEY_PROTOCOL)), None)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Counters(dict[str, int]):
    """Named service counters (requests, responses by status class, refusals, websocket pushes...).
    ``add(name, n)`` creates a counter on first use."""

    def add(self, name: str, n: int = 1) -> None:
        self[name] = self.get(name, 0) + n


class RateLimiter:
    """Token buckets per client: ``rate`` tokens/s, capacity ``burst``, ``max_clients`` buckets
    kept (LRU). :meth:`take` returns 0.0 when the request may pass, else the seconds to wait."""

    def __init__(self, rate: float, burst: int, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not (rate > 0 and math.isfinite(rate)) or burst < 1 or max_clients < 1:
            raise ValueError("rate > 0 requests/s, burst >= 1, max_clients >= 1")
        self.rate, self.burst, self.max_clients, self.clock = rate, burst, max_clients, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()   # client -> (tokens, at)

    def take(self, client: str) -> float:
        now = self.clock()
        tokens, at = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


class Guard:
    """The ASGI middleware (module docstring). ``rate=None`` disables the rate limit."""

    def __init__(self, app: ASGIApp, *, api_key: str | None, max_body_bytes: int, rate: float | None,
                 burst: int, counters: Counters, public: Callable[[str], bool] = lambda path: False) -> None:
        self.app = app
        self.api_key = api_key.encode() if api_key else None
        self.public = public
        self.max_body_bytes = max_body_bytes
        self.limiter = RateLimiter(rate, burst) if rate is not None else None
        self.counters = counters

    def _key_ok(self, headers: dict[bytes, bytes]) -> bool:
        assert self.api_key is not None
        if hmac.compare_digest(headers.get(b"x-api-key", b""), self.api_key):
            return True
        offered = key_protocol(headers.get(b"sec-websocket-protocol", b"").decode("latin-1"))
        return offered is not None and hmac.compare_digest(offered[len(KEY_PROTOCOL):].encode(), self.api_key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        self.counters.add("requests" if kind == "http" else "ws_handshakes")
        headers = dict(scope.get("headers") or ())
        if self.api_key is not None and not self.public(scope.get("path", "")) and not self._key_ok(headers):
            self.counters.add("refused_unauthorized")
            await self._refuse(scope, send, 401, "unauthorized", "missing or wrong X-API-Key header")
            return
        if self.limiter is not None:
            client = scope.get("client")
            wait = self.limiter.take(client[0] if client else "?")
            if wait > 0:
                self.counters.add("refused_rate_limited")
                await self._refuse(scope, send, 429, "rate_limited",
                                   f"more than {self.limiter.rate:g} requests/s (burst {self.limiter.burst}) "
                                   f"from this client; retry in {wait:.2f} s",
                                   [(b"retry-after", str(max(1, math.ceil(wait))).encode())])
                return
        if kind == "websocket":
            await self.app(scope, receive, send)
            return
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            self.counters.add("refused_too_large")
            await self._refuse(scope, send, 413, "too_large",
                               f"request body over {self.max_body_bytes} bytes")
            return
        seen = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_body_bytes:
                    # answer now and tell the app the client went away: FastAPI would turn an
                    # exception raised here into its own 400
                    refused = True
                    self.counters.add("refused_too_large")
                    if not started:
                        await self._refuse(scope, send, 413, "too_large",
                                           f"request body over {self.max_body_bytes} bytes")
                    return {"type": "http.disconnect"}
            return msg

        async def tracked_send(msg: Message) -> None:
            nonlocal started
            if refused:
                return                       # the 413 went out instead
            if msg["type"] == "http.response.start":
                started = True
                self.counters.add(f"responses_{msg['status'] // 100}xx")
            await send(msg)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, scope: Scope, send: Send, status: int, error: str, detail: str,
                      extra: list[tuple[bytes, bytes]] | None = None) -> None:
        if scope["type"] == "websocket":
            # before accept: the handshake is refused (the client sees HTTP 403 / close 1008)
            await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
            return
        body = orjson.dumps({"error": error, "detail": detail})
        self.counters.add(f"responses_{status // 100}xx")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), *(extra or [])]})
        await send({"type": "http.response.body", "body": body})
