"""Baselines of a liquidity metric and how far a new value is from them, in robust or EWMA z units.

Sources and worked examples: shared/research/analytics.md §8 (each one is a test).

- **Robust z** (Iglewicz & Hoaglin 1993): ``M = 0.6745 (x - median) / MAD`` over a baseline window;
  flag when ``|M| > 3.5``. 0.6745 = Φ⁻¹(0.75) makes the MAD consistent for σ under normality
  (equivalently ``(x - median) / (1.4826 MAD)``, Rousseeuw & Croux 1993). When the MAD is 0 (over
  half the baseline identical) the scale falls back to the mean absolute deviation x 1.2533
  (sqrt(pi/2), also consistent for σ), then to ``floor``. The current value is **not** part of its
  own baseline by default (an outlier would widen the scale that judges it: 40.47 against 26.755
  in the note's example).
- **EWMA** (RiskMetrics 1996): ``mu_t = lam mu_{t-1} + (1 - lam) x_t``,
  ``var_t = lam var_{t-1} + (1 - lam)(x_t - mu_{t-1})^2``; the z of ``x_t`` is
  ``(x_t - mu_{t-1}) / sigma_{t-1}``, against the baseline *before* it. ``lam`` 0.94 (daily data);
  for samples in seconds set it by half-life: ``lam = 0.5^(1/h)``, h in samples.
- **EWMA control chart** (Roberts 1959; Lucas & Saccucci 1990): limits
  ``mu_0 ± L sigma sqrt(lam/(2 - lam) (1 - (1 - lam)^(2i)))``.

Units: whatever the metric's (bps, quote notional, a fraction); z values are in σ units.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from liqcore.errors import AlertInputError
from liqcore.risk.checks import number, numbers

__all__ = ["IGLEWICZ_HOAGLIN", "MAD_TO_SIGMA", "MEAN_AD_TO_SIGMA", "ROBUST_Z_THRESHOLD", "RobustZ", "robust_z",
           "robust_scale",
           "median_mad", "EwmaBaseline", "half_life_lambda", "ewma_control_factor", "BaselineStats",
           "baseline_stats"]

#: Φ⁻¹(0.75): ``M = 0.6745 (x - median) / MAD`` (Iglewicz & Hoaglin)
IGLEWICZ_HOAGLIN = 0.6745
#: 1/Φ⁻¹(0.75): the MAD times this estimates σ under normality (Rousseeuw & Croux)
MAD_TO_SIGMA = 1.4826
#: sqrt(pi/2): the mean absolute deviation times this estimates σ under normality
MEAN_AD_TO_SIGMA = 1.2533
#: Iglewicz & Hoaglin's cut-off for |M|
ROBUST_Z_THRESHOLD = 3.5


def _series(name: str, values: object) -> npt.NDArray[np.float64]:
    return numbers(name, values, ndim=1, error=AlertInputError)


def median_mad(values: object) -> tuple[float, float]:
    """Median and median absolute deviation (unscaled) of a 1-D series. O(n)."""
    v = _series("values", values)
    med = float(np.median(v))
    return med, float(np.median(np.abs(v - med)))


@dataclass(frozen=True, slots=True)
class RobustZ:
    """A value against a median/MAD baseline: ``z`` (Iglewicz-Hoaglin M, σ units), the
    ``median`` and ``mad`` of the baseline, the σ estimate ``scale`` that divided the deviation,
    and ``method``: ``"mad"`` (0.6745/MAD, i.e. MAD x 1.4826), ``"mean_ad"`` (MAD = 0: the mean
    absolute deviation x 1.2533) or ``"floor"`` (both 0)."""

    z: float
    median: float
    mad: float
    scale: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def robust_z(x: float, baseline: object, *, include_current: bool = False, floor: float = 1e-12) -> RobustZ:
    """How many robust σ ``x`` is from the median of ``baseline`` (1-D, finite, non-empty).

    ``include_current`` adds ``x`` to its own baseline (off by default: see the module docstring).
    ``floor`` (> 0, metric units) is the scale when the baseline has no spread at all. O(n).
    """
    xv = number("x", x, error=AlertInputError)
    fl = number("floor", floor, low=0.0, error=AlertInputError)
    v = _series("baseline", baseline)
    if include_current:
        v = np.append(v, xv)
    med, mad, scale, method = robust_scale(v, fl)
    return RobustZ(z=(xv - med) / scale, median=med, mad=mad, scale=scale, method=method)


def robust_scale(values: npt.NDArray[np.float64], floor: float) -> tuple[float, float, float, str]:
    """``(median, mad, scale, method)`` of a non-empty, finite float64 array (not checked: the
    callers check it): ``scale`` is the robust σ estimate -- MAD / 0.6745 (``"mad"``), else the
    mean absolute deviation x 1.2533 (``"mean_ad"``), else ``floor`` (``"floor"``). The one
    spelling of the fallback for :func:`robust_z` and the spread rule's baseline. O(n)."""
    med = float(np.median(values))
    dev = np.abs(values - med)
    mad = float(np.median(dev))
    if mad > 0.0:
        return med, mad, mad / IGLEWICZ_HOAGLIN, "mad"
    mean_ad = float(dev.mean())
    if mean_ad > 0.0:
        return med, mad, mean_ad * MEAN_AD_TO_SIGMA, "mean_ad"
    return med, mad, floor, "floor"


def half_life_lambda(half_life: float) -> float:
    """The EWMA factor whose weights halve every ``half_life`` samples: ``0.5 ** (1/h)``, h > 0."""
    h = number("half_life", half_life, low=0.0, error=AlertInputError)
    return float(0.5 ** (1.0 / h))


def ewma_control_factor(lam: float, width: float = 3.0, i: int | None = None) -> float:
    """Half-width of the EWMA control chart's limits in σ units after ``i`` samples (``None``:
    the steady state): ``L sqrt(lam/(2 - lam) (1 - (1 - lam)^(2i)))``. lam in (0, 1], L > 0."""
    lm = number("lam", lam, low=0.0, high=1.0, error=AlertInputError)
    L = number("width", width, low=0.0, error=AlertInputError)
    if i is None:
        return L * math.sqrt(lm / (2.0 - lm))
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or i < 1:
        raise AlertInputError(f"i must be an integer >= 1 (or None for the steady state), got {i!r}")
    return L * math.sqrt(lm / (2.0 - lm) * (1.0 - (1.0 - lm) ** (2 * int(i))))


class EwmaBaseline:
    """A running EWMA mean and variance of one metric, updated one value at a time.

    ``lam`` in (0, 1) (RiskMetrics: 0.94 for daily data), or ``half_life`` in samples instead.
    ``mean`` / ``var`` seed the baseline; without ``mean`` the first value seeds it (and scores
    nothing); without ``var`` the variance starts at 0 and grows from the deviations, so z is
    ``None`` until it is > 0. :meth:`update` returns the z of the new value against the baseline
    *before* it, then folds it in. Not thread-safe (one owner); O(1) per value, no allocation.
    """

    __slots__ = ("lam", "mean", "var", "count")

    def __init__(self, lam: float | None = 0.94, *, half_life: float | None = None, mean: float | None = None,
                 var: float | None = None) -> None:
        if half_life is not None:
            self.lam = half_life_lambda(half_life)
        elif lam is None:
            raise AlertInputError("lam: give lam or half_life")
        else:
            self.lam = number("lam", lam, low=0.0, high=1.0, high_open=True, error=AlertInputError)
        self.mean: float | None = None if mean is None else number("mean", mean, error=AlertInputError)
        self.var = 0.0 if var is None else number("var", var, low=0.0, low_open=False, error=AlertInputError)
        self.count = 0

    @property
    def std(self) -> float | None:
        """sqrt(var), ``None`` before the baseline has a mean."""
        return None if self.mean is None else math.sqrt(self.var)

    def z(self, x: float) -> float | None:
        """The z of ``x`` against the current baseline, without folding it in (``None`` while
        the baseline has no mean or no variance)."""
        if self.mean is None or self.var <= 0.0:
            return None
        return (x - self.mean) / math.sqrt(self.var)

    def update(self, x: float) -> float | None:
        """Score ``x`` (a finite number) against the baseline, then fold it in."""
        if type(x) is not float or x - x != 0.0:   # the fast path takes finite floats; a NaN would poison
            x = number("x", x, error=AlertInputError)  # every later value: checked, or refused
        mean = self.mean
        self.count += 1
        if mean is None:
            self.mean = float(x)
            return None
        z = None if self.var <= 0.0 else (x - mean) / math.sqrt(self.var)
        lam = self.lam
        d = x - mean
        self.var = lam * self.var + (1.0 - lam) * d * d
        self.mean = lam * mean + (1.0 - lam) * x
        return z

    def __repr__(self) -> str:
        return f"EwmaBaseline(lam={self.lam!r}, mean={self.mean!r}, var={self.var!r}, count={self.count})"


@dataclass(frozen=True, slots=True)
class BaselineStats:
    """Summary of a metric over a lookback: ``count``, ``mean``, ``std`` (n - 1), ``median``,
    ``mad`` (unscaled), ``low`` / ``high`` (min, max), in the metric's units."""

    count: int
    mean: float
    std: float
    median: float
    mad: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def baseline_stats(values: object) -> BaselineStats:
    """Mean/std and median/MAD of a 1-D series (std is 0 for one value). O(n)."""
    v = _series("values", values)
    med, mad = median_mad(v)
    return BaselineStats(count=len(v), mean=float(v.mean()), std=float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                         median=med, mad=mad, low=float(v.min()), high=float(v.max()))
