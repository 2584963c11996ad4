"""Coinbase Advanced Trade (REST and websocket), as ccxt.pro (and Coinbase's docs) use it for books.

REST under ``/api.coinbase.com``: ``/api/v3/brokerage/market/products`` (public product
list; ``product_type=FUTURE`` lists nothing), ``/api/v3/brokerage/market/products/{id}/book``
(``{"pricebook": {"product_id", "bids": [{"price", "size"}], "asks", "time"}}``),
``/api/v3/brokerage/time``, and the v2 ``currencies``, ``currencies/crypto`` and
``exchange-rates`` that ccxt's ``load_markets`` fetches.

Websocket ``/advanced-trade-ws.coinbase.com``: ``{"type": "subscribe", "channel": "level2",
"product_ids": [...]}`` (no authentication for ``level2``/``heartbeats``) answered per
product with an ``l2_data`` ``snapshot`` event of the whole book and then a
``subscriptions`` message listing what the connection is subscribed to; every later change
is one ``l2_data`` message with an ``update`` event: ``{"channel": "l2_data", "client_id":
"", "timestamp", "sequence_num", "events": [{"type", "product_id", "updates": [{"side":
"bid"|"offer", "event_time", "price_level", "new_quantity"}]}]}``, quantities absolute,
``"0"`` removes. ``sequence_num`` numbers **every message of the connection** (all channels
and products, subscription acks too) from 0, so a missing message shows as a gap there.
``heartbeats`` sends one message per second of real time on the connection.
``unsubscribe`` is answered with the new ``subscriptions`` list. Errors are ``{"type":
"error", "message"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from liqcore.sim.connection import SimConnection
from liqcore.sim.instruments import Instrument
from liqcore.sim.market import Market, Update
from liqcore.sim.rest import coinbase_json, coinbase_uint

if TYPE_CHECKING:
    from liqcore.sim.server import ExchangeSimulator

__all__ = ["add_coinbase_routes", "CoinbaseLevel2Stream", "CoinbaseSession"]


def _iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if ts is None else ts, tz=timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


class CoinbaseSession:
    """Per-connection state: the ``sequence_num`` counter and the subscriptions."""

    def __init__(self, conn: SimConnection) -> None:
        self.conn = conn
        self.sequence_num = 0
        self.level2: dict[str, CoinbaseLevel2Stream] = {}
        self.heartbeats = False

    def envelope(self, channel: str, events: list[Any]) -> dict[str, Any]:
        msg = {"channel": channel, "client_id": "", "timestamp": _iso(), "sequence_num": self.sequence_num,
               "events": events}
        self.sequence_num += 1
        return msg

    def send_subscriptions(self) -> None:
        subs: dict[str, list[str]] = {}
        if self.level2:
            subs["level2"] = sorted(self.level2)
        if self.heartbeats:
            subs["heartbeats"] = []
        self.conn.send_control(self.envelope("subscriptions", [{"subscriptions": subs}]))


class CoinbaseLevel2Stream:
    """The ``level2`` channel of one product on one connection (a market subscriber)."""

    def __init__(self, session: CoinbaseSession, market: Market) -> None:
        self.session, self.market = session, market
        self.product_id = market.instrument.id
        self.name = f"level2:{self.product_id}"
        #: ``sequence_num`` of the last l2_data message of this stream (sent or dropped)
        self.last_sequence_num: int | None = None

    def _send(self, ev: dict[str, Any]) -> None:
        env = self.session.envelope("l2_data", [ev])
        self.last_sequence_num = env["sequence_num"]
        self.session.conn.send_data(self.name, env)

    def _updates(self, bids: Any, asks: Any, when: str) -> list[dict[str, str]]:
        out = [{"side": "bid", "event_time": when, "price_level": lv[0], "new_quantity": lv[1]} for lv in bids]
        out += [{"side": "offer", "event_time": when, "price_level": lv[0], "new_quantity": lv[1]} for lv in asks]
        return out

    def start(self) -> None:
        snap = self.market.snapshot()
        ev = {"type": "snapshot", "product_id": self.product_id,
              "updates": self._updates(snap["bids"], snap["asks"], "1970-01-01T00:00:00Z")}
        self._send(ev)
        self.market.subscribe(self)

    def on_tick(self, update: Update | None, tick: int) -> None:
        if update is None:
            return
        ev = {"type": "update", "product_id": self.product_id,
              "updates": self._updates(update.bids, update.asks, _iso(update.ts_ms / 1000))}
        self._send(ev)


def _product(inst: Instrument, price: str) -> dict[str, Any]:
    return {
        "product_id": inst.id, "price": price, "price_percentage_change_24h": "0", "volume_24h": "1000",
        "volume_percentage_change_24h": "0", "base_increment": inst.lot_size, "quote_increment": inst.tick_size,
        "quote_min_size": "1", "quote_max_size": "150000000", "base_min_size": inst.lot_size, "base_max_size": "3400",
        "base_name": inst.base, "quote_name": inst.quote, "watched": False, "is_disabled": False, "new": False,
        "status": "online", "cancel_only": False, "limit_only": False, "post_only": False, "trading_disabled": False,
        "auction_mode": False, "product_type": "SPOT", "quote_currency_id": inst.quote, "base_currency_id": inst.base,
        "fcm_trading_session_details": None, "mid_market_price": "", "alias": "", "alias_to": [],
        "base_display_symbol": inst.base, "quote_display_symbol": inst.quote, "view_only": False,
        "price_increment": inst.tick_size, "display_name": inst.id, "product_venue": "CBE",
    }


def add_coinbase_routes(app: web.Application, sim: "ExchangeSimulator") -> None:
    """Register Coinbase REST and websocket routes on ``app``."""
    v3 = "/api.coinbase.com/api/v3/brokerage"
    v2 = "/api.coinbase.com/v2"

    async def products(request: web.Request) -> web.Response:
        if request.query.get("product_type", "SPOT") != "SPOT":
            return coinbase_json({"products": [], "num_products": 0})
        out = []
        for inst in sim.instruments("coinbase"):
            m = sim.market("coinbase", inst.id)
            out.append(_product(inst, str(m.book.best_bid or inst.start_price)))
        return coinbase_json({"products": out, "num_products": len(out)})

    async def book(request: web.Request) -> web.Response:
        market = sim.find_market("coinbase", request.match_info["product_id"])
        if market is None:
            return coinbase_json({"error": "NOT_FOUND", "message": "ProductID is invalid"}, 404)
        limit = coinbase_uint(request, "limit", 0) or None
        snap = market.snapshot(limit)
        sim.snapshots_served[("coinbase", market.instrument.id)] = sim.snapshots_served.get(
            ("coinbase", market.instrument.id), 0) + 1
        return coinbase_json({"pricebook": {"product_id": market.instrument.id,
                                    "bids": [{"price": p, "size": s} for p, s in snap["bids"]],
                                    "asks": [{"price": p, "size": s} for p, s in snap["asks"]], "time": _iso()}})

    async def server_time(request: web.Request) -> web.Response:
        now = time.time()
        return coinbase_json({"iso": _iso(now), "epochSeconds": str(int(now)), "epochMillis": str(int(now * 1000))})

    def codes() -> tuple[set[str], set[str]]:
        crypto: set[str] = set()
        fiat: set[str] = set()
        for inst in sim.instruments("coinbase"):
            crypto.add(inst.base)
            (fiat if inst.quote in ("USD", "EUR", "GBP") else crypto).add(inst.quote)
        return crypto, fiat

    async def currencies(request: web.Request) -> web.Response:
        return coinbase_json({"data": [{"id": c, "name": c, "min_size": "0.01"} for c in sorted(codes()[1])]})

    async def currencies_crypto(request: web.Request) -> web.Response:
        return coinbase_json({"data": [{"asset_id": f"sim-{c}", "code": c, "name": c, "color": "#000000",
                                        "sort_index": i, "exponent": 8, "type": "crypto", "address_regex": ""}
                                       for i, c in enumerate(sorted(codes()[0]))]})

    async def exchange_rates(request: web.Request) -> web.Response:
        crypto, fiat = codes()
        return coinbase_json({"data": {"currency": "USD", "rates": {c: "1" for c in sorted(crypto | fiat)}}})

    r = app.router
    r.add_get(v3 + "/market/products", products)
    r.add_get(v3 + "/market/products/{product_id}/book", book)
    r.add_get(v3 + "/time", server_time)
    r.add_get(v2 + "/currencies", currencies)
    r.add_get(v2 + "/currencies/crypto", currencies_crypto)
    r.add_get(v2 + "/exchange-rates", exchange_rates)
    r.add_get("/advanced-trade-ws.coinbase.com", _ws_handler(sim))
    r.add_get("/advanced-trade-ws.coinbase.com/", _ws_handler(sim))


def _ws_handler(sim: "ExchangeSimulator"):
    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=sim.compress, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = sim.open_connection("coinbase", ws, request)
        session = CoinbaseSession(conn)

        async def beat() -> None:
            n = 0
            while not conn.closing:
                await asyncio.sleep(1.0)
                if session.heartbeats:
                    n += 1
                    conn.send_control(session.envelope("heartbeats", [{
                        "current_time": _iso(), "heartbeat_counter": str(n)}]))
        beats = asyncio.create_task(beat(), name=f"sim-coinbase-{conn.ordinal}-heartbeats")

        def error(message: str) -> None:
            conn.send_control({"type": "error", "message": message})

        try:
            async for text in conn.requests():
                try:
                    req = orjson.loads(text)
                    kind, channel = req["type"], req["channel"]
                    ids = req.get("product_ids") or []
                    if kind not in ("subscribe", "unsubscribe") or not isinstance(ids, list):
                        raise ValueError(kind)
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                    error("Failed to parse message")
                    continue
                if channel == "heartbeats":
                    session.heartbeats = kind == "subscribe"
                    session.send_subscriptions()
                    continue
                if channel != "level2":
                    session.send_subscriptions()       # acknowledged, carries nothing (books only)
                    continue
                markets = [(pid, sim.find_market("coinbase", pid)) for pid in ids]
                bad = [pid for pid, m in markets if m is None]
                if bad or not ids:
                    error(f"Failed to subscribe: unknown product_ids {bad}")
                    continue
                for pid, market in markets:
                    old = session.level2.pop(pid, None)
                    if old is not None:
                        old.market.unsubscribe(old)
                    if kind == "subscribe":
                        assert market is not None
                        session.level2[pid] = CoinbaseLevel2Stream(session, market)
                        session.level2[pid].start()     # a (re)subscribe sends a new snapshot
                session.send_subscriptions()
        finally:
            beats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beats
            for stream in session.level2.values():
                stream.market.unsubscribe(stream)
            await sim.close_connection(conn)
        return ws
    return handler
