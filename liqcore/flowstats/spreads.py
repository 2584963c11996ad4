"""Spreads over time and trades: quoted, time-weighted, effective, realized and price impact.

Definitions (SEC Rule 605; ``shared/research/analytics.md`` §4.1), with ``M = (bid + ask)/2``,
``D = +1`` for a buy and ``-1`` for a sell, ``P`` the trade price and ``M_t`` the mid prevailing
when the trade happened::

    quoted    = (A - B) / M                     (also in price units: A - B)
    effective = 2 D (P - M_t) / M_t
    realized  = 2 D (P - M_{t+Δ}) / M_t         (the liquidity provider's gross revenue)
    impact    = 2 D (M_{t+Δ} - M_t) / M_t       (effective = realized + impact)

All relative values are returned in basis points of ``M_t`` (1 bps = 1e-4). Times are numbers in
one unit of your choice (int64 ns since the epoch, float seconds…); every time argument of a call
(and the horizons Δ) must use the same unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from liqcore.errors import InvalidSeriesError
from liqcore.flowstats import _validate as V

__all__ = ["QuotedSpread", "TimeWeightedSpread", "TradeSpreads", "quoted_spread",
           "time_weighted_spread", "trade_spreads"]

BPS = 1e4


@dataclass(frozen=True)
class QuotedSpread:
    """Quoted spread per quote."""

    #: ask - bid, price units
    spread: np.ndarray
    #: (ask - bid) / mid * 1e4, bps of mid
    bps: np.ndarray
    #: (bid + ask) / 2, price units
    mid: np.ndarray


@dataclass(frozen=True)
class TimeWeightedSpread:
    """Time-weighted average quoted spread per window ``[start, end)``."""

    start: np.ndarray
    end: np.ndarray
    #: time-weighted mean of ask - bid, price units (NaN where no quote covers the window)
    spread: np.ndarray
    #: time-weighted mean of (ask - bid)/mid, bps
    bps: np.ndarray
    #: time inside the window during which a quote was known (time units); the means divide by it
    covered: np.ndarray


@dataclass(frozen=True)
class TradeSpreads:
    """Effective, realized and impact spreads of each trade, and their volume-weighted means.

    Per-trade values are NaN when no quote precedes the trade (``mid`` NaN) or, for a horizon,
    when ``t + Δ`` is after the quote series ends (``quote_end``; ``mid_after`` NaN); such trades are left out of the
    corresponding means. Means are weighted by trade size (base units), as Rule 605 weights by
    shares executed.
    """

    #: the horizons Δ, time units, shape (k,)
    horizons: np.ndarray
    #: mid prevailing before each trade (the last quote stamped strictly before it), shape (n,)
    mid: np.ndarray
    #: quoted spread of that quote, bps of its mid, shape (n,)
    quoted_bps: np.ndarray
    #: 2 D (P - M_t) / M_t * 1e4, shape (n,)
    effective_bps: np.ndarray
    #: mid at t + Δ (the last quote stamped at or before t + Δ), shape (n, k)
    mid_after: np.ndarray
    #: 2 D (P - M_{t+Δ}) / M_t * 1e4, shape (n, k)
    realized_bps: np.ndarray
    #: 2 D (M_{t+Δ} - M_t) / M_t * 1e4, shape (n, k)
    impact_bps: np.ndarray
    #: size-weighted means, bps: scalars for effective and quoted, shape (k,) for the others
    effective_bps_mean: float
    quoted_bps_mean: float
    realized_bps_mean: np.ndarray
    impact_bps_mean: np.ndarray

    @property
    def effective_over_quoted(self) -> float:
        """E/Q ratio (Rule 605, 2024 amendments): size-weighted effective over quoted spread."""
        return self.effective_bps_mean / self.quoted_bps_mean if self.quoted_bps_mean else float("nan")


def quoted_spread(bid: Any, ask: Any) -> QuotedSpread:
    """Quoted spread of each quote.

    Parameters
    ----------
    bid, ask : array_like, shape (n,)
        Best bid and ask, price units, > 0 and ``bid <= ask``.

    Returns
    -------
    QuotedSpread
        ``spread = ask - bid`` (price units), ``bps = (ask - bid)/mid * 1e4``, ``mid``.

    Raises
    ------
    InvalidSeriesError
        Empty, NaN/inf, non-positive or crossed quotes, or lengths differ.
    """
    b = V.floats("bid", bid, positive=True)
    a = V.floats("ask", ask, positive=True)
    V.same_length(bid=b, ask=a)
    crossed = b > a
    if crossed.any():
        i = int(np.flatnonzero(crossed)[0])
        raise InvalidSeriesError(f"crossed quote at index {i}: bid {b[i]} > ask {a[i]}")
    mid = (a + b) * 0.5
    s = a - b
    return QuotedSpread(spread=s, bps=s / mid * BPS, mid=mid)


def time_weighted_spread(t: Any, bid: Any, ask: Any, edges: Any) -> TimeWeightedSpread:
    """Time-weighted average quoted spread over consecutive windows.

    Each quote holds from its timestamp until the next one (a step function); the last quote holds
    to the end of every window after it. A window ``[edges[w], edges[w+1])`` averages the step
    function over the part of the window after the first quote::

        spread_w = ∫ (A - B) dt / covered_w,   bps_w = ∫ (A - B)/M dt / covered_w * 1e4

    For one window pass ``edges=[start, end]``.

    Parameters
    ----------
    t : array_like, shape (n,)
        Quote times, non-decreasing (a repeated time gives the earlier quote zero weight).
    bid, ask : array_like, shape (n,)
        Best bid and ask, price units.
    edges : array_like, shape (w + 1,)
        Window boundaries, increasing, same time unit as ``t``.

    Returns
    -------
    TimeWeightedSpread
        Per window: ``spread`` (price units), ``bps``, ``covered`` (time units); NaN means where
        ``covered`` is 0.
    """
    tq, b, a = V.quotes(t, bid, ask)
    e = V.times("edges", edges, strict=True)
    if e.size < 2:
        raise InvalidSeriesError("edges: need at least 2 boundaries (one window)")
    from liqcore.flowstats import _kernels

    tr, er = V.rebase(e[0], tq, e)
    s = a - b
    s_abs, s_bps, cov = _kernels.time_weighted(tr, s, s / ((a + b) * 0.5) * BPS, er)
    return TimeWeightedSpread(start=e[:-1], end=e[1:], spread=s_abs, bps=s_bps, covered=cov)


def _wmean(x: np.ndarray, w: np.ndarray) -> float | np.ndarray:
    """Weighted mean over the finite entries of x along axis 0 (NaN where none)."""
    ok = np.isfinite(x)
    ww = np.where(ok, w if x.ndim == 1 else w[:, None], 0.0)
    tot = ww.sum(axis=0)
    num = np.where(ok, x, 0.0) * ww
    with np.errstate(invalid="ignore", divide="ignore"):
        m = num.sum(axis=0) / tot
    m = np.where(tot > 0, m, np.nan)
    return float(m) if x.ndim == 1 else m


def trade_spreads(t: Any, price: Any, size: Any, side: Any, quote_t: Any, bid: Any, ask: Any,
                  horizons: Any, *, quote_end: float | None = None) -> TradeSpreads:
    """Effective, realized and price-impact spreads of trades against a quote series.

    The mid at the trade ``M_t`` is the last quote stamped *strictly before* the trade (a quote
    stamped with the trade's own time may already show its effect); the mid after ``M_{t+Δ}``
    is the last quote stamped at or before ``t + Δ``. Several horizons at once (Rule 605 since
    2024: 50 ms to 5 min; crypto practice 1 s, 5 s, 60 s, 300 s).

    Parameters
    ----------
    t, price, size, side : array_like, shape (n,)
        Trades: time (non-decreasing), price (> 0, price units), size (> 0, base units), aggressor
        side +1 buy / -1 sell.
    quote_t, bid, ask : array_like, shape (m,)
        Quote series (non-decreasing times, bid <= ask).
    horizons : array_like or float, shape (k,)
        Δ values, >= 0, in the unit of ``t``.
    quote_end : float, optional
        Time up to which the last quote is known to hold (default: its own timestamp). A mid after
        ``t + Δ > quote_end`` is unknown (NaN): the quote series does not cover it.

    Returns
    -------
    TradeSpreads
        Per trade and size-weighted, all in bps of ``M_t``; ``effective = realized + impact``
        per trade (to rounding).
    """
    tt = V.times("t", t)
    p = V.floats("price", price, positive=True)
    sz = V.floats("size", size, positive=True)
    d = V.sides("side", side)
    V.same_length(t=tt, price=p, size=sz, side=d)
    tq, b, a = V.quotes(quote_t, bid, ask, "quote_t")
    h = np.atleast_1d(np.asarray(horizons))
    hv = V.floats("horizons", h, nonnegative=True)
    if h.dtype.kind in "iu" and tt.dtype.kind in "iu" and tq.dtype.kind in "iu":
        hv = h.astype(np.int64)

    if quote_end is None:
        qend = tq[-1]
    else:
        V.scalar("quote_end", quote_end)
        if quote_end < tq[-1]:
            raise InvalidSeriesError(f"quote_end {quote_end} is before the last quote time {tq[-1]}")
        qend = quote_end
    from liqcore.flowstats import _kernels

    mid_q = (a + b) * 0.5
    origin = min(tt[0], tq[0])
    tr, tqr = V.rebase(origin, tt, tq)
    (qer,) = V.rebase(origin, np.asarray([qend]))
    m0, qb, eff, m1, real, imp = _kernels.trade_spreads(
        tr, p, d, tqr, mid_q, (a - b) / mid_q * BPS, hv.astype(np.float64), float(qer[0]))
    return TradeSpreads(
        horizons=hv, mid=m0, quoted_bps=qb, effective_bps=eff, mid_after=m1,
        realized_bps=real, impact_bps=imp,
        effective_bps_mean=float(_wmean(eff, sz)), quoted_bps_mean=float(_wmean(qb, sz)),
        realized_bps_mean=np.asarray(_wmean(real, sz)), impact_bps_mean=np.asarray(_wmean(imp, sz)))
