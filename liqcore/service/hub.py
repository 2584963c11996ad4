"""The books a service process holds: :class:`BookHub`.

One process keeps live compiled books for ``(venue, instrument)`` pairs through
:class:`liqcore.feed.LiveFeed` (ccxt.pro into C books), either from the real venues or, with
``sim=True``, from the local exchange simulator (:mod:`liqcore.sim`) on 127.0.0.1, with no
network. Pairs are subscribed on demand (the first request for a pair starts its feed and
waits until the book is live) up to ``max_pairs``::

    async with BookHub(sim=True) as hub:
        book = await hub.ensure("binance", "BTC/USD")     # BTC/USDT on Binance
        books, failures = await hub.books_of("BTC/USD", ["binance", "coinbase", "kraken"])

Instruments are spelled once for every venue (:mod:`liqcore.service.symbols`); keys are
``(venue, instrument)`` with the instrument in its canonical spelling (``"BTC/USD"``).

Listeners (the websocket) learn which books changed through :meth:`BookHub.listen`: a
:class:`Changes` set per listener, marked synchronously in the feed's receive path (O(1), never
blocks, never awaits) and bounded by the number of pairs: a key already marked is not queued
again, it is counted in :attr:`Changes.coalesced`.

Ownership: each pair has its own LiveFeed, which owns its ccxt exchange instance; the hub owns
the feeds and the simulator and closes them all in :meth:`close`. Books are read on the event
loop's thread only (the feed writes them there).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from liqcore._book import OrderBook
from liqcore.errors import FeedConfigError, FeedError
from liqcore.service.symbols import VENUES, check_venue, parse_instrument, venue_symbol

__all__ = ["BookHub", "Changes", "PairState", "Key"]

#: (venue, canonical instrument), e.g. ("binance", "BTC/USD")
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class PairState:
    """What the hub knows of one pair: ``symbol`` is the venue's ccxt symbol; ``state`` the live
    book's (``syncing``, ``live``, ``stale``, ``failed``); ``messages``/``applied``/``resyncs``/
    ``gaps`` counts since subscription; ``age_s``: seconds since the last applied message
    (None before the first); ``last_error``: the last error's repr or None."""

    venue: str
    instrument: str
    symbol: str
    state: str
    messages: int
    applied: int
    resyncs: int
    gaps: int
    age_s: float | None
    last_error: str | None


class Changes:
    """The books changed since a listener last looked, coalesced per key (bounded by the
    number of pairs). :meth:`mark` is the non-blocking hook; :meth:`wait` returns and clears the
    changed keys. ``coalesced`` counts marks of a key that was already pending (intermediate
    states the listener will never see)."""

    def __init__(self, keys: set[Key] | None = None) -> None:
        #: the keys this listener wants (None: every key); change it to (un)subscribe
        self.keys = keys
        self._pending: dict[Key, None] = {}
        self._event = asyncio.Event()
        self.coalesced = 0
        self.closed = False

    def mark(self, key: Key) -> None:
        """Note that ``key`` changed. O(1); safe in the feed's receive path."""
        if self.keys is not None and key not in self.keys:
            return
        if key in self._pending:
            self.coalesced += 1
            return
        self._pending[key] = None
        self._event.set()

    async def wait(self, timeout: float | None = None) -> list[Key]:
        """The keys changed since the last call (waits for one, up to ``timeout`` s; [] then)."""
        if not self._pending and not self.closed:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout)
        keys = list(self._pending)
        self._pending.clear()
        self._event.clear()
        return keys

    def wake(self) -> None:
        """Wake :meth:`wait` without marking a key (the listener has events of its own to send,
        e.g. trades): it then returns the keys pending, possibly none. O(1)."""
        self._event.set()

    def close(self) -> None:
        self.closed = True
        self._event.set()


class BookHub:
    """Live books for ``(venue, instrument)`` pairs, subscribed on demand.

    Parameters
    ----------
    pairs : iterable of (venue, instrument), optional
        Subscribed at :meth:`start` (each waits up to ``live_timeout`` s to go live).
    sim : bool
        Serve books from the local simulator (synthetic books, seeded by ``seed``, one tick every
        ``sim_interval`` s) instead of the venues.
    live_timeout : float
        Seconds a new subscription may take to deliver a live book (FeedError after it).
    max_pairs : int
        Most pairs held at once (each is a websocket and a book): a request beyond it is
        refused with FeedConfigError.
    config : mapping venue -> ccxt config, optional
        Constructor options per venue (real venues only).
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = (), *, sim: bool = False, seed: int = 0,
                 sim_interval: float = 0.1, live_timeout: float = 20.0, max_pairs: int = 64,
                 config: Mapping[str, dict[str, Any]] | None = None) -> None:
        if max_pairs < 1 or live_timeout <= 0 or sim_interval <= 0:
            raise FeedConfigError("max_pairs >= 1, live_timeout > 0 and sim_interval > 0")
        self.sim = sim
        self.seed = seed
        self.sim_interval = sim_interval
        self.live_timeout = live_timeout
        self.max_pairs = max_pairs
        self._initial = [(check_venue(v), str(parse_instrument(s))) for v, s in pairs]
        self._config = {k: dict(v) for k, v in (config or {}).items()}
        self._simulator: Any = None
        self._feeds: dict[Key, Any] = {}
        self._symbols: dict[Key, str] = {}
        self._starting: dict[Key, asyncio.Task[Any]] = {}
        self._listeners: list[Changes] = []
        self._started = False
        self._closed = False
        #: subscriptions refused or failed since start
        self.failed_subscriptions = 0
        self.started_at = time.time()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> "BookHub":
        """Start the simulator (``sim``) and subscribe the initial pairs. Returns self."""
        if self._started:
            return self
        self._started = True
        try:
            if self.sim:
                from liqcore.sim import ExchangeSimulator
                # the service runs until stopped: the simulator's own deadline is a year away
                self._simulator = await ExchangeSimulator(seed=self.seed, interval=self.sim_interval,
                                                          max_seconds=365 * 86400.0).start()
            await asyncio.gather(*(self.ensure(v, s) for v, s in self._initial))
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        """Stop every feed and the simulator; listeners are woken and closed. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for t in self._starting.values():
            t.cancel()
        for t in list(self._starting.values()):
            with contextlib.suppress(BaseException):
                await t
        # concurrently: each close waits for its sockets to shut
        await asyncio.gather(*(feed.close() for feed in self._feeds.values()), return_exceptions=True)
        self._feeds.clear()
        for ch in self._listeners:
            ch.close()
        if self._simulator is not None:
            await self._simulator.close()

    async def __aenter__(self) -> "BookHub":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ subscriptions
    @property
    def venues(self) -> tuple[str, ...]:
        """The venues the hub can serve (ccxt ids; the simulator speaks them all)."""
        return VENUES

    @property
    def simulator(self) -> Any:
        """The local :class:`~liqcore.sim.ExchangeSimulator` (``sim=True``), else None."""
        return self._simulator

    def key(self, venue: str, instrument: str) -> Key:
        """The canonical key of a pair: ``("Binance", "btc/usdt")`` -> ``("binance", "BTC/USD")``.
        FeedConfigError for an unknown venue or a malformed symbol."""
        v = check_venue(venue, self.venues)
        inst = parse_instrument(instrument)
        venue_symbol(v, inst)            # a venue that cannot list it is refused here
        return v, str(inst)

    async def ensure(self, venue: str, instrument: str) -> OrderBook:
        """The live book of a pair, subscribing it first if needed (waits up to ``live_timeout``
        s). FeedConfigError: unknown venue, symbol not listed by the venue, ``max_pairs``
        reached; FeedError: the venue cannot be reached or the book did not go live in time."""
        key = self.key(venue, instrument)
        if key not in self._feeds:
            task = self._starting.get(key)
            if task is None:
                if self._closed:
                    raise FeedError("the book hub is closed")
                if len(self._feeds) + len(self._starting) >= self.max_pairs:
                    self.failed_subscriptions += 1
                    raise FeedConfigError(f"the hub holds its maximum of {self.max_pairs} books; "
                                          f"{key[0]} {key[1]} is not subscribed")
                task = asyncio.ensure_future(self._subscribe(key))
                self._starting[key] = task
            await asyncio.shield(task)
        feed = self._feeds[key]
        live = feed.live_book(key[0], self._symbols[key])
        if not live.is_live:
            with contextlib.suppress(asyncio.TimeoutError, FeedError):
                await feed.wait_live(self.live_timeout)
            if not live.is_live:
                raise FeedError(f"{key[0]} {key[1]} is {live.state}"
                                + (f" ({live.last_error!r})" if live.last_error is not None else ""))
        return live.book

    async def _subscribe(self, key: Key) -> None:
        try:
            await self._open_feed(key)
        finally:
            self._starting.pop(key, None)

    async def _open_feed(self, key: Key) -> None:
        from liqcore.feed import LiveFeed, create_exchange
        venue, inst = key
        symbol = venue_symbol(venue, inst)
        if self._simulator is not None:
            ex = self._simulator.attach(create_exchange(venue, {"enableRateLimit": False}))
            opts: dict[str, Any] = {"backoff": (0.05, 1.0)}
        else:
            ex = create_exchange(venue, {"enableRateLimit": True, **self._config.get(venue, {})})
            opts = {}
        feed = LiveFeed([(venue, symbol)], exchanges={venue: ex}, sync_timeout=self.live_timeout, **opts)
        try:
            await feed.start()
            await feed.wait_live(self.live_timeout)
        except (FeedConfigError, FeedError):
            self.failed_subscriptions += 1
            await feed.close()
            raise
        except asyncio.TimeoutError:
            self.failed_subscriptions += 1
            await feed.close()
            raise FeedError(f"{venue} {symbol} did not go live within {self.live_timeout:g} s") from None
        except Exception as exc:       # ccxt NetworkError / ExchangeError while loading markets
            import ccxt
            self.failed_subscriptions += 1
            await feed.close()
            text = " ".join(str(exc).split())[:200] or type(exc).__name__
            if isinstance(exc, (ccxt.NetworkError, OSError)):
                raise FeedError(f"{venue} cannot be reached: {text}") from exc
            # the venue answered and refused (unknown symbol, bad request): the request is wrong
            raise FeedConfigError(f"{venue} refused {symbol}: {text}") from exc
        except BaseException:
            await feed.close()
            raise
        if self._closed:
            await feed.close()
            raise FeedError("the book hub is closed")
        self._feeds[key] = feed
        self._symbols[key] = symbol
        feed.subscribe(self._hook(key))

    def market_data(self, venue: str, instrument: str, kinds: Iterable[str]) -> Any:
        """A new, unstarted :class:`~liqcore.feed.MarketData` of one pair's ``kinds``
        (``"trades"``, ``"liquidations"``, ...), from where the hub's books come from: the
        simulator (``sim``; the hub must be started) or the venue (with the hub's ``config``). It
        has a stock ccxt.pro instance of its own, so the pair's book feed is not disturbed. The
        caller owns it: ``await md.start()`` ... ``await md.close()`` (which closes that
        instance). FeedConfigError as :meth:`key` or for an unknown kind; FeedError if the hub
        is closed or, with ``sim``, not started."""
        import ccxt.pro

        from liqcore.feed import MarketData
        from liqcore.feed.records import KINDS
        key = self.key(venue, instrument)
        symbol = venue_symbol(*key)
        kinds = list(kinds)
        if not kinds or any(k not in KINDS for k in kinds):     # before an exchange instance exists
            raise FeedConfigError(f"kinds: a non-empty list of {', '.join(sorted(KINDS))}")
        if self._closed or (self.sim and self._simulator is None):
            raise FeedError("the book hub is " + ("closed" if self._closed else "not started"))
        if self._simulator is not None:
            ex = self._simulator.attach(getattr(ccxt.pro, key[0])({"enableRateLimit": False}))
            return MarketData([(key[0], symbol, k) for k in kinds], exchanges={key[0]: ex}, backoff=(0.05, 1.0))
        ex = getattr(ccxt.pro, key[0])({"enableRateLimit": True, **self._config.get(key[0], {})})
        return MarketData([(key[0], symbol, k) for k in kinds], exchanges={key[0]: ex})

    # ------------------------------------------------------------------ reads
    def book(self, venue: str, instrument: str) -> OrderBook:
        """The current book of a subscribed pair (read it again later: a rescale replaces it).
        FeedConfigError if the pair is not subscribed."""
        key = self.key(venue, instrument)
        feed = self._feeds.get(key)
        if feed is None:
            raise FeedConfigError(f"{key[0]} {key[1]} is not subscribed")
        return feed.book(key[0], self._symbols[key])

    def live_book(self, key: Key) -> Any:
        """The :class:`~liqcore.feed.LiveBook` of a subscribed canonical ``key`` (as
        :meth:`key` returns it): ``.book``, ``.state``, ``.stats`` (``last_recv_ns``: monotonic ns
        of the last applied frame). O(1), no parsing: for hot paths (the websocket). KeyError if
        not subscribed."""
        return self._feeds[key].live_book(key[0], self._symbols[key])

    def symbol(self, venue: str, instrument: str) -> str:
        """The venue's ccxt symbol of a pair (``"BTC/USDT"`` for ``("binance", "BTC/USD")``)."""
        key = self.key(venue, instrument)
        return venue_symbol(*key)

    async def books_of(self, instrument: str, venues: Iterable[str]) -> tuple[dict[str, OrderBook], dict[str, str]]:
        """The live books of one instrument on ``venues`` (subscribed concurrently as needed):
        (books by venue, failures by venue: the reason, one line). An unknown venue or a
        malformed symbol raises FeedConfigError before anything is subscribed."""
        names = list(dict.fromkeys(check_venue(v, self.venues) for v in venues))
        parse_instrument(instrument)
        results = await asyncio.gather(*(self.ensure(v, instrument) for v in names), return_exceptions=True)
        books: dict[str, OrderBook] = {}
        failures: dict[str, str] = {}
        for v, res in zip(names, results):
            if isinstance(res, OrderBook):
                books[v] = res
            elif isinstance(res, Exception):
                failures[v] = " ".join(str(res).split()) or type(res).__name__
            else:
                raise res            # CancelledError, KeyboardInterrupt: not ours to hide
        return books, failures

    def taker_fee(self, venue: str, instrument: str) -> float | None:
        """The venue's taker fee for a subscribed pair (a fraction, e.g. 0.001), from its markets
        metadata; None when unknown."""
        key = self.key(venue, instrument)
        feed = self._feeds.get(key)
        if feed is None:
            return None
        taker = (feed.exchange(key[0]).markets or {}).get(self._symbols[key], {}).get("taker")
        return None if taker is None else float(taker)

    def state(self, venue: str, instrument: str) -> PairState:
        """The state of one subscribed pair (FeedConfigError if not subscribed)."""
        key = self.key(venue, instrument)
        feed = self._feeds.get(key)
        if feed is None:
            raise FeedConfigError(f"{key[0]} {key[1]} is not subscribed")
        return self._state(key, feed)

    def _state(self, key: Key, feed: Any) -> PairState:
        live = feed.live_book(key[0], self._symbols[key])
        st = live.stats
        age = (time.monotonic_ns() - st.last_recv_ns) / 1e9 if st.last_recv_ns else None
        return PairState(key[0], key[1], self._symbols[key], live.state, st.messages, st.applied, st.resyncs,
                         st.gaps, age, None if live.last_error is None else repr(live.last_error))

    def pairs(self) -> list[PairState]:
        """The state of every subscribed pair, sorted by (venue, instrument). O(pairs)."""
        return [self._state(k, self._feeds[k]) for k in sorted(self._feeds)]

    # ------------------------------------------------------------------ listeners
    def listen(self, keys: set[Key] | None = None) -> Changes:
        """A new :class:`Changes` marked whenever a book of ``keys`` (None: any) changes;
        :meth:`unlisten` it when done."""
        ch = Changes(keys)
        if self._closed:
            ch.close()
        self._listeners.append(ch)
        return ch

    def unlisten(self, changes: Changes) -> None:
        """Stop marking ``changes`` (idempotent)."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(changes)
        changes.close()

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    def _hook(self, key: Key) -> Callable[[Any], None]:
        """The feed callback of one pair: marks ``key`` on every listener (O(listeners))."""
        listeners = self._listeners

        def changed(_live: Any) -> None:
            for ch in listeners:
                ch.mark(key)
        return changed
