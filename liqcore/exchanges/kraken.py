"""Kraken spot order books, sans I/O: websocket v2 ``book`` (live) and v1 ``book-N`` (recordings).

Kraken sends no sequence numbers: its CRC32 checksum of the top 10 asks then bids (``.`` removed,
leading zeros stripped, over the exact decimal text) is the only consistency check, so a lost,
reordered or corrupted message shows as a mismatch. The book keeps the subscribed depth N
(Kraken's rule "truncate your book to the subscribed depth after each update": levels that fall
out of scope get no delete), so the books are created with ``max_depth`` N.

* **v2** ``{"channel": "book", "type": "snapshot"|"update", "data": [{"symbol": "BTC/USD",
  "bids": [{"price": 45285.2, "qty": 0.001}], "asks", "checksum": uint32, "timestamp"}]}``:
  prices and quantities are JSON numbers written with the pair's precision, whose trailing zeros
  the checksum hashes, so book frames are decoded with every number as its text
  (:func:`~liqcore.exchanges.wire.loads_exact`). The subscribed depth is not in the messages: the
  driver says it (:meth:`~liqcore.exchanges.protocol.BookDriver.depth`), default 10.
* **v1** ``[chan, {"as": [...], "bs": [...]}, "book-N", pair]`` snapshots and ``[chan, {"a":
  [...]}, ({"b": [...], "c": "crc"},) "book-N", pair]`` updates (:func:`parse_v1_book`): strings
  already; entries applied in order (republished ones, flagged ``"r"``, like any other).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

from liqcore.exchanges.protocol import BookProtocol, iso_ms
from liqcore.exchanges.wire import loads_exact

__all__ = ["KrakenProtocol", "KrakenV1Message", "parse_v1_book", "DEFAULT_DEPTH", "CHANNELS"]

#: Kraken's default book depth (a subscription without ``depth``)
DEFAULT_DEPTH = 10

#: the v2 book channel (its depth is the subscription's)
CHANNELS: Mapping[str, int | None] = {"book": DEFAULT_DEPTH}


def _levels(side: Any) -> list[tuple[Any, Any]]:
    return [(lv["price"], lv["qty"]) for lv in side or ()]


class KrakenProtocol(BookProtocol):
    """Kraken's books: websocket v2 ``book`` (books keyed by Kraken's symbol, ``BTC/USD``, ccxt's
    spelling) and v1 ``book-N`` (keyed by the v1 pair, ``XBT/USD``; the recordings)."""

    exchange: ClassVar[str] = "kraken"
    channels: ClassVar[Mapping[str, int | None]] = CHANNELS
    checksum_kind: ClassVar[str | None] = "kraken"

    def decode(self, data: str) -> Any:
        # book frames keep every number as its text (the checksum hashes it); the rest as usual
        if '"channel":"book"' in data[:64]:
            return loads_exact(data)
        return super().decode(data)

    def on_message(self, conn: Any, msg: Any) -> bool:
        if type(msg) is list:
            return self._on_v1(conn, msg)
        if type(msg) is not dict or msg.get("channel") != "book" or "type" not in msg:
            return False
        snapshot = msg["type"] == "snapshot"
        data = msg.get("data")
        for d in data if type(data) is list else ():
            live = self.driver.book(conn, str(d.get("symbol")), None) if type(d) is dict else None
            if live is None:
                continue
            try:
                bids, asks = _levels(d.get("bids")), _levels(d.get("asks"))
            except (KeyError, TypeError) as exc:
                self.refused(conn, live, exc)
                continue
            if snapshot:
                self.snapshot(conn, live, "book", bids, asks, checksum=d.get("checksum"),
                              depth=self.driver.depth(conn, live) or DEFAULT_DEPTH,
                              timestamp_ms=iso_ms(d.get("timestamp")))
            else:
                self.update(conn, live, bids, asks, checksum=d.get("checksum"), timestamp_ms=iso_ms(d.get("timestamp")))
        return True


    def _on_v1(self, conn: Any, msg: list[Any]) -> bool:
        """One v1 message: the whole message applied, the book truncated to N, then its checksum."""
        m = parse_v1_book(msg)
        if m is None:
            return False
        live = self.driver.book(conn, m.pair, None)
        if live is None:
            return True
        if m.snapshot:
            self.snapshot(conn, live, f"book-{m.depth}", m.bids, m.asks, depth=m.depth)
        else:
            self.update(conn, live, m.bids, m.asks, checksum=m.checksum)
        return True


@dataclass(frozen=True)
class KrakenV1Message:
    """One Kraken websocket v1 ``book-N`` message, its dicts merged.

    ``bids``/``asks`` are the entries as sent, in order (``[price, volume, timestamp]``, a 4th
    field ``"r"`` on republished ones); ``checksum`` is the unsigned CRC32 as its decimal string
    (updates only; None when absent); ``depth`` is the subscribed depth N.
    """

    pair: str
    depth: int
    snapshot: bool
    bids: list[Sequence[Any]]
    asks: list[Sequence[Any]]
    checksum: str | None = None


def parse_v1_book(msg: Any) -> KrakenV1Message | None:
    """The book message in a decoded Kraken v1 frame, or None for other frames (events,
    heartbeats, other channels, malformed ones). O(entries)."""
    if type(msg) is not list or len(msg) < 4:
        return None
    channel, pair = msg[-2], msg[-1]
    if type(channel) is not str or not channel.startswith("book-") or not channel[5:].isdigit():
        return None
    parts = msg[1:-2]
    if not all(type(p) is dict for p in parts):
        return None
    depth = int(channel[5:])
    if "as" in parts[0] or "bs" in parts[0]:
        return KrakenV1Message(str(pair), depth, True, list(parts[0].get("bs", ())), list(parts[0].get("as", ())))
    bids: list[Sequence[Any]] = []
    asks: list[Sequence[Any]] = []
    expected = None
    for p in parts:
        asks.extend(p.get("a", ()))
        bids.extend(p.get("b", ()))
        expected = p.get("c", expected)
    return KrakenV1Message(str(pair), depth, False, bids, asks, expected)
