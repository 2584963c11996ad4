"""OKX v5 public market data, as ccxt.pro (and OKX's docs) use it for books.

Served under the real host names: REST ``/www.okx.com/api/v5/...`` (ccxt's
``https://{hostname}`` with hostname ``www.okx.com``), websocket
``/ws.okx.com/ws/v5/public`` (also ``/business`` and ``/private``, which carry nothing).

REST: ``public/instruments?instType=SPOT|SWAP|FUTURES|OPTION`` (ccxt's ``load_markets``
asks for all four), ``public/time``, ``market/books?instId&sz`` and
``system/status``; replies ``{"code": "0", "msg": "", "data": [...]}``, errors with OKX
codes (51000 parameter error, 51001 instrument does not exist).

Websocket: text ``ping`` -> ``pong`` (ccxt sends it every 18 s); ``{"op": "subscribe",
"args": [{"channel", "instId"}, ...]}`` answered per argument with ``{"event":
"subscribe", "arg", "connId"}``, then for ``books`` a snapshot (best 400 levels,
``prevSeqId = -1``) followed by updates with ``seqId``/``prevSeqId`` and the CRC32
``checksum`` of the best 25 levels; ``books5``/``bbo-tbt`` push the best 5/1 levels
(no ``action``) on each change. ``op: unsubscribe`` answered ``{"event": "unsubscribe"}``
(ccxt resyncs a gap by unsubscribe + subscribe). The tick-by-tick channels need a login
and get error 60011, unknown instruments 60018, invalid requests 60012. Market-data channels
(``trades``, ``funding-rate``, ``mark-price``, and ``liquidation-orders`` subscribed by
``instType``) are served by :mod:`liqcore.sim.market_data`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from liqcore.sim.connection import SimConnection
from liqcore.sim.instruments import Instrument
from liqcore.sim.market import Market, Update
from liqcore.sim.market_data import OKX_LIQUIDATION_CHANNEL, OKX_MD_CHANNELS, okx_liquidation_stream, okx_md_stream
from liqcore.sim.rest import okx_error, okx_ok, okx_uint

if TYPE_CHECKING:
    from liqcore.sim.server import ExchangeSimulator

__all__ = ["add_okx_routes", "OkxBookStream"]

_SNAPSHOT_DEPTH = {"books": 400, "books5": 5, "bbo-tbt": 1}
_LOGIN_CHANNELS = frozenset({"books-l2-tbt", "books50-l2-tbt"})
_INST_TYPES = {"spot": "SPOT", "swap": "SWAP", "future": "FUTURES"}


def _now_ms() -> int:
    return int(time.time() * 1000)


def _bad_checksum(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of an OKX book message with a wrong (still int32) checksum."""
    data = [dict(d) for d in obj["data"]]
    for d in data:
        if "checksum" in d:
            d["checksum"] = d["checksum"] ^ 0x5A5A
    return {**obj, "data": data}


class OkxBookStream:
    """One book channel of one instrument on one connection (a market subscriber)."""

    def __init__(self, conn: SimConnection, market: Market, channel: str) -> None:
        self.conn, self.market, self.channel = conn, market, channel
        self.arg = {"channel": channel, "instId": market.instrument.id}
        self.name = f"{channel}:{market.instrument.id}"

    def start(self) -> None:
        """Send the first message (a snapshot) and start following the market."""
        self._send_full(action="snapshot" if self.channel == "books" else None)
        self.market.subscribe(self)

    def _send_full(self, action: str | None) -> None:
        m = self.market
        snap = m.snapshot(_SNAPSHOT_DEPTH[self.channel], fields=4)
        d: dict[str, Any] = {"asks": snap["asks"], "bids": snap["bids"]}
        if action is None:
            d["instId"] = m.instrument.id
        d["ts"] = str(_now_ms())
        if action is not None:
            d["checksum"] = m.wire_checksum()
            d["prevSeqId"] = -1
        d["seqId"] = m.last_id
        msg: dict[str, Any] = {"arg": self.arg}
        if action is not None:
            msg["action"] = action
        msg["data"] = [d]
        self.conn.send_data(self.name, msg, _bad_checksum)

    def on_tick(self, update: Update | None, tick: int) -> None:
        if update is None:
            return
        if self.channel != "books":
            self._send_full(action=None)
            return
        d = {"asks": [list(lv) for lv in update.asks], "bids": [list(lv) for lv in update.bids],
             "ts": str(update.ts_ms), "checksum": update.checksum,
             "prevSeqId": update.ids["prevSeqId"], "seqId": update.ids["seqId"]}
        self.conn.send_data(self.name, {"arg": self.arg, "action": "update", "data": [d]}, _bad_checksum)


def _instrument_info(inst: Instrument) -> dict[str, Any]:
    spot = inst.kind == "spot"
    uly = "" if spot else f"{inst.base}-{inst.quote}"
    info = {
        "alias": "", "auctionEndTime": "", "baseCcy": inst.base if spot else "", "category": "1",
        "ctMult": "" if spot else "1", "ctType": "" if spot else ("linear" if inst.settle == inst.quote else "inverse"),
        "ctVal": "" if spot else inst.contract_size, "ctValCcy": "" if spot else (
            inst.base if inst.settle == inst.quote else inst.quote),
        "expTime": "" if inst.expiry_ms is None else str(inst.expiry_ms), "instFamily": uly,
        "instId": inst.id, "instType": _INST_TYPES[inst.kind], "lever": "10" if spot else "100",
        "listTime": "1548133413000", "lotSz": inst.lot_size, "maxIcebergSz": "9999999999.0000000000000000",
        "maxLmtAmt": "20000000", "maxLmtSz": "9999999999", "maxMktAmt": "1000000", "maxMktSz": "1000000",
        "maxStopSz": "1000000", "maxTriggerSz": "9999999999", "maxTwapSz": "9999999999",
        "minSz": inst.lot_size, "optType": "", "quoteCcy": inst.quote if spot else "", "ruleType": "normal",
        "settleCcy": "" if spot else (inst.settle or ""), "state": "live", "stk": "", "tickSz": inst.tick_size,
        "uly": uly,
    }
    if inst.kind == "future":
        info["alias"] = "next_quarter"
    return info


def add_okx_routes(app: web.Application, sim: "ExchangeSimulator") -> None:
    """Register OKX REST and websocket routes on ``app``."""
    base = "/www.okx.com/api/v5"

    async def instruments(request: web.Request) -> web.Response:
        inst_type = request.query.get("instType")
        if inst_type not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
            return okx_error("51000", "Parameter instType error")
        wanted = request.query.get("instId")
        out = [_instrument_info(i) for i in sim.instruments("okx")
               if _INST_TYPES[i.kind] == inst_type and (wanted is None or wanted == i.id)]
        return okx_ok(out)

    async def server_time(request: web.Request) -> web.Response:
        return okx_ok([{"ts": str(_now_ms())}])

    async def status(request: web.Request) -> web.Response:
        return okx_ok([])

    async def books(request: web.Request) -> web.Response:
        inst_id = request.query.get("instId")
        if not inst_id:
            return okx_error("50014", "Parameter instId can not be empty")
        market = sim.find_market("okx", inst_id)
        if market is None:
            return okx_error("51001", "Instrument ID does not exist")
        sz = min(okx_uint(request, "sz", 1), 400)
        snap = market.snapshot(max(sz, 1), fields=4)
        return okx_ok([{"asks": snap["asks"], "bids": snap["bids"], "ts": str(_now_ms())}])

    r = app.router
    r.add_get(base + "/public/instruments", instruments)
    r.add_get(base + "/public/time", server_time)
    r.add_get(base + "/system/status", status)
    r.add_get(base + "/market/books", books)
    for path in ("public", "business", "private"):
        r.add_get(f"/ws.okx.com/ws/v5/{path}", _ws_handler(sim, public=path == "public"))


def _valid_arg(arg: Any) -> bool:
    """An ``args`` entry OKX takes: an object with a string ``channel`` and string ``instId`` /
    ``instType`` when present (anything else is answered 60012)."""
    return isinstance(arg, dict) and isinstance(arg.get("channel"), str) and \
        all(isinstance(arg.get(k, ""), str) for k in ("instId", "instType"))


def _ws_handler(sim: "ExchangeSimulator", public: bool):
    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=sim.compress, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = sim.open_connection("okx", ws, request)
        conn_id = f"{sim.seed & 0xffff:04x}{conn.ordinal:04x}"
        streams: dict[str, OkxBookStream] = {}

        def error(code: str, msg: str) -> None:
            conn.send_control({"event": "error", "msg": msg, "code": code, "connId": conn_id})

        try:
            async for text in conn.requests(text_ping=True):
                try:
                    req = orjson.loads(text)
                    op, args = req["op"], req["args"]
                    if op not in ("subscribe", "unsubscribe") or not isinstance(args, list) or \
                            not all(_valid_arg(arg) for arg in args):
                        raise ValueError(op)
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                    error("60012", f"Invalid request: {text}")
                    continue
                for arg in args:
                    channel, inst_id = arg["channel"], arg.get("instId")
                    # liquidation-orders is subscribed per instrument type, not per instrument
                    key = f"{channel}:{arg.get('instType') if channel == OKX_LIQUIDATION_CHANNEL else inst_id}"
                    if op == "unsubscribe":
                        stream = streams.pop(key, None)
                        if stream is not None:
                            stream.market.unsubscribe(stream)
                        conn.send_control({"event": "unsubscribe", "arg": arg, "connId": conn_id})
                        continue
                    if channel in _LOGIN_CHANNELS:
                        error("60011", "Please log in")
                        continue
                    market = sim.find_market("okx", inst_id) if public else None
                    md = okx_md_stream(sim, conn, channel, market.instrument.id) if (
                        market is not None and channel in OKX_MD_CHANNELS) else None
                    if channel == OKX_LIQUIDATION_CHANNEL and public:
                        md = okx_liquidation_stream(sim, conn, arg.get("instType"))  # type: ignore[assignment]
                    if md is not None:      # trades, funding-rate, mark-price, liquidation-orders (market_data)
                        conn.send_control({"event": "subscribe", "arg": arg, "connId": conn_id})
                        old_md = streams.pop(key, None)
                        if old_md is not None:
                            old_md.market.unsubscribe(old_md)
                        streams[key] = md  # type: ignore[assignment]
                        md.start()
                        continue
                    if channel not in _SNAPSHOT_DEPTH or market is None:
                        error("60018", f"Wrong URL or channel:{channel},instId:{inst_id} doesn't exist. Please use "
                                       "the correct URL, channel and parameters referring to API document.")
                        continue
                    conn.send_control({"event": "subscribe", "arg": arg, "connId": conn_id})
                    old = streams.pop(key, None)
                    if old is not None:       # a repeated subscribe starts over with a new snapshot
                        old.market.unsubscribe(old)
                    streams[key] = OkxBookStream(conn, market, channel)
                    streams[key].start()
        finally:
            for stream in streams.values():
                stream.market.unsubscribe(stream)
            await sim.close_connection(conn)
        return ws
    return handler
