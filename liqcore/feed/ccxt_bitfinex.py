"""Bitfinex (websocket v2 ``book``, aggregated precisions) through ccxt.pro: the venue's protocol
(:mod:`liqcore.exchanges.bitfinex`: channel ids per connection, book frames decoded with every
number as its text, one level per frame, Bitfinex's checksum verified in C after every update)
drives the books; ccxt keeps the connection, subscriptions, markets and REST. What stays here is
ccxt's side:

* ``conf`` is the engine's: it sends ``{"event": "conf", "flags": 131072}`` when a connection's
  ``info`` arrives (before any book matters), and ccxt's is switched off — ccxt sends it only after
  the first snapshot of a subscription (the first updates go unchecked), and then indexes
  ``client.subscriptions[messageHash]`` directly, an entry a resync may just have removed. ccxt's
  own checksum (over floats in its Python book) never runs.
* A checksum mismatch marks the book stale; the watch loop unsubscribes the ``chanId`` the
  protocol retires and subscribes again on the same socket (:mod:`liqcore.feed.resubscribe`);
  Bitfinex answers with a fresh snapshot on a new ``chanId``. The engine's own ``unsubscribed``
  acknowledgement is swallowed (ccxt would look for a user's ``un_watch_order_book`` behind it and
  fail).
* ``info`` code 20051 (restart: reconnect) and 20061 (maintenance over: resubscribe) reconnect the
  socket, so every book is resynced from a new snapshot and counted (``disconnects``).
* One level per frame means a book can be crossed between two frames of one update: the books'
  ``cross_policy`` defaults to ``"allow"`` here (the checksum after the update proves the book).
  Raw books (R0: order ids) are left to ccxt.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ccxt.pro
from ccxt.base.errors import NetworkError

from liqcore.exchanges.bitfinex import OB_CHECKSUM, BitfinexProtocol
from liqcore.feed.engine import EngineMixin
from liqcore.feed.live_book import LiveBook
from liqcore.feed.resubscribe import ResubscribeMixin
from liqcore.feed.scales import CrossPolicy

__all__ = ["BitfinexEngine"]

log = logging.getLogger("liqcore.feed")


class BitfinexEngine(ResubscribeMixin, EngineMixin, ccxt.pro.bitfinex):
    """ccxt.pro ``bitfinex`` with aggregated books in the compiled core and Bitfinex's checksum
    verified after every update (see the module docstring)."""

    protocol_class = BitfinexProtocol
    liq_protocol: BitfinexProtocol

    def __init__(self, config: dict | None = None, *, cross_policy: CrossPolicy = "allow", **liq_options: Any) -> None:
        super().__init__(config, cross_policy=cross_policy, **liq_options)
        # the engine sends conf itself (see the module docstring); ccxt's checksum code stays off
        self.options["checksum"] = False
        self.options.setdefault("watchOrderBook", {})["checksum"] = False
        #: conf requests sent (one per connection)
        self.liq_confs = 0

    def liq_message_hash(self, symbol: str) -> str:
        return "book:" + self.market(symbol)["id"]

    def liq_hash_symbol(self, message_hash: str) -> str | None:
        if not message_hash.startswith("book:"):
            return None
        market = self.safe_market(message_hash[5:])
        return market["symbol"] if market["symbol"] in (self.markets or {}) else None

    # ------------------------------------------------------------------ events
    def liq_other(self, client: Any, msg: Any) -> None:
        if type(msg) is dict:
            event = msg.get("event")
            if event == "info":
                self.liq_on_info(client, msg)
            elif event == "unsubscribed" and self.liq_own_unsubscribe_ack(client, msg):
                return
        self.handle_message(client, msg)

    def liq_on_info(self, client: Any, msg: dict) -> None:
        """``info`` events. The first of a connection (``version``, no ``code``) is answered with
        the engine's ``conf`` (checksums on). Code 20051 (server restarting: "please reconnect")
        and 20061 (maintenance over: "resubscribe to all channels") make the engine reconnect,
        which resubscribes every book from a fresh snapshot; 20060 (maintenance started) only
        logs: the books stay as they are until Bitfinex says otherwise."""
        code = msg.get("code")
        if code is None:
            asyncio.ensure_future(self._liq_conf(client))
        elif code in (20051, 20061):
            log.info("bitfinex info %s (%s): reconnecting %s", code, msg.get("msg"), client.url)
            self.liq_drop_connection(client, NetworkError(f"bitfinex info {code}: {msg.get('msg')}"))
        else:
            log.info("bitfinex info %s: %s", code, msg.get("msg"))

    async def _liq_conf(self, client: Any) -> None:
        try:
            await client.send({"event": "conf", "flags": OB_CHECKSUM})
            self.liq_confs += 1
        except Exception as exc:      # the connection went away: the next one gets its own info
            log.info("bitfinex: conf not sent on %s: %r", client.url, exc)

    # -------------------------------------------------------- ccxt's dispatch
    def _liq_ccxt_book_frame(self, client: Any, message: Any, subscription: Any) -> bool:
        """A book frame ccxt's dispatch passed on: the protocol's if its channel is one of the
        protocol's; skipped if it is an aggregated book's channel the protocol has forgotten (in
        flight on a connection being replaced: ccxt must never build a Python book from it);
        False for raw R0 books, which ccxt keeps."""
        if self.liq_protocol.on_message(client, message):
            return True
        return not (isinstance(subscription, dict) and subscription.get("prec") == "R0")

    def handle_order_book(self, client: Any, message: Any, subscription: Any) -> Any:
        if not self._liq_ccxt_book_frame(client, message, subscription):
            return super().handle_order_book(client, message, subscription)

    def handle_checksum(self, client: Any, message: Any, subscription: Any) -> Any:
        if not self._liq_ccxt_book_frame(client, message, subscription):
            return super().handle_checksum(client, message, subscription)

    # ------------------------------------------------------------------- resync
    def liq_unsubscribe_request(self, client: Any, live: LiveBook) -> dict | None:
        chan = self.liq_protocol.retire_channel(client, self.market(live.symbol)["id"])
        return None if chan is None else {"event": "unsubscribe", "chanId": chan}

    def liq_unsubscribe_ack_key(self, request: dict) -> str:
        return str(request["chanId"])

    def liq_own_unsubscribe_ack(self, client: Any, msg: dict) -> bool:
        """True when an ``unsubscribed`` acknowledges one of the engine's resync unsubscribes (the
        channel is then forgotten); False leaves it to ccxt (a user's ``un_watch_order_book``)."""
        chan = str(msg.get("chanId"))
        if not self.liq_take_unsubscribe_ack(chan):
            return False
        self.liq_protocol.drop_channel(client, chan)
        client.subscriptions.pop(chan, None)       # ccxt's record of the old channel
        return True
