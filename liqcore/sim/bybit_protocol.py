"""Bybit v5 public market data, spot and USDT perpetuals (category ``linear``), as ccxt.pro
(and Bybit's docs) use it: books, trades, tickers (mark, index, funding, open interest) and
liquidations.

Served under the real host names (ccxt's ``https://api.{hostname}`` and
``wss://stream.{hostname}`` with hostname ``bybit.com``). Spot pairs are the simulator venue
``"bybit"``, linear perpetuals the venue ``"bybitlinear"`` (both ccxt's ``bybit``; Bybit tells
them apart by ``category`` and by the websocket path, so ``BTCUSDT`` can be both).

REST (``/api.bybit.com/v5/market/...``): ``instruments-info?category=spot|linear|inverse|option``
(ccxt's ``load_markets`` asks for all four, linear/inverse twice: also ``status=PreLaunch``;
spot pairs and linear perpetuals are listed, inverse/option/pre-launch empty), ``time``,
``orderbook?category&symbol&limit`` (``{"s", "b", "a", "ts", "u", "seq"}``; spot limit <= 200,
linear <= 500), ``recent-trade`` (newest first), ``tickers`` (linear: ``markPrice``,
``indexPrice``, ``fundingRate``, ``nextFundingTime``, ``openInterest``...; spot: prices and
volumes), ``open-interest?category=linear&symbol&intervalTime`` (the open interest after each
change, newest first), ``funding/history`` and ``risk-limit?category=linear&symbol`` (the
leverage tiers ccxt's ``fetch_market_leverage_tiers`` reads: :data:`RISK_LIMITS`, the same for
every linear instrument). Replies ``{"retCode": 0, "retMsg": "OK",
"result": ..., "retExtInfo": {}, "time": ms}``; errors ``retCode`` 10001 (params) with HTTP 200,
as Bybit.

Websocket ``/stream.bybit.com/v5/public/spot`` and ``/linear`` (``inverse``, ``option``: nothing
listed): ``{"op": "ping"}`` -> ``{"success": true, "ret_msg": "pong", ...}``; ``{"op":
"subscribe", "req_id", "args": ["orderbook.50.BTCUSDT", ...]}`` answered once ``{"success":
true, "ret_msg": "subscribe", "conn_id", "req_id", "op": "subscribe"}`` (or ``success: false``
with ``"error:already subscribed,topic:..."`` / ``"error:handler not found,topic:..."``, as
Bybit). Topics:

* ``orderbook.{1,50,200,1000}.{symbol}``: a ``snapshot`` of the best ``depth`` levels followed
  by ``delta`` messages: ``{"topic", "type", "ts", "data": {"s", "b", "a", "u", "seq"}, "cts"}``.
  ``u`` is the channel's update id, contiguous (+1 per message), shared by every subscriber of
  the depth; ``seq`` the market's cross sequence. Deltas keep the client's book equal to the
  window: levels leaving it (deleted or pushed out) are sent with size 0.
  :meth:`ExchangeSimulator.restart_channels` makes every stream send a new snapshot with
  ``u == 1`` (Bybit's "service restart": the client must reset its book);
* ``publicTrade.{symbol}``: one message per tick with that tick's trades (``T s S v p L i BT
  seq``; ``S`` the taker's side, ``i`` the raw trade id as a decimal string);
* ``tickers.{symbol}`` (linear; on spot acknowledged, empty): a ``snapshot`` on subscribe, then a
  ``delta`` of the changed fields every tick (``ts`` = the mark's time, ``cs`` the sequence);
* ``allLiquidation.{symbol}`` (linear; what ccxt.pro subscribes): every 5 ticks (Bybit's 500 ms)
  the liquidations since the last push, ``{"T", "s", "S", "v", "p"}`` where ``S`` is the
  **liquidated position's** side (``Buy``: a long was liquidated, by a sell order) and ``p`` the
  order price; ``liquidation.{symbol}`` (legacy) one message per liquidation, ``data``
  ``{"updatedTime", "symbol", "side", "size", "price"}``, same side convention.

``op: unsubscribe`` answered like subscribe. Spot and linear connections are the simulator
venues ``"bybit"`` and ``"bybitlinear"`` (fault plans are set per venue).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from liqcore.sim.connection import SimConnection
from liqcore.sim.instruments import Instrument
from liqcore.sim.market import Market, Update
from liqcore.sim.market_data import FUNDING_INTERVAL_MS, MarketDataProcess, SimLiquidation, SimTrade
from liqcore.sim.rest import bybit_error, bybit_uint
from liqcore.sim.window import BookWindow, window_of

if TYPE_CHECKING:
    from liqcore.sim.server import ExchangeSimulator

__all__ = ["add_bybit_routes", "BybitBookStream", "DEPTHS", "CATEGORY_VENUES"]

#: orderbook depths of Bybit spot and linear
DEPTHS = (1, 50, 200, 1000)
#: websocket path / REST category -> simulator venue
CATEGORY_VENUES = {"spot": "bybit", "linear": "bybitlinear"}
#: ticks per allLiquidation push (Bybit: 500 ms)
LIQUIDATION_EVERY = 5

#: The simulator's risk-limit tiers of every linear perpetual, in the shape of Bybit's v5
#: ``/v5/market/risk-limit`` (rates as fractions, values in USDT): tier n covers positions up to
#: n x 2,000,000 USDT, MMR 0.5% + 0.5% per tier above the first, IMR twice the MMR (max leverage
#: 1/IMR), ``mmDeduction`` the maintenance amount that keeps the maintenance margin continuous
#: across tiers (floor x (MMR_n - MMR_n-1) + the previous one). The simulator's values, not
#: Bybit's: tests compare what ccxt parses with this table.
RISK_LIMITS: tuple[dict[str, str], ...] = tuple(
    {"riskLimitValue": str(2_000_000 * n),
     "maintenanceMargin": f"{(Decimal('0.005') * n).normalize():f}",
     "initialMargin": f"{(Decimal('0.01') * n).normalize():f}",
     "maxLeverage": f"{Decimal(100) / n:.2f}",
     "mmDeduction": str(sum(10_000 * k for k in range(1, n)))}
    for n in range(1, 11))
_HOST = "/api.bybit.com/v5"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _ok(result: Any) -> web.Response:
    body = {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": _now_ms()}
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

    def stop(self) -> None:
        self.market.unsubscribe(self)

    def send_snapshot(self) -> None:
        bids, asks, u = self.window.snapshot()
        self._send("snapshot", bids, asks, u)

    def on_tick(self, update: Update | None, tick: int) -> None:
        if update is None:
            return
        diff = self.window.catch_up()
        if diff is not None:
            self._send("delta", diff[0], diff[1], diff[2])


def _side(side: str) -> str:
    return "Buy" if side == "buy" else "Sell"


def _position_side(liq: SimLiquidation) -> str:
    """Bybit's liquidation ``S``: the liquidated position's side (a sell order closes a long)."""
    return "Buy" if liq.side == "sell" else "Sell"


def bybit_trades(p: MarketDataProcess, fills: list[SimTrade], prev_price: str | None) -> list[dict[str, Any]]:
    """The raw trades of ``fills`` as ``publicTrade`` rows (oldest first)."""
    out = []
    last = prev_price
    for t in fills:
        if last is None or t.price == last:
            tick = "ZeroPlusTick" if t.side == "buy" else "ZeroMinusTick"
        else:
            tick = "PlusTick" if Decimal(t.price) > Decimal(last) else "MinusTick"
        last = t.price
        for i, sz in enumerate(t.raw_sizes):
            out.append({"T": t.ts_ms, "s": p.instrument.id, "S": _side(t.side), "v": sz, "p": t.price, "L": tick,
                        "i": str(t.first_id + i), "BT": False, "RPI": False, "seq": p.market.last_id})
    return out


def bybit_ticker(p: MarketDataProcess) -> dict[str, Any]:
    """The full ``tickers`` row of a market now (linear: with mark, index, funding, open interest)."""
    inst, book = p.instrument, p.market.book
    bids, asks = book.top(0, 1), book.top(1, 1)
    start = inst.price_text(Decimal(inst.start_price))
    last = p.last_price or (bids[0][0] if bids else start)
    row: dict[str, Any] = {
        "symbol": inst.id, "lastPrice": last, "prevPrice24h": start, "price24hPcnt": f"{(Decimal(last) / Decimal(start) - 1):.6f}",
        "highPrice24h": last, "lowPrice24h": last,
        "turnover24h": f"{p.turnover:.4f}", "volume24h": inst.size_text(p.volume),
        "bid1Price": bids[0][0] if bids else "", "bid1Size": bids[0][1] if bids else "",
        "ask1Price": asks[0][0] if asks else "", "ask1Size": asks[0][1] if asks else "",
    }
    m = p.last_mark
    if not p.contract:
        row["usdIndexPrice"] = last
        return row
    oi = p.open_interest[-1][1] if p.open_interest else p.oi_text
    mark = m.mark if m is not None else last
    row.update({
        "tickDirection": "ZeroPlusTick", "prevPrice1h": start, "markPrice": mark,
        "indexPrice": m.index if m is not None else last, "openInterest": oi,
        "openInterestValue": f"{(Decimal(oi) * Decimal(mark)).quantize(Decimal('0.01'))}",
        "fundingRate": m.funding_rate if m is not None else "0.0001",
        "nextFundingTime": str(m.next_funding_ms if m is not None else 0), "predictedDeliveryPrice": "",
        "basisRate": "", "deliveryFeeRate": "", "deliveryTime": "0", "preOpenPrice": "", "preQty": "",
        "curPreListingPhase": "", "fundingIntervalHour": "8", "fundingCap": "0.0075", "basis": "",
    })
    return row


class BybitMdStream:
    """One ``publicTrade``, ``tickers``, ``allLiquidation`` or ``liquidation`` topic on one
    connection (a subscriber of the market's :class:`MarketDataProcess`)."""

    def __init__(self, conn: SimConnection, process: MarketDataProcess, kind: str) -> None:
        self.conn, self.process, self.kind = conn, process, kind
        self.topic = f"{kind}.{process.instrument.id}"
        self._ticks = 0
        self._pending: list[SimLiquidation] = []
        self._sent: dict[str, Any] = {}
        self._prev_price: str | None = None

    def start(self) -> None:
        self._prev_price = self.process.last_price
        if self.kind == "tickers":
            self._sent = bybit_ticker(self.process)
            ts = self.process.last_mark.ts_ms if self.process.last_mark is not None else _now_ms()
            self._send("snapshot", dict(self._sent), ts)
        self.process.subscribe(self)

    def stop(self) -> None:
        self.process.unsubscribe(self)

    def _send(self, kind: str, data: Any, ts: int) -> None:
        msg: dict[str, Any] = {"topic": self.topic, "type": kind, "ts": ts, "data": data}
        if self.kind == "tickers":
            msg["cs"] = self.process.market.last_id
        self.conn.send_data(self.topic, msg)

    def on_md(self, fills: list[SimTrade], liq: SimLiquidation | None, tick: int) -> None:
        p = self.process
        if self.kind == "publicTrade":
            if fills:
                rows = bybit_trades(p, fills, self._prev_price)
                self._prev_price = fills[-1].price
                self._send("snapshot", rows, fills[-1].ts_ms + 1)
        elif self.kind == "tickers":
            row = bybit_ticker(p)
            delta = {k: v for k, v in row.items() if self._sent.get(k) != v}
            self._sent = row
            if delta:
                delta["symbol"] = p.instrument.id
                self._send("delta", delta, p.last_mark.ts_ms if p.last_mark is not None else _now_ms())
        elif self.kind == "liquidation":
            if liq is not None:
                self._send("snapshot", {"updatedTime": liq.ts_ms, "symbol": p.instrument.id,
                                        "side": _position_side(liq), "size": liq.size, "price": liq.price},
                           liq.ts_ms + 1)
        else:   # allLiquidation: batched like Bybit's 500 ms push
            if liq is not None:
                self._pending.append(liq)
            self._ticks += 1
            if self._pending and self._ticks % LIQUIDATION_EVERY == 0:
                rows = [{"T": x.ts_ms, "s": p.instrument.id, "S": _position_side(x), "v": x.size, "p": x.price}
                        for x in self._pending]
                self._pending = []
                self._send("snapshot", rows, _now_ms())


_SPOT_MD = ("publicTrade",)
_LINEAR_MD = ("publicTrade", "tickers", "allLiquidation", "liquidation")


def _instrument_info(inst: Instrument) -> dict[str, Any]:
    if inst.kind != "spot":
        return {
            "symbol": inst.id, "contractType": "LinearPerpetual", "status": "Trading", "baseCoin": inst.base,
            "quoteCoin": inst.quote, "launchTime": "1585526400000", "deliveryTime": "0", "deliveryFeeRate": "",
            "priceScale": str(inst.price_decimals),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {"minPrice": inst.tick_size, "maxPrice": "1999999.80", "tickSize": inst.tick_size},
            "lotSizeFilter": {"maxOrderQty": "1190.000", "minOrderQty": inst.lot_size, "qtyStep": inst.lot_size,
                              "postOnlyMaxOrderQty": "1190.000", "maxMktOrderQty": "500.000",
                              "minNotionalValue": "5"},
            "unifiedMarginTrade": True, "fundingInterval": FUNDING_INTERVAL_MS // 60_000,
            "settleCoin": inst.settle or inst.quote, "copyTrading": "both", "upperFundingRate": "0.0075",
            "lowerFundingRate": "-0.0075", "isPreListing": False, "preListingInfo": None,
            "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"}, "displayName": "",
        }
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

    def venue_of(request: web.Request) -> str | None:
        return CATEGORY_VENUES.get(request.query.get("category", ""))

    def proc_of(request: web.Request) -> MarketDataProcess | web.Response:
        venue = venue_of(request)
        market = sim.find_market(venue, request.query.get("symbol")) if venue else None
        if market is None:
            return bybit_error(10001, "params error: symbol invalid")
        return sim.market_data[(venue, market.instrument.id)]   # type: ignore[index]

    def limit_of(request: web.Request, default: int, top: int) -> int:
        return min(max(bybit_uint(request, "limit", default) or default, 1), top)

    async def instruments(request: web.Request) -> web.Response:
        category = request.query.get("category")
        if category not in ("spot", "linear", "inverse", "option"):
            return bybit_error(10001, "params error: category is invalid")
        wanted = request.query.get("symbol")
        venue = CATEGORY_VENUES.get(category)
        rows = [] if venue is None or request.query.get("status") == "PreLaunch" else [
            _instrument_info(i) for i in sim.instruments(venue) if wanted is None or i.id == wanted]
        return _ok({"category": category, "list": rows, "nextPageCursor": ""})

    async def server_time(request: web.Request) -> web.Response:
        now = time.time_ns()
        return _ok({"timeSecond": str(now // 10**9), "timeNano": str(now)})

    async def orderbook(request: web.Request) -> web.Response:
        venue = venue_of(request)
        market = sim.find_market(venue, request.query.get("symbol")) if venue else None
        if market is None:
            return bybit_error(10001, "params error: symbol invalid")
        limit = limit_of(request, 1, 200 if venue == "bybit" else 500)
        snap = market.snapshot(limit)
        key = (market.venue, market.instrument.id)
        sim.snapshots_served[key] = sim.snapshots_served.get(key, 0) + 1
        return _ok({"s": market.instrument.id, "b": snap["bids"], "a": snap["asks"], "ts": _now_ms(),
                    "u": snap["update_id"], "seq": snap["update_id"], "cts": _now_ms()})

    async def recent_trade(request: web.Request) -> web.Response:
        p = proc_of(request)
        if isinstance(p, web.Response):
            return p
        limit = limit_of(request, 60, 60) if p.instrument.venue == "bybit" else limit_of(request, 500, 1000)
        rows = []
        for tid, px, sz, ts, buyer_maker in reversed(p.raw_trades()[-limit:]):
            rows.append({"execId": str(tid), "symbol": p.instrument.id, "price": px, "size": sz,
                         "side": "Sell" if buyer_maker else "Buy", "time": str(ts), "isBlockTrade": False,
                         "isRPITrade": False, "seq": str(p.market.last_id)})
        return _ok({"category": request.query["category"], "list": rows})

    async def tickers(request: web.Request) -> web.Response:
        venue = venue_of(request)
        if venue is None:
            return _ok({"category": request.query.get("category", ""), "list": []})
        wanted = request.query.get("symbol")
        procs = [p for (v, i), p in sim.market_data.items() if v == venue and (wanted is None or i == wanted)]
        if wanted is not None and not procs:
            return bybit_error(10001, "params error: symbol invalid")
        return _ok({"category": request.query["category"], "list": [bybit_ticker(p) for p in procs]})

    async def open_interest(request: web.Request) -> web.Response:
        if request.query.get("category") != "linear":
            return bybit_error(10001, "params error: category only support linear or inverse")
        p = proc_of(request)
        if isinstance(p, web.Response):
            return p
        if request.query.get("intervalTime") not in ("5min", "15min", "30min", "1h", "4h", "1d"):
            return bybit_error(10001, "params error: intervalTime invalid")
        limit = limit_of(request, 50, 200)
        hist = list(p.open_interest)[-limit:] or [(_now_ms(), p.oi_text)]
        rows = [{"openInterest": f"{Decimal(oi):.8f}", "timestamp": str(ts)} for ts, oi in reversed(hist)]
        return _ok({"symbol": p.instrument.id, "category": "linear", "list": rows, "nextPageCursor": ""})

    async def funding_history(request: web.Request) -> web.Response:
        if request.query.get("category") != "linear":
            return bybit_error(10001, "params error: category only support linear or inverse")
        p = proc_of(request)
        if isinstance(p, web.Response):
            return p
        limit = limit_of(request, 200, 200)
        rows = [{"symbol": p.instrument.id, "fundingRate": r, "fundingRateTimestamp": str(ft)}
                for ft, r, _mark in reversed(list(p.funding_history)[-limit:])]
        return _ok({"category": "linear", "list": rows})

    async def risk_limit(request: web.Request) -> web.Response:
        if request.query.get("category") not in ("linear", "inverse"):
            return bybit_error(10001, "params error: category only support linear or inverse")
        if request.query.get("category") != "linear":
            return _ok({"category": "inverse", "list": []})
        wanted = request.query.get("symbol")
        insts = [i for i in sim.instruments("bybitlinear") if wanted is None or i.id == wanted]
        if wanted is not None and not insts:
            return bybit_error(10001, "params error: symbol invalid")
        rows = [{"id": n + 1, "symbol": i.id, **tier, "isLowestRisk": int(n == 0)}
                for i in insts for n, tier in enumerate(RISK_LIMITS)]
        return _ok({"category": "linear", "list": rows})

    r = app.router
    r.add_get(_HOST + "/market/risk-limit", risk_limit)
    r.add_get(_HOST + "/market/instruments-info", instruments)
    r.add_get(_HOST + "/market/time", server_time)
    r.add_get(_HOST + "/market/orderbook", orderbook)
    r.add_get(_HOST + "/market/recent-trade", recent_trade)
    r.add_get(_HOST + "/market/tickers", tickers)
    r.add_get(_HOST + "/market/open-interest", open_interest)
    r.add_get(_HOST + "/market/funding/history", funding_history)
    for category in ("spot", "linear", "inverse", "option"):
        r.add_get(f"/stream.bybit.com/v5/public/{category}", _ws_handler(sim, category))


def _ws_handler(sim: "ExchangeSimulator", category: str):
    venue = CATEGORY_VENUES.get(category)
    md_topics = _SPOT_MD if category == "spot" else _LINEAR_MD

    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=sim.compress, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = sim.open_connection(venue or "bybit", ws, request)
        conn_id = f"sim{sim.seed & 0xffff:04x}-{conn.ordinal}"
        streams: dict[str, BybitBookStream | BybitMdStream] = {}

        def reply(op: str, req_id: Any, ok: bool, msg: str) -> None:
            out = {"success": ok, "ret_msg": msg, "conn_id": conn_id, "op": op}
            if req_id is not None:
                out["req_id"] = req_id
            conn.send_control(out)

        try:
            async for text in conn.requests():
                try:
                    req = orjson.loads(text)
                    op = req["op"]
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    reply("", None, False, f"error:request not supported,request:{text[:64]}")
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
                new: list[BybitBookStream | BybitMdStream] = []
                for topic in args:
                    if not isinstance(topic, str):      # only topic names are ever found
                        failed.append(f"error:handler not found,topic:{topic}")
                        continue
                    parts = topic.split(".")
                    if op == "unsubscribe":
                        stream = streams.pop(str(topic), None)
                        if stream is None:
                            failed.append(f"error:handler not found,topic:{topic}")
                        else:
                            stream.stop()
                        continue
                    if topic in streams:
                        failed.append(f"error:already subscribed,topic:{topic}")
                        continue
                    market = sim.find_market(venue, parts[-1]) if venue and len(parts) in (2, 3) else None
                    if market is not None and len(parts) == 3 and parts[0] == "orderbook" \
                            and parts[1].isdigit() and int(parts[1]) in DEPTHS:
                        stream = BybitBookStream(conn, market, int(parts[1]))
                    elif market is not None and len(parts) == 2 and parts[0] in md_topics:
                        stream = BybitMdStream(conn, sim.market_data[(market.venue, market.instrument.id)],
                                               parts[0])
                    elif market is not None and len(parts) == 2 and parts[0] == "tickers" or \
                            market is not None and len(parts) == 3 and parts[0] == "kline":
                        continue          # acknowledged, carries nothing
                    else:
                        failed.append(f"error:handler not found,topic:{topic}")
                        continue
                    streams[str(topic)] = stream
                    new.append(stream)
                reply(op, req_id, not failed, ",".join(failed) if failed else op)
                for stream in new:
                    stream.start()
        finally:
            for stream in streams.values():
                stream.stop()
            await sim.close_connection(conn)
        return ws
    return handler
