"""Feed layer: keep compiled books equal to the exchanges' books.

* the venues' sans-I/O protocols live in :mod:`liqcore.exchanges` (Binance, OKX, Bybit, Coinbase,
  Kraken, Bitget, Bitfinex), driven here by :class:`~liqcore.feed.driver.CcxtDriver`;
  :mod:`liqcore.feed.binance` keeps the earlier one-book ``BinanceDepthSync`` API over Binance's;
* live books through ccxt.pro (needs the ``feed`` extra): :class:`LiveFeed` (the API),
  engine adapters per exchange (``ccxt_binance``, ``ccxt_okx``, ``ccxt_bybit``, ``ccxt_kraken``,
  ``ccxt_coinbase``, ``ccxt_bitget``, ``ccxt_bitfinex``: ccxt's side of each venue), the generic mirror/polling path (:mod:`liqcore.feed.generic`), the retry
  policy (:mod:`liqcore.feed.retry`). See ``docs/feed.md``;
* other market data as typed records (:mod:`liqcore.feed.records`): :class:`MarketData` streams
  trades, funding, mark prices, liquidations and open interest (:mod:`liqcore.feed.market_data`);
  :func:`book_deltas` turns two states of a book into :class:`OrderBookDelta` records.

The ccxt-based names are imported lazily, so ``import liqcore.feed`` works without ccxt.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LiveFeed", "BookUpdate", "LiveBook", "BookStats", "Backoff", "classify_error", "create_exchange",
           "adapter_class", "run", "MarketData", "Trade", "FundingRate", "MarkPrice", "Liquidation", "OpenInterest",
           "OrderBookDelta", "book_deltas"]

_LAZY = {
    "LiveFeed": "liqcore.feed.live", "BookUpdate": "liqcore.feed.live", "run": "liqcore.feed.live",
    "LiveBook": "liqcore.feed.live_book", "BookStats": "liqcore.feed.live_book",
    "Backoff": "liqcore.feed.retry", "classify_error": "liqcore.feed.retry",
    "create_exchange": "liqcore.feed.adapters", "adapter_class": "liqcore.feed.adapters",
    "MarketData": "liqcore.feed.market_data", "Trade": "liqcore.feed.records", "FundingRate": "liqcore.feed.records",
    "MarkPrice": "liqcore.feed.records", "Liquidation": "liqcore.feed.records", "OpenInterest": "liqcore.feed.records",
    "OrderBookDelta": "liqcore.feed.records", "book_deltas": "liqcore.feed.deltas",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'liqcore.feed' has no attribute {name!r}")
