"""Book scales from ccxt markets metadata (tick and lot sizes).

ccxt's ``market["precision"]`` holds the price and amount grids in one of three modes
(``exchange.precisionMode``): TICK_SIZE (a step such as 0.01: Binance, OKX, Bybit, Kraken,
Coinbase), DECIMAL_PLACES (a number of decimals) or SIGNIFICANT_DIGITS (no fixed grid). The
compiled book needs a decimal scale per side; this module turns the metadata into one.
Wire strings with more decimals than the grid (Binance spot pads to 8) still parse when the
extra digits are zeros; a message with real extra digits makes the live book widen its scale
(:meth:`LiveBook.apply`), so a wrong guess here costs one rebuild, never a wrong book.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Literal, Mapping, Sequence

from liqcore._book import MAX_SCALE, OrderBook


def fraction_digits(levels: Iterable[Sequence[Any]], field: int, *, strings_only: bool = True) -> int:
    """Most digits after the '.' among the levels' field ``field`` (0 price, 1 size), at most
    MAX_SCALE: the book scale a message needs. ``strings_only``: only wire strings count
    (numbers carry no wire decimals); else every value is read as ``str(value)``."""
    most = 0
    for lv in levels:
        s = lv[field]
        if type(s) is not str:
            if strings_only:
                continue
            s = str(s)
        i = s.find(".")
        if i >= 0 and len(s) - i - 1 > most:
            most = len(s) - i - 1
    return min(most, MAX_SCALE)


def message_decimals(bids: Iterable[Sequence[Any]], asks: Iterable[Sequence[Any]]) -> tuple[int, int]:
    """(price, size) decimals a book needs for a message's wire strings: :func:`fraction_digits`
    over both sides. O(levels)."""
    return (max(fraction_digits(bids, 0), fraction_digits(asks, 0)),
            max(fraction_digits(bids, 1), fraction_digits(asks, 1)))


__all__ = ["rebuilt", "message_decimals", "grid_decimals", "book_for_market", "DEFAULT_DECIMALS", "CrossPolicy"]

#: what a book does with a message that would cross it (see :class:`~liqcore.OrderBook`)
CrossPolicy = Literal["raise", "repair", "allow"]

#: scale used when the metadata gives none (SIGNIFICANT_DIGITS mode, missing precision)
DEFAULT_DECIMALS = 8

# ccxt's precision modes (ccxt.base.decimal_to_precision): DECIMAL_PLACES = 2,
# SIGNIFICANT_DIGITS = 3, TICK_SIZE = 4
_DECIMAL_PLACES, _SIGNIFICANT_DIGITS, _TICK_SIZE = 2, 3, 4


def grid_decimals(value: Any, precision_mode: int = _TICK_SIZE) -> int | None:
    """Decimals of one precision entry: 0.01 -> 2, 1e-08 -> 8, 5 -> 0 (TICK_SIZE); 3 -> 3
    (DECIMAL_PLACES); None when unknown (None, SIGNIFICANT_DIGITS, nonsense)."""
    if value is None or precision_mode == _SIGNIFICANT_DIGITS:
        return None
    try:
        if precision_mode == _DECIMAL_PLACES:
            n = int(value)
            return n if 0 <= n <= 18 else None
        # repr() of a float is its shortest round-trip text: 0.1 -> '0.1', not 0.1000000000000000055
        d = Decimal(repr(value) if isinstance(value, float) else str(value)).normalize()
    except (InvalidOperation, ValueError, TypeError):
        return None
    if d <= 0:
        return None
    exp = d.as_tuple().exponent
    return min(max(0, -exp), 18) if isinstance(exp, int) else None


def book_for_market(exchange: str, market: Mapping[str, Any], *, precision_mode: int = _TICK_SIZE,
                    sequence: str | None = None, max_depth: int | None = None, cross_policy: CrossPolicy = "raise",
                    min_decimals: tuple[int, int] = (0, 0)) -> OrderBook:
    """An empty compiled book for one ccxt market: scales from ``market["precision"]``
    (at least ``min_decimals``, e.g. Kraken's wire precision), labels from ``market["symbol"]``."""
    precision = market.get("precision") or {}
    pd = grid_decimals(precision.get("price"), precision_mode)
    qd = grid_decimals(precision.get("amount"), precision_mode)
    pd = max(DEFAULT_DECIMALS if pd is None else pd, min_decimals[0])
    qd = max(DEFAULT_DECIMALS if qd is None else qd, min_decimals[1])
    return OrderBook(price_decimals=pd, size_decimals=qd, max_depth=max_depth, cross_policy=cross_policy,
                     sequence=sequence, symbol=market.get("symbol"), exchange=exchange)


def rebuilt(book: OrderBook, price_decimals: int, size_decimals: int, max_depth: int | None, *,
            keep_levels: bool) -> OrderBook:
    """The one way the feed rebuilds a book with new scales or depth: a new OrderBook with
    ``book``'s sequence rule, cross policy and labels, and, with ``keep_levels``, its levels and
    update id copied exactly (from its own wire strings; the new scales must hold them). O(levels)
    with ``keep_levels``, else O(1). ``book`` is not changed; the caller swaps the new one in."""
    new = OrderBook(price_decimals=price_decimals, size_decimals=size_decimals, max_depth=max_depth,
                    cross_policy=book.cross_policy, sequence=book.sequence, symbol=book.symbol,
                    exchange=book.exchange)
    if keep_levels and len(book):
        new.apply_snapshot(book.level_strings("bid"), book.level_strings("ask"), update_id=book.last_update_id)
    return new
