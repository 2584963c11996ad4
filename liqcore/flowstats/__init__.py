"""Liquidity and toxicity statistics over arrays (batch, pure Python + numpy, numba kernels).

One module per family; every function takes numpy arrays (trades as ``t, price, size, side``;
quotes as ``t, bid, ask``), validates them (:class:`liqcore.errors.InvalidSeriesError`) and
returns frozen dataclasses of arrays with units in their docstrings:

* :mod:`~liqcore.flowstats.spreads` — quoted, time-weighted, effective, realized and impact spreads;
* :mod:`~liqcore.flowstats.toxicity` — VPIN (exact sides or bulk volume classification), time
  bars, the tick rule;
* :mod:`~liqcore.flowstats.illiquidity` — Kyle's lambda, Amihud ILLIQ, resiliency half-life, and
  per-interval returns and flows.

numba is imported only when a function that needs a kernel first runs (kernels are cached on
disk), so importing this package costs no more than numpy.
"""

from liqcore.flowstats.illiquidity import (
    Amihud,
    Intervals,
    KyleLambda,
    Resiliency,
    amihud,
    intervals,
    kyle_lambda,
    resiliency,
)
from liqcore.flowstats.spreads import (
    QuotedSpread,
    TimeWeightedSpread,
    TradeSpreads,
    quoted_spread,
    time_weighted_spread,
    trade_spreads,
)
from liqcore.flowstats.toxicity import VPIN, TimeBars, tick_rule, time_bars, vpin

__all__ = [
    "QuotedSpread", "TimeWeightedSpread", "TradeSpreads", "quoted_spread", "time_weighted_spread",
    "trade_spreads",
    "VPIN", "TimeBars", "vpin", "time_bars", "tick_rule",
    "KyleLambda", "Amihud", "Resiliency", "Intervals", "kyle_lambda", "amihud", "resiliency",
    "intervals",
]
