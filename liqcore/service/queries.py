"""The service's operations as plain async functions over a :class:`~liqcore.service.hub.BookHub`
(and a :class:`~liqcore.store.Store` for history and alerts), returning the models of
:mod:`liqcore.service.models`. The HTTP API, the websocket and the agent tools all call these.

Each function subscribes the books it needs on demand (the first call for a pair waits until its
book is live). Errors: :class:`~liqcore.errors.FeedConfigError` (a ValueError) for an unknown
venue or symbol, :class:`~liqcore.errors.FeedError` when a book is not live or its venue cannot
be reached, :class:`~liqcore.errors.RiskInputError` / :class:`~liqcore.store.StoreInputError`
for bad risk or history input; nothing is changed by a failed call. Costs are those of the book
reads named in each docstring (the compiled core's, microseconds for a few hundred levels).
"""

from __future__ import annotations

import asyncio
import math
import time
from decimal import Decimal
from typing import Any, Literal, Mapping

import numpy as np

from liqcore._book import OrderBook
from liqcore.errors import FeedConfigError, InvalidDeltaError
from liqcore.service.hub import BookHub
from liqcore.service.models import (ArbitrageRoute, BookSnapshot, ClusterModel, CompareRequest, CompareResponse,
                                    HealthResponse, HistoryResponse, ImpactRequest, ImpactResponse, Level,
                                    LiquidityReportResponse, MetricsResponse, PairStateModel, RiskRequest,
                                    RiskResponse, AlertsResponse, VenueRow, VenuesResponse, WallModel,
                                    WallsResponse)
from liqcore.service.symbols import USD_FAMILY, parse_instrument, venue_symbol

__all__ = ["compare_exchanges", "market_impact", "book_snapshot", "liquidity_report", "walls", "venues",
           "position_risk", "history", "alerts", "health", "metrics", "report_of", "finite", "MAX_ROWS"]

#: most rows a history or alerts query returns (the newest)
MAX_ROWS = 10_000


def finite(x: Any) -> float | None:
    """``x`` as a float, None when it is None, NaN or infinite (JSON has neither)."""
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _pct_of_bps(x: float) -> float | None:
    f = finite(x)
    return None if f is None else f / 100.0


# ------------------------------------------------------------------ compare-exchanges
async def compare_exchanges(hub: BookHub, request: CompareRequest) -> CompareResponse:
    """Compare ``request.symbol`` across ``request.exchanges`` (live books, subscribed as needed),
    with :func:`liqcore.venues.compare_books` (taker fees from each venue's markets). A venue
    whose book cannot be had is listed in ``failures``, the others are compared. O(venues² +
    levels walked)."""
    from liqcore.venues import compare_books
    inst = str(parse_instrument(request.symbol))
    books, failures = await hub.books_of(inst, request.exchanges)
    fees = {v: f for v in books if (f := hub.taker_fee(v, inst)) is not None}
    cmp = compare_books(books, taker_fees=fees, symbol=inst, failures=failures)
    rows = []
    for q in cmp.quotes:
        book = books[q.venue]
        bids, asks = book.bids(request.levels), book.asks(request.levels)
        rows.append(VenueRow(
            exchange=q.venue, symbol=hub.symbol(q.venue, inst), state=hub.state(q.venue, inst).state,
            best_bid=finite(q.bid), best_bid_size=finite(q.bid_size), best_ask=finite(q.ask),
            best_ask_size=finite(q.ask_size), mid_price=finite(q.mid), spread=finite(q.ask - q.bid),
            spread_pct=_pct_of_bps(q.spread_bps), bid_volume=float(bids[:, 1].sum()) if len(bids) else 0.0,
            ask_volume=float(asks[:, 1].sum()) if len(asks) else 0.0, taker_fee=fees.get(q.venue)))
    arb = None
    if cmp.arbitrage is not None:
        a = cmp.arbitrage
        arb = ArbitrageRoute(
            route=f"buy {a.buy_venue} @ {a.buy_price:.12g} -> sell {a.sell_venue} @ {a.sell_price:.12g}",
            buy_exchange=a.buy_venue, sell_exchange=a.sell_venue, buy_price=a.buy_price, sell_price=a.sell_price,
            profit_pct=a.gross_pct, net_profit_pct=a.net_pct, quantity=a.quantity, profit=a.profit,
            profitable=a.profitable)
    return CompareResponse(
        symbol=inst, exchanges_compared=len(dict.fromkeys(request.exchanges)), successful_fetches=len(books),
        venues=rows, failures=dict(cmp.failures),
        best_bid_exchange=cmp.best_bid[0] if cmp.best_bid else None,
        best_bid=cmp.best_bid[1] if cmp.best_bid else None,
        best_ask_exchange=cmp.best_ask[0] if cmp.best_ask else None,
        best_ask=cmp.best_ask[1] if cmp.best_ask else None,
        tightest_spread_exchange=cmp.tightest[0] if cmp.tightest else None,
        average_spread_pct=_pct_of_bps(cmp.average_spread_bps), arbitrage=arb, timestamp_ms=_now_ms())


# ------------------------------------------------------------------ market-impact
async def market_impact(hub: BookHub, request: ImpactRequest) -> ImpactResponse:
    """Walk a market order of ``request.amount`` (base, or quote with ``amount_in="quote"``)
    through the venue's live book (:meth:`OrderBook.walk`, O(levels consumed)). A base amount
    with more decimals than the book keeps raises InvalidDeltaError (a ValueError)."""
    book = await hub.ensure(request.exchange, request.symbol)
    venue, inst = hub.key(request.exchange, request.symbol)
    if request.amount_in == "base":
        amount = Decimal(repr(request.amount))
        if -amount.as_tuple().exponent > book.size_decimals:   # type: ignore[operator]
            raise InvalidDeltaError(f"amount {request.amount!r} has more decimals than the {venue} "
                                    f"{venue_symbol(venue, inst)} book keeps ({book.size_decimals})")
        w = book.walk(request.side, amount)
    else:
        w = book.walk(request.side, notional=request.amount)
    top = book.best_ask if request.side == "buy" else book.best_bid
    return ImpactResponse(
        exchange=venue, symbol=inst, venue_symbol=venue_symbol(venue, inst), state=hub.state(venue, inst).state,
        side=request.side, amount=request.amount, amount_in=request.amount_in,
        best_price=None if top is None else top[0], average_price=finite(w.vwap), worst_price=finite(w.worst_price),
        mid_price=finite(book.mid), slippage_pct=_pct_of_bps(w.slippage_bps),
        slippage_mid_pct=_pct_of_bps(w.slippage_mid_bps), levels_consumed=w.levels, total_base_amount=w.filled,
        total_quote_amount=w.notional, unfilled=w.unfilled, sufficient_liquidity=w.complete,
        timestamp_ms=_now_ms())


# ------------------------------------------------------------------ book, liquidity, walls
def _levels(arr: np.ndarray) -> list[Level]:
    return [Level(price=float(p), size=float(s)) for p, s in arr]


async def book_snapshot(hub: BookHub, exchange: str, symbol: str, depth: int = 20) -> BookSnapshot:
    """The top ``depth`` levels per side of a live book. O(depth)."""
    if not 1 <= depth <= 5000:
        raise FeedConfigError(f"depth must be 1..5000 levels, got {depth}")
    book = await hub.ensure(exchange, symbol)
    venue, inst = hub.key(exchange, symbol)
    return BookSnapshot(exchange=venue, symbol=inst, venue_symbol=venue_symbol(venue, inst),
                        state=hub.state(venue, inst).state, update_id=book.last_update_id,
                        bids=_levels(book.bids(depth)), asks=_levels(book.asks(depth)), timestamp_ms=_now_ms())


def report_of(venue: str, instrument: str, state: str, book: OrderBook) -> LiquidityReportResponse:
    """The liquidity report model of ``book`` (OrderBook.liquidity_report, default settings);
    shared by :func:`liquidity_report` and the websocket. O(levels in the 2% band)."""
    r = book.liquidity_report()
    return LiquidityReportResponse(
        exchange=venue, symbol=instrument, state=state, levels=r.levels, best_bid=finite(r.best_bid),
        best_ask=finite(r.best_ask), mid=finite(r.mid), spread_bps=finite(r.spread_bps),
        spread_pct=finite(r.spread_pct), bid_volume=finite(r.bid_volume), ask_volume=finite(r.ask_volume),
        liquidity_1pct=finite(r.liquidity_1pct), liquidity_2pct=finite(r.liquidity_2pct),
        imbalance=finite(r.imbalance), slippage_bps=finite(r.slippage_bps), score=finite(r.score),
        walls=len(r.walls), clusters=len(r.clusters), timestamp_ms=_now_ms())


async def liquidity_report(hub: BookHub, exchange: str, symbol: str) -> LiquidityReportResponse:
    """The liquidity report of a live book (see :func:`report_of`)."""
    book = await hub.ensure(exchange, symbol)
    venue, inst = hub.key(exchange, symbol)
    return report_of(venue, inst, hub.state(venue, inst).state, book)


async def walls(hub: BookHub, exchange: str, symbol: str, band_bps: float = 200.0, limit: int = 10) -> WallsResponse:
    """Walls and clusters within ``band_bps`` of the mid (OrderBook.walls / clusters, at most
    ``limit`` each). O(levels in the band)."""
    if not (isinstance(band_bps, (int, float)) and math.isfinite(band_bps) and 0 < band_bps <= 10_000):
        raise FeedConfigError(f"band_bps must be in (0, 10000] basis points, got {band_bps}")
    if not 1 <= limit <= 100:
        raise FeedConfigError(f"limit must be 1..100, got {limit}")
    book = await hub.ensure(exchange, symbol)
    venue, inst = hub.key(exchange, symbol)
    ws = [WallModel(side=w.side, price=w.price, size=w.size, notional=w.notional, strength=w.strength,
                    z=finite(w.z), confidence=w.confidence, distance_bps=w.distance_bps)
          for w in book.walls(band_bps, limit=limit)]
    cs = [ClusterModel(side=c.side, price_best=c.price_best, price_worst=c.price_worst, size=c.size,
                       notional=c.notional, vwap=c.vwap, span_bps=c.span_bps, share=c.share, levels=c.levels)
          for c in book.clusters(band_bps, limit=limit)]
    return WallsResponse(exchange=venue, symbol=inst, state=hub.state(venue, inst).state, band_bps=float(band_bps),
                         walls=ws, clusters=cs, timestamp_ms=_now_ms())


# ------------------------------------------------------------------ venues, health, metrics
def _pair_models(hub: BookHub) -> list[PairStateModel]:
    return [PairStateModel(exchange=p.venue, symbol=p.instrument, venue_symbol=p.symbol, state=p.state,
                           messages=p.messages, applied=p.applied, resyncs=p.resyncs, gaps=p.gaps,
                           age_s=finite(p.age_s)) for p in hub.pairs()]


async def venues(hub: BookHub) -> VenuesResponse:
    """The venues the hub serves and the books it holds. O(pairs)."""
    return VenuesResponse(venues=list(hub.venues), simulator=hub.sim, usd_family=sorted(USD_FAMILY),
                          pairs=_pair_models(hub))


async def health(hub: BookHub) -> HealthResponse:
    """ok when every held book is live, degraded when one is not, empty with none. O(pairs)."""
    pairs = hub.pairs()
    live = sum(p.state == "live" for p in pairs)
    status: Literal["ok", "degraded", "empty"] = "empty" if not pairs else "ok" if live == len(pairs) else "degraded"
    return HealthResponse(status=status, uptime_s=time.time() - hub.started_at, books=len(pairs), live=live,
                          simulator=hub.sim)


async def metrics(hub: BookHub, counters: Mapping[str, int] | None = None) -> MetricsResponse:
    """The hub's counters and the caller's (``counters``: requests, errors, websocket pushes...)."""
    pairs = hub.pairs()
    return MetricsResponse(uptime_s=time.time() - hub.started_at, books=len(pairs),
                           books_live=sum(p.state == "live" for p in pairs),
                           failed_subscriptions=hub.failed_subscriptions,
                           book_messages=sum(p.messages for p in pairs), counters=dict(counters or {}))


# ------------------------------------------------------------------ risk
async def position_risk(hub: BookHub, request: RiskRequest) -> RiskResponse:
    """Liquidation price and 0-100 risk score of a position (:func:`liqcore.risk.liquidation_risk`).
    Without ``liq_price`` the liquidation price comes from the bundled Binance USDⓈ-M BTCUSDT
    tier table (RiskInputError for another instrument or venue). With ``use_book`` the live book
    of the instrument (a perpetual on Binance: its USDⓈ-M book) gives the mark and the exit."""
    from liqcore.risk import DAYS_PER_YEAR, LeverageTiers, Position, liquidation_risk
    inst = parse_instrument(request.symbol)
    book_venue = "binanceusdm" if request.exchange == "binance" and inst.perpetual else request.exchange
    book = await hub.ensure(book_venue, str(inst)) if request.use_book else None
    sym = venue_symbol(book_venue, inst)
    pos = Position(request.exchange, sym, request.side, request.size, request.entry_price, request.leverage,
                   request.margin_mode, request.wallet_balance)
    tiers = None if request.liq_price is not None else LeverageTiers.default(request.exchange, sym)
    r = liquidation_risk(pos, sigma=request.sigma, tiers=tiers, liq_price=request.liq_price, book=book,
                         horizon=request.horizon_hours / 24.0 / DAYS_PER_YEAR)
    return RiskResponse(exchange=request.exchange, symbol=str(inst), score=r.score, liquidation_price=finite(r.liq_price),
                        mark=r.mark, distance_sigma=finite(r.distance_sigma), probability=r.probability,
                        exit_cost=finite(r.exit_cost), exit_slippage_bps=finite(r.exit_slippage_bps),
                        exit_complete=r.exit_complete,
                        components={k: float(v) for k, v in r.components.items()})


# ------------------------------------------------------------------ history, alerts
def _json_value(v: Any) -> Any:
    """A numpy value of a store row as JSON: bytes decoded, NaN as None, item arrays as lists of
    dicts without their NaN padding."""
    if isinstance(v, bytes):
        return v.decode("ascii", "replace")
    if isinstance(v, np.ndarray):
        if v.dtype.names:
            out = []
            for item in v:
                d = {n: _json_value(item[n]) for n in v.dtype.names}
                if any(x is not None for x in d.values() if not isinstance(x, str)):
                    out.append(d)
            return out
        return [_json_value(x) for x in v.tolist()]
    if isinstance(v, np.void) and v.dtype.names:
        return {n: _json_value(v[n]) for n in v.dtype.names}
    if isinstance(v, (np.floating, float)):
        return finite(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bytes_):
        return bytes(v).decode("ascii", "replace")
    return v


def _rows(arr: Any, limit: int) -> tuple[list[dict[str, Any]], bool]:
    names = arr.dtype.names or ()
    truncated = len(arr) > limit
    part = arr[len(arr) - limit:] if truncated else arr
    return [{n: _json_value(row[n]) for n in names} for row in part], truncated


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_ROWS:
        raise FeedConfigError(f"limit must be 1..{MAX_ROWS} rows, got {limit}")


async def history(store: Any, table: str, exchange: str, symbol: str, start_ns: int | None = None,
                  end_ns: int | None = None, limit: int = 1000) -> HistoryResponse:
    """The rows of one stored series with ``start_ns <= ts < end_ns`` (Store.read, in a worker
    thread: SQLite reads block), the newest ``limit`` of them. O(log n + rows)."""
    _check_limit(limit)
    arr = await asyncio.to_thread(store.read, table, exchange, symbol, start_ns, end_ns)
    rows, truncated = _rows(arr, limit)
    return HistoryResponse(table=table, exchange=exchange, symbol=symbol, start_ns=start_ns, end_ns=end_ns,
                           count=len(rows), truncated=truncated, rows=rows)


async def alerts(store: Any, exchange: str, symbol: str, start_ns: int | None = None, end_ns: int | None = None,
                 limit: int = 100) -> AlertsResponse:
    """The stored alerts of one series (the ``alerts`` table), the newest ``limit``."""
    _check_limit(limit)
    arr = await asyncio.to_thread(store.read, "alerts", exchange, symbol, start_ns, end_ns)
    rows, truncated = _rows(arr, limit)
    return AlertsResponse(exchange=exchange, symbol=symbol, count=len(rows), truncated=truncated, alerts=rows)
