"""Bitget v2 public market data (spot and USDT-M perpetuals), as ccxt.pro ``bitget`` (and
Bitget's docs) use it for books.

Served under the real host names: REST ``/api.bitget.com/api/v2/...`` (ccxt's
``https://api.{hostname}`` with hostname ``bitget.com``), websocket ``/ws.bitget.com/v2/ws/public``.
Spot pairs are the simulator venue ``"bitget"``, USDT-M perpetuals (productType
``USDT-FUTURES``) the venue ``"bitgetswap"``; both share ids (``BTCUSDT``) and the one public
websocket, where ``instType`` tells them apart. The connection's fault plan is the ``"bitget"``
venue's.

REST (what ccxt's ``load_markets`` fetches, nothing else is needed): ``spot/public/coins``
(``fetch_currencies``), ``spot/public/symbols`` (``pricePrecision``/``quantityPrecision`` as
decimal places), ``margin/currencies`` (empty: no margin), ``mix/market/contracts?productType``
(ccxt asks for six product types; ``USDT-FUTURES`` lists the perpetuals, the others are empty;
the price grid is ``priceEndStep`` units of ``10**-pricePlace``, the size grid
``sizeMultiplier``), ``public/time`` and ``spot/market/orderbook?symbol&limit`` (for polling).
Replies ``{"code": "00000", "msg": "success", "requestTime", "data"}``; errors HTTP 400 with
Bitget's ``code`` (``40034`` parameter does not exist, ``40019`` parameter cannot be empty).

Websocket: text ``ping`` -> ``pong``; ``{"op": "subscribe"|"unsubscribe", "args": [{"instType",
"channel", "instId"}, ...]}`` answered per argument ``{"event": "subscribe", "arg"}`` (an unknown
instrument or channel ``{"event": "error", "arg", "code": 30001, "msg": "instType:...,channel:
...,instId:... doesn't exist", "op"}``; a request that is not JSON or has no ``op``/``args``
``{"event": "error", "code": 30016, "msg": "Param error"}``; another ``op`` code 30003). Channel
``books`` (every level): a ``snapshot`` of the whole book, then ``update`` messages with the
changed levels (size ``"0"`` deletes)::

    {"action": "update", "arg": {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"},
     "data": [{"asks": [["60000.01", "0.120000"]], "bids": [], "checksum": -1375309568,
               "seq": 4180312, "ts": "1716912345678"}], "ts": 1716912345679}

Prices and sizes are strings with the instrument's decimals verbatim (``"0.5000"``);
``checksum`` is OKX's signed CRC32 of the best 25 levels interleaved (Bitget's docs: the same
algorithm) after the message, snapshots included; ``seq`` increases with every update (here by
the number of changes plus internal updates, so it is not contiguous: Bitget promises only that
it increases). A repeated subscribe starts the stream over with a new snapshot; ``unsubscribe``
is acknowledged ``{"event": "unsubscribe", "arg"}``. Replayed recordings send their recorded
checksums (:meth:`Market.wire_checksum`).
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
from liqcore.sim.okx_protocol import _bad_checksum   # the same message layout: data[i]["checksum"]
from liqcore.sim.rest import bitget_error, bitget_uint

if TYPE_CHECKING:
    from liqcore.sim.server import ExchangeSimulator

__all__ = ["add_bitget_routes", "BitgetBookStream", "INST_TYPE_VENUES"]

#: websocket ``instType`` (and REST ``productType``) -> simulator venue
INST_TYPE_VENUES = {"SPOT": "bitget", "USDT-FUTURES": "bitgetswap"}
_BOOK_CHANNELS = frozenset({"books"})


def _now_ms() -> int:
    return int(time.time() * 1000)


def _ok(data: Any) -> web.Response:
    body = {"code": "00000", "msg": "success", "requestTime": _now_ms(), "data": data}
    return web.Response(body=orjson.dumps(body), content_type="application/json")


class BitgetBookStream:
    """One ``books`` subscription of one instrument on one connection (a market subscriber)."""

    def __init__(self, conn: SimConnection, market: Market, inst_type: str) -> None:
        self.conn, self.market = conn, market
        self.arg = {"instType": inst_type, "channel": "books", "instId": market.instrument.id}
        self.name = f"books:{inst_type}:{market.instrument.id}"

    def start(self) -> None:
        """Send the snapshot (the whole book) and start following the market."""
        m = self.market
        snap = m.snapshot()
        self._send("snapshot", snap["bids"], snap["asks"], m.wire_checksum(), m.last_id, _now_ms())
        m.subscribe(self)

    def on_tick(self, update: Update | None, tick: int) -> None:
        if update is None:
            return
        assert update.checksum is not None       # a checksum venue: every update carries one
        self._send("update", [list(lv) for lv in update.bids], [list(lv) for lv in update.asks],
                   update.checksum, update.ids["seq"], update.ts_ms)

    def _send(self, action: str, bids: Any, asks: Any, checksum: int, seq: int, ts_ms: int) -> None:
        d = {"asks": asks, "bids": bids, "checksum": checksum, "seq": seq, "ts": str(ts_ms)}
        self.conn.send_data(self.name, {"action": action, "arg": self.arg, "data": [d], "ts": _now_ms()},
                            _bad_checksum)


def _spot_symbol(inst: Instrument) -> dict[str, Any]:
    return {
        "symbol": inst.id, "baseCoin": inst.base, "quoteCoin": inst.quote, "minTradeAmount": "0",
        "maxTradeAmount": "10000000000", "takerFeeRate": "0.001", "makerFeeRate": "0.001",
        "pricePrecision": str(inst.price_decimals), "quantityPrecision": str(inst.size_decimals),
        "quotePrecision": str(inst.price_decimals), "status": "online", "minTradeUSDT": "1",
        "buyLimitPriceRatio": "0.05", "sellLimitPriceRatio": "0.05", "areaSymbol": "no", "orderQuantity": "200",
        "openTime": "1532454360000", "offTime": "",
    }


def _contract(inst: Instrument) -> dict[str, Any]:
    place = inst.price_decimals
    # Bitget's price grid: priceEndStep units of the last of pricePlace decimals (tick 0.5 -> 1, "5")
    step = inst.tick * Decimal(10) ** place
    return {
        "symbol": inst.id, "baseCoin": inst.base, "quoteCoin": inst.quote, "buyLimitPriceRatio": "0.01",
        "sellLimitPriceRatio": "0.01", "feeRateUpRatio": "0.005", "makerFeeRate": "0.0002",
        "takerFeeRate": "0.0006", "openCostUpRatio": "0.01", "supportMarginCoins": [inst.settle or inst.quote],
        "minTradeNum": inst.lot_size, "priceEndStep": str(int(step)), "volumePlace": str(inst.size_decimals),
        "pricePlace": str(place), "sizeMultiplier": inst.lot_size, "symbolType": "perpetual", "minTradeUSDT": "5",
        "maxSymbolOrderNum": "200", "maxProductOrderNum": "400", "maxPositionNum": "150",
        "symbolStatus": "normal", "offTime": "-1", "limitOpenTime": "-1", "deliveryTime": "",
        "deliveryStartTime": "", "deliveryPeriod": "", "launchTime": "", "fundInterval": "8", "minLever": "1",
        "maxLever": "125", "posLimit": "0.05", "maintainTime": "",
    }


def _coin(code: str, ordinal: int) -> dict[str, Any]:
    return {"coinId": str(ordinal + 1), "coin": code, "transfer": "true", "chains": [], "areaCoin": "no"}


def add_bitget_routes(app: web.Application, sim: "ExchangeSimulator") -> None:
    """Register Bitget REST and websocket routes on ``app``."""
    base = "/api.bitget.com/api/v2"

    async def coins(request: web.Request) -> web.Response:
        codes = sorted({c for v in INST_TYPE_VENUES.values() for i in sim.instruments(v) for c in (i.base, i.quote)})
        return _ok([_coin(c, n) for n, c in enumerate(codes)])

    async def symbols(request: web.Request) -> web.Response:
        wanted = request.query.get("symbol")
        return _ok([_spot_symbol(i) for i in sim.instruments("bitget") if wanted in (None, i.id)])

    async def margin_currencies(request: web.Request) -> web.Response:
        return _ok([])

    async def contracts(request: web.Request) -> web.Response:
        product = request.query.get("productType")
        if not product:
            return bitget_error("40019", "Parameter productType cannot be empty")
        venue = INST_TYPE_VENUES.get(product.upper())
        listed = [] if venue in (None, "bitget") else sim.instruments(venue)
        return _ok([_contract(i) for i in listed])

    async def server_time(request: web.Request) -> web.Response:
        return _ok({"serverTime": str(_now_ms())})

    async def orderbook(request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        if not symbol:
            return bitget_error("40019", "Parameter symbol cannot be empty")
        market = sim.find_market("bitget", symbol)
        if market is None:
            return bitget_error("40034", "Parameter symbol does not exist")
        limit = min(max(bitget_uint(request, "limit", 150), 1), 150)
        snap = market.snapshot(limit)
        return _ok({"asks": snap["asks"], "bids": snap["bids"], "ts": str(_now_ms())})

    r = app.router
    r.add_get(base + "/spot/public/coins", coins)
    r.add_get(base + "/spot/public/symbols", symbols)
    r.add_get(base + "/margin/currencies", margin_currencies)
    r.add_get(base + "/mix/market/contracts", contracts)
    r.add_get(base + "/public/time", server_time)
    r.add_get(base + "/spot/market/orderbook", orderbook)
    r.add_get("/ws.bitget.com/v2/ws/public", _ws_handler(sim))


def _ws_handler(sim: "ExchangeSimulator"):
    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=sim.compress, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = sim.open_connection("bitget", ws, request)
        streams: dict[str, BitgetBookStream] = {}

        def error(code: int, msg: str, op: str | None = None, arg: Any = None) -> None:
            out: dict[str, Any] = {"event": "error"}
            if arg is not None:
                out["arg"] = arg
            out["code"] = code
            out["msg"] = msg
            if op is not None:
                out["op"] = op
            conn.send_control(out)

        try:
            async for text in conn.requests(text_ping=True):
                try:
                    req = orjson.loads(text)
                    op, args = req["op"], req["args"]
                    if not isinstance(args, list):
                        raise TypeError(args)
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    error(30016, "Param error")
                    continue
                if op not in ("subscribe", "unsubscribe"):
                    error(30003, "invalid op", str(op))
                    continue
                for arg in args:
                    arg = arg if isinstance(arg, dict) else {}
                    inst_type = str(arg.get("instType", "")).upper()
                    channel, inst_id = arg.get("channel"), arg.get("instId")
                    venue = INST_TYPE_VENUES.get(inst_type)
                    market = None if venue is None else sim.find_market(venue, inst_id)
                    if not isinstance(channel, str) or channel not in _BOOK_CHANNELS or market is None:
                        error(30001, f"instType:{arg.get('instType')},channel:{channel},instId:{inst_id} "
                                     "doesn't exist", op, arg)
                        continue
                    echo = {"instType": inst_type, "channel": channel, "instId": market.instrument.id}
                    key = f"{inst_type}:{channel}:{market.instrument.id}"
                    old = streams.pop(key, None)
                    if old is not None:       # unsubscribe; or a repeated subscribe starts over
                        old.market.unsubscribe(old)
                    conn.send_control({"event": op, "arg": echo})
                    if op == "subscribe":
                        streams[key] = BitgetBookStream(conn, market, inst_type)
                        streams[key].start()
        finally:
            for stream in streams.values():
                stream.market.unsubscribe(stream)
            await sim.close_connection(conn)
        return ws
    return handler
