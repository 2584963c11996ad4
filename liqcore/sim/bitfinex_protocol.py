"""Bitfinex v2 public books (REST and websocket), as ccxt.pro ``bitfinex`` (and Bitfinex's docs)
use them.

Served under the real host names: REST ``/api-pub.bitfinex.com/v2/...``, websocket
``/api-pub.bitfinex.com/ws/2``. The venue is ``"bitfinex"`` (spot pairs, ids ``tBTCUSD``).

REST (what ccxt's ``load_markets`` and ``fetch_order_book`` ask for): ``conf/{labels}`` with
comma-separated labels, answered with one value per label (``pub:info:pair`` lists the pairs
as ``["BTCUSD", [null, null, null, min size, max size, ...]]``, ``pub:list:pair:margin`` and
``pub:list:currency`` list ids, the other labels ccxt asks for are empty lists; an unknown label
is ``["error", 10020, "config: invalid"]``, HTTP 500), ``platform/status`` (``[1]``) and
``book/{symbol}/{P0|R0}?len=1|25|100`` (P0 ``[price, count, amount]``, bids then asks; R0
``[order id, price, amount]``, one order per level: the simulator keeps aggregated levels).

Websocket: on connect ``{"event": "info", "version": 2, "serverId", "platform": {"status": 1}}``;
``{"event": "ping", "cid"}`` -> ``{"event": "pong", "ts", "cid"}``; ``{"event": "conf", "flags"}``
-> ``{"event": "conf", "status": "OK", "flags"}`` (the flags replace the connection's: 131072
``OB_CHECKSUM`` and 65536 ``SEQ_ALL`` are honoured); ``{"event": "subscribe", "channel": "book",
"symbol": "tBTCUSD", "prec": "P0", "freq": "F0", "len": "25"}`` -> ``{"event": "subscribed",
"channel": "book", "chanId", "symbol", "prec", "freq", "len", "pair"}``, then on channel
``chanId`` a snapshot ``[chanId, [[price, count, amount], ...]]`` (the best ``len`` bids, then
the best ``len`` asks, ask amounts negative) and one frame per changed level ``[chanId, [price,
count, amount]]``: ``count > 0`` sets the level, ``count == 0`` deletes it (``amount`` is then
``1`` for a bid, ``-1`` for an ask). The channel keeps the client's book at exactly the best
``len`` levels: a level that leaves them (deleted, or pushed below by better ones) is deleted,
one that enters them is sent. With ``OB_CHECKSUM`` on, each update is followed by ``[chanId,
"cs", checksum]`` (:func:`~liqcore.sim.checksum.bitfinex_checksum`: CRC32 of the best 25 levels
as JavaScript writes the numbers, signed); a quiet channel sends ``[chanId, "hb"]`` every
:attr:`BitfinexBookStream.heartbeat_ticks` ticks (Bitfinex: 15 s). With ``SEQ_ALL`` on, every
channel frame ends with the connection's message sequence number. ``{"event": "unsubscribe",
"chanId"}`` -> ``{"event": "unsubscribed", "status": "OK", "chanId"}``.

Numbers are JSON numbers written as JavaScript writes them (``60000``, ``0.5``, ``1e-7``).
Errors ``{"event": "error", "msg", "code"}`` plus the request's fields: 10000 not JSON, 10001
unknown event, 10300 unknown symbol, 10301 already subscribed, 10302 unknown channel, 10011
precision other than P0 (P1-P4 and R0 books are not emulated), 10012 ``len`` not 1/25/100/250,
10400 unsubscribe of an unknown ``chanId``. ``freq`` F0 only (F1 is answered 10300).
"""

from __future__ import annotations

import itertools
import time
import uuid
import zlib
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable

import orjson
from aiohttp import web

from liqcore.sim.checksum import bitfinex_checksum, js_number
from liqcore.sim.connection import SimConnection
from liqcore.sim.instruments import Instrument
from liqcore.sim.market import Market, Update
from liqcore.sim.rest import bitfinex_error, bitfinex_uint
from liqcore.sim.true_book import Level
from liqcore.sim.window import BookWindow, window_of

if TYPE_CHECKING:
    from liqcore.sim.server import ExchangeSimulator

__all__ = ["add_bitfinex_routes", "BitfinexBookStream", "OB_CHECKSUM", "SEQ_ALL", "LENGTHS"]

#: ``conf`` flags (Bitfinex docs): checksum after every book update; sequence number on every frame
OB_CHECKSUM = 131072
SEQ_ALL = 65536
#: book lengths (levels per side) the ``book`` channel accepts
LENGTHS = (1, 25, 100, 250)
_CONF_EMPTY = frozenset({
    "pub:info:pair:futures", "pub:list:pair:securities", "pub:map:currency:sym", "pub:map:currency:unit",
    "pub:map:currency:undl", "pub:map:currency:pool", "pub:map:currency:explorer", "pub:map:currency:tx:fee",
    "pub:map:tx:method", "pub:info:tx:status", "pub:list:currency:margin",
})


def _num(text: str | Decimal) -> orjson.Fragment:
    """A JSON number written as JavaScript writes it."""
    return orjson.Fragment(js_number(text).encode())


def _count(size: str) -> int:
    """Orders at a level (Bitfinex P0 ``count``): the simulator keeps sizes only, so a stable
    stand-in from the size, 1..7 (0 only for a deleted level)."""
    return 1 + zlib.crc32(size.encode()) % 7


def _level(price: str, size: str, ask: bool) -> list[Any]:
    """One P0 level ``[price, count, amount]`` (``amount`` negative for asks; a zero size is
    the delete form ``count 0, amount ±1``)."""
    if Decimal(size) == 0:
        return [_num(price), 0, -1 if ask else 1]
    return [_num(price), _count(size), _num("-" + size if ask else size)]


def _book_levels(bids: Iterable[Level], asks: Iterable[Level]) -> list[list[Any]]:
    return [_level(p, s, False) for p, s in bids] + [_level(p, s, True) for p, s in asks]


def _bad_checksum(frame: list[Any]) -> list[Any]:
    """A ``cs`` frame with its checksum changed (still an int32); other frames as they are."""
    if len(frame) > 2 and frame[1] == "cs":
        return [frame[0], "cs", frame[2] ^ 0x5A5A, *frame[3:]]     # low bits only: stays an int32
    return frame


class _Channels:
    """A connection's Bitfinex state: ``conf`` flags, the ``SEQ_ALL`` counter, its channels."""

    def __init__(self, conn: SimConnection, sim: "ExchangeSimulator") -> None:
        self.conn, self.sim = conn, sim
        self.flags = 0
        self.seq = 0
        self.streams: dict[int, BitfinexBookStream] = {}

    def frame(self, body: list[Any]) -> list[Any]:
        """``body`` with the connection's next sequence number appended when ``SEQ_ALL`` is on."""
        if self.flags & SEQ_ALL:
            self.seq += 1
            body.append(self.seq)
        return body


class BitfinexBookStream:
    """One ``book`` subscription (P0, ``len`` levels) on one connection (a market subscriber)."""

    #: quiet ticks before a heartbeat (150 ticks of 100 ms: Bitfinex's 15 s)
    heartbeat_ticks = 150

    def __init__(self, channels: _Channels, chan_id: int, market: Market, length: int) -> None:
        self.channels, self.chan_id, self.market, self.length = channels, chan_id, market, length
        self.name = f"book:{market.instrument.id}"     # a resubscribe continues the fault cursor
        self.window: BookWindow = window_of(market, "bitfinex", length)
        self._quiet = 0

    def start(self) -> None:
        """Send the snapshot (the best ``len`` levels per side) and start following the market."""
        bids, asks, _ = self.window.snapshot()
        self._send([self.chan_id, _book_levels(bids, asks)])
        self.market.subscribe(self)

    def stop(self) -> None:
        self.market.unsubscribe(self)

    def _send(self, body: list[Any]) -> None:
        self.channels.conn.send_data(self.name, self.channels.frame(body), _bad_checksum)

    def on_tick(self, update: Update | None, tick: int) -> None:
        diff = None if update is None else self.window.catch_up()
        if diff is None:
            self._quiet += 1
            if self._quiet >= self.heartbeat_ticks:
                self._quiet = 0
                self.channels.conn.send_control(orjson.dumps(self.channels.frame([self.chan_id, "hb"])).decode())
            return
        self._quiet = 0
        bids, asks, _ = diff
        for price, size in bids:
            self._send([self.chan_id, _level(price, size, False)])
        for price, size in asks:
            self._send([self.chan_id, _level(price, size, True)])
        if self.channels.flags & OB_CHECKSUM:
            wb, wa, _ = self.window.snapshot()
            key = ("bitfinex", self.market.instrument.id)
            sent = self.channels.sim.checksums_sent
            sent[key] = sent.get(key, 0) + 1
            self._send([self.chan_id, "cs", bitfinex_checksum(wb, wa)])


def _pair(inst: Instrument) -> str:
    return inst.id[1:] if inst.id.startswith("t") else inst.id


def _pair_info(inst: Instrument) -> list[Any]:
    # [.., .., .., min order size, max order size, .., .., .., initial margin, min margin]
    return [_pair(inst), [None, None, None, inst.lot_size, "2000.0", None, None, None, 0.2, 0.1, None, None]]


def add_bitfinex_routes(app: web.Application, sim: "ExchangeSimulator") -> None:
    """Register Bitfinex REST and websocket routes on ``app``."""
    base = "/api-pub.bitfinex.com/v2"

    def find(symbol: Any) -> Market | None:
        if not isinstance(symbol, str) or not symbol:
            return None
        return sim.find_market("bitfinex", symbol) or sim.find_market("bitfinex", "t" + symbol)

    def conf_value(label: str) -> Any:
        insts = sim.instruments("bitfinex")
        if label == "pub:info:pair":
            return [_pair_info(i) for i in insts]
        if label in ("pub:list:pair:margin", "pub:list:pair:exchange"):
            return [_pair(i) for i in insts]
        if label == "pub:list:currency":
            return sorted({c for i in insts for c in (i.base, i.quote)})
        if label == "pub:map:currency:label":
            return [[c, c] for c in sorted({c for i in insts for c in (i.base, i.quote)})]
        if label in _CONF_EMPTY:
            return []
        raise KeyError(label)

    async def conf(request: web.Request) -> web.Response:
        try:
            out = [conf_value(label) for label in request.match_info["config"].split(",")]
        except KeyError:
            return bitfinex_error("config: invalid")
        return web.Response(body=orjson.dumps(out), content_type="application/json")

    async def platform_status(request: web.Request) -> web.Response:
        return web.Response(body=b"[1]", content_type="application/json")

    async def book(request: web.Request) -> web.Response:
        market = find(request.match_info["symbol"])
        if market is None:
            return bitfinex_error("symbol: invalid")
        prec = request.match_info["precision"]
        if prec not in ("P0", "R0"):
            return bitfinex_error("prec: invalid")
        length = bitfinex_uint(request, "len", 25)
        if length not in (1, 25, 100):
            return bitfinex_error("len: invalid")
        snap = market.snapshot(length)
        key = ("bitfinex", market.instrument.id)
        sim.snapshots_served[key] = sim.snapshots_served.get(key, 0) + 1
        if prec == "P0":
            levels = _book_levels(snap["bids"], snap["asks"])
        else:
            levels = [[n + 1, _num(p), _num(("-" if side else "") + s)]
                      for side in (0, 1) for n, (p, s) in enumerate(snap["asks" if side else "bids"])]
        return web.Response(body=orjson.dumps(levels), content_type="application/json")

    r = app.router
    r.add_get(base + "/conf/{config}", conf)
    r.add_get(base + "/platform/status", platform_status)
    r.add_get(base + "/book/{symbol}/{precision}", book)
    r.add_get("/api-pub.bitfinex.com/ws/2", _ws_handler(sim, find))


def _ws_handler(sim: "ExchangeSimulator", find: Any):
    chan_ids = itertools.count(17000)      # channel ids, unique across the simulator's connections

    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=sim.compress, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = sim.open_connection("bitfinex", ws, request)
        channels = _Channels(conn, sim)
        conn.send_control({"event": "info", "version": 2, "serverId": str(uuid.UUID(int=conn.ordinal + 1)),
                           "platform": {"status": 1}})

        def error(code: int, msg: str, req: dict[str, Any] | None = None) -> None:
            out: dict[str, Any] = {"event": "error", "msg": msg, "code": code}
            for k, v in (req or {}).items():
                if k != "event":
                    out[k] = v
            conn.send_control(out)

        def subscribe(req: dict[str, Any]) -> None:
            if req.get("channel") != "book":
                return error(10302, f"channel: unknown ({req.get('channel')})", req)
            market = find(req.get("symbol"))
            if market is None:
                return error(10300, "symbol: invalid", req)
            prec, freq = str(req.get("prec", "P0")), str(req.get("freq", "F0"))
            if prec != "P0":
                return error(10011, f"prec: {prec} is not emulated by liqcore.sim (P0 only)", req)
            if freq != "F0":
                return error(10300, f"freq: {freq} is not emulated by liqcore.sim (F0 only)", req)
            try:
                length = int(req.get("len", 25))
            except (TypeError, ValueError):
                length = 0
            if length not in LENGTHS:
                return error(10012, "len: invalid", req)
            inst = market.instrument
            if any(s.market is market for s in channels.streams.values()):
                return error(10301, "subscribe: dup", req)
            chan_id = next(chan_ids)
            conn.send_control({"event": "subscribed", "channel": "book", "chanId": chan_id, "symbol": inst.id,
                               "prec": prec, "freq": freq, "len": str(length), "pair": _pair(inst)})
            stream = channels.streams[chan_id] = BitfinexBookStream(channels, chan_id, market, length)
            stream.start()

        try:
            async for text in conn.requests():
                try:
                    req = orjson.loads(text)
                    if not isinstance(req, dict):
                        raise TypeError(req)
                except (orjson.JSONDecodeError, TypeError):
                    error(10000, "request: not a JSON object")
                    continue
                event = req.get("event")
                if event == "ping":
                    pong: dict[str, Any] = {"event": "pong", "ts": int(time.time() * 1000)}
                    if "cid" in req:
                        pong["cid"] = req["cid"]
                    conn.send_control(pong)
                elif event == "conf":
                    flags = req.get("flags")
                    if not isinstance(flags, int) or isinstance(flags, bool) or flags < 0:
                        error(10305, "conf: invalid flags", req)
                        continue
                    channels.flags = flags
                    conn.send_control({"event": "conf", "status": "OK", "flags": flags})
                elif event == "subscribe":
                    subscribe(req)
                elif event == "unsubscribe":
                    chan_id = req.get("chanId")
                    stream = channels.streams.pop(chan_id, None) if isinstance(chan_id, int) else None
                    if stream is None:
                        error(10400, "unsubscribe: invalid", req)
                        continue
                    stream.stop()
                    conn.send_control({"event": "unsubscribed", "status": "OK", "chanId": stream.chan_id})
                else:
                    error(10001, f"event: unknown ({event})", req)
        finally:
            for stream in channels.streams.values():
                stream.stop()
            await sim.close_connection(conn)
        return ws
    return handler
