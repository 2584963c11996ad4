"""The live feed API: compiled books kept equal to exchange books for a set of
``(exchange, symbol)`` pairs.

::

    from liqcore.feed import LiveFeed

    async with LiveFeed([("binance", "BTC/USDT"), ("okx", "BTC/USDT")]) as feed:
        async for update in feed:                      # coalesced: the latest state per book
            print(update.exchange, update.symbol, update.book.bbo)
        feed.book("okx", "BTC/USDT").walk("buy", notional=100_000)

One watch task per book keeps it subscribed: it calls ``watch_order_book`` until the book is
live (snapshot loaded), then sleeps until the book turns stale (gap, checksum mismatch,
disconnect, handler error) or idle, and resubscribes. Errors are classified once
(:func:`~liqcore.feed.retry.classify_error`): transient ones are retried after an exponential
backoff that resets on success (never a busy loop), fatal ones mark the book failed and are
raised by the update iterator as :class:`~liqcore.errors.FeedError`.

Ownership: the feed closes every exchange instance it uses (created or passed in) and flushes,
but does not close, the recorder.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Mapping

from liqcore._book import OrderBook
from liqcore.errors import FeedConfigError, FeedError
from liqcore.feed.adapters import create_exchange, mode_of
from liqcore.feed.generic import mirror
from liqcore.feed.live_book import Callback, LiveBook
from liqcore.feed.retry import FATAL, Backoff, classify_error
from liqcore.feed.scales import CrossPolicy, book_for_market
from liqcore.feed.tasks import ExchangeSession

__all__ = ["LiveFeed", "BookUpdate", "run"]

log = logging.getLogger("liqcore.feed")


@dataclass(frozen=True)
class BookUpdate:
    """One book changed (coalesced: at least one message since the last update of this book)."""

    exchange: str
    symbol: str
    live: LiveBook

    @property
    def book(self) -> OrderBook:
        return self.live.book

    @property
    def update_id(self) -> int | None:
        return self.live.book.last_update_id

    @property
    def state(self) -> str:
        return self.live.state


class _Queue:
    """Latest-state queue of one update iterator: a slow consumer gets each changed book once,
    with its newest state, and memory stays bounded by the number of books."""

    def __init__(self) -> None:
        self.dirty: dict[tuple[str, str], LiveBook] = {}
        self.event = asyncio.Event()

    def push(self, live: LiveBook) -> None:
        self.dirty[(live.exchange, live.symbol)] = live
        self.event.set()


class LiveFeed(ExchangeSession):
    """Live compiled books for ``(exchange id, unified symbol)`` pairs.

    Parameters
    ----------
    books : iterable of (str, str)
        ccxt exchange ids and unified symbols, e.g. ``[("binance", "BTC/USDT")]``.
    exchanges : mapping id -> exchange instance, optional
        Instances to use (e.g. an adapter pointed at a simulator); others are created with
        :func:`~liqcore.feed.adapters.create_exchange` from ``config[id]``.
    config : mapping id -> dict, optional
        ccxt constructor config per exchange (API keys, options).
    depth : int, optional
        ``limit`` passed to ``watch_order_book``/``fetch_order_book`` (the exchange's channel depth).
    max_depth, cross_policy : book options (see :class:`~liqcore.OrderBook`).
    recorder : liqcore.recorder.Recorder, optional
        Records every frame the adapters receive (with receive times) and REST snapshots.
    poll_interval : float
        Seconds between ``fetch_order_book`` calls for exchanges without websockets.
    idle_timeout : float | None
        A live book without any message for this long is resubscribed (None: never).
    sync_timeout : float
        Seconds a (re)subscription may take to deliver a snapshot before it is retried.
    backoff : (initial, maximum) seconds of the retry backoff.
    freeze_gc : bool
        Once every book is live for the first time, collect once and move every object alive then
        to the collector's permanent generation (``gc.freeze()``), so that a steady-state collection
        walks only what was made since: at 500 books a full collection goes from ~130 ms to under
        1 ms (``docs/scale.md``). Process-wide: the objects frozen are not collected until the feed
        closes (``gc.unfreeze()``), which suits a process that runs one feed for its life.
    """

    def __init__(self, books: Iterable[tuple[str, str]], *, exchanges: Mapping[str, Any] | None = None,
                 config: Mapping[str, dict] | None = None, depth: int | None = None, max_depth: int | None = None,
                 cross_policy: CrossPolicy = "raise", recorder: Any = None, poll_interval: float = 1.0,
                 idle_timeout: float | None = 60.0, sync_timeout: float = 30.0,
                 backoff: tuple[float, float] = (0.05, 30.0), freeze_gc: bool = False) -> None:
        self.pairs = list(dict.fromkeys((str(e), str(s)) for e, s in books))
        if not self.pairs:
            raise FeedConfigError("LiveFeed needs at least one (exchange, symbol) pair")
        super().__init__(exchanges, config, backoff, poll_interval)
        self.depth = depth
        self.max_depth = max_depth
        self.cross_policy = cross_policy
        self.recorder = recorder
        self.idle_timeout = idle_timeout
        self.sync_timeout = sync_timeout
        self._books: dict[tuple[str, str], LiveBook] = {}
        self._queues: list[_Queue] = []
        #: books not yet live once, while a gc.freeze() waits for them (None: no freeze pending)
        self._first_sync: set[tuple[str, str]] | None = set(self.pairs) if freeze_gc else None
        #: objects the feed moved to the permanent generation (0: none)
        self.gc_frozen = 0
        #: fatal errors, per book: (exchange, symbol, error)
        self.fatal: list[tuple[str, str, BaseException]] = []
        #: watch_order_book / fetch_order_book calls per book (a busy loop would show here)
        self.watch_calls: dict[tuple[str, str], int] = {}

    # -------------------------------------------------------------- lifecycle
    async def _open(self) -> None:
        for ex_id in dict.fromkeys(e for e, _ in self.pairs):
            if ex_id not in self._exchanges:
                opts = {"recorder": self.recorder, "max_depth": self.max_depth, "cross_policy": self.cross_policy}
                self._exchanges[ex_id] = create_exchange(ex_id, self._config.get(ex_id), **opts)
            ex = self._exchanges[ex_id]
            if mode_of(ex) == "engine":
                ex.liq_recorder = ex.liq_recorder or self.recorder
                ex.liq_max_depth = ex.liq_max_depth if ex.liq_max_depth is not None else self.max_depth
            if ex.markets is None:
                await ex.load_markets()
        for ex_id, symbol in self.pairs:
            ex = self._exchanges[ex_id]
            if symbol not in ex.markets:
                raise FeedConfigError(f"{ex_id} lists no {symbol!r}")
            mode = mode_of(ex)
            if mode == "engine":
                live = ex.liq_book(symbol)
            else:
                live = LiveBook(ex_id, symbol, book_for_market(ex_id, ex.markets[symbol],
                                                               precision_mode=ex.precisionMode,
                                                               max_depth=self.max_depth,
                                                               cross_policy=self.cross_policy))
            live.subscribers.append(self._notify)
            self._books[(ex_id, symbol)] = live
            self.watch_calls[(ex_id, symbol)] = 0
            loop = {"engine": self._watch_engine, "watch": self._watch_mirror, "poll": self._poll}[mode]
            self._tasks.append(asyncio.create_task(loop(ex, live), name=f"liqcore-feed {ex_id} {symbol}"))

    def _tasks_stopped(self) -> None:
        if self.recorder is not None and not self.recorder.closed:
            self.recorder.flush()

    def _closed(self) -> None:
        if self.gc_frozen:
            gc.unfreeze()                # what the feed froze can be collected again
            self.gc_frozen = 0
        for q in self._queues:
            q.event.set()

    # ----------------------------------------------------------------- access
    def live_book(self, exchange: str, symbol: str) -> LiveBook:
        try:
            return self._books[(exchange, symbol)]
        except KeyError:
            raise FeedConfigError(f"the feed does not watch {exchange} {symbol}") from None

    def book(self, exchange: str, symbol: str) -> OrderBook:
        """The live compiled book (the current object: read it again after a rescale)."""
        return self.live_book(exchange, symbol).book

    def stats(self, exchange: str, symbol: str) -> dict[str, Any]:
        """Counters of one book (see :class:`~liqcore.feed.live_book.BookStats`) plus ``state``,
        ``watch_calls`` and the book's own ``last_update_id``."""
        live = self.live_book(exchange, symbol)
        out: dict[str, Any] = live.stats.as_dict()
        out.update(state=live.state, watch_calls=self.watch_calls[(exchange, symbol)],
                   last_update_id=live.book.last_update_id,
                   last_error=None if live.last_error is None else repr(live.last_error))
        return out

    @property
    def books(self) -> dict[tuple[str, str], LiveBook]:
        return dict(self._books)

    def subscribe(self, callback: Callback, exchange: str | None = None,
                  symbol: str | None = None) -> Callable[[], None]:
        """Call ``callback(live_book)`` after every message that changed a matching book
        (synchronously, in the receive path: keep it short). Returns an unsubscribe function."""
        targets = [lb for (e, s), lb in self._books.items()
                   if (exchange is None or e == exchange) and (symbol is None or s == symbol)]
        if not targets:
            raise FeedConfigError(f"no watched book matches {exchange} {symbol}")
        for lb in targets:
            lb.subscribers.append(callback)

        def unsubscribe() -> None:
            for lb in targets:
                with contextlib.suppress(ValueError):
                    lb.subscribers.remove(callback)
        return unsubscribe

    async def updates(self) -> AsyncIterator[BookUpdate]:
        """Book updates, coalesced per book (a slow consumer sees each changed book once with its
        latest state). Ends when the feed closes; raises FeedError when every book failed."""
        q = _Queue()
        self._queues.append(q)
        try:
            while not self._closing:
                await q.event.wait()
                q.event.clear()
                items, q.dirty = q.dirty, {}
                for live in items.values():
                    yield BookUpdate(live.exchange, live.symbol, live)
                if self.fatal and all(lb.state == "failed" for lb in self._books.values()):
                    ex, sym, err = self.fatal[0]
                    raise FeedError(f"every book failed; first: {ex} {sym}: {err!r}") from err
        finally:
            self._queues.remove(q)

    def __aiter__(self) -> AsyncIterator[BookUpdate]:
        return self.updates()

    async def wait_live(self, timeout: float | None = None) -> None:
        """Wait until every book is live (asyncio.TimeoutError after ``timeout`` s)."""
        async def _wait() -> None:
            while not all(lb.is_live for lb in self._books.values()):
                if self.fatal:
                    ex, sym, err = self.fatal[0]
                    raise FeedError(f"{ex} {sym} failed: {err!r}") from err
                await asyncio.sleep(0.01)
        await asyncio.wait_for(_wait(), timeout)

    def _notify(self, live: LiveBook) -> None:
        if self._first_sync is not None and live.is_live:     # O(1) per frame until the freeze
            self._first_sync.discard((live.exchange, live.symbol))
            if not self._first_sync:
                self._first_sync = None
                gc.collect()
                gc.freeze()
                self.gc_frozen = gc.get_freeze_count()
        for q in self._queues:
            q.push(live)

    # ----------------------------------------------------------- watch loops
    async def _on_error(self, live: LiveBook, exc: BaseException, backoff: Backoff) -> bool:
        """Count, classify; fatal -> mark failed and return False; else sleep the backoff."""
        live.stats.watch_errors += 1
        live.last_error = exc
        if classify_error(exc) == FATAL:
            log.error("%s %s: fatal %r", live.exchange, live.symbol, exc)
            live.mark_failed(exc)
            self.fatal.append((live.exchange, live.symbol, exc))
            self._notify(live)
            return False
        log.info("%s %s: %r, retrying", live.exchange, live.symbol, exc)
        await asyncio.sleep(backoff.next())   # always yields: ccxt can re-raise without yielding
        return True

    def _force_resubscribe(self, ex: Any, live: LiveBook, reason: str) -> None:
        """Make the next watch resubscribe (after an idle book or a sync that never finished)."""
        if reason == "idle":
            live.mark_stale("idle")
        for client in list((ex.clients or {}).values()):
            if live.message_hash in client.subscriptions:
                ex.liq_drop_subscription(client, live)

    async def _watch_engine(self, ex: Any, live: LiveBook) -> None:
        backoff = Backoff(*self.backoff)
        key = (live.exchange, live.symbol)
        must_watch = True
        while True:
            try:
                if self._own_cancel():
                    # a cancel asyncio.wait_for swallowed (Python < 3.12: the watch completed in the
                    # same iteration) still ends the loop
                    raise asyncio.CancelledError
                if must_watch or live.state != "live":
                    must_watch = True     # until this watch succeeds
                    live.wait_trouble_reset()
                    self.watch_calls[key] += 1
                    try:
                        await asyncio.wait_for(ex.watch_order_book(live.symbol, self.depth), self.sync_timeout)
                    except asyncio.TimeoutError:
                        self._force_resubscribe(ex, live, "sync")
                        raise
                    if live.state != "live":
                        continue
                    must_watch = False
                    backoff.reset()
                reason = await live.wait_trouble(self.idle_timeout)
                if reason == "idle":
                    self._force_resubscribe(ex, live, "idle")
                elif reason == "failed":
                    return
            except asyncio.CancelledError:
                if self._own_cancel():
                    raise
                if not await self._on_error(live, FeedError("watch cancelled by ccxt (connection closed)"),
                                            backoff):
                    return
            except Exception as exc:
                if not await self._on_error(live, exc, backoff):
                    return

    async def _watch_mirror(self, ex: Any, live: LiveBook) -> None:
        await self._mirror(live, lambda: ex.watch_order_book(live.symbol, self.depth), 0.0)

    async def _poll(self, ex: Any, live: LiveBook) -> None:
        await self._mirror(live, lambda: ex.fetch_order_book(live.symbol, self.depth), self.poll_interval)

    async def _mirror(self, live: LiveBook, fetch: Callable[[], Awaitable[Any]], pause: float) -> None:
        """The loop of a book kept by ccxt itself: each book ``fetch`` returns (a websocket watch, or
        a REST request followed by ``pause`` seconds) is mirrored into ``live``; errors are retried
        with the backoff (ccxt's own checksum failures make the book stale as ours do)."""
        backoff = Backoff(*self.backoff)
        key = (live.exchange, live.symbol)
        while True:
            try:
                self.watch_calls[key] += 1
                ob = await fetch()
                mirror(live, ob, time.monotonic_ns())
                backoff.reset()
                if pause:
                    await asyncio.sleep(pause)
            except asyncio.CancelledError:
                if self._own_cancel():
                    raise
                if not await self._on_error(live, FeedError("watch cancelled by ccxt"), backoff):
                    return
            except Exception as exc:
                if live.state == "live":
                    live.mark_stale("checksum" if "checksum" in type(exc).__name__.lower() else "error", exc)
                if not await self._on_error(live, exc, backoff):
                    return


def run(main: Any) -> Any:
    """Run a coroutine on uvloop when it is installed (faster event loop), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
