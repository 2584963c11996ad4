"""The local exchange simulator: an aiohttp server on 127.0.0.1 speaking Binance spot,
Binance USDⓈ-M, OKX, Bybit (spot and USDT perpetuals), Kraken, Coinbase, Bitget (spot and USDT-M perpetuals) and
Bitfinex market data closely enough for unmodified ccxt.pro.

::

    async with ExchangeSimulator(seed=1, interval=0.01, max_seconds=30) as sim:
        ex = sim.attach(ccxt.pro.binance({"enableRateLimit": False}))
        book = await ex.watch_order_book("BTC/USDT")
        truth = sim.true_book("binance", "BTCUSDT")
        await ex.close()

Clock: one tick every ``interval`` seconds stands for the venues' 100 ms push window;
each tick every market takes at most one event from its source, applies it to its true
book, and its subscribers (websocket streams) format and send it, faults included.
Everything runs on the caller's event loop; the server stops itself after
``max_seconds`` (tick loop stopped, connections closed with 1001, socket unbound).

Memory is bounded whatever clients do: finished connections are kept in a bounded history
(:data:`FINISHED_CONNECTIONS`), the request logs keep the newest requests, each connection's
send queue, received frames and fault log are bounded (:mod:`liqcore.sim.connection`), and a
malformed REST request gets the venue's own error (:mod:`liqcore.sim.rest`), never a 500 from an
unhandled exception (Bitfinex answers its parameter errors with HTTP 500 itself).

Ownership: the simulator owns its markets, connections, aiohttp runner and tasks;
:meth:`close` (or leaving the ``async with``) releases them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from typing import Any, Callable, Iterable, Mapping, Sequence, Union

from aiohttp import web

from liqcore.sim.binance_protocol import add_binance_routes
from liqcore.sim.bitfinex_protocol import add_bitfinex_routes
from liqcore.sim.bitget_protocol import add_bitget_routes
from liqcore.sim.bybit_protocol import add_bybit_routes
from liqcore.sim.coinbase_protocol import add_coinbase_routes
from liqcore.sim.connection import SimConnection
from liqcore.sim.faults import FaultPlan
from liqcore.sim.instruments import VENUES, Instrument, default_instruments
from liqcore.sim.kraken_protocol import add_kraken_routes
from liqcore.sim.market import Market
from liqcore.sim.market_data import MarketDataProcess, add_market_data_routes, attach_processes
from liqcore.sim.okx_protocol import add_okx_routes
from liqcore.sim.recent import RecentList
from liqcore.sim.rest import RestError
from liqcore.sim.sources import BookSource, SyntheticBook
from liqcore.sim.urls import loopback_urls

__all__ = ["ExchangeSimulator", "FINISHED_CONNECTIONS", "REQUESTS_KEPT", "REQUEST_CHARS"]

#: finished connections the simulator keeps for inspection (the newest; older ones are forgotten)
FINISHED_CONNECTIONS = 64
#: HTTP requests each request log keeps (the newest), and most characters of their paths all together
REQUESTS_KEPT = 10_000
REQUEST_CHARS = 1 << 20

MarketSpec = Union[Instrument, tuple[Instrument, BookSource]]
FaultSpec = Union[FaultPlan, Sequence[Union[FaultPlan, None]], None]


class ExchangeSimulator:
    """A loopback exchange for Binance spot (``"binance"``), USDⓈ-M (``"binanceusdm"``), OKX
    (``"okx"``), Bybit spot (``"bybit"``), Bybit USDT perpetuals (``"bybitlinear"``: ccxt's
    ``bybit`` with ``category=linear`` / the ``linear`` websocket), Kraken spot (``"kraken"``), Coinbase Advanced Trade
    (``"coinbase"``), Bitget spot (``"bitget"``) and Bitget USDT-M perpetuals (``"bitgetswap"``: ccxt's ``bitget``,
    ``instType`` ``USDT-FUTURES`` on the same websocket) and Bitfinex spot (``"bitfinex"``).

    Parameters
    ----------
    markets : iterable of Instrument or (Instrument, source), optional
        The books served. A bare instrument gets a :class:`SyntheticBook` seeded with
        ``seed``; a pair brings its own source (e.g. a recording replay). Default:
        :func:`~liqcore.sim.instruments.default_instruments`, synthetic.
    seed : int
        Seeds the synthetic books and the id arithmetic: same seed, same events.
    interval : float
        Seconds per tick (default 0.1: real time).
    max_seconds : float
        The server shuts itself down this long after :meth:`start`.
    faults : mapping venue -> FaultPlan or sequence of FaultPlan/None, optional
        Fault plan per websocket connection: a single plan applies to every connection of
        the venue, a sequence to the connections in order of arrival (0 = first; later
        connections get none). Changed later with :meth:`set_faults`.
    host, port : str, int
        Listen address. Only loopback hosts are accepted; port 0 picks a free port
        (reported by :attr:`port` / :attr:`url`).
    compress : bool
        Offer permessage-deflate on websockets (off by default: cheaper on loopback).
    ssl : ssl.SSLContext, optional
        Serve HTTPS and WSS with this server context (e.g. a local CA's certificate, for tests of
        clients over TLS); :attr:`url` is then ``https://`` and :meth:`attach` points clients at
        ``https://`` and ``wss://``.
    synthetic_options : mapping, optional
        Extra keyword arguments of :class:`SyntheticBook` (``levels``, ``max_changes``...).
    stagger : bool
        Tick the markets one after another, evenly spread over each ``interval`` (each still
        takes one event per interval), instead of all at once: N books at ``interval`` send
        N / interval frames per second that arrive one by one rather than in bursts of N.
        For benchmarks of smooth arrival (``benchmarks/bench_scale.py``). ``interval`` and ``stagger``
        are attributes: changed while running, they apply from the next tick.
    max_queued : int, optional
        Flow control for benchmarks: before each tick, wait while a live connection has this
        many frames or more waiting to be sent, so a tiny ``interval`` runs at the rate the
        clients take (the simulator's maximum rate) instead of cutting them as slow consumers.
        Keep it plus the frames of one tick below the queue limit (4096). None (default):
        ticks never wait, as on an exchange.
    on_sent : callable, optional
        ``on_sent(connection, text)``, called after every text frame a websocket connection
        wrote to its socket (see :class:`~liqcore.sim.connection.SimConnection`), e.g. to log
        send times.
    """

    def __init__(self, markets: Iterable[MarketSpec] | None = None, *, seed: int = 0, interval: float = 0.1,
                 max_seconds: float = 60.0, faults: Mapping[str, FaultSpec] | None = None,
                 host: str = "127.0.0.1", port: int = 0, compress: bool = False,
                 synthetic_options: Mapping[str, Any] | None = None, stagger: bool = False,
                 max_queued: int | None = None,
                 on_sent: Callable[[SimConnection, str], None] | None = None,
                 ssl: Any = None) -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError(f"the simulator binds to loopback only, not {host!r}")
        if interval <= 0 or max_seconds <= 0:
            raise ValueError("interval and max_seconds must be positive")
        if max_queued is not None and max_queued < 1:
            raise ValueError(f"max_queued must be at least 1, got {max_queued!r}")
        self.seed = seed
        self.stagger = stagger
        self.max_queued = max_queued
        self._on_sent = on_sent
        self.interval = interval
        self.max_seconds = max_seconds
        self.host = host
        self.compress = compress
        self.ssl = ssl
        self._port = port
        self._markets: dict[tuple[str, str], Market] = {}
        for spec in (default_instruments() if markets is None else markets):
            inst, source = (spec, None) if isinstance(spec, Instrument) else spec
            if inst.venue not in VENUES:
                raise ValueError(f"unknown venue {inst.venue!r}; one of {VENUES}")
            if source is None:
                source = SyntheticBook(inst, seed=seed, **dict(synthetic_options or {}))
            self._markets[(inst.venue, inst.id)] = Market(inst, source, seed=seed)
        #: trades, marks, liquidations, open interest per (venue, id) (see liqcore.sim.market_data)
        self.market_data: dict[tuple[str, str], MarketDataProcess] = attach_processes(self._markets.values(), seed)
        self._faults: dict[str, FaultSpec] = dict(faults or {})
        self._ordinals = dict.fromkeys(VENUES, 0)
        self._arrivals = itertools.count()
        self._live: dict[SimConnection, int] = {}        # live connection -> its arrival number
        self._finished: RecentList[tuple[int, SimConnection]] = RecentList(FINISHED_CONNECTIONS)
        #: websocket connections cut for not reading what they were sent (close 1008 "slow consumer")
        self.slow_consumers = 0
        #: the newest HTTP requests served: (method, path with query); ``requests.dropped`` counts older ones
        self.requests: RecentList[tuple[str, str]] = RecentList(REQUESTS_KEPT, REQUEST_CHARS, _request_chars)
        #: the newest requests for endpoints the simulator does not emulate (answered 404)
        self.unhandled: RecentList[tuple[str, str]] = RecentList(REQUESTS_KEPT, REQUEST_CHARS, _request_chars)
        #: REST depth snapshots served per (venue, id)
        self.snapshots_served: dict[tuple[str, str], int] = {}
        #: checksum frames sent per (venue, id), by venues that send checksums in frames of their own (Bitfinex ``cs``)
        self.checksums_sent: dict[tuple[str, str], int] = {}
        self.tick_count = 0
        self._paused = False
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._closing = False
        self.closed = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> "ExchangeSimulator":
        """Bind, start ticking, arm the ``max_seconds`` shutdown. Returns self."""
        app = web.Application(middlewares=[self._log_middleware])
        add_binance_routes(app, self)
        add_okx_routes(app, self)
        add_market_data_routes(app, self)
        add_bybit_routes(app, self)
        add_kraken_routes(app, self)
        add_coinbase_routes(app, self)
        add_bitget_routes(app, self)
        add_bitfinex_routes(app, self)
        app.router.add_route("*", "/{tail:.*}", self._unhandled)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port, reuse_address=False, ssl_context=self.ssl)
        await site.start()
        self._port = self._runner.addresses[0][1]     # the port the OS picked for port 0
        self._tasks = [asyncio.create_task(self._tick_loop(), name="sim-ticks"),
                       asyncio.create_task(self._deadline(), name="sim-deadline")]
        return self

    async def close(self) -> None:
        """Stop ticking, close every connection (1001 going away), unbind. Idempotent."""
        if self._closing:
            await self.closed.wait()
            return
        self._closing = True
        current = asyncio.current_task()
        for t in self._tasks:
            if t is not current:
                t.cancel()
        for t in self._tasks:
            if t is not current:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
        for conn in list(self._live):
            await conn.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
        self.closed.set()

    async def __aenter__(self) -> "ExchangeSimulator":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _deadline(self) -> None:
        await asyncio.sleep(self.max_seconds)
        await self.close()

    async def _tick_loop(self) -> None:
        # absolute schedule: a slow tick does not stretch the simulated clock
        next_at = time.monotonic()
        while True:
            markets = list(self._markets.values())
            # staggered: one market per step, so one tick's frames are spread over the interval
            groups = [[m] for m in markets] if self.stagger and markets else [markets]
            step = self.interval / len(groups)
            ticked = False
            for group in groups:
                next_at += step
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                if self._paused:
                    await self._resumed.wait()
                    next_at = time.monotonic()
                    break                           # a new tick starts after a pause
                if self.max_queued is not None and await self._clients_caught_up():
                    next_at = time.monotonic()      # the clients set the pace, not the clock
                if not ticked:
                    ticked = True
                    self.tick_count += 1
                now_ms = int(time.time() * 1000)
                for market in group:
                    market.tick(self.tick_count, now_ms)

    async def _clients_caught_up(self) -> bool:
        """Wait until no live connection has :attr:`max_queued` frames or more queued; True if it
        had to wait. O(connections) per check."""
        limit, waited = self.max_queued, False
        while limit is not None and any(c.queue.qsize() >= limit for c in self._live if not c.closing):
            waited = True
            await asyncio.sleep(0.001)
        return waited

    # ---------------------------------------------------------------- addresses
    @property
    def port(self) -> int:
        """The bound TCP port (after start)."""
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the websocket base is the same with ``ws://``); ``https://``
        when serving TLS (``wss://``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.ssl is not None else 'http'}://{host}:{self._port}"

    def ccxt_urls(self, urls_api: Any) -> Any:
        """A copy of a ccxt ``urls["api"]`` table pointing at this simulator."""
        return loopback_urls(urls_api, self.url)

    def attach(self, exchange: Any) -> Any:
        """Point a ccxt (pro) exchange instance at this simulator; returns it.

        Rewrites every URL of ``exchange.urls["api"]`` (see :mod:`liqcore.sim.urls`) and
        sets OKX's ``hostname`` to the one the simulator serves.
        """
        exchange.urls["api"] = self.ccxt_urls(exchange.urls["api"])
        if getattr(exchange, "id", None) == "okx":
            exchange.hostname = "www.okx.com"
        return exchange

    # ------------------------------------------------------------------ markets
    def instruments(self, venue: str) -> list[Instrument]:
        """The instruments listed by ``venue``."""
        return [m.instrument for (v, _), m in self._markets.items() if v == venue]

    def find_market(self, venue: str, symbol: Any) -> Market | None:
        """The market of ``venue`` by exchange id (``BTCUSDT``, ``BTC-USDT``) or unified
        symbol (``BTC/USDT``, ``BTC/USDT:USDT``); None if not listed (anything that is not a
        string, such as a list a client put in a request, is not). O(markets)."""
        if not isinstance(symbol, str):
            return None
        m = self._markets.get((venue, symbol))
        if m is not None:
            return m
        for (v, _), market in self._markets.items():
            if v == venue and _unified(market.instrument) == symbol:
                return market
        return None

    def market(self, venue: str, symbol: str) -> Market:
        """Like :meth:`find_market` but raises KeyError."""
        m = self.find_market(venue, symbol)
        if m is None:
            raise KeyError(f"{venue} lists no {symbol!r}")
        return m

    def true_book(self, venue: str, symbol: str, depth: int | None = None) -> dict[str, Any]:
        """The exchange's true book now: ``{"bids": [[px, sz], ...], "asks": ..., "update_id"}``,
        best first, the exchange's decimal strings; ``update_id`` is the last ``u``/``seqId``."""
        return self.market(venue, symbol).snapshot(depth)

    def last_update_id(self, venue: str, symbol: str, depth: int | None = None) -> int:
        """The market's last update id (``u``/``seqId``/``seq``); with ``depth``, the id of a
        depth-limited channel's window (Bybit ``orderbook.{depth}``: its ``u``)."""
        market = self.market(venue, symbol)
        if depth is None:
            return market.last_id
        from liqcore.sim.window import window_of
        return window_of(market, "bybit" if venue.startswith("bybit") else venue, depth).snapshot()[2]

    def restart_channels(self, venue: str, symbol: str) -> int:
        """Emulate an exchange-side restart of the market's book channels: every stream that
        can (Bybit) sends a new snapshot at once, numbered ``u == 1``; the channel continues
        from there. Returns the number of streams restarted."""
        market = self.market(venue, symbol)
        for window in market.windows.values():
            window.restart()
        n = 0
        for sub in list(market.subscribers):
            send = getattr(sub, "send_snapshot", None)
            if send is not None:
                send()
                n += 1
        return n

    # ------------------------------------------------------------------- control
    def pause(self) -> None:
        """Freeze every market (no tick runs until :meth:`resume`); queued frames still go out."""
        self._paused = True
        self._resumed.clear()

    def resume(self) -> None:
        self._paused = False
        self._resumed.set()

    async def wait_updates(self, venue: str, symbol: str, n: int, timeout: float = 10.0) -> None:
        """Wait until the market has published ``n`` more updates."""
        market = self.market(venue, symbol)
        target = market.updates + n

        async def _wait() -> None:
            while market.updates < target:
                await market.wait_changed()
        await asyncio.wait_for(_wait(), timeout)

    def set_faults(self, venue: str, faults: FaultSpec) -> None:
        """Fault plans for the venue's connections (counted from the first, as in __init__)."""
        self._faults[venue] = faults

    # --------------------------------------------------------------- connections
    @property
    def connections(self) -> list[SimConnection]:
        """The live websocket connections and the newest :data:`FINISHED_CONNECTIONS` finished
        ones, in order of arrival (a new list; O(n log n))."""
        kept = [*self._finished, *((n, c) for c, n in self._live.items())]
        return [c for _, c in sorted(kept, key=lambda nc: nc[0])]

    @property
    def connections_forgotten(self) -> int:
        """Finished connections no longer kept in :attr:`connections`."""
        return self._finished.dropped

    def open_connection(self, venue: str, ws: web.WebSocketResponse, request: web.Request) -> SimConnection:
        """Register a new websocket of ``venue`` with its fault plan (used by the protocols)."""
        ordinal = self._ordinals[venue]
        self._ordinals[venue] += 1
        spec = self._faults.get(venue)
        if spec is None or isinstance(spec, FaultPlan):
            plan = spec
        else:
            plan = spec[ordinal] if ordinal < len(spec) else None
        conn = SimConnection(venue, ordinal, ws, plan, request.transport, on_slow_consumer=self._count_slow_consumer,
                             on_sent=self._on_sent)
        self._live[conn] = next(self._arrivals)
        if self._closing:
            conn.close(1001, b"server shutting down")
        return conn

    async def close_connection(self, conn: SimConnection) -> None:
        """End ``conn`` (close 1000 unless it is closing already) and move it to the history of
        finished connections (used by the protocols when the client's socket ends)."""
        conn.close(1000)
        await conn.wait_closed()
        number = self._live.pop(conn, None)
        if number is not None:
            self._finished.append((number, conn))

    def connections_of(self, venue: str) -> list[SimConnection]:
        """:attr:`connections` of ``venue``."""
        return [c for c in self.connections if c.venue == venue]

    def _count_slow_consumer(self) -> None:
        self.slow_consumers += 1

    # ----------------------------------------------------------------- HTTP glue
    @web.middleware
    async def _log_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path_qs))
        try:
            return await handler(request)
        except RestError as refused:        # a malformed parameter: the venue's own answer
            return refused.response

    async def _unhandled(self, request: web.Request) -> web.Response:
        self.unhandled.append((request.method, request.path_qs))
        return web.json_response({"code": -1, "msg": f"not emulated by liqcore.sim: {request.path}"}, status=404)


def _request_chars(request: tuple[str, str]) -> int:
    return len(request[1])


def _unified(inst: Instrument) -> str:
    """ccxt's unified symbol of an instrument (``BTC/USDT``, ``BTC/USDT:USDT``, ``BTC/USD:BTC-220527``)."""
    sym = f"{inst.base}/{inst.quote}"
    if inst.kind == "spot":
        return sym
    sym += f":{inst.settle}"
    if inst.kind == "future" and inst.expiry_ms is not None:
        sym += "-" + time.strftime("%y%m%d", time.gmtime(inst.expiry_ms / 1000))
    return sym
