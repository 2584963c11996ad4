"""Probability that a leveraged position is liquidated within a horizon, and its distance to
liquidation in volatility units.

Model: the mark price follows geometric Brownian motion ``dS = mu S dt + sigma S dW``; the log
price ``ln S`` is then a Brownian motion with drift ``nu = mu - sigma**2 / 2``. A long is
liquidated when the running minimum of the price reaches its liquidation price ``L < S0``; a
short when the running maximum reaches ``L > S0``. With ``b = ln(L / S0)`` (< 0 for a long):

    P(tau_L <= T) = Phi((b - nu T) / (sigma sqrt T)) + exp(2 nu b / sigma**2) Phi((b + nu T) / (sigma sqrt T))

and for a short the mirror image (``b -> -b``, ``nu -> -nu``). Without drift in the log price
(``nu = 0``) this is the reflection principle, ``P = 2 Phi(-|b| / (sigma sqrt T))``.
Sources: the law of the running minimum of Brownian motion with drift, Shreve, *Stochastic
Calculus for Finance II* (2004) §7.2; Harrison (1985), *Brownian Motion and Stochastic Flow
Systems*. Worked examples: shared/research/analytics.md §6.4.

Exchanges check liquidation on a discrete mark-price grid (every few seconds), which a
continuous barrier over-counts: the Broadie-Glasserman-Kou continuity correction (Broadie,
Glasserman & Kou 1997, *Mathematical Finance* 7(4)) moves the barrier away from the price by
the factor ``exp(BGK_BETA sigma sqrt(dt))`` (down: ``L exp(-beta sigma sqrt dt)``; up:
``L exp(+beta sigma sqrt dt)``), ``dt`` being the check interval.

Units, one convention for the whole module: prices in quote currency (any, the same for spot
and liquidation price); ``sigma`` per year as a fraction (0.6 = 60 %/yr); ``horizon`` and
``monitoring`` in years; ``drift`` = ``mu`` per year as a fraction. Crypto trades every day,
so a day is ``1 / DAYS_PER_YEAR = 1/365`` of a year (60 %/yr is 3.1405 %/day on that basis):
pass ``horizon=7 / DAYS_PER_YEAR`` for a week, ``monitoring=5 / MINUTES_PER_YEAR`` for a
5-minute mark-price check.

Every function takes Python floats (returns a float) or numpy arrays that broadcast together
(returns a float64 array of the broadcast shape); the arithmetic is the same float arithmetic
either way (``math.erfc`` per element), so the vectorised result equals the scalar one. The
caller owns the input arrays; they are read, never written, and results are new arrays.
"""

from __future__ import annotations

import math
from math import erfc, exp, inf, isinf, log, sqrt  # bare names: the kernels run per element
from typing import Any, Union, overload

import numpy as np
import numpy.typing as npt

from liqcore.errors import RiskInputError
from liqcore.risk.checks import all_numbers, number, numbers

__all__ = [
    "BGK_BETA",
    "DAYS_PER_YEAR",
    "MINUTES_PER_YEAR",
    "distance_to_liquidation",
    "touch_probability",
    "liquidation_probability",
]

#: Days in the year basis of every per-year quantity of ``liqcore.risk``: crypto markets trade
#: 365 days a year (not 252), so sigma_1d = sigma_yr / sqrt(365) (60 %/yr -> 3.1405 %/day).
DAYS_PER_YEAR: float = 365.0
#: Minutes per year on the same basis (525,600), to express a mark-price check interval.
MINUTES_PER_YEAR: float = DAYS_PER_YEAR * 24.0 * 60.0
#: Broadie-Glasserman-Kou constant, -zeta(1/2) / sqrt(2 pi) = 0.5826 to the 4 digits the paper
#: and the research note use (the 7 days / 5 minutes example, 0.23096, is computed with it).
BGK_BETA: float = 0.5826

ArrayLike = Union[float, int, npt.NDArray[np.floating], npt.NDArray[np.integer]]
_SIDES = ("long", "short")
# Below this z, 0.5 * erfc(-z / sqrt 2) underflows towards 0 (erfc(26.5) ~ 1e-307) and its log
# loses everything: log Phi(z) comes from the asymptotic (Mills ratio) series instead, whose
# truncation error at z = -30 is ~105 / z**8 ~ 2e-10 relative.
_Z_TAIL = -30.0
_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _log_ncdf(z: float) -> float:
    """log Phi(z) of the standard normal, accurate in the far left tail. O(1)."""
    if z > _Z_TAIL:
        p = 0.5 * erfc(-z / _SQRT2)
        return log(p) if p > 0.0 else -inf
    z2 = z * z
    series = 1.0 - 1.0 / z2 + 3.0 / (z2 * z2) - 15.0 / (z2 * z2 * z2)
    return -0.5 * z2 - _LOG_SQRT_2PI - log(-z) + log(series)


def _hit_down(b: float, nu: float, sigma: float, t: float) -> float:
    """P(min_{s<=t} X_s <= b) for X = nu s + sigma W, X_0 = 0, b <= 0. O(1).

    The second term exp(2 nu b / sigma^2) Phi(z2) is formed in logs: for a drift towards the
    barrier the exponent can overflow while Phi(z2) underflows (inf * 0 = nan), although the
    product is a probability."""
    if b >= 0.0:
        return 1.0
    st = sigma * sqrt(t)
    exponent = 2.0 * nu * b / (sigma * sigma) if sigma * sigma > 0.0 else inf
    if st == 0.0 or isinf(exponent):
        # a sigma so small that sigma^2 or sigma sqrt(t) underflows: the path is the straight
        # line nu s, which reaches b within t iff nu t <= b
        return 1.0 if nu * t <= b else 0.0
    z1 = (b - nu * t) / st
    z2 = (b + nu * t) / st
    first = 0.5 * erfc(-z1 / _SQRT2)
    log_second = exponent + _log_ncdf(z2)
    # the second term is at most a probability: capping its log at 0 keeps exp from
    # overflowing on rounding
    second = exp(log_second if log_second < 0.0 else 0.0) if log_second > -745.0 else 0.0
    # the sum is a probability; rounding may leave it a few ulps above 1
    total = first + second
    return total if total < 1.0 else 1.0


def touch_probability(spot: float, liq: float, sigma: float, horizon: float, drift: float,
                      monitoring: float, side_code: int) -> float:
    """The scalar kernel of :func:`liquidation_probability` **without input checks**, for
    callers that have checked their numbers already (the score): floats, ``side_code`` 0
    inferred, 1 long, -1 short; ``monitoring`` 0 = continuous. O(1)."""
    if side_code == 0:
        side_code = 1 if liq < spot else -1
    if (liq >= spot) if side_code == 1 else (liq <= spot):
        return 1.0  # at or past the liquidation price now: liquidated at this check
    if monitoring > 0.0:
        # BGK: the discretely monitored barrier behaves like a continuous one moved away
        shift = exp(BGK_BETA * sigma * sqrt(monitoring))
        liq = liq / shift if side_code == 1 else liq * shift
    nu = drift - 0.5 * sigma * sigma
    b = log(liq / spot)
    if side_code == 1:
        return _hit_down(b, nu, sigma, horizon)
    # a short: the running maximum of X is minus the running minimum of -X (b -> -b, nu -> -nu)
    return _hit_down(-b, -nu, sigma, horizon)


_probability_ufunc = np.frompyfunc(touch_probability, 7, 1)


def _side_code(side: str | None) -> int:
    if side is None:
        return 0
    if side not in _SIDES:
        raise RiskInputError(f"side must be 'long', 'short' or None, got {side!r}")
    return 1 if side == "long" else -1


def _is_scalar(*values: Any) -> bool:
    return all(np.ndim(v) == 0 for v in values)


def _broadcast(**arrays: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], ...]:
    try:
        return tuple(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {v.shape}" for k, v in arrays.items())
        raise RiskInputError(f"the array arguments do not broadcast together: {shapes}") from None


@overload
def liquidation_probability(spot: float, liq_price: float, sigma: float, horizon: float,
                            drift: float = ..., monitoring: float | None = ..., *,
                            side: str | None = ...) -> float: ...
@overload
def liquidation_probability(spot: ArrayLike, liq_price: ArrayLike, sigma: ArrayLike, horizon: ArrayLike,
                            drift: ArrayLike = ..., monitoring: ArrayLike | None = ..., *,
                            side: str | None = ...) -> float | npt.NDArray[np.float64]: ...


def liquidation_probability(spot: ArrayLike, liq_price: ArrayLike, sigma: ArrayLike, horizon: ArrayLike,
                            drift: ArrayLike = 0.0, monitoring: ArrayLike | None = None, *,
                            side: str | None = None) -> float | npt.NDArray[np.float64]:
    """Probability in [0, 1] that the price touches ``liq_price`` within ``horizon`` (GBM
    barrier-hitting probability, see the module docstring; analytics.md §6.4).

    Args:
        spot: current mark price (quote currency, > 0).
        liq_price: liquidation price (same currency, > 0). Below ``spot``: a long (a down
            barrier); above: a short (an up barrier, the mirrored formula).
        sigma: volatility of the log price per year, a fraction (0.6 = 60 %/yr), > 0.
        horizon: in years (> 0); a day is ``1 / DAYS_PER_YEAR``.
        drift: ``mu``, the expected return of the *price* per year as a fraction (any sign;
            default 0). The log price then drifts by ``nu = mu - sigma**2 / 2``. The research
            note's column "P (mu = 0)" is ``drift=0``; its column "P (nu = 0)" (a driftless log
            price, the reflection principle) is ``drift=sigma**2 / 2``.
        monitoring: the exchange's mark-price check interval in years (> 0, at most the
            horizon), for the Broadie-Glasserman-Kou discrete-monitoring correction; ``None``
            (default): checked continuously.
        side: ``"long"`` or ``"short"`` to state the position's side; then a price already at
            or past the liquidation price gives 1.0 (a long whose mark fell below its
            liquidation price is not read as a short). ``None`` (default): inferred from which
            side of ``spot`` the liquidation price lies; equal prices give 1.0.

    Returns a float when every argument is a scalar, else a float64 array of the broadcast
    shape. Properties: non-decreasing in ``horizon``; non-decreasing in ``sigma`` at
    ``drift=0`` when checked continuously, and for a long also when checked discretely (in
    general not: with ``mu > 0`` a larger sigma pulls the log drift ``nu = mu - sigma**2/2``
    away from a short's barrier, and a short's BGK barrier moves up with sigma, which wins at
    extreme ``sigma sqrt(horizon)``); non-increasing in the distance
    ``|ln(liq_price / spot)|``; a continuous check is never less likely to liquidate than a
    discrete one.

    Raises RiskInputError (naming the argument; nothing computed) on a non-finite or
    non-positive price, sigma, horizon or monitoring, a non-finite drift, a monitoring interval
    longer than the horizon, an unknown side, or arrays that do not broadcast.

    Complexity: O(1) for numbers (a few microseconds); O(n) over the broadcast elements of arrays,
    about 1.5 us each (``math.erfc`` per element: numpy has no erfc, and the same scalar kernel
    makes arrays and scalars agree to the last bit).
    """
    code = _side_code(side)
    if all_numbers(spot, liq_price, sigma, horizon, drift) and (monitoring is None or all_numbers(monitoring)):
        s, lq = number("spot", spot, low=0.0), number("liq_price", liq_price, low=0.0)
        sgm, t = number("sigma", sigma, low=0.0), number("horizon", horizon, low=0.0)
        m = number("drift", drift)
        dt1 = 0.0 if monitoring is None else number("monitoring", monitoring, low=0.0)
        if dt1 > t:
            raise RiskInputError("monitoring must be at most the horizon (both in years)")
        return touch_probability(s, lq, sgm, t, m, dt1, code)
    s0 = numbers("spot", spot, positive=True)
    lp = numbers("liq_price", liq_price, positive=True)
    sg = numbers("sigma", sigma, positive=True)
    hz = numbers("horizon", horizon, positive=True)
    mu = numbers("drift", drift)
    # 0 stands for a continuous check inside the kernel (a given interval is checked > 0)
    dt = np.zeros((), dtype=np.float64) if monitoring is None else numbers("monitoring", monitoring, positive=True)
    s0, lp, sg, hz, mu, dt = _broadcast(spot=s0, liq_price=lp, sigma=sg, horizon=hz, drift=mu, monitoring=dt)
    if np.any(dt > hz):
        raise RiskInputError("monitoring must be at most the horizon (both in years)")
    if _is_scalar(spot, liq_price, sigma, horizon, drift, monitoring):
        return touch_probability(float(s0), float(lp), float(sg), float(hz), float(mu), float(dt), code)
    out = _probability_ufunc(s0, lp, sg, hz, mu, dt, code)
    return np.asarray(out, dtype=np.float64)


@overload
def distance_to_liquidation(spot: float, liq_price: float, sigma: float, horizon: float, *,
                            side: str | None = ...) -> float: ...
@overload
def distance_to_liquidation(spot: ArrayLike, liq_price: ArrayLike, sigma: ArrayLike, horizon: ArrayLike, *,
                            side: str | None = ...) -> float | npt.NDArray[np.float64]: ...


def distance_to_liquidation(spot: ArrayLike, liq_price: ArrayLike, sigma: ArrayLike, horizon: ArrayLike, *,
                            side: str | None = None) -> float | npt.NDArray[np.float64]:
    """Distance to liquidation in sigma units over the horizon,
    ``k = |ln(liq_price / spot)| / (sigma sqrt(horizon))`` (analytics.md §6.4: 60,000 ->
    54,240 at 60 %/yr over one day is 3.21 sigma).

    Units as :func:`liquidation_probability`: prices in the same quote currency, ``sigma`` per
    year (fraction), ``horizon`` in years. With ``side`` (``"long"``/``"short"``) the distance
    is signed: positive while the price is on the safe side, zero or negative once it has
    reached or crossed the liquidation price; ``None`` (default): the unsigned distance.

    Returns a float for scalar arguments, else a float64 array of the broadcast shape.
    Raises RiskInputError as :func:`liquidation_probability`. Complexity: O(n), vectorised.
    """
    code = _side_code(side)
    if all_numbers(spot, liq_price, sigma, horizon):
        s, lq = number("spot", spot, low=0.0), number("liq_price", liq_price, low=0.0)
        sgm, t = number("sigma", sigma, low=0.0), number("horizon", horizon, low=0.0)
        gap = math.log(s / lq)  # > 0 when the liquidation price is below spot (a safe long)
        return (abs(gap) if code == 0 else gap * code) / (sgm * math.sqrt(t))
    s0 = numbers("spot", spot, positive=True)
    lp = numbers("liq_price", liq_price, positive=True)
    sg = numbers("sigma", sigma, positive=True)
    hz = numbers("horizon", horizon, positive=True)
    s0, lp, sg, hz = _broadcast(spot=s0, liq_price=lp, sigma=sg, horizon=hz)
    log_gap = np.log(s0 / lp)  # > 0 when the liquidation price is below spot (a safe long)
    if code == 0:
        log_gap = np.abs(log_gap)
    elif code == -1:
        log_gap = -log_gap
    k = log_gap / (sg * np.sqrt(hz))
    if _is_scalar(spot, liq_price, sigma, horizon):
        return float(k)
    return np.asarray(k, dtype=np.float64)
