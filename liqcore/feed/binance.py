"""Binance's "How to manage a local order book correctly", sans I/O.

The sequence checks themselves run in C (the book's ``binance_spot`` /
``binance_futures`` rule, see ``src/book.c``); this class owns the procedure around
them: buffer depth events until a REST snapshot arrives, refuse a snapshot older than
the first buffered event, apply the snapshot, replay the buffer (older events are
skipped by the rule), then apply live events. A gap raises
:class:`~liqcore.errors.SequenceGapError` with the book untouched; the caller resyncs
with :meth:`BinanceDepthSync.reset` and a fresh snapshot.
"""

from __future__ import annotations

from typing import Any, Mapping

from liqcore._book import OrderBook
from liqcore.errors import SnapshotTooOld

__all__ = ["BinanceDepthSync", "SnapshotTooOld"]


class BinanceDepthSync:
    """Drive one :class:`OrderBook` from Binance depth events and REST snapshots.

    Parameters
    ----------
    book : OrderBook
        The book to maintain; its ``sequence`` rule is set here.
    futures : bool
        USDⓈ-M/COIN-M rules (``pu`` continuity, first event ``U <= L <= u`` or ``pu == L``) instead of spot.
    """

    def __init__(self, book: OrderBook, *, futures: bool = False) -> None:
        self.book = book
        book.sequence = "binance_futures" if futures else "binance_spot"
        self.buffer: list[Mapping[str, Any]] = []
        self.synced = False

    def on_depth(self, event: Mapping[str, Any]) -> bool:
        """Feed one ``depthUpdate`` payload (``U``, ``u``, optional ``pu``, ``b``, ``a``).

        Returns True when it changed the book, False when buffered (not synced yet) or
        skipped as older than the book. Raises SequenceGapError on a gap.
        """
        if not self.synced:
            self.buffer.append(event)
            return False
        return self._apply(event)

    def on_snapshot(self, snapshot: Mapping[str, Any]) -> int:
        """Apply a REST depth snapshot (``lastUpdateId``, ``bids``, ``asks``), then the buffer.

        Returns the number of buffered events applied (the others were older than the
        snapshot and dropped). Raises SnapshotTooOld if ``lastUpdateId`` is strictly less
        than the first buffered event's ``U``; SequenceGapError if the buffer does not
        continue the snapshot.
        """
        last_id = int(snapshot["lastUpdateId"])
        if self.buffer and last_id < int(self.buffer[0]["U"]):
            raise SnapshotTooOld(f"snapshot {last_id} older than first buffered event U={self.buffer[0]['U']}")
        self.book.apply_snapshot(snapshot["bids"], snapshot["asks"], update_id=last_id)
        self.synced = True
        buffered, self.buffer = self.buffer, []
        return sum(self._apply(ev) for ev in buffered)

    def reset(self) -> None:
        """Forget the book and the buffer (after a gap): buffer again until the next snapshot."""
        self.book.clear()
        self.buffer.clear()
        self.synced = False

    def _apply(self, ev: Mapping[str, Any]) -> bool:
        return self.book.apply_levels(ev["b"], ev["a"], last_id=int(ev["u"]), first_id=int(ev["U"]),
                                      prev_id=None if ev.get("pu") is None else int(ev["pu"]))
