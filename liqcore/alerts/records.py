"""The alert record: :class:`LiquidityAlert`, one episode of a liquidity anomaly on one market.

An episode starts when a rule's breaches pass its debounce and ends when the clear condition has
held long enough (:mod:`liqcore.alerts.rules`); the same record, with the same ``id``, is
delivered at both moments, ``ended_ms`` set the second time. Conventions as the market-data
records (:mod:`liqcore.feed.records`): ``ts_ms`` in ms since the epoch with ``ts`` in ns, a
numpy ``DTYPE`` for arrays (:func:`alerts_to_array` / :func:`alerts_from_array`), ``to_dict()``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Iterable

import numpy as np
import numpy.typing as npt

from liqcore.errors import AlertInputError

__all__ = ["ALERT_TYPES", "SEVERITIES", "LiquidityAlert", "alerts_to_array", "alerts_from_array", "alerts_from_rows"]

#: the alert types (issue 12; analytics.md §8's rule table)
ALERT_TYPES = ("SPREAD_WIDENING", "DEPTH_DROP", "IMBALANCE", "PRICE_ANOMALY")
#: severities, from the mildest
SEVERITIES = ("LOW", "MEDIUM", "HIGH")

_NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class LiquidityAlert:
    """One anomaly episode on one market.

    - ``id``: ``"<exchange>:<symbol>:<type>:<start ts_ms>"``, the same at start and end (replays
      give the same ids).
    - ``ts_ms``: when the episode started (the observation that passed the debounce), ms since
      the epoch; ``ts`` in ns. ``ended_ms``: when it ended, ``None`` while it lasts.
    - ``type``: one of :data:`ALERT_TYPES`; ``severity``: one of :data:`SEVERITIES`;
      ``metric``: what was measured (``"spread_bps"``, ``"depth_1pct"``, ``"imbalance"``,
      ``"log_return"``, ``"venue_deviation"``).
    - ``current`` / ``baseline``: the metric's value and its baseline at the start, in the metric's
      units (bps, quote notional, -1..1 imbalance, ...); ``deviation_pct``: ``100 (current /
      baseline - 1)`` (NaN when the baseline is 0); ``z``: the deviation in σ units when the rule
      uses one, else None.
    - ``message``, ``suggested_action``: text for a person; ``requires_action``: True at HIGH
      severity.
    - ``baseline_values``: the baseline's state when the alert fired (medians, scales, EWMA
      means, thresholds, counts): JSON-serialisable, stored with the alert so the decision can be
      replayed.

    Immutable; validated at construction (AlertInputError naming the field). O(1).
    """

    #: structured-array layout: strings ASCII (message up to 256 bytes, action 160, longer refused),
    #: ``baseline_values`` as JSON, None as NaN / -1
    DTYPE: ClassVar[np.dtype[Any]] = np.dtype([
        ("id", "S96"), ("ts", "<i8"), ("ts_ms", "<i8"), ("exchange", "S16"), ("symbol", "S40"), ("type", "S16"),
        ("severity", "S8"), ("metric", "S16"), ("current", "<f8"), ("baseline", "<f8"), ("deviation_pct", "<f8"),
        ("z", "<f8"), ("message", "S256"), ("suggested_action", "S160"), ("requires_action", "?"),
        ("baseline_values", "S512"), ("ended_ms", "<i8")])

    id: str
    ts_ms: int
    exchange: str
    symbol: str
    type: str
    severity: str
    metric: str
    current: float
    baseline: float
    deviation_pct: float
    z: float | None
    message: str
    suggested_action: str
    requires_action: bool
    baseline_values: dict[str, Any] = field(default_factory=dict)
    ended_ms: int | None = None

    def __post_init__(self) -> None:
        for name in ("id", "exchange", "symbol", "metric", "message", "suggested_action"):
            if not isinstance(getattr(self, name), str):
                raise AlertInputError(f"{name}: expected a string, got {getattr(self, name)!r}")
        if self.type not in ALERT_TYPES:
            raise AlertInputError(f"type: expected one of {', '.join(ALERT_TYPES)}, got {self.type!r}")
        if self.severity not in SEVERITIES:
            raise AlertInputError(f"severity: expected one of {', '.join(SEVERITIES)}, got {self.severity!r}")
        for name in ("ts_ms", "ended_ms"):
            v = getattr(self, name)
            if (v is not None or name == "ts_ms") and (isinstance(v, bool) or not isinstance(v, (int, np.integer))):
                raise AlertInputError(f"{name}: expected an integer (ms since the epoch), got {v!r}")
        if self.ended_ms is not None and self.ended_ms < self.ts_ms:
            raise AlertInputError(f"ended_ms: {self.ended_ms} is before the start {self.ts_ms}")
        if not isinstance(self.requires_action, (bool, np.bool_)):
            raise AlertInputError(f"requires_action: expected a bool, got {self.requires_action!r}")
        if not isinstance(self.baseline_values, dict):
            raise AlertInputError(f"baseline_values: expected a dict, got {type(self.baseline_values).__name__}")

    @property
    def ts(self) -> int:
        """Start time in ns since the epoch."""
        return self.ts_ms * _NS_PER_MS

    @property
    def ended_ts(self) -> int | None:
        """End time in ns since the epoch, None while the episode lasts."""
        return None if self.ended_ms is None else self.ended_ms * _NS_PER_MS

    @property
    def active(self) -> bool:
        """True while the episode lasts (not ended)."""
        return self.ended_ms is None

    def to_dict(self) -> dict[str, Any]:
        """The fields plus ``ts`` as a plain dict (JSON-serialisable: NaN floats stay floats)."""
        d = asdict(self)
        d["ts"] = self.ts
        return d


def _json(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, allow_nan=True, separators=(",", ":"))


def alerts_to_array(alerts: Iterable[LiquidityAlert]) -> npt.NDArray[Any]:
    """A structured array (:attr:`LiquidityAlert.DTYPE`) of alerts, in order. Text longer than
    its field is refused (AlertInputError), not cut. O(n)."""
    dtype = LiquidityAlert.DTYPE
    rows = []
    for k, a in enumerate(alerts):
        if not isinstance(a, LiquidityAlert):
            raise AlertInputError(f"alerts[{k}]: expected a LiquidityAlert, got {type(a).__name__}")
        row: list[Any] = []
        for name in dtype.names or ():
            v: Any = a.ts if name == "ts" else getattr(a, name)
            if name == "baseline_values":
                v = _json(v)
            if v is None:
                v = -1 if dtype[name].kind == "i" else math.nan
            elif dtype[name].kind == "S":
                raw = v.encode("ascii", "replace")
                if len(raw) > dtype[name].itemsize:
                    raise AlertInputError(f"alerts[{k}].{name}: longer than {dtype[name].itemsize} bytes")
                v = raw
            row.append(v)
        rows.append(tuple(row))
    return np.array(rows, dtype=dtype)


def alerts_from_array(array: npt.NDArray[Any]) -> list[LiquidityAlert]:
    """The alerts of an array made by :func:`alerts_to_array` (exact inverse). O(n)."""
    if getattr(array, "dtype", None) != LiquidityAlert.DTYPE:
        raise AlertInputError("array: expected a structured array of LiquidityAlert.DTYPE")
    names = [f.name for f in fields(LiquidityAlert)]
    out = []
    for row in array.tolist():
        d = dict(zip(LiquidityAlert.DTYPE.names or (), row))
        kw: dict[str, Any] = {}
        for name in names:
            v = d[name]
            if isinstance(v, bytes):
                v = v.decode("ascii")
            if name == "baseline_values":
                v = json.loads(v)
            elif name == "z" and math.isnan(v):
                v = None
            elif name == "ended_ms" and v == -1:
                v = None
            kw[name] = v
        out.append(LiquidityAlert(**kw))
    return out


def alerts_from_rows(rows: npt.NDArray[Any]) -> list[LiquidityAlert]:
    """The alerts of the rows a :mod:`liqcore.store` store reads from its ``alerts`` table (ts and
    ``ended_ts`` in ns, -1 while open; the baseline as JSON; z NaN when none). O(n)."""
    names = getattr(getattr(rows, "dtype", None), "names", None) or ()
    missing = {"exchange", "symbol", "ts", "id", "type", "severity", "current", "baseline", "deviation_pct",
               "message", "suggested_action", "requires_action", "ended_ts", "baseline_values"} - set(names)
    if missing:
        raise AlertInputError(f"rows: not the store's alerts rows (missing {', '.join(sorted(missing))})")
    out = []
    for r in rows.tolist():
        d = dict(zip(names, r))
        ex, sym = (v.decode("ascii") if isinstance(v, bytes) else v for v in (d["exchange"], d["symbol"]))
        z = d.get("z")
        out.append(LiquidityAlert(
            id=d["id"], ts_ms=d["ts"] // _NS_PER_MS, exchange=ex, symbol=sym, type=d["type"], severity=d["severity"],
            metric=d.get("metric") or "", current=d["current"], baseline=d["baseline"],
            deviation_pct=d["deviation_pct"], z=None if z is None or z != z else z, message=d["message"] or "",
            suggested_action=d["suggested_action"] or "", requires_action=bool(d["requires_action"]),
            baseline_values=json.loads(d["baseline_values"]) if d["baseline_values"] else {},
            ended_ms=None if d["ended_ts"] < 0 else d["ended_ts"] // _NS_PER_MS))
    return out
