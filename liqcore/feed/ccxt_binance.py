"""Binance spot and USDⓈ-M (and COIN-M) through ccxt.pro, books in the compiled core.

ccxt keeps: the connection, SUBSCRIBE/ack bookkeeping (``handle_order_book_subscription``
creates the shell and spawns the snapshot task), markets, REST. liqcore takes: every
``depthUpdate`` (:func:`binance_frame_handler` routes it straight to
:meth:`BinanceEngine.liq_on_depth`, skipping ccxt's ~40-entry method table per frame), the REST
snapshot as raw strings (:meth:`BinanceEngine.fetch_order_book_snapshot`, instead of ccxt's
float-parsed one), the buffer-and-replay of Binance's documented procedure, and the sequence
checks — done in C by the book's ``binance_spot`` / ``binance_futures`` rule, the only ones:
ccxt's own U/u/pu checks are not run (its ``checksum=False`` option would freeze the book
silently on a gap; here a gap always resyncs).

Per delta: orjson decode (~4 µs for 20+20 levels), one dict lookup for the symbol, one
``apply_levels`` of 40 wire strings under the sequence rule (all or nothing), nonce update,
subscribers. A gap marks the book stale, drops ccxt's subscription and book, and the next
``watch_order_book`` re-SUBSCRIBEs on the same socket and fetches a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import ccxt.pro

from liqcore.errors import SequenceGapError
from liqcore.feed.engine import _MALFORMED, EngineMixin, decode_frame

__all__ = ["BinanceEngine", "BinanceUsdmEngine", "BinanceCoinmEngine", "binance_frame_handler"]


def binance_frame_handler(exchange: Any, client: Any, data: str) -> None:
    """Fast dispatch: ``depthUpdate`` (raw or in a combined-stream ``{"stream","data"}`` wrapper)
    to the engine, everything else to ccxt's ``handle_message``."""
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

    def liq_sequence_rule(self, market: dict) -> str:
        return "binance_spot" if market.get("spot") else "binance_futures"

    # ccxt calls this on the SUBSCRIBE ack; it creates the (shell) book and spawns the snapshot
    def handle_order_book_subscription(self, client: Any, message: Any, subscription: dict) -> None:
        symbols = subscription.get("symbols") or [subscription.get("symbol")]
        for symbol in symbols:
            live = self.liq_book(symbol)
            live.begin_sync()
            live.client_url = client.url
        super().handle_order_book_subscription(client, message, subscription)  # type: ignore[misc]
        for symbol in symbols:
            self.orderbooks[symbol].live = self.liq_books[symbol]

    @staticmethod
    def liq_apply_event(live: Any, m: dict) -> bool:
        """Apply one depthUpdate under the book's rule (``binance_spot``/``binance_futures``:
        U/u, and pu for futures, checked in C; a futures event with ``pu`` equal to the book's
        id continues it even right after a snapshot that ended on an event boundary)."""
        return live.apply(m["b"], m["a"], m["u"], m["U"], m.get("pu"))

    def handle_order_book(self, client: Any, message: dict) -> None:
        # ccxt's own dispatch (handle_message) lands here too
        self.liq_on_depth(client, message)

    def liq_on_depth(self, client: Any, msg: dict) -> None:
        """One ``depthUpdate`` (``E s U u [pu] b a``): buffered until the snapshot, then applied
        under the book's sequence rule. O(levels in the message)."""
        # the client url decides spot vs swap for an id like BTCUSDT (ccxt's is_spot_url)
        symbol = self.liq_symbol(client, msg["s"], "spot" if self.is_spot_url(client) else "swap")
        live = self.liq_books.get(symbol)
        shell = self.orderbooks.get(symbol)
        if live is None or shell is None:
            return      # before the SUBSCRIBE ack or after a resync dropped it (ccxt drops these too)
        st = live.stats
        st.messages += 1
        if live.state != "live":
            live.buffer.append(msg)
            st.buffered += 1
            return
        try:
            if self.liq_apply_event(live, msg):
                shell["nonce"] = msg["u"]
                shell["timestamp"] = msg.get("E")
                live.publish(self.liq_recv_ns)
                h = live.message_hash
                if h in client.futures:
                    client.resolve(shell, h)
        except Exception as exc:
            self.liq_fail(client, live, exc)

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
        h = live.message_hash
        try:
            limit = subscription.get("limit") or self.safe_integer(self.options, "watchOrderBookLimit", 1000)
            for attempt in range(self.liq_snapshot_tries):
                raw = await self.liq_fetch_depth(symbol, limit, subscription.get("type"))
                if symbol not in self.orderbooks or client.closed() or self.clients.get(client.url) is not client:
                    return          # dropped (resync/unwatch/disconnect) while the request ran
                self.liq_record_rest(raw, symbol)
                live.load_snapshot(raw["bids"], raw["asks"], int(raw["lastUpdateId"]))
                buffered = list(live.buffer)
                live.buffer.clear()
                try:
                    for m in buffered:    # older ones are skipped by the rule (returns False)
                        self.liq_apply_event(live, m)
                    break
                except SequenceGapError:
                    # the snapshot is older than the buffered stream (Binance step 4: fetch again)
                    if attempt + 1 == self.liq_snapshot_tries:
                        raise
                    live.state = "syncing"
                    live.buffer.extendleft(reversed(buffered))
                    await asyncio.sleep(0.05 * (attempt + 1))
            shell = self.orderbooks[symbol]
            shell["nonce"] = live.book.last_update_id
            live.publish(time.monotonic_ns())
            client.resolve(shell, h)
        except Exception as exc:
            self.liq_fail(client, live, exc)


class BinanceEngine(_BinanceEngineBase, ccxt.pro.binance):
    """ccxt.pro ``binance`` (spot; also its swap markets) with books in the compiled core."""


class BinanceUsdmEngine(_BinanceEngineBase, ccxt.pro.binanceusdm):
    """ccxt.pro ``binanceusdm`` (USDⓈ-M futures) with books in the compiled core."""


class BinanceCoinmEngine(_BinanceEngineBase, ccxt.pro.binancecoinm):
    """ccxt.pro ``binancecoinm`` (COIN-M futures) with books in the compiled core."""
