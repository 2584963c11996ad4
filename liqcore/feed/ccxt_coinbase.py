"""Coinbase Advanced Trade through ccxt.pro: the venue's protocol (:mod:`liqcore.exchanges.coinbase`:
``sequence_num`` checked per connection and per book under the ``coinbase`` rule in C) drives the
books; ccxt keeps the connection, subscriptions, markets and REST (and sees every message that is
not a book's: subscriptions, heartbeats, other channels). ccxt 4.5 ignores ``sequence_num``.

A gap marks the book stale; the watch loop unsubscribes and resubscribes the product on the same
socket (:mod:`liqcore.feed.resubscribe`) and Coinbase answers with a new snapshot.
"""

from __future__ import annotations

from typing import Any

import ccxt.pro

from liqcore.exchanges.coinbase import CoinbaseProtocol
from liqcore.feed.engine import EngineMixin
from liqcore.feed.live_book import LiveBook
from liqcore.feed.resubscribe import ResubscribeMixin

__all__ = ["CoinbaseEngine"]


class CoinbaseEngine(ResubscribeMixin, EngineMixin, ccxt.pro.coinbase):
    """ccxt.pro ``coinbase`` (Advanced Trade) with books in the compiled core and Coinbase's
    ``sequence_num`` checked."""

    protocol_class = CoinbaseProtocol

    def liq_sequence_rule(self, market: dict) -> str:
        return "coinbase"

    def liq_message_hash(self, symbol: str) -> str:
        return "level2::" + symbol

    def liq_narrow_subscribe(self, message: Any, subscription: Any, symbols: set[str]) -> tuple[Any, Any]:
        # a product still subscribed would get a second snapshot
        if not isinstance(message, dict) or message.get("channel") != "level2":
            return message, subscription
        ids = {self.market(s)["id"] for s in symbols}
        return dict(message, product_ids=[p for p in message.get("product_ids", ()) if p in ids]), subscription

    def liq_unsubscribe_request(self, client: Any, live: LiveBook) -> dict | None:
        return {"type": "unsubscribe", "product_ids": [self.market(live.symbol)["id"]], "channel": "level2"}
