"""The store's tables, described once for every backend.

Every table is keyed by ``(exchange, symbol, ts)``: ``exchange`` the ccxt id (at most 16 ASCII
bytes), ``symbol`` the unified symbol (at most 40), ``ts`` the event time in **ns since the epoch**
(int64), as in :mod:`liqcore.feed.records`. The other columns are of three kinds:

- **fixed**: a numpy scalar type (``<f8``, ``<i8``, ``i1``); prices in quote per base, sizes in
  base, notionals in quote; missing floats are NaN, missing integers ``-1``; sides ``+1``/``-1``
  (buy/long/bid, sell/short/ask) and ``0`` unknown;
- **text**: a str (or None), for free text and JSON;
- **array**: a variable number of items of a fixed all-float64 item type (the levels of a book, the
  walls of a report), with a fixed ``count`` column giving how many; read back as a NaN-padded
  sub-array as wide as the longest row of the result.

:data:`SCHEMA_VERSION` numbers the layout; each backend brings the migrations that reach it
(``liqcore/store/sqlite.py``). Changing a table here means adding a migration there (and a
test): ``tests/python/test_store_schema.py`` checks that the liquidity-report table still covers
every field of :attr:`liqcore.LiquidityReport.DTYPE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from liqcore import LiquidityReport

__all__ = ["Column", "Table", "TABLES", "SCHEMA_VERSION", "EXCHANGE_BYTES", "SYMBOL_BYTES", "LEVEL_DTYPE",
           "WALL_DTYPE", "CLUSTER_DTYPE", "REPORT_FIELDS"]

#: the layout version of this liqcore's tables (the highest migration every backend applies)
SCHEMA_VERSION = 2

EXCHANGE_BYTES = 16
SYMBOL_BYTES = 40

#: one book level: (price quote per base, size base)
LEVEL_DTYPE = np.dtype(("<f8", (2,)))
#: one wall / cluster of a liquidity report as float64 items (side +1 bid / -1 ask): the report's
#: own item types (:meth:`liqcore.LiquidityReport.walls_array`), little-endian on disk
WALL_DTYPE = LiquidityReport.WALL_DTYPE.newbyteorder("<")
CLUSTER_DTYPE = LiquidityReport.CLUSTER_DTYPE.newbyteorder("<")

#: the float fields of :attr:`liqcore.LiquidityReport.DTYPE`, in its order (schema v1)
REPORT_FIELDS = ("best_bid", "best_bid_size", "best_ask", "best_ask_size", "mid", "spread", "spread_bps",
                 "spread_pct", "bid_volume", "ask_volume", "total_volume", "bid_liquidity_1pct",
                 "ask_liquidity_1pct", "liquidity_1pct", "bid_liquidity_2pct", "ask_liquidity_2pct",
                 "liquidity_2pct", "imbalance_ratio", "imbalance", "weighted_imbalance", "slippage_bps", "score")


@dataclass(frozen=True)
class Column:
    """One column after the key.

    ``kind`` is ``"fixed"`` (``dtype`` a numpy scalar type), ``"text"`` or ``"array"`` (``dtype``
    the item type, ``count`` the fixed column holding the number of items). ``default`` is used
    when a row does not carry the column; ``REQUIRED`` (the default) makes it an error.
    ``side`` marks a fixed ``i1`` column that also accepts the words buy/sell/long/short/bid/ask.
    ``unique`` (text only): the column identifies a row; writing a row whose value is already
    stored replaces that row (the alerts' ``id``).
    """

    name: str
    kind: str
    dtype: np.dtype[Any] | None = None
    default: Any = "required"
    count: str | None = None
    side: bool = False
    unique: bool = False

    @property
    def required(self) -> bool:
        return isinstance(self.default, str) and self.default == "required"


@dataclass(frozen=True)
class Table:
    """A table: its name, its columns after the key, and whether its rows carry ``ts_ms`` (ms since
    the epoch, ``ts // 1_000_000``, derived on read: the feed records' arrays have it)."""

    name: str
    columns: tuple[Column, ...]
    ts_ms: bool = False
    doc: str = ""
    fixed: tuple[Column, ...] = field(init=False)
    variable: tuple[Column, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fixed", tuple(c for c in self.columns if c.kind == "fixed"))
        object.__setattr__(self, "variable", tuple(c for c in self.columns if c.kind != "fixed"))
        # a replaced row would leave its items behind (backends keep them apart): not needed so far
        assert not (any(c.unique for c in self.columns) and any(c.kind == "array" for c in self.columns))

    @property
    def names(self) -> tuple[str, ...]:
        """Every column of a read, in order: exchange, symbol, ts, (ts_ms), the columns."""
        return ("exchange", "symbol", "ts") + (("ts_ms",) if self.ts_ms else ()) + tuple(c.name for c in self.columns)

    @property
    def stored_dtype(self) -> np.dtype[Any]:
        """The packed fixed part of a row as a backend without column-wise binary reads stores it:
        ``ts`` then the fixed columns, little-endian, unaligned."""
        return np.dtype([("ts", "<i8")] + [(c.name, c.dtype) for c in self.fixed])

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _f(name: str, default: Any = "required") -> Column:
    return Column(name, "fixed", np.dtype("<f8"), default)


def _i(name: str, default: Any = "required") -> Column:
    return Column(name, "fixed", np.dtype("<i8"), default)


def _side(default: Any = "required") -> Column:
    return Column("side", "fixed", np.dtype("i1"), default, side=True)


_NAN = float("nan")

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("book_snapshots", (
        _i("update_id", -1),
        _i("n_bids", 0), _i("n_asks", 0),
        Column("bids", "array", LEVEL_DTYPE, count="n_bids"),
        Column("asks", "array", LEVEL_DTYPE, count="n_asks"),
    ), doc="the top N levels per side of a book: bids best first (price, size), asks best first; "
           "update_id the book's last update id (-1 unknown)"),
    Table("book_deltas", (
        _side(), _f("price"), _f("size_before"), _f("size_after"), _i("recv_ns", 0),
    ), ts_ms=True, doc="level changes between two states of a book (liqcore.feed.records.OrderBookDelta): "
                       "side +1 bid / -1 ask, sizes base, 0 = absent"),
    Table("liquidity_reports", (
        *(_f(n) for n in REPORT_FIELDS),
        _i("levels"), _i("walls", 0), _i("clusters", 0),
        Column("wall_list", "array", WALL_DTYPE, default=(), count="walls"),
        Column("cluster_list", "array", CLUSTER_DTYPE, default=(), count="clusters"),
    ), doc="every field of OrderBook.liquidity_report(): the numbers of LiquidityReport.DTYPE, and its "
           "walls and clusters (up to 16 each) as item arrays"),
    Table("liquidations", (
        _side(), _f("price"), _f("size"), _i("recv_ns", 0),
    ), ts_ms=True, doc="published liquidations (liqcore.feed.records.Liquidation): side of the liquidated "
                       "position +1 long / -1 short"),
    Table("liquidation_levels", (
        _f("price"), _f("bucket"), _side(), _f("size"), _f("notional"), _f("leverage", _NAN),
        Column("source", "text"),
    ), doc="cells of a liquidation map (liqcore.risk.LiquidationLevel) computed at ts: bucket "
           "[price, price + bucket) quote per base, side of the liquidated positions, source "
           "open / swept / exchange"),
    Table("open_interest", (
        _f("contracts", _NAN), _f("size", _NAN), _f("value", _NAN), _i("recv_ns", 0),
    ), ts_ms=True, doc="open interest (liqcore.feed.records.OpenInterest): contracts, base, quote"),
    Table("funding_rates", (
        _f("rate"), _i("interval_ms", -1), _i("next_funding_ms", -1), _f("mark_price", _NAN),
        _f("index_price", _NAN), _i("recv_ns", 0),
    ), ts_ms=True, doc="funding rates (liqcore.feed.records.FundingRate): rate per interval"),
    Table("mark_prices", (
        _f("mark_price"), _f("index_price", _NAN), _i("recv_ns", 0),
    ), ts_ms=True, doc="mark and index prices (liqcore.feed.records.MarkPrice)"),
    Table("alerts", (
        Column("id", "text", unique=True), Column("type", "text"), Column("severity", "text"),
        Column("metric", "text", default=None), _f("current"), _f("baseline"), _f("deviation_pct"), _f("z", _NAN),
        Column("message", "text", default=None), Column("suggested_action", "text", default=None),
        Column("requires_action", "fixed", np.dtype("i1"), default=0), _i("ended_ts", -1),
        Column("baseline_values", "text", default=None),
    ), doc="liquidity alerts (the LiquidityAlert record): ts the start of the episode, ended_ts its end "
           "(ns, -1 while open), deviation in percent, baseline_values the baseline as JSON so the "
           "alert can be replayed; writing an alert whose id is stored replaces it"),
)}
