"""Kraken spot (websocket v2 ``book``) through ccxt.pro: the venue's protocol
(:mod:`liqcore.exchanges.kraken`: book frames decoded with every number as its text, Kraken's
CRC32 verified in C after every message, the book truncated to the subscribed depth) drives the
books; ccxt keeps the connection, subscriptions, markets and REST.

ccxt would decode the frames with orjson into floats, which lose the trailing zeros Kraken's
checksum hashes (its own checksum code then fails; it is off by default), so book frames never
reach ccxt. Kraken sends no sequence numbers: a lost or corrupted message shows as a checksum
mismatch, which marks the book stale; the watch loop unsubscribes and resubscribes on the same
socket (:mod:`liqcore.feed.resubscribe`) and Kraken answers with a fresh snapshot.
"""

from __future__ import annotations

from typing import Any

import ccxt.pro

from liqcore.exchanges.kraken import DEFAULT_DEPTH, KrakenProtocol
from liqcore.feed.engine import EngineMixin
from liqcore.feed.live_book import LiveBook
from liqcore.feed.resubscribe import ResubscribeMixin

__all__ = ["KrakenEngine"]


class KrakenEngine(ResubscribeMixin, EngineMixin, ccxt.pro.kraken):
    """ccxt.pro ``kraken`` (spot, websocket v2) with books in the compiled core and Kraken's
    checksum verified on every message."""

    protocol_class = KrakenProtocol

    def liq_message_hash(self, symbol: str) -> str:
        return "orderbook@" + symbol

    def liq_market_symbol(self, client: Any, market_id: str, market_type: str | None) -> str | None:
        # Kraken v2 names markets by ccxt's unified spelling (BTC/USD)
        return market_id if market_id in (self.markets or {}) else None

    def liq_narrow_subscribe(self, message: Any, subscription: Any, symbols: set[str]) -> tuple[Any, Any]:
        # params.symbol lists unified symbols (BTC/USD): a symbol still subscribed would get
        # Kraken's "Already subscribed" error
        params = message.get("params") if isinstance(message, dict) else None
        if not isinstance(params, dict) or params.get("channel") != "book":
            return message, subscription
        return dict(message, params=dict(params, symbol=[s for s in params.get("symbol", ()) if s in symbols])), \
            subscription

    def liq_unsubscribe_request(self, client: Any, live: LiveBook) -> dict | None:
        params: dict[str, Any] = {"channel": "book", "symbol": [live.symbol]}
        depth = live.book.max_depth
        if depth is not None and depth != DEFAULT_DEPTH:
            params["depth"] = depth
        return {"method": "unsubscribe", "params": params, "req_id": self.request_id()}
