"""Perpetual funding: the premium index, its time-weighted average, the funding rate and the
cost of holding a position through funding settlements (analytics.md §6.3).

Formulas (Binance FAQ "Introduction to Binance Futures Funding Rates", support/faq/360033525031;
the same on Gate.io and TraderWagon, with other parameters):

    premium index  P_i = [max(0, impact_bid - index) - max(0, index - impact_ask)] / index
    average        P   = (1 P_1 + 2 P_2 + ... + n P_n) / (1 + 2 + ... + n)   (later samples weigh more)
    funding rate   F   = P + clamp(I - P, -c, +c)          I = 0.01 % per 8 h, c = 0.05 %
    capped         F'  = clamp(F, floor, cap)                symbol-specific, read from the exchange
    funding amount     = notional (mark price x size) x F   F > 0: longs pay shorts

Units: prices in quote currency; rates and premiums are fractions *per funding interval*
(0.0001 = 0.01 % per 8 h on Binance's default schedule), not per year; notionals and costs in
quote currency. The impact bid/ask are the average fill prices of the impact margin notional
on each side (a ``walk`` of the book, analytics.md §1.3); this module takes them as numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from liqcore.errors import RiskInputError
from liqcore.risk.checks import number, numbers

__all__ = ["FundingRate", "average_premium", "funding_cost", "funding_rate", "premium_index"]

_SIDES = ("long", "short")


def premium_index(index_price: float, impact_bid: float, impact_ask: float) -> float:
    """Premium index of one sample, a fraction (0.0005 = 0.05 %): how far the impact prices
    stand outside the index, ``[max(0, impact_bid - index) - max(0, index - impact_ask)] / index``;
    0 while the index lies between the impact prices.

    Prices in the same quote currency, > 0, with ``impact_bid <= impact_ask``. Example
    (analytics.md §6.3): index 60,000, impact bid 60,030, impact ask 60,042 -> 0.0005.
    Raises RiskInputError naming the argument. O(1).
    """
    index_price = number("index_price", index_price, low=0.0)
    impact_bid = number("impact_bid", impact_bid, low=0.0)
    impact_ask = number("impact_ask", impact_ask, low=0.0)
    if impact_bid > impact_ask:
        raise RiskInputError(f"impact_bid ({impact_bid!r}) must not be above impact_ask ({impact_ask!r})")
    return (max(0.0, impact_bid - index_price) - max(0.0, index_price - impact_ask)) / index_price


def average_premium(premiums: Sequence[float] | npt.NDArray[np.floating],
                    weights: Sequence[float] | npt.NDArray[np.floating] | None = None) -> float:
    """Weighted average of the premium samples of one funding interval, oldest first
    (fractions, as :func:`premium_index`). ``weights`` None (default): Binance's time weights
    1, 2, ..., n, so later samples count more (n = 5,760 samples of 5 s per 8 h); otherwise
    one non-negative weight per sample with a positive sum.

    Example (analytics.md §6.3): [0.03, 0.04, 0.06, 0.05] % -> 0.049 %.
    Raises RiskInputError (naming the argument) on an empty, non-1-D or non-finite history, or
    weights of another length, negative or summing to 0. O(n); the input is not modified.
    """
    p = numbers("premiums", premiums, ndim=1)
    if weights is None:
        w = np.arange(1.0, p.size + 1.0)
    else:
        w = numbers("weights", weights, ndim=1)
        if w.size != p.size:
            raise RiskInputError(f"weights has {w.size} values for {p.size} premiums")
        if np.any(w < 0.0) or not w.sum() > 0.0:
            raise RiskInputError("weights must be >= 0 with a positive sum")
    return float(np.dot(w, p) / w.sum())


@dataclass(frozen=True)
class FundingRate:
    """A funding rate and its parts, fractions per funding interval.

    ``rate``: the rate charged, ``premium + interest_term`` after the exchange's floor/cap;
    ``premium``: the (averaged) premium index P; ``interest``: the interest rate I;
    ``interest_term``: ``clamp(I - P, -clamp, +clamp)``; ``capped``: whether the floor or cap
    changed the rate."""

    rate: float
    premium: float
    interest: float
    interest_term: float
    capped: bool

    def to_dict(self) -> dict[str, object]:
        """Plain dict (JSON-ready) of the fields."""
        return asdict(self)


def funding_rate(premium: float, *, interest: float = 0.0001, clamp: float = 0.0005,
                 floor: float | None = None, cap: float | None = None) -> FundingRate:
    """Funding rate of one interval, ``F = P + clamp(I - P, -clamp, +clamp)`` then
    ``clamp(F, floor, cap)`` (analytics.md §6.3; Binance's defaults).

    Args:
        premium: the averaged premium index P of the interval (fraction; :func:`average_premium`).
        interest: I per interval (fraction; default 0.0001 = 0.01 % per 8 h, Binance's; 0 for
            some pairs; scale it for 4 h / 1 h intervals).
        clamp: the bound c of the interest term (>= 0; default 0.0005 = 0.05 %).
        floor, cap: the symbol's funding floor and cap (fractions per interval, e.g. -0.02 and
            +0.02 for +-2 %; ``floor <= cap``); the exchange publishes them
            (``GET /fapi/v1/fundingInfo``) rather than a formula; None (default): not applied.

    Examples: P = 0.02 % -> 0.01 % (any P in [-0.04 %, 0.06 %] gives F = I); P = 0.08 % ->
    0.03 %; P = -0.04 % -> 0.01 %. Raises RiskInputError naming the argument. O(1).
    """
    premium = number("premium", premium)
    interest = number("interest", interest)
    clamp = number("clamp", clamp, low=0.0, low_open=False)
    lo = -math.inf if floor is None else number("floor", floor)
    hi = math.inf if cap is None else number("cap", cap)
    if lo > hi:
        raise RiskInputError(f"floor ({lo!r}) must not be above cap ({hi!r})")
    term = min(clamp, max(-clamp, interest - premium))
    raw = premium + term
    rate = min(hi, max(lo, raw))
    return FundingRate(rate=rate, premium=premium, interest=interest, interest_term=term, capped=rate != raw)


def funding_cost(notional: float, rate: float, intervals: float = 1.0, *, side: str = "long") -> float:
    """Funding the position pays over ``intervals`` settlements at ``rate``, in quote currency:
    ``notional x rate x intervals`` for a long, the opposite for a short (F > 0: longs pay
    shorts). Positive = paid, negative = received.

    Args:
        notional: position notional at the mark price, ``mark x |size|`` (quote currency, > 0).
        rate: funding rate per interval (fraction, any sign).
        intervals: number of settlements (>= 0; may be fractional for an expected cost over a
            horizon, e.g. 7 days of 8-hour funding = 21).
        side: ``"long"`` (default) or ``"short"``.

    Example (analytics.md §6.3): long 2 BTC at mark 60,000 with F = 0.01 % pays 12 USDT per
    interval: ``funding_cost(120_000, 0.0001)`` = 12.0. Raises RiskInputError naming the
    argument. O(1).
    """
    if side not in _SIDES:
        raise RiskInputError(f"side must be 'long' or 'short', got {side!r}")
    notional = number("notional", notional, low=0.0)
    rate = number("rate", rate)
    intervals = number("intervals", intervals, low=0.0, low_open=False)
    cost = notional * rate * intervals
    return cost if side == "long" else -cost
