"""Bybit v5 through ccxt.pro: the venue's protocol (:mod:`liqcore.exchanges.bybit`: ``u``
continuity under the ``bybit`` rule in C, ``u == 1`` restart snapshots) drives the books; ccxt
keeps the connection, subscriptions, markets and REST. ccxt 4.5 reads neither ``u`` nor ``seq``
(a lost message silently corrupts its book); here a gap marks the book stale, the watch loop
unsubscribes and resubscribes the topic on the same socket (:mod:`liqcore.feed.resubscribe`) and
Bybit answers with a fresh snapshot.
"""

from __future__ import annotations

from typing import Any

import ccxt.pro

from liqcore.exchanges.bybit import BybitProtocol, book_topic
from liqcore.feed.engine import EngineMixin
from liqcore.feed.live_book import LiveBook
from liqcore.feed.resubscribe import ResubscribeMixin

__all__ = ["BybitEngine"]


class BybitEngine(ResubscribeMixin, EngineMixin, ccxt.pro.bybit):
    """ccxt.pro ``bybit`` with books in the compiled core and Bybit's ``u`` checked."""

    protocol_class = BybitProtocol

    def liq_sequence_rule(self, market: dict) -> str:
        return "bybit"

    def liq_message_hash(self, symbol: str) -> str:
        return "orderbook:" + symbol

    def liq_market_symbol(self, client: Any, market_id: str, market_type: str | None) -> str | None:
        # ccxt's rule: the socket's url tells spot from contract markets sharing an id (BTCUSDT)
        return super().liq_market_symbol(client, market_id, "spot" if "spot" in client.url else "contract")

    def liq_unsubscribe_request(self, client: Any, live: LiveBook) -> dict | None:
        market_id = self.market(live.symbol)["id"]
        if live.channel is not None:                      # the topic its last snapshot came on
            topic: str | None = book_topic(live.channel, market_id)
        else:                                             # never synced: the topic ccxt subscribed
            sub = client.subscriptions.get(live.message_hash)
            topics = sub.get("topics", ()) if isinstance(sub, dict) else ()
            topic = next((t for t in topics if t.startswith("orderbook.") and t.endswith("." + market_id)), None)
        if topic is None:
            return None
        return {"op": "unsubscribe", "req_id": self.request_id(), "args": [topic]}
