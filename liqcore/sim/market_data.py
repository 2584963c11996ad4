"""Market data besides books in the simulator: trades, mark/index price and funding, liquidations,
open interest — one deterministic synthetic process per market, and the Binance / OKX streams
and REST endpoints ccxt.pro uses for them.

The process (:class:`MarketDataProcess`) follows its market's true book: it subscribes to the
:class:`~liqcore.sim.market.Market` and, every tick, draws from its own generator (seeded by
``seed``, venue and instrument, so the same seed gives the same trades, prices and sizes, whoever
listens):

* **trades**: 0-2 taker orders per tick; a buy fills at the best ask, then maybe the next ask
  level, a sell at the best bid(s) — each fill (one price level) is at most that level's size and
  is one aggregate trade (Binance ``aggTrade`` ``a``, OKX ``tradeId``) made of 1-3 raw trades
  (Binance ``trade`` ``t``), ids contiguous. The book is not changed by trades (the synthetic
  book process moves on its own);
* **index / mark / funding** (contracts only): index = mid x (1 + small noise), premium an AR(1)
  process, mark = index x (1 + premium) on the tick grid; funding rate = average premium +
  clamp(0.01 % - average premium, +-0.05 %), capped at +-0.75 % (Binance's formula with a
  constant interest rate; Binance writes 8 decimals, OKX and Bybit the tick's decimals and the
  shortest rate); next funding at the next 8 h boundary (UTC);
* **liquidations** (contracts only): sometimes a forced order — a long liquidated by a sell just
  below the best bid, a short by a buy just above the best ask;
* **open interest** (contracts only): moves with each fill (opening or closing), never below zero.

Everything published is kept (bounded) in ``trades``, ``raw_trades``, ``marks``,
``liquidations``, ``open_interest`` for tests to compare with what a client received.

Streams (subscribers of the process; the connection's fault plan applies to them as to books):

* Binance spot and USDⓈ-M websocket: ``<sym>@trade``, ``<sym>@aggTrade``,
  ``<sym>@markPrice[@1s]`` (USDⓈ-M: every 3 s / 1 s = 30 / 10 ticks), ``<sym>@forceOrder``
  (USDⓈ-M) and ``!forceOrder@arr``;
  REST ``/api/v3/trades``, ``/api/v3/aggTrades``, ``/fapi/v1/trades``, ``/fapi/v1/aggTrades``
  (``fromId``, ``startTime``/``endTime``, ``limit``), ``/fapi/v1/premiumIndex``,
  ``/fapi/v1/fundingRate`` (settled history), ``/fapi/v1/openInterest``;
* OKX websocket channels ``trades``, ``funding-rate`` (every 10 ticks), ``mark-price`` (every
  2 ticks), ``liquidation-orders`` (per ``instType``: every liquidation of the SWAP / FUTURES
  markets as it happens, order ``side`` and position ``posSide``, ``sz`` in contracts); REST ``/api/v5/market/trades``, ``public/funding-rate``, ``public/open-interest``,
  ``public/mark-price``;
* Bybit (spot ``bybit``, USDT perpetuals ``bybitlinear``): ``publicTrade``, ``tickers``,
  ``allLiquidation`` / ``liquidation`` and their REST endpoints live in
  :mod:`liqcore.sim.bybit_protocol` (they read these processes).
"""

from __future__ import annotations

import random
import re
import time
from collections import deque
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, Iterable

from aiohttp import web

from liqcore.sim.connection import SimConnection
from liqcore.sim.market import Market, Update
from liqcore.sim.rest import binance_error, binance_json, binance_symbol, binance_uint, okx_error, okx_ok, okx_uint

if TYPE_CHECKING:
    from liqcore.sim.server import ExchangeSimulator

__all__ = ["MarketDataProcess", "SimTrade", "SimMark", "SimLiquidation", "attach_processes", "liquidation_source",
           "binance_md_stream", "okx_md_stream", "okx_liquidation_stream", "OkxLiquidationStream",
           "add_market_data_routes", "OKX_MD_CHANNELS", "OKX_LIQUIDATION_CHANNEL"]

HISTORY = 20_000
FUNDING_INTERVAL_MS = 8 * 3_600_000
_E8 = Decimal("0.00000001")


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class SimTrade:
    """One published aggregate trade (one taker order at one price level); wire strings.

    ``first_id``..``last_id`` are the raw trade ids it aggregates (Binance ``f``/``l``), with
    ``raw_sizes`` their sizes. ``buyer_maker`` is True for a sell taker.
    """

    agg_id: int
    first_id: int
    last_id: int
    price: str
    size: str
    raw_sizes: tuple[str, ...]
    ts_ms: int
    side: str

    @property
    def buyer_maker(self) -> bool:
        return self.side == "sell"


@dataclass(frozen=True)
class SimMark:
    """Index, mark and funding of one tick (contracts), wire strings except the times."""

    ts_ms: int
    index: str
    mark: str
    funding_rate: str
    next_funding_ms: int
    premium: str


@dataclass(frozen=True)
class SimLiquidation:
    """One forced order: ``side`` is the order's (``"sell"`` liquidates a long)."""

    ts_ms: int
    side: str
    price: str
    avg_price: str
    size: str


class MarketDataProcess:
    """Trades, marks, liquidations and open interest of one market (a market subscriber)."""

    def __init__(self, market: Market, seed: int = 0) -> None:
        self.market = market
        inst = market.instrument
        self.instrument = inst
        self.contract = inst.kind != "spot"
        self._rng = random.Random(f"md:{seed}:{inst.venue}:{inst.id}")
        self.subscribers: list[Any] = []
        self.trades: deque[SimTrade] = deque(maxlen=HISTORY)
        self.marks: deque[SimMark] = deque(maxlen=HISTORY)
        self.liquidations: deque[SimLiquidation] = deque(maxlen=HISTORY)
        #: (ts_ms, contracts string) after every tick that changed it
        self.open_interest: deque[tuple[int, str]] = deque(maxlen=HISTORY)
        #: settled funding (fundingTime ms, rate string, mark string), as /fapi/v1/fundingRate lists
        self.funding_history: deque[tuple[int, str, str]] = deque(maxlen=1000)
        self._agg_id = self._rng.randint(10**8, 10**9)
        self._raw_id = self._agg_id * 3
        self._premium = 0.0
        self._premiums: deque[float] = deque(maxlen=10)
        self._oi_lots = self._rng.randint(50_000, 150_000)
        self._last_funding_time: int | None = None
        #: traded base size and quote turnover since the start, and the last trade price (tickers)
        self.volume = Decimal(0)
        self.turnover = Decimal(0)
        self.last_price: str | None = None
        self.ticks = 0
        market.subscribe(self)

    # ----------------------------------------------------------------- helpers
    def subscribe(self, sub: Any) -> None:
        self.subscribers.append(sub)

    def unsubscribe(self, sub: Any) -> None:
        if sub in self.subscribers:
            self.subscribers.remove(sub)

    def _lots(self, level_size: Decimal, cap: float = 1.0) -> Decimal:
        lot = self.instrument.lot
        max_lots = max(1, int(level_size / lot * Decimal(cap)))
        return lot * self._rng.randint(1, max_lots)

    def _price_text(self, x: Decimal) -> str:
        """A price on the tick grid, as the venue writes it."""
        tick = self.instrument.tick
        return self.instrument.price_text((x / tick).to_integral_value(ROUND_HALF_EVEN) * tick)

    def _rate_text(self, x: float) -> str:
        d = Decimal(repr(x)).quantize(_E8, ROUND_HALF_EVEN)
        if not self.instrument.venue.startswith("binance"):       # OKX, Bybit: shortest form
            s = f"{d.normalize():f}"
            return "0" if s in ("-0", "0") else s
        return f"{d:.8f}"

    @property
    def oi_text(self) -> str:
        return self.instrument.size_text(self.instrument.lot * self._oi_lots)

    @property
    def last_mark(self) -> SimMark | None:
        return self.marks[-1] if self.marks else None

    # -------------------------------------------------------------------- tick
    def on_tick(self, update: Update | None, tick: int) -> None:
        self.ticks += 1
        book = self.market.book
        bid, ask = book.price(0), book.price(1)
        if bid is None or ask is None:
            return
        now = update.ts_ms if update is not None else _now_ms()
        rng = self._rng
        fills: list[SimTrade] = []
        for _ in range(rng.choice((0, 1, 1, 2))):
            side = "buy" if rng.random() < 0.5 else "sell"
            book_side = 1 if side == "buy" else 0
            for level in range(rng.choice((1, 1, 1, 2))):
                lv = book.top(book_side, level + 1)
                if len(lv) <= level:
                    break
                price, level_size = lv[level][0], Decimal(lv[level][1])
                size = self._lots(level_size)
                k = rng.randint(1, 3) if size >= self.instrument.lot * 3 else 1
                raw = self._split(size, k)
                self._agg_id += 1
                first = self._raw_id + 1
                self._raw_id += len(raw)
                t = SimTrade(self._agg_id, first, self._raw_id, price, self.instrument.size_text(size),
                             tuple(self.instrument.size_text(r) for r in raw), now, side)
                fills.append(t)
                self.trades.append(t)
                self.volume += size
                self.turnover += size * Decimal(price)
                self.last_price = price
                if self.contract:
                    lots = int(size / self.instrument.lot)
                    self._oi_lots = max(0, self._oi_lots + (lots if rng.random() < 0.5 else -lots))
        liq = None
        if self.contract:
            mid = (Decimal(bid) + Decimal(ask)) / 2
            self._mark_tick(mid, now)
            if rng.random() < 0.08:
                liq = self._liquidation(Decimal(bid), Decimal(ask), now)
            if fills:
                self.open_interest.append((now, self.oi_text))
            elif not self.open_interest:
                self.open_interest.append((now, self.oi_text))
        for sub in list(self.subscribers):
            sub.on_md(fills, liq, tick)

    def _split(self, size: Decimal, k: int) -> list[Decimal]:
        lot = self.instrument.lot
        lots = int(size / lot)
        if k <= 1 or lots < k:
            return [size]
        cuts = sorted(self._rng.sample(range(1, lots), k - 1))
        parts = [b - a for a, b in zip([0] + cuts, cuts + [lots])]
        return [lot * p for p in parts]

    def _mark_tick(self, mid: Decimal, now: int) -> None:
        rng = self._rng
        index = mid * (1 + Decimal(repr(round(rng.gauss(0.0, 0.00005), 8))))
        self._premium = 0.9 * self._premium + rng.gauss(0.0, 0.0004)
        self._premiums.append(self._premium)
        avg = sum(self._premiums) / len(self._premiums)
        rate = max(-0.0075, min(0.0075, avg + max(-0.0005, min(0.0005, 0.0001 - avg))))
        mark = index * (1 + Decimal(repr(round(self._premium, 8))))
        next_funding = (now // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS
        binance_style = self.instrument.venue.startswith("binance")   # OKX, Bybit: the tick's decimals
        index_text = f"{index.quantize(_E8, ROUND_HALF_EVEN):.8f}" if binance_style else self._price_text(index)
        mark_text = self._price_text(mark)
        if binance_style:
            mark_text = f"{Decimal(mark_text):.8f}"
        m = SimMark(now, index_text, mark_text, self._rate_text(rate), next_funding, self._rate_text(self._premium))
        if self._last_funding_time is None:
            prev = next_funding - FUNDING_INTERVAL_MS
            self.funding_history.extend((prev - i * FUNDING_INTERVAL_MS, m.funding_rate, m.mark) for i in range(3, 0, -1))
        self._last_funding_time = next_funding - FUNDING_INTERVAL_MS
        self.marks.append(m)

    def _liquidation(self, bid: Decimal, ask: Decimal, now: int) -> SimLiquidation:
        rng = self._rng
        side = "sell" if rng.random() < 0.5 else "buy"
        tick = self.instrument.tick
        steps = rng.randint(0, 5)
        if side == "sell":
            avg = bid - tick * steps
            limit = avg * Decimal("0.99")
        else:
            avg = ask + tick * steps
            limit = avg * Decimal("1.01")
        size = self.instrument.lot * rng.randint(1, max(1, int(Decimal(1) / self.instrument.lot)))
        liq = SimLiquidation(now, side, self._price_text(limit), self._price_text(avg), self.instrument.size_text(size))
        self.liquidations.append(liq)
        return liq

    # ---------------------------------------------------------------- queries
    def trades_since(self, *, from_id: int | None = None, start_ms: int | None = None, end_ms: int | None = None,
                     limit: int = 500) -> list[SimTrade]:
        """Aggregate trades, oldest first, as Binance's aggTrades selects them."""
        ts = list(self.trades)
        if from_id is not None:
            ts = [t for t in ts if t.agg_id >= from_id]
            return ts[:limit]
        if start_ms is not None or end_ms is not None:
            ts = [t for t in ts if (start_ms is None or t.ts_ms >= start_ms) and (end_ms is None or t.ts_ms <= end_ms)]
            return ts[:limit]
        return ts[-limit:]

    def raw_trades(self) -> list[tuple[int, str, str, int, bool]]:
        """Every raw trade (id, price, size, ts_ms, buyer_maker), oldest first."""
        out = []
        for t in self.trades:
            for i, sz in enumerate(t.raw_sizes):
                out.append((t.first_id + i, t.price, sz, t.ts_ms, t.buyer_maker))
        return out


def attach_processes(markets: Iterable[Market], seed: int) -> dict[tuple[str, str], MarketDataProcess]:
    """One process per market (subscribed to it), keyed (venue, instrument id)."""
    return {(m.venue, m.instrument.id): MarketDataProcess(m, seed) for m in markets}


def liquidation_source(processes: list[MarketDataProcess], liq: SimLiquidation) -> MarketDataProcess:
    """The process (market) that just published ``liq``, for streams that follow several markets
    (``on_md`` does not say who calls): the one whose newest liquidation it is."""
    for proc in processes:
        if proc.liquidations and proc.liquidations[-1] is liq:
            return proc
    raise LookupError(f"no market of this stream published {liq!r}")


# ============================================================================ Binance
_BINANCE_MD = re.compile(r"([a-z0-9_\-]+)@(trade|aggTrade|markPrice|forceOrder)(@1s)?")


class _BinanceStream:
    def __init__(self, conn: SimConnection, process: MarketDataProcess | None, name: str, kind: str,
                 combined: list[bool], every: int = 1, processes: list[MarketDataProcess] | None = None) -> None:
        self.conn, self.name, self.kind, self.combined, self.every = conn, name, kind, combined, every
        self.process = process
        self.processes = processes or ([process] if process is not None else [])
        self.futures = bool(self.processes) and self.processes[0].market.venue == "binanceusdm"
        self._ticks = 0
        for p in self.processes:
            p.subscribe(self)

    @property
    def market(self) -> "_BinanceStream":
        return self     # the protocol unsubscribes with stream.market.unsubscribe(stream)

    def unsubscribe(self, _stream: Any) -> None:
        for p in self.processes:
            p.unsubscribe(self)

    def _send(self, ev: dict[str, Any]) -> None:
        self.conn.send_data(self.name, {"stream": self.name, "data": ev} if self.combined[0] else ev)

    def on_md(self, fills: list[SimTrade], liq: SimLiquidation | None, tick: int) -> None:
        if self.kind == "forceOrder":
            if liq is not None:
                self._send_liq(liq)
            return
        p = self.process
        assert p is not None
        sym = p.instrument.id
        if self.kind == "aggTrade":
            for t in fills:
                ev: dict[str, Any] = {"e": "aggTrade", "E": t.ts_ms + 1, "s": sym, "a": t.agg_id, "p": t.price,
                                      "q": t.size, "f": t.first_id, "l": t.last_id, "T": t.ts_ms,
                                      "m": t.buyer_maker}
                if not self.futures:
                    ev["M"] = True
                self._send(ev)
        elif self.kind == "trade":
            for t in fills:
                for i, sz in enumerate(t.raw_sizes):
                    ev = {"e": "trade", "E": t.ts_ms + 1, "s": sym, "t": t.first_id + i, "p": t.price, "q": sz,
                          "T": t.ts_ms, "m": t.buyer_maker}
                    if not self.futures:
                        ev["M"] = True
                    self._send(ev)
        elif self.kind == "markPrice":
            self._ticks += 1
            m = p.last_mark
            if m is not None and self._ticks % self.every == 0:
                self._send({"e": "markPriceUpdate", "E": m.ts_ms, "s": sym, "p": m.mark, "i": m.index,
                            "P": m.index, "r": m.funding_rate, "T": m.next_funding_ms})

    def _send_liq(self, liq: SimLiquidation) -> None:
        p = self.process or liquidation_source(self.processes, liq)
        self._send({"e": "forceOrder", "E": liq.ts_ms + 2, "o": {
            "s": p.instrument.id, "S": liq.side.upper(), "o": "LIMIT", "f": "IOC", "q": liq.size, "p": liq.price,
            "ap": liq.avg_price, "X": "FILLED", "l": liq.size, "z": liq.size, "T": liq.ts_ms}})


def binance_md_stream(sim: "ExchangeSimulator", conn: SimConnection, venue: str, name: str,
                      combined: list[bool]) -> _BinanceStream | None:
    """The market-data stream ``name`` (``btcusdt@aggTrade``...) on a Binance connection, or None
    (not a market-data stream, unknown symbol, or a stream the venue does not have)."""
    if name == "!forceOrder@arr":
        if venue != "binanceusdm":
            return None
        procs = [p for (v, _), p in sim.market_data.items() if v == venue]
        return _BinanceStream(conn, None, name, "forceOrder", combined, processes=procs)
    m = _BINANCE_MD.fullmatch(name)
    if m is None:
        return None
    proc = sim.market_data.get((venue, m.group(1).upper()))
    kind = m.group(2)
    if proc is None or (kind in ("markPrice", "forceOrder") and not proc.contract):
        return None
    every = 1
    if kind == "markPrice":
        every = 10 if m.group(3) else 30
    elif m.group(3):
        return None
    return _BinanceStream(conn, proc, name, kind, combined, every)


# ============================================================================== OKX
OKX_MD_CHANNELS = frozenset({"trades", "funding-rate", "mark-price"})


class _OkxStream:
    def __init__(self, conn: SimConnection, process: MarketDataProcess, channel: str) -> None:
        self.conn, self.process, self.channel = conn, process, channel
        self.arg = {"channel": channel, "instId": process.instrument.id}
        self.name = f"{channel}:{process.instrument.id}"
        self.every = {"trades": 1, "funding-rate": 10, "mark-price": 2}[channel]
        self._ticks = 0

    @property
    def market(self) -> "_OkxStream":
        return self

    def unsubscribe(self, _stream: Any) -> None:
        self.process.unsubscribe(self)

    def start(self) -> None:
        if self.channel != "trades" and self.process.last_mark is not None:
            self._push()
        self.process.subscribe(self)

    def _push(self) -> None:
        m = self.process.last_mark
        if m is None:
            return
        if self.channel == "mark-price":
            d = [okx_mark(self.process, m)]
        else:
            d = [okx_funding(self.process, m)]
        self.conn.send_data(self.name, {"arg": self.arg, "data": d})

    def on_md(self, fills: list[SimTrade], liq: SimLiquidation | None, tick: int) -> None:
        if self.channel == "trades":
            for t in fills:
                self.conn.send_data(self.name, {"arg": self.arg, "data": [okx_trade(self.process, t)]})
            return
        self._ticks += 1
        if self._ticks % self.every == 0:
            self._push()


def okx_trade(p: MarketDataProcess, t: SimTrade) -> dict[str, Any]:
    return {"instId": p.instrument.id, "tradeId": str(t.agg_id), "px": t.price, "sz": t.size, "side": t.side,
            "ts": str(t.ts_ms), "count": str(len(t.raw_sizes))}


def okx_mark(p: MarketDataProcess, m: SimMark) -> dict[str, Any]:
    return {"instType": "SWAP" if p.instrument.kind == "swap" else "FUTURES", "instId": p.instrument.id,
            "markPx": m.mark, "ts": str(m.ts_ms)}


def okx_funding(p: MarketDataProcess, m: SimMark) -> dict[str, Any]:
    return {"fundingRate": m.funding_rate, "fundingTime": str(m.next_funding_ms), "impactValue": "20000",
            "instId": p.instrument.id, "instType": "SWAP", "interestRate": "0.0001", "maxFundingRate": "0.0075",
            "method": "current_period", "minFundingRate": "-0.0075", "nextFundingRate": "",
            "nextFundingTime": str(m.next_funding_ms + FUNDING_INTERVAL_MS), "premium": m.premium,
            "settFundingRate": m.funding_rate, "settState": "settled", "ts": str(m.ts_ms)}


#: OKX's public liquidations channel, subscribed per instrument type (``instType``), not per instrument
OKX_LIQUIDATION_CHANNEL = "liquidation-orders"
#: the instrument types it takes; the simulator's OKX kinds map to SWAP and FUTURES (spot markets, and
#: so MARGIN, have no liquidations; OKX lists no options here)
OKX_LIQUIDATION_TYPES = {"SWAP": "swap", "FUTURES": "future", "MARGIN": "spot", "OPTION": "option"}


class OkxLiquidationStream:
    """``liquidation-orders`` of one ``instType`` on one connection: every liquidation of the
    venue's markets of that type, pushed as it happens — one message per liquidation, its
    instrument in ``data[0]``, the order in ``details[0]`` (``side`` the liquidation *order's* side,
    ``posSide`` the liquidated position's, ``sz`` in contracts, ``bkPx`` the order's price). OKX
    documents at most one order per contract per second on this channel; the simulator liquidates
    on 8 % of ticks and does not thin them out, so every liquidation it publishes is pushed."""

    def __init__(self, conn: SimConnection, processes: list[MarketDataProcess], inst_type: str) -> None:
        self.conn, self.processes = conn, processes
        self.arg = {"channel": OKX_LIQUIDATION_CHANNEL, "instType": inst_type}
        self.name = f"{OKX_LIQUIDATION_CHANNEL}:{inst_type}"

    @property
    def market(self) -> "OkxLiquidationStream":
        return self     # the protocol unsubscribes with stream.market.unsubscribe(stream)

    def start(self) -> None:
        for p in self.processes:
            p.subscribe(self)

    def unsubscribe(self, _stream: Any) -> None:
        for p in self.processes:
            p.unsubscribe(self)

    def on_md(self, fills: list[SimTrade], liq: SimLiquidation | None, tick: int) -> None:
        if liq is not None:
            p = liquidation_source(self.processes, liq)
            self.conn.send_data(self.name, {"arg": self.arg, "data": [okx_liquidation(p, liq)]})


def okx_liquidation(p: MarketDataProcess, liq: SimLiquidation) -> dict[str, Any]:
    """One ``liquidation-orders`` data entry (an instrument with one detail)."""
    inst = p.instrument
    family = f"{inst.base}-{inst.quote}"
    return {"instId": inst.id, "instFamily": family, "instType": "SWAP" if inst.kind == "swap" else "FUTURES",
            "uly": family, "details": [{
                "bkLoss": "0", "bkPx": liq.price, "ccy": "", "posSide": "long" if liq.side == "sell" else "short",
                "side": liq.side, "sz": liq.size, "ts": str(liq.ts_ms)}]}


def okx_liquidation_stream(sim: "ExchangeSimulator", conn: SimConnection,
                           inst_type: Any) -> OkxLiquidationStream | None:
    """The ``liquidation-orders`` channel of ``inst_type`` (None: not an OKX instrument type)."""
    kind = OKX_LIQUIDATION_TYPES.get(inst_type) if isinstance(inst_type, str) else None
    if kind is None:
        return None
    procs = [p for (v, _), p in sim.market_data.items() if v == "okx" and p.instrument.kind == kind]
    return OkxLiquidationStream(conn, procs, inst_type)


def okx_md_stream(sim: "ExchangeSimulator", conn: SimConnection, channel: str, inst_id: str | None) -> _OkxStream | None:
    """The OKX market-data channel for ``inst_id`` or None (unknown instrument; funding-rate and
    mark-price exist for contracts only)."""
    proc = sim.market_data.get(("okx", inst_id or ""))
    if proc is None or channel not in OKX_MD_CHANNELS:
        return None
    if channel == "funding-rate" and proc.instrument.kind != "swap":
        return None
    if channel == "mark-price" and not proc.contract:
        return None
    return _OkxStream(conn, proc, channel)


# ============================================================================= REST
def add_market_data_routes(app: web.Application, sim: "ExchangeSimulator") -> None:
    """Register the Binance and OKX market-data REST endpoints on ``app`` (malformed parameters
    are refused the venue's way, :mod:`liqcore.sim.rest`)."""

    def bn_proc(request: web.Request, venue: str, contract: bool = False) -> MarketDataProcess | web.Response:
        proc = sim.market_data.get((venue, binance_symbol(request)))
        if proc is None or (contract and not proc.contract):
            return binance_error(-1121, "Invalid symbol.")
        return proc

    def bn_optional(request: web.Request, name: str) -> int | None:
        """An optional integer parameter: None when absent or empty."""
        return binance_uint(request, name, 0) if request.query.get(name) else None

    def agg_trades(venue: str):
        async def handler(request: web.Request) -> web.Response:
            proc = bn_proc(request, venue)
            if isinstance(proc, web.Response):
                return proc
            limit = max(1, min(binance_uint(request, "limit", 0) or 500, 1000))
            ts = proc.trades_since(from_id=bn_optional(request, "fromId"), start_ms=bn_optional(request, "startTime"),
                                   end_ms=bn_optional(request, "endTime"), limit=limit)
            out = []
            for t in ts:
                row: dict[str, Any] = {"a": t.agg_id, "p": t.price, "q": t.size, "f": t.first_id, "l": t.last_id,
                                       "T": t.ts_ms, "m": t.buyer_maker}
                if venue == "binance":
                    row["M"] = True
                out.append(row)
            return binance_json(out)
        return handler

    def raw_trades(venue: str):
        async def handler(request: web.Request) -> web.Response:
            proc = bn_proc(request, venue)
            if isinstance(proc, web.Response):
                return proc
            limit = max(1, min(binance_uint(request, "limit", 0) or 500, 1000))
            out = []
            for tid, px, sz, ts, bm in proc.raw_trades()[-limit:]:
                row: dict[str, Any] = {"id": tid, "price": px, "qty": sz,
                                       "quoteQty": f"{Decimal(px) * Decimal(sz):f}", "time": ts, "isBuyerMaker": bm}
                if venue == "binance":
                    row["isBestMatch"] = True
                out.append(row)
            return binance_json(out)
        return handler

    def premium_row(proc: MarketDataProcess) -> dict[str, Any] | None:
        m = proc.last_mark
        if m is None:
            return None
        return {"symbol": proc.instrument.id, "markPrice": m.mark, "indexPrice": m.index,
                "estimatedSettlePrice": m.index, "lastFundingRate": m.funding_rate, "interestRate": "0.00010000",
                "nextFundingTime": m.next_funding_ms, "time": m.ts_ms}

    async def premium_index(request: web.Request) -> web.Response:
        if "symbol" not in request.query:
            rows = [premium_row(p) for (v, _), p in sim.market_data.items() if v == "binanceusdm"]
            return binance_json([r for r in rows if r is not None])
        proc = bn_proc(request, "binanceusdm", contract=True)
        if isinstance(proc, web.Response):
            return proc
        row = premium_row(proc)
        if row is None:
            return binance_error(-1121, "Invalid symbol.")
        return binance_json(row)

    async def funding_rate(request: web.Request) -> web.Response:
        proc = bn_proc(request, "binanceusdm", contract=True)
        if isinstance(proc, web.Response):
            return proc
        limit = max(1, min(binance_uint(request, "limit", 0) or 100, 1000))
        return binance_json([{"symbol": proc.instrument.id, "fundingTime": ft, "fundingRate": r, "markPrice": mk}
                             for ft, r, mk in list(proc.funding_history)[-limit:]])

    async def open_interest(request: web.Request) -> web.Response:
        proc = bn_proc(request, "binanceusdm", contract=True)
        if isinstance(proc, web.Response):
            return proc
        ts, oi = proc.open_interest[-1] if proc.open_interest else (_now_ms(), proc.oi_text)
        return binance_json({"openInterest": oi, "symbol": proc.instrument.id, "time": ts})

    r = app.router
    r.add_get("/api.binance.com/api/v3/aggTrades", agg_trades("binance"))
    r.add_get("/api.binance.com/api/v3/trades", raw_trades("binance"))
    r.add_get("/fapi.binance.com/fapi/v1/aggTrades", agg_trades("binanceusdm"))
    r.add_get("/fapi.binance.com/fapi/v1/trades", raw_trades("binanceusdm"))
    r.add_get("/fapi.binance.com/fapi/v1/premiumIndex", premium_index)
    r.add_get("/fapi.binance.com/fapi/v1/fundingRate", funding_rate)
    r.add_get("/fapi.binance.com/fapi/v1/openInterest", open_interest)

    # ---------------------------------------------------------------------- OKX
    def okx_proc(request: web.Request, contract: bool = False) -> MarketDataProcess | web.Response:
        inst_id = request.query.get("instId")
        if not inst_id:
            return okx_error("50014", "Parameter instId can not be empty")
        proc = sim.market_data.get(("okx", inst_id))
        if proc is None or (contract and not proc.contract):
            return okx_error("51001", "Instrument ID does not exist")
        return proc

    async def okx_trades(request: web.Request) -> web.Response:
        proc = okx_proc(request)
        if isinstance(proc, web.Response):
            return proc
        limit = max(1, min(okx_uint(request, "limit", 0) or 100, 500))
        return okx_ok([{**okx_trade(proc, t), "source": "0"} for t in reversed(list(proc.trades)[-limit:])])

    async def okx_funding_rate(request: web.Request) -> web.Response:
        proc = okx_proc(request, contract=True)
        if isinstance(proc, web.Response):
            return proc
        m = proc.last_mark
        return okx_ok([] if m is None else [okx_funding(proc, m)])

    async def okx_open_interest(request: web.Request) -> web.Response:
        proc = okx_proc(request, contract=True)
        if isinstance(proc, web.Response):
            return proc
        ts, oi = proc.open_interest[-1] if proc.open_interest else (_now_ms(), proc.oi_text)
        oi_ccy = Decimal(oi) * Decimal(proc.instrument.contract_size)
        m = proc.last_mark
        usd = oi_ccy * Decimal(m.mark) if m is not None else Decimal(0)
        return okx_ok([{"instType": "SWAP", "instId": proc.instrument.id, "oi": oi,
                         "oiCcy": f"{oi_ccy.normalize():f}", "oiUsd": f"{usd.quantize(Decimal('0.01')):f}",
                         "ts": str(ts)}])

    async def okx_mark_price(request: web.Request) -> web.Response:
        proc = okx_proc(request, contract=True)
        if isinstance(proc, web.Response):
            return proc
        m = proc.last_mark
        return okx_ok([] if m is None else [okx_mark(proc, m)])

    base = "/www.okx.com/api/v5"
    r.add_get(base + "/market/trades", okx_trades)
    r.add_get(base + "/public/funding-rate", okx_funding_rate)
    r.add_get(base + "/public/open-interest", okx_open_interest)
    r.add_get(base + "/public/mark-price", okx_mark_price)
