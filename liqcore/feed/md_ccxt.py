"""ccxt structures -> liqcore market-data records (the one place their exchange quirks live).

ccxt parses every exchange's message into unified dicts (trade, ticker, funding rate,
liquidation, open interest structures) and keeps the exchange's raw message in ``info``.
The converters below read the unified fields and fall back to ``info`` where ccxt drops
something the records need:

* **Binance funding** arrives in the mark-price stream (``<sym>@markPrice@1s``): ccxt keeps
  only mark/index in the ticker, the rate ``r`` and next funding time ``T`` stay in ``info``.
  Binance's REST premiumIndex and markPrice stream do not carry the funding interval: 8 h is
  assumed (``BINANCE_DEFAULT_INTERVAL_MS``; the real interval is in ``/fapi/v1/fundingInfo``).
* **Sizes in base currency**: ccxt's ``amount``/``contracts`` count contracts on derivatives
  (OKX BTC-USDT-SWAP: 0.01 BTC each). Linear: base = contracts x contractSize; inverse
  (contract size in quote): base = contracts x contractSize / price.
* **Aggressor side**: ccxt's trade ``side`` is the taker's (Binance ``m`` = buyer is maker ->
  sell); anything else than buy/sell becomes None.
* **Liquidation side**: the record holds the liquidated *position's* side. ccxt passes on what
  the exchange sends: Binance's ``forceOrder`` ``S`` is the liquidation *order's* side (a sell
  order closes a long), Bybit's ``allLiquidation`` ``S`` / ``liquidation`` ``side`` is already
  the *position's* side ("Buy": a long position was liquidated) — :data:`POSITION_SIDE_LIQUIDATIONS`.
  OKX's ``liquidation-orders`` detail carries both: ``side`` the order's, ``posSide`` the position's
  (or ``net`` in one-way mode); ccxt passes on ``side``, so OKX maps like Binance.
* **Bybit funding and mark** ride on the ``tickers.{symbol}`` stream (ccxt.pro ``watch_ticker``;
  Bybit sends a snapshot, then deltas that ccxt merges into ``info``): rate ``fundingRate``,
  next funding ``nextFundingTime``, interval from the market's ``fundingInterval`` (minutes).
"""

from __future__ import annotations

from typing import Any, Mapping

from liqcore.feed.records import FundingRate, Liquidation, MarkPrice, OpenInterest, Trade

__all__ = ["base_size", "trade_record", "funding_record", "funding_from_mark_ticker", "funding_from_ticker",
           "mark_record", "liquidation_record", "open_interest_record", "BINANCE_DEFAULT_INTERVAL_MS", "interval_ms",
           "POSITION_SIDE_LIQUIDATIONS"]

BINANCE_DEFAULT_INTERVAL_MS = 8 * 3_600_000
#: ccxt ids whose liquidation ``side`` is the liquidated position's (``buy`` = a long), not the order's
POSITION_SIDE_LIQUIDATIONS = frozenset({"bybit"})
_HOUR_MS = 3_600_000


def _f(x: Any) -> float | None:
    if x is None or x == "":
        return None
    return float(x)


def _i(x: Any) -> int | None:
    if x is None or x == "":
        return None
    return int(x)


def base_size(market: Mapping[str, Any], amount: Any, price: Any = None) -> float | None:
    """``amount`` (ccxt's unit: base for spot, contracts for derivatives) in base currency."""
    a = _f(amount)
    if a is None or not market.get("contract"):
        return a
    cs = _f(market.get("contractSize")) or 1.0
    if market.get("inverse"):
        p = _f(price)
        return None if not p else a * cs / p
    return a * cs


def interval_ms(text: Any) -> int | None:
    """ccxt's funding ``interval`` (``"8h"``, ``"1h"``, or raw ms) in ms."""
    if text is None or text == "":
        return None
    s = str(text)
    if s.endswith("h"):
        return int(float(s[:-1]) * _HOUR_MS)
    if s.isdigit():
        return int(s)
    return None


def trade_record(exchange: str, market: Mapping[str, Any], t: Mapping[str, Any], recv_ns: int) -> Trade:
    """A ccxt trade structure as a :class:`Trade`."""
    side = t.get("side")
    return Trade(exchange, market["symbol"], str(t["id"]), int(t["timestamp"]), float(t["price"]),
                 float(base_size(market, t["amount"], t["price"]) or 0.0),
                 side if side in ("buy", "sell") else None, recv_ns)


def funding_from_mark_ticker(exchange: str, market: Mapping[str, Any], ticker: Mapping[str, Any],
                             recv_ns: int) -> FundingRate | None:
    """Binance: the funding rate inside a ``markPriceUpdate`` ticker (None if it has none)."""
    info = ticker.get("info") or {}
    rate = _f(info.get("r"))
    if rate is None:
        return None
    ts = _i(info.get("E")) or _i(ticker.get("timestamp")) or recv_ns // 1_000_000
    return FundingRate(exchange, market["symbol"], ts, rate, BINANCE_DEFAULT_INTERVAL_MS, _i(info.get("T")),
                       _f(info.get("p")), _f(info.get("i")), recv_ns)


def funding_from_ticker(exchange: str, market: Mapping[str, Any], ticker: Mapping[str, Any],
                        recv_ns: int) -> FundingRate | None:
    """Bybit: the funding rate inside a contract ``tickers`` message (None if it has none)."""
    info = ticker.get("info") or {}
    rate = _f(info.get("fundingRate"))
    if rate is None:
        return None
    ts = _i(ticker.get("timestamp")) or recv_ns // 1_000_000
    minutes = _i((market.get("info") or {}).get("fundingInterval"))
    hours = _f(info.get("fundingIntervalHour"))
    interval = minutes * 60_000 if minutes else (int(hours * _HOUR_MS) if hours else None)
    mark = _f(ticker.get("markPrice"))
    index = _f(ticker.get("indexPrice"))
    return FundingRate(exchange, market["symbol"], ts, rate, interval, _i(info.get("nextFundingTime")),
                       _f(info.get("markPrice")) if mark is None else mark,
                       _f(info.get("indexPrice")) if index is None else index, recv_ns)


def funding_record(exchange: str, market: Mapping[str, Any], fr: Mapping[str, Any], recv_ns: int) -> FundingRate:
    """A ccxt funding-rate structure (``fetch_funding_rate``, OKX ``watch_funding_rate``)."""
    info = fr.get("info") or {}
    ts = _i(fr.get("timestamp")) or _i(info.get("ts")) or _i(info.get("time")) or recv_ns // 1_000_000
    interval = interval_ms(fr.get("interval"))
    if interval is None and exchange.startswith("binance"):
        interval = BINANCE_DEFAULT_INTERVAL_MS
    return FundingRate(exchange, market["symbol"], ts, float(fr["fundingRate"]), interval,
                       _i(fr.get("fundingTimestamp")), _f(fr.get("markPrice")), _f(fr.get("indexPrice")), recv_ns)


def mark_record(exchange: str, market: Mapping[str, Any], ticker: Mapping[str, Any], recv_ns: int) -> MarkPrice:
    """A ccxt mark-price ticker (Binance ``markPriceUpdate``, OKX ``mark-price``)."""
    info = ticker.get("info") or {}
    mark = _f(ticker.get("markPrice"))
    if mark is None:
        mark = _f(info.get("markPx", info.get("p")))
    index = _f(ticker.get("indexPrice"))
    if index is None:
        index = _f(info.get("idxPx", info.get("i")))
    ts = _i(ticker.get("timestamp")) or _i(info.get("E")) or _i(info.get("ts")) or recv_ns // 1_000_000
    if mark is None:
        raise ValueError(f"{exchange} {market['symbol']}: mark-price message without a mark price: {info!r}")
    return MarkPrice(exchange, market["symbol"], ts, mark, index, recv_ns)


def liquidation_record(exchange: str, market: Mapping[str, Any], liq: Mapping[str, Any],
                       recv_ns: int) -> Liquidation:
    """A ccxt liquidation structure; ``side`` becomes the liquidated position's side."""
    order_side = str(liq.get("side") or "").lower()
    if order_side not in ("buy", "sell"):
        raise ValueError(f"{exchange} {market['symbol']}: liquidation without an order side: {liq.get('info')!r}")
    if exchange in POSITION_SIDE_LIQUIDATIONS:      # ccxt's side is the position's: flip to the order's
        order_side = "sell" if order_side == "buy" else "buy"
    price = float(liq["price"])
    size = base_size(market, liq.get("contracts"), price)
    if size is None:
        size = _f(liq.get("baseValue")) or 0.0
    return Liquidation(exchange, market["symbol"], int(liq["timestamp"]),
                       "long" if order_side == "sell" else "short", price, size, recv_ns)


def open_interest_record(exchange: str, market: Mapping[str, Any], oi: Mapping[str, Any],
                         recv_ns: int, price: float | None = None) -> OpenInterest:
    """A ccxt open-interest structure (``fetch_open_interest``)."""
    info = oi.get("info") or {}
    contracts = _f(oi.get("openInterestAmount"))
    size = _f(info.get("oiCcy"))
    if size is None and contracts is not None and not market.get("inverse"):
        size = base_size(market, contracts, price)
    value = _f(oi.get("openInterestValue"))
    ts = _i(oi.get("timestamp")) or recv_ns // 1_000_000
    return OpenInterest(exchange, market["symbol"], ts, contracts, size, value, recv_ns)
