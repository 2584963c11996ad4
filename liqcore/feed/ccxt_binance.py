"""Binance spot and USDⓈ-M (and COIN-M) through ccxt.pro, books in the compiled core.

ccxt keeps: the connection, SUBSCRIBE/ack bookkeeping (``handle_order_book_subscription``
creates the shell and spawns the snapshot task), markets, REST. liqcore takes: every
``depthUpdate`` (:func:`binance_frame_handler` routes it straight to the engine, skipping
ccxt's JSON decode and its ~40-entry method table per frame), the REST snapshot as raw
strings (:meth:`BinanceEngine.fetch_order_book_snapshot`, instead of ccxt's float-parsed
one), Binance's documented buffer-and-replay procedure and the sequence checks — done in C
by the book's ``binance_spot`` / ``binance_futures`` rule, the only ones: ccxt's own U/u/pu
checks are not run (its ``checksum=False`` option would freeze the book silently on a gap;
here a gap always resyncs).

The procedure is not written here: each book has one sync object per subscription, the same
classes the replays use —

* fast path (``liq_fast_path``, the default): :class:`liqcore._frames.BinanceFastSync`, fed the
  frame's text: buffered frames are validated in C, live ones parsed in C straight into the
  book (no JSON decode, no Python object per level: ~2 µs for 20+20 levels);
* Python path: :class:`liqcore.feed.binance.BinanceDepthSync`, fed orjson-decoded events
  (``apply_levels`` of the wire strings).

Both raise :class:`~liqcore.feed.binance.SnapshotTooOld` for a snapshot older than the buffer
(fetched again) and SequenceGapError on a gap (the book is marked stale, ccxt's subscription
and book dropped, and the next ``watch_order_book`` re-SUBSCRIBEs on the same socket and
fetches a fresh snapshot). A frame the C parser refuses as malformed goes to the Python path,
which counts and skips it like any undecodable frame.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Union, cast

import ccxt.pro
import orjson

from liqcore._frames import BinanceFastSync, scan_binance_depth, scan_binance_snapshot
from liqcore.errors import FormatError, InvalidDeltaError
from liqcore.exchanges.wire import int_field, text_field
from liqcore.feed.binance import BinanceDepthSync, SnapshotTooOld
from liqcore.feed.engine import _MALFORMED, EngineMixin, decode_frame
from liqcore.feed.live_book import LiveBook
from liqcore.feed.scales import fraction_digits

__all__ = ["BinanceEngine", "BinanceUsdmEngine", "BinanceCoinmEngine", "binance_frame_handler"]

Sync = Union[BinanceFastSync, BinanceDepthSync]


def binance_frame_handler(exchange: Any, client: Any, data: str) -> None:
    """Fast dispatch: ``depthUpdate`` (raw or in a combined-stream ``{"stream","data"}`` wrapper)
    to the engine — as text to the C parser on the fast path — everything else to ccxt's
    ``handle_message``."""
    if exchange.liq_fast_path and '"depthUpdate"' in data and exchange.liq_on_depth_text(client, data):
        return
    msg = decode_frame(exchange, client, data)
    if msg is _MALFORMED:
        return
    if type(msg) is dict:
        if msg.get("e") == "depthUpdate":
            exchange.liq_on_depth(client, msg)
            return
        inner = msg.get("data")
        if type(inner) is dict and inner.get("e") == "depthUpdate":
            exchange.liq_on_depth(client, inner)
            return
    exchange.handle_message(client, msg)


class _BinanceEngineBase(EngineMixin):
    default_frame_handler = staticmethod(binance_frame_handler)
    #: REST snapshots tried per sync when the snapshot is older than the buffered stream
    liq_snapshot_tries = 3

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: unified symbol -> the sync of the book's current subscription
        self.liq_syncs: dict[str, Sync] = {}

    def liq_sequence_rule(self, market: dict) -> str:
        return "binance_spot" if market.get("spot") else "binance_futures"

    # ------------------------------------------------------------------ sync
    def liq_begin_sync(self, symbol: str) -> LiveBook:
        """A (re)subscription of ``symbol`` starts: a new sync (fast or Python, per
        ``liq_fast_path``) buffers its frames until the snapshot. The book keeps its last levels
        (stale) until then."""
        live = self.liq_book(symbol)
        live.begin_sync()
        self.liq_syncs[symbol] = self._liq_new_sync(live)
        return live

    def _liq_new_sync(self, live: LiveBook, cls: type | None = None) -> Sync:
        futures = live.book.sequence == "binance_futures"
        if cls is None:
            cls = BinanceFastSync if self.liq_fast_path else BinanceDepthSync
        return cls(live.book, futures=futures)

    def _liq_resync_to_book(self, live: LiveBook, sync: Sync) -> Sync:
        """A sync for ``live.book`` after it was rebuilt at wider scales, synced at the book's own
        state (exact: its wire strings and update id); the old sync's buffer is carried over."""
        new = self._liq_new_sync(live, type(sync))
        if sync.synced:
            book = live.book
            snap = {"lastUpdateId": book.last_update_id, "bids": book.level_strings("bid"),
                    "asks": book.level_strings("ask")}
            if isinstance(new, BinanceFastSync):
                new.on_snapshot(orjson.dumps(snap))
            else:
                new.on_snapshot(snap)
        else:
            for ev in sync.buffer:
                new.on_depth(ev)  # type: ignore[arg-type]  # same class as sync: same frame type
        self.liq_syncs[live.symbol] = new
        return new

    def liq_load_snapshot(self, live: LiveBook, raw: dict, body: bytes | None = None) -> int:
        """Apply a REST depth snapshot (``raw`` decoded, ``body`` its JSON bytes if at hand) through
        the book's sync, then the buffered frames; the book becomes live. Returns the buffered
        frames applied. Raises SnapshotTooOld (nothing applied), SequenceGapError, book errors."""
        sync = self.liq_syncs.get(live.symbol)
        if sync is None or sync.book is not live.book:
            sync = self.liq_syncs[live.symbol] = self._liq_new_sync(live) if sync is None else \
                self._liq_resync_to_book(live, sync)
        # more decimals than the book holds (metadata grid too coarse): rebuild it first, exactly
        if isinstance(sync, BinanceFastSync):
            body = orjson.dumps(raw) if body is None else body
            res = scan_binance_snapshot(body)
            pd, qd = res.price_decimals, res.size_decimals
            for fr in sync.buffer:
                r = scan_binance_depth(fr)
                pd, qd = max(pd, r.price_decimals), max(qd, r.size_decimals)
        else:
            levels = [raw["bids"], raw["asks"]] + [lv for ev in sync.buffer for lv in (ev["b"], ev["a"])]
            pd = max(fraction_digits(side, 0) for side in levels)
            qd = max(fraction_digits(side, 1) for side in levels)
        if live.widen_to(pd, qd):
            sync = self._liq_resync_to_book(live, sync)
        waiting = len(sync.buffer)
        # (a rebuilt sync is of the same class: the fast one got its body above)
        n = sync.on_snapshot(cast(bytes, body)) if isinstance(sync, BinanceFastSync) else sync.on_snapshot(raw)
        st = live.stats
        st.messages += 1
        st.snapshots += 1
        st.applied += n
        st.stale_skipped += waiting - n
        live.state = "live"
        return n

    # ------------------------------------------------------------ ccxt hooks
    # ccxt calls this on the SUBSCRIBE ack; it creates the (shell) book and spawns the snapshot task
    def handle_order_book_subscription(self, client: Any, message: Any, subscription: dict) -> None:
        symbols = subscription.get("symbols") or [subscription.get("symbol")]
        for symbol in symbols:
            self.liq_begin_sync(symbol).client_url = client.url
        super().handle_order_book_subscription(client, message, subscription)
        for symbol in symbols:      # the shell names its symbol: a multi-symbol watch resolves with it
            self.liq_shell(symbol, self.liq_books[symbol])

    def liq_narrow_subscribe(self, message: Any, subscription: Any, symbols: set[str]) -> tuple[Any, Any]:
        # the ack starts a sync (REST snapshot) of every symbol of the subscription record: the
        # resync of one book of a multi-symbol subscription must not re-sync the healthy ones
        if not isinstance(message, dict) or not isinstance(subscription, dict) or not subscription.get("symbols"):
            return message, subscription
        ids = {self.market(s)["lowercaseId"] + "@" for s in symbols}
        params = [p for p in message.get("params", ()) if any(str(p).startswith(i) for i in ids)]
        return dict(message, params=params), \
            dict(subscription, symbols=[s for s in subscription["symbols"] if s in symbols])

    def handle_order_book(self, client: Any, message: dict) -> None:
        # ccxt's own dispatch (handle_message) lands here too
        self.liq_on_depth(client, message)

    # --------------------------------------------------------------- deltas
    def _liq_depth_symbol(self, client: Any, market_id: str) -> str:
        sym = self._liq_symbols.get((client.url, market_id))
        if sym is None:
            # the client url decides spot vs swap for an id like BTCUSDT (ccxt's is_spot_url)
            sym = self.liq_symbol(client, market_id, "spot" if self.is_spot_url(client) else "swap")
        return sym

    def liq_on_depth_text(self, client: Any, data: str) -> bool:
        """The fast path: one ``depthUpdate`` frame's text, parsed in C by the book's sync.
        Returns False when the frame must take the Python path instead (no symbol found, a
        Python-path sync, a frame the C parser refuses as malformed)."""
        market_id = text_field(data, '"s":"')
        if market_id is None:
            return False
        symbol = self._liq_depth_symbol(client, market_id)
        live = self.liq_books.get(symbol)
        shell = self.orderbooks.get(symbol)
        if live is None or shell is None:
            return True     # before the SUBSCRIBE ack or after a resync dropped it (ccxt drops these too)
        sync = self.liq_syncs.get(symbol)
        if not isinstance(sync, BinanceFastSync):
            return False
        try:
            self._liq_depth(client, live, shell, sync, data)
        except FormatError:
            return False
        self.liq_fast_frames += 1
        return True

    def liq_on_depth(self, client: Any, msg: dict) -> None:
        """One decoded ``depthUpdate`` (``E s U u [pu] b a``): the Python path (or a decoded frame
        for a fast-path sync, re-encoded). O(levels in the message)."""
        symbol = self._liq_depth_symbol(client, msg["s"])
        live = self.liq_books.get(symbol)
        shell = self.orderbooks.get(symbol)
        if live is None or shell is None:
            return
        sync = self.liq_syncs.get(symbol)
        if sync is None:
            sync = self.liq_syncs[symbol] = self._liq_new_sync(live)
        self._liq_depth(client, live, shell, sync, orjson.dumps(msg) if isinstance(sync, BinanceFastSync) else msg)

    def _liq_depth(self, client: Any, live: LiveBook, shell: Any, sync: Sync, ev: Any) -> None:
        """Buffer (not synced yet) or apply one event (text/bytes for the fast sync, a dict for the
        Python one) under the book's sequence rule. FormatError propagates (malformed: the caller
        skips it); every other error resyncs the book."""
        st = live.stats
        if not sync.synced:
            sync.on_depth(ev)                   # buffered (validated in C on the fast path)
            st.messages += 1
            st.buffered += 1
            if len(sync.buffer) > self.liq_buffer_limit:
                # bounded memory; if the snapshot turns out older than what is kept, the replay
                # reports a gap and the book resyncs
                del sync.buffer[0]
            return
        if live.state != "live":
            st.messages += 1
            st.stale_skipped += 1               # in flight after the book turned stale
            return
        try:
            try:
                applied = sync.on_depth(ev)
            except InvalidDeltaError:
                # more decimals than the book's scale: rebuild it wider (exactly) and retry once
                if type(ev) is dict:
                    pd = max(fraction_digits(ev["b"], 0), fraction_digits(ev["a"], 0))
                    qd = max(fraction_digits(ev["b"], 1), fraction_digits(ev["a"], 1))
                else:
                    r = scan_binance_depth(ev)
                    pd, qd = r.price_decimals, r.size_decimals
                if not live.widen_to(pd, qd):
                    raise
                sync = self._liq_resync_to_book(live, sync)
                applied = sync.on_depth(ev)
        except Exception as exc:
            if type(exc) is FormatError and type(ev) is not dict:
                raise                           # malformed text: the Python path counts and skips it
            st.messages += 1
            self.liq_fail(client, live, exc)
            return
        st.messages += 1
        if not applied:
            st.stale_skipped += 1
            return
        st.applied += 1
        shell["nonce"] = live.book.last_update_id
        shell["timestamp"] = ev.get("E") if type(ev) is dict else int_field(ev if type(ev) is str else ev.decode(),
                                                                              '"E":')
        self.liq_publish(client, live, shell)

    # -------------------------------------------------------------- snapshot
    async def liq_fetch_depth(self, symbol: str, limit: int, market_type: str | None) -> dict:
        """The REST depth snapshot with prices and sizes as Binance's strings."""
        market = self.market(symbol)
        request = {"symbol": market["id"], "limit": limit}
        if market_type == "linear" or market.get("linear"):
            return await self.fapiPublicGetDepth(request)
        if market_type == "inverse" or market.get("inverse"):
            return await self.dapiPublicGetDepth(request)
        return await self.publicGetDepth(request)

    async def fetch_order_book_snapshot(self, client: Any, message: Any, subscription: dict) -> None:
        symbol = subscription["symbol"]
        live = self.liq_book(symbol)
        try:
            limit = subscription.get("limit") or self.safe_integer(self.options, "watchOrderBookLimit", 1000)
            for attempt in range(self.liq_snapshot_tries):
                raw = await self.liq_fetch_depth(symbol, limit, subscription.get("type"))
                if symbol not in self.orderbooks or client.closed() or self.clients.get(client.url) is not client:
                    return          # dropped (resync/unwatch/disconnect) while the request ran
                body = orjson.dumps(raw)
                if self.liq_recorder is not None:
                    self.liq_recorder.write(body, exchange=self.id, stream="rest", symbol=symbol, kind="rest")
                try:
                    self.liq_on_snapshot_body(client, live, raw, body)
                    break
                except SnapshotTooOld:
                    # older than the buffered stream (Binance step 4): fetch again
                    if attempt + 1 == self.liq_snapshot_tries:
                        raise
                    await asyncio.sleep(0.05 * (attempt + 1))
        except Exception as exc:
            self.liq_fail(client, live, exc)

    def liq_on_snapshot_body(self, client: Any, live: LiveBook, raw: dict, body: bytes | None = None) -> None:
        """A REST snapshot arrived for ``live`` (subscribed on ``client``): load it and the buffered
        frames (:meth:`liq_load_snapshot`), then publish and resolve ccxt's watcher. Used by the
        snapshot task and by replays of recordings (``liqcore.replay.adapter``)."""
        self.liq_load_snapshot(live, raw, body)
        shell = self.orderbooks[live.symbol]
        shell["nonce"] = live.book.last_update_id
        self.liq_publish(client, live, shell, time.monotonic_ns())


class BinanceEngine(_BinanceEngineBase, ccxt.pro.binance):
    """ccxt.pro ``binance`` (spot; also its swap markets) with books in the compiled core."""


class BinanceUsdmEngine(_BinanceEngineBase, ccxt.pro.binanceusdm):
    """ccxt.pro ``binanceusdm`` (USDⓈ-M futures) with books in the compiled core."""


class BinanceCoinmEngine(_BinanceEngineBase, ccxt.pro.binancecoinm):
    """ccxt.pro ``binancecoinm`` (COIN-M futures) with books in the compiled core."""
