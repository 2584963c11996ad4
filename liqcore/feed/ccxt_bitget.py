"""Bitget (websocket v2 ``books``: spot and USDT-M perpetuals) through ccxt.pro, books in the
compiled core, Bitget's checksum verified in C.

Channel ``books`` (every level): after each subscribe Bitget sends a ``snapshot``, then
``update`` messages with the changed levels (size ``"0"`` deletes), each with ``checksum`` (OKX's
algorithm: signed CRC32 of the best 25 bids and asks interleaved, over the wire strings:
``"0.5000"`` stays ``"0.5000"``), ``seq`` and ``ts``. Prices and sizes are JSON strings, so the
frame is decoded with orjson and the strings go verbatim into the book;
``verify_checksum("bitget", ...)`` then rebuilds Bitget's string in C (0 is a real Bitget
checksum, unlike OKX's). ccxt's own Bitget checksum code (which hashes its Python book) never
runs: book frames never reach ccxt's ``handle_order_book``, and its option is switched off.

Sequence rule. Bitget's docs promise only that ``seq`` "increases when the order book is
updated" and that "the seq of update incremental messages is incrementing except during symbol
maintenance" — not that it is contiguous (it is not: it counts internal updates). So, per book,
against the ``seq`` of the last snapshot or applied update:

* ``seq > last``: applied (any step);
* ``seq == last``: the same message again, skipped (``stale_skipped``);
* ``seq < last``: the stream went backwards — a packet out of order (a newer one was already
  applied, so this one cannot be) or a maintenance reset (continuity unknown): a gap, resynced.
  Skipping instead would freeze the book after a reset (skipped messages are never checksummed);
* no ``seq`` (older feeds, the 2022 v1 recording): only the checksum checks.

A lost message is caught by the checksum of the next one (the sequence cannot show it). The
rule is the core's ``increasing`` sequence rule (``OrderBook(sequence="bitget")``), checked in C
with the other venues' rules; ``seq`` is the book's ``last_update_id`` and ccxt's ``nonce``.
A gap or mismatch marks the book stale;
the watch loop unsubscribes and resubscribes on the same socket
(:mod:`liqcore.feed.resubscribe`) and Bitget answers with a fresh snapshot. The acknowledgement
of that unsubscribe is swallowed (ccxt would take it for a user's ``un_watch_order_book`` and
reject the new subscription's watcher).

``watch_order_book``'s ``limit`` does not select Bitget's fixed-depth channels (``books1/5/15``
are full snapshots, not incremental): the engine always subscribes ``books``.
"""

from __future__ import annotations

from typing import Any

import ccxt.pro

from liqcore.feed.ccxt_okx import verify_checksum
from liqcore.feed.engine import _MALFORMED, EngineMixin, ShellOrderBook, decode_frame
from liqcore.feed.live_book import LiveBook
from liqcore.feed.resubscribe import ResubscribeMixin

__all__ = ["BitgetEngine", "bitget_frame_handler", "ENGINE_CHANNELS"]

#: Bitget's incremental book channel (the engine's); books1/5/15/50 stay with ccxt
ENGINE_CHANNELS = frozenset({"books"})


def bitget_frame_handler(exchange: Any, client: Any, data: str) -> None:
    """Fast dispatch: ``books`` frames to the engine, acknowledgements of the engine's own
    unsubscribes swallowed, the rest (``pong``, events, errors, other channels) to ccxt's
    ``handle_message``."""
    msg = decode_frame(exchange, client, data)
    if msg is _MALFORMED:
        return
    if type(msg) is dict:
        arg = msg.get("arg")
        if type(arg) is dict and arg.get("channel") in ENGINE_CHANNELS:
            if "action" in msg:
                exchange.liq_on_books(client, msg)
                return
            if msg.get("event") == "unsubscribe" and exchange.liq_own_unsubscribe_ack(arg):
                return
    exchange.handle_message(client, msg)


class BitgetEngine(ResubscribeMixin, EngineMixin, ccxt.pro.bitget):
    """ccxt.pro ``bitget`` with books in the compiled core, Bitget's checksum verified in C and
    its ``seq`` checked (see the module docstring for the rule)."""

    default_frame_handler = staticmethod(bitget_frame_handler)
    checksum_kind = "bitget"

    def __init__(self, config: dict | None = None, **liq_options: Any) -> None:
        super().__init__(config, **liq_options)
        # belt and braces: ccxt's checksum would hash its (empty) Python book
        self.options.setdefault("watchOrderBook", {})["checksum"] = False
        self._liq_bitget_symbols: dict[tuple[str, str], str | None] = {}

    def liq_message_hash(self, symbol: str) -> str:
        return "orderbook:" + symbol

    async def watch_order_book(self, symbol: str, limit: int | None = None, params: dict = {}) -> Any:  # noqa: B006
        # always the incremental, checksummed ``books`` channel (see the module docstring)
        return await super().watch_order_book(symbol, None, params)

    def handle_order_book(self, client: Any, message: dict) -> Any:
        arg = message.get("arg") or {}
        if arg.get("channel") in ENGINE_CHANNELS:
            return self.liq_on_books(client, message)
        return super().handle_order_book(client, message)

    def _liq_market_symbol(self, arg: dict) -> str | None:
        """Unified symbol of a message's ``arg`` (spot and perpetual share ids: ``instType``
        decides, as in ccxt), None for a market not loaded. Cached: O(1) after the first."""
        key = (str(arg.get("instType", "")).upper(), str(arg.get("instId")))
        if key not in self._liq_bitget_symbols:
            market = self.safe_market(key[1], None, None, "spot" if key[0] == "SPOT" else "contract")
            sym = market["symbol"]
            self._liq_bitget_symbols[key] = sym if sym in (self.markets or {}) else None
        return self._liq_bitget_symbols[key]

    def liq_on_books(self, client: Any, msg: dict) -> None:
        """One ``books`` message (snapshot or update; one ``data`` entry per message).
        O(levels in the message) + O(25) for the checksum."""
        symbol = self._liq_market_symbol(msg["arg"])
        if symbol is None:
            return
        live = self.liq_book(symbol)
        action = msg.get("action")
        for d in msg.get("data") or ():
            try:
                seq = d.get("seq")
                seq = None if seq is None else int(seq)
                shell: ShellOrderBook | None
                if action == "snapshot":
                    live.client_url = client.url
                    live.book.sequence = None if seq is None else "bitget"   # no seq: checksums only
                    live.load_snapshot(d.get("bids") or (), d.get("asks") or (), seq)
                    shell = self.liq_shell(symbol, live)
                else:
                    shell = self.liq_delta_shell(symbol, live)
                    if shell is None:
                        continue
                    if not live.apply(d.get("bids") or (), d.get("asks") or (), seq):
                        continue                           # the same message again: nothing changed
                verify_checksum(live, self.checksum_kind, d.get("checksum"))
                shell["nonce"] = seq
                ts = d.get("ts")
                shell["timestamp"] = None if ts is None else int(ts)
                self.liq_publish(client, live, shell)
            except Exception as exc:      # backwards seq, checksum, bad levels: resync this book
                self.liq_fail(client, live, exc)
                break

    # ------------------------------------------------------------------ resync
    def _liq_arg(self, symbol: str) -> dict[str, str]:
        market = self.market(symbol)
        inst_type = "SPOT" if market["spot"] else self.get_inst_type("watchOrderBookForSymbols", market, False, {})[0]
        return {"instType": inst_type, "channel": "books", "instId": market["id"]}

    def liq_unsubscribe_request(self, client: Any, live: LiveBook) -> dict | None:
        return {"op": "unsubscribe", "args": [self._liq_arg(live.symbol)]}

    def liq_unsubscribe_ack_key(self, request: dict) -> tuple[str, str]:
        arg = request["args"][0]
        return (arg["instType"], arg["instId"])

    def liq_own_unsubscribe_ack(self, arg: dict) -> bool:
        """True when an ``unsubscribe`` acknowledgement answers one of the engine's resync
        unsubscribes (:meth:`liq_take_unsubscribe_ack`); False leaves it to ccxt (a user's
        ``un_watch_order_book``)."""
        return self.liq_take_unsubscribe_ack((str(arg.get("instType", "")).upper(), str(arg.get("instId"))))
