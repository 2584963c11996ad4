"""Coinbase Advanced Trade ``level2`` order books, sans I/O: routing and the ``sequence_num`` rule.

Messages (channel ``l2_data``): ``{"channel": "l2_data", "timestamp", "sequence_num", "events":
[{"type": "snapshot"|"update", "product_id", "updates": [{"side": "bid"|"offer", "price_level",
"new_quantity"}]}]}``: a snapshot event after each subscribe, then update events with absolute
quantities (``"0"`` removes), levels as wire strings. Coinbase sends no checksum.

Coinbase numbers **every message of a connection** with ``sequence_num`` (all channels and
products, subscription acks and heartbeats too), so a book's own messages are not contiguous when
a connection carries more than one stream. The protocol checks it in two places, with state kept
per connection (``conn``, dropped by :meth:`CoinbaseProtocol.connection_lost`):

* per connection: a message whose ``sequence_num`` is not above the last one seen on the
  connection is a duplicate or arrived late, and is skipped (counted ``stale_skipped`` in the books
  of its events); every other sequenced message is counted;
* per book, in C under the ``coinbase`` (contiguous) rule: an update with ``sequence_num`` s is
  applied with ``first_id = s - k``, where ``k`` is the number of messages the connection received
  between this book's previous message and this one. The rule accepts it only if ``s - k - 1``
  equals the book's id (the previous message's ``sequence_num``), i.e. only if no message of the
  connection was lost up to this one; otherwise it is a gap (every book of the connection whose
  next message comes after the lost one sees it: nobody can tell whose it was).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from liqcore.errors import FormatError
from liqcore.exchanges.protocol import BookProtocol, iso_ms

__all__ = ["CoinbaseProtocol", "CHANNELS"]

#: the book channel (subscribed as ``level2``; its messages say ``l2_data``) and its depth (the whole book)
CHANNELS: Mapping[str, int | None] = {"level2": None}


@dataclass
class _Connection:
    """What the protocol knows of one connection's numbering."""

    #: the last ``sequence_num`` seen (None: none yet)
    last: int | None = None
    #: sequenced messages seen
    count: int = 0
    #: product id -> :attr:`count` at its book's last snapshot or applied update
    marks: dict[str, int] = field(default_factory=dict)


def _levels(updates: Any) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]]:
    """An event's ``updates`` as (bids, asks) of (price, size) wire strings; FormatError for a row
    that is not one. O(rows)."""
    if updates is not None and type(updates) is not list:
        raise FormatError(f"coinbase: level2 updates not a list: {str(updates)[:80]!r}")
    bids: list[tuple[Any, Any]] = []
    asks: list[tuple[Any, Any]] = []
    for u in updates or ():
        side = u.get("side") if type(u) is dict else None
        if side == "bid":
            bids.append((u["price_level"], u["new_quantity"]))
        elif side in ("offer", "ask"):
            asks.append((u["price_level"], u["new_quantity"]))
        else:
            raise FormatError(f"coinbase: bad level2 row {str(u)[:80]!r}")
    return bids, asks


class CoinbaseProtocol(BookProtocol):
    """Coinbase's ``level2`` channel; books keyed by ``product_id`` (``BTC-USD``)."""

    exchange: ClassVar[str] = "coinbase"
    channels: ClassVar[Mapping[str, int | None]] = CHANNELS
    #: each connection's ``sequence_num`` numbering
    connection_class = _Connection

    def on_message(self, conn: Any, msg: Any) -> bool:
        if type(msg) is not dict:
            return False
        state = self.connection(conn)
        seq = msg.get("sequence_num")
        book_msg = msg.get("channel") == "l2_data"
        if type(seq) is int:
            if seq == 0 and state.last is not None:
                # numbering starts at 0 on every connection: this is a new connection's first
                # message under the old one's key (a recording replayed across a reconnect labels
                # both with the one URL), so the old numbering goes with the old connection
                self.connection_lost(conn)
                state = self.connection(conn)
            if state.last is not None and seq <= state.last:     # duplicate / late: already past it
                if book_msg:
                    for _, live, _ in self._events(conn, msg):
                        live.skip()
                return True
            state.last = seq
            state.count += 1
        if not book_msg:
            return False
        ts = iso_ms(msg.get("timestamp"))
        for pid, live, ev in self._events(conn, msg):
            try:
                if type(seq) is not int:
                    raise FormatError(f"coinbase {pid}: l2_data without sequence_num")
                bids, asks = _levels(ev.get("updates"))
            except (FormatError, KeyError) as exc:
                self.refused(conn, live, exc)
                continue
            if ev.get("type") == "snapshot":
                ok = self.snapshot(conn, live, "level2", bids, asks, update_id=seq, sequence="coinbase",
                                   timestamp_ms=ts)
            else:
                between = state.count - 1 - state.marks.get(pid, state.count - 1)
                ok = self.update(conn, live, bids, asks, last_id=seq, first_id=seq - between, timestamp_ms=ts)
            if ok:
                state.marks[pid] = state.count
        return True

    def _events(self, conn: Any, msg: dict) -> list[tuple[str, Any, dict]]:
        """The events of an ``l2_data`` message with their product id and book (events of markets
        the driver does not keep, or without a product, left out)."""
        out = []
        events = msg.get("events")
        for ev in events if type(events) is list else ():
            pid = ev.get("product_id") if type(ev) is dict else None
            if type(pid) is str:
                live = self.driver.book(conn, pid, None)
                if live is not None:
                    out.append((pid, live, ev))
        return out
