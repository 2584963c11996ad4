"""Leverage / maintenance-margin tiers (Binance "brackets", Bybit "risk limits").

A tier covers position notionals in ``[floor, cap)`` (quote currency, e.g. USDT) and gives the
maximum leverage there, the maintenance margin rate ``mmr`` (a fraction: 0.004 = 0.4%) and the
maintenance amount ``cum`` (quote currency; Bybit's ``mmDeduction``), so that the maintenance
margin of a position of notional ``N`` in tier ``n`` is ``N * mmr_n - cum_n``.
When a source gives no ``cum`` it is derived (analytics.md §6.1, Binance FAQ)::

    cum_0 = 0,   cum_n = floor_n * (mmr_n - mmr_{n-1}) + cum_{n-1}

which makes the maintenance margin continuous across tier boundaries and equal to the marginal
sum (50k x 0.4% + 200k x 0.5% + 350k x 1% = 4,700 at 600k on Binance's BTCUSDT table).
"""

from __future__ import annotations

import bisect
import json
from decimal import Decimal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from liqcore.errors import RiskInputError
from liqcore.risk.checks import number

__all__ = ["Tier", "LeverageTiers"]

_DATA = Path(__file__).resolve().parent / "data"
# (exchange aliases, symbol aliases) -> bundled file
_BUNDLED = {
    ("binance", "BTCUSDT"): "binance_btcusdt_20210318.json",
}
_EXCHANGE_ALIASES = {"binance": "binance", "binanceusdm": "binance"}
_SYMBOL_ALIASES = {"BTCUSDT": "BTCUSDT", "BTC/USDT:USDT": "BTCUSDT", "BTC/USDT": "BTCUSDT"}


@dataclass(frozen=True, slots=True)
class Tier:
    """One bracket: notionals in ``[floor, cap)`` (quote currency), ``max_leverage`` (multiple),
    ``mmr`` (fraction), ``cum`` (quote currency), ``index`` (0-based position in its table)."""

    index: int
    floor: float
    cap: float
    max_leverage: float
    mmr: float
    cum: float

    def maintenance_margin(self, notional: float) -> float:
        """``notional * mmr - cum`` in quote currency (the tier is not re-chosen). O(1)."""
        return notional * self.mmr - self.cum

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return {"index": self.index, "floor": self.floor, "cap": self.cap,
                "max_leverage": self.max_leverage, "mmr": self.mmr, "cum": self.cum}


@dataclass(frozen=True, slots=True)
class LeverageTiers:
    """A validated, sorted table of :class:`Tier` for one symbol on one exchange.

    Rules (else :class:`RiskInputError` naming the tier): at least one tier; the first floor
    >= 0; each ``cap > floor``; contiguous (each floor equals the previous cap: overlapping or
    gapped brackets are rejected); ``mmr`` in ``[0, 1)`` and non-decreasing (so the maintenance
    margin is convex in the notional, which the liquidation-price iteration relies on);
    ``max_leverage > 0``; ``cum`` finite and >= 0.

    Build with the constructor ``LeverageTiers.build(rows, ...)`` or the ``from_*`` parsers.
    ``source`` and ``as_of`` say where the table comes from. Lookups are O(log n_tiers).
    """

    tiers: tuple[Tier, ...]
    exchange: str = ""
    symbol: str = ""
    currency: str = ""
    source: str = ""
    as_of: str = ""
    #: the tiers' floors in order (derived from ``tiers``; for a bisect by notional)
    floors: list[float] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.tiers:
            raise RiskInputError("tiers: empty table")
        prev: Tier | None = None
        for i, t in enumerate(self.tiers):
            if not isinstance(t, Tier):
                raise RiskInputError(f"tiers[{i}]: expected a Tier, got {type(t).__name__}")
            for key in ("floor", "cap", "max_leverage", "mmr", "cum"):
                number(f"tiers[{i}].{key}", getattr(t, key), text=True)
            if t.index != i:
                raise RiskInputError(f"tiers[{i}]: index {t.index} out of order")
            if prev is None:
                if t.floor < 0.0:
                    raise RiskInputError(f"tiers[{i}].floor: must be >= 0, got {t.floor!r}")
            else:
                if t.floor < prev.cap:
                    raise RiskInputError(f"tiers[{i}].floor: {t.floor!r} overlaps the previous tier (cap {prev.cap!r})")
                if t.floor > prev.cap:
                    raise RiskInputError(f"tiers[{i}].floor: {t.floor!r} leaves a gap after the previous cap {prev.cap!r}")
                if t.mmr < prev.mmr:
                    raise RiskInputError(f"tiers[{i}].mmr: {t.mmr!r} below the previous tier's {prev.mmr!r}")
            if not t.cap > t.floor:
                raise RiskInputError(f"tiers[{i}].cap: must be > floor ({t.floor!r}), got {t.cap!r}")
            if not 0.0 <= t.mmr < 1.0:
                raise RiskInputError(f"tiers[{i}].mmr: must be in [0, 1) (a fraction), got {t.mmr!r}")
            if not t.max_leverage > 0.0:
                raise RiskInputError(f"tiers[{i}].max_leverage: must be > 0, got {t.max_leverage!r}")
            if t.cum < 0.0:
                raise RiskInputError(f"tiers[{i}].cum: must be >= 0, got {t.cum!r}")
            prev = t
        object.__setattr__(self, "floors", [t.floor for t in self.tiers])

    @classmethod
    def build(cls, rows: Sequence[Mapping[str, Any]], *, exchange: str = "", symbol: str = "",
              currency: str = "", source: str = "", as_of: str = "") -> LeverageTiers:
        """From rows ``{"floor", "cap", "max_leverage", "mmr", "cum"?}`` (numbers or numeric
        strings; ``cum`` absent/None/"" is derived). Rows may come in any order: they are sorted by
        floor, then validated (an error's ``tiers[i]`` counts in floor order). O(n log n)."""
        if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
            raise RiskInputError(f"tiers: expected a list of tier rows, got {type(rows).__name__}")
        if not rows:
            raise RiskInputError("tiers: empty table")
        parsed: list[tuple[float, float, float, float, float | None]] = []
        for i, r in enumerate(rows):
            if not isinstance(r, Mapping):
                raise RiskInputError(f"tiers[{i}]: expected a mapping, got {type(r).__name__}")
            for key in ("floor", "cap", "max_leverage", "mmr"):
                if r.get(key) is None or r.get(key) == "":
                    raise RiskInputError(f"tiers[{i}].{key}: missing")
            # exchange payloads send numbers as strings ("0.005"); "" means absent (Bybit's mmDeduction)
            cum_raw = r.get("cum")
            cum = None if cum_raw is None or cum_raw == "" else number(f"tiers[{i}].cum", cum_raw, text=True)
            parsed.append((number(f"tiers[{i}].floor", r["floor"], text=True), number(f"tiers[{i}].cap", r["cap"], text=True),
                           number(f"tiers[{i}].max_leverage", r["max_leverage"], low=0.0, text=True),
                           number(f"tiers[{i}].mmr", r["mmr"], text=True), cum))
        parsed.sort(key=lambda p: p[0])
        tiers: list[Tier] = []
        for i, (floor, cap, lev, mmr, cum) in enumerate(parsed):
            if cum is None:
                # the maintenance amount that keeps floor*mmr - cum continuous at the boundary;
                # in decimal on the shortest reprs so 1e6 * (0.025 - 0.01) + 1300 is 16300, not
                # 16300.000000000002 (exchanges publish these amounts exactly)
                cum = 0.0 if i == 0 else float(
                    Decimal(repr(floor)) * (Decimal(repr(mmr)) - Decimal(repr(parsed[i - 1][3])))
                    + Decimal(repr(tiers[-1].cum)))
            tiers.append(Tier(i, floor, cap, lev, mmr, cum))
        return cls(tuple(tiers), exchange=exchange, symbol=symbol, currency=currency,
                   source=source, as_of=as_of)

    # -- parsers ------------------------------------------------------------------------------

    @classmethod
    def from_ccxt(cls, tiers: Sequence[Mapping[str, Any]], *, exchange: str = "",
                  source: str = "ccxt fetch_market_leverage_tiers") -> LeverageTiers:
        """From ccxt's unified leverage tiers of ONE market (``fetch_market_leverage_tiers(symbol)``,
        or one value of ``fetch_leverage_tiers()``): ``minNotional``, ``maxNotional``,
        ``maintenanceMarginRate`` (fraction), ``maxLeverage``; ``cum`` from ``info["cum"]``
        (Binance) or ``info["mmDeduction"]`` (Bybit) when present, else derived. O(n log n)."""
        if isinstance(tiers, (str, bytes)) or not isinstance(tiers, Sequence) or not tiers:
            raise RiskInputError("tiers: expected a non-empty list of ccxt leverage tiers")
        rows = []
        for i, t in enumerate(tiers):
            if not isinstance(t, Mapping):
                raise RiskInputError(f"tiers[{i}]: expected a mapping, got {type(t).__name__}")
            raw_info = t.get("info")
            info: Mapping[str, Any] = raw_info if isinstance(raw_info, Mapping) else {}
            cum = info.get("cum", info.get("mmDeduction"))
            rows.append({"floor": t.get("minNotional"), "cap": t.get("maxNotional"),
                         "max_leverage": t.get("maxLeverage"), "mmr": t.get("maintenanceMarginRate"),
                         "cum": cum})
        first = tiers[0]
        return cls.build(rows, exchange=exchange, symbol=str(first.get("symbol") or ""),
                         currency=str(first.get("currency") or ""), source=source)

    @classmethod
    def from_binance(cls, payload: Any, *, symbol: str | None = None,
                     source: str = "Binance GET /fapi/v1/leverageBracket") -> LeverageTiers:
        """From Binance USD-M ``GET /fapi/v1/leverageBracket``: a list of
        ``{"symbol", "brackets": [{"bracket", "initialLeverage", "notionalCap", "notionalFloor",
        "maintMarginRatio", "cum"}]}`` (pick one with ``symbol`` when it holds several), one such
        dict, or the bare ``brackets`` list. O(n log n)."""
        entry: Any = payload
        if isinstance(payload, Sequence) and not isinstance(payload, (str, bytes)) and payload \
                and isinstance(payload[0], Mapping) and "brackets" in payload[0]:
            matches = [p for p in payload if symbol is None or p.get("symbol") == symbol]
            if len(matches) != 1:
                raise RiskInputError(f"symbol: {symbol!r} selects {len(matches)} of {len(payload)} "
                                     "leverageBracket entries (need exactly one)")
            entry = matches[0]
        sym = symbol or ""
        if isinstance(entry, Mapping):
            if not isinstance(entry.get("brackets"), Sequence):
                raise RiskInputError("payload: no 'brackets' list in the leverageBracket payload")
            sym = str(entry.get("symbol") or sym)
            entry = entry["brackets"]
        if isinstance(entry, (str, bytes)) or not isinstance(entry, Sequence):
            raise RiskInputError(f"payload: expected a leverageBracket payload, got {type(payload).__name__}")
        rows = []
        for i, b in enumerate(entry):
            if not isinstance(b, Mapping):
                raise RiskInputError(f"brackets[{i}]: expected a mapping, got {type(b).__name__}")
            rows.append({"floor": b.get("notionalFloor"), "cap": b.get("notionalCap"),
                         "max_leverage": b.get("initialLeverage"), "mmr": b.get("maintMarginRatio"),
                         "cum": b.get("cum")})
        return cls.build(rows, exchange="binance", symbol=sym, currency="USDT", source=source)

    @classmethod
    def from_bybit(cls, payload: Any, *, symbol: str | None = None,
                   source: str = "Bybit GET /v5/market/risk-limit") -> LeverageTiers:
        """From Bybit v5 ``GET /v5/market/risk-limit`` (the whole response, its ``result``, or the
        ``list``): rows ``{"id", "symbol", "riskLimitValue", "maintenanceMargin" (fraction),
        "initialMargin", "maxLeverage", "mmDeduction"}``, values as strings. A tier's floor is the
        previous tier's ``riskLimitValue`` (0 for the first), as ccxt does; ``mmDeduction`` ""
        is derived. Rows of other symbols are dropped when ``symbol`` is given (required when the
        list holds several symbols). O(n log n)."""
        rows_in: Any = payload
        if isinstance(rows_in, Mapping) and "result" in rows_in:
            rows_in = rows_in["result"]
        if isinstance(rows_in, Mapping) and "list" in rows_in:
            rows_in = rows_in["list"]
        if isinstance(rows_in, (str, bytes)) or not isinstance(rows_in, Sequence) or not rows_in:
            raise RiskInputError("payload: expected a Bybit risk-limit payload with a non-empty list")
        if not all(isinstance(r, Mapping) for r in rows_in):
            raise RiskInputError("payload: risk-limit rows must be mappings")
        symbols = {r.get("symbol") for r in rows_in}
        if symbol is not None:
            rows_in = [r for r in rows_in if r.get("symbol") == symbol]
            if not rows_in:
                raise RiskInputError(f"symbol: {symbol!r} not in the risk-limit list")
        elif len(symbols) > 1:
            raise RiskInputError(f"symbol: the risk-limit list holds {len(symbols)} symbols; pass symbol=")
        caps = sorted(rows_in, key=lambda r: number("riskLimitValue", r.get("riskLimitValue"), text=True))
        rows = []
        for i, r in enumerate(caps):
            rows.append({"floor": 0.0 if i == 0 else caps[i - 1]["riskLimitValue"],
                         "cap": r.get("riskLimitValue"), "max_leverage": r.get("maxLeverage"),
                         "mmr": r.get("maintenanceMargin"), "cum": r.get("mmDeduction")})
        return cls.build(rows, exchange="bybit", symbol=str(caps[0].get("symbol") or ""),
                         currency="USDT", source=source)

    @classmethod
    def default(cls, exchange: str = "binance", symbol: str = "BTCUSDT") -> LeverageTiers:
        """The bundled table: Binance USD-M BTCUSDT of the 2021-03-18 announcement
        (analytics.md §6.1; ``source``/``as_of`` say so). Historical: live tiers come from
        :meth:`from_binance`/:meth:`from_ccxt`. ``exchange`` ``"binance"``/``"binanceusdm"``;
        ``symbol`` ``"BTCUSDT"`` or ``"BTC/USDT:USDT"``; anything else raises RiskInputError."""
        ex = _EXCHANGE_ALIASES.get(exchange.lower() if isinstance(exchange, str) else "")
        if ex is None:
            raise RiskInputError(f"exchange: no bundled tier table for {exchange!r}")
        sym = _SYMBOL_ALIASES.get(symbol if isinstance(symbol, str) else "")
        if sym is None or (ex, sym) not in _BUNDLED:
            raise RiskInputError(f"symbol: no bundled tier table for {symbol!r} on {exchange!r}")
        doc = json.loads((_DATA / _BUNDLED[(ex, sym)]).read_text())
        return cls.build(doc["tiers"], exchange=doc["exchange"], symbol=doc["symbol"],
                         currency=doc["currency"], source=doc["source"], as_of=doc["as_of"])

    # -- lookups ------------------------------------------------------------------------------

    def index_for(self, notional: float) -> int:
        """Index of the tier whose ``[floor, cap)`` holds ``notional`` (quote currency, finite,
        >= 0). Notionals below the first floor map to tier 0, at or above the last cap to the last
        tier (positions that large cannot be opened; ``liquidation_price`` checks the entry
        notional, not this). O(log n)."""
        x = number("notional", notional, text=True)
        if x < 0.0:
            raise RiskInputError(f"notional: must be >= 0, got {x!r}")
        return max(0, bisect.bisect_right(self.floors, x) - 1)

    def tier_for(self, notional: float) -> Tier:
        """The :class:`Tier` holding ``notional`` (see :meth:`index_for`). O(log n)."""
        return self.tiers[self.index_for(notional)]

    def maintenance_margin(self, notional: float) -> float:
        """Maintenance margin in quote currency of a position of ``notional``: ``N * mmr - cum``
        of the tier holding it. O(log n)."""
        return self.tier_for(notional).maintenance_margin(float(notional))

    def max_leverage_for(self, notional: float) -> float:
        """The tier's maximum leverage at ``notional``. O(log n)."""
        return self.tier_for(notional).max_leverage

    def arrays(self) -> dict[str, npt.NDArray[np.float64]]:
        """Columns ``floor``, ``cap``, ``max_leverage``, ``mmr``, ``cum`` as float64 arrays (new
        arrays each call). O(n)."""
        return {k: np.array([getattr(t, k) for t in self.tiers], dtype=np.float64)
                for k in ("floor", "cap", "max_leverage", "mmr", "cum")}

    def __len__(self) -> int:
        return len(self.tiers)

    def __iter__(self) -> Iterator[Tier]:
        return iter(self.tiers)

    def __getitem__(self, i: int) -> Tier:
        return self.tiers[i]

    def to_dict(self) -> dict[str, Any]:
        """The table and its provenance as a plain dict (JSON-serialisable)."""
        return {"exchange": self.exchange, "symbol": self.symbol, "currency": self.currency,
                "source": self.source, "as_of": self.as_of, "tiers": [t.to_dict() for t in self.tiers]}
