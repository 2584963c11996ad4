"""Coinbase Advanced Trade through ccxt.pro, books in the compiled core, ``sequence_num`` checked.

Channel ``level2`` (messages ``l2_data``): a ``snapshot`` event after each subscribe, then
``update`` events with absolute quantities (``"0"`` removes). ccxt 4.5 ignores
``sequence_num``; Coinbase numbers **every message of a connection** with it (all channels and
products, subscription acks and heartbeats too), so a book's own messages are not contiguous
when a connection carries more than one stream. liqcore checks it in two places:

* per connection, in the frame handler: a message whose ``sequence_num`` is not above the
  last one seen on the connection is a duplicate or arrived late and is skipped
  (``stale_skipped`` of its book); every other sequenced message is counted;
* per book, in C under the ``coinbase`` (contiguous) rule: an update with ``sequence_num`` s
  is applied with ``first_id = s - k``, where ``k`` is the number of messages the connection
  received between this book's previous message and this one. The rule accepts it only if
  ``s - k - 1`` equals the book's id (the previous message's ``sequence_num``), i.e. only if
  no message of the connection was lost up to this one; otherwise it is a gap.

A gap marks the book stale; the watch loop unsubscribes and resubscribes the product on the
same socket (:mod:`liqcore.feed.resubscribe`), Coinbase answers with a new snapshot. Levels
are Coinbase's wire strings (``price_level``/``new_quantity``), never floats.
"""

from __future__ import annotations

from typing import Any

import ccxt.pro

from liqcore.feed.engine import _MALFORMED, EngineMixin, ShellOrderBook, decode_frame
from liqcore.feed.live_book import LiveBook
from liqcore.feed.resubscribe import ResubscribeMixin

__all__ = ["CoinbaseEngine", "coinbase_frame_handler"]


def coinbase_frame_handler(exchange: Any, client: Any, data: str) -> None:
    """Connection-level ``sequence_num`` bookkeeping, then ``l2_data`` to the engine and the
    rest (subscriptions, heartbeats, other channels, errors) to ccxt's ``handle_message``."""
    msg = decode_frame(exchange, client, data)
    if msg is _MALFORMED:
        return
    if type(msg) is dict:
        seq = msg.get("sequence_num")
        if type(seq) is int:
            last = getattr(client, "_liq_cb_last", None)
            if last is not None and seq <= last:       # duplicate / late: already past it
                exchange.liq_on_late(client, msg)
                return
            client._liq_cb_last = seq
            client._liq_cb_count = getattr(client, "_liq_cb_count", 0) + 1
        if msg.get("channel") == "l2_data":
            exchange.liq_on_l2(client, msg)
            return
    exchange.handle_message(client, msg)


class CoinbaseEngine(ResubscribeMixin, EngineMixin, ccxt.pro.coinbase):
    """ccxt.pro ``coinbase`` (Advanced Trade) with books in the compiled core and Coinbase's
    ``sequence_num`` checked."""

    default_frame_handler = staticmethod(coinbase_frame_handler)

    def __init__(self, config: dict | None = None, **liq_options: Any) -> None:
        super().__init__(config, **liq_options)
        #: symbol -> the connection's message count at the book's last message
        self.liq_marks: dict[str, int] = {}

    def liq_sequence_rule(self, market: dict) -> str:
        return "coinbase"

    def liq_message_hash(self, symbol: str) -> str:
        return "level2::" + symbol

    def handle_order_book(self, client: Any, message: dict) -> None:
        # ccxt's own dispatch (handle_message) lands here too
        self.liq_on_l2(client, message)

    def _liq_events(self, client: Any, msg: dict) -> list[tuple[str, LiveBook, dict]]:
        out = []
        for ev in msg.get("events") or ():
            symbol = self.liq_symbol(client, ev.get("product_id"))
            if symbol in (self.markets or {}):
                out.append((symbol, self.liq_book(symbol), ev))
        return out

    def liq_on_late(self, client: Any, msg: dict) -> None:
        """A message at or below the connection's last ``sequence_num``: skipped."""
        if msg.get("channel") == "l2_data":
            for _, live, _ in self._liq_events(client, msg):
                live.stats.messages += 1
                live.stats.stale_skipped += 1

    def liq_on_l2(self, client: Any, msg: dict) -> None:
        """One ``l2_data`` message (one event per product). O(levels in it)."""
        seq: int = msg["sequence_num"]
        count = getattr(client, "_liq_cb_count", 0)
        for symbol, live, ev in self._liq_events(client, msg):
            try:
                bids: list[tuple[str, str]] = []
                asks: list[tuple[str, str]] = []
                for u in ev.get("updates") or ():
                    (bids if u["side"] == "bid" else asks).append((u["price_level"], u["new_quantity"]))
                shell: ShellOrderBook | None
                if ev.get("type") == "snapshot":
                    live.client_url = client.url
                    live.load_snapshot(bids, asks, seq)
                    shell = self.liq_shell(symbol, live)
                else:
                    shell = self.liq_delta_shell(symbol, live)
                    if shell is None:
                        continue
                    between = count - 1 - self.liq_marks.get(symbol, count - 1)
                    if not live.apply(bids, asks, seq, seq - between):
                        continue
                self.liq_marks[symbol] = count
                shell["nonce"] = seq
                shell["timestamp"] = self.parse8601(msg.get("timestamp"))
                self.liq_publish(client, live, shell)
            except Exception as exc:      # gap, bad levels: resync this book
                self.liq_fail(client, live, exc)

    def liq_narrow_subscribe(self, message: Any, subscription: Any, symbols: set[str]) -> tuple[Any, Any]:
        # a product still subscribed would get a second snapshot
        if not isinstance(message, dict) or message.get("channel") != "level2":
            return message, subscription
        ids = {self.market(s)["id"] for s in symbols}
        return dict(message, product_ids=[p for p in message.get("product_ids", ()) if p in ids]), subscription

    def liq_unsubscribe_request(self, client: Any, live: LiveBook) -> dict | None:
        return {"type": "unsubscribe", "product_ids": [self.market(live.symbol)["id"]], "channel": "level2"}
