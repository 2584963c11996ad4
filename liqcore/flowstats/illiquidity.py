"""Price impact and illiquidity: Kyle's lambda, Amihud ILLIQ, resiliency half-life, and the
per-interval returns and flows they are computed from (``shared/research/analytics.md`` §4.2–4.4).

* Kyle's lambda: OLS of interval returns on signed order flow, ``r_n = α + λ S_n + ε_n`` (and
  through the origin, ``r_n = λ₀ S_n + ε_n``). Units: return units per flow unit (bps per BTC when
  returns are in bps and flow is net base volume; bps per √$ for signed root-dollar volume).
* Amihud: ``ILLIQ = (1/D) Σ_d |R_d| / DVOL_d``, absolute return per unit of quote-currency volume
  ("per $"; multiply by 1e6 for Amihud's per-$1M convention).
* Resiliency: after a shock, ``x(t) - x_∞ = (x_0 - x_∞) e^{-κ t}``; κ by least squares through the
  origin on ``ln((x_∞ - x(t)) / (x_∞ - x_0)) = -κ t``; half-life ``ln 2 / κ``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from liqcore.errors import InvalidSeriesError
from liqcore.flowstats import _validate as V

__all__ = ["KyleLambda", "Amihud", "Resiliency", "Intervals", "kyle_lambda", "amihud",
           "resiliency", "intervals"]


@dataclass(frozen=True)
class KyleLambda:
    """OLS estimates of Kyle's lambda (units: return units per flow unit)."""

    #: slope with intercept
    lam: float
    #: intercept, return units
    alpha: float
    #: coefficient of determination of the fit with intercept
    r2: float
    #: standard error of ``lam`` (NaN with fewer than 3 intervals)
    lam_stderr: float
    #: slope of the fit through the origin: Σ S r / Σ S²
    lam_origin: float
    #: uncentred R² of the fit through the origin: 1 - SSR / Σ r²
    r2_origin: float
    #: number of intervals
    n: int


@dataclass(frozen=True)
class Amihud:
    """Amihud illiquidity over a window of periods."""

    #: mean of |R| / DVOL over periods with volume; absolute return (fraction) per quote-currency
    #: unit ("per $"); NaN if no period had volume
    illiq: float
    #: periods used
    n: int
    #: periods skipped because their volume was 0 (the ratio is undefined)
    n_zero_volume: int

    @property
    def illiq_per_million(self) -> float:
        """ILLIQ per $1M of volume (Amihud's convention): ``illiq * 1e6``."""
        return self.illiq * 1e6


@dataclass(frozen=True)
class Resiliency:
    """Exponential recovery fit after a shock."""

    #: recovery rate κ, per time unit
    kappa: float
    #: ln 2 / κ, time units (inf if κ <= 0: no recovery)
    half_life: float
    #: observations used (strictly between the shocked level and the baseline)
    n: int
    #: observations left out because they had reached or passed the baseline (log undefined)
    n_recovered: int


@dataclass(frozen=True)
class Intervals:
    """Trades summarised over time intervals ``[start, end)`` (inputs of Kyle's lambda and Amihud)."""

    start: np.ndarray
    end: np.ndarray
    #: 1e4 * (P_end / P_start - 1), bps, where P_x is the last trade price before time x (NaN when
    #: no trade precedes ``start``)
    returns_bps: np.ndarray
    #: Σ side · size, base units (None without sides)
    net_volume: np.ndarray | None
    #: Hasbrouck's signed root-dollar volume Σ side · sqrt(price · size), √(quote units) (None
    #: without sides)
    signed_root_dollar: np.ndarray | None
    #: Σ price · size, quote-currency units
    dollar_volume: np.ndarray
    #: trades in the interval
    n_trades: np.ndarray


def intervals(t: Any, price: Any, size: Any, edges: Any, *, side: Any = None) -> Intervals:
    """Returns, signed flow and dollar volume of trades over intervals ``[edges[i], edges[i+1])``.

    Parameters
    ----------
    t, price, size : array_like, shape (n,)
        Trades: times (non-decreasing), prices (> 0), sizes (>= 0, base units).
    edges : array_like, shape (k + 1,)
        Interval boundaries, increasing, unit of ``t``.
    side : array_like, shape (n,), optional
        Aggressor side +1 buy / -1 sell; needed for the signed flows.
    """
    tt = V.times("t", t)
    p = V.floats("price", price, positive=True)
    sz = V.floats("size", size, nonnegative=True)
    V.same_length(t=tt, price=p, size=sz)
    e = V.times("edges", edges, strict=True)
    if e.size < 2:
        raise InvalidSeriesError("edges: need at least 2 boundaries (one interval)")
    d = None
    if side is not None:
        d = V.sides("side", side)
        V.same_length(t=tt, side=d)
    # index of the first trade at or after each edge: trades of interval i are [k[i], k[i+1])
    k = np.searchsorted(tt, e, side="left")
    last = k - 1
    px = np.where(last >= 0, p[np.maximum(last, 0)], np.nan)
    ret = (px[1:] / px[:-1] - 1.0) * 1e4
    dollars = p * sz

    def per_interval(x: np.ndarray) -> np.ndarray:
        c = np.r_[0.0, np.cumsum(x)]
        return c[k[1:]] - c[k[:-1]]

    return Intervals(
        start=e[:-1], end=e[1:], returns_bps=ret,
        net_volume=None if d is None else per_interval(d * sz),
        signed_root_dollar=None if d is None else per_interval(d * np.sqrt(dollars)),
        dollar_volume=per_interval(dollars), n_trades=np.diff(k))


def kyle_lambda(returns: Any, signed_flow: Any) -> KyleLambda:
    """Kyle's lambda: OLS slope of interval returns on signed order flow.

    Parameters
    ----------
    returns : array_like, shape (n,)
        Interval returns (e.g. bps; :func:`intervals` ``returns_bps``).
    signed_flow : array_like, shape (n,)
        Signed flow over the same intervals (net base volume, or signed root-dollar volume).

    Returns
    -------
    KyleLambda
        ``lam`` in return units per flow unit (e.g. bps per BTC), intercept, R², standard error,
        and the fit through the origin.

    Raises
    ------
    InvalidSeriesError
        Fewer than 2 intervals, NaN/inf, mismatched lengths, or a constant flow (slope undefined).
    """
    r = V.floats("returns", returns)
    s = V.floats("signed_flow", signed_flow)
    n = V.same_length(returns=r, signed_flow=s)
    if n < 2:
        raise InvalidSeriesError("kyle_lambda: need at least 2 intervals")
    sm, rm = s.mean(), r.mean()
    ds, dr = s - sm, r - rm
    sxx = float(ds @ ds)
    if not sxx > 0:
        raise InvalidSeriesError("signed_flow is constant: the slope is undefined")
    lam = float(ds @ dr) / sxx
    alpha = float(rm - lam * sm)
    resid = dr - lam * ds
    ssr = float(resid @ resid)
    sst = float(dr @ dr)
    r2 = 1.0 - ssr / sst if sst > 0 else float("nan")
    se = math.sqrt(ssr / (n - 2) / sxx) if n > 2 else float("nan")
    s2 = float(s @ s)
    lam0 = float(s @ r) / s2
    res0 = r - lam0 * s
    ryy = float(r @ r)
    r2o = 1.0 - float(res0 @ res0) / ryy if ryy > 0 else float("nan")
    return KyleLambda(lam=lam, alpha=alpha, r2=r2, lam_stderr=se, lam_origin=lam0, r2_origin=r2o, n=n)


def amihud(returns: Any, dollar_volume: Any) -> Amihud:
    """Amihud (2002) illiquidity: mean of ``|R| / DVOL`` over the periods of a window.

    Parameters
    ----------
    returns : array_like, shape (n,)
        Period returns as fractions (0.012 for 1.2%; divide bps by 1e4).
    dollar_volume : array_like, shape (n,)
        Period traded value in quote currency (>= 0); periods with 0 volume are skipped and
        counted in ``n_zero_volume``.

    Returns
    -------
    Amihud
        ``illiq`` per quote-currency unit (per $); ``illiq_per_million`` per $1M.
    """
    r = V.floats("returns", returns)
    dv = V.floats("dollar_volume", dollar_volume, nonnegative=True)
    V.same_length(returns=r, dollar_volume=dv)
    ok = dv > 0
    used = int(ok.sum())
    illiq = float(np.mean(np.abs(r[ok]) / dv[ok])) if used else float("nan")
    return Amihud(illiq=illiq, n=used, n_zero_volume=int(r.size - used))


def resiliency(t: Any, x: Any, baseline: float, shocked: float) -> Resiliency:
    """Half-life of the recovery from a shock, fitting ``x(t) = x_∞ + (x_0 - x_∞) e^{-κ t}``.

    Parameters
    ----------
    t : array_like, shape (n,)
        Time since the shock (> 0, time units: the half-life comes out in them).
    x : array_like, shape (n,)
        Observed level (depth, spread…) at ``t``.
    baseline : float
        ``x_∞``, the pre-shock level the series recovers to.
    shocked : float
        ``x_0``, the level at the shock (t = 0); must differ from ``baseline``.

    Observations that have reached or passed the baseline (or lie beyond the shocked level) have
    no logarithm and are left out (``n_recovered``); κ is the least-squares slope through the
    origin of ``y = ln((x_∞ - x)/(x_∞ - x_0))`` on ``t``: ``κ = -Σ t y / Σ t²``.
    """
    tt = V.floats("t", t, positive=True)
    xx = V.floats("x", x)
    V.same_length(t=tt, x=xx)
    xi = V.scalar("baseline", baseline)
    x0 = V.scalar("shocked", shocked)
    if xi == x0:
        raise InvalidSeriesError("shocked equals baseline: there is no shock to recover from")
    frac = (xi - xx) / (xi - x0)
    ok = (frac > 0) & (frac <= 1)
    if not ok.any():
        raise InvalidSeriesError("resiliency: no observation strictly between shocked and baseline")
    y = np.log(frac[ok])
    tv = tt[ok]
    kappa = float(-(tv @ y) / (tv @ tv))
    return Resiliency(kappa=kappa, half_life=math.log(2.0) / kappa if kappa > 0 else math.inf,
                      n=int(ok.sum()), n_recovered=int((~ok).sum()))
