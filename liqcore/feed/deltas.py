"""What changed between two states of a book: :func:`book_deltas` diffs their levels into
:class:`~liqcore.feed.records.OrderBookDelta` records (levels that appeared, vanished, grew or
shrank), for alerts and dashboards that show what moved.

The diff reads the books only through their public level export (:meth:`OrderBook.bids` /
:meth:`OrderBook.asks`: copies, best first) and merges the two sorted sides in one pass: O(n)
in the levels compared, no book is modified.
"""

from __future__ import annotations

import time
from typing import Any

from liqcore._book import OrderBook
from liqcore.errors import InvalidDeltaError
from liqcore.feed.records import OrderBookDelta

__all__ = ["book_deltas"]


def book_deltas(before: OrderBook, after: OrderBook, *, exchange: str, symbol: str, ts_ms: int | None = None,
                recv_ns: int = 0, depth: int | None = None) -> list[OrderBookDelta]:
    """The level changes that turn ``before`` into ``after``: bids first (best first, that is
    highest price first), then asks (lowest first); unchanged levels are left out.

    Parameters
    ----------
    before, after : OrderBook
        Two states of one instrument's book. They must share ``price_decimals`` and
        ``size_decimals`` (same tick and lot grid), else their levels are not comparable and
        :class:`~liqcore.errors.InvalidDeltaError` is raised.
    exchange, symbol : str
        Written into each record (ccxt id and unified symbol, as the other records).
    ts_ms : int, optional
        Time of the ``after`` state, ms since the epoch; the wall clock now when None.
    recv_ns : int
        When ``after`` arrived (ns since the epoch), 0 when unknown.
    depth : int, optional
        Compare only the best ``depth`` levels of each side of each book (the view of a depth-N
        feed or dashboard): a level pushed out of the top ``depth`` shows as removed, one that
        moved into it as appeared. Applying the deltas to ``before``'s top ``depth`` gives
        ``after``'s top ``depth``. None compares every level.

    Returns
    -------
    list[OrderBookDelta]
        New frozen records, owned by the caller: ``size_before`` / ``size_after`` in base (0 =
        absent), ``price`` in quote per base; ``change`` and ``notional_change`` are properties
        of the record. The books are only read (copies of their levels) and keep no link to
        the result.

    Raises
    ------
    TypeError
        ``before`` / ``after`` not OrderBooks.
    InvalidDeltaError
        Different price or size decimals; ``depth`` not an int >= 1; ``exchange`` / ``symbol``
        not strings; ``ts_ms`` / ``recv_ns`` not ints. Nothing is computed.

    Complexity: O(n_before + n_after) levels (one merge per side, after the level copies).
    """
    for name, book in (("before", before), ("after", after)):
        if not isinstance(book, OrderBook):
            raise TypeError(f"book_deltas: {name} must be an OrderBook, got {type(book).__name__}")
    if before.price_decimals != after.price_decimals or before.size_decimals != after.size_decimals:
        raise InvalidDeltaError(
            f"book_deltas: the books are on different grids (before: price_decimals={before.price_decimals}, "
            f"size_decimals={before.size_decimals}; after: price_decimals={after.price_decimals}, "
            f"size_decimals={after.size_decimals}); diff two states of one instrument's book")
    for name, text in (("exchange", exchange), ("symbol", symbol)):
        if not isinstance(text, str):
            raise InvalidDeltaError(f"book_deltas: {name} must be a string, got {text!r}")
    if depth is not None and (type(depth) is not int or depth < 1):
        raise InvalidDeltaError(f"book_deltas: depth must be an int >= 1 or None, got {depth!r}")
    for name, stamp in (("ts_ms", ts_ms), ("recv_ns", recv_ns)):
        if stamp is not None and (isinstance(stamp, bool) or not isinstance(stamp, int)):
            raise InvalidDeltaError(f"book_deltas: {name} must be an int, got {stamp!r}")
    stamp_ms = time.time_ns() // 1_000_000 if ts_ms is None else ts_ms
    out: list[OrderBookDelta] = []
    # bids best first = descending price: merge on -price so both sides merge ascending
    for side, old, new, sign in (("bid", before.bids(depth), after.bids(depth), -1.0),
                                 ("ask", before.asks(depth), after.asks(depth), 1.0)):
        _merge(out, side, old.tolist(), new.tolist(), sign, exchange, symbol, stamp_ms, recv_ns)
    return out


def _merge(out: list[OrderBookDelta], side: str, old: list[Any], new: list[Any], sign: float,
           exchange: str, symbol: str, ts_ms: int, recv_ns: int) -> None:
    """Append the changes between two sorted (best-first) level lists of one side. Prices on
    one grid convert to identical floats, so equality of floats is equality of levels."""
    i = j = 0
    n_old, n_new = len(old), len(new)
    while i < n_old or j < n_new:
        if j >= n_new or (i < n_old and sign * old[i][0] < sign * new[j][0]):
            price, before, after = old[i][0], old[i][1], 0.0       # vanished
            i += 1
        elif i >= n_old or sign * new[j][0] < sign * old[i][0]:
            price, before, after = new[j][0], 0.0, new[j][1]       # appeared
            j += 1
        else:
            price, before, after = old[i][0], old[i][1], new[j][1]
            i += 1
            j += 1
            if before == after:
                continue
        out.append(OrderBookDelta(exchange, symbol, ts_ms, side, price, before, after, recv_ns))
