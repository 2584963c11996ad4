"""Liquidation map: an estimate of where the positions opened in a window would be liquidated,
from open-interest changes and trades -- the data behind a liquidation heatmap.

The model (docs/risk.md "Liquidation map" says why each step is so, and its limits):

1. Open-interest snapshots ``OI_0 .. OI_n`` (base currency) cut time into intervals
   ``(t_{i-1}, t_i]``. The trades inside interval ``i`` give its VWAP (the entry price of what
   opened there), its low and its high. An interval without trades carries the last traded
   price and sweeps nothing.
2. **Opening**: when OI rises by ``d > 0``, ``d`` of new longs and ``d`` of new shorts open at the
   VWAP (every contract has one long and one short holder), split over the leverage distribution
   ``{L: w}`` (weights normalised to 1). A position of leverage ``L`` whose margin is its initial
   margin (isolated, no added margin) is liquidated at::

       long  LP = E (1 - 1/L) / (1 - m)          short  LP = E (1 + 1/L) / (1 + m)

   with ``m`` the maintenance margin rate: Binance USD-M's isolated formula (analytics.md §6.1)
   with ``WB = Q E / L`` and ``cum = 0``, i.e. :func:`liqcore.risk.liquidation_price` of such a
   position on a one-tier table (a test checks they agree). A long of ``L <= 1`` is never
   liquidated and is left out of the map (counted in ``unliquidatable``).
3. **Closing**: when OI falls by ``d > 0``, a fraction ``d / OI_{i-1}`` of every open position
   closes (pro rata: who closed is not observable).
4. **Sweeps**: in a later interval ``j``, a long whose LP is at or above the interval's low (a
   short: at or below its high) is liquidated: it leaves the map and is counted as *swept* at
   its LP. Sweeps of an interval happen before its opening and closing.
5. The map is the histogram, by LP, of what is still open: buckets of width ``bucket`` aligned on
   its multiples (maps of different times line up), per side and per leverage, in base
   (``size``) and quote (``size x LP``).

Units: sizes in base, prices and notionals in quote, the maintenance rate as a fraction, times in
ms since the epoch. Complexity: O(T + C log n) for T trades, n intervals and C = 2 x n x
(leverages) cohorts (binary lifting over a sparse table of interval lows and highs finds each
cohort's first sweep), plus O(B) for B buckets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from liqcore.errors import RiskInputError
from liqcore.feed.records import Liquidation, OpenInterest, Trade, to_array
from liqcore.risk.checks import choice, number
from liqcore.risk.records import SIDES, LiquidationLevel

__all__ = ["DEFAULT_LEVERAGES", "MAX_BUCKETS", "LiquidationMap", "LiquidationOverlay", "liquidation_map"]

#: The default leverage distribution {leverage: weight}: a prior, not a measurement (no exchange
#: publishes it). Most retail perpetual positions are taken at 10-25x, with tails at 5x and at
#: 50-100x, which is how public heatmaps present their leverage layers; pass your own.
DEFAULT_LEVERAGES: Mapping[float, float] = {5.0: 0.10, 10.0: 0.30, 20.0: 0.25, 25.0: 0.15, 50.0: 0.15, 100.0: 0.05}

#: Buckets a map may have: a bucket far too small for the price range is refused, not allocated.
MAX_BUCKETS = 1_000_000

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LiquidationOverlay:
    """Liquidations an exchange published (:class:`liqcore.feed.Liquidation`), binned on a
    map's buckets to lay over it: ``long`` / ``short`` in base per bucket (the side of the
    liquidated position), ``long_notional`` / ``short_notional`` in quote (fill price x size),
    ``outside_long`` / ``outside_short`` the base that fell outside the map's price range (kept,
    not dropped), ``events`` how many records were binned."""

    exchange: str
    symbol: str
    edges: F64
    long: F64
    short: F64
    long_notional: F64
    short_notional: F64
    outside_long: float
    outside_short: float
    events: int

    def levels(self) -> list[LiquidationLevel]:
        """One :class:`LiquidationLevel` (source ``"exchange"``, leverage unknown) per non-empty
        bucket and side, by price. O(buckets)."""
        return _levels(self.exchange, self.symbol, self.edges, "exchange",
                       [("long", None, self.long, self.long_notional),
                        ("short", None, self.short, self.short_notional)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (arrays as lists)."""
        return _plain(self)


@dataclass(frozen=True)
class LiquidationMap:
    """The result of :func:`liquidation_map`.

    Buckets: ``edges`` (quote per base, ascending, ``len = buckets + 1``); bucket ``k`` holds the
    liquidation prices in ``[edges[k], edges[k+1])``. Per side, arrays of shape
    ``(len(leverages), buckets)``:

    - ``long`` / ``short``: base still open that would be liquidated in the bucket;
    - ``long_notional`` / ``short_notional``: the same in quote at the liquidation price;
    - ``swept_long`` / ``swept_short`` (base) and ``swept_long_notional`` /
      ``swept_short_notional`` (quote at the LP): estimated liquidated within the window (the
      price went through their LP), binned the same way -- compare with :meth:`overlay`.

    Totals in base: ``opened`` by OI rises with a known price (per side: each contract has a long
    and a short holder), ``unplaced`` (OI rises before any trade: no entry price),
    ``closed_long`` / ``closed_short`` pro rata by OI falls (they differ when sweeps took one side
    first); ``outside_long`` / ``outside_short``: base (open or swept) whose LP is outside
    ``price_range``; ``unliquidatable``: longs at leverage <= 1, out of the map. Per side,
    ``opened`` = open + swept + closed + outside (+ unliquidatable for longs). ``price`` is the last traded price,
    ``ts_ms`` the last snapshot's time. Arrays are owned by the map (do not write to them).
    """

    exchange: str
    symbol: str
    ts_ms: int
    price: float
    bucket: float
    mmr: float
    leverages: F64
    weights: F64
    edges: F64
    long: F64
    short: F64
    long_notional: F64
    short_notional: F64
    swept_long: F64
    swept_short: F64
    swept_long_notional: F64
    swept_short_notional: F64
    opened: float
    unplaced: float
    closed_long: float
    closed_short: float
    outside_long: float
    outside_short: float
    unliquidatable: float
    intervals: int = field(default=0)

    @property
    def buckets(self) -> int:
        """Number of price buckets."""
        return len(self.edges) - 1

    def by_bucket(self, side: str, *, notional: bool = False, swept: bool = False) -> F64:
        """Per bucket, summed over leverages: base (or quote with ``notional``) of ``side``'s
        positions liquidated there -- still open, or ``swept`` in the window. O(buckets x
        leverages)."""
        s = choice("side", side, SIDES)
        name = ("swept_" if swept else "") + s + ("_notional" if notional else "")
        out: F64 = getattr(self, name).sum(axis=0)
        return out

    def cumulative(self, side: str) -> F64:
        """Quote notional liquidated if the price reaches each bucket, per bucket: for longs the
        sum over that bucket and every bucket above it up to the current price (a fall to the
        bucket's lower edge), for shorts over that bucket and every bucket below it down to the
        current price (a rise to its upper edge). Buckets on the wrong side of the price are 0.
        O(buckets)."""
        s = choice("side", side, SIDES)
        per = self.by_bucket(s, notional=True)
        lows, highs = self.edges[:-1], self.edges[1:]
        if s == "long":
            per = np.where(lows < self.price, per, 0.0)
            out: F64 = np.cumsum(per[::-1])[::-1]
            return np.where(lows < self.price, out, 0.0)
        per = np.where(highs > self.price, per, 0.0)
        out = np.cumsum(per)
        return np.where(highs > self.price, out, 0.0)

    def levels(self, *, swept: bool = False, min_notional: float = 0.0) -> list[LiquidationLevel]:
        """The map as records: one :class:`LiquidationLevel` per (bucket, side, leverage) whose
        notional is > ``min_notional`` (quote), source ``"open"`` (or ``"swept"``), by price.
        O(buckets x leverages)."""
        floor = number("min_notional", min_notional, low=0.0, low_open=False)
        pre = "swept_" if swept else ""
        rows = [(side, lev, getattr(self, pre + side)[k], getattr(self, pre + side + "_notional")[k])
                for k, lev in enumerate(self.leverages.tolist()) for side in SIDES]
        return [lv for lv in _levels(self.exchange, self.symbol, self.edges, "swept" if swept else "open", rows)
                if lv.notional > floor]

    def overlay(self, liquidations: Sequence[Liquidation] | npt.NDArray[Any]) -> LiquidationOverlay:
        """Bin published liquidations (``MarketData`` ``"liquidations"`` records, or a structured
        array of ``Liquidation.DTYPE``) on this map's buckets by their fill price. Records of
        another exchange or symbol than the map's (when the map has them) are refused. O(events)."""
        arr = _records(liquidations, Liquidation, "liquidations", allow_empty=True)
        _same_market(arr, self.exchange, self.symbol, "liquidations")
        price, size, side = arr["price"], arr["size"], arr["side"]
        for name, col in (("price", price), ("size", size)):
            _finite_positive(f"liquidations.{name}", col)
        if np.any(side == 0):
            raise RiskInputError("liquidations.side: a record without a side (long or short)")
        idx = _bucket_index(price, self.bucket, round(self.edges[0] / self.bucket), self.buckets)
        inside = idx >= 0
        out: dict[str, Any] = {}
        for name, sign in (("long", 1), ("short", -1)):
            sel = inside & (side == sign)
            out[name] = _hist(idx[sel], size[sel], self.buckets)
            out[name + "_notional"] = _hist(idx[sel], (price * size)[sel], self.buckets)
            out["outside_" + name] = float(size[~inside & (side == sign)].sum())
        return LiquidationOverlay(exchange=self.exchange, symbol=self.symbol, edges=self.edges,
                                  events=len(arr), **out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (arrays as nested lists)."""
        return _plain(self)


def liquidation_map(open_interest: Sequence[OpenInterest] | npt.NDArray[Any],
                    trades: Sequence[Trade] | npt.NDArray[Any], *,
                    leverages: Mapping[float, float] = DEFAULT_LEVERAGES, mmr: float = 0.004,
                    bucket: float | None = None, price_range: tuple[float, float] | None = None) -> LiquidationMap:
    """Estimate where the positions opened over a window would be liquidated (module docstring).

    - ``open_interest``: at least two snapshots of one contract, as ``OpenInterest`` records
      (``MarketData`` ``"open_interest"``) or a structured array of ``OpenInterest.DTYPE``; the
      ``size`` field (base) is used; times strictly increasing once sorted.
    - ``trades``: the contract's trades (``Trade`` records or a ``Trade.DTYPE`` array) over the
      window; the last one at or before the first snapshot gives the starting price, those after
      the last snapshot are ignored.
    - ``leverages``: ``{leverage: weight}`` (leverage > 0, weights >= 0, not all 0); default
      :data:`DEFAULT_LEVERAGES`.
    - ``mmr``: maintenance margin rate, in [0, 1) (0.004: Binance's first BTCUSDT tier).
    - ``bucket``: bucket width, quote per base; default 10 bps of the last price rounded down to
      1, 2 or 5 x 10^k (60,000 -> 50).
    - ``price_range``: ``(low, high)`` quote: only buckets within it (what falls outside is
      totalled in ``outside_long`` / ``outside_short``).

    Raises RiskInputError naming the argument for records of mixed markets, missing or
    non-finite sizes and prices, repeated snapshot times, a bucket that would make more than
    :data:`MAX_BUCKETS` buckets, and bad parameters; nothing is computed then.
    """
    levs, weights = _leverage_mix(leverages)
    m = number("mmr", mmr, low=0.0, low_open=False, high=1.0, high_open=True)
    oi_arr = _records(open_interest, OpenInterest, "open_interest", allow_empty=False)
    exchange, symbol = _market(oi_arr, "open_interest")
    tr_arr = _records(trades, Trade, "trades", allow_empty=True)
    _same_market(tr_arr, exchange, symbol, "trades")
    if price_range is not None:
        if not isinstance(price_range, (tuple, list)) or len(price_range) != 2:
            raise RiskInputError(f"price_range: expected (low, high), got {price_range!r}")
        lo_p = number("price_range[0]", price_range[0], low=0.0, low_open=False)
        hi_p = number("price_range[1]", price_range[1], low=lo_p)

    order = np.argsort(oi_arr["ts_ms"], kind="stable")
    snap_ts = oi_arr["ts_ms"][order]
    oi = oi_arr["size"][order].astype(np.float64)
    if len(oi) < 2:
        raise RiskInputError("open_interest: at least two snapshots are needed (the changes make the map)")
    if np.any(np.isnan(oi)):
        raise RiskInputError(f"open_interest[{int(np.argmax(np.isnan(oi)))}].size: missing (base size is needed)")
    _finite_positive("open_interest.size", oi, allow_zero=True)
    if np.any(np.diff(snap_ts) <= 0):
        raise RiskInputError("open_interest: two snapshots share a time")

    t_order = np.argsort(tr_arr["ts_ms"], kind="stable")
    t_ts, t_px, t_sz = tr_arr["ts_ms"][t_order], tr_arr["price"][t_order], tr_arr["size"][t_order]
    _finite_positive("trades.price", t_px)
    _finite_positive("trades.size", t_sz, allow_zero=True)

    n = len(oi) - 1                                      # intervals
    # interval of each trade: ts[j] < t <= ts[j+1] -> j; before the window -> -1; after -> n
    j_of = np.searchsorted(snap_ts, t_ts, side="left") - 1
    inside = (j_of >= 0) & (j_of < n)
    ji, pi, si = j_of[inside], t_px[inside], t_sz[inside]
    volume = np.bincount(ji, weights=si, minlength=n)
    turnover = np.bincount(ji, weights=pi * si, minlength=n)
    traded = np.bincount(ji, minlength=n) > 0
    low = np.full(n, np.inf)
    high = np.full(n, -np.inf)
    np.minimum.at(low, ji, pi)
    np.maximum.at(high, ji, pi)
    last = np.full(n, np.nan)
    last[ji] = pi                                        # trades sorted by time: the last write wins
    before = t_px[j_of < 0]
    start = float(before[-1]) if len(before) else math.nan
    carried = _carry_forward(last, start)                # the last price at each interval's end
    prior = np.concatenate(([start], carried[:-1]))      # ... at each interval's start
    vwap = np.where(volume > 0, turnover / np.where(volume > 0, volume, 1.0), prior)
    entry = np.where(traded & (volume == 0), prior, vwap)  # zero-size prints: no VWAP, keep the price

    d = np.diff(oi)
    # closure factor of each interval (pro rata), and its running product in logs (zeros apart)
    f = np.where(d < 0, oi[1:] / np.where(oi[:-1] > 0, oi[:-1], 1.0), 1.0)
    zeros = np.cumsum(f == 0.0)
    logs = np.cumsum(np.log(np.where(f > 0.0, f, 1.0)))

    opening = np.flatnonzero((d > 0) & np.isfinite(entry))
    unplaced = float(d[(d > 0) & ~np.isfinite(entry)].sum())
    closed: dict[str, float] = {}
    nl = len(levs)
    grids: dict[str, dict[str, F64]] = {}
    lp_all: list[F64] = []
    cohorts: dict[str, tuple[F64, F64, F64, npt.NDArray[np.int64], npt.NDArray[np.int64]]] = {}
    unliquidatable = 0.0
    for side in SIDES:
        e = np.repeat(entry[opening], nl)
        born = np.repeat(opening, nl)
        lev = np.tile(levs, len(opening))
        size = np.repeat(d[opening], nl) * np.tile(weights, len(opening))
        lp = e * (1.0 - 1.0 / lev) / (1.0 - m) if side == "long" else e * (1.0 + 1.0 / lev) / (1.0 + m)
        if side == "long":
            ok = lp > 0.0
            unliquidatable = float(size[~ok].sum())
            e, born, lev, size, lp = e[ok], born[ok], lev[ok], size[ok], lp[ok]
        first = _first_sweep(low if side == "long" else -high, lp if side == "long" else -lp, born + 1)
        swept = first < n
        # size at the start of the sweeping interval, or at the end of the window
        upto = np.where(swept, first - 1, n - 1)
        alive = np.where(zeros[upto] > zeros[born], 0.0, np.exp(logs[upto] - logs[born])) * size
        closed[side] = float((size - alive).sum())       # what pro-rata closing took before a sweep / the end
        k = np.searchsorted(levs, lev)
        cohorts[side] = (lp, alive, swept.astype(np.float64), k, born)
        lp_all.append(lp)
    opened = float(d[opening].sum())

    price = float(carried[-1]) if n and np.isfinite(carried[-1]) else start
    b = _bucket(bucket, price)
    lps = np.concatenate(lp_all) if lp_all else np.empty(0)
    if price_range is not None:
        lo_k, hi_k = math.floor(lo_p / b), max(math.floor(lo_p / b), math.ceil(hi_p / b) - 1)
    elif len(lps):
        lo_k, hi_k = math.floor(float(lps.min()) / b), math.floor(float(lps.max()) / b)
    else:
        lo_k = hi_k = math.floor(price / b) if math.isfinite(price) else 0
    nb = hi_k - lo_k + 1
    if nb > MAX_BUCKETS:
        raise RiskInputError(f"bucket: {b:g} makes {nb} buckets over the price range (at most {MAX_BUCKETS})")
    edges = (np.arange(lo_k, hi_k + 2, dtype=np.float64)) * b
    outside = {}
    for side in SIDES:
        lp, alive, swept_f, k, _ = cohorts[side]
        idx = _bucket_index(lp, b, lo_k, nb)
        ins = idx >= 0
        flat = k * nb + idx
        open_w = alive * (1.0 - swept_f)
        grids[side] = {name: _hist(flat[ins], w[ins], nl * nb).reshape(nl, nb)
                       for name, w in (("open", open_w), ("notional", open_w * lp), ("swept", alive * swept_f),
                                       ("swept_notional", alive * swept_f * lp))}
        outside[side] = float(alive[~ins].sum())
    return LiquidationMap(
        exchange=exchange, symbol=symbol, ts_ms=int(snap_ts[-1]), price=price, bucket=b, mmr=m, leverages=levs,
        weights=weights, edges=edges, long=grids["long"]["open"], short=grids["short"]["open"],
        long_notional=grids["long"]["notional"], short_notional=grids["short"]["notional"],
        swept_long=grids["long"]["swept"], swept_short=grids["short"]["swept"],
        swept_long_notional=grids["long"]["swept_notional"], swept_short_notional=grids["short"]["swept_notional"],
        opened=opened, unplaced=unplaced,
        closed_long=closed["long"], closed_short=closed["short"], outside_long=outside["long"], outside_short=outside["short"],
        unliquidatable=unliquidatable, intervals=n)


def _first_sweep(low: F64, lp: F64, start: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """For each cohort, the first interval ``j >= start`` with ``low[j] <= lp`` (``len(low)`` when
    none): binary lifting over a sparse table of range minima. (Shorts pass ``-high`` and
    ``-lp``.) O(n log n + C log n)."""
    n = len(low)
    table = [low]
    step = 1
    while 2 * step <= n:
        prev = table[-1]
        table.append(np.minimum(prev[:-step], prev[step:]))
        step *= 2
    pos = start.copy()
    for level in range(len(table) - 1, -1, -1):
        span = 1 << level
        block = table[level]
        can = pos + span <= n
        idx = np.flatnonzero(can)
        skip = block[pos[idx]] > lp[idx]               # nothing in [pos, pos + span) reaches lp
        pos[idx[skip]] += span
    return pos


def _bucket_index(prices: F64, bucket: float, first: int, n: int) -> npt.NDArray[np.int64]:
    """Bucket ``floor(p / bucket) - first`` of each price, -1 outside ``[0, n)`` (computed in
    floats first, so a price far out of range cannot overflow int64). O(len(prices))."""
    k = np.floor(prices / bucket) - first
    inside = (k >= 0) & (k < n)
    return np.where(inside, k, -1).astype(np.int64)


def _hist(idx: npt.NDArray[np.int64], weights: F64, n: int) -> F64:
    """Sum of ``weights`` per bin ``idx`` in ``[0, n)``. O(len(idx) + n)."""
    out: F64 = np.bincount(idx, weights=weights, minlength=n).astype(np.float64, copy=False)
    return out


def _carry_forward(last: F64, start: float) -> F64:
    """``last`` with every NaN replaced by the latest non-NaN before it (``start`` before the
    first). O(n)."""
    filled = np.concatenate(([start], last))
    idx = np.where(np.isfinite(filled), np.arange(len(filled)), 0)
    np.maximum.accumulate(idx, out=idx)
    out: F64 = filled[idx][1:]
    return out


def _leverage_mix(leverages: Mapping[float, float]) -> tuple[F64, F64]:
    """Sorted leverages and normalised weights; refuses leverage <= 0, weight < 0 or all 0."""
    if not isinstance(leverages, Mapping) or not leverages:
        raise RiskInputError(f"leverages: expected a non-empty {{leverage: weight}} mapping, got {leverages!r}")
    pairs = sorted((number("leverages key", k, low=0.0), number(f"leverages[{k!r}]", w, low=0.0, low_open=False))
                   for k, w in leverages.items())
    levs = np.array([p[0] for p in pairs])
    if np.any(np.diff(levs) == 0):
        raise RiskInputError("leverages: a leverage appears twice")
    w = np.array([p[1] for p in pairs])
    if w.sum() <= 0.0:
        raise RiskInputError("leverages: the weights are all 0")
    return levs, w / w.sum()


def _bucket(bucket: float | None, price: float) -> float:
    if bucket is not None:
        return number("bucket", bucket, low=0.0)
    if not math.isfinite(price):
        raise RiskInputError("bucket: no trade to size the default bucket from; pass bucket=")
    raw = price * 1e-3
    unit = 10.0 ** math.floor(math.log10(raw))
    return max(s for s in (1.0, 2.0, 5.0) if s * unit <= raw * (1 + 1e-12)) * unit


def _records(data: Any, cls: type, name: str, *, allow_empty: bool) -> npt.NDArray[Any]:
    """A structured array of ``cls.DTYPE`` from records or such an array."""
    dtype = cls.DTYPE  # type: ignore[attr-defined]
    if isinstance(data, np.ndarray):
        if data.dtype != dtype or data.ndim != 1:
            raise RiskInputError(f"{name}: expected {cls.__name__} records or a 1-D array of {cls.__name__}.DTYPE")
        arr = data
    else:
        if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
            raise RiskInputError(f"{name}: expected {cls.__name__} records, got {type(data).__name__}")
        recs = list(data)
        for k, r in enumerate(recs):
            if type(r) is not cls:
                raise RiskInputError(f"{name}[{k}]: expected a {cls.__name__}, got {type(r).__name__}")
        try:
            arr = to_array(recs, cls)
        except (TypeError, ValueError) as e:
            raise RiskInputError(f"{name}: {e}") from None
    if not allow_empty and len(arr) == 0:
        raise RiskInputError(f"{name} is empty")
    return arr


def _market(arr: npt.NDArray[Any], name: str) -> tuple[str, str]:
    """The one (exchange, symbol) of the records."""
    ex, sym = arr["exchange"], arr["symbol"]
    other = (ex != ex[0]) | (sym != sym[0])           # vectorised: a million trades are compared in C
    if np.any(other):
        k = int(np.argmax(other))
        raise RiskInputError(f"{name}: records of several markets ({ex[0]!r} {sym[0]!r} and {ex[k]!r} "
                             f"{sym[k]!r} at [{k}]): one map per contract")
    return ex[0].decode("ascii"), sym[0].decode("ascii")


def _same_market(arr: npt.NDArray[Any], exchange: str, symbol: str, name: str) -> None:
    if not len(arr):
        return
    ex, sym = _market(arr, name)
    if (exchange and ex != exchange) or (symbol and sym != symbol):
        raise RiskInputError(f"{name}: records of {ex} {sym}, the map is of {exchange} {symbol}")


def _finite_positive(name: str, col: F64, *, allow_zero: bool = False) -> None:
    bad = ~np.isfinite(col) | ((col < 0.0) if allow_zero else (col <= 0.0))
    if np.any(bad):
        k = int(np.argmax(bad))
        raise RiskInputError(f"{name}[{k}]: must be finite and {'>=' if allow_zero else '>'} 0, got {col[k]!r}")


def _levels(exchange: str, symbol: str, edges: F64, source: str,
            rows: list[tuple[str, float | None, F64, F64]]) -> list[LiquidationLevel]:
    width = float(edges[1] - edges[0]) if len(edges) > 1 else 0.0
    out = []
    for side, lev, sizes, notionals in rows:
        for k in np.flatnonzero(sizes > 0.0).tolist():
            out.append(LiquidationLevel(exchange=exchange, symbol=symbol, price=float(edges[k]), bucket=width,
                                        side=side, size=float(sizes[k]), notional=float(notionals[k]),
                                        leverage=lev, source=source))
    out.sort(key=lambda lv: (lv.price, lv.side, -1.0 if lv.leverage is None else lv.leverage))
    return out


def _plain(obj: Any) -> dict[str, Any]:
    return {f: (v.tolist() if isinstance(v, np.ndarray) else v)
            for f in obj.__dataclass_fields__ for v in (getattr(obj, f),)}
