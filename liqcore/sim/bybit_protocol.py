"""Bybit v5 public market data (spot), as ccxt.pro (and Bybit's docs) use it for books.

Served under the real host names (ccxt's ``https://api.{hostname}`` and
``wss://stream.{hostname}`` with hostname ``bybit.com``).

REST: ``/api.bybit.com/v5/market/instruments-info?category=spot|linear|inverse|option``
(ccxt's ``load_markets`` asks for all four, linear/inverse twice: also ``status=PreLaunch``;
only spot pairs are listed), ``/v5/market/time`` and ``/v5/market/orderbook?category&symbol&limit``
(``{"s", "b", "a", "ts", "u", "seq"}``). Replies ``{"retCode": 0, "retMsg": "OK", "result":
..., "retExtInfo": {}, "time": ms}``; errors ``retCode`` 10001 (params) with HTTP 200, as Bybit.

Websocket ``/stream.bybit.com/v5/public/spot`` (also ``linear``, ``inverse``, ``option``:
nothing listed there): ``{"op": "ping"}`` -> ``{"success": true, "ret_msg": "pong", ...}``;
``{"op": "subscribe", "req_id", "args": ["orderbook.50.BTCUSDT", ...]}`` answered once
``{"success": true, "ret_msg": "subscribe", "conn_id", "req_id", "op": "subscribe"}`` (or
``success: false`` with ``"error:already subscribed,topic:..."`` / ``"error:handler not
found,topic:..."``, as Bybit), then per topic a ``snapshot`` of the best ``depth`` levels
followed by ``delta`` messages: ``{"topic", "type", "ts", "data": {"s", "b", "a", "u",
"seq"}, "cts"}``. ``u`` is the channel's update id, contiguous (+1 per message), shared by
every subscriber of the depth; ``seq`` the market's cross sequence. Deltas keep the client's
book equal to the window: levels leaving it (deleted or pushed out) are sent with size 0.
:meth:`ExchangeSimulator.restart_channels` makes every stream send a new snapshot with
``u == 1`` (Bybit's "service restart": the client must reset its book). ``op: unsubscribe``
answered like subscribe. Depths 1, 50, 200, 1000 (spot).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import WSMsgType, web

from liqcore.sim.connection import SimConnection
from liqcore.sim.instruments import Instrument
from liqcore.sim.market import Market, Update
from liqcore.sim.window import BookWindow, window_of

if TYPE_CHECKING:
    from liqcore.sim.server import ExchangeSimulator

__all__ = ["add_bybit_routes", "BybitBookStream", "DEPTHS"]

#: orderbook depths of Bybit spot
DEPTHS = (1, 50, 200, 1000)
_HOST = "/api.bybit.com/v5"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _ok(result: Any) -> web.Response:
    body = {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": _now_ms()}
    return web.Response(body=orjson.dumps(body), content_type="application/json")


def _err(code: int, msg: str) -> web.Response:
    body = {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": _now_ms()}
    return web.Response(body=orjson.dumps(body), content_type="application/json")


class BybitBookStream:
    """One ``orderbook.{depth}.{symbol}`` topic on one connection (a market subscriber)."""

    def __init__(self, conn: SimConnection, market: Market, depth: int) -> None:
        self.conn, self.market, self.depth = conn, market, depth
        self.topic = f"orderbook.{depth}.{market.instrument.id}"
        self.window: BookWindow = window_of(market, "bybit", depth, "pushed_out",
                                               start_id=market.last_id % 9_000_000 + 1_000_000)

    def _send(self, kind: str, bids: Any, asks: Any, u: int) -> None:
        ts = _now_ms()
        data = {"s": self.market.instrument.id, "b": [list(lv) for lv in bids], "a": [list(lv) for lv in asks],
                "u": u, "seq": self.market.last_id}
        self.conn.send_data(self.topic, {"topic": self.topic, "type": kind, "ts": ts, "data": data, "cts": ts - 1})

    def start(self) -> None:
        """Send the snapshot and follow the market."""
        self.send_snapshot()
        self.market.subscribe(self)

    def send_snapshot(self) -> None:
        bids, asks, u = self.window.snapshot()
        self._send("snapshot", bids, asks, u)

    def on_tick(self, update: Update | None, tick: int) -> None:
        if update is None:
            return
        diff = self.window.catch_up()
        if diff is not None:
            self._send("delta", diff[0], diff[1], diff[2])


def _instrument_info(inst: Instrument) -> dict[str, Any]:
    return {
        "symbol": inst.id, "baseCoin": inst.base, "quoteCoin": inst.quote, "innovation": "0",
        "status": "Trading", "marginTrading": "utaOnly", "stTag": "0",
        "lotSizeFilter": {"basePrecision": inst.lot_size, "quotePrecision": "0.00000001",
                          "minOrderQty": inst.lot_size, "maxOrderQty": "1000", "minOrderAmt": "1",
                          "maxOrderAmt": "2000000"},
        "priceFilter": {"tickSize": inst.tick_size},
        "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
    }


def add_bybit_routes(app: web.Application, sim: "ExchangeSimulator") -> None:
    """Register Bybit REST and websocket routes on ``app``."""

    async def instruments(request: web.Request) -> web.Response:
        category = request.query.get("category")
        if category not in ("spot", "linear", "inverse", "option"):
            return _err(10001, "params error: category is invalid")
        wanted = request.query.get("symbol")
        rows = [] if category != "spot" or request.query.get("status") == "PreLaunch" else [
            _instrument_info(i) for i in sim.instruments("bybit") if wanted is None or i.id == wanted]
        return _ok({"category": category, "list": rows})

    async def server_time(request: web.Request) -> web.Response:
        now = time.time_ns()
        return _ok({"timeSecond": str(now // 10**9), "timeNano": str(now)})

    async def orderbook(request: web.Request) -> web.Response:
        market = sim.find_market("bybit", request.query.get("symbol"))
        if request.query.get("category") != "spot" or market is None:
            return _err(10001, "params error: symbol invalid")
        try:
            limit = min(max(int(request.query.get("limit", 1)), 1), 200)
        except ValueError:
            return _err(10001, "params error: limit")
        snap = market.snapshot(limit)
        sim.snapshots_served[("bybit", market.instrument.id)] = sim.snapshots_served.get(
            ("bybit", market.instrument.id), 0) + 1
        return _ok({"s": market.instrument.id, "b": snap["bids"], "a": snap["asks"], "ts": _now_ms(),
                    "u": snap["update_id"], "seq": snap["update_id"], "cts": _now_ms()})

    r = app.router
    r.add_get(_HOST + "/market/instruments-info", instruments)
    r.add_get(_HOST + "/market/time", server_time)
    r.add_get(_HOST + "/market/orderbook", orderbook)
    for category in ("spot", "linear", "inverse", "option"):
        r.add_get(f"/stream.bybit.com/v5/public/{category}", _ws_handler(sim, category))


def _ws_handler(sim: "ExchangeSimulator", category: str):
    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=sim.compress, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = sim.open_connection("bybit", ws, request)
        conn_id = f"sim{sim.seed & 0xffff:04x}-{conn.ordinal}"
        streams: dict[str, BybitBookStream] = {}

        def reply(op: str, req_id: Any, ok: bool, msg: str) -> None:
            out = {"success": ok, "ret_msg": msg, "conn_id": conn_id, "op": op}
            if req_id is not None:
                out["req_id"] = req_id
            conn.send_control(out)

        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                conn.received.append(msg.data)
                try:
                    req = orjson.loads(msg.data)
                    op = req["op"]
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    reply("", None, False, f"error:request not supported,request:{msg.data[:64]}")
                    continue
                req_id = req.get("req_id")
                if op == "ping":
                    reply("ping", req_id, True, "pong")
                    continue
                args = req.get("args")
                if op not in ("subscribe", "unsubscribe") or not isinstance(args, list):
                    reply(str(op), req_id, False, f"error:op {op} not supported")
                    continue
                failed: list[str] = []
                new: list[BybitBookStream] = []
                for topic in args:
                    parts = str(topic).split(".")
                    if op == "unsubscribe":
                        stream = streams.pop(str(topic), None)
                        if stream is None:
                            failed.append(f"error:handler not found,topic:{topic}")
                        else:
                            stream.market.unsubscribe(stream)
                        continue
                    if topic in streams:
                        failed.append(f"error:already subscribed,topic:{topic}")
                        continue
                    market = sim.find_market("bybit", parts[2]) if len(parts) == 3 and category == "spot" else None
                    if parts[0] != "orderbook" or market is None or not parts[1].isdigit() \
                            or int(parts[1]) not in DEPTHS:
                        if parts[0] in ("publicTrade", "tickers", "kline") and market is not None:
                            continue          # acknowledged, carries nothing (books only)
                        failed.append(f"error:handler not found,topic:{topic}")
                        continue
                    stream = streams[str(topic)] = BybitBookStream(conn, market, int(parts[1]))
                    new.append(stream)
                reply(op, req_id, not failed, ",".join(failed) if failed else op)
                for stream in new:
                    stream.start()
        finally:
            for stream in streams.values():
                stream.market.unsubscribe(stream)
            await sim.close_connection(conn)
        return ws
    return handler
