"""Kraken spot (websocket v2 ``book``) through ccxt.pro, books in the compiled core, Kraken's
CRC32 checksum verified in C from the frame's own decimal text.

Kraken v2 sends prices and quantities as JSON numbers written with the pair's precision
(``45285.2``, ``0.00100000``). ccxt decodes them with orjson into floats, which lose the
trailing zeros the checksum hashes; its own checksum code then fails (off by default). Here
book frames never reach ccxt's decoder: :func:`kraken_frame_handler` decodes them with every
number kept as its exact text, and the compiled book stores those strings' decimals, so
``verify_checksum("kraken", ...)`` rebuilds Kraken's string (top 10 asks then bids, ``.``
removed, leading zeros stripped) exactly. Kraken sends no sequence numbers: the checksum after
every message (snapshots too) is the only consistency check, so a lost, duplicated-out-of-order
or corrupted message shows up as a checksum mismatch.

The book keeps the subscribed depth (``max_depth``: Kraken's rule "truncate your book to the
subscribed depth after each update"; levels that fall out of scope get no delete). A mismatch
marks the book stale; the watch loop unsubscribes and resubscribes on the same socket
(:mod:`liqcore.feed.resubscribe`) and Kraken answers with a fresh snapshot.
"""

from __future__ import annotations

import json
from typing import Any

import ccxt.pro

from liqcore.feed.engine import _MALFORMED, EngineMixin, ShellOrderBook, decode_frame
from liqcore.feed.live_book import LiveBook
from liqcore.feed.resubscribe import ResubscribeMixin

__all__ = ["KrakenEngine", "kraken_frame_handler", "decode_exact", "DEFAULT_DEPTH"]

#: Kraken's default book depth (ccxt subscribes without ``depth`` unless given a limit)
DEFAULT_DEPTH = 10

_decoder = json.JSONDecoder(parse_float=str, parse_int=str)


def decode_exact(exchange: Any, client: Any, data: str) -> Any:
    """Decode a JSON frame with every number as its exact text (``0.00100000`` stays
    ``"0.00100000"``); malformed frames are counted and ``_MALFORMED`` returned."""
    try:
        return _decoder.decode(data)
    except ValueError:
        exchange.liq_malformed += 1
        return _MALFORMED


def kraken_frame_handler(exchange: Any, client: Any, data: str) -> None:
    """Fast dispatch: ``book`` frames (decoded exactly) to the engine, everything else
    (status, heartbeats, pongs, acks, other channels) to ccxt's ``handle_message``."""
    if '"channel":"book"' in data[:64]:
        msg = decode_exact(exchange, client, data)
        if type(msg) is dict and msg.get("channel") == "book":
            exchange.liq_on_book(client, msg)
            return
        if msg is _MALFORMED:
            return
    msg = decode_frame(exchange, client, data)
    if msg is _MALFORMED:
        return
    exchange.handle_message(client, msg)


def _levels(side: Any) -> list[tuple[Any, Any]]:
    return [(lv["price"], lv["qty"]) for lv in side or ()]


class KrakenEngine(ResubscribeMixin, EngineMixin, ccxt.pro.kraken):
    """ccxt.pro ``kraken`` (spot, websocket v2) with books in the compiled core and Kraken's
    checksum verified on every message."""

    default_frame_handler = staticmethod(kraken_frame_handler)
    checksum_kind = "kraken"

    def __init__(self, config: dict | None = None, **liq_options: Any) -> None:
        super().__init__(config, **liq_options)
        #: symbol -> subscribed depth of its book
        self.liq_depths: dict[str, int] = {}

    def liq_message_hash(self, symbol: str) -> str:
        return "orderbook@" + symbol

    def handle_order_book(self, client: Any, message: dict) -> None:
        # ccxt's own dispatch lands here only if a book frame escaped the exact decoder
        # (floats: the book then renders them at its scales, the pair's precision)
        self.liq_on_book(client, message)

    def _liq_depth(self, client: Any, live: LiveBook) -> int:
        sub = client.subscriptions.get(live.message_hash)
        depth = sub.get("limit") if isinstance(sub, dict) else None
        return int(depth) if depth else DEFAULT_DEPTH

    def liq_on_book(self, client: Any, msg: dict) -> None:
        """One ``book`` message (snapshot or update; one entry per symbol in ``data``).
        O(levels in the message) + O(10) for the checksum."""
        kind = msg.get("type")
        for d in msg.get("data") or ():
            symbol = d.get("symbol")
            if symbol not in (self.markets or {}):
                continue
            live = self.liq_book(symbol)
            try:
                shell: ShellOrderBook | None
                if kind == "snapshot":
                    depth = self._liq_depth(client, live)
                    self.liq_depths[symbol] = depth
                    live.resize(depth)
                    live.client_url = client.url
                    live.load_snapshot(_levels(d.get("bids")), _levels(d.get("asks")))
                    shell = self.liq_shell(symbol, live, depth)
                else:
                    shell = self.liq_delta_shell(symbol, live)
                    if shell is None:
                        continue
                    live.apply(_levels(d.get("bids")), _levels(d.get("asks")))
                self.liq_verify_checksum(live, d.get("checksum"))
                shell["timestamp"] = self.parse8601(d.get("timestamp"))
                self.liq_publish(client, live, shell)
            except Exception as exc:      # checksum mismatch, bad levels: resync this book
                self.liq_fail(client, live, exc)

    def liq_verify_checksum(self, live: LiveBook, expected: Any) -> None:
        """Count one Kraken checksum: ok, absent, or raise ChecksumError (C comparison)."""
        st = live.stats
        if expected is None:
            st.checksum_absent += 1
            return
        live.book.verify_checksum(self.checksum_kind, expected)   # raises ChecksumError on a mismatch
        st.checksum_ok += 1

    def liq_narrow_subscribe(self, message: Any, subscription: Any, symbols: set[str]) -> tuple[Any, Any]:
        # params.symbol lists unified symbols (BTC/USD): a symbol still subscribed would get
        # Kraken's "Already subscribed" error
        params = message.get("params") if isinstance(message, dict) else None
        if not isinstance(params, dict) or params.get("channel") != "book":
            return message, subscription
        return dict(message, params=dict(params, symbol=[s for s in params.get("symbol", ()) if s in symbols])), \
            subscription

    def liq_unsubscribe_request(self, client: Any, live: LiveBook) -> dict | None:
        params: dict[str, Any] = {"channel": "book", "symbol": [live.symbol]}
        depth = self.liq_depths.get(live.symbol)
        if depth is not None and depth != DEFAULT_DEPTH:
            params["depth"] = depth
        return {"method": "unsubscribe", "params": params, "req_id": self.request_id()}
