"""Leverage caps: the largest leverage a position should take, as the minimum of several caps,
with the binding one named (analytics.md §6.5).

- **Liquidation buffer** (derived in the research note): an isolated position at leverage L
  with maintenance margin rate MMR (and no maintenance amount) is liquidated after an adverse
  move of about ``1/L - MMR``; requiring that distance to be at least ``k`` standard deviations
  of the move over the horizon, ``k sigma sqrt(h)``, gives ``L <= 1 / (k sigma sqrt(h) + MMR)``.
- **Volatility targeting**: ``L <= sigma_target / sigma`` (Harvey, Hoyle, Korgaonkar, Rattray,
  Sargaison & Van Hemert 2018, "The impact of volatility targeting", *J. Portfolio Management*;
  Moreira & Muir 2017, *J. Finance*).
- **Fractional Kelly**: the continuous-time Kelly fraction ``f* = (mu - r) / sigma**2``, used as
  a cap ``L <= c f*`` with ``c`` = 1/2 or 1/4 because mu is uncertain (Kelly 1956; Thorp 2006;
  MacLean, Thorp & Ziemba 2010).
- **Exchange tier**: the maximum leverage of the tier the notional falls in (``tiers`` and the
  notional, or the number as ``tier_max``).
- **Book liquidity for the size**: the buffer cap with the cost of closing the whole size through
  the live book added to what the margin must hold: ``L <= 1 / (k sigma sqrt(h) + MMR + slip)``,
  ``slip`` the exit's slippage against the mid as a fraction (``OrderBook.walk`` of the size on
  the closing side); 0 when the book cannot absorb the size. A forced close pays that slippage out
  of the margin, so a thin book must lower the leverage. (Or a caller's own cap as ``book_cap``.)

Units: ``sigma`` and ``sigma_target`` per year as fractions (0.6 = 60 %/yr); ``horizon`` in
years on the 365-day basis of :data:`liqcore.risk.probability.DAYS_PER_YEAR` (1 day = 1/365,
so 60 %/yr is sigma_1d = 0.6 / sqrt(365) = 3.1405 %); ``mmr`` a fraction of notional (0.004 =
0.4 %); ``mu`` and ``r`` per year as fractions; leverages as multiples of margin (10.18 = 10.18x).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from typing import Any

from liqcore.errors import RiskInputError
from liqcore.risk.checks import choice, number
from liqcore.risk.tiers import LeverageTiers

__all__ = ["LeverageCap", "max_leverage"]

# Order in which caps are reported and in which a tie is resolved (the first binds): the
# buffer cap is always present, the others only when their inputs are given.
CAP_NAMES: tuple[str, ...] = ("buffer", "volatility_target", "kelly", "tier", "book")


@dataclass(frozen=True)
class LeverageCap:
    """The result of :func:`max_leverage`.

    ``leverage``: the cap (multiple of margin, >= 0), the minimum of ``components``;
    ``binding``: the name of the cap that binds (one of ``"buffer"``, ``"volatility_target"``,
    ``"kelly"``, ``"tier"``, ``"book"``; the first in that order on a tie); ``reason``: a sentence
    saying why it binds; ``components``: every cap that was computed, by name (caps whose
    inputs were not given are absent); ``sigma_h``: the volatility over the horizon,
    ``sigma sqrt(h)`` (fraction); ``kelly_full``: the full Kelly fraction ``(mu - r) / sigma**2``
    before the fraction ``c`` and before the floor at 0 (``None`` without ``mu``).
    Immutable; ``components`` is a tuple of (name, cap) pairs in the order above.
    """

    leverage: float
    binding: str
    reason: str
    components: tuple[tuple[str, float], ...]
    sigma_h: float
    kelly_full: float | None

    def component(self, name: str) -> float | None:
        """The cap called ``name``, or None if it was not computed."""
        return dict(self.components).get(name)

    def to_dict(self) -> dict[str, object]:
        """Plain dict (JSON-ready): the fields, ``components`` as a name -> cap dict."""
        return {
            "leverage": self.leverage,
            "binding": self.binding,
            "reason": self.reason,
            "components": dict(self.components),
            "sigma_h": self.sigma_h,
            "kelly_full": self.kelly_full,
        }


def max_leverage(sigma: float, horizon: float, mmr: float, *, k: float = 3.0,
                 sigma_target: float | None = None, mu: float | None = None,
                 kelly_fraction: float = 0.5, r: float = 0.0, tier_max: float | None = None,
                 book_cap: float | None = None, tiers: LeverageTiers | None = None,
                 notional: float | None = None, book: Any = None, size: float | None = None,
                 side: str = "long") -> LeverageCap:
    """The largest leverage to take: the minimum of the caps of the module docstring, with the
    binding cap named and every cap returned (analytics.md §6.5).

    Args:
        sigma: volatility of the underlying per year, a fraction (> 0).
        horizon: the period over which the position must survive, in years (> 0; 1 day =
            ``1 / 365``).
        mmr: maintenance margin rate of the tier, a fraction of notional (0 <= mmr < 1).
        k: buffer policy, how many sigma-of-the-horizon the distance to liquidation must be
            (> 0; default 3, i.e. a 3-sigma daily move does not liquidate).
        sigma_target: volatility target per year (fraction, > 0); None: no volatility cap.
        mu: expected return per year of the position in its direction (fraction; for a short
            the negated expected return of the price); None: no Kelly cap.
        kelly_fraction: the fraction ``c`` of full Kelly (0 < c <= 1; default 1/2, half-Kelly).
        r: the rate the position must beat per year (fraction; default 0), e.g. the funding
            cost or the risk-free rate.
        tier_max: maximum leverage of the exchange tier for the notional (> 0); None: no
            tier cap.
        book_cap: a leverage cap from book liquidity computed by the caller (>= 0); None:
            none.
        tiers, notional: the tier table and the position's notional (quote, > 0; default
            ``size x`` the book's mid): the tier cap read from the table (instead of
            ``tier_max``).
        book, size, side: an :class:`~liqcore.OrderBook` of the instrument, the position's size
            (base, > 0) and side (``"long"`` closes by selling into the bids, ``"short"`` by
            buying the asks): the book cap for the size (instead of ``book_cap``).

    A Kelly fraction at or below 0 (``mu <= r``) caps the leverage at 0: the bet has no edge.

    Raises RiskInputError naming the argument (nothing computed) on a non-finite input or one
    out of the bounds above. Complexity: O(1).

    Example (analytics.md §6.5): ``max_leverage(0.6, 1 / 365, 0.004).leverage`` = 10.18.
    """
    sigma = number("sigma", sigma, low=0.0)
    horizon = number("horizon", horizon, low=0.0)
    mmr = number("mmr", mmr, low=0.0, low_open=False, high=1.0, high_open=True)
    k = number("k", k, low=0.0)
    kelly_fraction = number("kelly_fraction", kelly_fraction, low=0.0, high=1.0)
    r = number("r", r)
    if sigma_target is not None:
        sigma_target = number("sigma_target", sigma_target, low=0.0)
    if mu is not None:
        mu = number("mu", mu)
    if tier_max is not None:
        tier_max = number("tier_max", tier_max, low=0.0)
    if book_cap is not None:
        book_cap = number("book_cap", book_cap, low=0.0, low_open=False)
    if tiers is not None and tier_max is not None:
        raise RiskInputError("tiers/tier_max: give the table or its maximum, not both")
    if book is not None and book_cap is not None:
        raise RiskInputError("book/book_cap: give the book or a cap computed from it, not both")
    if (book is None) != (size is None):
        raise RiskInputError("book/size: the book cap needs both the book and the position's size")
    walk = None
    if book is not None:
        size = number("size", size, low=0.0)
        closing = "sell" if choice("side", side, ("long", "short")) == "long" else "buy"
        walk = book.walk(closing, size)
    if tiers is not None:
        if not isinstance(tiers, LeverageTiers):
            raise RiskInputError(f"tiers: expected LeverageTiers, got {type(tiers).__name__}")
        if notional is None:
            mid = book.mid if book is not None else math.nan
            if not (size is not None and mid == mid):
                raise RiskInputError("notional: needed for the tier cap (or a book and a size to value it)")
            notional = size * mid
        tier_max = tiers.max_leverage_for(number("notional", notional, low=0.0))
    elif notional is not None:
        raise RiskInputError("notional: only used with tiers")

    sigma_h = sigma * math.sqrt(horizon)
    caps: dict[str, float] = {"buffer": 1.0 / (k * sigma_h + mmr)}
    kelly_full: float | None = None
    if sigma_target is not None:
        caps["volatility_target"] = sigma_target / sigma
    if mu is not None:
        kelly_full = (mu - r) / (sigma * sigma)
        caps["kelly"] = max(0.0, kelly_fraction * kelly_full)
    if tier_max is not None:
        caps["tier"] = tier_max
    slip = None
    if walk is not None:
        slip = max(0.0, walk.slippage_mid_bps) * 1e-4
        book_cap = 1.0 / (k * sigma_h + mmr + slip) if walk.complete else 0.0
    if book_cap is not None:
        caps["book"] = book_cap
    components = tuple((name, caps[name]) for name in CAP_NAMES if name in caps)
    binding, leverage = min(components, key=lambda item: item[1])  # min keeps the first of ties
    # only the binding cap's sentence is formatted (formatting all of them doubled the cost)
    if binding == "buffer":
        reason = (f"a {k:g}-sigma move over the horizon ({k * sigma_h:.4%}) plus the maintenance "
                  f"margin ({mmr:.4%}) must stay inside the margin (1/leverage)")
    elif binding == "volatility_target":
        reason = (f"the position's volatility, leverage x {sigma:.2%}/yr, must not exceed the "
                  f"target {sigma_target:.2%}/yr")
    elif binding == "kelly":
        reason = (f"{kelly_fraction:g} of the Kelly fraction (mu - r)/sigma^2 = {kelly_full:.4g}"
                  + (" (no edge: mu <= r)" if leverage == 0.0 else ""))
    elif binding == "tier":
        reason = "the exchange's maximum leverage for the notional's tier"
    elif slip is None:
        reason = "the book's liquidity for the size (the caller's cap)"
    elif leverage == 0.0:
        reason = "the book cannot absorb the size: closing it would empty the side"
    else:
        reason = (f"a {k:g}-sigma move ({k * sigma_h:.4%}), the maintenance margin ({mmr:.4%}) and closing "
                  f"the size through the book ({slip:.4%} slippage) must stay inside the margin")
    return LeverageCap(leverage=leverage, binding=binding, reason=reason,
                       components=components, sigma_h=sigma_h, kelly_full=kelly_full)
