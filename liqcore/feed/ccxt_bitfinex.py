"""Bitfinex (websocket v2 ``book``, precision P0) through ccxt.pro, books in the compiled core,
Bitfinex's checksum verified in C.

Bitfinex's book channel: after ``subscribed`` (which names the channel's ``chanId`` and ``len``)
a snapshot ``[chanId, [[price, count, amount], ...]]``, then **one frame per changed level**
``[chanId, [price, count, amount]]``: ``amount > 0`` is a bid, ``< 0`` an ask (size ``|amount|``),
``count == 0`` deletes the level. With the connection's ``conf`` flag 131072 each update is
followed by ``[chanId, "cs", checksum]``: the signed CRC32 of the best 25 bids and asks, numbers
written as JavaScript writes them (``1e-7``), ask amounts negative. Quiet channels send
``[chanId, "hb"]``.

What the engine does differently from ccxt:

* Book frames are decoded with every number kept as its text (:func:`~liqcore.exchanges.wire.
  loads_exact`): ``0.1`` stays ``"0.1"``, ``1e-7`` becomes ``"0.0000001"`` exactly; the compiled
  book holds those decimals and ``verify_checksum("bitfinex", ...)`` rebuilds Bitfinex's string in
  C (JavaScript number formatting included). ccxt's own checksum (over floats in its Python
  book) never runs.
* ``conf`` is the engine's: it sends ``{"event": "conf", "flags": 131072}`` when a connection's
  ``info`` arrives (before any book matters), and ccxt's is switched off — ccxt sends it only after
  the first snapshot of a subscription (the first updates go unchecked), and then indexes
  ``client.subscriptions[messageHash]`` directly, an entry a resync may just have removed.
* Bitfinex publishes no per-book sequence id (``SEQ_ALL`` numbers every frame of the connection,
  across channels and heartbeats), so the checksum after every update is the consistency check:
  a lost, duplicated, reordered or corrupted frame shows up as a mismatch. The book is marked
  stale, and the watch loop unsubscribes the ``chanId`` and subscribes again on the same socket
  (:mod:`liqcore.feed.resubscribe`); Bitfinex answers with a fresh snapshot on a new ``chanId``.
  Frames still in flight on the old ``chanId`` are counted (``stale_skipped``) and never applied;
  the engine's own ``unsubscribed`` acknowledgement is swallowed (ccxt would look for a user's
  ``un_watch_order_book`` behind it and fail).
* ``info`` code 20051 (restart: reconnect) and 20061 (maintenance over: resubscribe) reconnect the
  socket, so every book is resynced from a new snapshot and counted (``disconnects``).
* Heartbeats count as messages of their book (the feed's idle watchdog must not resync a quiet
  but healthy channel).
* One level per frame means a book can be crossed between two frames of one update (a new best
  bid arrives before the ask it crosses is deleted): the books' ``cross_policy`` defaults to
  ``"allow"`` here, and the checksum after the update is what proves the book.
* The book keeps the subscribed ``len`` (25 by default; at least the 25 the checksum covers) as
  its ``max_depth``. Aggregated precisions (P0-P4) share the frame format and the checksum; raw
  books (R0: order ids) are left to ccxt.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

import ccxt.pro
from ccxt.base.errors import NetworkError

from liqcore.errors import FormatError
from liqcore.exchanges.wire import loads_exact
from liqcore.feed.engine import _MALFORMED, EngineMixin, ShellOrderBook, decode_frame
from liqcore.feed.live_book import LiveBook
from liqcore.feed.resubscribe import ResubscribeMixin
from liqcore.feed.scales import CrossPolicy

__all__ = ["BitfinexEngine", "bitfinex_frame_handler", "OB_CHECKSUM", "DEFAULT_LENGTH"]

#: ``conf`` flag asking Bitfinex for a checksum after every book update
OB_CHECKSUM = 131072
#: Bitfinex's book length when a subscribe names none (levels per side)
DEFAULT_LENGTH = 25
_CHECKSUM_LEVELS = 25

log = logging.getLogger("liqcore.feed")


def bitfinex_frame_handler(exchange: Any, client: Any, data: str) -> None:
    """Fast dispatch: frames of the engine's book channels (decoded exactly) to the engine;
    ``info`` answered with the engine's ``conf``; the engine's own ``unsubscribed``
    acknowledgements swallowed; everything else to ccxt's ``handle_message``."""
    if data[:1] == "[":
        chan = data[1:data.find(",")]
        if chan in exchange.liq_channels:
            try:
                msg = loads_exact(data)
            except FormatError:
                exchange.liq_malformed += 1
                return
            exchange.liq_on_channel(client, chan, msg)
            return
    msg = decode_frame(exchange, client, data)
    if msg is _MALFORMED:
        return
    if type(msg) is dict:
        event = msg.get("event")
        if event == "info":
            exchange.liq_on_info(client, msg)
        elif event == "subscribed" and msg.get("channel") == "book":
            exchange.liq_on_subscribed(client, msg)
        elif event == "unsubscribed" and exchange.liq_own_unsubscribe_ack(client, msg):
            return
    exchange.handle_message(client, msg)


def _plain(text: str) -> str:
    """A number's text without an exponent (``1e-7`` -> ``0.0000001``): the book's scale is
    read off the digits after the point. O(digits)."""
    if "e" in text or "E" in text:
        return format(Decimal(text), "f")
    return text


def _split(levels: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """P0 snapshot levels ``[price, count, amount]`` -> (bids, asks) as (price, size) texts."""
    bids: list[tuple[str, str]] = []
    asks: list[tuple[str, str]] = []
    for lv in levels:
        price, amount = _plain(lv[0]), _plain(lv[2])
        if amount.startswith("-"):
            asks.append((price, amount[1:]))
        else:
            bids.append((price, amount))
    return bids, asks


class BitfinexEngine(ResubscribeMixin, EngineMixin, ccxt.pro.bitfinex):
    """ccxt.pro ``bitfinex`` with P0 books in the compiled core and Bitfinex's checksum verified
    after every update (see the module docstring)."""

    default_frame_handler = staticmethod(bitfinex_frame_handler)
    checksum_kind = "bitfinex"

    def __init__(self, config: dict | None = None, *, cross_policy: CrossPolicy = "allow", **liq_options: Any) -> None:
        super().__init__(config, cross_policy=cross_policy, **liq_options)
        # the engine sends conf itself (see the module docstring); ccxt's checksum code stays off
        self.options["checksum"] = False
        self.options.setdefault("watchOrderBook", {})["checksum"] = False
        #: chanId text -> [unified symbol, current?] of the engine's book channels (a channel stops
        #: being current when its book is resynced; it is forgotten when its unsubscribe is acknowledged)
        self.liq_channels: dict[str, list[Any]] = {}
        #: symbol -> its current chanId text
        self._liq_chan_of: dict[str, str] = {}
        #: symbol -> subscribed len (levels per side)
        self.liq_lengths: dict[str, int] = {}
        #: conf requests sent (one per connection)
        self.liq_confs = 0

    def liq_message_hash(self, symbol: str) -> str:
        return "book:" + self.market(symbol)["id"]

    def liq_hash_symbol(self, message_hash: str) -> str | None:
        if not message_hash.startswith("book:"):
            return None
        market = self.safe_market(message_hash[5:])
        return market["symbol"] if market["symbol"] in (self.markets or {}) else None

    # --------------------------------------------------------------- connection
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

    def liq_on_subscribed(self, client: Any, msg: dict) -> None:
        """A book channel opened: its ``chanId`` becomes the symbol's current channel. Raw books
        (``prec`` R0: order ids, not price levels) stay with ccxt."""
        if msg.get("prec") == "R0":
            return
        market = self.safe_market(msg.get("symbol"))
        symbol = market["symbol"]
        if symbol not in (self.markets or {}):
            return
        chan = str(msg.get("chanId"))
        old = self._liq_chan_of.get(symbol)
        if old is not None and old in self.liq_channels:
            self.liq_channels[old][1] = False
        self.liq_channels[chan] = [symbol, True]
        self._liq_chan_of[symbol] = chan
        try:
            self.liq_lengths[symbol] = int(msg.get("len") or DEFAULT_LENGTH)
        except (TypeError, ValueError):
            self.liq_lengths[symbol] = DEFAULT_LENGTH

    def liq_drop_connection(self, client: Any, exc: BaseException) -> None:
        super().liq_drop_connection(client, exc)
        self._liq_forget_channels()

    def _liq_connection_lost(self, client: Any, error: Any) -> None:
        super()._liq_connection_lost(client, error)
        if not self.liq_replaced(client):
            self._liq_forget_channels()

    def _liq_forget_channels(self) -> None:
        # channel ids belong to the connection (the one public socket): a new one subscribes anew
        self.liq_channels.clear()
        self._liq_chan_of.clear()

    # -------------------------------------------------------------------- books
    def _liq_ccxt_book_frame(self, client: Any, message: Any, subscription: Any) -> bool:
        """A book frame ccxt's dispatch passed on (not the fast path's): the engine's if its
        channel is registered; skipped if it is an aggregated book's channel the engine has
        forgotten (in flight on a connection being replaced: ccxt must never build a Python book
        from it); False for raw R0 books, which ccxt keeps."""
        chan = str(message[0])
        if chan in self.liq_channels:
            self.liq_on_channel(client, chan, message)
            return True
        return not (isinstance(subscription, dict) and subscription.get("prec") == "R0")

    def handle_order_book(self, client: Any, message: Any, subscription: Any) -> Any:
        if not self._liq_ccxt_book_frame(client, message, subscription):
            return super().handle_order_book(client, message, subscription)

    def handle_checksum(self, client: Any, message: Any, subscription: Any) -> Any:
        if not self._liq_ccxt_book_frame(client, message, subscription):
            return super().handle_checksum(client, message, subscription)

    def liq_on_channel(self, client: Any, chan: str, msg: Any) -> None:
        """One frame of a book channel: snapshot, level update, ``cs`` or ``hb``. O(levels in the
        frame); a checksum O(25)."""
        symbol, current = self.liq_channels[chan]
        live = self.liq_book(symbol)
        body = msg[1] if type(msg) is list and len(msg) > 1 else None
        if not current:           # in flight on a channel being resynced: never applied
            live.stats.messages += 1
            live.stats.stale_skipped += 1
            return
        if body == "hb":
            live.stats.messages += 1
            return
        try:
            if body == "cs":
                live.stats.messages += 1
                if live.state != "live":
                    live.stats.stale_skipped += 1
                    return
                live.book.verify_checksum(self.checksum_kind, int(msg[2]))  # raises ChecksumError
                live.stats.checksum_ok += 1
                return
            if type(body) is not list:
                raise ValueError(f"bitfinex {symbol}: unexpected book frame {str(msg)[:80]}")
            shell: ShellOrderBook | None
            if not body or type(body[0]) is list:          # snapshot (an empty book: [])
                length = self.liq_lengths.get(symbol, DEFAULT_LENGTH)
                live.resize(max(length, _CHECKSUM_LEVELS))
                live.client_url = client.url
                bids, asks = _split(body)
                live.load_snapshot(bids, asks)
                shell = self.liq_shell(symbol, live, length)
            else:
                shell = self.liq_delta_shell(symbol, live)
                if shell is None:
                    return
                price, count, amount = body[0], body[1], _plain(body[2])
                ask = amount.startswith("-")
                level = (_plain(price), "0" if count == "0" else (amount[1:] if ask else amount))
                if ask:
                    live.apply((), (level,))
                else:
                    live.apply((level,), ())
            self.liq_publish(client, live, shell)
        except Exception as exc:      # checksum mismatch, bad level: resync this book
            self.liq_fail(client, live, exc)

    # ------------------------------------------------------------------- resync
    def liq_unsubscribe_request(self, client: Any, live: LiveBook) -> dict | None:
        chan = self._liq_chan_of.pop(live.symbol, None)
        if chan is None or chan not in self.liq_channels:
            return None
        self.liq_channels[chan][1] = False     # from now on its frames are skipped
        return {"event": "unsubscribe", "chanId": int(chan)}

    def liq_unsubscribe_ack_key(self, request: dict) -> str:
        return str(request["chanId"])

    def liq_own_unsubscribe_ack(self, client: Any, msg: dict) -> bool:
        """True when an ``unsubscribed`` acknowledges one of the engine's resync unsubscribes (the
        channel is then forgotten); False leaves it to ccxt (a user's ``un_watch_order_book``)."""
        chan = str(msg.get("chanId"))
        if not self.liq_take_unsubscribe_ack(chan):
            return False
        self.liq_channels.pop(chan, None)
        client.subscriptions.pop(chan, None)       # ccxt's record of the old channel
        return True
