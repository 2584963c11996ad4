"""Key and channel names, and the JSON encoding of what the fan-out publishes.

Names (``prefix`` defaults to ``"liqcore"``; one prefix per deployment sharing a Redis):

- ``<prefix>:<kind>:<exchange>:<symbol>`` for ``kind`` in :data:`KINDS` (``top``, ``report``,
  ``alert``), e.g. ``liqcore:top:binance:BTC/USDT`` or ``liqcore:top:bybit:BTC/USDT:USDT``. The
  same name is the pub/sub channel (every message) and the string key holding the latest message
  with a TTL (Redis keeps channels and keys apart). The symbol is the last part and may hold ``:``
  (perpetuals); the exchange may not.
- ``<prefix>:alerts``: the stream of every alert (start and end of each episode), bounded with
  ``XADD ... MAXLEN ~ N``; each entry has one field ``data``, the alert's JSON.

Payloads are UTF-8 JSON objects (orjson); NaN and infinities become ``null``:

- top: ``exchange``, ``symbol``, ``ts_ms`` (publish time, ms since the epoch), ``bid``, ``ask``
  (quote per base), ``bid_size``, ``ask_size`` (base), ``mid`` (quote), ``spread_bps``,
  ``update_id`` (the book's last exchange update id or null);
- report: :meth:`liqcore.LiquidityReport.to_dict` plus ``ts_ms``;
- alert: :meth:`liqcore.alerts.LiquidityAlert.to_dict` (``ts_ms``, ``ended_ms``, ``ts`` in ns...).
"""

from __future__ import annotations

import math
import time
from dataclasses import fields
from typing import Any

import orjson

from liqcore import LiquidityReport, OrderBook
from liqcore.alerts.records import LiquidityAlert
from liqcore.fanout.errors import FanoutError

__all__ = ["KINDS", "DEFAULT_PREFIX", "check_prefix", "check_label", "market_name", "parse_name", "stream_name",
           "encode_top", "encode_report", "encode_alert", "encode_json", "decode", "alert_from_dict", "now_ms"]

KINDS = ("top", "report", "alert")
DEFAULT_PREFIX = "liqcore"

# glob metacharacters (pattern subscriptions and invalidation must match names literally),
# the separator and whitespace cannot be part of an exchange; a symbol may hold ":"
_GLOB = set("*?[]\\")
_JSON_OPTS = orjson.OPT_SERIALIZE_NUMPY
_ALERT_FIELDS = tuple(f.name for f in fields(LiquidityAlert))


def check_prefix(prefix: object) -> str:
    """``prefix`` if it is a non-empty string without ``:``, whitespace or glob characters."""
    if not isinstance(prefix, str) or not prefix or ":" in prefix or _GLOB & set(prefix) or \
            any(c.isspace() for c in prefix):
        raise FanoutError(f"prefix: expected a non-empty name without ':', spaces or *?[]\\, got {prefix!r}")
    return prefix


# labels already found good: a feed publishes the same few markets all day, and the check costs
# more than the rest of a top's encoding; cleared when full, so it stays bounded
_GOOD: set[tuple[str, str]] = set()
_GOOD_MAX = 4096


def check_label(name: str, value: object) -> str:
    """An exchange (``name="exchange"``: no ``:``) or symbol usable in a key name, else
    FanoutError. O(1) for a label seen before, else O(len)."""
    if type(value) is str and (name, value) in _GOOD:
        return value
    if not isinstance(value, str) or not value or _GLOB & set(value) or any(c.isspace() for c in value) or \
            (name == "exchange" and ":" in value):
        extra = ", ':'" if name == "exchange" else ""
        raise FanoutError(f"{name}: expected a non-empty name without spaces, *?[]\\{extra}, got {value!r}")
    if len(_GOOD) >= _GOOD_MAX:
        _GOOD.clear()
    _GOOD.add((name, value))
    return value


def market_name(prefix: str, kind: str, exchange: str, symbol: str) -> str:
    """``<prefix>:<kind>:<exchange>:<symbol>`` (checked). O(len)."""
    if kind not in KINDS:
        raise FanoutError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    return f"{prefix}:{kind}:{check_label('exchange', exchange)}:{check_label('symbol', symbol)}"


def parse_name(prefix: str, name: str) -> tuple[str, str, str]:
    """(kind, exchange, symbol) of a name made by :func:`market_name`; FanoutError otherwise."""
    parts = name.split(":", 3)
    if len(parts) != 4 or parts[0] != prefix or parts[1] not in KINDS:
        raise FanoutError(f"name: {name!r} is not a {prefix}:<kind>:<exchange>:<symbol> name")
    return parts[1], parts[2], parts[3]


def stream_name(prefix: str) -> str:
    """The alert stream's key, ``<prefix>:alerts``."""
    return f"{prefix}:alerts"


def _dumps(obj: Any, what: str) -> bytes:
    try:
        return orjson.dumps(obj, default=_plain, option=_JSON_OPTS)
    except (TypeError, orjson.JSONEncodeError) as e:
        raise FanoutError(f"{what}: not JSON-serialisable ({e})") from None


def _plain(obj: Any) -> Any:
    # what orjson cannot write itself: liqcore records inside a result (VenueComparison, Wall...)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "_asdict"):
        return obj._asdict()
    raise TypeError(f"Type is not JSON serializable: {type(obj).__name__}")


def now_ms() -> int:
    """Wall-clock time in ms since the epoch."""
    return time.time_ns() // 1_000_000


def encode_top(book: OrderBook, exchange: str | None = None, symbol: str | None = None,
               ts_ms: int | None = None) -> tuple[str, str, bytes]:
    """(exchange, symbol, JSON) of the book's top of book. ``exchange``/``symbol`` default to the
    book's labels (FanoutError when neither is set). Reads the book once (``bbo``). O(1)."""
    if not isinstance(book, OrderBook):
        raise FanoutError(f"book: expected a liqcore.OrderBook, got {type(book).__name__}")
    ex = check_label("exchange", exchange if exchange is not None else book.exchange)
    sym = check_label("symbol", symbol if symbol is not None else book.symbol)
    bid, bid_size, ask, ask_size = book.bbo
    mid = (bid + ask) / 2                            # NaN when a side is empty (orjson writes null)
    doc = {"exchange": ex, "symbol": sym, "ts_ms": now_ms() if ts_ms is None else ts_ms,
           "bid": bid, "bid_size": bid_size, "ask": ask, "ask_size": ask_size,
           "mid": mid, "spread_bps": (ask - bid) / mid * 1e4 if mid else math.nan,
           "update_id": book.last_update_id}
    return ex, sym, _dumps(doc, "top")


def encode_report(report: LiquidityReport, ts_ms: int | None = None) -> tuple[str, str, bytes]:
    """(exchange, symbol, JSON) of a liquidity report (its ``to_dict()`` plus ``ts_ms``); the
    report's book must carry exchange and symbol labels. O(walls + clusters)."""
    if not isinstance(report, LiquidityReport):
        raise FanoutError(f"report: expected a liqcore.LiquidityReport, got {type(report).__name__}")
    ex, sym = check_label("exchange", report.exchange), check_label("symbol", report.symbol)
    doc = report.to_dict()
    doc["ts_ms"] = now_ms() if ts_ms is None else ts_ms
    return ex, sym, _dumps(doc, "report")


def encode_alert(alert: LiquidityAlert) -> tuple[str, str, bytes]:
    """(exchange, symbol, JSON) of an alert (its ``to_dict()``). O(size of baseline_values)."""
    if not isinstance(alert, LiquidityAlert):
        raise FanoutError(f"alert: expected a liqcore.alerts.LiquidityAlert, got {type(alert).__name__}")
    return check_label("exchange", alert.exchange), check_label("symbol", alert.symbol), \
        _dumps(alert.to_dict(), "alert")


def encode_json(obj: Any, what: str) -> bytes:
    """JSON of a JSON-ready object (or one with ``to_dict()``), NaN as null; FanoutError otherwise."""
    return _dumps(obj, what)


def decode(payload: bytes | str) -> Any:
    """The object of a payload (orjson)."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as e:
        raise FanoutError(f"payload: not JSON ({e})") from None


def alert_from_dict(doc: dict[str, Any]) -> LiquidityAlert:
    """The :class:`LiquidityAlert` of a decoded alert payload (``null`` measurements back to NaN)."""
    kw = {k: doc[k] for k in _ALERT_FIELDS if k in doc}
    for k in ("current", "baseline", "deviation_pct"):
        if kw.get(k) is None:
            kw[k] = math.nan
    try:
        return LiquidityAlert(**kw)
    except TypeError as e:
        raise FanoutError(f"payload: not an alert ({e})") from None
