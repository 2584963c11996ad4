"""One live book: the compiled :class:`~liqcore.OrderBook`, its sync state, counters and subscribers.

A :class:`LiveBook` is what every adapter writes into and what users read. It is sans-I/O:
no sockets, no tasks; the adapter calls :meth:`load_snapshot` / :meth:`apply` /
:meth:`mark_stale`, the watch loop waits on :meth:`wait_trouble`.

States
------
``"syncing"``  no trusted snapshot yet (deltas are buffered, see :attr:`buffer`)
``"live"``     snapshot applied and every later message passed the sequence/checksum checks
``"stale"``    a gap, checksum mismatch, disconnect or handler error happened; the levels are
               the last good ones but must not be trusted until the resync completes
``"failed"``   a fatal error (see :attr:`last_error`); the feed stopped watching this book

Ownership: the LiveBook owns its OrderBook. A book may be *replaced* (not mutated) when an
exchange sends more decimals than the book's scale holds (:meth:`apply` rebuilds it exactly
from its wire strings); always read ``live.book`` (or ``feed.book(...)``) for the current one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

from liqcore._book import OrderBook
from liqcore.errors import ChecksumError, InvalidDeltaError, SequenceGapError
from liqcore.feed.scales import MAX_SCALE, message_decimals, rebuilt

__all__ = ["BookStats", "LiveBook", "Callback"]

log = logging.getLogger("liqcore.feed")
_monotonic_ns = time.monotonic_ns


Callback = Callable[["LiveBook"], Any]


@dataclass(slots=True)
class BookStats:
    """Counters of one live book (counts of messages unless named otherwise).

    ``messages``: book messages received for this book (snapshots and deltas, buffered ones too);
    ``applied``: deltas that changed the book; ``stale_skipped``: deltas older than the book
    (duplicates, replays); ``buffered``: deltas held before a snapshot; ``snapshots``: snapshots
    loaded; ``resyncs``: times the book was marked stale and resynchronised; ``gaps``: sequence
    gaps; ``checksum_ok``/``checksum_failed``/``checksum_absent``: exchange checksums verified,
    mismatched, or not sent (OKX 0); ``handler_errors``: exceptions in the handler (bad levels,
    crossed snapshot, bugs) turned into resyncs; ``disconnects``: connection losses that made the
    book stale; ``watch_errors``: errors the watch loop retried; ``callback_errors``: exceptions
    raised by subscribers (logged, never propagated); ``rescaled``: books rebuilt at a larger
    decimal scale; ``heartbeats``: keep-alive messages of the book's channel (Bitfinex ``hb``:
    nothing to apply); ``last_recv_ns``: ``time.monotonic_ns()`` when the last applied frame
    arrived; ``last_latency_ns``: frame receive -> book applied for that frame, ns.

    Every message is counted once: :attr:`unaccounted` is 0 whatever path a message took.
    """

    messages: int = 0
    applied: int = 0
    stale_skipped: int = 0
    buffered: int = 0
    snapshots: int = 0
    resyncs: int = 0
    gaps: int = 0
    checksum_ok: int = 0
    checksum_failed: int = 0
    checksum_absent: int = 0
    handler_errors: int = 0
    disconnects: int = 0
    watch_errors: int = 0
    callback_errors: int = 0
    rescaled: int = 0
    heartbeats: int = 0
    last_recv_ns: int = 0
    last_latency_ns: int = 0

    @property
    def unaccounted(self) -> int:
        """Messages counted as received but as none of snapshot, applied, skipped, gap, handler
        error or heartbeat (0 unless a path miscounts)."""
        return self.messages - (self.snapshots + self.applied + self.stale_skipped + self.gaps + self.handler_errors
                                + self.heartbeats)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class LiveBook:
    """A compiled book kept equal to one exchange book, with its state and stats.

    Parameters
    ----------
    exchange, symbol : str
        ccxt exchange id and unified symbol.
    book : OrderBook
        The compiled book (its scales, sequence rule, max_depth and cross policy are set by
        the adapter that creates it).
    """

    __slots__ = ("exchange", "symbol", "book", "state", "stats", "last_error", "subscribers",
                 "_trouble", "_trouble_reason", "message_hash", "client_url", "channel")

    def __init__(self, exchange: str, symbol: str, book: OrderBook) -> None:
        self.exchange = exchange
        self.symbol = symbol
        self.book = book
        self.state = "syncing"
        self.stats = BookStats()
        self.last_error: BaseException | None = None
        self.subscribers: list[Callback] = []
        self._trouble: asyncio.Future[None] | None = None     # the watch loop's wait_trouble
        self._trouble_reason: str | None = None
        #: ccxt message hash of the book's subscription, and the url of its connection (set by adapters)
        self.message_hash: str | None = None
        self.client_url: str | None = None
        #: the venue's book channel its last snapshot came on (a protocol's channel name, set by the
        #: live driver: what an unsubscribe names)
        self.channel: str | None = None

    # ------------------------------------------------------------------ state
    @property
    def is_live(self) -> bool:
        """True when the book is synced and every message since passed its checks."""
        return self.state == "live"

    def begin_sync(self) -> None:
        """A (re)subscription started: the book is not trusted until the next snapshot."""
        if self.state == "live":
            self.state = "stale"
        elif self.state != "stale":
            self.state = "syncing"

    def mark_stale(self, reason: str, error: BaseException | None = None) -> None:
        """Stop trusting the book and wake the watch loop to resync (O(1)).

        ``reason``: ``"gap"``, ``"checksum"``, ``"error"``, ``"disconnect"``, ``"idle"``; counted in
        :attr:`stats` (``resyncs`` plus the matching counter)."""
        if self.state == "failed":
            return
        st = self.stats
        st.resyncs += 1
        if reason == "gap":
            st.gaps += 1
        elif reason == "checksum":
            st.checksum_failed += 1
        elif reason == "error":
            st.handler_errors += 1
        elif reason == "disconnect":
            st.disconnects += 1
        if error is not None:
            self.last_error = error
        log.info("%s %s stale (%s): %s", self.exchange, self.symbol, reason, error)
        self.state = "stale"
        self._wake(reason)

    def mark_stale_by(self, error: BaseException) -> str:
        """Mark the book stale because a message raised ``error``; the reason (``"gap"`` for a
        SequenceGapError, ``"checksum"`` for a ChecksumError, else ``"error"``) is counted and
        returned. The one classification live feeds and replays share. O(1)."""
        if isinstance(error, SequenceGapError):
            reason = "gap"
        elif isinstance(error, ChecksumError):
            reason = "checksum"
        else:
            reason = "error"
        self.mark_stale(reason, error)
        return reason

    def mark_failed(self, error: BaseException) -> None:
        """A fatal error: the book is not watched any more."""
        self.last_error = error
        self.state = "failed"
        self._wake("failed")

    def _wake(self, reason: str) -> None:
        self._trouble_reason = reason
        if self._trouble is not None:
            _release(self._trouble)

    def wait_trouble_reset(self) -> None:
        """Forget a pending trouble signal (a (re)subscription starts from here)."""
        self._trouble_reason = None

    async def wait_trouble(self, timeout: float | None) -> str:
        """Wait until the book turns stale (returns the reason) or ``timeout`` seconds pass
        without any message for it (returns ``"idle"``); used by the feed's watch loop.

        A future and a timer, not ``asyncio.wait_for``: before Python 3.12 that returns the
        result, swallowing a cancellation, when the event fires in the same loop iteration as the
        cancel (a connection closed as the feed closes), and the feed's close would wait forever."""
        loop = asyncio.get_running_loop()
        while True:
            if self._trouble_reason is not None:
                reason, self._trouble_reason = self._trouble_reason, None
                return reason
            seen = self.stats.messages
            waiter = self._trouble = loop.create_future()
            timer = None if timeout is None else loop.call_later(timeout, _release, waiter)
            try:
                await waiter
            finally:
                self._trouble = None
                if timer is not None:
                    timer.cancel()
            if self._trouble_reason is None and self.stats.messages == seen:
                return "idle"

    # ------------------------------------------------------------------ writes
    def load_snapshot(self, bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]],
                      update_id: int | None = None, *, mirrored: bool = False,
                      exact: Callable[[Sequence[Sequence[Any]]], Sequence[Sequence[Any]]] | None = None) -> None:
        """Replace the book with a snapshot; the book becomes live. All or nothing (a bad
        snapshot raises a liqcore error and leaves the book and state as they were).

        ``mirrored``: the levels are a copy of another library's book (ccxt's), counted as an
        applied update rather than a venue snapshot. ``exact``: turns levels the book refuses
        (floats off its grid) into exact decimal text, tried once before giving up. One message
        is counted either way."""
        self.stats.messages += 1
        try:
            self._replace(bids, asks, update_id)
        except InvalidDeltaError:
            if exact is None:
                raise
            self._replace(exact(bids), exact(asks), update_id)
        if mirrored:
            self.stats.applied += 1
        else:
            self.stats.snapshots += 1
        self.state = "live"

    def _replace(self, bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]], update_id: int | None) -> None:
        # the book's snapshot, widened once if the levels carry more decimals than it holds
        try:
            self.book.apply_snapshot(bids, asks, update_id=update_id)
        except InvalidDeltaError:
            if not self._widen(bids, asks):
                raise
            self.book.apply_snapshot(bids, asks, update_id=update_id)

    def apply(self, bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]], last_id: int | None = None,
              first_id: int | None = None, prev_id: int | None = None) -> bool:
        """Apply one delta message under the book's sequence rule (counted in ``messages``); True
        if it changed the book, False if it was older than the book (counted in
        ``stale_skipped``). Raises SequenceGapError on a gap and the book's errors on bad levels
        (book unchanged)."""
        self.stats.messages += 1
        try:
            applied = self.book.apply_levels(bids, asks, last_id=last_id, first_id=first_id, prev_id=prev_id)
        except InvalidDeltaError:
            if not self._widen(bids, asks):
                raise
            applied = self.book.apply_levels(bids, asks, last_id=last_id, first_id=first_id, prev_id=prev_id)
        if applied:
            self.stats.applied += 1
        else:
            self.stats.stale_skipped += 1
        return applied

    def skip(self) -> None:
        """Count one delta message not applied because the book is not live (before its
        snapshot, or in flight after it turned stale) as received and skipped. O(1)."""
        st = self.stats
        st.messages += 1
        st.stale_skipped += 1

    def heartbeat(self) -> None:
        """Count one keep-alive message of the book's channel (received; nothing to apply). O(1)."""
        self.stats.messages += 1
        self.stats.heartbeats += 1

    def counted(self, applied: bool | None, checksum_ok: bool | None = None) -> None:
        """Count one delta message a native frame parser handled: ``applied`` True (changed the
        book), False (older than the book) or None (refused: the driver's resync counts why); and
        for an applied one, its checksum: ``checksum_ok`` True (verified), False (the message
        carried none) or None (not counted here: a mismatch, counted by the resync). O(1)."""
        st = self.stats
        st.messages += 1
        if applied:
            st.applied += 1
            if checksum_ok is True:
                st.checksum_ok += 1
            elif checksum_ok is False:
                st.checksum_absent += 1
        elif applied is not None:
            st.stale_skipped += 1

    def check(self, kind: str, expected: Any) -> bool:
        """Verify the venue's checksum ``expected`` (None: the message carried none) of ``kind``
        (:meth:`OrderBook.verify_checksum`) and count it: ok (True) or absent (False); a mismatch, or
        an ``expected`` that is no checksum, raises ChecksumError (counted by :meth:`mark_stale` when
        the driver resyncs). O(checksummed levels)."""
        st = self.stats
        try:
            verified = expected is not None and self.book.verify_checksum(kind, expected)
        except InvalidDeltaError as exc:
            # not a checksum at all (a hostile or corrupted field): the message, already applied, cannot
            # be verified, so it fails as a mismatch would (counted once, as a checksum failure)
            raise ChecksumError(f"{self.exchange} {self.symbol}: {kind} checksum {str(expected)[:40]!r} is not "
                                f"a checksum: {exc}") from exc
        if verified:
            st.checksum_ok += 1
            return True
        st.checksum_absent += 1
        return False

    def _widen(self, bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]]) -> bool:
        """Rebuild the book at the message's larger decimal scales (exact: from the book's own
        wire strings). False when the message carries no more decimals than the book holds
        (then the InvalidDeltaError was about something else: off-grid, negative, NaN)."""
        return self.widen_to(*message_decimals(bids, asks))

    def widen_to(self, pd: int, qd: int) -> bool:
        """Rebuild the book with at least ``pd`` price and ``qd`` size decimals (exact: from its own
        wire strings; ids, rule, depth and cross policy kept). False when it already has them."""
        book = self.book
        pd, qd = min(pd, MAX_SCALE), min(qd, MAX_SCALE)
        if pd <= book.price_decimals and qd <= book.size_decimals:
            return False
        self.book = rebuilt(book, max(pd, book.price_decimals), max(qd, book.size_decimals), book.max_depth,
                            keep_levels=True)
        self.stats.rescaled += 1
        return True

    def resize(self, max_depth: int | None) -> None:
        """Rebuild the book empty with ``max_depth`` levels per side (the depth a venue's channel
        was subscribed with: Kraken, Bitfinex), before the snapshot that refills it; scales,
        sequence rule, cross policy and labels kept. O(1) when the depth is already that."""
        b = self.book
        if b.max_depth == max_depth:
            return
        self.book = rebuilt(b, b.price_decimals, b.size_decimals, max_depth, keep_levels=False)

    # ---------------------------------------------------------------- readers
    def publish(self, recv_ns: int) -> None:
        """Record the latency of the frame received at ``recv_ns`` (monotonic ns) and call every
        subscriber with this LiveBook. A subscriber's exception is logged and counted, never
        propagated: it must not stop the feed."""
        st = self.stats
        st.last_recv_ns = recv_ns
        st.last_latency_ns = _monotonic_ns() - recv_ns
        for cb in self.subscribers:
            try:
                cb(self)
            except Exception:
                st.callback_errors += 1
                log.exception("subscriber of %s %s raised", self.exchange, self.symbol)

    def __repr__(self) -> str:
        bbo = self.book.bbo
        return (f"LiveBook({self.exchange} {self.symbol} {self.state} id={self.book.last_update_id} "
                f"bid={bbo[0]} ask={bbo[2]} applied={self.stats.applied} resyncs={self.stats.resyncs})")


def _release(waiter: "asyncio.Future[None]") -> None:
    """Wake wait_trouble's waiter (a trouble or its timer: it tells them apart by the reason)."""
    if not waiter.done():
        waiter.set_result(None)
