"""Binance spot and USDⓈ-M futures, as ccxt.pro (and Binance's docs) use them for books.

Paths are served under the real host names (``/api.binance.com/api/v3/depth``,
``/stream.binance.com/ws/...``, ``/fapi.binance.com/fapi/v1/depth``,
``/fstream.binance.com/public/ws/...``) so one loopback server can stand in for every host
(see :func:`liqcore.sim.urls.loopback_urls`).

REST (JSON, decimal strings): ``ping``, ``time``, ``exchangeInfo`` and ``depth`` for spot
(``/api/v3``), USDⓈ-M (``/fapi/v1``) and COIN-M (``/dapi/v1``, listed empty: ccxt loads
its markets by default). Errors are Binance's, HTTP 400 ``{"code": -1121, "msg": "Invalid
symbol."}`` (-1100 for a malformed parameter, -1102 for a missing one; :mod:`liqcore.sim.rest`).

Websocket: raw streams ``/ws/<stream>[/<stream>...]`` (events sent bare) and combined
streams ``/stream?streams=a/b`` (events wrapped in ``{"stream", "data"}``), plus the
live ``SUBSCRIBE`` / ``UNSUBSCRIBE`` / ``LIST_SUBSCRIPTIONS`` / ``SET_PROPERTY`` /
``GET_PROPERTY`` requests, answered ``{"result": ..., "id": n}``. ccxt.pro connects to
``<ws base>/<n>`` (a raw-stream path with a meaningless stream name, ignored as Binance
does) and SUBSCRIBEs ``<symbol>@depth@100ms``.

Diff-depth streams: ``<symbol>@depth`` (spot 1000 ms, futures 250 ms) and
``<symbol>@depth@<100|250|500|1000>ms``; a stream of period P pushes the merged changes
of round(P / 100) ticks. Event fields: spot ``e E s U u b a``, futures ``e E T s U u pu b
a``. Trade, aggTrade, markPrice and forceOrder streams come from
:mod:`liqcore.sim.market_data`; other streams (tickers, partial depth) are acknowledged but
carry nothing.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from liqcore.sim.connection import SimConnection
from liqcore.sim.instruments import Instrument
from liqcore.sim.market import Market, Update
from liqcore.sim.market_data import binance_md_stream
from liqcore.sim.rest import binance_error, binance_json, binance_symbol, binance_symbols, binance_uint

if TYPE_CHECKING:
    from liqcore.sim.server import ExchangeSimulator

__all__ = ["add_binance_routes", "BinanceDepthStream"]

_DEPTH = re.compile(r"([a-z0-9_\-]+)@depth(?:@(\d+)ms)?")
_SPOT_PERIODS = {None: 1000, "100": 100, "1000": 1000}
_FUT_PERIODS = {None: 250, "100": 100, "250": 250, "500": 500}


def _now_ms() -> int:
    return int(time.time() * 1000)


class BinanceDepthStream:
    """One diff-depth stream on one connection (a market subscriber).

    Changes of ``every`` consecutive ticks are merged into one event (for a price the
    last size wins; ``U`` of the first update, ``u`` of the last, ``pu`` of the first).
    """

    def __init__(self, conn: SimConnection, market: Market, name: str, every: int, combined: list[bool]) -> None:
        self.conn, self.market, self.name = conn, market, name
        self.every = every
        self.combined = combined   # shared by the connection's streams: SET_PROPERTY flips it
        self.futures = market.venue == "binanceusdm"
        self.pending: list[Update] = []

    def on_tick(self, update: Update | None, tick: int) -> None:
        if update is not None:
            self.pending.append(update)
        if self.pending and tick % self.every == 0:
            self.flush()

    def flush(self) -> None:
        ups, self.pending = self.pending, []
        if len(ups) == 1:
            bids, asks = list(ups[0].bids), list(ups[0].asks)
        else:
            merged: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
            for up in ups:
                for lv in up.bids:
                    merged[0][lv[0]] = lv
                for lv in up.asks:
                    merged[1][lv[0]] = lv
            bids, asks = list(merged[0].values()), list(merged[1].values())
        first, last = ups[0], ups[-1]
        ev: dict[str, Any] = {"e": "depthUpdate", "E": last.ts_ms}
        if self.futures:
            ev["T"] = last.ts_ms - 2
        ev["s"] = self.market.instrument.id
        ev["U"] = first.ids["U"]
        ev["u"] = last.ids["u"]
        if self.futures:
            ev["pu"] = first.ids.get("pu", first.ids["U"] - 1)
        ev["b"] = [list(lv[:2]) for lv in bids]
        ev["a"] = [list(lv[:2]) for lv in asks]
        self.conn.send_data(self.name, {"stream": self.name, "data": ev} if self.combined[0] else ev)


# ------------------------------------------------------------------------------ REST
def _spot_symbol_info(inst: Instrument) -> dict[str, Any]:
    return {
        "symbol": inst.id, "status": "TRADING",
        "baseAsset": inst.base, "baseAssetPrecision": 8,
        "quoteAsset": inst.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                       "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True, "cancelReplaceAllowed": True, "amendAllowed": True,
        "isSpotTradingAllowed": True, "isMarginTradingAllowed": True,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": f"{inst.tick:.8f}", "maxPrice": "1000000.00000000",
             "tickSize": f"{inst.tick:.8f}"},
            {"filterType": "LOT_SIZE", "minQty": f"{inst.lot:.8f}", "maxQty": "9000.00000000",
             "stepSize": f"{inst.lot:.8f}"},
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "100.00000000",
             "stepSize": "0.00000000"},
            {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000,
             "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
            {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2",
             "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5},
            {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True,
             "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
        "permissions": [], "permissionSets": [["SPOT", "MARGIN"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"],
    }


def _futures_symbol_info(inst: Instrument) -> dict[str, Any]:
    pd, qd = inst.price_decimals, inst.size_decimals
    return {
        "symbol": inst.id, "pair": inst.id, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000, "status": "TRADING", "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000", "baseAsset": inst.base, "quoteAsset": inst.quote,
        "marginAsset": inst.settle or inst.quote, "pricePrecision": pd, "quantityPrecision": qd,
        "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": ["PoW"],
        "settlePlan": 0, "triggerProtect": "0.0500", "liquidationFee": "0.012500", "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": inst.tick_size, "maxPrice": "4529764",
             "tickSize": inst.tick_size},
            {"filterType": "LOT_SIZE", "stepSize": inst.lot_size, "maxQty": "1000", "minQty": inst.lot_size},
            {"filterType": "MARKET_LOT_SIZE", "stepSize": inst.lot_size, "maxQty": "120",
             "minQty": inst.lot_size},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": "100"},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500",
             "multiplierDecimal": "4"},
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
                       "TRAILING_STOP_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        "permissionSets": ["GRID", "COPY"],
    }


_RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
]


def add_binance_routes(app: web.Application, sim: "ExchangeSimulator") -> None:
    """Register Binance spot, USDⓈ-M and COIN-M (empty) routes on ``app``."""

    def requested(request: web.Request, insts: list[Instrument]) -> list[Instrument] | web.Response:
        wanted = [binance_symbol(request)] if "symbol" in request.query else binance_symbols(request)
        if wanted is None:
            return insts
        by_id = {i.id: i for i in insts}
        if any(w not in by_id for w in wanted):
            return binance_error(-1121, "Invalid symbol.")
        return [by_id[w] for w in wanted]

    async def ping(request: web.Request) -> web.Response:
        return binance_json({})

    async def server_time(request: web.Request) -> web.Response:
        return binance_json({"serverTime": _now_ms()})

    async def spot_info(request: web.Request) -> web.Response:
        insts = requested(request, sim.instruments("binance"))
        if isinstance(insts, web.Response):
            return insts
        return binance_json({"timezone": "UTC", "serverTime": _now_ms(), "rateLimits": _RATE_LIMITS,
                             "exchangeFilters": [], "symbols": [_spot_symbol_info(i) for i in insts]})

    async def futures_info(request: web.Request) -> web.Response:
        insts = requested(request, sim.instruments("binanceusdm"))
        if isinstance(insts, web.Response):
            return insts
        return binance_json({"timezone": "UTC", "serverTime": _now_ms(), "futuresType": "U_MARGINED",
                             "rateLimits": _RATE_LIMITS, "exchangeFilters": [],
                             "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
                             "symbols": [_futures_symbol_info(i) for i in insts]})

    async def coinm_info(request: web.Request) -> web.Response:
        return binance_json({"timezone": "UTC", "serverTime": _now_ms(), "rateLimits": _RATE_LIMITS,
                             "exchangeFilters": [], "symbols": []})

    def depth(venue: str, default_limit: int, max_limit: int):
        async def handler(request: web.Request) -> web.Response:
            market = sim.find_market(venue, binance_symbol(request))
            if market is None:
                return binance_error(-1121, "Invalid symbol.")
            limit = max(1, min(binance_uint(request, "limit", default_limit), max_limit))
            snap = market.snapshot(limit)
            body: dict[str, Any] = {"lastUpdateId": snap["update_id"]}
            if venue == "binanceusdm":
                now = _now_ms()
                body["E"], body["T"] = now, now - 2
            body["bids"], body["asks"] = snap["bids"], snap["asks"]
            sim.snapshots_served[(venue, market.instrument.id)] = sim.snapshots_served.get(
                (venue, market.instrument.id), 0) + 1
            return binance_json(body)
        return handler

    r = app.router
    for base, venue_info in (("/api.binance.com/api/v3", spot_info), ("/fapi.binance.com/fapi/v1", futures_info),
                             ("/dapi.binance.com/dapi/v1", coinm_info)):
        r.add_get(base + "/ping", ping)
        r.add_get(base + "/time", server_time)
        r.add_get(base + "/exchangeInfo", venue_info)
    r.add_get("/api.binance.com/api/v3/depth", depth("binance", 100, 5000))
    r.add_get("/fapi.binance.com/fapi/v1/depth", depth("binanceusdm", 500, 1000))

    # -------------------------------------------------------------------- websockets
    def ws_route(venue: str, combined: bool):
        async def handler(request: web.Request) -> web.StreamResponse:
            if combined:
                initial = [s for s in request.query.get("streams", "").split("/") if s]
            else:
                initial = [s for s in request.match_info.get("streams", "").split("/") if s]
            return await _serve_ws(sim, request, venue, combined, initial)
        return handler

    for host, venue in (("/stream.binance.com", "binance"), ("/fstream.binance.com", "binanceusdm")):
        for cat in ("", "/public", "/market"):
            r.add_get(f"{host}{cat}/ws", ws_route(venue, False))
            r.add_get(f"{host}{cat}/ws/{{streams:.*}}", ws_route(venue, False))
            r.add_get(f"{host}{cat}/stream", ws_route(venue, True))


async def _serve_ws(sim: "ExchangeSimulator", request: web.Request, venue: str, combined: bool,
                    initial: list[str]) -> web.StreamResponse:
    ws = web.WebSocketResponse(compress=sim.compress, max_msg_size=1 << 20)
    await ws.prepare(request)
    conn = sim.open_connection(venue, ws, request)
    streams: dict[str, BinanceDepthStream | None] = {}
    combined_flag = [combined]

    def subscribe(name: str) -> None:
        if name in streams:
            return
        stream = None
        m = _DEPTH.fullmatch(name)
        periods = _FUT_PERIODS if venue == "binanceusdm" else _SPOT_PERIODS
        if m is not None and m.group(2) in periods:
            market = sim.find_market(venue, m.group(1).upper())
            if market is not None:
                every = max(1, round(periods[m.group(2)] / 100))
                stream = BinanceDepthStream(conn, market, name, every, combined_flag)
                market.subscribe(stream)
        else:   # trades, mark price, liquidations (liqcore.sim.market_data)
            stream = binance_md_stream(sim, conn, venue, name, combined_flag)  # type: ignore[assignment]
        streams[name] = stream

    def unsubscribe(name: str) -> None:
        stream = streams.pop(name, None)
        if stream is not None:
            stream.market.unsubscribe(stream)

    for name in initial:
        subscribe(name)
    try:
        async for text in conn.requests():
            try:
                req = orjson.loads(text)
            except orjson.JSONDecodeError:
                conn.send_control({"error": {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"},
                                   "id": None})
                continue
            if not isinstance(req, dict) or not isinstance(req.get("method"), str):
                conn.send_control({"error": {"code": 2, "msg": "Invalid request: missing field `method`"},
                                   "id": req.get("id") if isinstance(req, dict) else None})
                continue
            method, params, rid = req["method"], req.get("params") or [], req.get("id")
            if not isinstance(params, list) or (method in ("SUBSCRIBE", "UNSUBSCRIBE") and
                                                 not all(isinstance(name, str) for name in params)):
                conn.send_control({"error": {"code": 2, "msg": "Invalid request: `params` must be an array of "
                                             "stream names"}, "id": rid})
                continue
            if method == "SUBSCRIBE":
                # ack first: ccxt creates its book on the ack and drops events before it
                conn.send_control({"result": None, "id": rid})
                for name in params:
                    subscribe(name)
            elif method == "UNSUBSCRIBE":
                for name in params:
                    unsubscribe(name)
                conn.send_control({"result": None, "id": rid})
            elif method == "LIST_SUBSCRIPTIONS":
                conn.send_control({"result": list(streams), "id": rid})
            elif method == "SET_PROPERTY" and params[:1] == ["combined"]:
                combined_flag[0] = bool(params[1]) if len(params) > 1 else False
                conn.send_control({"result": None, "id": rid})
            elif method == "GET_PROPERTY" and params[:1] == ["combined"]:
                conn.send_control({"result": combined_flag[0], "id": rid})
            else:
                conn.send_control({"error": {"code": 2, "msg": f"Invalid request: unknown variant `{method}`, "
                                             "expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, "
                                             "`SET_PROPERTY`, `GET_PROPERTY`"}, "id": rid})
    finally:
        for name in list(streams):
            unsubscribe(name)
        await sim.close_connection(conn)
    return ws
