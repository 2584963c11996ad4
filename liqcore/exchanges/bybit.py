"""Bybit v5 order books (spot and USDT perpetuals), sans I/O: topics, routing and the ``bybit`` rule.

Topic ``orderbook.{depth}.{symbol}``: Bybit sends a ``snapshot`` after each subscribe (and again,
with ``u == 1``, after a restart on its side) and then ``delta`` messages ``{"topic", "type",
"ts", "data": {"s", "b": [[px, sz]], "a", "u", "seq"}, "cts"}`` whose ``u`` is contiguous (+1 per
message). Every snapshot loads the book at its ``u`` (so a ``u == 1`` restart snapshot simply
resets it) and every delta is applied under the book's ``bybit`` rule in C (``u <= book id``: a
duplicate or older message, skipped; ``u != book id + 1``: a gap). Bybit sends no checksum. Bybit
keeps the depth window itself (levels leaving it are sent with size 0), so the book is not
truncated.

Spot and linear markets share ids (``BTCUSDT``) but arrive on different sockets
(``/v5/public/spot``, ``/v5/public/linear``): the messages do not say which, so the market type is
the driver's to tell from ``conn`` (the protocol passes None).
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from liqcore.errors import FormatError
from liqcore.exchanges.protocol import BookProtocol

__all__ = ["BybitProtocol", "CHANNELS", "book_topic"]

#: Bybit's book channels (``orderbook.{depth}``) and the levels each keeps (spot: 1, 50, 200,
#: 1000; contracts: 1, 50, 200, 500 and 1000)
CHANNELS: Mapping[str, int | None] = {f"orderbook.{d}": d for d in (1, 50, 200, 500, 1000)}


def book_topic(channel: str, market_id: str) -> str:
    """The topic of ``market_id``'s book on ``channel`` (``orderbook.50`` -> ``orderbook.50.BTCUSDT``),
    what a subscribe or unsubscribe request names."""
    return f"{channel}.{market_id}"


class BybitProtocol(BookProtocol):
    """Bybit's ``orderbook.{depth}`` topics (:data:`CHANNELS`); books keyed by the market id ``s``."""

    exchange: ClassVar[str] = "bybit"
    channels: ClassVar[Mapping[str, int | None]] = CHANNELS

    def on_message(self, conn: Any, msg: Any) -> bool:
        if type(msg) is not dict:
            return False
        topic = msg.get("topic")
        if type(topic) is not str:
            return False
        channel, _, topic_id = topic.rpartition(".")
        if channel not in self.channels:
            return False
        data = msg.get("data")
        market_id = data.get("s") if type(data) is dict else None
        live = self.driver.book(conn, str(market_id if market_id is not None else topic_id), None)
        if live is None:
            return True                                   # a market the driver does not keep
        u, ts = data.get("u") if type(data) is dict else None, msg.get("ts")
        if type(data) is not dict or type(u) is not int or (ts is not None and type(ts) is not int):
            self.refused(conn, live, FormatError(f"bybit {topic}: bad message {str(msg)[:80]!r}"))
            return True
        bids, asks = data.get("b") or (), data.get("a") or ()      # bad levels: the book refuses them
        if msg.get("type") == "snapshot":
            self.snapshot(conn, live, channel, bids, asks, update_id=u, sequence="bybit", timestamp_ms=ts)
        else:
            self.update(conn, live, bids, asks, last_id=u, timestamp_ms=ts)
        return True
