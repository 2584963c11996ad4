"""Market data other than books, as typed records: trades, funding rates, mark prices,
liquidations and open interest, through ccxt.pro (websocket) or ccxt REST (polling).

::

    from liqcore.feed import MarketData

    async with MarketData([("binanceusdm", "BTC/USDT:USDT", "trades"),
                           ("binanceusdm", "BTC/USDT:USDT", "funding"),
                           ("binanceusdm", "BTC/USDT:USDT", "liquidations"),
                           ("okx", "BTC/USDT:USDT", "open_interest")]) as md:
        unsubscribe = md.subscribe(print, kind="liquidations")      # callbacks, in the receive path
        async for rec in md:                                        # or an iterator of every record
            ...                                                     # Trade / FundingRate / ...
        md.stats("binanceusdm", "BTC/USDT:USDT", "trades")

One task per stream ``(exchange, symbol, kind)``. How each kind is served, in order of preference:

========================  ===============================================  ============================
kind (record)             websocket (ccxt.pro)                             polling (ccxt REST)
========================  ===============================================  ============================
``trades`` (Trade)        ``watch_trades`` (Binance: the ``aggTrade``       ``fetch_trades``
                          stream, whose ids match REST ``fetch_trades``)
``funding`` (FundingRate) ``watch_funding_rate``; Binance: the funding      ``fetch_funding_rate``
                          inside ``watch_mark_price``; Bybit contracts:
                          the ``tickers`` stream (``watch_ticker``)
``mark`` (MarkPrice)      ``watch_mark_price``; Bybit contracts:            ``fetch_mark_price``
                          ``watch_ticker``
``liquidations``          ``watch_liquidations`` (Binance, Bybit, OKX;      ``fetch_liquidations``
                          every entry ccxt cached since the last watch)
``open_interest``         none (no ccxt.pro exchange streams it)            ``fetch_open_interest``
========================  ===============================================  ============================

``poll={"funding", ...}`` forces polling for some kinds; an exchange instance without websockets
(``ccxt.async_support.*``) polls everything.

Robustness, as for books (:class:`~liqcore.feed.live.LiveFeed`): every error goes through
:func:`~liqcore.feed.retry.classify_error` — transient ones are retried after an exponential
backoff that resets on success (never a busy loop: ccxt can re-raise a parked rejection without
yielding), fatal ones (unknown symbol, unsupported channel) stop **that stream** with a
:class:`~liqcore.errors.MarketDataError` (the exchange's exception as ``__cause__``) while the
others continue. Trades are de-duplicated by id (the last ``dedupe_window`` ids per stream), so a
duplicated frame, overlapping REST polls and the REST backfill after a reconnect (``backfill=True``:
``fetch_trades`` once the websocket is back, to recover trades missed while it was down) deliver
each trade once. An exception in ccxt's message handler is caught and counted (it would otherwise
stop ccxt's receive loop for the connection silently).

Semantics: trades are complete (ccxt buffers them between watches); mark price and funding are
*latest value* streams (a slow consumer gets the newest value, not every push); polled records are
delivered on every poll.

Ownership: the instance closes every exchange it uses (created or passed in).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Iterable, Mapping

from liqcore.errors import FeedConfigError, MarketDataError
from liqcore.feed import md_ccxt
from liqcore.feed.records import KINDS, FundingRate, Liquidation, MarkPrice, OpenInterest, Record, Trade
from liqcore.feed.retry import FATAL, Backoff, classify_error
from liqcore.feed.adapters import stock_exchange
from liqcore.feed.tasks import ExchangeSession

__all__ = ["MarketData", "MarketDataStream", "StreamStats", "KINDS"]

log = logging.getLogger("liqcore.feed.market_data")

RecordCallback = Callable[[Record], None]

#: words of ccxt's message hashes per kind (to find the frame that resolved a watch)
_HASH_WORDS = {"trades": ("trade",), "mark": ("mark", "ticker"), "funding": ("funding", "mark", "ticker"),
               "liquidations": ("liquidation",)}


@dataclass
class StreamStats:
    """Counters of one stream (all since start).

    ``messages``: successful watch returns / poll answers; ``records``: records delivered; ``batches``: watch returns / polls that delivered records;
    ``duplicates``: trades removed because their id was already delivered; ``errors``: failed
    watch/fetch calls (each followed by a backoff sleep, or the stream's end when fatal);
    ``reconnects``: recoveries (a successful call after errors); ``backfills`` /
    ``backfilled``: REST backfills after a reconnect and the new trades they found;
    ``backfill_errors``; ``calls``: watch/fetch calls; ``callback_errors``: exceptions raised
    by subscriber callbacks; ``foreign_errors``: fatal-looking errors that named another
    stream's channel or instrument (retried, see :func:`_names_other_stream`); ``last_recv_ns``: wall clock (ns) when the last delivered batch
    arrived; ``last_latency_ns``: frame received -> records delivered (monotonic ns; for polls,
    REST answer -> delivered).
    """

    messages: int = 0
    records: int = 0
    batches: int = 0
    duplicates: int = 0
    errors: int = 0
    reconnects: int = 0
    backfills: int = 0
    backfilled: int = 0
    backfill_errors: int = 0
    calls: int = 0
    callback_errors: int = 0
    foreign_errors: int = 0
    last_recv_ns: int = 0
    last_latency_ns: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class MarketDataStream:
    """One ``(exchange, symbol, kind)`` stream: its mode, state, last record and counters.

    ``state``: ``"starting"`` -> ``"live"`` (a call succeeded) <-> ``"retrying"`` (after a transient
    error) -> ``"failed"`` (fatal: ``error`` holds the :class:`MarketDataError`) or ``"closed"``.
    ``mode`` is ``"watch"`` or ``"poll"``, ``method`` the ccxt method used.
    """

    exchange: str
    symbol: str
    kind: str
    mode: str = ""
    method: str = ""
    state: str = "starting"
    error: MarketDataError | None = None
    last_error: BaseException | None = None
    last: Record | None = None
    stats: StreamStats = field(default_factory=StreamStats)
    market: dict[str, Any] | None = None
    # trade ids already delivered (insertion ordered, bounded)
    _seen: "OrderedDict[str, None]" = field(default_factory=OrderedDict, repr=False)
    _need_backfill: bool = field(default=False, repr=False)
    _first_trade_ms: int | None = field(default=None, repr=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.exchange, self.symbol, self.kind)


class _Sink:
    """One record iterator's queue (bounded: the oldest records are dropped when full)."""

    def __init__(self, kinds: frozenset[str] | None, maxlen: int) -> None:
        self.kinds = kinds
        self.items: deque[Record] = deque(maxlen=maxlen)
        self.event = asyncio.Event()
        self.dropped = 0

    def push(self, rec: Record) -> None:
        if self.kinds is not None and rec.KIND not in self.kinds:
            return
        if len(self.items) == self.items.maxlen:
            self.dropped += 1
        self.items.append(rec)
        self.event.set()


class MarketData(ExchangeSession):
    """Typed market-data streams for ``(exchange id, unified symbol, kind)`` triples.

    Parameters
    ----------
    streams : iterable of (str, str, str)
        ccxt exchange id, unified symbol, kind (``"trades"``, ``"funding"``, ``"mark"``,
        ``"liquidations"``, ``"open_interest"``).
    exchanges : mapping id -> exchange instance, optional
        Instances to use (e.g. pointed at the simulator with ``sim.attach``); others are created
        as stock ``ccxt.pro`` (or ``ccxt.async_support`` when ccxt.pro lacks the exchange) from
        ``config[id]``. Instances are prepared before their first connection (a receive-time hook
        on ``handle_message``); every instance is closed by :meth:`close`.
    config : mapping id -> dict, optional
        ccxt constructor config per exchange.
    poll : iterable of str
        Kinds to poll even where a websocket exists.
    poll_interval : float or mapping kind -> float
        Seconds between polls (default 1 s; per kind with a mapping, missing kinds 1 s).
    trades_limit : int
        ``limit`` of ``fetch_trades`` (polling and backfill).
    backfill : bool
        After a trades websocket error, fetch recent trades over REST once the stream is back.
    dedupe_window : int
        Trade ids remembered per stream for de-duplication.
    backoff : (initial, maximum) seconds of the retry backoff.
    queue_size : int
        Records kept per iterator for a slow consumer (the oldest are dropped beyond it and
        counted in :attr:`dropped`).
    binance_trade_stream : str
        Binance websocket trade stream: ``"aggTrade"`` (default; ids match ``fetch_trades``)
        or ``"trade"``.
    """

    def __init__(self, streams: Iterable[tuple[str, str, str]], *, exchanges: Mapping[str, Any] | None = None,
                 config: Mapping[str, dict] | None = None, poll: Iterable[str] = (),
                 poll_interval: float | Mapping[str, float] = 1.0, trades_limit: int = 500, backfill: bool = True,
                 dedupe_window: int = 10_000, backoff: tuple[float, float] = (0.05, 30.0),
                 queue_size: int = 100_000, binance_trade_stream: str = "aggTrade") -> None:
        self._streams: dict[tuple[str, str, str], MarketDataStream] = {}
        for ex_id, symbol, kind in streams:
            if kind not in KINDS:
                raise FeedConfigError(f"unknown market-data kind {kind!r}; one of {sorted(KINDS)}")
            key = (str(ex_id), str(symbol), kind)
            self._streams.setdefault(key, MarketDataStream(*key))
        if not self._streams:
            raise FeedConfigError("MarketData needs at least one (exchange, symbol, kind) stream")
        self.poll_kinds = frozenset(poll)
        unknown = self.poll_kinds - set(KINDS)
        if unknown:
            raise FeedConfigError(f"unknown kinds in poll: {sorted(unknown)}")
        if binance_trade_stream not in ("aggTrade", "trade"):
            raise FeedConfigError("binance_trade_stream must be 'aggTrade' or 'trade'")
        super().__init__(exchanges, config, backoff, poll_interval)
        self.trades_limit = trades_limit
        self.backfill = backfill
        self.dedupe_window = dedupe_window
        self.queue_size = queue_size
        self.binance_trade_stream = binance_trade_stream
        self._callbacks: list[tuple[RecordCallback, str | None, str | None, str | None]] = []
        self._sinks: list[_Sink] = []
        #: message handler exceptions caught per exchange (ccxt would stop the connection on them)
        self.handler_errors: dict[str, int] = {}

    # ------------------------------------------------------------------ lifecycle
    async def _open(self) -> None:
        for ex_id in dict.fromkeys(k[0] for k in self._streams):
            if ex_id not in self._exchanges:
                self._exchanges[ex_id] = stock_exchange(ex_id, self._config.get(ex_id))
            ex = self._exchanges[ex_id]
            self._instrument(ex_id, ex)
            if ex.markets is None:
                await ex.load_markets()
        for stream in self._streams.values():
            ex = self._exchanges[stream.exchange]
            self._tasks.append(asyncio.create_task(self._run(ex, stream),
                                                   name=f"liqcore-md {stream.exchange} {stream.symbol} {stream.kind}"))

    def _tasks_stopped(self) -> None:
        for s in self._streams.values():
            if s.state != "failed":
                s.state = "closed"

    def _closed(self) -> None:
        for sink in self._sinks:
            sink.event.set()

    # --------------------------------------------------------------------- access
    def stream(self, exchange: str, symbol: str, kind: str) -> MarketDataStream:
        try:
            return self._streams[(exchange, symbol, kind)]
        except KeyError:
            raise FeedConfigError(f"no market-data stream {exchange} {symbol} {kind}") from None

    @property
    def streams(self) -> list[MarketDataStream]:
        return list(self._streams.values())

    def latest(self, exchange: str, symbol: str, kind: str) -> Record | None:
        """The last record of a stream (None before the first)."""
        return self.stream(exchange, symbol, kind).last

    def stats(self, exchange: str, symbol: str, kind: str) -> dict[str, Any]:
        """Counters of one stream (:class:`StreamStats`) plus ``state``, ``mode``, ``method``,
        ``last_error``."""
        s = self.stream(exchange, symbol, kind)
        out: dict[str, Any] = s.stats.as_dict()
        out.update(state=s.state, mode=s.mode, method=s.method,
                   last_error=None if s.last_error is None else repr(s.last_error))
        return out

    @property
    def dropped(self) -> int:
        """Records dropped by full iterator queues (slow consumers), over all live iterators."""
        return sum(s.dropped for s in self._sinks)

    @property
    def failed(self) -> list[MarketDataStream]:
        return [s for s in self._streams.values() if s.state == "failed"]

    def subscribe(self, callback: RecordCallback, *, kind: str | None = None, exchange: str | None = None,
                  symbol: str | None = None) -> Callable[[], None]:
        """Call ``callback(record)`` for every new record matching the filters (synchronously, in
        the stream's task: keep it short; its exceptions are counted, never raised). Returns an
        unsubscribe function."""
        if kind is not None and kind not in KINDS:
            raise FeedConfigError(f"unknown market-data kind {kind!r}")
        entry = (callback, kind, exchange, symbol)
        self._callbacks.append(entry)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._callbacks.remove(entry)
        return unsubscribe

    async def records(self, kinds: Iterable[str] | None = None) -> AsyncIterator[Record]:
        """Every new record (optionally of some kinds), in delivery order. Ends when the instance
        closes; raises :class:`MarketDataError` once every stream has failed."""
        sink = _Sink(None if kinds is None else frozenset(kinds), self.queue_size)
        self._sinks.append(sink)
        try:
            while True:
                while sink.items:
                    yield sink.items.popleft()
                if self._closing:
                    return
                if all(s.state == "failed" for s in self._streams.values()):
                    first = next(iter(self._streams.values()))
                    raise MarketDataError(f"every market-data stream failed; first: {first.error}") from first.error
                sink.event.clear()
                await sink.event.wait()
        finally:
            self._sinks.remove(sink)

    def __aiter__(self) -> AsyncIterator[Record]:
        return self.records()

    async def wait_records(self, exchange: str, symbol: str, kind: str, n: int, timeout: float | None = None) -> None:
        """Wait until the stream has delivered ``n`` records in total (MarketDataError if it fails,
        asyncio.TimeoutError after ``timeout`` s)."""
        s = self.stream(exchange, symbol, kind)

        async def _wait() -> None:
            while s.stats.records < n:
                if s.state == "failed":
                    raise MarketDataError(f"{exchange} {symbol} {kind} failed") from s.error
                await asyncio.sleep(0.005)
        await asyncio.wait_for(_wait(), timeout)

    # ---------------------------------------------------------------- delivery
    def _deliver(self, stream: MarketDataStream, recs: list[Record], frame_mono_ns: int | None) -> None:
        if not recs:
            return
        now = time.monotonic_ns()
        st = stream.stats
        st.records += len(recs)
        st.batches += 1
        st.last_recv_ns = recs[-1].recv_ns
        st.last_latency_ns = now - frame_mono_ns if frame_mono_ns else 0
        stream.last = recs[-1]
        for rec in recs:
            for cb, kind, ex, sym in list(self._callbacks):
                if ((kind is None or kind == stream.kind) and (ex is None or ex == stream.exchange)
                        and (sym is None or sym == stream.symbol)):
                    try:
                        cb(rec)
                    except Exception:
                        st.callback_errors += 1
                        log.exception("market-data callback failed")
            for sink in self._sinks:
                sink.push(rec)

    def _new_trades(self, stream: MarketDataStream, trades: list[Trade]) -> list[Trade]:
        """Trades whose ids were not delivered yet, in (time, id) order; remembers them."""
        seen = stream._seen
        out = []
        for t in trades:
            if t.id in seen:
                stream.stats.duplicates += 1
                continue
            seen[t.id] = None
            out.append(t)
        while len(seen) > self.dedupe_window:
            seen.popitem(last=False)
        out.sort(key=lambda t: (t.ts_ms, _id_key(t.id)))
        if out and stream._first_trade_ms is None:
            stream._first_trade_ms = out[0].ts_ms
        return out

    # ------------------------------------------------------------ instrumentation
    def _instrument(self, ex_id: str, ex: Any) -> None:
        """Receive times and a safety net around ccxt's message handler (before any connection)."""
        if getattr(ex, "_liq_md_instrumented", False) or not hasattr(ex, "handle_message"):
            return
        ex._liq_md_instrumented = True
        ex._liq_md_frame = (0, 0)             # (wall ns, monotonic ns) of the frame being handled
        ex._liq_md_resolved = {}              # message hash -> (wall ns, monotonic ns) of its last frame
        handle = ex.handle_message
        make_client = ex.client
        self.handler_errors.setdefault(ex_id, 0)

        def handle_message(client: Any, message: Any) -> Any:
            ex._liq_md_frame = (time.time_ns(), time.monotonic_ns())
            try:
                return handle(client, message)
            except Exception:   # would silently stop ccxt's receive loop for this connection
                self.handler_errors[ex_id] = self.handler_errors.get(ex_id, 0) + 1
                log.exception("%s: ccxt handle_message raised; frame skipped", ex_id)
                return None

        def client(url: str) -> Any:
            c = make_client(url)
            if not getattr(c, "_liq_md_resolve", False):
                resolve = c.resolve

                def stamped_resolve(result: Any, message_hash: Any = None) -> Any:
                    ex._liq_md_resolved[message_hash] = ex._liq_md_frame
                    return resolve(result, message_hash)
                c.resolve = stamped_resolve
                c._liq_md_resolve = True
            return c

        ex.handle_message = handle_message
        ex.client = client

    @staticmethod
    def _frame_time(ex: Any, stream: MarketDataStream) -> tuple[int, int]:
        """(wall ns, monotonic ns) of the frame that resolved this stream's last watch."""
        resolved = getattr(ex, "_liq_md_resolved", None)
        best = (0, 0)
        if resolved:
            words = _HASH_WORDS.get(stream.kind, ())
            for h, stamp in resolved.items():
                hl = str(h).lower()
                if str(h).endswith(stream.symbol) and any(w in hl for w in words) and stamp[1] > best[1]:
                    best = stamp
        if best[1] == 0:
            best = getattr(ex, "_liq_md_frame", (0, 0))
        if best[1] == 0:
            best = (time.time_ns(), time.monotonic_ns())
        return best

    # --------------------------------------------------------------------- tasks
    def _interval(self, kind: str) -> float:
        pi = self.poll_interval
        return float(pi.get(kind, 1.0)) if isinstance(pi, Mapping) else float(pi)

    def _plan(self, ex: Any, stream: MarketDataStream) -> tuple[str, str]:
        """(mode, ccxt method) for a stream on this exchange instance."""
        has = getattr(ex, "has", None) or {}
        ws = bool(has.get("ws")) and stream.kind not in self.poll_kinds
        kind = stream.kind
        if kind == "trades":
            if ws and has.get("watchTrades"):
                return "watch", "watch_trades"
            return "poll", "fetch_trades"
        bybit_ticker = ws and ex.id == "bybit" and has.get("watchTicker") and bool((stream.market or {}).get("contract"))
        if kind == "funding":
            if ws and has.get("watchFundingRate"):
                return "watch", "watch_funding_rate"
            if ws and has.get("watchMarkPrice") and ex.id.startswith("binance"):
                return "watch", "watch_mark_price"      # Binance: funding rides on the mark-price stream
            if bybit_ticker:
                return "watch", "watch_ticker"          # Bybit: funding and mark ride on tickers.{symbol}
            return "poll", "fetch_funding_rate"
        if kind == "mark":
            if ws and has.get("watchMarkPrice"):
                return "watch", "watch_mark_price"
            if bybit_ticker:
                return "watch", "watch_ticker"
            if has.get("fetchMarkPrice"):
                return "poll", "fetch_mark_price"
            return "poll", "fetch_funding_rate"
        if kind == "liquidations":
            if ws and has.get("watchLiquidations"):
                return "watch", "watch_liquidations"
            return "poll", "fetch_liquidations"
        return "poll", "fetch_open_interest"

    async def _call(self, ex: Any, stream: MarketDataStream) -> Any:
        m, sym = stream.method, stream.symbol
        stream.stats.calls += 1
        if m == "watch_trades":
            params = {"name": self.binance_trade_stream} if ex.id.startswith("binance") else {}
            return await ex.watch_trades(sym, None, None, params)
        if m == "fetch_trades":
            return await ex.fetch_trades(sym, None, self.trades_limit)
        if m in ("watch_liquidations", "fetch_liquidations"):
            return await getattr(ex, m)(sym)
        return await getattr(ex, m)(sym)

    def _convert(self, ex: Any, stream: MarketDataStream, result: Any, recv_ns: int) -> list[Record]:
        ex_id, market, kind, m = stream.exchange, stream.market or {}, stream.kind, stream.method
        if kind == "trades":
            return [md_ccxt.trade_record(ex_id, market, t, recv_ns) for t in result]
        if kind == "liquidations":
            if m == "watch_liquidations":
                result = _new_liquidations(ex, stream.symbol, result)
            return [md_ccxt.liquidation_record(ex_id, market, liq, recv_ns) for liq in result
                    if liq.get("symbol") in (None, stream.symbol)]
        if kind == "open_interest":
            return [md_ccxt.open_interest_record(ex_id, market, result, recv_ns)]
        if kind == "funding":
            if m in ("watch_mark_price", "watch_ticker"):
                conv = md_ccxt.funding_from_ticker if m == "watch_ticker" else md_ccxt.funding_from_mark_ticker
                fr = conv(ex_id, market, result, recv_ns)
                return [] if fr is None else [fr]
            return [md_ccxt.funding_record(ex_id, market, result, recv_ns)]
        # mark
        if m == "fetch_funding_rate":
            rec = md_ccxt.funding_record(ex_id, market, result, recv_ns)
            if rec.mark_price is None:
                return []
            return [MarkPrice(ex_id, stream.symbol, rec.ts_ms, rec.mark_price, rec.index_price, recv_ns)]
        return [md_ccxt.mark_record(ex_id, market, result, recv_ns)]

    async def _run(self, ex: Any, stream: MarketDataStream) -> None:
        backoff = Backoff(*self.backoff)
        try:
            stream.market = ex.market(stream.symbol)   # unknown symbol: BadSymbol, fatal
            stream.mode, stream.method = self._plan(ex, stream)
            if stream.mode == "poll" and not (getattr(ex, "has", None) or {}).get(_camel(stream.method), True):
                raise MarketDataError(f"{stream.exchange} offers neither a websocket nor {stream.method} for {stream.kind}")
        except Exception as exc:
            self._fail(stream, exc)
            return
        interval = self._interval(stream.kind)
        while True:
            try:
                result = await self._call(ex, stream)
                stream.stats.messages += 1
                if stream.mode == "watch":
                    wall, mono = self._frame_time(ex, stream)
                else:
                    wall, mono = time.time_ns(), time.monotonic_ns()
                recs = self._convert(ex, stream, result, wall)
                if stream.kind == "trades":
                    if stream._need_backfill:
                        recs = recs + await self._backfill(ex, stream)
                    recs = list(self._new_trades(stream, recs))  # type: ignore[arg-type]
                if stream.state == "retrying":
                    stream.stats.reconnects += 1
                stream.state = "live"
                backoff.reset()
                self._deliver(stream, recs, mono)
                if stream.mode == "poll":
                    await asyncio.sleep(interval)
            except asyncio.CancelledError:
                if self._own_cancel():
                    raise
                if not await self._on_error(stream, MarketDataError("watch cancelled by ccxt (connection closed)"),
                                            backoff, retry=True):
                    return
            except Exception as exc:
                if not await self._on_error(stream, exc, backoff):
                    return

    async def _backfill(self, ex: Any, stream: MarketDataStream) -> list[Record]:
        """Recent trades over REST after a reconnect (the caller removes those already seen)."""
        stream._need_backfill = False
        if not (getattr(ex, "has", None) or {}).get("fetchTrades"):
            return []
        stream.stats.backfills += 1
        try:
            trades = await ex.fetch_trades(stream.symbol, None, self.trades_limit)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            stream.stats.backfill_errors += 1
            log.info("%s %s: backfill failed: %r", stream.exchange, stream.symbol, exc)
            return []
        recv = time.time_ns()
        # trades older than the stream's first one are history, not missed trades
        since = stream._first_trade_ms
        recs = [md_ccxt.trade_record(stream.exchange, stream.market or {}, t, recv) for t in trades]
        if since is not None:
            recs = [r for r in recs if r.ts_ms >= since]
        fresh = [r for r in recs if r.id not in stream._seen]
        stream.stats.backfilled += len({r.id for r in fresh})
        return recs   # type: ignore[return-value]

    def _fail(self, stream: MarketDataStream, exc: BaseException) -> None:
        err = exc if isinstance(exc, MarketDataError) else MarketDataError(
            f"{stream.exchange} {stream.symbol} {stream.kind}: stream stopped: {type(exc).__name__}: {exc}")
        if err is not exc:
            err.__cause__ = exc
        stream.state = "failed"
        stream.error = err
        stream.last_error = exc
        log.error("%s", err)
        for sink in self._sinks:
            sink.event.set()

    async def _on_error(self, stream: MarketDataStream, exc: BaseException, backoff: Backoff,
                        retry: bool = False) -> bool:
        """Count and classify; fatal -> the stream fails (False); else sleep the backoff (True)."""
        stream.stats.errors += 1
        stream.last_error = exc
        if not retry and classify_error(exc) == FATAL:
            if _names_other_stream(stream, exc):
                stream.stats.foreign_errors += 1
            else:
                self._fail(stream, exc)
                return False
        if stream.kind == "trades" and stream.mode == "watch" and self.backfill:
            stream._need_backfill = True
        stream.state = "retrying"
        log.info("%s %s %s: %r, retrying", stream.exchange, stream.symbol, stream.kind, exc)
        await asyncio.sleep(backoff.next())   # always yields: ccxt can re-raise without yielding
        return True


_KIND_WORDS = {"trades": ("trade",), "funding": ("funding",), "mark": ("mark",),
               "liquidations": ("liquidation", "forceorder"), "open_interest": ("open-interest", "openinterest")}
_INST_ID = re.compile(r"instId[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9_\-]+)")


def _names_other_stream(stream: MarketDataStream, exc: BaseException) -> bool:
    """True when a fatal error names another stream's channel or instrument and not this one's.

    OKX (like several ccxt.pro exchanges) answers one bad subscription with an error event that
    ccxt turns into a rejection of *every* pending watch of the connection; the event names the
    channel and instId it refers to, so the innocent streams retry instead of failing.
    """
    text = str(exc).lower()
    own = _KIND_WORDS.get(stream.kind, ())
    if any(w in text for k, words in _KIND_WORDS.items() if k != stream.kind for w in words) and \
            not any(w in text for w in own):
        return True
    market_id = str((stream.market or {}).get("id") or "")
    ids = [m for m in _INST_ID.findall(str(exc)) if m != "None"]
    return bool(ids) and bool(market_id) and market_id not in ids


def _new_liquidations(ex: Any, symbol: str, result: Any) -> Any:
    """Every liquidation of ``symbol`` ccxt cached since the last call, not only the one the watch
    returned: ccxt resolves a watch with one liquidation, so the others of a batched message (Bybit
    ``allLiquidation`` pushes a list every 500 ms) and those that arrived between two watches would
    be lost. ccxt's ``ArrayCache`` counts the new entries per symbol (``getLimit``). O(cache size)."""
    cache: Any = getattr(ex, "liquidations", None)
    if cache is None or not hasattr(cache, "getLimit"):
        return result
    n = cache.getLimit(symbol, None)
    if not n:
        return result
    return [x for x in list(cache) if x.get("symbol") == symbol][-n:]


def _id_key(trade_id: str) -> tuple[int, int | str]:
    return (0, int(trade_id)) if trade_id.isdigit() else (1, trade_id)


def _camel(method: str) -> str:
    head, *rest = method.split("_")
    return head + "".join(w.capitalize() for w in rest)


# the record classes by kind, re-exported for callers that dispatch on stream kinds
__all__ += ["Trade", "FundingRate", "MarkPrice", "Liquidation", "OpenInterest"]
