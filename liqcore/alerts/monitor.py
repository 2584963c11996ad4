"""The live liquidity monitor: alert rules run on every book update of a :class:`LiveFeed` (or
every ``interval_ms``), alerts delivered to callbacks, kept, and written to a store.

::

    async with LiveFeed([("binance", "BTC/USDT"), ("okx", "BTC/USDT")]) as feed, \\
            LiveLiquidityMonitor(feed, spread_threshold_pct=100, depth_threshold_pct=50) as monitor:
        monitor.subscribe(print)                      # sync or async callbacks: on_alert(alert)
        ...
        monitor.active()                              # the episodes under way

What one book update becomes (an :class:`~liqcore.alerts.rules.Observation`): the book's mid and
spread (bps), the quote liquidity within 1% of the mid per side (``OrderBook.depth(pct=1)``; a
side that is empty counts 0, the other side then within 1% of its own best), the linearly
weighted imbalance of the top ``imbalance_levels`` levels (the liquidity report's
``weighted_imbalance``), and -- when the same symbol is watched on other venues -- the median of
their latest mids as the reference price (the PRICE_ANOMALY rule's cross-venue check).

The rules are :func:`~liqcore.alerts.rules.default_rules` with the seed's two thresholds:
``spread_threshold_pct`` (the spread must be that much above its median: 100 = twice) and
``depth_threshold_pct`` (the ±1% depth drop against its baseline), or ``rules=`` for full
control. Debounce and hysteresis are the engine's (:class:`~liqcore.alerts.rules.Debounce`).

Callbacks run synchronously in the feed's receive path when an alert starts or ends (keep them
short; a callback that returns an awaitable has it run as a task); their exceptions are caught,
logged and counted (``stats()["callback_errors"]``), never raised into the feed. The last
``history`` alerts are kept (bounded; ``stats()["history_dropped"]`` counts what fell out).
With ``store=``, every started and ended alert is also handed to ``store.write("alerts",
[alert])`` (a store's bounded buffer: it never blocks). Cost per update: the observation (about
the cost of ``depth(pct=1)`` on the book, O(levels within 1%)) plus the rules (O(1) each, with a
baseline refresh now and then); ``interval_ms`` bounds how often a market is evaluated.

Ownership: :meth:`start` starts the feed when it is not started; :meth:`close` unsubscribes but
never closes the feed. Without a feed, drive it with :meth:`on_book` (a replay, a test).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import statistics
import time
from collections import deque
from typing import Any, Awaitable, Callable, Iterable

from liqcore.alerts.records import LiquidityAlert
from liqcore.alerts.rules import (AlertEngine, Debounce, DepthDrop, Imbalance, Observation, PriceAnomaly, Rule,
                                  SpreadWidening)
from liqcore.errors import AlertInputError
from liqcore.risk.checks import number

__all__ = ["LiveLiquidityMonitor", "AlertCallback"]

log = logging.getLogger("liqcore.alerts.monitor")

AlertCallback = Callable[[LiquidityAlert], "Awaitable[Any] | None"]

_observation = tuple.__new__


class LiveLiquidityMonitor:
    """Alert rules over live books (module docstring).

    ``feed``: a :class:`liqcore.feed.LiveFeed` (optional: without one, call :meth:`on_book`);
    ``spread_threshold_pct`` (> 0) and ``depth_threshold_pct`` (0-100) set the default rules'
    breach levels; ``rules`` replaces the default rules; ``debounce`` as the engine's;
    ``interval_ms`` (>= 0): evaluate a market at most this often (0: every update);
    ``imbalance_levels``: levels of the imbalance; ``cross_venue``: compare each venue's mid with
    the median of the others' for the same symbol; ``on_alert``: a first callback; ``store``: an
    object with ``write(table, rows)`` (:mod:`liqcore.store`); ``history``: alerts kept;
    ``clock``: ns since the epoch (``time.time_ns``), the observations' time.
    """

    def __init__(self, feed: Any | None = None, *, spread_threshold_pct: float = 100.0,
                 depth_threshold_pct: float = 50.0, rules: Iterable[Rule] | None = None,
                 debounce: Debounce = Debounce(), interval_ms: float = 0.0, imbalance_levels: int = 10,
                 cross_venue: bool = True, on_alert: AlertCallback | None = None, store: Any | None = None,
                 history: int = 10_000, clock: Callable[[], int] = time.time_ns) -> None:
        spread = number("spread_threshold_pct", spread_threshold_pct, low=0.0, error=AlertInputError)
        depth = number("depth_threshold_pct", depth_threshold_pct, low=0.0, high=100.0, error=AlertInputError)
        if rules is None:
            ratio = 1.0 + spread / 100.0
            rules = [SpreadWidening(ratio=ratio, clear_ratio=min(1.5, 1.0 + (ratio - 1.0) / 2.0)),
                     DepthDrop(drop_pct=depth, clear_pct=min(30.0, depth * 0.6)), Imbalance(), PriceAnomaly()]
        self.engine = AlertEngine(rules, debounce=debounce)
        self._interval = int(number("interval_ms", interval_ms, low=0.0, low_open=False, error=AlertInputError)
                             * 1_000_000)
        if isinstance(imbalance_levels, bool) or not isinstance(imbalance_levels, int) or imbalance_levels < 1:
            raise AlertInputError(f"imbalance_levels must be an int >= 1, got {imbalance_levels!r}")
        if isinstance(history, bool) or not isinstance(history, int) or history < 1:
            raise AlertInputError(f"history must be an int >= 1, got {history!r}")
        if store is not None and not callable(getattr(store, "write", None)):
            raise AlertInputError("store: expected an object with write(table, rows) (a liqcore.store store)")
        self._levels = imbalance_levels
        self._cross = bool(cross_venue)
        self._store = store
        self._clock = clock
        self.feed = feed
        self._callbacks: list[AlertCallback] = [] if on_alert is None else [on_alert]
        self._history: deque[LiquidityAlert] = deque(maxlen=history)
        self._last_eval: dict[tuple[str, str], int] = {}
        self._mids: dict[str, dict[str, float]] = {}          # symbol -> exchange -> latest mid
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._stats = {"updates": 0, "evaluated": 0, "alerts": 0, "ended": 0, "callback_errors": 0,
                       "store_errors": 0, "history_dropped": 0}

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> LiveLiquidityMonitor:
        """Start the feed if needed and evaluate its book updates. Idempotent."""
        if self.feed is None:
            raise AlertInputError("start: no feed to watch (pass feed=, or drive the monitor with on_book)")
        if self._unsubscribe is None:
            await self.feed.start()
            self._unsubscribe = self.feed.subscribe(self._on_live_book)
        return self

    async def close(self) -> None:
        """Stop evaluating (the feed keeps running) and wait for callback tasks."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> LiveLiquidityMonitor:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ callbacks and queries
    def subscribe(self, callback: AlertCallback) -> Callable[[], None]:
        """Call ``callback(alert)`` when an alert starts and when it ends (``alert.ended_ms`` set).
        Returns an unsubscribe function."""
        if not callable(callback):
            raise AlertInputError(f"callback: expected a callable, got {callback!r}")
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)
        return unsubscribe

    def active(self) -> list[LiquidityAlert]:
        """The episodes under way, by start time."""
        return self.engine.active()

    def warming(self, exchange: str, symbol: str) -> list[str]:
        """The alert types still warming up on ``(exchange, symbol)`` (nothing is raised for
        them yet; :meth:`AlertEngine.warming`): how long after a start the monitor judges a
        market. Empty once every rule judges. O(rules)."""
        return self.engine.warming(exchange, symbol)

    def alerts(self) -> list[LiquidityAlert]:
        """The last ``history`` alerts delivered (starts and ends), oldest first."""
        return list(self._history)

    def stats(self) -> dict[str, int]:
        """Counters: book updates seen, evaluated, alerts started and ended, callback and store
        errors, alerts that fell out of the history."""
        return dict(self._stats)

    # ------------------------------------------------------------------ evaluation
    def _on_live_book(self, live: Any) -> None:
        self.on_book(live.exchange, live.symbol, live.book)

    def on_book(self, exchange: str, symbol: str, book: Any, ts: int | None = None) -> list[LiquidityAlert]:
        """Evaluate one book update of ``(exchange, symbol)`` (``ts``: ns since the epoch, the
        clock's now by default); returns the alerts that started or ended. O(levels within 1%)
        + O(rules)."""
        stats = self._stats
        stats["updates"] += 1
        now = self._clock() if ts is None else ts
        if self._interval:
            key = (exchange, symbol)
            last = self._last_eval.get(key)
            if last is not None and now - last < self._interval:
                return []
            self._last_eval[key] = now
        obs = self.observation(exchange, symbol, book, now)
        stats["evaluated"] += 1
        out = self.engine.observe(obs)
        for alert in out:
            self._deliver(alert)
        return out

    def observation(self, exchange: str, symbol: str, book: Any, ts: int) -> Observation:
        """What the rules see of a book at ``ts`` (module docstring)."""
        mid = book.mid
        bid, ask = book.best_bid, book.best_ask
        if bid is not None and ask is not None:
            d = book.depth(pct=1.0)
            bid_depth, ask_depth = d["bid_quote"], d["ask_quote"]
            imbalance = book.imbalance(self._levels, weighting="linear")
        else:                                   # one side empty: the other within 1% of its best
            d = book.depth(pct=1.0, reference="touch")
            bid_depth = d["bid_quote"] if bid is not None else 0.0
            ask_depth = d["ask_quote"] if ask is not None else 0.0
            imbalance = math.nan
        ref = None
        if self._cross:
            mids = self._mids.get(symbol)
            if mids is None:
                mids = self._mids[symbol] = {}
            if mid == mid:
                mids[exchange] = mid
            else:
                mids.pop(exchange, None)
            n_other = len(mids) - (exchange in mids)
            if n_other == 1:                    # the common case, two venues: no list, no median
                for ex, m in mids.items():
                    if ex != exchange:
                        ref = m
            elif n_other > 1:
                ref = statistics.median([m for ex, m in mids.items() if ex != exchange])
        # tuple.__new__: the named tuple's own constructor costs a Python call per update
        return _observation(Observation, (exchange, symbol, ts, mid, book.spread_bps, bid_depth, ask_depth,
                                          imbalance, ref))

    def _deliver(self, alert: LiquidityAlert) -> None:
        self._stats["alerts" if alert.active else "ended"] += 1
        if len(self._history) == self._history.maxlen:
            self._stats["history_dropped"] += 1
        self._history.append(alert)
        if self._store is not None:
            try:
                self._store.write("alerts", [alert])
            except Exception:                   # a store refusing must not stop the feed
                self._stats["store_errors"] += 1
                log.exception("store.write of alert %s failed", alert.id)
        for cb in list(self._callbacks):
            try:
                result = cb(alert)
                if inspect.isawaitable(result):
                    task = asyncio.ensure_future(result)
                    self._tasks.add(task)
                    task.add_done_callback(self._task_done)
            except Exception:
                self._stats["callback_errors"] += 1
                log.exception("alert callback %r failed", cb)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._stats["callback_errors"] += 1
            log.error("alert callback task failed", exc_info=task.exception())
