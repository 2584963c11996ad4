"""A 0-100 liquidation-risk score of one position, with the components it is made of.

Four components, each mapped to [0, 1] (1 = worst), combined as a weighted mean x 100:

- ``probability``: the chance the mark touches the liquidation price within the horizon
  (:func:`liqcore.risk.probability.liquidation_probability`, GBM with the BGK correction when
  ``monitoring`` is given);
- ``distance``: ``exp(-k / distance_scale)`` of the distance to liquidation in sigma units
  ``k = |ln(L/S)| / (sigma sqrt(h))`` (k = 0: 1; k = 3 with the default scale 3: 0.37);
- ``funding``: what funding costs the position over the horizon as a fraction of its margin,
  divided by ``funding_scale`` (default 10% of the margin scores 1), clipped to [0, 1]; funding
  received scores 0;
- ``exit``: what closing the whole position through the live book costs against the mid
  (``OrderBook.walk`` of its size on the closing side: slippage x notional) as a fraction of its
  margin, over ``exit_scale`` (default 10%), clipped; a book that cannot absorb the size scores 1.

Default weights (:class:`ScoreWeights`): probability 0.4, distance 0.3, funding 0.1, exit 0.2 (a
component that cannot be computed -- no book -- is left out and the others renormalised). The
score is monotone in each input: higher sigma, longer horizon, closer liquidation price, higher
funding paid or a thinner book never lower it (property-tested). A position with no liquidation
price (a long whose formula gives <= 0) has probability 0 and distance component 0; one whose
margin is already exhausted ("liquidated at any price") probability 1 and distance 0 sigma.
Units: sigma per year,
horizon and monitoring in years (365-day year), funding rate per interval (a fraction), money in
quote. O(levels walked) for the exit component, O(1) otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from liqcore.errors import RiskInputError
from liqcore.risk.checks import number
from liqcore.risk.liquidation import LIQUIDATED_AT_ANY_PRICE, liquidation_price
from liqcore.risk.probability import DAYS_PER_YEAR, touch_probability
from liqcore.risk.records import Position
from liqcore.risk.tiers import LeverageTiers

__all__ = ["ScoreWeights", "LiquidationRisk", "liquidation_risk"]


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    """Weights of the score's components (>= 0, not all 0) and the scales that map the funding
    and exit costs (fractions of the margin) to [0, 1]."""

    probability: float = 0.4
    distance: float = 0.3
    funding: float = 0.1
    exit: float = 0.2
    distance_scale: float = 3.0
    funding_scale: float = 0.1
    exit_scale: float = 0.1

    def __post_init__(self) -> None:
        for name in ("probability", "distance", "funding", "exit"):
            number(f"weights.{name}", getattr(self, name), low=0.0, low_open=False)
        if self.probability + self.distance + self.funding + self.exit <= 0.0:
            raise RiskInputError("weights: at least one weight must be > 0")
        for name in ("distance_scale", "funding_scale", "exit_scale"):
            number(f"weights.{name}", getattr(self, name), low=0.0)


class _LiquidationRiskFields(NamedTuple):
    score: float
    liq_price: float | None
    mark: float
    distance_sigma: float
    probability: float
    funding_cost: float
    exit_cost: float | None
    exit_complete: bool | None
    exit_slippage_bps: float | None
    components: dict[str, float]
    weights: dict[str, float]


class LiquidationRisk(_LiquidationRiskFields):
    """The score (0-100) and what it is made of.

    ``liq_price`` (quote per base, None when there is none), ``mark`` (the price the distance is
    measured from), ``distance_sigma`` (k, inf without a liquidation price), ``probability``,
    ``funding_cost`` (quote over the horizon, > 0 paid), ``exit_cost`` (quote, None without a
    book), ``exit_complete`` (the book absorbs the size), ``exit_slippage_bps`` (of the VWAP
    against the mid), ``components`` (each in [0, 1]) and ``weights`` used.

    Immutable, a named tuple (``_replace`` for a changed copy; it also unpacks and compares as a
    tuple): :func:`liquidation_risk` builds it with ``tuple.__new__`` in about 0.2 us, where the
    frozen dataclass it replaced took 1.2 us (an ``object.__setattr__`` per field). Built
    directly, ``components`` and ``weights`` default to new empty dicts.
    """

    __slots__ = ()

    def __new__(cls, score: float, liq_price: float | None, mark: float, distance_sigma: float,
                probability: float, funding_cost: float, exit_cost: float | None,
                exit_complete: bool | None, exit_slippage_bps: float | None,
                components: dict[str, float] | None = None,
                weights: dict[str, float] | None = None) -> LiquidationRisk:
        return _new(cls, (score, liq_price, mark, distance_sigma, probability, funding_cost, exit_cost,
                          exit_complete, exit_slippage_bps, {} if components is None else components,
                          {} if weights is None else weights))

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (``components`` and ``weights`` copied)."""
        d = self._asdict()
        d["components"] = dict(self.components)
        d["weights"] = dict(self.weights)
        return d


_new = tuple.__new__
#: the weights when none are given (immutable, so one instance serves every call)
_DEFAULT_WEIGHTS = ScoreWeights()


def liquidation_risk(position: Position, *, sigma: float, tiers: LeverageTiers | None = None,
                     liq_price: float | None = None, book: Any = None, mark: float | None = None,
                     horizon: float = 1.0 / DAYS_PER_YEAR, monitoring: float | None = None,
                     funding_rate: float = 0.0, funding_intervals: float = 3.0,
                     weights: ScoreWeights | None = None) -> LiquidationRisk:
    """The liquidation-risk score of ``position`` (see the module docstring).

    The liquidation price is ``liq_price`` when given, else computed from ``tiers``
    (:func:`liqcore.risk.liquidation.liquidation_price`); ``mark`` defaults to the book's mid,
    then to the entry price. ``funding_rate`` is per funding interval (a long pays when > 0) and
    ``funding_intervals`` the intervals within the horizon (3 per day on an 8-hour schedule).
    ``book``: an :class:`~liqcore.OrderBook` of the instrument (its walk prices the exit).
    Raises RiskInputError for a bad argument (nothing computed).
    """
    if not isinstance(position, Position):
        raise RiskInputError(f"position: expected a liqcore.risk.Position, got {type(position).__name__}")
    w = _DEFAULT_WEIGHTS if weights is None else weights
    if not isinstance(w, ScoreWeights):
        raise RiskInputError(f"weights: expected ScoreWeights, got {type(w).__name__}")
    sg = number("sigma", sigma, low=0.0)
    hz = number("horizon", horizon, low=0.0)
    rate = number("funding_rate", funding_rate)
    intervals = number("funding_intervals", funding_intervals, low=0.0, low_open=False)
    dt = 0.0 if monitoring is None else number("monitoring", monitoring, low=0.0)
    if liq_price is None:
        if tiers is None:
            raise RiskInputError("tiers: needed to compute the liquidation price (or give liq_price)")
        found = liquidation_price(position, tiers)
        lp: float | None = found.price
        gone = found.reason == LIQUIDATED_AT_ANY_PRICE   # margin already exhausted: certain, at no distance
    else:
        gone = False
        lp = number("liq_price", liq_price, low=0.0)
    side = position.side
    walk = None
    if book is not None:
        mid = book.mid
        if mark is None and math.isfinite(mid):
            mark = mid
        walk = book.walk("sell" if side == "long" else "buy", position.size)
    s = position.entry_price if mark is None else number("mark", mark, low=0.0)
    # Position sets it: the isolated margin (default size x entry / leverage) or the cross wallet
    margin = position.wallet_balance if position.wallet_balance is not None else position.notional / position.leverage

    if lp is None:
        k, p = (0.0, 1.0) if gone else (math.inf, 0.0)
    else:
        k = abs(math.log(lp / s)) / (sg * math.sqrt(hz))
        # liquidation_probability's scalar kernel on the numbers checked above (its own checks
        # would repeat them); the one check it adds on these is kept here
        if dt > hz:
            raise RiskInputError("monitoring must be at most the horizon (both in years)")
        p = touch_probability(s, lp, sg, hz, 0.0, dt, 1 if side == "long" else -1)
    sign = 1 if side == "long" else -1
    funding = sign * rate * intervals * position.size * s      # > 0: paid
    c_prob, c_dist = p, math.exp(-k / w.distance_scale)
    c_fund = min(1.0, max(0.0, funding / margin / w.funding_scale))
    exit_cost = exit_slip = None
    exit_complete = None
    if walk is None:
        comps = {"probability": c_prob, "distance": c_dist, "funding": c_fund}
        used = {"probability": w.probability, "distance": w.distance, "funding": w.funding}
        # the same sums, in the same order, as sum() over the components (0 + a + b + c)
        total = w.probability + w.distance + w.funding
        weighted = w.probability * c_prob + w.distance * c_dist + w.funding * c_fund
    else:
        exit_complete = bool(walk.complete)
        slip = walk.slippage_mid_bps
        exit_slip = slip if math.isfinite(slip) else None
        exit_cost = (max(0.0, exit_slip) / 1e4 * position.size * s) if exit_slip is not None else None
        c_exit = 1.0 if not exit_complete or exit_cost is None else min(1.0, exit_cost / margin / w.exit_scale)
        comps = {"probability": c_prob, "distance": c_dist, "funding": c_fund, "exit": c_exit}
        used = {"probability": w.probability, "distance": w.distance, "funding": w.funding, "exit": w.exit}
        total = w.probability + w.distance + w.funding + w.exit
        weighted = w.probability * c_prob + w.distance * c_dist + w.funding * c_fund + w.exit * c_exit
    score = 100.0 * weighted / total if total > 0 else 0.0
    return _new(LiquidationRisk, (score, lp, s, k, p, funding, exit_cost, exit_complete, exit_slip, comps, used))
