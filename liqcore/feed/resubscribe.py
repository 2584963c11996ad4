"""Resync by unsubscribe + subscribe on the same socket (Bybit, Kraken, Coinbase, Bitget, Bitfinex).

These venues send a book snapshot only in reply to a subscribe, and refuse (Bybit "already
subscribed", Kraken "Already subscribed") or ignore a second subscribe of a live topic. ccxt
has no resync path for them (it checks nothing, so it never needs one). liqcore's: when a book
must be resynchronised (gap, checksum mismatch, handler error, idle, a sync that never
finished) :meth:`ResubscribeMixin.liq_drop_subscription` forgets ccxt's subscription and shell
book and remembers the venue's unsubscribe request; the feed's watch loop then calls
``watch_order_book``, which first sends that unsubscribe and then lets ccxt subscribe again on
the same connection (the frames are written in this order). The venue answers with a fresh
snapshot; deltas still in flight for the old subscription are skipped (the book is stale) and
counted in ``stale_skipped``. ``watch_order_book_for_symbols`` (several symbols in one call) does
the same for each of its symbols; the subscribe that follows names only the resynced ones
(:meth:`~liqcore.feed.engine.EngineMixin.watch_multiple`).
"""

from __future__ import annotations

import collections
import logging
from typing import Any, Hashable

from liqcore.feed.engine import EngineMixin
from liqcore.feed.live_book import LiveBook

__all__ = ["ResubscribeMixin"]

log = logging.getLogger("liqcore.feed")


class ResubscribeMixin(EngineMixin):
    """Mixed in before :class:`~liqcore.feed.engine.EngineMixin` (which it extends); the adapter
    implements :meth:`liq_unsubscribe_request`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: symbol -> (client, unsubscribe request) to send before the next subscribe
        self.liq_pending_unsubscribe: dict[str, tuple[Any, dict]] = {}
        #: unsubscribe requests sent (a resync count visible on the exchange object)
        self.liq_unsubscribes = 0
        #: acknowledgement key -> the engine's unsubscribes still to be acknowledged
        self.liq_unsub_acks_due: collections.Counter[Hashable] = collections.Counter()

    def liq_unsubscribe_request(self, client: Any, live: LiveBook) -> dict | None:
        """The venue's unsubscribe request for ``live``'s book subscription on ``client``
        (None when there is nothing to unsubscribe)."""
        raise NotImplementedError

    def liq_unsubscribe_ack_key(self, request: dict) -> Hashable | None:
        """The key by which the venue's acknowledgement of ``request`` is recognised, for venues
        whose acknowledgement ccxt must not see (Bitget, Bitfinex: ccxt would take it for a
        user's ``un_watch_order_book`` and fail); None (default): ccxt handles it."""
        return None

    def liq_take_unsubscribe_ack(self, key: Hashable) -> bool:
        """True (and counted off) when an acknowledgement with ``key`` answers one of the
        engine's resync unsubscribes; False leaves it to ccxt. O(1)."""
        if self.liq_unsub_acks_due[key] <= 0:
            return False
        self.liq_unsub_acks_due[key] -= 1
        return True

    def liq_drop_subscription(self, client: Any, live: LiveBook) -> None:
        request = None
        try:
            request = self.liq_unsubscribe_request(client, live)
        except Exception:       # never let bookkeeping break the resync itself
            log.exception("%s %s: no unsubscribe request", getattr(self, "id", "?"), live.symbol)
        super().liq_drop_subscription(client, live)
        if request is not None:
            self.liq_pending_unsubscribe[live.symbol] = (client, request)

    async def liq_send_unsubscribe(self, symbol: str) -> None:
        """Send the pending unsubscribe of ``symbol`` if its connection is still the live one
        (a new connection has no subscription to undo)."""
        pending = self.liq_pending_unsubscribe.pop(symbol, None)
        if pending is None:
            return
        client: Any = pending[0]
        request = pending[1]
        clients: dict[str, Any] = getattr(self, "clients", None) or {}
        current = clients.get(client.url) is client
        if not current or client.closed() or not client.connected.done():
            return
        key = self.liq_unsubscribe_ack_key(request)
        if key is not None:           # before sending: the acknowledgement may be handled before send() returns
            self.liq_unsub_acks_due[key] += 1
        try:
            await client.send(request)
            self.liq_unsubscribes += 1
        except Exception as exc:     # the connection went away meanwhile: the resubscribe redials
            log.info("%s %s: unsubscribe not sent: %r", getattr(self, "id", "?"), symbol, exc)
            if key is not None:      # no acknowledgement will come
                self.liq_unsub_acks_due[key] -= 1

    def _liq_connection_lost(self, client: Any, error: Any) -> None:
        super()._liq_connection_lost(client, error)
        if not self.liq_replaced(client):
            self.liq_unsub_acks_due.clear()     # the socket is gone: no acknowledgement is due

    async def watch_order_book(self, symbol: str, limit: int | None = None, params: dict = {}) -> Any:  # noqa: B006
        await self.liq_send_unsubscribe(symbol)
        return await super().watch_order_book(symbol, limit, params)

    async def watch_order_book_for_symbols(self, symbols: list[str], limit: int | None = None,
                                           params: dict = {}) -> Any:  # noqa: B006
        """ccxt's multi-symbol watch, after the pending unsubscribes of its symbols (the
        subscribe that follows names only the symbols being resynced:
        :meth:`EngineMixin.watch_multiple`)."""
        for symbol in symbols:
            await self.liq_send_unsubscribe(symbol)
        return await super().watch_order_book_for_symbols(symbols, limit, params)
