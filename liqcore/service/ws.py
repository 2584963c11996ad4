"""The service's websocket (``/ws``): pushes of book tops, books, liquidity reports and alerts
for the pairs each client subscribes to, coalesced per client.

Protocol (JSON text frames)::

    -> {"op": "subscribe", "pairs": [{"exchange": "binance", "symbol": "BTC/USDT"}],
        "channels": ["top", "liquidity", "alerts"], "depth": 20}
    <- {"type": "subscribed", "pairs": [{"exchange": "binance", "symbol": "BTC/USD"}], "channels": [...]}
    <- {"type": "top", "exchange", "symbol", "state", "update_id", "bid", "bid_size", "ask",
        "ask_size", "mid", "spread_bps", "book_ns", "sent_ns"}
    <- {"type": "book", ..., "bids": [[price, size], ...], "asks": [...]}        (channel "book", top ``depth``)
    <- {"type": "liquidity", ...}             (the fields of LiquidityReportResponse)
    <- {"type": "alert", "exchange", "symbol", "alert": {...}}   (a LiquidityAlert, at start and end)
    <- {"type": "trades", "exchange", "symbol", "trades": [{"id", "ts_ms", "price", "size", "side"}, ...],
        "liquidations": [{"ts_ms", "price", "size", "side"}, ...], "dropped"}     (channel "trades")
    -> {"op": "unsubscribe", "pairs": [...]}
    <- {"type": "error", "detail": "..."}     (bad message: the connection stays open)

Units as in :mod:`liqcore.service.models` (prices quote per base, sizes base, spread in basis
points); trades: ``side`` the aggressor (``"buy"``/``"sell"``, None when the venue does not
say), liquidations: ``side`` the liquidated position (``"long"``: closed by a forced sell),
``ts_ms`` the exchange's time (Unix ms); ``book_ns``: ``time.monotonic_ns()`` in the server
when the book's last frame arrived,
``sent_ns``: ``time.time_ns()`` when the push was built (a client on the same host measures the
push delay with ``time.monotonic_ns() - book_ns``).

Coalescing: each client holds a :class:`~liqcore.service.hub.Changes` of its pairs, so a book
that changes again before the client's previous push went out is sent once, in its latest state:
a slow client never makes a queue grow, it gets fewer, newer pushes. The states it skipped are
counted (``ws_coalesced`` in ``/api/v1/metrics``). Alerts are events, not states: each client
keeps the last ``alert_queue`` undelivered ones (older ones dropped and counted,
``ws_alerts_dropped``); a client subscribing to ``alerts`` first gets the episodes under way.

Trades and liquidations (channel ``trades``) come from one :class:`liqcore.feed.MarketData`
per pair (:meth:`BookHub.market_data`; liquidations for perpetuals only), started when the first
client wants the pair's trades and closed when the last one stops wanting them. They are events:
each client keeps the last ``trade_queue`` undelivered records (older ones dropped and counted,
``ws_trades_dropped``, and the client's own count in each push's ``dropped``) and gets them in
batches of at most ``trade_batch`` records per push, so a busy market costs a client a few
messages per wake-up, not one per trade. A stream that cannot start is reported to the client as
an ``error`` (its other channels go on).

Alerts come from one :class:`liqcore.alerts.LiveLiquidityMonitor` over every book the hub
holds (evaluated at most every ``alert_interval_ms`` per book), written to the store when there
is one (``GET /api/v1/alerts`` reads them back).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from typing import Any

import orjson
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from liqcore.service import queries
from liqcore.service.errors import ServiceConfigError
from liqcore.service.guard import Counters, key_protocol
from liqcore.service.hub import BookHub, Changes, Key
from liqcore.service.symbols import parse_instrument

__all__ = ["Pusher", "add_ws_route", "CHANNELS", "top_message"]

log = logging.getLogger("liqcore.service")

#: what a client can subscribe to
CHANNELS = ("top", "book", "liquidity", "alerts", "trades")
#: largest client message accepted (bytes)
MAX_MESSAGE = 16 * 1024


def top_message(key: Key, live: Any) -> dict[str, Any]:
    """The ``top`` push of one live book. O(1)."""
    book = live.book
    bid, ask = book.best_bid, book.best_ask
    return {"type": "top", "exchange": key[0], "symbol": key[1], "state": live.state,
            "update_id": book.last_update_id, "bid": bid[0] if bid else None, "bid_size": bid[1] if bid else None,
            "ask": ask[0] if ask else None, "ask_size": ask[1] if ask else None,
            "mid": queries.finite(book.mid), "spread_bps": queries.finite(book.spread_bps),
            "book_ns": live.stats.last_recv_ns, "sent_ns": time.time_ns()}


class _Client:
    """One websocket client: its pairs and channels, its coalescing set, its alert queue."""

    def __init__(self, ws: WebSocket, changes: Changes, alert_queue: int, trade_queue: int) -> None:
        self.ws = ws
        self.changes = changes
        self.channels: set[str] = set()
        self.depth = 20
        self.alerts: deque[dict[str, Any]] = deque(maxlen=alert_queue)
        self.alerts_dropped = 0
        #: (pair, "trades" | "liquidations", record) not sent yet, the newest trade_queue
        self.marks: deque[tuple[Key, str, dict[str, Any]]] = deque(maxlen=trade_queue)
        self.marks_dropped = 0
        self.pushes = 0

    def wants_marks(self, key: Key) -> bool:
        return "trades" in self.channels and self.changes.keys is not None and key in self.changes.keys


class Pusher:
    """The websocket side of the service: clients, their pushes, the alert monitor.

    ``max_clients``: connections beyond it are closed at once (1013, try again later);
    ``max_pairs``: pairs per client; ``alert_queue``: undelivered alerts kept per client;
    ``trade_queue``: undelivered trades and liquidations kept per client; ``trade_batch``: most
    records in one ``trades`` push;
    ``alert_interval_ms``: how often at most the monitor evaluates one book; ``store``: where
    alerts are written (optional). Owns its tasks and trade streams; :meth:`close` ends them and
    the connections. ServiceConfigError for a ``trade_queue`` or ``trade_batch`` below 1.
    """

    def __init__(self, hub: BookHub, counters: Counters, *, store: Any = None, max_clients: int = 1000,
                 max_pairs: int = 64, alert_queue: int = 256, alert_interval_ms: float = 100.0,
                 monitor_options: dict[str, Any] | None = None, trade_queue: int = 2000,
                 trade_batch: int = 500) -> None:
        if trade_queue < 1 or trade_batch < 1:
            raise ServiceConfigError(f"trade_queue and trade_batch must be >= 1, got {trade_queue}, {trade_batch}")
        self.hub = hub
        self.counters_ = counters
        self.store = store
        self.max_clients = max_clients
        self.max_pairs = max_pairs
        self.alert_queue = alert_queue
        self.alert_interval_ms = alert_interval_ms
        self.trade_queue = trade_queue
        self.trade_batch = trade_batch
        self.monitor_options = dict(monitor_options or {})
        self.clients: set[_Client] = set()
        self.monitor: Any = None
        self._task: asyncio.Task[None] | None = None
        self._changes: Changes | None = None
        self._closed_coalesced = 0
        self._closed_pushes = 0
        self._closed_alerts_dropped = 0
        self._closed_marks_dropped = 0
        #: the trades/liquidations stream of each pair some client wants (a MarketData)
        self._marks: dict[Key, Any] = {}
        self._marks_lock = asyncio.Lock()
        self._closing = False

    async def start(self) -> None:
        """Start the alert monitor over every book of the hub."""
        from liqcore.alerts import LiveLiquidityMonitor
        self.monitor = LiveLiquidityMonitor(None, interval_ms=self.alert_interval_ms, store=self.store,
                                            on_alert=self._on_alert, **self.monitor_options)
        self._changes = self.hub.listen()
        self._task = asyncio.create_task(self._watch_alerts(), name="liqcore-service alerts")

    async def close(self) -> None:
        """Stop the monitor and the trade streams, close every client (1001 going away)."""
        self._closing = True
        if self._changes is not None:
            self.hub.unlisten(self._changes)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for c in list(self.clients):
            with contextlib.suppress(Exception):
                await c.ws.close(1001)
        async with self._marks_lock:
            await asyncio.gather(*(md.close() for md in self._marks.values()), return_exceptions=True)
            self._marks.clear()

    def counters(self) -> dict[str, int]:
        """Websocket counters: clients now, pushes sent, states skipped by coalescing, alerts and
        trades/liquidations dropped from full client queues, trade streams open, alerts raised."""
        live = list(self.clients)
        return {"ws_clients": len(live),
                "ws_pushes": self._closed_pushes + sum(c.pushes for c in live),
                "ws_coalesced": self._closed_coalesced + sum(c.changes.coalesced for c in live),
                "ws_alerts_dropped": self._closed_alerts_dropped + sum(c.alerts_dropped for c in live),
                "ws_trades_dropped": self._closed_marks_dropped + sum(c.marks_dropped for c in live),
                "ws_trade_streams": len(self._marks),
                "alerts": 0 if self.monitor is None else self.monitor.stats()["alerts"]}

    # ------------------------------------------------------------------ alerts
    async def _watch_alerts(self) -> None:
        assert self._changes is not None
        while not self._changes.closed:
            for key in await self._changes.wait():
                try:
                    live = self.hub.live_book(key)
                    if live.is_live:
                        self.monitor.on_book(key[0], key[1], live.book)
                except Exception:            # a book that cannot be read now is read next time
                    log.exception("alert evaluation of %s %s failed", *key)

    def _on_alert(self, alert: Any) -> None:
        key = (alert.exchange, alert.symbol)
        msg = _alert_message(alert)
        for c in self.clients:
            if "alerts" in c.channels and c.changes.keys is not None and key in c.changes.keys:
                if len(c.alerts) == c.alerts.maxlen:
                    c.alerts_dropped += 1
                c.alerts.append(msg)
                c.changes.mark(key)          # wake its sender

    # ------------------------------------------------------------------ clients
    async def handle(self, ws: WebSocket) -> None:
        """Serve one websocket until it closes."""
        # a browser sends the API key as a subprotocol (guard.py): it must be accepted back
        offered = key_protocol(ws.headers.get("sec-websocket-protocol", ""))
        await ws.accept(subprotocol=offered)
        if len(self.clients) >= self.max_clients:
            await ws.close(1013, "too many clients")
            return
        client = _Client(ws, self.hub.listen(set()), self.alert_queue, self.trade_queue)
        self.clients.add(client)
        sender = asyncio.create_task(self._send_loop(client))
        try:
            while True:
                text = await ws.receive_text()
                await self._on_message(client, text)
        except (WebSocketDisconnect, RuntimeError, KeyError):    # KeyError: a binary frame (text expected)
            pass
        finally:
            self.hub.unlisten(client.changes)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
            self.clients.discard(client)
            self._closed_coalesced += client.changes.coalesced
            self._closed_pushes += client.pushes
            self._closed_alerts_dropped += client.alerts_dropped
            self._closed_marks_dropped += client.marks_dropped
            with contextlib.suppress(Exception):       # a stream nobody wants any more is closed
                await self._sync_marks(None)

    async def _send(self, client: _Client, msg: dict[str, Any]) -> None:
        await client.ws.send_text(orjson.dumps(msg).decode())

    async def _on_message(self, client: _Client, text: str) -> None:
        try:
            if len(text) > MAX_MESSAGE:
                raise ValueError(f"message over {MAX_MESSAGE} bytes")
            msg = orjson.loads(text)
            if not isinstance(msg, dict) or msg.get("op") not in ("subscribe", "unsubscribe"):
                raise ValueError('expected {"op": "subscribe" | "unsubscribe", "pairs": [...], "channels": [...]}')
            pairs = msg.get("pairs")
            if not isinstance(pairs, list) or not pairs or not all(
                    isinstance(p, dict) and isinstance(p.get("exchange"), str) and isinstance(p.get("symbol"), str)
                    for p in pairs):
                raise ValueError('pairs: a non-empty list of {"exchange": ..., "symbol": ...}')
            keys = [self.hub.key(p["exchange"], p["symbol"]) for p in pairs]
            current = client.changes.keys if client.changes.keys is not None else set()
            if msg["op"] == "unsubscribe":
                client.changes.keys = current - set(keys)
                await self._send(client, {"type": "unsubscribed", "pairs": [_pair(k) for k in keys]})
                await self._sync_marks(client)
                return
            channels = msg.get("channels", ["top"])
            if not isinstance(channels, list) or not channels or any(c not in CHANNELS for c in channels):
                raise ValueError(f"channels: a non-empty list of {', '.join(CHANNELS)}")
            depth = msg.get("depth", 20)
            if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 1000:
                raise ValueError("depth: an integer 1..1000 (levels per side of the book channel)")
            if len(current | set(keys)) > self.max_pairs:
                raise ValueError(f"at most {self.max_pairs} pairs per client")
            for k in keys:
                await self.hub.ensure(*k)
        except Exception as exc:
            await self._send(client, {"type": "error", "detail": " ".join(str(exc).split())[:500]})
            return
        client.channels = set(channels)
        client.depth = depth
        client.changes.keys = current | set(keys)
        await self._send(client, {"type": "subscribed", "pairs": [_pair(k) for k in keys], "channels": channels})
        if "alerts" in client.channels and self.monitor is not None:
            # the episodes already under way first (an alert is sent when it starts and ends)
            wanted = set(keys)
            for alert in self.monitor.active():
                if (alert.exchange, alert.symbol) in wanted:
                    client.alerts.append(_alert_message(alert))
        for k in keys:                       # their current state right away
            client.changes.mark(k)
        await self._sync_marks(client)

    async def _send_loop(self, client: _Client) -> None:
        while not client.changes.closed:
            keys = await client.changes.wait()
            while client.alerts:
                await self._send(client, client.alerts.popleft())
                client.pushes += 1
            while client.marks:
                for msg in self._mark_messages(client):
                    await self._send(client, msg)
                    client.pushes += 1
            for key in keys:
                try:
                    live = self.hub.live_book(key)
                except KeyError:
                    continue
                for msg in self._messages(client, key, live):
                    await self._send(client, msg)
                    client.pushes += 1

    # ------------------------------------------------------------------ trades and liquidations
    async def _sync_marks(self, client: _Client | None) -> None:
        """Start the trade streams some client wants and close those nobody wants (O(clients x
        pairs)); a stream that cannot start is reported to ``client`` as an ``error``."""
        failures: list[str] = []
        async with self._marks_lock:
            wanted = {k for c in self.clients if "trades" in c.channels for k in (c.changes.keys or ())}
            if self._closing:
                wanted = set()
            gone = [self._marks.pop(k) for k in list(self._marks) if k not in wanted]
            await asyncio.gather(*(md.close() for md in gone), return_exceptions=True)
            for key in sorted(wanted - self._marks.keys()):
                kinds = ["trades", "liquidations"] if parse_instrument(key[1]).perpetual else ["trades"]
                try:
                    md = self.hub.market_data(*key, kinds)
                    md.subscribe(functools.partial(self._on_mark, key))
                    await md.start()          # closes itself when it fails
                except Exception as exc:
                    log.warning("trades of %s %s: %s", *key, exc)
                    failures.append(f"trades of {key[0]} {key[1]} unavailable: {' '.join(str(exc).split())}")
                    continue
                self._marks[key] = md
        if client is not None:                        # outside the lock: a slow client delays no one
            for detail in failures:
                await self._send(client, {"type": "error", "detail": detail[:500]})

    def _on_mark(self, key: Key, rec: Any) -> None:
        """A new trade or liquidation of ``key`` (in the stream's receive path): queued for every
        client that wants it, whose sender is woken. O(clients)."""
        kind = rec.KIND
        item = {"ts_ms": rec.ts_ms, "price": rec.price, "size": rec.size, "side": rec.side}
        if kind == "trades":
            item = {"id": rec.id, **item}
        for c in self.clients:
            if c.wants_marks(key):
                if len(c.marks) == c.marks.maxlen:
                    c.marks_dropped += 1
                c.marks.append((key, kind, item))
                c.changes.wake()

    def _mark_messages(self, client: _Client) -> list[dict[str, Any]]:
        """Up to ``trade_batch`` queued records, grouped per pair in arrival order (O(batch))."""
        by_key: dict[Key, dict[str, Any]] = {}
        for _ in range(min(self.trade_batch, len(client.marks))):
            key, kind, item = client.marks.popleft()
            if not client.wants_marks(key):          # unsubscribed since it was queued
                continue
            msg = by_key.get(key)
            if msg is None:
                msg = by_key[key] = {"type": "trades", "exchange": key[0], "symbol": key[1], "trades": [],
                                     "liquidations": [], "dropped": client.marks_dropped}
            msg[kind].append(item)
        return list(by_key.values())

    def _messages(self, client: _Client, key: Key, live: Any) -> list[dict[str, Any]]:
        out = []
        ch = client.channels
        if "top" in ch:
            out.append(top_message(key, live))
        if "book" in ch:
            book = live.book
            out.append({"type": "book", "exchange": key[0], "symbol": key[1], "state": live.state,
                        "update_id": book.last_update_id, "bids": book.bids(client.depth).tolist(),
                        "asks": book.asks(client.depth).tolist(), "book_ns": live.stats.last_recv_ns,
                        "sent_ns": time.time_ns()})
        if "liquidity" in ch:
            out.append({"type": "liquidity", **queries.report_of(key[0], key[1], live.state,
                                                                 live.book).model_dump()})
        return out


def _alert_message(alert: Any) -> dict[str, Any]:
    return {"type": "alert", "exchange": alert.exchange, "symbol": alert.symbol, "alert": alert.to_dict()}


def _pair(key: Key) -> dict[str, str]:
    return {"exchange": key[0], "symbol": key[1]}


def add_ws_route(app: FastAPI, pusher: Pusher) -> None:
    """Mount ``/ws`` on ``app``, served by ``pusher``."""

    @app.websocket("/ws")
    async def ws_endpoint(ws: WebSocket) -> None:
        await pusher.handle(ws)
