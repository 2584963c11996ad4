"""Bybit v5 through ccxt.pro, books in the compiled core, ``u`` continuity checked by liqcore.

Topic ``orderbook.{depth}.{symbol}`` (ccxt's default depth 50; 1, 50, 200, 1000): Bybit sends a
``snapshot`` after each subscribe (and again, with ``u == 1``, after a restart on its side) and
then ``delta`` messages whose ``u`` is contiguous (+1 per message). ccxt 4.5 reads neither
``u`` nor ``seq``: a lost message silently corrupts its book. Here every snapshot loads the
compiled book at its ``u`` (so a ``u == 1`` restart snapshot simply resets it) and every delta
is applied under the book's ``bybit`` rule in C (``u <= book id``: duplicate/older, skipped;
``u != book id + 1``: gap). A gap marks the book stale; the watch loop then unsubscribes and
resubscribes the topic on the same socket (:mod:`liqcore.feed.resubscribe`) and Bybit answers
with a fresh snapshot.

Per delta: orjson decode, one dict lookup for the symbol, one ``apply_levels`` of the wire
strings (all or nothing), nonce update, subscribers. Bybit keeps the depth window itself
(levels leaving it are sent with size 0), so the book needs no truncation.
"""

from __future__ import annotations

from typing import Any

import ccxt.pro

from liqcore.feed.engine import _MALFORMED, EngineMixin, ShellOrderBook, decode_frame
from liqcore.feed.live_book import LiveBook
from liqcore.feed.resubscribe import ResubscribeMixin

__all__ = ["BybitEngine", "bybit_frame_handler"]


def bybit_frame_handler(exchange: Any, client: Any, data: str) -> None:
    """Fast dispatch: ``orderbook.*`` frames to the engine, the rest (pongs, acks, other
    topics) to ccxt's ``handle_message``."""
    msg = decode_frame(exchange, client, data)
    if msg is _MALFORMED:
        return
    if type(msg) is dict:
        topic = msg.get("topic")
        if type(topic) is str and topic.startswith("orderbook."):
            exchange.liq_on_orderbook(client, msg)
            return
    exchange.handle_message(client, msg)


class BybitEngine(ResubscribeMixin, EngineMixin, ccxt.pro.bybit):
    """ccxt.pro ``bybit`` with books in the compiled core and Bybit's ``u`` checked."""

    default_frame_handler = staticmethod(bybit_frame_handler)

    def __init__(self, config: dict | None = None, **liq_options: Any) -> None:
        super().__init__(config, **liq_options)
        #: symbol -> the book topic its last snapshot came on
        self.liq_topics: dict[str, str] = {}

    def liq_sequence_rule(self, market: dict) -> str:
        return "bybit"

    def liq_message_hash(self, symbol: str) -> str:
        return "orderbook:" + symbol

    def handle_order_book(self, client: Any, message: dict) -> None:
        # ccxt's own dispatch (handle_message) lands here too
        self.liq_on_orderbook(client, message)

    def liq_on_orderbook(self, client: Any, msg: dict) -> None:
        """One ``orderbook.{depth}.{symbol}`` message (snapshot or delta). O(levels in it)."""
        data = msg.get("data") or {}
        # ccxt's rule: the url tells spot from contract markets sharing an id (BTCUSDT)
        symbol = self.liq_symbol(client, str(data.get("s")), "spot" if "spot" in client.url else "contract")
        if symbol not in (self.markets or {}):
            return
        live = self.liq_book(symbol)
        try:
            u = data["u"]
            shell: ShellOrderBook | None
            if msg.get("type") == "snapshot":
                topic = msg["topic"]
                self.liq_topics[symbol] = topic
                live.client_url = client.url
                live.load_snapshot(data.get("b") or (), data.get("a") or (), u)
                shell = self.liq_shell(symbol, live, int(topic.split(".")[1]))
            else:
                shell = self.liq_delta_shell(symbol, live)
                if shell is None:
                    return
                if not live.apply(data.get("b") or (), data.get("a") or (), u):
                    return                            # duplicate / older: nothing changed
            shell["nonce"] = u
            shell["timestamp"] = msg.get("ts")
            self.liq_publish(client, live, shell)
        except Exception as exc:      # gap, bad levels: resync this book
            self.liq_fail(client, live, exc)

    def liq_unsubscribe_request(self, client: Any, live: LiveBook) -> dict | None:
        topic = self.liq_topics.get(live.symbol)
        if topic is None:             # never synced: the topic ccxt subscribed
            sub = client.subscriptions.get(live.message_hash)
            market_id = self.market(live.symbol)["id"]
            topics = sub.get("topics", ()) if isinstance(sub, dict) else ()
            topic = next((t for t in topics if t.startswith("orderbook.") and t.endswith("." + market_id)), None)
        if topic is None:
            return None
        return {"op": "unsubscribe", "req_id": self.request_id(), "args": [topic]}
