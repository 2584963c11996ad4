"""Binance spot and futures order books, sans I/O: "How to manage a local order book correctly".

Messages: ``depthUpdate`` events ``{"e":"depthUpdate","E":ms,"s":"BTCUSDT","U":first,"u":last,
["pu":prev,"T":ms,] "b":[[px, qty], ...],"a":[...]}``, raw or as ``"data"`` of a combined
stream ``{"stream", "data"}``, and the REST depth snapshot ``{"lastUpdateId", "bids", "asks"}``
the driver fetches (the venue sends no snapshot on the socket). The procedure, once for every
driver and both configurations:

1. a subscription starts (:meth:`BinanceProtocol.begin`, or the first event of a market the
   driver keeps): its events are buffered (validated; at most :attr:`~BinanceProtocol.buffer_limit`
   per book, the oldest dropped and counted in :attr:`~BinanceProtocol.buffer_dropped` and in
   the book's ``stale_skipped``); an event counts as a message of its book when it leaves the
   buffer (applied, skipped, dropped), so ``BookStats.unaccounted`` is 0 on every path;
2. the driver fetches the REST snapshot and hands it over (:meth:`BinanceProtocol.on_snapshot`):
   one older than the first buffered event (``lastUpdateId < U``) raises
   :class:`~liqcore.errors.SnapshotTooOld` and changes nothing (fetch again);
3. the snapshot is loaded (the book widened first, exactly, when the snapshot or the buffer
   carries more decimals than its scales), then the buffer replayed: events with
   ``u <= lastUpdateId`` are skipped, the first applied must straddle ``lastUpdateId + 1``
   (spot ``U <= id + 1 <= u``; futures ``U <= id <= u`` or ``pu == id``), every later one continue
   the book (spot ``U == last + 1``; futures ``pu == last``) — the book's ``binance_spot`` /
   ``binance_futures`` sequence rule, in C;
4. live events are applied under the same rule; a gap or a refused event is reported to
   :meth:`BookDriver.failed`, and the book's events are skipped until the next :meth:`begin`.

Native frame path (``fast_path``, the default): a frame's text goes to
:func:`liqcore._frames.route_binance_depth`, which reads the market id, the ids and the event time
and applies the levels to the market's book in one parse (the protocol's routing table, per
connection, is what the C parser looks the market up in; a buffering book's frames are only
scanned and kept as received). The decoded configuration (``fast_path=False``, or a message handed
to :meth:`on_message`) applies the orjson-decoded lists with :meth:`OrderBook.apply_levels`: the
same rule, the same books. Frames the C parser refuses as malformed take the decoded path.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar, Mapping

from liqcore._frames import FrameRoute, apply_binance_depth, load_binance_snapshot, route_binance_depth, \
    scan_binance_depth, scan_binance_snapshot
from liqcore.errors import FormatError, InvalidDeltaError, LiqError, SnapshotTooOld
from liqcore.exchanges.protocol import NO_ROUTES, BookProtocol
from liqcore.feed.live_book import LiveBook
from liqcore.feed.scales import message_decimals

__all__ = ["BinanceProtocol", "BinanceUsdmProtocol", "BinanceCoinmProtocol", "CHANNEL", "subscribed_depth"]

#: the protocol's one book channel (what :meth:`BookDriver.synced` is told)
CHANNEL = "depth"

#: a buffered event: (the frame as received or the decoded event, its first id ``U``)
_Buffered = tuple[Any, int]


class _Sync:
    """One book's procedure state (owned by the protocol). ``state``: ``"buffering"`` (waiting
    for the snapshot), ``"live"`` (events applied: ``route.book`` is the book) or ``"failed"``
    (events skipped until the next begin)."""

    __slots__ = ("live", "route", "buffer", "state", "price_decimals", "size_decimals", "keys")

    def __init__(self, live: LiveBook) -> None:
        self.live = live
        self.route = FrameRoute(None, self)
        self.buffer: deque[_Buffered] = deque()
        self.state = "buffering"
        #: most decimals among the buffered events (the scales the book needs at the snapshot)
        self.price_decimals = 0
        self.size_decimals = 0
        #: (connection, market id) routing-table entries that lead here
        self.keys: list[tuple[Any, str]] = []


def subscribed_depth(msg: Any) -> list[str]:
    """The market ids (``BTCUSDT``) whose depth streams a client's decoded ``SUBSCRIBE`` names
    (``{"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms", ...]}``): where a recording says
    a book's subscription started. [] for any other message. O(streams named)."""
    if type(msg) is not dict or msg.get("method") != "SUBSCRIBE" or type(msg.get("params")) is not list:
        return []
    return [s.partition("@")[0].upper() for s in msg["params"] if type(s) is str and "@depth" in s]


def _int(v: Any) -> int:
    """An id or a time sent as a JSON integer (a bool or a float is refused, not truncated)."""
    if type(v) is int:
        return v
    raise FormatError(f"not an integer: {v!r}")


def _event_ids(ev: Mapping[str, Any]) -> tuple[int, int, int | None, int | None]:
    """``U``, ``u``, ``pu`` and ``E`` of a decoded event; FormatError when one is missing or
    not an integer, or the levels are not lists."""
    if type(ev.get("b")) is not list or type(ev.get("a")) is not list:
        raise FormatError(f"binance: depthUpdate without level lists: {str(ev)[:80]!r}")
    pu, e = ev.get("pu"), ev.get("E")
    return _int(ev.get("U")), _int(ev.get("u")), None if pu is None else _int(pu), None if e is None else _int(e)


class BinanceProtocol(BookProtocol):
    """Binance spot's ``depthUpdate`` streams and REST snapshots; books keyed by market id per
    connection (the same id names a spot and a futures market on different sockets).

    Besides :class:`BookProtocol`'s entry points, the driver calls :meth:`begin` when a book's
    subscription starts and :meth:`on_snapshot` with the REST body it fetched.
    """

    exchange: ClassVar[str] = "binance"
    channels: ClassVar[Mapping[str, int | None]] = {CHANNEL: None}
    checksum_kind: ClassVar[str | None] = None
    #: the book's sequence rule when the driver made it without one
    sequence_rule: ClassVar[str] = "binance_spot"

    def __init__(self, driver: Any, *, fast_path: bool = True) -> None:
        super().__init__(driver, fast_path=fast_path)
        #: events held per book before its snapshot (the oldest are dropped beyond it)
        self.buffer_limit = 10_000
        #: buffered events dropped because a buffer was full (also counted as skipped)
        self.buffer_dropped = 0
        #: rebuild a book whose scales are too small for a message's decimals (exactly, from its
        #: wire strings); False: the book refuses the message (a caller's book, kept as given)
        self.widen = True
        #: hand frames that are not book messages (acks, trades, tickers) to :meth:`BookDriver.other`,
        #: decoded (True: ccxt needs its acks); False: the native path drops them once the C parser
        #: classified them (valid JSON of another kind), for a driver that keeps books only
        self.decode_other = True
        self._syncs: dict[LiveBook, _Sync] = {}

    # ------------------------------------------------------------ subscriptions
    def begin(self, conn: Any, live: LiveBook, market_id: str | None = None) -> None:
        """A subscription of ``live`` (the venue's ``market_id`` on ``conn``; None: learnt from its
        first event) starts: its events are buffered from here until :meth:`on_snapshot`; a
        previous buffer is forgotten. The book keeps its levels (stale) until the snapshot. O(1)."""
        old = self._syncs.get(live)
        if old is not None:
            self._stop(old)                              # its buffer, if any, is skipped
            for conn_, market_id_ in old.keys:
                self.routes.remove(conn_, market_id_, old.route)
        if live.book.sequence is None:
            live.book.sequence = self.sequence_rule
        live.begin_sync()
        sync = self._syncs[live] = _Sync(live)
        if market_id is not None:
            self._route(conn, market_id, sync)

    def waiting(self, live: LiveBook) -> int:
        """Events of ``live`` buffered for a snapshot that has not come (yet). O(1)."""
        sync = self._syncs.get(live)
        return len(sync.buffer) if sync is not None and sync.state == "buffering" else 0

    def is_synced(self, live: LiveBook) -> bool:
        """True when ``live``'s current subscription loaded its snapshot and has not failed since."""
        sync = self._syncs.get(live)
        return sync is not None and sync.state == "live"

    def resume(self, live: LiveBook) -> None:
        """Go on applying ``live``'s events after a failure that left the book unchanged (a
        refused event), instead of waiting for a new subscription: a replay's choice (the next
        event's ids tell whether the refused one mattered). O(1)."""
        sync = self._syncs.get(live)
        if sync is not None and sync.state == "failed" and live.book.last_update_id is not None:
            sync.state = "live"
            sync.route.book = live.book
            live.state = "live"

    def _route(self, conn: Any, market_id: str, sync: _Sync) -> None:
        self.routes.put(conn, market_id, sync.route)     # the C parser looks a frame's "s" up here
        sync.keys.append((conn, market_id))

    def _sync_of(self, conn: Any, market_id: Any) -> _Sync | None:
        """The sync of a market seen on ``conn`` that has no route yet: the book's current one, or
        a new one (its subscription starts at this event); None when the driver keeps no book
        for it."""
        if type(market_id) is not str or not market_id:
            return None
        route = self.routes.route(conn, market_id)
        if route is not None:
            return route.target
        live = self.driver.book(conn, market_id, None)
        if live is None:
            return None
        sync = self._syncs.get(live)
        if sync is None:
            self.begin(conn, live, market_id)
            return self._syncs[live]
        self._route(conn, market_id, sync)
        return sync

    # ------------------------------------------------------------------ frames
    def on_frame(self, conn: Any, data: str) -> None:
        if not self.fast_path:
            super().on_frame(conn, data)
            return
        table = self.routes.get(conn, NO_ROUTES)
        res = route_binance_depth(table, data)
        route = res.route
        if route is not None:
            if res.applied:                              # the common case: routed and applied in C
                live = route.target.live
                if live.state == "live":
                    self.fast_frames += 1
                    live.counted(True)
                    self.driver.changed(conn, live, res.last_id, res.event_ms)
                    return
            elif route.book is not None and res.error is None:
                live = route.target.live
                if live.state == "live":                 # older than the book
                    self.fast_frames += 1
                    live.counted(False)
                    return
        self._other_frame(conn, data, table, res)

    def _other_frame(self, conn: Any, data: str, table: dict[str, FrameRoute], res: Any) -> None:
        """A frame :meth:`on_frame` did not apply outright: another kind, malformed, of a market
        without a route yet, buffered, refused, or for a book marked stale from outside."""
        err = res.error
        if res.kind != "depth" or type(err) is FormatError:
            if err is None and not self.decode_other:
                return                                   # valid JSON of another kind: not wanted
            super().on_frame(conn, data)                 # acks, trades, tickers; what orjson makes of the rest
            return
        route = res.route
        if route is None:                                # a market without a route on this connection yet
            sync = self._sync_of(conn, res.symbol)
            if sync is None:
                return                                   # not a market the driver keeps
            if sync.state == "live":                     # routed now: parse it with its book
                table = self.routes.get(conn, NO_ROUTES)
                res = route_binance_depth(table, data)
                err, route = res.error, res.route
        else:
            sync = route.target
        live = sync.live
        if sync.state == "buffering":
            if err is None:
                self.fast_frames += 1                    # validated in C, kept as received
                self._buffer(sync, data, res.first_id or 0, res.price_decimals, res.size_decimals)
            else:                                        # a value no book can take
                self._refuse(conn, sync, err)
            return
        if sync.state != "live" or route is None:
            live.skip()                                  # failed: in flight until the next begin
            return
        if err is not None and type(err) is InvalidDeltaError and self._widen(live, sync, data):
            res = route_binance_depth(table, data)       # rebuilt with more decimals: once more
            err = res.error
        if err is not None:
            self._refuse(conn, sync, err)
            return
        self.fast_frames += 1
        if live.state != "live":                         # marked stale from outside (idle, disconnect)
            self._stop(sync)
            live.skip()
            return
        applied = res.applied
        live.counted(applied)
        if applied:
            self.driver.changed(conn, live, res.last_id, res.event_ms)

    def on_message(self, conn: Any, msg: Any) -> bool:
        if type(msg) is not dict:
            return False
        ev = msg.get("data", msg)
        if type(ev) is not dict or ev.get("e") != "depthUpdate":
            return False
        sync = self._sync_of(conn, ev.get("s"))
        if sync is None:
            return True                                  # a market the driver does not keep
        live = sync.live
        try:
            first, last, prev, event_ms = _event_ids(ev)
        except FormatError as exc:
            self._refuse(conn, sync, exc)
            return True
        if sync.state == "buffering":
            self._buffer(sync, ev, first, *message_decimals(ev["b"], ev["a"]))
            return True
        if sync.state != "live" or live.state != "live":
            self._stop(sync)
            live.skip()
            return True
        try:
            try:
                applied = live.book.apply_levels(ev["b"], ev["a"], last_id=last, first_id=first, prev_id=prev)
            except InvalidDeltaError:
                if not self._widen(live, sync, ev):
                    raise
                applied = live.book.apply_levels(ev["b"], ev["a"], last_id=last, first_id=first, prev_id=prev)
        except Exception as exc:                         # gap, crossed, bad levels: the book is unchanged
            self._refuse(conn, sync, exc)
            return True
        live.counted(applied)
        if applied:
            self.driver.changed(conn, live, last, event_ms)
        return True

    # ---------------------------------------------------------------- snapshot
    def on_snapshot(self, conn: Any, live: LiveBook, body: bytes | str | Mapping[str, Any]) -> int:
        """The REST depth snapshot of ``live``'s subscription (its JSON text as received, or
        decoded): loaded, then the buffered events replayed; the book is live. Returns the
        buffered events applied (the others were older than the snapshot; a gap in the buffer is
        reported to :meth:`BookDriver.failed`).

        Raises SnapshotTooOld (older than the first buffered event: nothing changed, fetch
        again), FormatError (not a depth snapshot), or the book's error for levels it refuses
        (the book unchanged): the caller resyncs. O(levels of the snapshot and the buffer)."""
        sync = self._syncs.get(live)
        if sync is None or sync.state == "failed":
            self.begin(conn, live)
            sync = self._syncs[live]
        bids: Any = None
        asks: Any = None
        if isinstance(body, Mapping):
            try:
                last_id, bids, asks = _int(body["lastUpdateId"]), body["bids"], body["asks"]
                pd, qd = message_decimals(bids, asks)
            except (KeyError, TypeError, IndexError) as exc:
                raise FormatError(f"binance: not a depth snapshot: {exc!r}") from None
        else:
            scan = scan_binance_snapshot(body)
            if scan.kind != "snapshot" or scan.last_id is None:
                raise FormatError("binance: not a depth snapshot (no lastUpdateId)")
            last_id, pd, qd = scan.last_id, scan.price_decimals, scan.size_decimals
        buffer = sync.buffer
        if buffer and last_id < buffer[0][1]:
            raise SnapshotTooOld(f"snapshot {last_id} older than first buffered event U={buffer[0][1]}")
        if self.widen:
            live.widen_to(max(pd, sync.price_decimals), max(qd, sync.size_decimals))
        book = live.book
        if isinstance(body, Mapping):
            book.apply_snapshot(bids, asks, update_id=last_id)
        else:
            load_binance_snapshot(book, body)
        st = live.stats
        st.messages += 1
        st.snapshots += 1
        live.state = sync.state = "live"
        sync.route.book = book
        sync.buffer = deque()
        self.driver.synced(conn, live, CHANNEL, None)
        applied = 0
        last: int | None
        event_ms: int | None
        while buffer:
            ev, _first = buffer.popleft()
            st.messages += 1                             # a buffered event counts when it leaves the buffer
            try:
                if type(ev) is dict:
                    _, last, prev, event_ms = _event_ids(ev)
                    ok = book.apply_levels(ev["b"], ev["a"], last_id=last, first_id=_first, prev_id=prev)
                else:
                    res = apply_binance_depth(book, ev)
                    ok, last, event_ms = res.applied, res.last_id, res.event_ms
            except Exception as exc:                     # the buffer does not continue the snapshot
                self._fail(conn, sync, exc)
                if sync.state != "live":                 # (a replay may resume after a refused event)
                    st.messages += len(buffer)           # dropped with the sync
                    st.stale_skipped += len(buffer)
                    return applied
                continue
            if ok:
                applied += 1
                st.applied += 1
                self.driver.changed(conn, live, last, event_ms)
            else:
                st.stale_skipped += 1
        return applied

    # ---------------------------------------------------------------- helpers
    def _buffer(self, sync: _Sync, ev: Any, first: int, pd: int, qd: int) -> None:
        """Hold one event until the snapshot (counted in ``buffered`` now, as a message when it
        leaves the buffer: applied, skipped or dropped, so ``BookStats.unaccounted`` stays 0)."""
        st = sync.live.stats
        st.buffered += 1
        sync.buffer.append((ev, first))
        if pd > sync.price_decimals:
            sync.price_decimals = pd
        if qd > sync.size_decimals:
            sync.size_decimals = qd
        if len(sync.buffer) > self.buffer_limit:
            # bounded memory: if the snapshot turns out older than what is kept, the replay of
            # the buffer reports a gap and the book resyncs
            sync.buffer.popleft()
            self.buffer_dropped += 1
            st.messages += 1
            st.stale_skipped += 1

    def _widen(self, live: LiveBook, sync: _Sync, ev: Any) -> bool:
        """Rebuild the book with the event's decimals (exact); False when it has them already."""
        if not self.widen:
            return False
        if type(ev) is dict:
            pd, qd = message_decimals(ev["b"], ev["a"])
        else:
            try:
                scan = scan_binance_depth(ev)
            except LiqError:                             # a value no scale holds ("x1.5", "-1")
                return False
            pd, qd = scan.price_decimals, scan.size_decimals
        if not live.widen_to(pd, qd):
            return False
        sync.route.book = live.book
        return True

    def _stop(self, sync: _Sync) -> None:
        """Stop applying to the book (failed, resubscribed, or marked stale from outside) until
        the next begin; events still buffered are skipped."""
        sync.state = "failed"
        sync.route.book = None
        if sync.buffer:
            st = sync.live.stats
            st.messages += len(sync.buffer)
            st.stale_skipped += len(sync.buffer)
            sync.buffer.clear()

    def _fail(self, conn: Any, sync: _Sync, exc: BaseException) -> None:
        self._stop(sync)
        self.driver.failed(conn, sync.live, exc)

    def _refuse(self, conn: Any, sync: _Sync, exc: BaseException) -> None:
        # a message of the book that cannot be applied: counted, the sync stopped, the book failed
        self._stop(sync)
        self.refused(conn, sync.live, exc)


class BinanceUsdmProtocol(BinanceProtocol):
    """USDⓈ-M futures: the same procedure under the ``pu`` chain (``binance_futures`` rule)."""

    exchange: ClassVar[str] = "binanceusdm"
    sequence_rule: ClassVar[str] = "binance_futures"


class BinanceCoinmProtocol(BinanceUsdmProtocol):
    """COIN-M futures (as USDⓈ-M)."""

    exchange: ClassVar[str] = "binancecoinm"
