"""Portfolio liquidity risk: what closing each position through its live book would cost, how deep
it would reach, how long an orderly unwind would take, and the portfolio's total.

Per position (:class:`PositionLiquidity`), a market order of the whole size is walked through the
book on the closing side (:meth:`liqcore.OrderBook.walk`: a long sells into the bids, a short buys
from the asks), as data vendors price slippage (analytics.md §1.1; Kaiko's *Price Slippage*):

- ``notional = size x mid`` (quote): the position valued at the mid;
- ``cost = D (VWAP - mid) x filled`` (quote; D = +1 buy, -1 sell), the same as the walk's slippage
  against the mid x the notional filled: what the exit gives up against the mid, spread included;
  ``cost_fraction = cost / notional``. For a size that the best level absorbs this is the half
  spread x size, the exogenous cost of liquidation of Bangia, Diebold, Schuermann & Stroh (1999,
  "Modeling Liquidity Risk") at the current spread (they add a multiple of the spread's
  volatility); walking the depth extends it to sizes that reach further;
- ``levels``, ``worst_price``, ``filled`` / ``unfilled`` (base) and ``complete``: a book that cannot
  absorb the size is reported (``complete`` False, ``unfilled`` > 0), never extrapolated: the cost
  then covers the filled part only and is a lower bound of the exit cost;
- ``days_to_unwind = size / (participation x daily volume)``: the practitioner "days to liquidate"
  convention -- trade at most a fraction ``participation`` of the market's volume per day so the
  unwind does not move the price much. It is the position's own liquidation horizon; Basel's
  FRTB (BCBS MAR33) answers the same question with fixed horizons of 10 to 120 days per risk
  factor. Volumes are 24-hour volumes in base units (ccxt ``fetch_ticker()["baseVolume"]``);
  without ``volumes`` the time is None.

The portfolio (:class:`LiquidityRisk`) sums costs and notionals, takes the longest unwind, and
lists the positions the books cannot absorb. Each position is walked against its whole book on
its own, as if it were the only order: two positions on the same book are not netted nor made to
share its liquidity (close them as one order, or size the book's capacity yourself, when they
would). Units: prices quote per base, sizes base, money quote, fractions (not percent), bps =
1e-4, time in days. Complexity O(n + levels walked) for n positions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, Union

from liqcore._book import OrderBook
from liqcore.errors import InvalidDeltaError, RiskInputError
from liqcore.risk.checks import number
from liqcore.risk.records import Position

__all__ = ["BookKey", "PositionLiquidity", "LiquidityRisk", "liquidity_risk"]

#: how ``books`` and ``volumes`` are keyed: ``(exchange, symbol)`` (exchange in lower case, as
#: :class:`Position` stores it) or the bare ``symbol``; the pair is looked up first
BookKey = Union[tuple[str, str], str]


@dataclass(frozen=True, slots=True)
class PositionLiquidity:
    """Closing one position through its book (see the module docstring for the formulas).

    ``exchange``, ``symbol``, ``side`` (of the position: ``"long"`` closes by selling into the
    bids, ``"short"`` by buying the asks), ``size`` (base), ``mid`` (quote per base),
    ``notional`` (``size x mid``, quote), ``vwap`` and ``worst_price`` of the exit (quote per
    base), ``filled`` and ``unfilled`` (base), ``complete`` (the book absorbs the whole size),
    ``levels`` (price levels the walk reached, the last possibly partly), ``slippage_bps`` (of
    the VWAP against the mid, adverse > 0), ``cost`` (quote, of the filled part), ``cost_fraction``
    (``cost / notional``), ``days_to_unwind`` (days; None without a volume; inf at zero volume).
    """

    exchange: str
    symbol: str
    side: str
    size: float
    mid: float
    notional: float
    vwap: float
    worst_price: float
    filled: float
    unfilled: float
    complete: bool
    levels: int
    slippage_bps: float
    cost: float
    cost_fraction: float
    days_to_unwind: float | None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class LiquidityRisk:
    """The portfolio's liquidity risk and its parts.

    ``positions``: one :class:`PositionLiquidity` per position, in the order given;
    ``total_cost`` and ``total_notional`` (quote): their sums; ``cost_fraction``:
    ``total_cost / total_notional``; ``max_days_to_unwind``: the longest unwind (None without
    volumes); ``unabsorbable``: indices (into ``positions``) of the positions their book cannot
    absorb; ``unabsorbed_notional`` (quote): ``sum(unfilled x mid)`` over them; ``participation``:
    the fraction of daily volume the unwind times assume.
    """

    positions: tuple[PositionLiquidity, ...]
    total_cost: float
    total_notional: float
    cost_fraction: float
    max_days_to_unwind: float | None
    unabsorbable: tuple[int, ...]
    unabsorbed_notional: float
    participation: float

    @property
    def complete(self) -> bool:
        """True when every book absorbs its position (``cost`` is then the full exit cost)."""
        return not self.unabsorbable

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain dicts, lists and numbers (the rows as dicts too)."""
        return asdict(self)


def _lookup(mapping: Mapping[Any, Any], position: Position) -> tuple[bool, Any, BookKey]:
    """``(found, value, key)``: the entry keyed ``(exchange, symbol)``, else ``symbol``."""
    pair = (position.exchange, position.symbol)
    if pair in mapping:
        return True, mapping[pair], pair
    if position.symbol in mapping:
        return True, mapping[position.symbol], position.symbol
    return False, None, pair


def liquidity_risk(positions: Sequence[Position], books: Mapping[BookKey, OrderBook], *,
                   volumes: Mapping[BookKey, float] | None = None,
                   participation: float = 0.1) -> LiquidityRisk:
    """The cost, depth and time of closing every position through its live book, and the total.

    Parameters
    ----------
    positions : sequence of :class:`~liqcore.risk.Position`
        At least one. ``size`` is walked as given: it must fit the book's size decimals.
    books : mapping
        The :class:`~liqcore.OrderBook` of each position's instrument, keyed ``(exchange,
        symbol)`` (exchange in lower case, as :class:`Position` stores it) or by ``symbol``
        alone; the pair wins when both are present. The books are read, never modified.
    volumes : mapping, optional
        Traded volume per day of each instrument, base units, >= 0, keyed as ``books``. When
        given, every position needs one (a missing one is an error, not a silent None); 0 gives
        an infinite time. None: ``days_to_unwind`` is None.
    participation : float
        The fraction of the daily volume an orderly unwind may take, in (0, 1] (default 0.1:
        10%, a common cap of execution algorithms).

    Returns
    -------
    LiquidityRisk
        Per-position rows and the totals (see the module docstring for the formulas): new
        frozen records of plain numbers, holding no reference to the books or positions.

    Raises
    ------
    RiskInputError
        Naming the argument, before any book is walked: no positions, a non-Position, a
        missing book or volume, a book that is not an OrderBook, has an empty side or is
        crossed (a locked book, bid = ask, is fine), a volume that is negative or not finite,
        ``participation`` outside (0, 1]. A size with more decimals than its book is found by
        its walk (the book's own grid rule; walks only read) and refused the same way: no
        result either way.

    Complexity: O(n) checks and lookups, then one walk per position: O(levels walked) each.
    """
    if isinstance(positions, (Position, str, bytes)) or not isinstance(positions, Sequence):
        raise RiskInputError(f"positions: expected a sequence of Position, got {type(positions).__name__}")
    if not positions:
        raise RiskInputError("positions is empty")
    if not isinstance(books, Mapping):
        raise RiskInputError(f"books: expected a mapping of (exchange, symbol) or symbol -> OrderBook, "
                             f"got {type(books).__name__}")
    if volumes is not None and not isinstance(volumes, Mapping):
        raise RiskInputError(f"volumes: expected a mapping like books, got {type(volumes).__name__}")
    rate = number("participation", participation, low=0.0, high=1.0)

    # every check first: nothing is walked when any input is refused
    plan: list[tuple[Position, OrderBook, float, float | None]] = []
    for i, pos in enumerate(positions):
        if not isinstance(pos, Position):
            raise RiskInputError(f"positions[{i}]: expected a liqcore.risk.Position, got {type(pos).__name__}")
        found, book, key = _lookup(books, pos)
        if not found:
            raise RiskInputError(f"books: no book for positions[{i}] (keyed {key!r} or {pos.symbol!r})")
        if not isinstance(book, OrderBook):
            raise RiskInputError(f"books[{key!r}]: expected a liqcore.OrderBook, got {type(book).__name__}")
        bid, ask = book.best_bid, book.best_ask
        if bid is None or ask is None:
            raise RiskInputError(f"books[{key!r}]: the book has no {'bids' if bid is None else 'asks'} "
                                 f"(an empty side has no mid to price the exit against)")
        if book.is_crossed:   # (cross_policy "allow"): no meaningful mid; a locked book is fine
            raise RiskInputError(f"books[{key!r}]: the book is crossed (best bid {bid[0]!r} > best ask {ask[0]!r})")
        volume: float | None = None
        if volumes is not None:
            found, raw, vkey = _lookup(volumes, pos)
            if not found:
                raise RiskInputError(f"volumes: no daily volume for positions[{i}] (keyed {vkey!r} or {pos.symbol!r})")
            volume = number(f"volumes[{vkey!r}]", raw, low=0.0, low_open=False)
        plan.append((pos, book, book.mid, volume))

    rows: list[PositionLiquidity] = []
    for i, (pos, book, mid, volume) in enumerate(plan):
        closing: Literal["buy", "sell"] = "sell" if pos.side == "long" else "buy"
        try:
            walk = book.walk(closing, pos.size)
        except InvalidDeltaError as e:   # a size finer than the book's lot decimals
            raise RiskInputError(f"positions[{i}].size: {pos.size!r} does not fit the book's "
                                 f"{book.size_decimals} size decimals ({e})") from None
        # D (VWAP - mid) x filled, from the fill's notional (an exact sum in the core) rather than from
        # the bps (a ratio computed from it)
        given_up = mid * walk.filled - walk.notional
        cost = given_up if closing == "sell" else -given_up
        notional = pos.size * mid
        if volume is None:
            days: float | None = None
        else:
            pace = rate * volume                       # base per day; 0 also when the product underflows
            days = math.inf if pace == 0.0 else pos.size / pace
        rows.append(PositionLiquidity(
            exchange=pos.exchange, symbol=pos.symbol, side=pos.side, size=pos.size, mid=mid, notional=notional,
            vwap=walk.vwap, worst_price=walk.worst_price, filled=walk.filled, unfilled=walk.unfilled,
            complete=bool(walk.complete), levels=walk.levels, slippage_bps=walk.slippage_mid_bps, cost=cost,
            cost_fraction=cost / notional, days_to_unwind=days))

    total_cost = math.fsum(r.cost for r in rows)
    total_notional = math.fsum(r.notional for r in rows)
    unabsorbable = tuple(i for i, r in enumerate(rows) if not r.complete)
    times = [r.days_to_unwind for r in rows if r.days_to_unwind is not None]
    return LiquidityRisk(
        positions=tuple(rows), total_cost=total_cost, total_notional=total_notional,
        cost_fraction=total_cost / total_notional, max_days_to_unwind=max(times) if times else None,
        unabsorbable=unabsorbable, unabsorbed_notional=math.fsum(rows[i].unfilled * rows[i].mid for i in unabsorbable),
        participation=rate)
