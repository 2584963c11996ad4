"""Binance spot, USDⓈ-M and COIN-M through ccxt.pro: the venue's protocol
(:mod:`liqcore.exchanges.binance`) drives the books.

ccxt keeps the connection, SUBSCRIBE/ack bookkeeping, markets and REST. Every frame goes to
:class:`~liqcore.exchanges.binance.BinanceProtocol` (Binance's buffer-snapshot-replay procedure
and its sequence rules, in C; ``depthUpdate`` frames parsed in C straight into their book on the
native frame path), which hands other frames back to ccxt. What is left here is ccxt's side:

* the subscription ack (``handle_order_book_subscription``) starts a sync of each book
  (:meth:`~liqcore.exchanges.binance.BinanceProtocol.begin`) and ccxt's snapshot task;
* the snapshot task (``fetch_order_book_snapshot``) fetches the REST depth through ccxt, keeps its body
  as the text Binance sent (ccxt does not decode it: ``parse_json``) and hands it to the protocol,
  which parses it once in C, fetching again (``liq_snapshot_tries``) when it is older than the
  buffered stream (:class:`~liqcore.errors.SnapshotTooOld`);
* message hashes and the market of a frame (a market id like ``BTCUSDT`` names a spot market on a
  spot socket and a swap on a futures socket).

ccxt's own U/u/pu checks are not run (its ``checksum=False`` option would freeze the book silently
on a gap); a gap marks the book stale and drops ccxt's subscription and book, so the next
``watch_order_book`` re-SUBSCRIBEs on the same socket and fetches a fresh snapshot.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import Any, Mapping

import ccxt.pro
import orjson

from liqcore.errors import FormatError, SnapshotTooOld
from liqcore.exchanges.binance import BinanceCoinmProtocol, BinanceProtocol, BinanceUsdmProtocol
from liqcore.feed.engine import EngineMixin
from liqcore.feed.live_book import LiveBook

__all__ = ["BinanceEngine", "BinanceUsdmEngine", "BinanceCoinmEngine"]

#: set while liq_fetch_depth's request runs (in its task): parse_json keeps a depth body as text
_RAW_DEPTH: ContextVar[bool] = ContextVar("liqcore_binance_raw_depth", default=False)
#: the key of the one-entry dict parse_json hands ccxt in place of the decoded snapshot
_TEXT_KEY = "liqcoreText"


class _BinanceEngineBase(EngineMixin):
    protocol_class = BinanceProtocol
    liq_protocol: BinanceProtocol
    #: REST snapshots tried per sync when the snapshot is older than the buffered stream
    liq_snapshot_tries = 3

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.liq_protocol.buffer_limit = self.liq_buffer_limit

    def liq_sequence_rule(self, market: dict) -> str:
        return "binance_spot" if market.get("spot") else "binance_futures"

    def liq_market_symbol(self, client: Any, market_id: str, market_type: str | None) -> str | None:
        # the client url decides spot vs swap for an id like BTCUSDT (ccxt's is_spot_url)
        return super().liq_market_symbol(client, market_id, "spot" if self.is_spot_url(client) else "swap")

    # ------------------------------------------------------------------ sync
    def liq_begin_sync(self, client: Any, symbol: str) -> LiveBook:
        """A (re)subscription of ``symbol`` on ``client`` starts (what the SUBSCRIBE ack does): its
        frames are buffered until the snapshot; the book keeps its last levels (stale) until then."""
        live = self.liq_book(symbol)
        live.client_url = client.url
        self.liq_protocol.begin(client, live, self.market(symbol)["id"])
        return live

    def liq_on_snapshot_body(self, client: Any, live: LiveBook, raw: Mapping[str, Any] | None,
                             body: bytes | str | None = None) -> int:
        """A REST snapshot arrived for ``live`` (subscribed on ``client``; ``body`` its JSON text as
        received, ``raw`` decoded, or None to decode ``body`` when the decoded path needs it): the
        protocol loads it and the buffered frames, publishes and resolves ccxt's watcher. Returns
        the buffered frames applied. Raises SnapshotTooOld (fetch again), FormatError or the
        book's error. Used by the snapshot task and by replays of recordings
        (:mod:`liqcore.replay.adapter`)."""
        if self.liq_fast_path and body is not None:
            return self.liq_protocol.on_snapshot(client, live, body)
        if raw is None:
            try:
                raw = orjson.loads(body or b"")
            except orjson.JSONDecodeError as exc:
                raise FormatError(f"{self.id}: the depth snapshot is not JSON: {exc}") from None
        return self.liq_protocol.on_snapshot(client, live, raw)

    # ------------------------------------------------------------ ccxt hooks
    # ccxt calls this on the SUBSCRIBE ack; it creates the (shell) book and spawns the snapshot task
    def handle_order_book_subscription(self, client: Any, message: Any, subscription: dict) -> None:
        symbols = subscription.get("symbols") or [subscription.get("symbol")]
        for symbol in symbols:
            self.liq_begin_sync(client, symbol)
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

    # -------------------------------------------------------------- snapshot
    async def liq_fetch_depth(self, symbol: str, limit: int, market_type: str | None) -> str:
        """The REST depth snapshot's JSON text as Binance sent it (ccxt makes the request: signing,
        rate limits, errors; it does not decode a depth body it fetches for us: ``parse_json``)."""
        market = self.market(symbol)
        request = {"symbol": market["id"], "limit": limit}
        token = _RAW_DEPTH.set(True)      # this task's requests only (a context variable)
        try:
            if market_type == "linear" or market.get("linear"):
                got = await self.fapiPublicGetDepth(request)
            elif market_type == "inverse" or market.get("inverse"):
                got = await self.dapiPublicGetDepth(request)
            else:
                got = await self.publicGetDepth(request)
        finally:
            _RAW_DEPTH.reset(token)
        text = got.get(_TEXT_KEY) if isinstance(got, dict) else None
        if type(text) is not str:
            raise FormatError(f"{self.id}: the depth response is not a snapshot: {str(got)[:80]!r}")
        return text

    def parse_json(self, http_response: Any) -> Any:
        # ccxt decodes every REST body here (json.loads, ~0.4 ms for 1000 levels a side); a depth
        # snapshot liq_fetch_depth asked for stays text: the protocol parses it once, in C
        if _RAW_DEPTH.get() and type(http_response) is str and '"lastUpdateId"' in http_response[:40]:
            return {_TEXT_KEY: http_response}
        return super().parse_json(http_response)

    async def fetch_order_book_snapshot(self, client: Any, message: Any, subscription: dict) -> None:
        symbol = subscription["symbol"]
        live = self.liq_book(symbol)
        try:
            limit = subscription.get("limit") or self.safe_integer(self.options, "watchOrderBookLimit", 1000)
            for attempt in range(self.liq_snapshot_tries):
                text = await self.liq_fetch_depth(symbol, limit, subscription.get("type"))
                if symbol not in self.orderbooks or client.closed() or self.clients.get(client.url) is not client:
                    return          # dropped (resync/unwatch/disconnect) while the request ran
                body = text.encode()
                if self.liq_recorder is not None:
                    self._liq_record(body, stream="rest", symbol=symbol, kind="rest")
                try:
                    self.liq_on_snapshot_body(client, live, None, body)
                    break
                except SnapshotTooOld:
                    # older than the buffered stream (Binance step 4): fetch again
                    if attempt + 1 == self.liq_snapshot_tries:
                        raise
                    await asyncio.sleep(0.05 * (attempt + 1))
        except Exception as exc:
            self.liq_fail(client, live, exc)


class BinanceEngine(_BinanceEngineBase, ccxt.pro.binance):
    """ccxt.pro ``binance`` (spot; also its swap markets) with books in the compiled core."""


class BinanceUsdmEngine(_BinanceEngineBase, ccxt.pro.binanceusdm):
    """ccxt.pro ``binanceusdm`` (USDⓈ-M futures) with books in the compiled core."""

    protocol_class = BinanceUsdmProtocol


class BinanceCoinmEngine(_BinanceEngineBase, ccxt.pro.binancecoinm):
    """ccxt.pro ``binancecoinm`` (COIN-M futures) with books in the compiled core."""

    protocol_class = BinanceCoinmProtocol
