"""The live driver of a venue protocol: what a ccxt.pro adapter does with what the protocol tells it.

:class:`CcxtDriver` implements :class:`~liqcore.exchanges.protocol.BookDriver` for an engine
adapter (:class:`~liqcore.feed.engine.EngineMixin`): a venue market id becomes ccxt's unified
symbol and its :class:`~liqcore.feed.live_book.LiveBook`; a synced or changed book updates ccxt's
shell (nonce, timestamp), calls the book's subscribers and resolves the pending
``watch_order_book``; a failed book is resynchronised the adapter's way (``liq_fail``); every other
frame goes to ccxt's ``handle_message``. The protocol holds the venue's rules; this holds ccxt's.
"""

from __future__ import annotations

import logging
from typing import Any

from liqcore.feed.live_book import LiveBook

__all__ = ["CcxtDriver"]

log = logging.getLogger("liqcore.feed")


class CcxtDriver:
    """The :class:`~liqcore.exchanges.protocol.BookDriver` of one engine adapter ``ex`` (owned by
    it; ``conn`` is the ccxt ``Client`` a frame came from). O(1) per call apart from the
    subscribers it calls."""

    __slots__ = ("ex",)

    def __init__(self, ex: Any) -> None:
        self.ex = ex

    def book(self, conn: Any, market_id: str, market_type: str | None) -> LiveBook | None:
        symbol = self.ex.liq_market_symbol(conn, market_id, market_type)
        return None if symbol is None else self.ex.liq_book(symbol)

    def depth(self, conn: Any, live: LiveBook) -> int | None:
        sub = conn.subscriptions.get(live.message_hash) if live.message_hash is not None else None
        limit = sub.get("limit") if isinstance(sub, dict) else None
        return int(limit) if limit else None

    def synced(self, conn: Any, live: LiveBook, channel: str, timestamp_ms: int | None) -> None:
        ex = self.ex
        live.client_url = conn.url
        live.channel = channel
        live.message_hash = ex.liq_book_hash(live.symbol, channel)
        ex.liq_shell(live.symbol, live, live.book.max_depth)      # registered: changed() publishes to it
        self.changed(conn, live, live.book.last_update_id, timestamp_ms)

    def changed(self, conn: Any, live: LiveBook, nonce: int | None, timestamp_ms: int | None) -> None:
        # the one place a changed book is published: ccxt's shell, the subscribers, the watcher
        ex = self.ex
        shell = ex.orderbooks.get(live.symbol)
        if shell is None:                 # nobody watches it through ccxt any more: subscribers only
            live.publish(ex.liq_recv_ns)
            return
        shell["nonce"] = nonce
        shell["timestamp"] = timestamp_ms
        live.publish(ex.liq_recv_ns)
        h = live.message_hash
        if h in conn.futures:
            conn.resolve(shell, h)

    def failed(self, conn: Any, live: LiveBook, exc: BaseException) -> None:
        self.ex.liq_fail(conn, live, exc)

    def other(self, conn: Any, msg: Any) -> None:
        self.ex.liq_other(conn, msg)

    def malformed(self, conn: Any, data: str, exc: BaseException) -> None:
        ex = self.ex
        ex.liq_malformed += 1
        log.warning("%s: malformed frame on %s skipped: %.80r", ex.id, conn.url, data)
