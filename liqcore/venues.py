"""One instrument across venues: best bid and ask venue, tightest spread, deepest book
within a band, average spread, and cross-venue arbitrage (route, percentage, the
quantity that stays profitable through the books, optionally net of taker fees).

:func:`compare_books` is pure: it reads liqcore books that the caller keeps (live books
of :mod:`liqcore.feed`, replayed ones, snapshots). :func:`compare_venues` fetches a
snapshot from every venue concurrently through ccxt (``fetch_order_book``), tolerates
venues that fail or time out (reported in ``failures``; the others are compared), takes
taker fees from the markets metadata, and compares.

Units: prices in the quote currency, sizes in the base currency, spreads in basis points
of the venue's mid, arbitrage returns in percent of the buy cost, profits in quote.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from liqcore import OrderBook

__all__ = ["VenueQuote", "Arbitrage", "VenueComparison", "compare_books", "fetch_books", "compare_venues"]


@dataclass(frozen=True)
class VenueQuote:
    """Top of book and depth of one venue. ``depth_quote`` is bid + ask notional within
    ``band_bps`` of the venue's own mid (``OrderBook.depth``)."""

    venue: str
    bid: float
    bid_size: float
    ask: float
    ask_size: float
    mid: float
    spread_bps: float
    depth_quote: float


@dataclass(frozen=True)
class Arbitrage:
    """Buy on ``buy_venue`` at its asks, sell on ``sell_venue`` at its bids.

    ``gross_pct``/``net_pct``: top-of-book return in percent of the cost, without / after
    taker fees (``fees`` = (buy fee, sell fee) as fractions). ``quantity``: base amount
    that stays profitable net of fees when both books are walked level by level;
    ``profit``: the quote currency it earns. ``profitable``: net_pct > 0.
    """

    buy_venue: str
    sell_venue: str
    buy_price: float
    sell_price: float
    gross_pct: float
    net_pct: float
    fees: tuple[float, float]
    quantity: float
    profit: float
    profitable: bool


@dataclass(frozen=True)
class VenueComparison:
    """The comparison of one symbol across the venues that answered.

    ``best_bid``/``best_ask``/``tightest``/``deepest`` are ``(venue, value)`` or None when
    no venue has the needed sides; ``arbitrage`` is the best route over every ordered pair
    of distinct venues (even when not profitable), None with fewer than two venues;
    ``failures`` maps each venue that could not be read to the error.
    """

    symbol: str | None
    band_bps: float
    quotes: tuple[VenueQuote, ...]
    best_bid: tuple[str, float] | None
    best_ask: tuple[str, float] | None
    tightest: tuple[str, float] | None
    deepest: tuple[str, float] | None
    average_spread_bps: float
    arbitrage: Arbitrage | None
    failures: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready: NaN stays a float)."""
        return asdict(self)


def _quote(venue: str, book: OrderBook, band_bps: float) -> VenueQuote:
    bp, bq, ap, aq = book.bbo
    d = book.depth(band_bps)
    depth = (0.0 if math.isnan(d["bid_quote"]) else d["bid_quote"]) + \
        (0.0 if math.isnan(d["ask_quote"]) else d["ask_quote"])
    return VenueQuote(venue, bp, bq, ap, aq, book.mid, book.spread_bps, depth)


def _walk_profit(buy: OrderBook, sell: OrderBook, fee_buy: float, fee_sell: float) -> tuple[float, float]:
    """(quantity, profit) buying up ``buy``'s asks and selling into ``sell``'s bids while
    each next unit still earns more than it costs after fees. O(levels consumed)."""
    asks, bids = buy.asks(), sell.bids()
    i = j = 0
    ra = asks[0, 1] if len(asks) else 0.0
    rb = bids[0, 1] if len(bids) else 0.0
    qty = profit = 0.0
    while i < len(asks) and j < len(bids):
        edge = bids[j, 0] * (1 - fee_sell) - asks[i, 0] * (1 + fee_buy)
        if edge <= 0:
            break
        q = min(ra, rb)
        qty += q
        profit += q * edge
        ra -= q
        rb -= q
        if ra <= 0:
            i += 1
            ra = asks[i, 1] if i < len(asks) else 0.0
        if rb <= 0:
            j += 1
            rb = bids[j, 1] if j < len(bids) else 0.0
    return qty, profit


def compare_books(books: Mapping[str, OrderBook], *, band_bps: float = 100.0,
                  taker_fees: Mapping[str, float] | None = None, symbol: str | None = None,
                  failures: Mapping[str, str] | None = None) -> VenueComparison:
    """Compare books of one instrument keyed by venue. ``taker_fees`` (fractions, e.g.
    0.001) per venue make the arbitrage net of fees (0 for a venue not listed).
    O(venues² + levels walked) plus one ``depth`` call per venue."""
    fees = dict(taker_fees or {})
    quotes = tuple(_quote(v, b, band_bps) for v, b in sorted(books.items()))
    with_bid = [q for q in quotes if not math.isnan(q.bid)]
    with_ask = [q for q in quotes if not math.isnan(q.ask)]
    two_sided = [q for q in quotes if not math.isnan(q.spread_bps)]
    best_bid = max(with_bid, key=lambda q: q.bid, default=None)
    best_ask = min(with_ask, key=lambda q: q.ask, default=None)
    tightest = min(two_sided, key=lambda q: q.spread_bps, default=None)
    deepest = max(quotes, key=lambda q: q.depth_quote, default=None)
    arb = None
    for a in with_ask:
        for b in with_bid:
            if a.venue == b.venue:
                continue
            fa, fb = fees.get(a.venue, 0.0), fees.get(b.venue, 0.0)
            cost = a.ask * (1 + fa)
            net = (b.bid * (1 - fb) - cost) / cost * 100.0
            if arb is not None and net <= arb.net_pct:
                continue
            qty, profit = _walk_profit(books[a.venue], books[b.venue], fa, fb)
            arb = Arbitrage(a.venue, b.venue, a.ask, b.bid, (b.bid - a.ask) / a.ask * 100.0, net,
                            (fa, fb), qty, profit, net > 0)
    return VenueComparison(
        symbol=symbol, band_bps=band_bps, quotes=quotes,
        best_bid=(best_bid.venue, best_bid.bid) if best_bid else None,
        best_ask=(best_ask.venue, best_ask.ask) if best_ask else None,
        tightest=(tightest.venue, tightest.spread_bps) if tightest else None,
        deepest=(deepest.venue, deepest.depth_quote) if deepest and deepest.depth_quote > 0 else None,
        average_spread_bps=math.fsum(q.spread_bps for q in two_sided) / len(two_sided) if two_sided else math.nan,
        arbitrage=arb, failures=dict(failures or {}))


def _book_from_ccxt(exchange: Any, symbol: str, ob: Mapping[str, Any]) -> OrderBook:
    """A liqcore book from a ccxt order book dict, on the market's grids when ccxt knows
    them as tick sizes (the exact decimals otherwise: 8/8)."""
    prec = (getattr(exchange, "markets", None) or {}).get(symbol, {}).get("precision", {})
    tick, lot = prec.get("price"), prec.get("amount")
    tick_mode = getattr(exchange, "precisionMode", None) == 4          # ccxt TICK_SIZE
    book = OrderBook(tick_size=repr(float(tick)) if tick_mode and tick else None,
                     lot_size=repr(float(lot)) if tick_mode and lot else None,
                     price_decimals=None if tick_mode and tick else 8,
                     size_decimals=None if tick_mode and lot else 8,
                     cross_policy="allow", symbol=symbol, exchange=getattr(exchange, "id", None))
    book.apply_snapshot([lv[:2] for lv in ob["bids"]], [lv[:2] for lv in ob["asks"]], update_id=ob.get("nonce"))
    return book


async def fetch_books(exchanges: Mapping[str, Any], symbol: str, *, limit: int | None = 100,
                      timeout: float = 10.0) -> tuple[dict[str, OrderBook], dict[str, str]]:
    """Snapshot ``symbol`` on every venue concurrently (ccxt async exchanges keyed by the
    venue name). Returns (books, failures): a venue that raises or exceeds ``timeout``
    seconds is reported, never raised, so one bad venue does not cost the others."""
    async def one(venue: str, ex: Any) -> tuple[str, OrderBook]:
        await ex.load_markets()
        return venue, _book_from_ccxt(ex, symbol, await ex.fetch_order_book(symbol, limit))

    names = list(exchanges)
    results = await asyncio.gather(*(asyncio.wait_for(one(v, exchanges[v]), timeout) for v in names),
                                   return_exceptions=True)
    books: dict[str, OrderBook] = {}
    failures: dict[str, str] = {}
    for venue, res in zip(names, results):
        if isinstance(res, BaseException):
            if not isinstance(res, Exception):          # KeyboardInterrupt, CancelledError: not ours to hide
                raise res
            failures[venue] = f"{type(res).__name__}: {res}" if str(res) else type(res).__name__
        else:
            books[venue] = res[1]
    return books, failures


async def compare_venues(exchanges: Mapping[str, Any], symbol: str, *, band_bps: float = 100.0,
                         limit: int | None = 100, timeout: float = 10.0, with_fees: bool = True) -> VenueComparison:
    """Fetch ``symbol`` from every venue in parallel and compare (see :func:`compare_books`).
    Taker fees come from each venue's markets metadata (``market["taker"]``) when
    ``with_fees``."""
    books, failures = await fetch_books(exchanges, symbol, limit=limit, timeout=timeout)
    fees = {}
    if with_fees:
        for venue in books:
            taker = exchanges[venue].markets.get(symbol, {}).get("taker")
            if taker is not None:
                fees[venue] = float(taker)
    return compare_books(books, band_bps=band_bps, taker_fees=fees, symbol=symbol, failures=failures)
