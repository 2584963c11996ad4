"""Liquidation prices of perpetual positions (one-way mode), scalar and vectorised.

Binance USD-M (``exchange`` ``"binance"`` / ``"binanceusdm"``), isolated and cross — Binance FAQ
"How to Calculate Liquidation Price of USDⓈ-M Futures Contracts", analytics.md §6.1. With
``s`` = +1 long / -1 short, ``Q`` the size (base), ``EP`` the entry price, ``WB`` the wallet
balance (isolated margin, or cross wallet balance), ``TMM1``/``UPNL1`` the maintenance margin and
unrealised PnL of the other positions (cross), and the tier's ``MMR``/``cum``::

    LP = (WB - TMM1 + UPNL1 + cum - s*Q*EP) / (Q*MMR - s*Q)

i.e. the price where margin balance = maintenance margin ``Q*LP*MMR - cum``, the tier being the one
that holds the notional ``Q*LP`` *at the liquidation price*: start from the tier at the entry (or
mark) notional and move to the tier of ``Q*LP`` until it stops changing. The maintenance margin
is convex in the notional (non-decreasing MMR, continuous cum), so the root is unique and the
iteration ends within ``len(tiers) + 1`` steps (for a long, every tier's LP is a lower bound of
the true one and the tiers below it give LPs above their cap; the mirror for a short).

Bybit USDT perpetual, isolated (``"bybit"``) — Bybit Help Center "Liquidation Price (USDT
Contract)", analytics.md §6.2: the maintenance margin is taken at the *entry* value::

    MM = Q*EP*MMR - mmDeduction   (tier at the entry notional)
    LP = EP - s*(WB - MM)/Q       (WB = initial margin + extra margin)

Prices in quote currency per base, sizes in base, balances in quote currency. Fees to close
(Bybit's UTA variant) are not included.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from liqcore.errors import RiskInputError
from liqcore.risk.checks import choice, number
from liqcore.risk.records import Position
from liqcore.risk.tiers import LeverageTiers, Tier

__all__ = ["LiquidationResult", "LiquidationPrices", "liquidation_price", "liquidation_prices",
           "EXCHANGE_FORMULAS"]

#: ccxt exchange id -> liquidation formula family
EXCHANGE_FORMULAS = {"binance": "binance", "binanceusdm": "binance", "bybit": "bybit"}

NO_LIQUIDATION = "no liquidation"          # a long whose margin covers a fall to zero
LIQUIDATED_AT_ANY_PRICE = "liquidated at any price"   # a short (or cross account) already under water
OK = "ok"


class LiquidationResult(NamedTuple):
    """The outcome of :func:`liquidation_price`.

    - ``price``: liquidation price (quote per base), or ``None`` when the formula gives <= 0;
      ``reason`` then says why (``"no liquidation"`` for a long whose margin covers a fall to
      zero, ``"liquidated at any price"`` for a short whose margin is already exhausted), else
      ``"ok"``.
    - ``tier``: the tier used (at the liquidation notional for Binance, at entry for Bybit).
    - ``notional``: ``size * price`` (quote), None without a price.
    - ``maintenance_margin``: quote currency, at the liquidation price (Binance) or at entry
      (Bybit); None without a price.
    - ``liquidated_at_mark``: with a ``mark``, whether the mark is at or beyond the liquidation
      price (long: mark <= price); None without a mark.
    - ``iterations``: tier re-computations made (1 when the first tier held).

    Immutable, a named tuple (``_replace`` for a changed copy; it also unpacks and compares as a
    tuple): built in about 0.15 us, where the frozen dataclass it replaced took 1.1 us (an
    ``object.__setattr__`` per field), half the time of one ``liquidation_price``.
    """

    price: float | None
    reason: str
    exchange: str
    side: str
    margin_mode: str
    tier: Tier
    notional: float | None
    maintenance_margin: float | None
    liquidated_at_mark: bool | None
    iterations: int

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (the tier as a dict)."""
        return {"price": self.price, "reason": self.reason, "exchange": self.exchange, "side": self.side,
                "margin_mode": self.margin_mode, "tier": self.tier.to_dict(), "notional": self.notional,
                "maintenance_margin": self.maintenance_margin,
                "liquidated_at_mark": self.liquidated_at_mark, "iterations": self.iterations}


# tuple.__new__ with the fields in order: the named tuple's own __new__ is a Python function
# (keywords, defaults) that costs as much again
_new_result = tuple.__new__


def _formula(exchange: Any) -> str:
    key = exchange.lower() if isinstance(exchange, str) else exchange
    if key not in EXCHANGE_FORMULAS:
        raise RiskInputError(f"exchange: no liquidation formula for {exchange!r} "
                             f"(known: {', '.join(EXCHANGE_FORMULAS)})")
    return EXCHANGE_FORMULAS[key]


def _check_entry(tiers: LeverageTiers, notional: float, leverage: float, where: str = "") -> int:
    last = tiers.tiers[-1]
    if notional > last.cap:
        raise RiskInputError(f"size{where}: entry notional {notional!r} above the last tier's cap {last.cap!r}")
    # notional is a product of validated positives: bisect directly (no re-validation)
    i = max(0, bisect_right(tiers.floors, notional) - 1)
    cap = tiers.tiers[i].max_leverage
    if leverage > cap:
        raise RiskInputError(f"leverage{where}: {leverage!r}x above the tier's maximum {cap!r}x "
                             f"at notional {notional!r}")
    return i


def liquidation_price(position: Position, tiers: LeverageTiers, mark: float | None = None) -> LiquidationResult:
    """Liquidation price of ``position`` under ``tiers`` (see the module docstring for the formulas).

    ``mark`` (quote per base, optional) chooses the starting tier of the Binance iteration and
    fills ``liquidated_at_mark``. Raises :class:`RiskInputError` for an unknown exchange, a
    leverage above the tier's maximum at the entry notional, an entry notional above the table,
    Bybit cross margin (not modelled), a non-positive or non-finite mark. O(len(tiers)).
    With a table whose ``cum`` breaks the continuity of the maintenance margin (not one derived
    here, nor Binance's), the iteration may find no fixed point: it stops after
    ``len(tiers) + 1`` passes on the last tier tried.
    """
    if not isinstance(position, Position):
        raise RiskInputError(f"position: expected a Position, got {type(position).__name__}")
    if not isinstance(tiers, LeverageTiers):
        raise RiskInputError(f"tiers: expected LeverageTiers, got {type(tiers).__name__}")
    # the Position was validated (and normalised) when it was built: its fields are read as they are
    exchange = position.exchange
    family = EXCHANGE_FORMULAS.get(exchange) or _formula(exchange)
    m = None if mark is None else number("mark", mark, low=0.0, text=True)
    q, ep, side = position.size, position.entry_price, position.side
    s = 1.0 if side == "long" else -1.0
    wb = position.wallet_balance
    assert wb is not None  # Position fills it
    floors, table = tiers.floors, tiers.tiers
    i = _check_entry(tiers, q * ep, position.leverage)
    iterations = 1
    if family == "bybit":
        if position.margin_mode != "isolated":
            raise RiskInputError("margin_mode: Bybit cross margin is not modelled (isolated only)")
        tier = table[i]
        mm = q * ep * tier.mmr - tier.cum
        lp = ep - s * (wb - mm) / q
    else:
        a = wb - position.other_maintenance + position.other_upnl
        sqep = s * q * ep
        if m is not None:
            i = max(0, bisect_right(floors, q * m) - 1)
        tier = table[i]
        for _ in range(len(table) + 1):
            lp = (a + tier.cum - sqep) / (q * tier.mmr - s * q)
            # the tier that holds the notional at this price; a price <= 0 points at tier 0
            j = bisect_right(floors, q * lp) - 1
            if j < 0:
                j = 0
            if j == i:
                break
            i = j
            tier = table[i]
            iterations += 1
        mm = q * lp * tier.mmr - tier.cum
    if lp <= 0.0:
        reason = NO_LIQUIDATION if s > 0 else LIQUIDATED_AT_ANY_PRICE
        at_mark = None if m is None else s < 0
        return _new_result(LiquidationResult, (None, reason, exchange, side, position.margin_mode,
                                               tier, None, None, at_mark, iterations))
    at_mark = None if m is None else (m <= lp if s > 0 else m >= lp)
    return _new_result(LiquidationResult, (lp, OK, exchange, side, position.margin_mode, tier,
                                           q * lp, mm, at_mark, iterations))


@dataclass(frozen=True, slots=True, eq=False)
class LiquidationPrices:
    """The outcome of :func:`liquidation_prices`, one entry per position (float64 / int64 arrays):
    ``prices`` (quote per base; NaN where the formula gives <= 0, i.e. no liquidation price),
    ``tier_index`` (the tier used; -1 where no price), ``maintenance_margin`` (quote; NaN where
    no price), ``iterations`` (tier passes made over the whole book)."""

    prices: npt.NDArray[np.float64]
    tier_index: npt.NDArray[np.int64]
    maintenance_margin: npt.NDArray[np.float64]
    iterations: int

    def to_dict(self) -> dict[str, Any]:
        """Plain lists (NaN kept as float('nan'))."""
        return {"prices": self.prices.tolist(), "tier_index": self.tier_index.tolist(),
                "maintenance_margin": self.maintenance_margin.tolist(), "iterations": self.iterations}


def _column(name: str, value: Any, n: int | None, *, positive: bool = True,
            nonneg: bool = False) -> npt.NDArray[np.float64]:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise RiskInputError(f"{name}: expected numbers") from None
    if n is not None and a.ndim == 0:
        a = np.broadcast_to(a, (n,))
    if a.ndim != 1:
        raise RiskInputError(f"{name}: expected a 1-D array, got {a.ndim} dimensions")
    if n is not None and a.shape[0] != n:
        raise RiskInputError(f"{name}: length {a.shape[0]} differs from sizes' {n}")
    bad = ~np.isfinite(a)
    if positive:
        bad |= a <= 0.0
    elif nonneg:
        bad |= a < 0.0
    if bad.any():
        k = int(np.argmax(bad))
        rule = "finite and > 0" if positive else ("finite and >= 0" if nonneg else "finite")
        raise RiskInputError(f"{name}[{k}]: must be {rule}, got {float(a[k])!r}")
    return a


def _signs(sides: Any, n: int) -> npt.NDArray[np.float64]:
    a = np.asarray(sides)
    if a.ndim != 1 or a.shape[0] != n:
        raise RiskInputError(f"sides: expected a 1-D array of length {n}")
    if a.dtype.kind in "USO":
        low = np.char.lower(a.astype(str))
        bad = (low != "long") & (low != "short")
        if bad.any():
            raise RiskInputError(f"sides[{int(np.argmax(bad))}]: expected long or short, got {a[int(np.argmax(bad))]!r}")
        return np.where(low == "long", 1.0, -1.0)
    if a.dtype.kind not in "iuf":
        raise RiskInputError("sides: expected +1/-1 or 'long'/'short'")
    s = a.astype(np.float64)
    bad = (s != 1.0) & (s != -1.0)
    if bad.any():
        raise RiskInputError(f"sides[{int(np.argmax(bad))}]: expected +1 (long) or -1 (short), got {a[int(np.argmax(bad))]!r}")
    return s


def liquidation_prices(sides: Any, sizes: Any, entries: Any, balances: Any, tiers: LeverageTiers, *,
                       exchange: str = "binance", margin_mode: str = "isolated",
                       other_maintenance: Any = 0.0, other_upnl: Any = 0.0,
                       leverages: Any = None) -> LiquidationPrices:
    """Vectorised :func:`liquidation_price` over a book of positions (same formulas, same results).

    ``sides``: +1 long / -1 short (or ``"long"``/``"short"`` strings); ``sizes`` (base),
    ``entries`` (quote per base), ``balances`` (quote: isolated margin or cross wallet balance,
    > 0): 1-D arrays of one length ``n`` (``balances``, ``other_maintenance``, ``other_upnl`` and
    ``leverages`` may be scalars). ``leverages``, when given, is checked against the tier's
    maximum at each entry notional. Entry notionals above the table raise. ``margin_mode`` and
    ``exchange`` apply to the whole book.

    Time O(n * passes) where passes <= len(tiers) + 1 (typically 1-3; 1 for a single tier);
    allocates a few n-length temporaries. The inputs are not modified.
    """
    if not isinstance(tiers, LeverageTiers):
        raise RiskInputError(f"tiers: expected LeverageTiers, got {type(tiers).__name__}")
    family = _formula(exchange)
    mode = choice("margin_mode", margin_mode, ("isolated", "cross"))
    q = _column("sizes", sizes, None)
    n = q.shape[0]
    if n == 0:
        raise RiskInputError("sizes: empty")
    ep = _column("entries", entries, n)
    wb = _column("balances", balances, n)
    s = _signs(sides, n)
    tmm = _column("other_maintenance", other_maintenance, n, positive=False, nonneg=True)
    upnl = _column("other_upnl", other_upnl, n, positive=False)
    if mode == "isolated" and (tmm.any() or upnl.any()):
        raise RiskInputError("other_maintenance/other_upnl: only apply in cross margin mode")
    cols = tiers.arrays()
    floors, mmrs, cums = cols["floor"], cols["mmr"], cols["cum"]
    entry_notional = q * ep
    over = entry_notional > cols["cap"][-1]
    if over.any():
        k = int(np.argmax(over))
        raise RiskInputError(f"sizes[{k}]: entry notional {float(entry_notional[k])!r} above the last tier's cap")
    single = len(tiers) == 1
    idx = (np.zeros(n, dtype=np.int64) if single
           else np.maximum(np.searchsorted(floors, entry_notional, side="right") - 1, 0))
    if leverages is not None:
        lev = _column("leverages", leverages, n)
        high = lev > cols["max_leverage"][idx]
        if high.any():
            k = int(np.argmax(high))
            raise RiskInputError(f"leverages[{k}]: {float(lev[k])!r}x above the tier's maximum "
                                 f"{float(cols['max_leverage'][idx[k]])!r}x")
    passes = 1
    if family == "bybit":
        if mode != "isolated":
            raise RiskInputError("margin_mode: Bybit cross margin is not modelled (isolated only)")
        mm = entry_notional * mmrs[idx] - cums[idx]
        lp = ep - s * (wb - mm) / q
    else:
        a = wb - tmm + upnl
        sq = s * q
        if single:
            # one tier: scalars broadcast, no gather and no search (the >= 10M positions/s case)
            lp = (a + cums[0] - sq * ep) / (q * mmrs[0] - sq)
        else:
            # same iteration as the scalar form, on the whole book at once: each pass moves every
            # position to the tier holding its notional at its current price, until none moves
            for _ in range(len(tiers) + 1):
                lp = (a + cums[idx] - sq * ep) / (q * mmrs[idx] - sq)
                new = np.maximum(np.searchsorted(floors, q * lp, side="right") - 1, 0)
                if np.array_equal(new, idx):
                    break
                idx = new
                passes += 1
        mm = q * lp * mmrs[idx] - cums[idx]
    ok = lp > 0.0
    return LiquidationPrices(prices=np.where(ok, lp, np.nan), tier_index=np.where(ok, idx, -1),
                             maintenance_margin=np.where(ok, mm, np.nan), iterations=passes)
