"""Which class serves an exchange id: a liqcore adapter, stock ccxt.pro (generic mirror), or
ccxt REST (polling)."""

from __future__ import annotations

import importlib
from typing import Any, Literal

from liqcore.errors import FeedConfigError

__all__ = ["ADAPTERS", "adapter_class", "create_exchange", "stock_exchange", "mode_of"]

#: exchange id -> "module:Class" of its engine adapter (imported on first use)
ADAPTERS = {
    "binance": "liqcore.feed.ccxt_binance:BinanceEngine",
    "binanceusdm": "liqcore.feed.ccxt_binance:BinanceUsdmEngine",
    "binancecoinm": "liqcore.feed.ccxt_binance:BinanceCoinmEngine",
    "okx": "liqcore.feed.ccxt_okx:OkxEngine",
    "bybit": "liqcore.feed.ccxt_bybit:BybitEngine",
    "kraken": "liqcore.feed.ccxt_kraken:KrakenEngine",
    "coinbase": "liqcore.feed.ccxt_coinbase:CoinbaseEngine",
    "bitget": "liqcore.feed.ccxt_bitget:BitgetEngine",
    "bitfinex": "liqcore.feed.ccxt_bitfinex:BitfinexEngine",
}

Mode = Literal["engine", "watch", "poll"]


def adapter_class(exchange_id: str) -> type:
    """The engine adapter class of ``exchange_id`` (KeyError if liqcore has none)."""
    module, name = ADAPTERS[exchange_id].split(":")
    return getattr(importlib.import_module(module), name)


def create_exchange(exchange_id: str, config: dict | None = None, **liq_options: Any) -> Any:
    """A new exchange instance for the feed: the liqcore adapter when there is one (``liq_options``
    go to it: ``recorder``, ``max_depth``, ``cross_policy``, ``buffer_limit``), else stock
    ccxt.pro (websocket), else ccxt's async REST class (polled)."""
    if exchange_id in ADAPTERS:
        return adapter_class(exchange_id)(dict(config or {}), **liq_options)
    return stock_exchange(exchange_id, config)


def stock_exchange(exchange_id: str, config: dict | None = None) -> Any:
    """A stock ccxt.pro instance of ``exchange_id`` (websocket + REST), else ccxt.async_support
    (REST only); FeedConfigError for an id ccxt does not know."""
    import ccxt.async_support
    import ccxt.pro
    if exchange_id in ccxt.pro.exchanges:
        return getattr(ccxt.pro, exchange_id)(dict(config or {}))
    if exchange_id in ccxt.async_support.exchanges:
        return getattr(ccxt.async_support, exchange_id)(dict(config or {}))
    raise FeedConfigError(f"unknown exchange {exchange_id!r}: not in ccxt")


def mode_of(exchange: Any) -> Mode:
    """How the feed keeps ``exchange``'s books: ``"engine"`` (liqcore adapter), ``"watch"``
    (mirror ccxt.pro's ``watch_order_book``) or ``"poll"`` (``fetch_order_book`` every interval)."""
    from liqcore.feed.engine import EngineMixin
    if isinstance(exchange, EngineMixin):
        return "engine"
    if (getattr(exchange, "has", None) or {}).get("watchOrderBook"):
        return "watch"
    return "poll"
