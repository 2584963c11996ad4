"""Bitget (websocket v2 ``books``: spot and USDT-M perpetuals) through ccxt.pro: the venue's
protocol (:mod:`liqcore.exchanges.bitget`: the ``seq`` rule, Bitget's checksum verified in C) drives
the books; ccxt keeps the connection, subscriptions, markets and REST, and never sees a book frame
(its own checksum code, which would hash its empty Python book, is switched off as well).

A gap or mismatch marks the book stale; the watch loop unsubscribes and resubscribes on the same
socket (:mod:`liqcore.feed.resubscribe`) and Bitget answers with a fresh snapshot. The
acknowledgement of that unsubscribe is swallowed (ccxt would take it for a user's
``un_watch_order_book`` and reject the new subscription's watcher).

``watch_order_book``'s ``limit`` does not select Bitget's fixed-depth channels (``books1/5/15``
are whole snapshots, not incremental): the engine always subscribes ``books``.
"""

from __future__ import annotations

from typing import Any

import ccxt.pro

from liqcore.exchanges.bitget import BitgetProtocol
from liqcore.feed.engine import EngineMixin
from liqcore.feed.live_book import LiveBook
from liqcore.feed.resubscribe import ResubscribeMixin

__all__ = ["BitgetEngine"]


class BitgetEngine(ResubscribeMixin, EngineMixin, ccxt.pro.bitget):
    """ccxt.pro ``bitget`` with books in the compiled core, Bitget's checksum verified in C and
    its ``seq`` checked (see the module docstring for the rule)."""

    protocol_class = BitgetProtocol

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

    def liq_market_symbol(self, client: Any, market_id: str, market_type: str | None) -> str | None:
        """Spot and perpetual markets share ids: ``instType`` decides, as in ccxt; None for a
        market not loaded. Cached: O(1) after the first."""
        key = (market_type or "", market_id)
        if key not in self._liq_bitget_symbols:
            market = self.safe_market(market_id, None, None, "spot" if market_type == "SPOT" else "contract")
            sym = market["symbol"]
            self._liq_bitget_symbols[key] = sym if sym in (self.markets or {}) else None
        return self._liq_bitget_symbols[key]

    def liq_other(self, client: Any, msg: Any) -> None:
        key = BitgetProtocol.unsubscribe_ack(msg)
        if key is not None and self.liq_take_unsubscribe_ack(key):
            return                    # the acknowledgement of the engine's own resync unsubscribe
        self.handle_message(client, msg)

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
