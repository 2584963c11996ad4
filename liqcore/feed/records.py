"""Typed market-data records: trades, funding rates, mark prices, liquidations, open interest, and
the level changes of a book between two states (:class:`OrderBookDelta`).

Every record is a frozen, slotted dataclass with the same conventions:

* ``exchange`` is the ccxt id (``"binanceusdm"``), ``symbol`` the unified symbol (``"BTC/USDT:USDT"``);
* prices are in **quote** currency per unit of base, sizes in **base** currency (contract
  counts are converted with the market's contract size, see :mod:`liqcore.feed.md_ccxt`);
* ``ts`` is the exchange's event time in **ns since the epoch** (``ts_ms * 1_000_000``) and
  ``ts_ms`` the exchange's own millisecond stamp, kept verbatim; ``recv_ns`` is liqcore's wall
  clock (ns since the epoch) when the frame / REST answer that carried the record arrived
  (``time.time_ns()``; 0 when unknown).

Each class has ``to_dict()``, a numpy structured ``DTYPE``, and the module converts lists of
records to structured arrays and back (:func:`to_array`, :func:`from_array`) so the analytics
layer can batch over columns. In arrays: strings are ASCII bytes (``S``), missing floats are NaN,
missing integers ``-1`` (times) and sides are small ints (``+1`` buy / long, ``-1`` sell /
short, ``0`` unknown; ``+1`` bid / ``-1`` ask for :class:`OrderBookDelta`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Iterable, Sequence, TypeVar, Union

import numpy as np

from liqcore.errors import InvalidDeltaError

__all__ = ["Trade", "FundingRate", "MarkPrice", "Liquidation", "OpenInterest", "OrderBookDelta", "Record",
           "RECORD_TYPES", "to_array", "from_array", "KINDS"]

_NS_PER_MS = 1_000_000

#: (fixed-width byte strings: longer values are refused by to_array rather than cut)
_EX = "S16"
_SYM = "S40"
_ID = "S40"


def _ns(ms: int | None) -> int | None:
    return None if ms is None else int(ms) * _NS_PER_MS


class _Timestamped:
    """What every record shares: ``ts`` (ns since the epoch) from its ``ts_ms`` field, and
    ``to_dict()`` (the fields plus ``ts``)."""

    __slots__ = ()
    ts_ms: int

    @property
    def ts(self) -> int:
        return self.ts_ms * _NS_PER_MS

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)  # type: ignore[call-overload]
        d["ts"] = self.ts
        return d


@dataclass(frozen=True, slots=True)
class Trade(_Timestamped):
    """One public trade (a fill between a taker and a resting order).

    Attributes
    ----------
    exchange, symbol : str
    id : str
        The exchange's trade id (Binance aggTrade ``a`` or trade ``t``, OKX ``tradeId``); unique per
        (exchange, symbol) and used to remove duplicates.
    ts_ms : int
        Exchange trade time, ms since the epoch. ``ts`` is the same in ns.
    price : float
        Quote per base.
    size : float
        Base currency (contracts x contract size for derivatives).
    side : str | None
        The **aggressor** (taker) side, ``"buy"`` or ``"sell"``, when the exchange says so (Binance
        ``m`` = buyer is maker -> ``"sell"``; OKX ``side``); None when it does not.
    recv_ns : int
        Wall clock when the carrying frame arrived, ns since the epoch.
    """

    exchange: str
    symbol: str
    id: str
    ts_ms: int
    price: float
    size: float
    side: str | None
    recv_ns: int = 0

    KIND = "trades"
    DTYPE = np.dtype([("exchange", _EX), ("symbol", _SYM), ("id", _ID), ("ts", "<i8"), ("ts_ms", "<i8"),
                      ("price", "<f8"), ("size", "<f8"), ("side", "i1"), ("recv_ns", "<i8")])

    @property
    def notional(self) -> float:
        """price x size, quote currency."""
        return self.price * self.size


@dataclass(frozen=True, slots=True)
class FundingRate(_Timestamped):
    """The funding rate of a perpetual contract as last published.

    Attributes
    ----------
    rate : float
        Rate per funding interval (0.0001 = 0.01 %); longs pay shorts when positive.
    interval_ms : int | None
        Funding interval in ms (8 h = 28 800 000) when known (OKX: ``nextFundingTime -
        fundingTime``; Binance USDⓈ-M: 8 h unless told otherwise).
    next_funding_ms : int | None
        When ``rate`` is charged next, ms since the epoch (Binance ``T`` / ``nextFundingTime``,
        OKX ``fundingTime``).
    mark_price, index_price : float | None
        Quote per base, when the message carries them (Binance markPrice stream, premiumIndex).
    ts_ms : int
        Exchange time of the message (ms since the epoch; the receive time when the exchange gives none).
    """

    exchange: str
    symbol: str
    ts_ms: int
    rate: float
    interval_ms: int | None = None
    next_funding_ms: int | None = None
    mark_price: float | None = None
    index_price: float | None = None
    recv_ns: int = 0

    KIND = "funding"
    DTYPE = np.dtype([("exchange", _EX), ("symbol", _SYM), ("ts", "<i8"), ("ts_ms", "<i8"), ("rate", "<f8"),
                      ("interval_ms", "<i8"), ("next_funding_ms", "<i8"), ("mark_price", "<f8"),
                      ("index_price", "<f8"), ("recv_ns", "<i8")])

    @property
    def next_funding_ts(self) -> int | None:
        """``next_funding_ms`` in ns since the epoch."""
        return _ns(self.next_funding_ms)


@dataclass(frozen=True, slots=True)
class MarkPrice(_Timestamped):
    """Mark (and index) price of a contract: the price margin and liquidations use.

    ``mark_price`` / ``index_price`` in quote per base (index None when not sent: OKX's
    mark-price channel carries only the mark).
    """

    exchange: str
    symbol: str
    ts_ms: int
    mark_price: float
    index_price: float | None = None
    recv_ns: int = 0

    KIND = "mark"
    DTYPE = np.dtype([("exchange", _EX), ("symbol", _SYM), ("ts", "<i8"), ("ts_ms", "<i8"),
                      ("mark_price", "<f8"), ("index_price", "<f8"), ("recv_ns", "<i8")])


@dataclass(frozen=True, slots=True)
class Liquidation(_Timestamped):
    """A forced closing of a position published by the exchange.

    Attributes
    ----------
    side : str
        Side of the **liquidated position**: ``"long"`` (closed by a sell order) or ``"short"``
        (closed by a buy).
    price : float
        Average fill price of the liquidation order, quote per base (Binance ``ap``).
    size : float
        Filled size, base currency (Binance ``l``, the last fill of the order).
    ts_ms : int
        Exchange fill time, ms since the epoch.
    """

    exchange: str
    symbol: str
    ts_ms: int
    side: str
    price: float
    size: float
    recv_ns: int = 0

    KIND = "liquidations"
    DTYPE = np.dtype([("exchange", _EX), ("symbol", _SYM), ("ts", "<i8"), ("ts_ms", "<i8"), ("side", "i1"),
                      ("price", "<f8"), ("size", "<f8"), ("recv_ns", "<i8")])

    @property
    def notional(self) -> float:
        return self.price * self.size


@dataclass(frozen=True, slots=True)
class OpenInterest(_Timestamped):
    """Open interest of a contract (polled: no ccxt.pro exchange streams it).

    Attributes
    ----------
    contracts : float | None
        Open contracts as the exchange counts them (Binance ``openInterest``, OKX ``oi``).
    size : float | None
        Base currency (contracts x contract size; OKX ``oiCcy``).
    value : float | None
        Quote currency, when the exchange gives it (OKX ``oiUsd``).
    """

    exchange: str
    symbol: str
    ts_ms: int
    contracts: float | None = None
    size: float | None = None
    value: float | None = None
    recv_ns: int = 0

    KIND = "open_interest"
    DTYPE = np.dtype([("exchange", _EX), ("symbol", _SYM), ("ts", "<i8"), ("ts_ms", "<i8"),
                      ("contracts", "<f8"), ("size", "<f8"), ("value", "<f8"), ("recv_ns", "<i8")])


@dataclass(frozen=True, slots=True)
class OrderBookDelta(_Timestamped):
    """One price level of a book that changed between two states (see
    :func:`liqcore.feed.deltas.book_deltas`, which diffs two books into these).

    Attributes
    ----------
    side : str
        ``"bid"`` or ``"ask"`` (``+1`` / ``-1`` in arrays).
    price : float
        The level's price, quote per base.
    size_before, size_after : float
        The level's size in base currency in the earlier and the later state; 0 = the level is
        absent (``size_before == 0``: it appeared; ``size_after == 0``: it was removed).
    ts_ms : int
        Time of the later state, ms since the epoch (``ts`` in ns).
    recv_ns : int
        Wall clock when the later state arrived, ns since the epoch (0 when unknown).

    Applying ``(side, price, size_after)`` of every delta to the earlier book gives the later
    one (size 0 deletes), as :meth:`liqcore.OrderBook.apply_deltas` does.
    """

    exchange: str
    symbol: str
    ts_ms: int
    side: str
    price: float
    size_before: float
    size_after: float
    recv_ns: int = 0

    DTYPE = np.dtype([("exchange", _EX), ("symbol", _SYM), ("ts", "<i8"), ("ts_ms", "<i8"), ("side", "i1"),
                      ("price", "<f8"), ("size_before", "<f8"), ("size_after", "<f8"), ("recv_ns", "<i8")])

    def __post_init__(self) -> None:
        # the side is the one field the array form cannot carry in any other spelling
        if self.side not in ("bid", "ask"):
            raise InvalidDeltaError(f"OrderBookDelta.side must be 'bid' or 'ask', got {self.side!r}")

    @property
    def change(self) -> float:
        """``size_after - size_before``, base currency (> 0: size added, < 0: size taken or pulled)."""
        return self.size_after - self.size_before

    @property
    def notional_change(self) -> float:
        """``change x price``, quote currency."""
        return (self.size_after - self.size_before) * self.price


#: the market-data records (what :class:`liqcore.feed.MarketData` streams)
Record = Union[Trade, FundingRate, MarkPrice, Liquidation, OpenInterest]
R = TypeVar("R", Trade, FundingRate, MarkPrice, Liquidation, OpenInterest, OrderBookDelta)
#: every record class :func:`to_array` / :func:`from_array` convert
RECORD_TYPES: tuple[type, ...] = (Trade, FundingRate, MarkPrice, Liquidation, OpenInterest, OrderBookDelta)
#: stream kind -> record class (the market-data streams; book deltas are derived from books, not streamed)
KINDS: dict[str, type] = {cls.KIND: cls for cls in (Trade, FundingRate, MarkPrice, Liquidation, OpenInterest)}

_SIDES = {"buy": 1, "sell": -1, "long": 1, "short": -1, "bid": 1, "ask": -1, None: 0}
_SIDE_NAMES: dict[type, dict[int, str | None]] = {
    Trade: {1: "buy", -1: "sell", 0: None}, Liquidation: {1: "long", -1: "short", 0: None},
    OrderBookDelta: {1: "bid", -1: "ask"}}


def _cell(cls: type, name: str, value: Any, kind: str) -> Any:
    if name == "side":
        return _SIDES[value]
    if kind == "S":
        raw = str(value).encode("ascii")
        width = cls.DTYPE[name].itemsize  # type: ignore[attr-defined]
        if len(raw) > width:
            raise ValueError(f"{cls.__name__}.{name} {value!r} is longer than {width} bytes")
        return raw
    if value is None:
        return math.nan if kind == "f" else -1
    return value


def to_array(records: Sequence[R] | Iterable[R], cls: type | None = None) -> np.ndarray:
    """A structured array (``cls.DTYPE``) of records of one class, in order. O(n).

    ``cls`` is needed for an empty input (else taken from the first record). Mixing classes
    raises TypeError. Strings longer than their field raise ValueError.
    """
    recs = list(records)
    if cls is None:
        if not recs:
            raise TypeError("to_array([]) needs cls= (the record class)")
        cls = type(recs[0])
    if cls not in RECORD_TYPES:
        raise TypeError(f"not a record class: {cls!r}")
    dtype: np.dtype = cls.DTYPE  # type: ignore[attr-defined]
    names = dtype.names or ()
    kinds = [dtype[n].kind for n in names]
    rows = []
    for r in recs:
        if type(r) is not cls:
            raise TypeError(f"to_array got a {type(r).__name__} among {cls.__name__} records")
        rows.append(tuple(_cell(cls, n, getattr(r, n), k) for n, k in zip(names, kinds)))
    return np.array(rows, dtype=dtype)


def from_array(array: np.ndarray, cls: type | None = None) -> list[Any]:
    """The records of a structured array made by :func:`to_array` (exact inverse). O(n)."""
    if cls is None:
        cls = next((c for c in RECORD_TYPES if c.DTYPE == array.dtype), None)  # type: ignore[attr-defined]
        if cls is None:
            raise TypeError(f"no record class has dtype {array.dtype}")
    field_names = [f.name for f in fields(cls)]
    dtype = array.dtype
    out = []
    for row in array.tolist():
        values = dict(zip(dtype.names or (), row))
        kw: dict[str, Any] = {}
        for name in field_names:
            v = values[name]
            k = dtype[name].kind
            if name == "side":
                v = _SIDE_NAMES[cls][int(v)]
            elif k == "S":
                v = v.decode("ascii")
            elif k == "f" and math.isnan(v):
                v = None
            elif k == "i" and v == -1 and name not in ("ts_ms", "recv_ns"):
                v = None
            kw[name] = v
        out.append(cls(**kw))
    return out
