"""Compatibility: :class:`BinanceDepthSync`, one book driven by Binance's protocol with exceptions.

The procedure lives in :mod:`liqcore.exchanges.binance` (:class:`~liqcore.exchanges.binance.BinanceProtocol`,
which the live feeds and the replays drive). This class keeps the earlier call-and-raise API over
it for one book fed decoded events: a gap raises :class:`~liqcore.errors.SequenceGapError` (the
book untouched; :meth:`BinanceDepthSync.reset` and a fresh snapshot resync it).
"""

from __future__ import annotations

from typing import Any, Mapping

from liqcore._book import OrderBook
from liqcore.errors import SnapshotTooOld
from liqcore.exchanges.binance import BinanceProtocol, BinanceUsdmProtocol
from liqcore.feed.live_book import LiveBook

__all__ = ["BinanceDepthSync", "SnapshotTooOld"]


class _OneBook:
    """The protocol's driver for one book: every market is it; a failure is kept to be raised."""

    __slots__ = ("live", "error", "applied")

    def __init__(self, live: LiveBook) -> None:
        self.live = live
        self.error: BaseException | None = None
        self.applied = False

    def book(self, conn: Any, market_id: str, market_type: str | None) -> LiveBook:
        return self.live

    def depth(self, conn: Any, live: LiveBook) -> int | None:
        return None

    def synced(self, conn: Any, live: LiveBook, channel: str, timestamp_ms: int | None) -> None:
        pass

    def changed(self, conn: Any, live: LiveBook, nonce: int | None, timestamp_ms: int | None) -> None:
        self.applied = True

    def failed(self, conn: Any, live: LiveBook, exc: BaseException) -> None:
        self.error = exc

    def other(self, conn: Any, msg: Any) -> None:
        pass

    def malformed(self, conn: Any, data: str, exc: BaseException) -> None:
        self.error = exc


class BinanceDepthSync:
    """Drive one :class:`OrderBook` from Binance depth events and REST snapshots (decoded).

    Parameters
    ----------
    book : OrderBook
        The book to maintain (never rebuilt); its ``sequence`` rule is set here.
    futures : bool
        USDⓈ-M/COIN-M rules (``pu`` continuity) instead of spot.
    """

    def __init__(self, book: OrderBook, *, futures: bool = False) -> None:
        book.sequence = "binance_futures" if futures else "binance_spot"
        self.book = book
        self._live = LiveBook("binance", "", book)
        self._driver = _OneBook(self._live)
        self._protocol = (BinanceUsdmProtocol if futures else BinanceProtocol)(self._driver, fast_path=False)
        self._protocol.widen = False
        self._protocol.begin(None, self._live)

    @property
    def synced(self) -> bool:
        """True once a snapshot was applied (until :meth:`reset` or a gap)."""
        return self._protocol.is_synced(self._live)

    @property
    def buffered(self) -> int:
        """Events held for the next snapshot."""
        return self._protocol.waiting(self._live)

    def on_depth(self, event: Mapping[str, Any]) -> bool:
        """Feed one ``depthUpdate`` payload (``U``, ``u``, optional ``pu``, ``b``, ``a``).

        Returns True when it changed the book, False when buffered (not synced yet) or skipped
        as older than the book. Raises SequenceGapError on a gap and the book's errors on bad
        levels (the book unchanged)."""
        self._driver.applied = False
        ev = dict(event, e="depthUpdate")
        ev.setdefault("s", "*")                      # any market id: the one book
        self._protocol.on_message(None, ev)
        self._raise()
        return self._driver.applied

    def on_snapshot(self, snapshot: Mapping[str, Any]) -> int:
        """Apply a REST depth snapshot (``lastUpdateId``, ``bids``, ``asks``), then the buffer;
        returns the buffered events applied. Raises SnapshotTooOld (``lastUpdateId`` below the
        first buffered ``U``; nothing applied), SequenceGapError if the buffer does not continue
        the snapshot."""
        n = self._protocol.on_snapshot(None, self._live, snapshot)
        self._raise()
        return n

    def reset(self) -> None:
        """Forget the book and the buffer (after a gap): buffer again until the next snapshot."""
        self.book.clear()
        self._driver.error = None
        self._protocol.begin(None, self._live)

    def _raise(self) -> None:
        exc, self._driver.error = self._driver.error, None
        if exc is not None:
            raise exc
