"""OKX through ccxt.pro: the venue's protocol (:mod:`liqcore.exchanges.okx`) drives the books.

ccxt keeps the connection, subscriptions, markets and REST; every frame goes to
:class:`~liqcore.exchanges.okx.OkxProtocol` (channels ``books``, ``books-l2-tbt``,
``books50-l2-tbt``, ``books-rpi``: the sequence rule and OKX's checksum verified in C; update
frames parsed in C on the native frame path), which hands other frames back to ccxt. A gap or
mismatch marks the book stale and sets ccxt's subscription to ``"resync"``: the next
``watch_order_book`` sends unsubscribe + subscribe and OKX answers with a fresh snapshot.
"""

from __future__ import annotations

from typing import Any

import ccxt.pro

from liqcore.exchanges.okx import CHANNELS, OkxProtocol
from liqcore.feed.engine import EngineMixin
from liqcore.feed.live_book import LiveBook

__all__ = ["OkxEngine"]


class OkxEngine(EngineMixin, ccxt.pro.okx):
    """ccxt.pro ``okx`` with books in the compiled core and OKX's checksum verified."""

    protocol_class = OkxProtocol

    def liq_sequence_rule(self, market: dict) -> str:
        return "okx"

    def liq_book_hash(self, symbol: str, channel: str) -> str:
        return channel + ":" + symbol          # ccxt's hash of an OKX book subscription

    def liq_hash_symbol(self, message_hash: str) -> str | None:
        channel, sep, symbol = message_hash.partition(":")
        return symbol if sep and channel in CHANNELS else None

    def liq_narrow_subscribe(self, message: Any, subscription: Any, symbols: set[str]) -> tuple[Any, Any]:
        # OKX answers a repeated subscribe with a new snapshot: only the books being resynced
        if not isinstance(message, dict) or message.get("op") != "subscribe":
            return message, subscription
        ids = {self.market(s)["id"] for s in symbols}
        return dict(message, args=[a for a in message.get("args", ()) if a.get("instId") in ids]), subscription

    def liq_drop_subscription(self, client: Any, live: LiveBook) -> None:
        # ccxt's own OKX resync path: 'resync' makes watch_order_book send unsubscribe + subscribe
        if live.message_hash is not None:
            client.subscriptions[live.message_hash] = "resync"
        self.orderbooks.pop(live.symbol, None)
