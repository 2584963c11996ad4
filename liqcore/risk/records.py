"""Risk records: a leveraged perpetual :class:`Position` (one-way mode).

Units: sizes in base currency (contracts x contract size), prices and balances in the quote /
settlement currency (USDT for a linear perpetual), leverage as a multiple (10.0 = 10x).
Every constructor validates its input and raises :class:`liqcore.errors.RiskInputError`
naming the argument; nothing is computed from a rejected record.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Iterable, Mapping

import numpy as np
import numpy.typing as npt

from liqcore.errors import RiskInputError
from liqcore.risk.checks import choice, number

__all__ = ["Position", "SIDES", "MARGIN_MODES", "positions_to_array", "positions_from_array", "LiquidationLevel",
           "LEVEL_SOURCES", "levels_to_array", "levels_from_array"]

SIDES = ("long", "short")
MARGIN_MODES = ("isolated", "cross")
#: where a LiquidationLevel comes from: estimated still open, estimated liquidated within the
#: window (the price went through it), or published by the exchange
LEVEL_SOURCES = ("open", "swept", "exchange")


@dataclass(frozen=True, slots=True)
class Position:
    """One perpetual position in one-way mode, with what its liquidation price depends on.

    - ``exchange``: ccxt id of the venue (``"binance"``, ``"binanceusdm"``, ``"bybit"``...);
      :func:`liqcore.risk.liquidation.liquidation_price` picks its formula from it.
    - ``symbol``: free text (the venue's or ccxt's symbol), not interpreted.
    - ``side``: ``"long"`` or ``"short"``; ``size``: base units, > 0 (the side carries the sign).
    - ``entry_price``: quote per base, > 0; ``leverage``: multiple, > 0 (the cap of the tier is
      checked against the tier table by ``liquidation_price``).
    - ``margin_mode``: ``"isolated"`` or ``"cross"``.
    - ``wallet_balance``: quote currency, > 0: the isolated margin of this position, or the
      cross wallet balance of the account. ``None`` in isolated mode means the initial margin
      ``size * entry_price / leverage`` (no added margin); cross mode requires it.
    - ``other_maintenance`` (>= 0) and ``other_upnl`` (any sign): quote currency, the
      maintenance margin and unrealised PnL of the account's *other* positions (Binance's
      TMM1 and UPNL1; cross mode only, must be 0 in isolated mode).

    Immutable; validation is O(1).
    """

    #: structured-array layout (:func:`positions_to_array`), as liqcore.feed.records: ASCII
    #: strings, ``side`` +1 long / -1 short
    DTYPE: ClassVar[np.dtype[Any]] = np.dtype([
        ("exchange", "S16"), ("symbol", "S40"), ("side", "i1"), ("size", "<f8"), ("entry_price", "<f8"),
        ("leverage", "<f8"), ("margin_mode", "S8"), ("wallet_balance", "<f8"),
        ("other_maintenance", "<f8"), ("other_upnl", "<f8")])

    exchange: str
    symbol: str
    side: str
    size: float
    entry_price: float
    leverage: float
    margin_mode: str = "isolated"
    wallet_balance: float | None = None
    other_maintenance: float = 0.0
    other_upnl: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.exchange, str) or not self.exchange:
            raise RiskInputError(f"exchange: expected a non-empty string, got {self.exchange!r}")
        if not isinstance(self.symbol, str):
            raise RiskInputError(f"symbol: expected a string, got {self.symbol!r}")
        side = choice("side", self.side, SIDES)
        mode = choice("margin_mode", self.margin_mode, MARGIN_MODES)
        size = number("size", self.size, low=0.0, text=True)
        entry = number("entry_price", self.entry_price, low=0.0, text=True)
        leverage = number("leverage", self.leverage, low=0.0, text=True)
        other_mm = number("other_maintenance", self.other_maintenance, text=True)
        if other_mm < 0.0:
            raise RiskInputError(f"other_maintenance: must be >= 0, got {other_mm!r}")
        other_upnl = number("other_upnl", self.other_upnl, text=True)
        if mode == "isolated" and (other_mm != 0.0 or other_upnl != 0.0):
            raise RiskInputError("other_maintenance/other_upnl: only apply in cross margin mode")
        # each is positive and finite, their product and quotient need not be: a notional that
        # overflows or a margin that underflows to 0 would divide by zero further on
        notional = size * entry
        if not (0.0 < notional < math.inf and notional / leverage > 0.0):
            raise RiskInputError(f"size x entry_price / leverage: the notional ({notional!r}) and its margin must be "
                                 f"positive and finite (size {size!r}, entry_price {entry!r}, leverage {leverage!r})")
        if self.wallet_balance is None:
            if mode == "cross":
                raise RiskInputError("wallet_balance: required in cross margin mode (the cross wallet balance)")
            wallet = size * entry / leverage
        else:
            wallet = number("wallet_balance", self.wallet_balance, low=0.0, text=True)
        # frozen: normalised values are written once, here
        for name, value in (("exchange", self.exchange.lower()), ("side", side), ("margin_mode", mode),
                            ("size", size), ("entry_price", entry), ("leverage", leverage),
                            ("wallet_balance", wallet), ("other_maintenance", other_mm),
                            ("other_upnl", other_upnl)):
            object.__setattr__(self, name, value)

    @property
    def sign(self) -> int:
        """+1 for a long, -1 for a short."""
        return 1 if self.side == "long" else -1

    @property
    def notional(self) -> float:
        """Entry notional in quote currency: ``size * entry_price``."""
        return self.size * self.entry_price

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON-serialisable)."""
        return asdict(self)

    @classmethod
    def from_ccxt(cls, d: Mapping[str, Any], *, exchange: str, wallet_balance: float | None = None,
                  other_maintenance: float = 0.0, other_upnl: float = 0.0) -> Position:
        """Build from ccxt's unified position structure (``fetch_positions`` / ``fetch_position``).

        Reads ``symbol``, ``side``, ``contracts`` x ``contractSize`` (default 1) = size in base,
        ``entryPrice``, ``leverage``, ``marginMode`` (or the ``isolated`` flag). ccxt positions do
        not name their exchange, so pass ``exchange`` (e.g. ``exchange.id``). The wallet balance is
        ``wallet_balance`` when given; otherwise, in isolated mode, the position's margin without
        its unrealised PnL: ``positionMargin``, else ``collateral - unrealizedPnl``, else
        ``initialMargin``. Cross mode needs ``wallet_balance`` (the account's cross wallet
        balance, which the position structure does not carry). O(1).
        """
        if not isinstance(d, Mapping):
            raise RiskInputError(f"d: expected a ccxt position dict, got {type(d).__name__}")
        contracts = d.get("contracts")
        if contracts is None:
            raise RiskInputError("contracts: missing from the ccxt position")
        contract_size = d.get("contractSize")
        size = number("contracts", contracts, low=0.0, text=True) * (1.0 if contract_size is None
                                                    else number("contractSize", contract_size, low=0.0, text=True))
        mode = d.get("marginMode")
        if mode is None and d.get("isolated") is not None:
            mode = "isolated" if d.get("isolated") else "cross"
        if mode is None:
            raise RiskInputError("marginMode: missing from the ccxt position")
        for key in ("side", "entryPrice", "leverage"):
            if d.get(key) is None:
                raise RiskInputError(f"{key}: missing from the ccxt position")
        wallet = wallet_balance
        if wallet is None and str(mode).lower() == "isolated":
            upnl = d.get("unrealizedPnl")
            if d.get("positionMargin") is not None:
                wallet = d["positionMargin"]
            elif d.get("collateral") is not None:
                wallet = number("collateral", d["collateral"], text=True) - (0.0 if upnl is None else number("unrealizedPnl", upnl, text=True))
            elif d.get("initialMargin") is not None:
                wallet = d["initialMargin"]
        return cls(exchange=exchange, symbol=str(d.get("symbol") or ""), side=d["side"], size=size,
                   entry_price=d["entryPrice"], leverage=d["leverage"], margin_mode=mode,
                   wallet_balance=wallet, other_maintenance=other_maintenance, other_upnl=other_upnl)


def positions_to_array(positions: Iterable[Position]) -> npt.NDArray[Any]:
    """A structured array (:attr:`Position.DTYPE`) of positions, in order: the columns
    ``side``, ``size``, ``entry_price``, ``wallet_balance``... feed
    :func:`liqcore.risk.liquidation.liquidation_prices` directly. Strings longer than their
    field raise RiskInputError. O(n)."""
    return _to_array(Position, positions, "positions")


def positions_from_array(array: npt.NDArray[Any]) -> list[Position]:
    """The positions of an array made by :func:`positions_to_array` (exact inverse; each row
    validated again). O(n)."""
    return _from_array(Position, array)


@dataclass(frozen=True, slots=True)
class LiquidationLevel:
    """Positions liquidated around one price: a cell of a liquidation map
    (:func:`liqcore.risk.liquidation_map`) or of the published liquidations laid over it.

    - ``price``: the bucket's lower edge, quote per base; ``bucket``: its width (quote per base;
      the bucket is ``[price, price + bucket)``), >= 0.
    - ``side``: the side of the liquidated positions (``"long"``: liquidated by a fall).
    - ``size``: base, > 0; ``notional``: quote, >= 0 (size x liquidation price for an estimate,
      fill price x size for published events).
    - ``leverage``: the leverage layer of an estimate (multiple, > 0), ``None`` when unknown
      (published events).
    - ``source``: ``"open"`` (estimated, still open), ``"swept"`` (estimated, liquidated within
      the window) or ``"exchange"`` (published events).

    Immutable; validated at construction (RiskInputError naming the field). O(1).
    """

    #: structured-array layout (:func:`levels_to_array`): side +1 long / -1 short, leverage NaN
    #: when unknown
    DTYPE: ClassVar[np.dtype[Any]] = np.dtype([
        ("exchange", "S16"), ("symbol", "S40"), ("price", "<f8"), ("bucket", "<f8"), ("side", "i1"),
        ("size", "<f8"), ("notional", "<f8"), ("leverage", "<f8"), ("source", "S8")])

    exchange: str
    symbol: str
    price: float
    bucket: float
    side: str
    size: float
    notional: float
    leverage: float | None
    source: str

    def __post_init__(self) -> None:
        for name in ("exchange", "symbol"):
            if not isinstance(getattr(self, name), str):
                raise RiskInputError(f"{name}: expected a string, got {getattr(self, name)!r}")
        values = {"side": choice("side", self.side, SIDES), "source": choice("source", self.source, LEVEL_SOURCES),
                  "price": number("price", self.price, low=0.0),
                  "bucket": number("bucket", self.bucket, low=0.0, low_open=False),
                  "size": number("size", self.size, low=0.0),
                  "notional": number("notional", self.notional, low=0.0, low_open=False),
                  "leverage": None if self.leverage is None else number("leverage", self.leverage, low=0.0)}
        for name, value in values.items():  # frozen: normalised values are written once, here
            object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON-serialisable)."""
        return asdict(self)


def _to_array(cls: Any, records: Iterable[Any], arg: str) -> npt.NDArray[Any]:
    """Rows of ``cls.DTYPE`` from records of ``cls``: sides as +1/-1, None as NaN, strings as
    ASCII refused when longer than their field. O(n)."""
    dtype = cls.DTYPE
    rows = []
    for k, r in enumerate(records):
        if not isinstance(r, cls):
            raise RiskInputError(f"{arg}[{k}]: expected a {cls.__name__}, got {type(r).__name__}")
        row: list[Any] = []
        for f in fields(cls):
            v = getattr(r, f.name)
            if f.name == "side":
                v = 1 if v == "long" else -1
            elif v is None:
                v = math.nan
            elif dtype[f.name].kind == "S":
                raw = v.encode("ascii", "replace")
                if len(raw) > dtype[f.name].itemsize:
                    raise RiskInputError(f"{arg}[{k}].{f.name}: {v!r} longer than {dtype[f.name].itemsize} bytes")
                v = raw
            row.append(v)
        rows.append(tuple(row))
    return np.array(rows, dtype=dtype)


def _from_array(cls: Any, array: npt.NDArray[Any]) -> list[Any]:
    """Records of ``cls`` from a structured array of ``cls.DTYPE`` (each row validated again)."""
    if getattr(array, "dtype", None) != cls.DTYPE:
        raise RiskInputError(f"array: expected a structured array of {cls.__name__}.DTYPE")
    names = cls.DTYPE.names or ()
    out = []
    for row in array.tolist():
        d = dict(zip(names, row))
        d["side"] = "long" if d["side"] > 0 else "short"
        for key in names:
            if cls.DTYPE[key].kind == "S":
                d[key] = d[key].decode("ascii")
            elif isinstance(d[key], float) and math.isnan(d[key]):
                d[key] = None
        out.append(cls(**d))
    return out


def levels_to_array(levels: Iterable[LiquidationLevel]) -> npt.NDArray[Any]:
    """A structured array (:attr:`LiquidationLevel.DTYPE`) of levels, in order. O(n)."""
    return _to_array(LiquidationLevel, levels, "levels")


def levels_from_array(array: npt.NDArray[Any]) -> list[LiquidationLevel]:
    """The levels of an array made by :func:`levels_to_array` (exact inverse). O(n)."""
    return _from_array(LiquidationLevel, array)
