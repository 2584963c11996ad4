"""Replay liqcore recordings through the live feed adapters themselves (not only the sans-I/O handlers).

A recording made by the live feed (:class:`~liqcore.recorder.Recorder` passed to
:class:`~liqcore.feed.LiveFeed`) holds every websocket frame as received, labelled with the
connection URL, and every REST snapshot body. :func:`replay_through_adapters` builds the same
adapter classes the feed uses (``create_exchange``: ``BinanceEngine``, ``OkxEngine``...) and hands
each recorded frame to a ccxt ``Client`` for the recorded URL — never connected — through the
exact entry point the receive loop uses (``client.handle_text_or_binary_message``, patched by the
adapter), so the frame handler, the C frame path (or the Python path), the sync procedure,
sequence and checksum checks and resync reactions are the live ones.

What a replay has to stand in for, because it is not in the frames:

* Binance's SUBSCRIBE bookkeeping: a book's subscription starts at its first depth frame, and again
  at each recorded ``SUBSCRIBE`` of its depth stream (kind ``"sent"``: a reconnect or a resync;
  ``liq_begin_sync(client, symbol)``, what ccxt's ack handler calls); in a recording without what
  was sent, at each subscription ack (``{"result": null, "id": n}``) after a resync dropped the book
  (a reconnect's gap is then found by the book, which waits for the next such ack);
* the REST snapshot request: the recorded body is given to ``liq_on_snapshot_body``, what the
  snapshot task calls with the response;
* markets metadata: pass the live session's ``markets`` per exchange, or they are derived from the
  recorded ids (Binance ``BTCUSDT`` -> ``BTC/USDT``, OKX ``BTC-USDT`` -> ``BTC/USDT``; 8 decimals).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import orjson

from liqcore.errors import SnapshotTooOld
from liqcore.exchanges.binance import subscribed_depth
from liqcore.recorder import RecordingReader
from liqcore.recordings import Record

__all__ = ["AdapterReplay", "replay_through_adapters"]

_QUOTES = ("USDT", "USDC", "FDUSD", "TUSD", "BUSD", "USD", "EUR", "BTC", "ETH", "BNB")


def _binance_market(market_id: str, spot: bool) -> dict[str, Any]:
    base, quote = next(((market_id[: -len(q)], q) for q in _QUOTES if market_id.endswith(q)), (market_id, ""))
    symbol = f"{base}/{quote}" if spot else f"{base}/{quote}:{quote}"
    return {"id": market_id, "symbol": symbol, "base": base, "quote": quote, "baseId": base, "quoteId": quote,
            "settle": None if spot else quote, "settleId": None if spot else quote,
            "type": "spot" if spot else "swap", "spot": spot, "margin": False, "swap": not spot, "future": False,
            "option": False, "active": True, "contract": not spot, "linear": None if spot else True,
            "inverse": None if spot else False, "lowercaseId": market_id.lower(),
            "precision": {"price": 1e-8, "amount": 1e-8}, "limits": {}, "info": {}}


def _okx_market(inst_id: str) -> dict[str, Any]:
    parts = inst_id.split("-")
    base, quote = parts[0], parts[1] if len(parts) > 1 else ""
    swap = len(parts) > 2 and parts[2] == "SWAP"
    symbol = f"{base}/{quote}" + (f":{quote}" if swap else "")
    return {"id": inst_id, "symbol": symbol, "base": base, "quote": quote, "baseId": base, "quoteId": quote,
            "settle": quote if swap else None, "type": "swap" if swap else "spot", "spot": not swap,
            "swap": swap, "margin": False, "future": False, "option": False, "active": True, "contract": swap,
            "linear": True if swap else None, "inverse": False if swap else None,
            "precision": {"price": 1e-8, "amount": 1e-8}, "limits": {}, "info": {"instType": "SWAP" if swap else "SPOT"}}


class AdapterReplay:
    """Recorded frames of one exchange through its live adapter (see the module docstring).

    Parameters
    ----------
    exchange : ccxt id with a liqcore adapter (``binance``, ``binanceusdm``, ``okx``)
    markets : the markets (list of ccxt market dicts) the live session used; derived when None
    fast_path : the adapters' C frame path (False: the Python path)

    Must be created and used inside a running event loop (ccxt's clients need one);
    :meth:`close` releases the exchange.
    """

    def __init__(self, exchange: str, *, markets: Iterable[Mapping[str, Any]] | None = None,
                 fast_path: bool = True) -> None:
        from liqcore.feed.adapters import create_exchange
        from liqcore.feed.engine import EngineMixin

        self.ex = create_exchange(exchange, {"enableRateLimit": False})
        if not isinstance(self.ex, EngineMixin):
            raise ValueError(f"{exchange}: no liqcore adapter to replay through")
        self.ex.liq_fast_path = fast_path
        self.exchange = exchange
        self._binance = hasattr(self.ex, "liq_begin_sync")
        self._derived = markets is None
        self._markets: dict[str, dict[str, Any]] = {m["symbol"]: dict(m) for m in (markets or [])}
        if self._markets:
            self.ex.set_markets(list(self._markets.values()))
        self.frames = 0
        self.snapshots_too_old = 0
        self._ack_url: str | None = None
        self._derived_ids: set[str] = set()

    @property
    def books(self) -> dict[str, Any]:
        """unified symbol -> LiveBook (state, stats, the compiled book)."""
        return dict(self.ex.liq_books)

    def _ensure_market(self, market_id: str, maker: Any) -> None:
        if not self._derived or market_id in self._derived_ids:
            return
        self._derived_ids.add(market_id)
        m = maker()
        if m["symbol"] not in self._markets:
            self._markets[m["symbol"]] = m
            self.ex.set_markets(list(self._markets.values()))

    def on_record(self, rec: Record) -> None:
        """Hand one record to the adapter (frames of other exchanges are ignored)."""
        if rec.exchange and rec.exchange != self.exchange:
            return
        if rec.kind == "rest":
            self._on_rest(rec)
            return
        if rec.kind == "sent":
            if self._binance:
                self._binance_sent(rec)
            return
        if rec.kind != "recv":
            return
        self.frames += 1
        client = self._client(rec)
        raw = rec.raw
        text = raw.decode() if isinstance(raw, (bytes, bytearray, memoryview)) else str(raw)
        if self._binance:
            self._binance_subscriptions(client, text)
        elif self._derived and '"instId":"' in text:
            i = text.index('"instId":"') + 10
            inst = text[i:text.index('"', i)]
            self._ensure_market(inst, lambda: _okx_market(inst))
        client.handle_text_or_binary_message(text)

    def _binance_subscriptions(self, client: Any, text: str) -> None:
        ex = self.ex
        if '"depthUpdate"' in text:
            i = text.find('"s":"')
            if i < 0:
                return
            mid = text[i + 5:text.index('"', i + 5)]
            spot = ex.is_spot_url(client)
            self._ensure_market(("" if spot else "swap:") + mid, lambda: _binance_market(mid, spot))
            symbol = ex.liq_market_symbol(client, mid, None)
            if symbol is not None and symbol not in ex.liq_books:   # its subscription's first frame
                self._subscribe(client, symbol)
        elif text.startswith('{"result":null'):            # a SUBSCRIBE ack: dropped books resubscribe
            self._ack_url = client.url
            for symbol, live in ex.liq_books.items():
                if symbol not in ex.orderbooks and live.client_url == client.url:
                    self._subscribe(client, symbol)

    def _binance_sent(self, rec: Record) -> None:
        """A recorded SUBSCRIBE naming known books' depth streams: their new subscriptions start
        here, as they did live."""
        try:
            msg = orjson.loads(rec.raw)
        except orjson.JSONDecodeError:
            return
        ex = self.ex
        client = self._client(rec)
        for market_id in subscribed_depth(msg):
            symbol = ex.liq_market_symbol(client, market_id, None)
            if symbol is not None and symbol in ex.liq_books:
                self._subscribe(client, symbol)

    def _client(self, rec: Record) -> Any:
        """ccxt's client of the connection ``rec`` was received or sent on."""
        return self.ex.client(rec.url or "ws://replay")

    def _subscribe(self, client: Any, symbol: str) -> None:
        live = self.ex.liq_begin_sync(client, symbol)
        live.message_hash = self.ex.liq_message_hash(symbol)
        self.ex.liq_shell(symbol, live)

    def _on_rest(self, rec: Record) -> None:
        if not self._binance:
            return
        ex = self.ex
        live = ex.liq_books.get(rec.symbol) if rec.symbol else None
        if live is None and rec.symbol and "/" in rec.symbol:
            base, rest = rec.symbol.split("/", 1)
            quote, spot = rest.split(":")[0], ":" not in rest
            self._ensure_market(("" if spot else "swap:") + base + quote,
                                lambda: _binance_market(base + quote, spot))
        if live is None and rec.symbol and self._ack_url is not None and rec.symbol in (ex.markets or {}):
            # the response came before any depth frame: the subscription began at the last ack
            self._subscribe(ex.client(self._ack_url), rec.symbol)
            live = ex.liq_books[rec.symbol]
        if live is None or live.symbol not in ex.orderbooks:
            return                                          # not subscribed (dropped before the response)
        client = ex.client(live.client_url)
        body = bytes(rec.raw)
        try:
            ex.liq_on_snapshot_body(client, live, orjson.loads(body), body)
        except SnapshotTooOld:
            self.snapshots_too_old += 1                     # the live task fetched again: the next record
        except Exception as exc:
            ex.liq_fail(client, live, exc)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ex.close()


async def replay_through_adapters(paths: str | Path | Sequence[str | Path], *, fast_path: bool = True,
                                  markets: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
                                  ) -> dict[tuple[str, str], Any]:
    """Replay liqcore recordings through the live adapters; ``(exchange, symbol) -> LiveBook``.

    ``markets``: per exchange id, the live session's markets (``exchange.markets.values()``);
    derived from the recorded ids otherwise. Exchanges without a liqcore adapter are skipped.
    """
    from liqcore.feed.adapters import ADAPTERS

    if isinstance(paths, (str, Path)):
        paths = [paths]
    replays: dict[str, AdapterReplay] = {}
    try:
        for path in paths:
            for rec in RecordingReader(path):
                ex_id = rec.exchange
                if not ex_id or ex_id not in ADAPTERS:
                    continue
                r = replays.get(ex_id)
                if r is None:
                    r = replays[ex_id] = AdapterReplay(ex_id, markets=(markets or {}).get(ex_id),
                                                       fast_path=fast_path)
                r.on_record(rec)
                await asyncio.sleep(0) if r.frames % 1000 == 0 else None
        return {(ex_id, sym): live for ex_id, r in replays.items() for sym, live in r.books.items()}
    finally:
        for r in replays.values():
            await r.close()
