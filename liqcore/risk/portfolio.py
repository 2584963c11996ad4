"""Portfolio risk: parametric, historical, normal and Cornish–Fisher VaR / expected shortfall;
correlation, concentration and Euler risk contributions; margin utilisation.

Conventions (shared/research/analytics.md §7):

* **Money** is in the portfolio's quote currency (USDT, USD...). Exposures and P&L are signed
  (a short has a negative exposure; a gain is a positive P&L); VaR and ES are reported as
  **positive losses** in the same currency.
* **Volatilities and returns are per period** (per day when the history is daily); a horizon
  of ``h`` periods scales a one-period standard deviation by ``sqrt(h)`` (i.i.d. returns).
* **Confidence** ``alpha`` is a fraction in (0, 1) (0.99, not 99).
* **Weights** are fractions of the portfolio (they need not sum to 1 where stated).

Every function checks its whole input before computing anything and raises
:class:`liqcore.errors.RiskInputError` naming the argument. Results that combine parts are
frozen dataclasses carrying the parts, with ``to_dict()``. Arguments are read, never kept or
modified; results own their arrays (copies).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any, Literal, Sequence, Union

import numpy as np
import numpy.typing as npt

from ..errors import RiskInputError
from .checks import number

__all__ = [
    "ParametricVaR", "parametric_var",
    "TailRisk", "tail_risk", "tail_rank", "historical_var", "expected_shortfall",
    "normal_var_multiplier", "normal_es_multiplier",
    "SampleMoments", "sample_moments",
    "CornishFisherVaR", "cornish_fisher_var",
    "correlation_matrix", "average_correlation",
    "Concentration", "concentration",
    "RiskDecomposition", "risk_decomposition",
    "MarginUtilisation", "margin_utilisation",
]

ArrayLike = Union[Sequence[float], Sequence[Sequence[float]], npt.NDArray[np.floating[Any]]]

_STD_NORMAL = NormalDist()
#: relative tolerance of the symmetry and unit-diagonal checks of covariance / correlation matrices
#: (matrices estimated in float64 and passed through JSON are symmetric to ~1e-15, not exactly)
_MATRIX_RTOL = 1e-9


class _Result:
    """``to_dict()`` of the result dataclasses: the fields, tuples as lists (JSON-ready)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)  # type: ignore[call-overload]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


# --------------------------------------------------------------------------------------------
# input checks (each raises RiskInputError naming the argument; none computes anything)

def _confidence(confidence: float, name: str = "confidence") -> float:
    """A confidence as a fraction in (0, 1): 0.99, not 99."""
    return number(name, confidence, low=0.0, high=1.0, high_open=True, text=True)


def _array(values: ArrayLike, name: str, ndim: int | tuple[int, ...]) -> npt.NDArray[np.float64]:
    """``values`` as a float64 array of ``ndim`` dimensions, non-empty and finite (a ragged list
    is refused here: numpy cannot make a float array of it)."""
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise RiskInputError(f"{name} must be a rectangular array of numbers (ragged or non-numeric input)") from None
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if a.ndim not in dims:
        raise RiskInputError(f"{name} must have {' or '.join(map(str, dims))} dimension(s), got shape {a.shape}")
    if a.size == 0:
        raise RiskInputError(f"{name} is empty")
    if not np.isfinite(a).all():
        raise RiskInputError(f"{name} contains NaN or inf")
    return a


def _covariance(n: int, cov: ArrayLike | None, sigmas: ArrayLike | None,
                corr: ArrayLike | None) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The n x n covariance matrix and the volatilities, from ``cov`` or from ``sigmas`` and
    ``corr`` (exactly one of the two forms). Checks: square of size n, symmetric, volatilities
    > 0, correlations in [-1, 1] (for ``cov``: ``|cov_ij| <= sqrt(cov_ii cov_jj)``), unit
    diagonal of ``corr``. Positive semi-definiteness is not checked (an eigen-decomposition
    costs O(n^3)); a matrix that is not gives a negative variance, refused by the callers. O(n^2)."""
    if cov is not None and (sigmas is not None or corr is not None):
        raise RiskInputError("give either cov or (sigmas, corr), not both")
    if cov is not None:
        c = _array(cov, "cov", 2)
        if c.shape != (n, n):
            raise RiskInputError(f"cov must be {n} x {n} (one row per exposure), got shape {c.shape}")
        var = np.diag(c)
        if not (var > 0.0).all():
            raise RiskInputError("cov has a variance <= 0 on its diagonal (sigma must be > 0)")
        vol = np.sqrt(var)
        if not np.allclose(c, c.T, rtol=_MATRIX_RTOL, atol=0.0):
            raise RiskInputError("cov is not symmetric")
        if (np.abs(c) > np.outer(vol, vol) * (1.0 + _MATRIX_RTOL)).any():
            raise RiskInputError("cov implies a correlation outside [-1, 1]")
        return c, vol
    if sigmas is None or corr is None:
        raise RiskInputError("give cov, or both sigmas and corr")
    vol = _array(sigmas, "sigmas", 1)
    if vol.shape != (n,):
        raise RiskInputError(f"sigmas must have {n} entries (one per exposure), got {vol.shape[0]}")
    if not (vol > 0.0).all():
        raise RiskInputError("sigmas must all be > 0")
    r = _check_correlation(corr, n)
    return r * np.outer(vol, vol), vol


def _check_correlation(corr: ArrayLike, n: int | None = None) -> npt.NDArray[np.float64]:
    r = _array(corr, "corr", 2)
    m = r.shape[0] if n is None else n
    if r.shape != (m, m):
        raise RiskInputError(f"corr must be square{f' ({n} x {n})' if n is not None else ''}, got shape {r.shape}")
    if not np.allclose(np.diag(r), 1.0, rtol=0.0, atol=_MATRIX_RTOL):
        raise RiskInputError("corr must have 1 on its diagonal")
    if not np.allclose(r, r.T, rtol=0.0, atol=_MATRIX_RTOL):
        raise RiskInputError("corr is not symmetric")
    if (np.abs(r) > 1.0 + _MATRIX_RTOL).any():
        raise RiskInputError("corr has an entry outside [-1, 1]")
    return r


def _z(confidence: float, z: float | None) -> float:
    """The standard normal quantile at ``confidence`` (positive for confidence > 0.5), or ``z``."""
    if z is None:
        return _STD_NORMAL.inv_cdf(confidence)
    return number("z", z, low=0.0, text=True)


# --------------------------------------------------------------------------------------------
# parametric (variance-covariance) VaR

@dataclass(frozen=True, slots=True)
class ParametricVaR(_Result):
    """Result of :func:`parametric_var` (money in the exposures' currency, positive = loss).

    Attributes
    ----------
    position_var : tuple[float, ...]
        Each position's stand-alone VaR, ``z |w_i| sigma_i sqrt(h)``, in input order.
    undiversified_var : float
        Their sum (the VaR if every correlation were +1).
    portfolio_var : float
        ``z sqrt(w' Sigma w) sqrt(h)``.
    diversification_benefit : float
        ``undiversified_var - portfolio_var`` (>= 0).
    portfolio_sd : float
        One-period standard deviation of the portfolio's P&L, ``sqrt(w' Sigma w)``.
    component_var : tuple[float, ...]
        Euler (component) VaR of each position, ``z sqrt(h) w_i (Sigma w)_i / sqrt(w' Sigma w)``;
        they sum to ``portfolio_var`` (a hedge's is negative; all 0 for a flat portfolio).
    z : float
        The normal multiplier used; ``confidence`` and ``horizon`` (periods) as given.
    """

    position_var: tuple[float, ...]
    undiversified_var: float
    portfolio_var: float
    diversification_benefit: float
    portfolio_sd: float
    component_var: tuple[float, ...]
    z: float
    confidence: float
    horizon: float


def parametric_var(exposures: ArrayLike, cov: ArrayLike | None = None, *, sigmas: ArrayLike | None = None,
                   corr: ArrayLike | None = None, confidence: float = 0.99, horizon: float = 1.0,
                   z: float | None = None) -> ParametricVaR:
    """Variance–covariance VaR of a portfolio of exposures: ``VaR = z_alpha sqrt(w' Sigma w) sqrt(h)``.

    Source: J. C. Hull, *Risk Management and Financial Institutions* (model-building approach;
    the Microsoft/AT&T example). The mean return is ignored (taken as 0), and the ``sqrt(h)``
    scaling assumes i.i.d. normal returns.

    Parameters
    ----------
    exposures : array (n,)
        Signed money exposure of each position (quote currency; short < 0).
    cov : array (n, n), optional
        Covariance of the positions' one-period **returns** (fractions, not percent). Give it,
        or ``sigmas`` and ``corr``, not both.
    sigmas : array (n,), optional
        One-period return volatilities (fractions, > 0).
    corr : array (n, n), optional
        Their correlation matrix (unit diagonal, symmetric, entries in [-1, 1]).
    confidence : float
        alpha in (0, 1); the multiplier is the exact normal quantile ``Phi^-1(alpha)``...
    z : float, optional
        ...unless a multiplier is given here (> 0; textbooks print ``z = 2.33`` for 99 %).
    horizon : float
        Holding period in periods of the volatilities (10 days with daily sigmas: 10), > 0.

    Complexity: O(n^2) time (the checks and ``w' Sigma w``), O(n^2) memory for ``sigmas``/``corr``.

    Example: $10M with daily sigma 2 % and $5M with 1 %, rho 0.3, 10 days, z = 2.33 ->
    position VaRs 1,473,621 and 368,405, portfolio VaR 1,622,657, benefit 219,369.
    """
    w = _array(exposures, "exposures", 1)
    c = _confidence(confidence)
    h = number("horizon", horizon, low=0.0, text=True)
    mult = _z(c, z)
    sigma, vol = _covariance(w.shape[0], cov, sigmas, corr)
    sw = sigma @ w
    variance = float(w @ sw)
    if variance < 0.0:
        raise RiskInputError("the covariance matrix is not positive semi-definite (w' Sigma w < 0)")
    sd = math.sqrt(variance)
    scale = mult * math.sqrt(h)
    pos = np.abs(w) * vol * scale
    undiv = float(pos.sum())
    port = sd * scale
    comp = w * sw * (scale / sd) if sd > 0.0 else np.zeros_like(w)
    return ParametricVaR(tuple(float(x) for x in pos), undiv, port, undiv - port, sd,
                         tuple(float(x) for x in comp), mult, c, h)


# --------------------------------------------------------------------------------------------
# historical / normal / Cornish-Fisher VaR and expected shortfall

def normal_var_multiplier(confidence: float) -> float:
    """``Phi^-1(alpha)``: the VaR of a normal P&L with mean 0 and sigma 1 (95 % -> 1.644854,
    97.5 % -> 1.959964, 99 % -> 2.326348). O(1)."""
    return _STD_NORMAL.inv_cdf(_confidence(confidence))


def normal_es_multiplier(confidence: float) -> float:
    """``phi(Phi^-1(alpha)) / (1 - alpha)``: the expected shortfall of a normal P&L with mean 0 and
    sigma 1 (95 % -> 2.062713, 97.5 % -> 2.337803, 99 % -> 2.665214; sigma $20M at 99 % ->
    ES $53.30M). Source: analytics.md §7.3 (Hull, RMFI). O(1)."""
    c = _confidence(confidence)
    return _STD_NORMAL.pdf(_STD_NORMAL.inv_cdf(c)) / (1.0 - c)


@dataclass(frozen=True, slots=True)
class SampleMoments(_Result):
    """Moments of a P&L sample (:func:`sample_moments`): ``mean`` and ``sd`` in the P&L's
    currency, ``skew`` and ``excess_kurtosis`` (0 for a normal) dimensionless, ``n`` the count,
    ``ddof`` the divisor correction used for ``sd``. Skewness and kurtosis are the biased
    (moment) estimators ``m3/m2^1.5`` and ``m4/m2^2 - 3`` (scipy's defaults)."""

    mean: float
    sd: float
    skew: float
    excess_kurtosis: float
    n: int
    ddof: int


def _portfolio_pnl(pnl: ArrayLike, holdings: ArrayLike | None) -> npt.NDArray[np.float64]:
    p = _array(pnl, "pnl", (1, 2))
    if p.ndim == 1:
        if holdings is not None:
            raise RiskInputError("holdings need a 2-D pnl (days x assets)")
        return p
    if holdings is None:
        return p.sum(axis=1)
    q = _array(holdings, "holdings", 1)
    if q.shape[0] != p.shape[1]:
        raise RiskInputError(f"holdings must have one entry per pnl column ({p.shape[1]}), got {q.shape[0]}")
    return p @ q


def sample_moments(pnl: ArrayLike, *, holdings: ArrayLike | None = None, ddof: int = 1) -> SampleMoments:
    """Mean, standard deviation, skewness and excess kurtosis of a P&L history (see
    :func:`tail_risk` for ``pnl``/``holdings``). ``ddof`` = 1 (default) divides the variance by n - 1, 0 by n.
    A constant history (sd 0) is refused. O(n) (O(n m) for n days x m assets)."""
    x = _portfolio_pnl(pnl, holdings)
    return _moments(x, ddof)


def _moments(x: npt.NDArray[np.float64], ddof: int) -> SampleMoments:
    if ddof not in (0, 1):
        raise RiskInputError(f"ddof must be 0 or 1, got {ddof!r}")
    n = x.shape[0]
    if n < 2:
        raise RiskInputError("pnl needs at least 2 observations for its moments")
    mu = float(x.mean())
    d = x - mu
    m2 = float(d @ d) / n
    if not m2 > 0.0:
        raise RiskInputError("pnl is constant (standard deviation 0)")
    d2 = d * d
    m3 = float(d2 @ d) / n
    m4 = float(d2 @ d2) / n
    sd = math.sqrt(m2 * n / (n - ddof))
    return SampleMoments(mu, sd, m3 / m2 ** 1.5, m4 / (m2 * m2) - 3.0, n, ddof)


@dataclass(frozen=True, slots=True)
class CornishFisherVaR(_Result):
    """Result of :func:`cornish_fisher_var` (money in the P&L's currency, positive = loss).

    Attributes
    ----------
    var : float
        ``-(mu + z_cf sigma)``.
    normal_var : float
        ``-(mu + z sigma)``, the same without the correction.
    z, z_cf : float
        ``Phi^-1(1 - alpha)`` (negative) and its Cornish–Fisher correction.
    monotone : bool
        Whether ``z_cf`` increases with ``z`` over ``[z, 0]``, i.e. whether the expansion is a
        valid quantile function between the median and the confidence asked. When False the
        number is not a quantile of any distribution and should not be used as a VaR (the
        expansion breaks down for large ``|skew|`` or kurtosis); :func:`tail_risk` then falls
        back to historical VaR.
    """

    var: float
    normal_var: float
    z: float
    z_cf: float
    monotone: bool


def cornish_fisher_var(mu: float, sigma: float, skew: float, excess_kurtosis: float,
                       confidence: float = 0.99) -> CornishFisherVaR:
    """Cornish–Fisher ("modified") VaR of a P&L with the given moments::

        z    = Phi^-1(1 - alpha)                       (negative)
        z_cf = z + (z^2 - 1) S/6 + (z^3 - 3z) K/24 - (2z^3 - 5z) S^2/36
        VaR  = -(mu + z_cf sigma)

    Sources: Zangari (1996), *RiskMetrics Monitor* Q1; Dowd, *Measuring Market Risk* (2007) and
    the R package Dowd's ``CornishFisherVaR`` (whose ``kurtosis`` is **raw**: pass its value - 3
    here; ``(3.2, 5.6, 2, 3, 0.9)`` there is ``(3.2, 5.6, 2, 0, 0.9)`` here -> 4.145348);
    PerformanceAnalytics' ``VaR(method="modified")``.

    Parameters: ``mu`` and ``sigma`` (> 0) of the P&L per period in money; ``skew`` and
    ``excess_kurtosis`` (0 for a normal) dimensionless; ``confidence`` alpha in (0, 1). The
    result says whether the expansion is monotone (see :class:`CornishFisherVaR`). O(1).
    """
    m = number("mu", mu, text=True)
    s = number("sigma", sigma, low=0.0, text=True)
    sk = number("skew", skew, text=True)
    k = number("excess_kurtosis", excess_kurtosis, text=True)
    c = _confidence(confidence)
    z = _STD_NORMAL.inv_cdf(1.0 - c)
    z_cf = z + (z * z - 1.0) * sk / 6.0 + (z ** 3 - 3.0 * z) * k / 24.0 - (2.0 * z ** 3 - 5.0 * z) * sk * sk / 36.0
    return CornishFisherVaR(-(m + z_cf * s), -(m + z * s), z, z_cf, _cf_monotone(z, sk, k))


def _cf_monotone(z: float, skew: float, kurt: float) -> bool:
    """d z_cf / d z = a t^2 + b t + c > 0 for every t in [z, 0] (z < 0). A quadratic's minimum
    over an interval is at an end or at its vertex."""
    a = kurt / 8.0 - skew * skew / 6.0
    b = skew / 3.0
    c = 1.0 - kurt / 8.0 + 5.0 * skew * skew / 36.0
    points = [z, 0.0]
    if a > 0.0 and z < -b / (2.0 * a) < 0.0:
        points.append(-b / (2.0 * a))
    return all(a * t * t + b * t + c > 0.0 for t in points)


@dataclass(frozen=True, slots=True)
class TailRisk(_Result):
    """Result of :func:`tail_risk` (money in the P&L's currency, positive = loss).

    Attributes
    ----------
    var : float
        Value at risk at ``confidence``.
    es : float | None
        Expected shortfall (mean loss beyond the VaR); None for ``"cornish-fisher"`` (no ES).
    method : str
        The method that produced the numbers (``"historical"`` when Cornish–Fisher fell back).
    requested_method : str
        The method asked for.
    confidence : float
    n : int
        Number of scenarios (days).
    k : int | None
        Historical: the rank of the VaR among the losses (``k``-th worst) and the count averaged
        for the ES; None otherwise.
    moments : SampleMoments | None
        The moments used by ``"normal"`` and ``"cornish-fisher"``.
    cornish_fisher : CornishFisherVaR | None
        The expansion (with its ``monotone`` flag) when it was asked for, even if it fell back.
    """

    var: float
    es: float | None
    method: str
    requested_method: str
    confidence: float
    n: int
    k: int | None
    moments: SampleMoments | None
    cornish_fisher: CornishFisherVaR | None


Method = Literal["historical", "normal", "cornish-fisher"]
_METHODS = ("historical", "normal", "cornish-fisher")


def tail_rank(n: int, confidence: float) -> int:
    """``k = round(n (1 - alpha))``, halves rounded up: the rank of the historical VaR among the
    worst losses (Hull's convention: 500 scenarios at 99 % -> the 5th worst). Computed as
    ``floor(n (1 - alpha) + 1/2)`` because ``n (1 - alpha)`` is inexact in binary
    (``20 (1 - 0.9)`` is 1.9999999999999996: ``floor`` would give 1, not 2) and because
    Python's ``round`` sends halves to even. ``n`` >= 1 scenarios, ``confidence`` in (0, 1). O(1)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise RiskInputError(f"n must be a whole number of scenarios >= 1, got {n!r}")
    return math.floor(int(n) * (1.0 - _confidence(confidence)) + 0.5)


def tail_risk(pnl: ArrayLike, confidence: float = 0.99, *, method: Method = "historical",
              holdings: ArrayLike | None = None, ddof: int = 1,
              fallback: Literal["historical", "none"] = "historical") -> TailRisk:
    """VaR and expected shortfall of a P&L history by one of three methods.

    Parameters
    ----------
    pnl : array (n,) or (n, m)
        P&L per scenario (day) in money, gains positive: one column, or n days x m assets where
        ``pnl[d, i]`` is asset i's P&L on day d per unit held.
    holdings : array (m,), optional
        Units held of each asset (signed; default 1 each, i.e. ``pnl`` is already the
        positions' P&L). The portfolio P&L is ``pnl @ holdings``.
    confidence : float
        alpha in (0, 1).
    method : ``"historical"`` | ``"normal"`` | ``"cornish-fisher"``
        * historical: losses ``L = -P&L``; ``k = round(n (1 - alpha))`` (:func:`tail_rank`);
          VaR = the k-th worst loss, ES = the mean of the k worst (Hull, RMFI ch. 14). A
          history with k < 1 is too short for the confidence and refused.
        * normal: VaR = ``-mu + z sigma``, ES = ``-mu + sigma phi(z)/(1 - alpha)`` with the
          sample mean and sd (``ddof``, default 1: the n - 1 sd that reproduces analytics.md
          §7.3's 2.23621 on its 20 days; skewness and kurtosis are the biased estimators).
        * cornish-fisher: :func:`cornish_fisher_var` on the sample moments; no ES. When the
          expansion is not monotone, ``fallback="historical"`` (default) returns the historical
          VaR and ES instead (``method`` says so), ``"none"`` keeps the expansion's number.

    Complexity: O(n m) for the portfolio P&L, then O(n) (a partial sort, ``np.partition``).
    """
    if method not in _METHODS:
        raise RiskInputError(f"method must be one of {', '.join(_METHODS)}, got {method!r}")
    if fallback not in ("historical", "none"):
        raise RiskInputError(f"fallback must be 'historical' or 'none', got {fallback!r}")
    if ddof not in (0, 1):
        raise RiskInputError(f"ddof must be 0 or 1, got {ddof!r}")
    c = _confidence(confidence)
    x = _portfolio_pnl(pnl, holdings)
    n = x.shape[0]
    if method == "historical":
        return _historical(x, c, method)
    mom = _moments(x, ddof)
    if method == "normal":
        z = _STD_NORMAL.inv_cdf(c)
        es = -mom.mean + mom.sd * _STD_NORMAL.pdf(z) / (1.0 - c)
        return TailRisk(-mom.mean + z * mom.sd, es, method, method, c, n, None, mom, None)
    cf = cornish_fisher_var(mom.mean, mom.sd, mom.skew, mom.excess_kurtosis, c)
    if not cf.monotone and fallback == "historical":
        h = _historical(x, c, method)
        return TailRisk(h.var, h.es, "historical", method, c, n, h.k, mom, cf)
    return TailRisk(cf.var, None, method, method, c, n, None, mom, cf)


def _historical(x: npt.NDArray[np.float64], c: float, requested: str) -> TailRisk:
    n = x.shape[0]
    k = tail_rank(n, c)
    if k < 1:
        raise RiskInputError(f"pnl has {n} scenarios, too few for confidence {c}: "
                             f"the historical VaR needs round(n (1 - confidence)) >= 1")
    # the k smallest P&Ls (largest losses) land in worst[:k], the k-th smallest at worst[k - 1]
    worst = np.partition(x, k - 1)[:k]
    return TailRisk(-float(worst.max()), -float(worst.mean()), "historical", requested, c, n, k, None, None)


def historical_var(pnl: ArrayLike, confidence: float = 0.99, *, holdings: ArrayLike | None = None) -> float:
    """Historical VaR (positive loss, money): the ``round(n (1 - alpha))``-th worst loss of the
    P&L history (see :func:`tail_risk`). 20 days of analytics.md §7.2 at 90 % -> 4.5. O(n m)."""
    return tail_risk(pnl, confidence, method="historical", holdings=holdings).var


def expected_shortfall(pnl: ArrayLike, confidence: float = 0.975, *, method: Literal["historical", "normal"] = "historical",
                       holdings: ArrayLike | None = None, ddof: int = 1) -> float:
    """Expected shortfall (positive loss, money) of a P&L history, ``"historical"`` (mean of the
    ``round(n (1 - alpha))`` worst losses) or ``"normal"`` (see :func:`tail_risk`); the default
    confidence is FRTB's 97.5 %. 20 days of analytics.md §7.2 at 90 % -> 5.15. O(n m)."""
    if method not in ("historical", "normal"):
        raise RiskInputError(f"method must be 'historical' or 'normal' for an expected shortfall, got {method!r}")
    es = tail_risk(pnl, confidence, method=method, holdings=holdings, ddof=ddof).es
    assert es is not None  # both methods give one
    return es


# --------------------------------------------------------------------------------------------
# correlation and concentration

def correlation_matrix(returns: ArrayLike) -> npt.NDArray[np.float64]:
    """Pearson correlation matrix (m x m, a new array) of a return history of n periods x m
    assets (n >= 2, m >= 1; returns as fractions, any period). An asset whose returns are
    constant has no correlation and is refused. O(n m^2)."""
    r = _array(returns, "returns", 2)
    if r.shape[0] < 2:
        raise RiskInputError(f"returns need at least 2 periods (rows), got {r.shape[0]}")
    d = r - r.mean(axis=0)
    ss = np.einsum("ij,ij->j", d, d)
    if not (ss > 0.0).all():
        raise RiskInputError(f"returns column(s) {np.flatnonzero(~(ss > 0.0)).tolist()} are constant (sigma 0)")
    inv = 1.0 / np.sqrt(ss)
    out = (d.T @ d) * np.outer(inv, inv)
    np.clip(out, -1.0, 1.0, out=out)  # rounding can leave |rho| a few ulps above 1
    np.fill_diagonal(out, 1.0)
    return out


def average_correlation(corr: ArrayLike) -> float:
    """Mean of the m (m - 1) / 2 pairwise correlations above the diagonal (m >= 2): a regime flag
    (crypto correlations go to ~1 in sell-offs). O(m^2)."""
    r = _check_correlation(corr)
    m = r.shape[0]
    if m < 2:
        raise RiskInputError("corr needs at least 2 assets for a pairwise correlation")
    return float(r[np.triu_indices(m, 1)].mean())


@dataclass(frozen=True, slots=True)
class Concentration(_Result):
    """Result of :func:`concentration`: ``weights`` as used (fractions summing to 1), ``hhi``
    (Herfindahl–Hirschman index, 1/m..1) and ``effective_n`` = 1/hhi (positions)."""

    weights: tuple[float, ...]
    hhi: float
    effective_n: float


def concentration(weights: ArrayLike) -> Concentration:
    """Herfindahl–Hirschman index ``HHI = sum w_i^2`` and effective number of positions 1/HHI.

    ``weights``: exposures or weights (any money unit or fractions, signed); they are normalised
    to ``|w_i| / sum |w_j|`` (a short concentrates risk as a long does). At least one must be
    non-zero. Example: [0.5, 0.3, 0.2] -> HHI 0.38, N_eff 2.632. O(m).
    """
    w = np.abs(_array(weights, "weights", 1))
    total = float(w.sum())
    if not total > 0.0:
        raise RiskInputError("weights are all 0")
    f = w / total
    hhi = float(f @ f)
    return Concentration(tuple(float(x) for x in f), hhi, 1.0 / hhi)


@dataclass(frozen=True, slots=True)
class RiskDecomposition(_Result):
    """Result of :func:`risk_decomposition` (units of the weights x the volatilities).

    Attributes
    ----------
    sigma_p : float
        Portfolio volatility ``sqrt(w' Sigma w)``.
    contributions : tuple[float, ...]
        Euler risk contributions ``RC_i = w_i (Sigma w)_i / sigma_p``; they sum to ``sigma_p``
        (component VaR = z RC_i).
    shares : tuple[float, ...]
        ``RC_i / sigma_p`` (sum to 1; a hedge has a negative share).
    diversification_ratio : float
        ``sum |w_i| sigma_i / sigma_p`` (>= 1 for long-only weights).
    average_correlation : float | None
        Mean pairwise correlation (None for one asset).
    """

    sigma_p: float
    contributions: tuple[float, ...]
    shares: tuple[float, ...]
    diversification_ratio: float
    average_correlation: float | None


def risk_decomposition(weights: ArrayLike, cov: ArrayLike | None = None, *, sigmas: ArrayLike | None = None,
                       corr: ArrayLike | None = None) -> RiskDecomposition:
    """Portfolio volatility, Euler risk contributions and diversification ratio.

    Sources: Euler allocation, Tasche (1999, 2008); diversification ratio, Choueifaty &
    Coignard (2008), *JPM* "Toward maximum diversification". ``weights`` are signed fractions
    (or money exposures: the results are then in money); the covariance as for
    :func:`parametric_var` (``cov``, or ``sigmas`` and ``corr``). A portfolio of zero variance is
    refused. Example: sigma [0.6, 0.8, 1.0], rho 0.8/0.7/0.75, w [0.5, 0.3, 0.2] -> sigma_p
    0.677348, DR 1.0925, RC [0.279915, 0.223224, 0.174209]. O(m^2).
    """
    w = _array(weights, "weights", 1)
    sigma, vol = _covariance(w.shape[0], cov, sigmas, corr)
    sw = sigma @ w
    variance = float(w @ sw)
    if not variance > 0.0:
        raise RiskInputError("the portfolio has no variance (w' Sigma w <= 0): weights all 0 or cov not positive definite")
    sp = math.sqrt(variance)
    rc = w * sw / sp
    m = w.shape[0]
    avg = None
    if m >= 2:
        rho = sigma / np.outer(vol, vol)
        avg = float(rho[np.triu_indices(m, 1)].mean())
    return RiskDecomposition(sp, tuple(float(x) for x in rc), tuple(float(x) for x in rc / sp),
                             float(np.abs(w) @ vol) / sp, avg)


# --------------------------------------------------------------------------------------------
# margin utilisation

@dataclass(frozen=True, slots=True)
class MarginUtilisation(_Result):
    """Result of :func:`margin_utilisation`.

    Attributes
    ----------
    margin_ratio : float
        Maintenance margin / margin balance, a fraction (0.125 = 12.5 %); the exchange
        liquidates at 1 (Binance cross).
    im_utilisation : float
        Initial margin used / equity, a fraction.
    free_margin : float
        Equity - initial margin used, money (negative: no new position can be opened).
    status : str
        ``"ok"``, ``"warn"`` (margin ratio >= ``warn``), ``"critical"`` (>= ``critical``) or
        ``"liquidation"`` (>= 1).
    equity, maintenance_margin, initial_margin, warn, critical : float
        The inputs.
    """

    margin_ratio: float
    im_utilisation: float
    free_margin: float
    status: str
    equity: float
    maintenance_margin: float
    initial_margin: float
    warn: float
    critical: float


def margin_utilisation(equity: float, maintenance_margin: float, initial_margin: float, *,
                       warn: float = 0.6, critical: float = 0.8) -> MarginUtilisation:
    """Margin ratio, initial-margin utilisation and free margin of an account.

    ``equity`` is the margin balance (wallet balance + unrealised P&L), > 0; the margins are the
    account's total maintenance and initial margin, >= 0; all in the settlement currency.
    ``warn`` and ``critical`` are alert bands on the margin ratio, fractions with
    0 < warn < critical <= 1; the defaults 60 % and 80 % sit in the ranges of practice (warn at
    50–70 %, critical at 80–90 %; not a standard). Source: Binance USDⓈ-M cross margin
    ("margin ratio = maintenance margin / margin balance", liquidation at 100 %), analytics.md
    §7.5. Example: equity 10,000, MM 1,250, IM 4,000 -> 12.5 %, 40 %, free 6,000. O(1).
    """
    eq = number("equity", equity, low=0.0, text=True)
    mm = number("maintenance_margin", maintenance_margin, low=0.0, low_open=False, text=True)
    im = number("initial_margin", initial_margin, low=0.0, low_open=False, text=True)
    w = _confidence(warn, "warn")
    cr = number("critical", critical, text=True)
    if not w < cr <= 1.0:
        raise RiskInputError(f"critical must be in (warn, 1], got {critical!r} with warn {warn!r}")
    ratio = mm / eq
    status = "liquidation" if ratio >= 1.0 else "critical" if ratio >= cr else "warn" if ratio >= w else "ok"
    return MarginUtilisation(ratio, im / eq, eq - im, status, eq, mm, im, w, cr)
