# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Analytics records and the liquidity report: the binding of ``src/analytics.c`` and
``src/liquidity.c`` results (:class:`WalkResult`, :class:`Wall`, :class:`Cluster`,
:class:`LiquidityReport`, :func:`liquidity_score`) and the readers of the analytics
methods' arguments.

The methods themselves are :class:`~liqcore.OrderBook`'s (``walk``, ``walls``,
``liquidity_report`` ...): the book checks it is free and passes its C book here; this module
never holds a book. The numbers are computed in C; this module builds the Python records.
"""

cimport cython
from cpython.long cimport PyLong_AsLongLongAndOverflow
from libc.math cimport NAN

cimport numpy as cnp
import numpy as np

from liqcore._clib cimport *
from liqcore._status cimport _error

cnp.import_array()

# ---------------------------------------------------------------- arguments of the analytics methods

#: Imbalance weightings by name (OrderBook.imbalance).
_WEIGHTINGS = {
    "plain": LIQ_WEIGHT_PLAIN,
    "linear": LIQ_WEIGHT_LINEAR,
    "inverse": LIQ_WEIGHT_INVERSE,
    "exp": LIQ_WEIGHT_EXP,
}


cdef double _as_double(object v, str where) except? -1.0:
    """A real number argument as a double (NaN/inf pass through for C to judge)."""
    cdef int ovf = 0
    cdef long long x
    if type(v) is float:
        return v
    if type(v) is int:                  # the usual int argument (walls(200)), without a call
        x = PyLong_AsLongLongAndOverflow(v, &ovf)
        if not ovf and -(1 << 53) <= x <= (1 << 53):
            return <double>x
    if isinstance(v, (str, bytes, bool)) or v is None:
        raise _error(LIQ_ERR_ARG, where, f"expected a number, got {v!r}")
    try:
        return float(v)
    except (TypeError, ValueError, OverflowError):
        raise _error(LIQ_ERR_ARG, where, f"expected a number, got {v!r}") from None


cdef size_t _as_size(object v, str where) except? 0:
    """A count argument (levels, window, limit) as a size_t: an int in 0..2**62 (larger
    counts are clamped: no book holds that many levels); InvalidDeltaError otherwise."""
    cdef int ovf = 0
    cdef long long x
    if type(v) is int:
        x = PyLong_AsLongLongAndOverflow(v, &ovf)
        if not ovf and 0 <= x < (1 << 62):
            return <size_t>x
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and v >= 0:
        return <size_t>min(int(v), 1 << 62)
    raise _error(LIQ_ERR_ARG, where, f"expected an integer >= 0, got {v!r}")


cdef int _ref_of(object reference, str where) except -1:
    if reference == "mid":
        return LIQ_REF_MID
    if reference == "touch":
        return LIQ_REF_TOUCH
    raise _error(LIQ_ERR_ARG, where, f"reference must be 'mid' or 'touch', got {reference!r}")


cdef double _band_bps(object band_bps, object pct, str where) except? -1.0:
    """Band half-width in bps from exactly one of band_bps / pct (percent)."""
    if (band_bps is None) == (pct is None):
        raise _error(LIQ_ERR_ARG, where, "give exactly one of band_bps and pct")
    if band_bps is not None:
        return _as_double(band_bps, where)
    return _as_double(pct, where) * 100.0


cdef int _weighting(object name, str where) except -1:
    """An imbalance weighting by name (a key of _WEIGHTINGS)."""
    w = _WEIGHTINGS.get(name) if isinstance(name, str) else None
    if w is None:
        raise _error(LIQ_ERR_ARG, where, f"weighting must be one of {sorted(_WEIGHTINGS)}, got {name!r}")
    return w


cdef liq_shape_params _shape_params(double band_bps, size_t window, double ratio, double z, double cluster_ratio,
                                    int64_t gap_ticks, str where) except *:
    """Walls/clusters parameters, checked (InvalidDeltaError naming them all when one is bad)."""
    cdef liq_shape_params p = liq_shape_defaults()
    p.band_bps, p.window, p.ratio, p.z_min = band_bps, window, ratio, z
    p.cluster_ratio, p.gap_ticks = cluster_ratio, gap_ticks
    if not (band_bps >= 0) or window < 1 or window > LIQ_WALL_WINDOW_MAX or not (ratio >= 0) \
            or not (z >= 0) or (ratio == 0 and z == 0) or not (cluster_ratio >= 0) or gap_ticks < 1:
        raise _error(LIQ_ERR_ARG, where, f"band_bps={band_bps}, window={window} (1..{LIQ_WALL_WINDOW_MAX}), "
                                         f"ratio={ratio}, z={z}, cluster ratio={cluster_ratio}, gap_ticks={gap_ticks}")
    return p


# ---------------------------------------------------------------- records

cdef class WalkResult:
    """Outcome of :meth:`OrderBook.walk` (immutable).

    Attributes
    ----------
    vwap : float
        Average fill price, quote per base (NaN if nothing filled).
    worst_price : float
        Price of the last level touched (NaN if nothing filled).
    filled : float
        Base quantity filled.
    notional : float
        Quote notional filled.
    levels : int
        Levels consumed; the last one may be partial.
    slippage_bps, slippage_mid_bps : float
        ``D*(vwap - ref)/ref*1e4`` against the touch / the mid, D = +1 buy, -1 sell
        (adverse is positive). NaN if nothing filled or the reference is undefined.
    unfilled : float
        Part of the request left over, in its unit (base for ``quantity``, quote for
        ``notional``).
    complete : bool
        The whole request was filled.
    """

    cdef liq_walk_result _r
    cdef bint _quote

    def __init__(self):
        raise TypeError("WalkResult is returned by OrderBook.walk()")

    @property
    def vwap(self):
        return self._r.vwap

    @property
    def worst_price(self):
        return self._r.worst_px

    @property
    def filled(self):
        return self._r.filled

    @property
    def notional(self):
        return self._r.notional

    @property
    def levels(self):
        return self._r.levels

    @property
    def slippage_bps(self):
        return self._r.slippage_bps

    @property
    def slippage_mid_bps(self):
        return self._r.slippage_mid_bps

    @property
    def unfilled(self):
        return self._r.unfilled

    @property
    def complete(self):
        return bool(self._r.complete)

    def _asdict(self):
        """The attributes as a dict (field order as in the class docstring)."""
        return {"vwap": self.vwap, "worst_price": self.worst_price, "filled": self.filled,
                "notional": self.notional, "levels": self.levels, "slippage_bps": self.slippage_bps,
                "slippage_mid_bps": self.slippage_mid_bps, "unfilled": self.unfilled,
                "complete": self.complete}

    def __repr__(self):
        unit = " quote" if self._quote else ""
        return (f"WalkResult(vwap={self.vwap!r}, worst_price={self.worst_price!r}, filled={self.filled!r}, "
                f"notional={self.notional!r}, levels={self.levels}, slippage_bps={self.slippage_bps!r}, "
                f"slippage_mid_bps={self.slippage_mid_bps!r}, unfilled={self.unfilled!r}{unit}, "
                f"complete={self.complete})")

    def __reduce__(self):
        return (_walk_result, (self._asdict(), self._quote))


def _walk_result(d, quote):
    """Rebuild a WalkResult from its fields (pickling)."""
    cdef WalkResult res = WalkResult.__new__(WalkResult)
    res._r.vwap = d["vwap"]
    res._r.worst_px = d["worst_price"]
    res._r.filled = d["filled"]
    res._r.notional = d["notional"]
    res._r.levels = d["levels"]
    res._r.slippage_bps = d["slippage_bps"]
    res._r.slippage_mid_bps = d["slippage_mid_bps"]
    res._r.unfilled = d["unfilled"]
    res._r.complete = d["complete"]
    res._quote = quote
    return res



cdef object _walk(const liq_walk_result *r, bint quote):
    """A WalkResult of a C walk (quote: the request was a notional)."""
    cdef WalkResult res = WalkResult.__new__(WalkResult)
    res._r = r[0]
    res._quote = quote
    return res


def liquidity_score(double spread_bps, double depth_1pct_quote, double slippage_bps, half_life_s=None, *,
                    double depth_half=500_000.0):
    """0-1 liquidity score (shared/research/analytics.md §4.5)::

        s_spread = exp(-spread_bps / 10)          s_depth = D1 / (D1 + depth_half)
        s_slip   = exp(-slippage_bps / 25)        s_resil = exp(-half_life_s / 30)
        score    = 0.25 s_spread + 0.35 s_depth + 0.25 s_slip + 0.15 s_resil

    D1: quote liquidity within 1% of mid; slippage of a reference order in bps (>= 0);
    half-life of depth recovery after a shock in seconds (None: unknown, the other weights
    are renormalised). Monotone in each input. NaN for invalid inputs.
    """
    cdef double hl = NAN if half_life_s is None else <double>half_life_s
    return liq_liquidity_score(spread_bps, depth_1pct_quote, slippage_bps, hl, depth_half)


@cython.auto_pickle(False)   # built by OrderBook methods; plain data, no pickling protocol
cdef class Wall:
    """A liquidity wall (:meth:`OrderBook.walls`). ``side`` "bid"/"ask"; ``price``, ``size``
    (base), ``notional`` (quote); ``strength`` = size/median; ``z`` robust z; ``confidence``
    = 1 - exp(-z/3.5) in 0..1 (from this book alone: see WallTracker for persistence);
    ``distance_bps`` from the mid; ``rank`` = level index from the touch (0 = best)."""
    cdef readonly str side
    cdef readonly double price, size, notional, strength, z, confidence, distance_bps
    cdef readonly size_t rank

    def __init__(self):
        raise TypeError("Wall is returned by OrderBook.walls()")

    def _asdict(self):
        return {"side": self.side, "price": self.price, "size": self.size, "notional": self.notional,
                "strength": self.strength, "z": self.z, "confidence": self.confidence,
                "distance_bps": self.distance_bps, "rank": self.rank}

    def __repr__(self):
        return (f"Wall({self.side} {self.price:g} x {self.size:g}, strength {self.strength:.2f}, "
                f"z {self.z:.2f}, {self.distance_bps:.1f} bps)")


cdef object _wall(const liq_wall *w):
    cdef Wall r = Wall.__new__(Wall)
    r.side = "bid" if w.side == LIQ_BID else "ask"
    r.price, r.size, r.notional = w.price, w.size, w.notional
    r.strength, r.z, r.confidence, r.distance_bps, r.rank = w.strength, w.z, w.confidence, w.distance_bps, w.rank
    return r


@cython.auto_pickle(False)   # built by OrderBook methods; plain data, no pickling protocol
cdef class Cluster:
    """An order cluster (:meth:`OrderBook.clusters`): ``side``; ``price_best``/``price_worst``
    (nearest to / farthest from the touch); ``size`` (base), ``notional`` (quote), ``vwap``;
    ``span_bps`` of the mid; ``share`` of the side's size in the band; ``levels``."""
    cdef readonly str side
    cdef readonly double price_best, price_worst, size, notional, vwap, span_bps, share
    cdef readonly size_t levels

    def __init__(self):
        raise TypeError("Cluster is returned by OrderBook.clusters()")

    def _asdict(self):
        return {"side": self.side, "price_best": self.price_best, "price_worst": self.price_worst,
                "size": self.size, "notional": self.notional, "vwap": self.vwap, "span_bps": self.span_bps,
                "share": self.share, "levels": self.levels}

    def __repr__(self):
        return (f"Cluster({self.side} {self.price_best:g}..{self.price_worst:g}, {self.levels} levels, "
                f"size {self.size:g}, vwap {self.vwap:g})")


cdef object _cluster(const liq_cluster *c):
    cdef Cluster r = Cluster.__new__(Cluster)
    r.side = "bid" if c.side == LIQ_BID else "ask"
    r.price_best, r.price_worst, r.size, r.notional = c.price_best, c.price_worst, c.size, c.notional
    r.vwap, r.span_bps, r.share, r.levels = c.vwap, c.span_bps, c.share, c.levels
    return r


_REPORT_FIELDS = ("best_bid", "best_bid_size", "best_ask", "best_ask_size", "mid", "spread", "spread_bps",
                  "spread_pct", "bid_volume", "ask_volume", "total_volume", "bid_liquidity_1pct",
                  "ask_liquidity_1pct", "liquidity_1pct", "bid_liquidity_2pct", "ask_liquidity_2pct",
                  "liquidity_2pct", "imbalance_ratio", "imbalance", "weighted_imbalance", "slippage_bps",
                  "score")


@cython.auto_pickle(False)   # built by OrderBook methods; plain data, no pickling protocol
cdef class LiquidityReport:
    """The liquidity snapshot of one book (:meth:`OrderBook.liquidity_report`).

    Prices in quote, volumes (``bid_volume``/``ask_volume``/``total_volume``: the top
    ``levels`` per side) in base, liquidity within 1%/2% of the mid in quote, spreads in
    quote / bps / percent of the mid, ``imbalance_ratio`` = bid/ask volume, ``imbalance``
    and ``weighted_imbalance`` (linear weights) in -1..+1 over the top ``levels``,
    ``slippage_bps`` the mean mid-slippage of the report's notional bought and sold,
    ``walls``/``clusters`` tuples, ``score`` 0..1 (NaN where a side is empty).
    ``to_dict()`` (JSON-ready), ``to_numpy()`` (one row of ``LiquidityReport.DTYPE``; walls
    and clusters as counts).
    """
    cdef readonly object exchange, symbol
    # the whole report as C computed it (liq_book_report, one call); the walls' and clusters'
    # Python records are built on first access (a report of a busy book would otherwise spend
    # most of its time creating objects nobody reads)
    cdef liq_report _r
    cdef tuple _walls, _clusters

    @property
    def levels(self):
        return self._r.levels

    @property
    def best_bid(self):
        return self._r.best_bid

    @property
    def best_bid_size(self):
        return self._r.best_bid_size

    @property
    def best_ask(self):
        return self._r.best_ask

    @property
    def best_ask_size(self):
        return self._r.best_ask_size

    @property
    def mid(self):
        return self._r.mid

    @property
    def spread(self):
        return self._r.spread

    @property
    def spread_bps(self):
        return self._r.spread_bps

    @property
    def spread_pct(self):
        return self._r.spread_pct

    @property
    def bid_volume(self):
        return self._r.bid_volume

    @property
    def ask_volume(self):
        return self._r.ask_volume

    @property
    def total_volume(self):
        return self._r.total_volume

    @property
    def bid_liquidity_1pct(self):
        return self._r.bid_liquidity_1pct

    @property
    def ask_liquidity_1pct(self):
        return self._r.ask_liquidity_1pct

    @property
    def liquidity_1pct(self):
        return self._r.liquidity_1pct

    @property
    def bid_liquidity_2pct(self):
        return self._r.bid_liquidity_2pct

    @property
    def ask_liquidity_2pct(self):
        return self._r.ask_liquidity_2pct

    @property
    def liquidity_2pct(self):
        return self._r.liquidity_2pct

    @property
    def imbalance_ratio(self):
        return self._r.imbalance_ratio

    @property
    def imbalance(self):
        return self._r.imbalance

    @property
    def weighted_imbalance(self):
        return self._r.weighted_imbalance

    @property
    def slippage_bps(self):
        return self._r.slippage_bps

    @property
    def score(self):
        return self._r.score

    @property
    def walls(self):
        """Up to 16 walls (bids then asks, best first), :class:`Wall` records."""
        cdef size_t i
        if self._walls is None:
            self._walls = tuple([_wall(&self._r.walls[i]) for i in range(self._r.nwalls)])
        return self._walls

    @property
    def clusters(self):
        """Up to 16 clusters (bids then asks, best first), :class:`Cluster` records."""
        cdef size_t i
        if self._clusters is None:
            self._clusters = tuple([_cluster(&self._r.clusters[i]) for i in range(self._r.nclusters)])
        return self._clusters

    #: one wall as a row of float64 (side +1 bid / -1 ask, rank as a float): :meth:`walls_array`
    WALL_DTYPE = np.dtype([(f, np.float64) for f in ("side", "price", "size", "notional", "strength", "z",
                                                     "confidence", "distance_bps", "rank")])
    #: one cluster as a row of float64 (side +1 bid / -1 ask, levels as a float): :meth:`clusters_array`
    CLUSTER_DTYPE = np.dtype([(f, np.float64) for f in ("side", "price_best", "price_worst", "size", "notional",
                                                        "vwap", "span_bps", "share", "levels")])

    def walls_array(self):
        """The walls as a new structured array of :attr:`WALL_DTYPE` (the fields of :class:`Wall`),
        without a Python object per wall: for storing and vectorised work. O(walls)."""
        return self._item_array(True)

    def clusters_array(self):
        """The clusters as a new structured array of :attr:`CLUSTER_DTYPE` (the fields of
        :class:`Cluster`), without a Python object per cluster. O(clusters)."""
        return self._item_array(False)

    cdef _item_array(self, bint walls):
        cdef size_t n = self._r.nwalls if walls else self._r.nclusters, i
        cdef cnp.ndarray[double, ndim=2] out = np.empty((n, 9), np.float64)
        cdef const liq_wall *w
        cdef const liq_cluster *c
        for i in range(n):
            if walls:
                w = &self._r.walls[i]
                out[i, 0], out[i, 1], out[i, 2], out[i, 3] = -1.0 + 2.0 * (w.side == LIQ_BID), w.price, w.size, w.notional
                out[i, 4], out[i, 5], out[i, 6], out[i, 7] = w.strength, w.z, w.confidence, w.distance_bps
                out[i, 8] = <double>w.rank
            else:
                c = &self._r.clusters[i]
                out[i, 0], out[i, 1], out[i, 2] = -1.0 + 2.0 * (c.side == LIQ_BID), c.price_best, c.price_worst
                out[i, 3], out[i, 4], out[i, 5], out[i, 6] = c.size, c.notional, c.vwap, c.span_bps
                out[i, 7], out[i, 8] = c.share, <double>c.levels
        return out.view(self.WALL_DTYPE if walls else self.CLUSTER_DTYPE).reshape(n)

    DTYPE = np.dtype([(f, np.float64) for f in _REPORT_FIELDS] + [("levels", np.int64), ("walls", np.int64),
                                                                    ("clusters", np.int64)])

    def __init__(self):
        raise TypeError("LiquidityReport is returned by OrderBook.liquidity_report()")

    def to_dict(self):
        d = {"exchange": self.exchange, "symbol": self.symbol, "levels": self.levels}
        for f in _REPORT_FIELDS:
            d[f] = getattr(self, f)
        d["walls"] = [w._asdict() for w in self.walls]
        d["clusters"] = [c._asdict() for c in self.clusters]
        return d

    def to_numpy(self):
        row = np.zeros((), dtype=self.DTYPE)
        for f in _REPORT_FIELDS:
            row[f] = getattr(self, f)
        row["levels"], row["walls"], row["clusters"] = self._r.levels, self._r.nwalls, self._r.nclusters
        return row

    def __repr__(self):
        return (f"LiquidityReport({self.symbol or ''} bid {self.best_bid:g} ask {self.best_ask:g}, "
                f"spread {self.spread_bps:.2f} bps, 1% {self.liquidity_1pct:,.0f}, score {self.score:.3f}, "
                f"{self._r.nwalls} walls)")


cdef object _report(const liq_book *b, object exchange, object symbol, const liq_report_params *p):
    """The LiquidityReport of a book in one C call (liq_book_report). The caller holds the book
    (the record is allocated before the call, and may run a collection's finalizers)."""
    cdef LiquidityReport r = LiquidityReport.__new__(LiquidityReport)
    cdef int st = liq_book_report(b, p, &r._r)
    if st != LIQ_OK:
        raise _error(st, "liquidity_report", f"levels={p.levels} (>= 1), notional={p.notional} (> 0), "
                                             f"band_bps={p.band_bps} (>= 0)")
    r.exchange, r.symbol = exchange, symbol
    return r
