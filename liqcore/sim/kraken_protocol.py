"""Kraken spot (REST and websocket v2), as ccxt.pro (and Kraken's docs) use it for books.

ccxt.pro's ``kraken.watch_order_book`` uses websocket **v2** (``wss://ws.kraken.com/v2``,
channel ``book``); v1 is not served.

REST ``/api.kraken.com/0/public/``: ``AssetPairs`` (keys ``XXBTZUSD``..., with ``altname``,
``wsname``, ``base``, ``quote``, ``pair_decimals``, ``lot_decimals``...), ``Assets``,
``Time``, ``SystemStatus`` and ``Depth?pair&count`` (``[price, volume, timestamp]`` strings).
Replies ``{"error": [], "result": ...}``; an unknown pair ``{"error": ["EQuery:Unknown asset
pair"]}``.

Websocket ``/ws.kraken.com/v2``: a ``status`` message on connect; ``{"method": "ping"}`` ->
``{"method": "pong", "req_id", "time_in", "time_out"}``; ``{"method": "subscribe", "params":
{"channel": "book", "symbol": ["BTC/USD"], "depth": 10}, "req_id"}`` answered per symbol
``{"method": "subscribe", "result": {"channel", "depth", "snapshot": true, "symbol"},
"success": true, ...}`` (errors ``"Already subscribed"``, ``"Currency pair not supported"``,
``"Subscription depth not supported"`` with ``success: false``), then a ``snapshot`` of the
best ``depth`` levels and ``update`` messages: ``{"channel": "book", "type", "data": [{"symbol",
"bids": [{"price", "qty"}], "asks": [...], "checksum", "timestamp"}]}``. Prices and
quantities are **JSON numbers written with the pair's precision** (``45285.2``,
``0.00100000``: the text keeps the trailing zeros a float parser loses). ``checksum`` is the
unsigned CRC32 of the best 10 asks and bids (:func:`liqcore.sim.checksum.kraken_checksum`)
after the message, in snapshots too. Updates follow Kraken's depth rule: levels that leave the
window because better ones arrived are not sent (the client truncates to ``depth``), deleted
ones are sent with ``qty`` 0, levels moving into the window are sent. ``unsubscribe`` is
answered like subscribe. Depths 10, 25, 100, 500, 1000. The ``instrument`` channel answers
with one snapshot of every asset and pair (``price_precision``/``qty_precision`` = the decimals
the book numbers are written with); other channels are acknowledged and carry nothing.

Replays of a depth-limited recording (:class:`liqcore.sim.sources.KrakenRecording`, websocket
v1 ``book-1000``): the market's true book follows the recording (kept to its depth), so
snapshots, other depths and faults work as for synthetic books; a stream subscribed at the
recorded depth sends each recorded message as it was recorded (its levels in order, translated
to v2 ``{price, qty}`` with the recorded digits, and the recorded ``c`` as ``checksum``) instead
of the window difference. Snapshots carry the simulator's checksum (v1 snapshots had none).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from liqcore.sim.checksum import kraken_checksum
from liqcore.sim.connection import SimConnection
from liqcore.sim.instruments import Instrument
from liqcore.sim.market import Market, Update
from liqcore.sim.rest import kraken_error, kraken_uint
from liqcore.sim.window import BookWindow, window_of

if TYPE_CHECKING:
    from liqcore.sim.server import ExchangeSimulator

__all__ = ["add_kraken_routes", "KrakenBookStream", "DEPTHS", "ws_symbol", "instrument_snapshot"]

DEPTHS = (10, 25, 100, 500, 1000)


def _iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if ts is None else ts, tz=timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def ws_symbol(inst: Instrument) -> str:
    """The pair as websocket v2 (and ccxt) name it: ``BTC/USD``."""
    return f"{inst.base}/{inst.quote}"


def _ok(result: Any) -> web.Response:
    return web.Response(body=orjson.dumps({"error": [], "result": result}), content_type="application/json")


def _levels(levels: Any) -> list[dict[str, Any]]:
    # JSON numbers with the wire decimals, verbatim (orjson.Fragment: pre-serialized JSON)
    return [{"price": orjson.Fragment(lv[0].encode()), "qty": orjson.Fragment(lv[1].encode())} for lv in levels]


def _bad_checksum(obj: dict[str, Any]) -> dict[str, Any]:
    data = [dict(d) for d in obj["data"]]
    for d in data:
        d["checksum"] = (d["checksum"] ^ 0x5A5A) & 0xFFFFFFFF
    return {**obj, "data": data}


class KrakenBookStream:
    """One ``book`` subscription (symbol, depth) on one connection (a market subscriber)."""

    def __init__(self, conn: SimConnection, market: Market, depth: int) -> None:
        self.conn, self.market, self.depth = conn, market, depth
        self.symbol = ws_symbol(market.instrument)
        self.name = f"book:{self.symbol}:{depth}"
        self.window: BookWindow = window_of(market, "kraken", depth, "truncate")

    def _checksum(self) -> int:
        bids, asks, _ = self.window.snapshot()
        return kraken_checksum(bids, asks)

    def start(self) -> None:
        self.send_snapshot()
        self.market.subscribe(self)

    def send_snapshot(self) -> None:
        bids, asks, _ = self.window.snapshot()
        d = {"symbol": self.symbol, "bids": _levels(bids), "asks": _levels(asks),
             "checksum": kraken_checksum(bids, asks), "timestamp": _iso()}
        self.conn.send_data(self.name, {"channel": "book", "type": "snapshot", "data": [d]}, _bad_checksum)

    def on_tick(self, update: Update | None, tick: int) -> None:
        if update is None:
            return
        if self.depth == self.market.depth and update.checksum is not None:
            # a recorded message of this very channel (a replay at the recorded depth): its
            # levels in recorded order and its recorded checksum, as Kraken sent them
            bids, asks, checksum = update.bids, update.asks, update.checksum
        else:
            diff = self.window.catch_up()
            if diff is None:
                return
            bids, asks, checksum = diff[0], diff[1], self._checksum()
        d = {"symbol": self.symbol, "bids": _levels(bids), "asks": _levels(asks),
             "checksum": checksum, "timestamp": _iso(update.ts_ms / 1000)}
        self.conn.send_data(self.name, {"channel": "book", "type": "update", "data": [d]}, _bad_checksum)


def _pair_info(inst: Instrument) -> dict[str, Any]:
    x = inst.extra
    return {
        "altname": x.get("altname", inst.base + inst.quote), "wsname": x.get("wsname", ws_symbol(inst)),
        "aclass_base": "currency", "base": x.get("base_id", inst.base), "aclass_quote": "currency",
        "quote": x.get("quote_id", inst.quote), "lot": "unit", "cost_decimals": 5,
        "pair_decimals": inst.price_decimals, "lot_decimals": inst.size_decimals, "lot_multiplier": 1,
        "leverage_buy": [2, 3], "leverage_sell": [2, 3],
        "fees": [[0, 0.4], [10000, 0.35]], "fees_maker": [[0, 0.25], [10000, 0.2]], "fee_volume_currency": "ZUSD",
        "margin_call": 80, "margin_stop": 40, "ordermin": "0.0001", "costmin": "0.5", "tick_size": inst.tick_size,
        "status": "online",
    }


def _asset_decimals(instruments: list[Instrument]) -> dict[str, tuple[str, int]]:
    """Kraken asset code -> (v2/ccxt name, decimals). An asset traded as a base anywhere has 10
    decimals (XXBT, XETH), quote-only ones 4 (fiat), whatever the order of the pairs: ccxt
    raises a market's amount precision to its base asset's."""
    out: dict[str, tuple[str, int]] = {}
    for inst in instruments:
        out[inst.extra.get("base_id", inst.base)] = (inst.base, 10)
    for inst in instruments:
        out.setdefault(inst.extra.get("quote_id", inst.quote), (inst.quote, 4))
    return out


def _number(text: str) -> orjson.Fragment:
    return orjson.Fragment(text.encode())


def instrument_snapshot(instruments: list[Instrument]) -> dict[str, Any]:
    """The websocket v2 ``instrument`` channel's snapshot: every asset and pair, with the pairs'
    ``price_precision``/``qty_precision`` — the decimals the ``book`` channel writes numbers
    with (the instrument's wire decimals) — and their increments (tick and lot)."""
    assets = [{"id": name, "status": "enabled", "precision": dec, "precision_display": min(dec, 5),
               "borrowable": False, "collateral_value": 1.0, "margin_rate": 0.02}
              for name, dec in dict(_asset_decimals(instruments).values()).items()]
    pairs = []
    for inst in instruments:
        pd, qd = inst.wire_decimals or (inst.price_decimals, inst.size_decimals)
        pairs.append({"symbol": ws_symbol(inst), "base": inst.base, "quote": inst.quote, "status": "online",
                      "qty_precision": qd, "qty_increment": _number(inst.lot_size), "price_precision": pd,
                      "cost_precision": 5, "marginable": False, "has_index": True, "cost_min": 0.5,
                      "tick_size": _number(inst.tick_size), "price_increment": _number(inst.tick_size),
                      "qty_min": _number(inst.lot_size)})
    return {"channel": "instrument", "type": "snapshot", "data": {"assets": assets, "pairs": pairs}}


def add_kraken_routes(app: web.Application, sim: "ExchangeSimulator") -> None:
    """Register Kraken REST and websocket routes on ``app``."""
    base = "/api.kraken.com/0/public"

    def find(pair: str | None) -> Market | None:
        for inst in sim.instruments("kraken"):
            if pair in (inst.id, inst.extra.get("altname"), inst.extra.get("wsname"), ws_symbol(inst)):
                return sim.find_market("kraken", inst.id)
        return None

    async def asset_pairs(request: web.Request) -> web.Response:
        return _ok({i.id: _pair_info(i) for i in sim.instruments("kraken")})

    async def assets(request: web.Request) -> web.Response:
        return _ok({code: {"aclass": "currency", "altname": "XBT" if name == "BTC" else name, "decimals": dec,
                           "display_decimals": min(dec, 5), "collateral_value": 1, "status": "enabled"}
                    for code, (name, dec) in _asset_decimals(sim.instruments("kraken")).items()})

    async def server_time(request: web.Request) -> web.Response:
        now = time.time()
        return _ok({"unixtime": int(now), "rfc1123": time.strftime("%a, %d %b %y %H:%M:%S +0000", time.gmtime(now))})

    async def system_status(request: web.Request) -> web.Response:
        return _ok({"status": "online", "timestamp": _iso()})

    async def depth(request: web.Request) -> web.Response:
        market = find(request.query.get("pair"))
        if market is None:
            return kraken_error("EQuery:Unknown asset pair")
        count = min(max(kraken_uint(request, "count", 100), 1), 500)
        snap = market.snapshot(count)
        ts = int(time.time())
        sim.snapshots_served[("kraken", market.instrument.id)] = sim.snapshots_served.get(
            ("kraken", market.instrument.id), 0) + 1
        return _ok({market.instrument.id: {"asks": [[p, s, ts] for p, s in snap["asks"]],
                                           "bids": [[p, s, ts] for p, s in snap["bids"]]}})

    r = app.router
    r.add_get(base + "/AssetPairs", asset_pairs)
    r.add_get(base + "/Assets", assets)
    r.add_get(base + "/Time", server_time)
    r.add_get(base + "/SystemStatus", system_status)
    r.add_get(base + "/Depth", depth)
    r.add_get("/ws.kraken.com/v2", _ws_handler(sim, find))


def _ws_handler(sim: "ExchangeSimulator", find: Any):
    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=sim.compress, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = sim.open_connection("kraken", ws, request)
        streams: dict[str, KrakenBookStream] = {}
        conn.send_control({"channel": "status", "type": "update", "data": [{
            "version": "2.0.10", "system": "online", "api_version": "v2", "connection_id": 1000 + conn.ordinal}]})

        def answer(method: str, req_id: Any, result: dict[str, Any] | None, error: str | None) -> None:
            now = _iso()
            out: dict[str, Any] = {"method": method}
            if error is None:
                out["result"] = result
                out["success"] = True
            else:
                out["error"] = error
                out["success"] = False
                if result is not None:
                    out["symbol"] = result.get("symbol")
            out["time_in"] = now
            out["time_out"] = now
            if req_id is not None:
                out["req_id"] = req_id
            conn.send_control(out)

        try:
            async for text in conn.requests():
                try:
                    req = orjson.loads(text)
                    method = req["method"]
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    answer("", None, None, "Malformed request")
                    continue
                req_id = req.get("req_id")
                if method == "ping":
                    conn.send_control({"method": "pong", "req_id": req_id, "time_in": _iso(), "time_out": _iso()})
                    continue
                params = req.get("params") or {}
                if method not in ("subscribe", "unsubscribe"):
                    answer(str(method), req_id, None, "Method not found")
                    continue
                symbols = params.get("symbol") if isinstance(params, dict) else None
                if not isinstance(params, dict) or not isinstance(params.get("channel"), str) or \
                        not isinstance(symbols or [], list):
                    answer(method, req_id, None, "Malformed request")
                    continue
                channel = params.get("channel")
                if channel == "instrument":
                    answer(method, req_id, {"channel": channel, "snapshot": method == "subscribe"}, None)
                    if method == "subscribe" and params.get("snapshot", True):
                        conn.send_control(instrument_snapshot(sim.instruments("kraken")))
                    continue
                if channel != "book":
                    for sym in symbols or [None]:
                        answer(method, req_id, {"channel": channel, "symbol": sym}, None)  # carries nothing
                    continue
                depth = params.get("depth", 10)
                if depth not in DEPTHS:
                    answer(method, req_id, {"channel": channel}, "Subscription depth not supported")
                    continue
                new: list[KrakenBookStream] = []
                for sym in symbols or []:
                    result = {"channel": "book", "depth": depth, "symbol": sym}
                    market = find(sym) if isinstance(sym, str) else None
                    if market is None:
                        answer(method, req_id, result, "Currency pair not supported")
                        continue
                    if method == "unsubscribe":
                        stream = streams.pop(sym, None)
                        if stream is None:
                            answer(method, req_id, result, "Subscription Not Found")
                        else:
                            stream.market.unsubscribe(stream)
                            answer(method, req_id, result, None)
                        continue
                    if sym in streams:
                        answer(method, req_id, result, "Already subscribed")
                        continue
                    answer(method, req_id, {**result, "snapshot": True}, None)
                    streams[sym] = KrakenBookStream(conn, market, depth)
                    new.append(streams[sym])
                for stream in new:
                    stream.start()
        finally:
            for stream in streams.values():
                stream.market.unsubscribe(stream)
            await sim.close_connection(conn)
        return ws
    return handler
