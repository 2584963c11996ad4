"""Order-flow toxicity: VPIN over volume buckets, bulk volume classification, the tick rule.

VPIN (Easley, López de Prado & O'Hara 2012; ``shared/research/analytics.md`` §3): trades (or time
bars of trades) fill buckets of equal volume ``VBS`` in time order, an element that crosses a
boundary being split with its buy fraction kept. Per bucket ``τ``::

    OI_τ   = |V^B_τ - V^S_τ|                                  (base units)
    VPIN_τ = Σ_{j=τ-n+1..τ} OI_j / (n · VBS)                  (dimensionless, in [0, 1])

The buy volume of an element is exact when the aggressor side is known (``V^B = V`` for a buy,
0 for a sell: Binance ``isBuyerMaker``, Bybit ``side``); otherwise bulk volume classification
(BVC) gives ``V^B = V · Φ(ΔP / σ_ΔP)`` with Φ the standard normal CDF, ΔP the element's price
change and σ_ΔP the sample standard deviation (ddof = 1) of the ΔP series. Andersen & Bondarenko
(2014): BVC-VPIN is a flag, not a probability; prefer exact sides where the venue gives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from liqcore.errors import InvalidSeriesError
from liqcore.flowstats import _validate as V

__all__ = ["VPIN", "TimeBars", "vpin", "time_bars", "tick_rule"]


@dataclass(frozen=True)
class VPIN:
    """Result of :func:`vpin`: one entry per completed bucket (an unfinished last bucket is not
    reported; its volume is ``pending_volume``)."""

    #: bucket size VBS, base units
    bucket_volume: float
    #: number of buckets n in the VPIN window
    window: int
    #: time of the element that completed each bucket (unit of ``t``)
    bucket_end_t: np.ndarray
    #: buy and sell volume per bucket, base units (sum = VBS)
    buy_volume: np.ndarray
    sell_volume: np.ndarray
    #: |buy - sell| per bucket, base units
    order_imbalance: np.ndarray
    #: rolling VPIN aligned with the buckets, NaN for the first ``window - 1``
    vpin: np.ndarray
    #: σ_ΔP used by BVC (price units); NaN for exact sides
    sigma: float
    #: volume in the unfinished last bucket, base units
    pending_volume: float


@dataclass(frozen=True)
class TimeBars:
    """Trades aggregated into time bars (only bars with trades)."""

    #: bar start (``origin + k * bar``), unit of ``t``
    start: np.ndarray
    #: time of the bar's last trade
    t: np.ndarray
    #: last - first trade price in the bar, price units
    price_change: np.ndarray
    #: traded size, base units
    volume: np.ndarray
    #: taker-buy size (base units) when sides were given, else None
    buy_volume: np.ndarray | None


def tick_rule(price: Any) -> np.ndarray:
    """Trade signs by the tick rule: +1 on an uptick, -1 on a downtick, the previous sign carried
    over zero ticks, 0 while unknown (the first trade and the zero ticks right after it).

    Returns an int8 array of the length of ``price``.
    """
    p = V.floats("price", price, positive=True)
    s = np.zeros(p.size, dtype=np.int8)
    s[1:] = np.sign(np.diff(p)).astype(np.int8)
    # forward-fill the zeros with the last non-zero sign
    idx = np.where(s != 0, np.arange(p.size), 0)
    np.maximum.accumulate(idx, out=idx)
    return s[idx]


def time_bars(t: Any, price: Any, size: Any, bar: float, *, side: Any = None,
              origin: float | None = None) -> TimeBars:
    """Aggregate trades into bars of ``bar`` time units (the BVC input; ELO use 60 s bars).

    Bars start at ``origin + k * bar`` (``origin`` defaults to the first trade time); a bar's price
    change is its last minus its first trade price (as R ``PINstimation::vpin``). Bars without
    trades are left out.
    """
    tt = V.times("t", t)
    p = V.floats("price", price, positive=True)
    sz = V.floats("size", size, nonnegative=True)
    V.same_length(t=tt, price=p, size=sz)
    d = None
    if side is not None:
        d = V.sides("side", side)
        V.same_length(t=tt, side=d)
    length = V.scalar("bar", bar, positive=True)
    o = tt[0] if origin is None else origin
    if origin is not None:
        V.scalar("origin", origin)
        if origin > tt[0]:
            raise InvalidSeriesError(f"origin {origin} is after the first trade time {tt[0]}")
    if tt.dtype.kind in "iu" and float(length).is_integer() and isinstance(o, (int, np.integer)):
        key = (tt - np.int64(o)) // np.int64(length)
    else:
        (rel,) = V.rebase(o, tt)
        key = np.floor(rel / length).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, np.diff(key) != 0])
    ends = np.r_[starts[1:], tt.size] - 1
    start_t = key[starts] * (np.int64(length) if tt.dtype.kind in "iu" and float(length).is_integer()
                             else length) + o
    return TimeBars(
        start=start_t, t=tt[ends], price_change=p[ends] - p[starts],
        volume=np.add.reduceat(sz, starts),
        buy_volume=None if d is None else np.add.reduceat(np.where(d > 0, sz, 0.0), starts))


def vpin(t: Any, volume: Any, bucket_volume: float, window: int, *, side: Any = None,
         price_change: Any = None, sigma: float | None = None) -> VPIN:
    """VPIN over volume buckets.

    Give exactly one of ``side`` (exact classification) or ``price_change`` (bulk volume
    classification). Elements are trades or time bars (:func:`time_bars`), in time order.

    Parameters
    ----------
    t : array_like, shape (n,)
        Element times, non-decreasing (reported as bucket end times).
    volume : array_like, shape (n,)
        Element volume, base units, >= 0.
    bucket_volume : float
        VBS, base units, > 0 (ELO: daily volume / 50).
    window : int
        n, buckets per VPIN value (ELO: 50).
    side : array_like, shape (n,), optional
        Aggressor side, +1 buy / -1 sell.
    price_change : array_like, shape (n,), optional
        ΔP per element, price units, for BVC.
    sigma : float, optional
        σ_ΔP for BVC (price units); default: the sample std (ddof = 1) of ``price_change``.

    Returns
    -------
    VPIN
    """
    tt = V.times("t", t)
    vol = V.floats("volume", volume, nonnegative=True)
    V.same_length(t=tt, volume=vol)
    vbs = V.scalar("bucket_volume", bucket_volume, positive=True)
    n = V.count("window", window)
    if (side is None) == (price_change is None):
        raise InvalidSeriesError("vpin: give exactly one of side (exact) or price_change (BVC)")
    from liqcore.flowstats import _kernels

    if side is not None:
        if sigma is not None:
            raise InvalidSeriesError("vpin: sigma applies to price_change (BVC), not to side")
        d = V.sides("side", side)
        V.same_length(t=tt, side=d)
        frac = (d > 0).astype(np.float64)
        sig = float("nan")
    else:
        dp = V.floats("price_change", price_change)
        V.same_length(t=tt, price_change=dp)
        if sigma is None:
            if dp.size < 2:
                raise InvalidSeriesError("price_change: need at least 2 values to estimate sigma")
            sig = float(np.std(dp, ddof=1))
            if not sig > 0:
                raise InvalidSeriesError("price_change is constant: sigma is 0, BVC is undefined")
        else:
            sig = V.scalar("sigma", sigma, positive=True)
        frac = _kernels.norm_cdf(dp / sig)
    max_buckets = int(vol.sum() / vbs) + 2
    buy, sell, end_i, pending = _kernels.volume_buckets(vol, frac, vbs, max_buckets)
    oi = np.abs(buy - sell)
    return VPIN(bucket_volume=vbs, window=n, bucket_end_t=tt[end_i], buy_volume=buy,
                sell_volume=sell, order_imbalance=oi, vpin=_kernels.rolling_vpin(oi, n, vbs),
                sigma=sig, pending_volume=float(pending))
