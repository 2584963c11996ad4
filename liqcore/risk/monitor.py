"""A live monitor of liquidation-risk scores: keeps :func:`~liqcore.risk.score.liquidation_risk`
of a set of positions current from live books and mark/funding records, and calls back when a
score crosses a threshold.

::

    async with LiveFeed([("binanceusdm", "BTC/USDT:USDT")]) as feed, \\
            MarketData([("binanceusdm", "BTC/USDT:USDT", "mark"),
                        ("binanceusdm", "BTC/USDT:USDT", "funding")]) as md, \\
            RiskMonitor([position], feed=feed, market_data=md, sigma=0.6) as monitor:
        monitor.subscribe(lambda e: print(e.direction, e.threshold, e.new_score))
        ...
        monitor.scores()                  # {key: score} for polling

What drives a position's score (the position's market is ``(position.exchange,
position.symbol)`` unless ``market=`` says otherwise; the feed's and market data's keys):

- the price: the newest mark price (a ``MarkPrice`` record, or the mark a ``FundingRate`` record
  carries; newest by the records' exchange time) -- liquidations use the mark -- else the mid of
  the live book; a position is not scored before one of them is known (never from its entry
  price). With market data, the mark counts while one of the market's mark/funding streams is
  live: while they retry or after they failed, the live book's mid takes over (the last mark
  only when there is no live book; ``mark_ts_ms`` says how old it is);
- the funding rate: the newest ``FundingRate`` record's rate per interval, over
  ``horizon / interval`` intervals (the record's interval, else ``funding_interval_hours``);
  0 before the first record;
- the exit cost: a walk of the position's size through the live book (the book only while it is
  live: a stale or resyncing book is left out and the score's other components renormalised, as
  :func:`liquidation_risk` does without a book; the snapshot says ``book_live``);
- the liquidation price: computed once, when the position is added, from its tiers (it does not
  depend on the mark; replace the position with ``add(new, key=same_key)`` when it changes).

Thresholds (score points, default ``(50, 80)``) with hysteresis: a score crosses threshold ``t``
upwards when it reaches ``t`` (``>= t``) and back downwards only when it falls below
``t - hysteresis`` (default 2 points), so a score jittering around ``t`` calls back once, not on
every update (the debounce of analytics.md §8: fire on the threshold, clear on a lower one). One
event per threshold crossed, in crossing order. The first score of a position counts as crossing
every threshold it is at or above (``old_score`` None), unless ``notify_initial=False``.

Recomputation is coalesced: book messages and records only mark the positions of their market
dirty (O(positions of that market)); the monitor's task recomputes each dirty position once,
then sleeps ``min_interval`` seconds (default 0.1: the exchanges' 100 ms push window) before the
next cycle, so however many messages arrive a position is recomputed at most once per cycle and
a change waits at most ``min_interval`` (plus the recompute). Measured on the development VM
(one position of 10 BTC, a 1,000-level book): a recompute is one :func:`liquidation_risk` call
with its walk (about 4 us) plus bookkeeping, about 6 us; a cycle of 100 positions 0.6 ms; a book
message 0.6 us (1.8 us marking 100 positions dirty). ``stats()["mean_recompute_us"]`` reports the mean
measured while running.

Callbacks run in the monitor's task, never in the feed's receive path (keep them short, or make
them coroutines); their exceptions are caught, logged and counted
(``stats()["callback_errors"]``); a callback that returns an awaitable has it run as a task (its
exceptions counted the same way; :meth:`close` cancels those still running).

Without a feed the monitor is driven synchronously (a replay, a test): :meth:`on_book`,
:meth:`on_record`, then :meth:`update`, which recomputes the dirty positions and returns (and
calls back with) the events.

Ownership: :meth:`start` starts the feed and market data when they are not started (both are
idempotent); :meth:`close` stops the monitor's task and its subscriptions but never closes the
feed or market data (often shared): enter them first, ``async with feed, md, monitor``.
Single-threaded: call it from the event loop's thread.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterable, Mapping

from liqcore._book import OrderBook
from liqcore.errors import FeedConfigError, RiskInputError
from liqcore.risk.checks import number
from liqcore.risk.liquidation import EXCHANGE_FORMULAS, liquidation_price
from liqcore.risk.probability import DAYS_PER_YEAR
from liqcore.risk.records import Position
from liqcore.risk.score import LiquidationRisk, ScoreWeights, liquidation_risk
from liqcore.risk.tiers import LeverageTiers

if TYPE_CHECKING:
    from liqcore.feed.live import LiveFeed
    from liqcore.feed.live_book import LiveBook
    from liqcore.feed.market_data import MarketData

__all__ = ["RiskMonitor", "RiskEvent", "RiskSnapshot", "DEFAULT_THRESHOLDS"]

log = logging.getLogger("liqcore.risk.monitor")

#: default thresholds, score points. With no funding or exit cost (default weights), 50 ("watch")
#: is a mark about 0.8 sigma*sqrt(horizon) from the liquidation price with a ~43 % chance of
#: touching it within the horizon; 80 ("act") about 0.15 sigma*sqrt(horizon) away, ~89 %
DEFAULT_THRESHOLDS = (50.0, 80.0)

_MS_PER_DAY = 86_400_000

EventCallback = Callable[["RiskEvent"], Any]


@dataclass(frozen=True, slots=True)
class RiskSnapshot:
    """The current score of one monitored position and what it was computed from.

    ``key`` and ``position`` as added; ``risk``: the :class:`LiquidationRisk` (score 0-100 and its
    components); ``mark_source``: ``"mark"`` (a mark-price record) or ``"mid"`` (the live book's
    mid); ``mark_ts_ms``: exchange time of that mark record (ms since the epoch; None for a mid);
    ``funding_rate``: per funding interval, as used (0.0 before the first record);
    ``funding_ts_ms``: its record's time (None: no record yet); ``book_live``: whether a live book
    priced the exit (None: no book for this market); ``level``: how many thresholds the score is
    at or above (with hysteresis); ``time_ns``: wall clock of the computation (ns since the epoch).
    """

    key: Hashable
    position: Position
    risk: LiquidationRisk
    mark_source: str
    mark_ts_ms: int | None
    funding_rate: float
    funding_ts_ms: int | None
    book_live: bool | None
    level: int
    time_ns: int

    @property
    def score(self) -> float:
        """The score, 0-100."""
        return self.risk.score

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain values (position and risk as dicts; ``key`` as given)."""
        return {"key": self.key, "position": self.position.to_dict(), "risk": self.risk.to_dict(),
                "score": self.score, "mark_source": self.mark_source, "mark_ts_ms": self.mark_ts_ms,
                "funding_rate": self.funding_rate, "funding_ts_ms": self.funding_ts_ms,
                "book_live": self.book_live, "level": self.level, "time_ns": self.time_ns}


@dataclass(frozen=True, slots=True)
class RiskEvent:
    """A score crossed a threshold.

    ``direction`` ``"up"`` (the score reached ``threshold``) or ``"down"`` (it fell below
    ``threshold - hysteresis``); ``old_score`` the previous score (None for the first score of
    the position), ``new_score`` the score now (0-100); ``snapshot`` everything the new score
    was computed from, ``risk`` its :class:`LiquidationRisk` (components, liquidation price,
    mark). ``time_ns``: wall clock of the computation.
    """

    key: Hashable
    position: Position
    old_score: float | None
    new_score: float
    threshold: float
    direction: str
    risk: LiquidationRisk
    snapshot: RiskSnapshot
    time_ns: int

    def to_dict(self) -> dict[str, Any]:
        """The crossing as plain values; position and risk once, inside ``snapshot``."""
        return {"key": self.key, "old_score": self.old_score, "new_score": self.new_score,
                "threshold": self.threshold, "direction": self.direction, "time_ns": self.time_ns,
                "snapshot": self.snapshot.to_dict()}


@dataclass(eq=False)
class _Entry:
    key: Hashable
    position: Position
    tiers: LeverageTiers
    sigma: float
    market: tuple[str, str]
    liq_price: float | None
    level: int = 0
    snapshot: RiskSnapshot | None = None
    dirty: bool = True


@dataclass(eq=False)
class _Market:
    """What the monitor knows of one market: its book and its latest mark and funding."""

    live: Any = None                      # a LiveBook (feed), or a LiveBook / OrderBook (on_book)
    mark: float | None = None
    mark_ts_ms: int | None = None
    funding: float | None = None
    funding_ts_ms: int | None = None
    funding_interval_ms: int | None = None
    entries: dict[Hashable, _Entry] = field(default_factory=dict)
    #: the market data's streams that carry this market's mark (None: not looked up yet)
    mark_streams: list[Any] | None = None


class RiskMonitor:
    """Liquidation-risk scores of positions kept current, with threshold callbacks (see the
    module docstring for what drives a score, the thresholds and the coalescing).

    Parameters
    ----------
    positions : iterable of Position
        The positions to monitor at start (may be empty: :meth:`add` more later), each under
        its own key (the Position itself). Each must be of an exchange with a liquidation
        formula (``EXCHANGE_FORMULAS``).
    feed : LiveFeed, optional
        Books of the positions' markets (mid price when there is no mark; exit cost).
    market_data : MarketData, optional
        ``mark`` and ``funding`` streams of the positions' markets.
    sigma : float
        Volatility per year (a fraction: 0.6 = 60 %), > 0, of every position unless
        :meth:`add` gives one.
    tiers : LeverageTiers or mapping (exchange, symbol) -> LeverageTiers, optional
        The positions' tier tables; missing ones default to :meth:`LeverageTiers.default`
        (bundled for Binance BTCUSDT only: other markets must be given).
    horizon : float
        Years (365-day year), > 0; default one day.
    monitoring : float, optional
        Years between the exchange's price checks (BGK correction), > 0; None: continuous.
    thresholds : iterable of float
        Score points in [0, 100], distinct; default :data:`DEFAULT_THRESHOLDS` (50, 80).
    hysteresis : float
        Score points in [0, 100]: a crossing back down needs ``score < t - hysteresis``.
    min_interval : float
        Seconds (>= 0) between recompute cycles of the monitor's task.
    weights : ScoreWeights, optional
        The score's weights and scales (default :class:`ScoreWeights`).
    funding_interval_hours : float
        Funding interval (> 0 hours) when a funding record does not say (8: Binance, Bybit, OKX).
    notify_initial : bool
        Call back for the thresholds a position's first score is already at or above.
    callback : callable, optional
        Subscribed at once (as :meth:`subscribe`).

    Bad input raises :class:`~liqcore.errors.RiskInputError` naming the argument, before
    anything is monitored.
    """

    def __init__(self, positions: Iterable[Position] = (), *, feed: LiveFeed | None = None,
                 market_data: MarketData | None = None, sigma: float,
                 tiers: LeverageTiers | Mapping[tuple[str, str], LeverageTiers] | None = None,
                 horizon: float = 1.0 / DAYS_PER_YEAR, monitoring: float | None = None,
                 thresholds: Iterable[float] = DEFAULT_THRESHOLDS, hysteresis: float = 2.0,
                 min_interval: float = 0.1, weights: ScoreWeights | None = None,
                 funding_interval_hours: float = 8.0, notify_initial: bool = True,
                 callback: EventCallback | None = None) -> None:
        self.sigma = number("sigma", sigma, low=0.0)
        self.horizon = number("horizon", horizon, low=0.0)
        self.monitoring = None if monitoring is None else number("monitoring", monitoring, low=0.0)
        self.thresholds = _thresholds(thresholds)
        self.hysteresis = number("hysteresis", hysteresis, low=0.0, low_open=False, high=100.0)
        self.min_interval = number("min_interval", min_interval, low=0.0, low_open=False)
        self.funding_interval_ms = number("funding_interval_hours", funding_interval_hours, low=0.0) * 3_600_000
        if weights is not None and not isinstance(weights, ScoreWeights):
            raise RiskInputError(f"weights: expected ScoreWeights, got {type(weights).__name__}")
        self.weights = weights
        if not isinstance(notify_initial, bool):
            raise RiskInputError(f"notify_initial: expected a bool, got {notify_initial!r}")
        self.notify_initial = notify_initial
        if isinstance(tiers, LeverageTiers) or tiers is None:
            self._tiers: LeverageTiers | dict[tuple[str, str], LeverageTiers] | None = tiers
        elif isinstance(tiers, Mapping):
            table: dict[tuple[str, str], LeverageTiers] = {}
            for k, t in tiers.items():
                if not (isinstance(k, tuple) and len(k) == 2 and all(isinstance(x, str) for x in k)):
                    raise RiskInputError(f"tiers: keys are (exchange, symbol) pairs, got {k!r}")
                if not isinstance(t, LeverageTiers):
                    raise RiskInputError(f"tiers[{k!r}]: expected LeverageTiers, got {type(t).__name__}")
                table[(k[0].lower(), k[1])] = t
            self._tiers = table
        else:
            raise RiskInputError(f"tiers: expected LeverageTiers or a mapping of them, got {type(tiers).__name__}")
        if callback is not None and not callable(callback):
            raise RiskInputError(f"callback: expected a callable, got {callback!r}")
        if feed is not None and not (hasattr(feed, "pairs") and hasattr(feed, "subscribe")):
            raise RiskInputError(f"feed: expected a liqcore.feed.LiveFeed, got {type(feed).__name__}")
        if market_data is not None and not (hasattr(market_data, "streams") and hasattr(market_data, "subscribe")):
            raise RiskInputError(f"market_data: expected a liqcore.feed.MarketData, got {type(market_data).__name__}")
        self.feed = feed
        self.market_data = market_data
        self._entries: dict[Hashable, _Entry] = {}
        self._markets: dict[tuple[str, str], _Market] = {}
        self._callbacks: list[EventCallback] = []
        self._feed_unsubs: dict[tuple[str, str], Callable[[], None]] = {}
        self._md_unsubs: list[Callable[[], None]] = []
        self._callback_tasks: set[asyncio.Task[Any]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._started = False
        self._closing = False
        self._stats = {"recomputes": 0, "recompute_ns": 0, "cycles": 0, "events": 0, "callback_errors": 0,
                       "score_errors": 0, "book_updates": 0, "records": 0, "ignored_records": 0}
        if isinstance(positions, (Position, str, bytes)) or not isinstance(positions, Iterable):
            raise RiskInputError(f"positions: expected an iterable of Position, got {type(positions).__name__}")
        checked = [self._entry(p, key=p) for p in positions]      # all validated before any is added
        keys = [e.key for e in checked]
        if len(set(keys)) != len(keys):
            raise RiskInputError("positions: the same position twice (give distinct keys with add())")
        for e in checked:
            self._install(e)
        if callback is not None:
            self.subscribe(callback)

    # ------------------------------------------------------------------ positions
    def add(self, position: Position, *, key: Hashable = None, tiers: LeverageTiers | None = None,
            sigma: float | None = None, market: tuple[str, str] | None = None) -> Hashable:
        """Monitor ``position`` under ``key`` (default: the position itself) and return the key.

        ``tiers`` (else the constructor's, else the bundled default), ``sigma`` (per year, else
        the constructor's), ``market`` the ``(exchange id, symbol)`` of the feed and market data
        (default the position's own). A key already monitored is replaced and keeps its
        threshold state and last score: a resize that moves the score across a threshold calls
        back once, with the previous score as ``old_score``. Validates everything and computes the
        liquidation price (RiskInputError: unknown exchange, leverage above the tier's maximum, a
        market neither the feed nor the market data serves...). Can be called while running.
        O(log tiers)."""
        entry = self._entry(position, key=position if key is None else key, tiers=tiers, sigma=sigma,
                            market=market)
        self._install(entry)
        return entry.key

    def remove(self, key: Hashable) -> Position:
        """Stop monitoring the position under ``key`` (or this Position); returns it. O(1) by key,
        O(positions) by Position. RiskInputError when it is not monitored."""
        entry = self._find(key)
        del self._entries[entry.key]
        self._detach(entry)
        return entry.position

    @property
    def positions(self) -> dict[Hashable, Position]:
        """The monitored positions by key (a new dict)."""
        return {k: e.position for k, e in self._entries.items()}

    # -------------------------------------------------------------------- polling
    def latest(self, key: Hashable) -> RiskSnapshot | None:
        """The current :class:`RiskSnapshot` of the position under ``key`` (or this Position);
        None before its first score (no price yet). RiskInputError when it is not monitored."""
        return self._find(key).snapshot

    def scores(self) -> dict[Hashable, float]:
        """``{key: score}`` of every position scored so far (0-100). O(positions)."""
        return {k: e.snapshot.score for k, e in self._entries.items() if e.snapshot is not None}

    def snapshots(self) -> dict[Hashable, RiskSnapshot]:
        """``{key: RiskSnapshot}`` of every position scored so far. O(positions)."""
        return {k: e.snapshot for k, e in self._entries.items() if e.snapshot is not None}

    async def wait_scored(self, timeout: float | None = None) -> None:
        """Wait until every monitored position has a score (asyncio.TimeoutError after
        ``timeout`` seconds). Polls every 10 ms."""
        async def _wait() -> None:
            while any(e.snapshot is None for e in self._entries.values()):
                await asyncio.sleep(0.01)
        await asyncio.wait_for(_wait(), timeout)

    def stats(self) -> dict[str, Any]:
        """Counters since construction: ``recomputes`` (score computations), ``mean_recompute_us``
        (their mean cost, microseconds), ``cycles`` (update() calls that recomputed something),
        ``events``, ``callback_errors``, ``score_errors`` (computations that raised: logged, the
        previous score kept), ``book_updates``, ``records`` (mark/funding records used),
        ``ignored_records`` (other kinds, or a non-finite / non-positive value), ``positions``."""
        out: dict[str, Any] = dict(self._stats)
        out["mean_recompute_us"] = out["recompute_ns"] / out["recomputes"] / 1e3 if out["recomputes"] else None
        out["positions"] = len(self._entries)
        return out

    # ------------------------------------------------------------------ callbacks
    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(event)`` for every :class:`RiskEvent` (in the monitor's task, or in
        :meth:`update`). Exceptions are caught, logged and counted; an awaitable result runs as a
        task. Returns an unsubscribe function."""
        if not callable(callback):
            raise RiskInputError(f"callback: expected a callable, got {callback!r}")
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)
        return unsubscribe

    # ---------------------------------------------------------- synchronous driving
    def on_book(self, exchange: str, symbol: str, book: Any) -> None:
        """The book of a market changed: ``book`` is a :class:`~liqcore.OrderBook` (used as
        live) or a :class:`~liqcore.feed.live_book.LiveBook` (used while live). Marks the
        market's positions dirty. O(positions of the market)."""
        m = self._markets.setdefault((exchange, symbol), _Market())
        m.live = book
        self._stats["book_updates"] += 1
        self._touch(m)

    def on_record(self, record: Any) -> None:
        """A market-data record (:mod:`liqcore.feed.records`): a ``MarkPrice`` sets the market's
        mark, a ``FundingRate`` its funding rate (and its mark when it carries one), unless the
        market already holds a newer one (by the records' exchange time ``ts_ms``: a late REST
        answer does not take the mark back). Other kinds, and non-finite or non-positive prices,
        are ignored and counted. O(positions of the market)."""
        kind = getattr(record, "KIND", None)
        if kind not in ("mark", "funding"):
            self._stats["ignored_records"] += 1
            return
        m = self._markets.setdefault((record.exchange, record.symbol), _Market())
        mark, ts = record.mark_price, record.ts_ms
        ok_mark = isinstance(mark, (int, float)) and math.isfinite(mark) and mark > 0
        if kind == "mark":
            if not ok_mark:
                self._stats["ignored_records"] += 1
                return
        else:
            rate = record.rate
            if not (isinstance(rate, (int, float)) and math.isfinite(rate)):
                self._stats["ignored_records"] += 1
                return
            if m.funding_ts_ms is None or ts >= m.funding_ts_ms:
                m.funding, m.funding_ts_ms = float(rate), ts
                m.funding_interval_ms = record.interval_ms if record.interval_ms else None
        if ok_mark and (m.mark_ts_ms is None or ts >= m.mark_ts_ms):
            m.mark, m.mark_ts_ms = float(mark), ts
        self._stats["records"] += 1
        self._touch(m)

    def update(self, *, force: bool = False) -> list[RiskEvent]:
        """Recompute every dirty position (every position with ``force``), update the threshold
        states, call back, and return the events in order. A position without a price yet is
        skipped. A computation that raises is logged and counted (``score_errors``), the previous
        score kept. O(dirty positions x one score)."""
        now = time.time_ns()
        events: list[RiskEvent] = []
        recomputed = 0
        for entry in list(self._entries.values()):
            if not (entry.dirty or force):
                continue
            t0 = time.perf_counter_ns()
            try:
                crossed = self._recompute(entry, now)
            except Exception:
                self._stats["score_errors"] += 1
                log.exception("risk score of %r failed", entry.key)
                entry.dirty = False
                continue
            if crossed is None:          # no price yet: stays dirty until one comes
                continue
            self._stats["recompute_ns"] += time.perf_counter_ns() - t0
            recomputed += 1
            entry.dirty = False
            events.extend(crossed)
        if recomputed:
            self._stats["recomputes"] += recomputed
            self._stats["cycles"] += 1
            self._stats["events"] += len(events)
        for event in events:
            self._dispatch(event)
        return events

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> RiskMonitor:
        """Start the feed and market data if needed, subscribe to them, start the recompute task.
        Idempotent."""
        if self._started:
            return self
        self._started = True
        try:
            if self.feed is not None:
                await self.feed.start()
                for market in list(self._markets):
                    self._watch_book(market)
            if self.market_data is not None:
                md = self.market_data
                await md.start()
                for kind in ("mark", "funding"):
                    self._md_unsubs.append(md.subscribe(self.on_record, kind=kind))
                for market in list(self._markets):
                    self._seed_records(market)
            self._task = asyncio.create_task(self._run(), name="liqcore-risk-monitor")
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        """Stop the task, unsubscribe, cancel callback tasks still running. The feed and market
        data are left running (the caller closes them). Idempotent."""
        if self._closing:
            return
        self._closing = True
        for unsub in [*self._feed_unsubs.values(), *self._md_unsubs]:
            unsub()
        self._feed_unsubs.clear()
        self._md_unsubs.clear()
        tasks = [t for t in (self._task, *self._callback_tasks) if t is not None]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> RiskMonitor:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------- internals
    def _entry(self, position: Position, *, key: Hashable, tiers: LeverageTiers | None = None,
               sigma: float | None = None, market: tuple[str, str] | None = None) -> _Entry:
        """A validated entry (nothing installed)."""
        if not isinstance(position, Position):
            raise RiskInputError(f"position: expected a liqcore.risk.Position, got {type(position).__name__}")
        if position.exchange not in EXCHANGE_FORMULAS:
            raise RiskInputError(f"position.exchange: no liquidation formula for {position.exchange!r} "
                                 f"(known: {', '.join(EXCHANGE_FORMULAS)})")
        try:
            hash(key)
        except TypeError:
            raise RiskInputError(f"key: must be hashable, got {type(key).__name__}") from None
        sg = self.sigma if sigma is None else number("sigma", sigma, low=0.0)
        if market is None:
            mk = (position.exchange, position.symbol)
        elif (isinstance(market, tuple) and len(market) == 2 and all(isinstance(x, str) and x for x in market)):
            mk = (market[0], market[1])
        else:
            raise RiskInputError(f"market: expected (exchange id, symbol), got {market!r}")
        self._check_served(mk)
        if tiers is None:
            table = self._tiers
            if isinstance(table, dict):
                table = table.get((position.exchange, position.symbol))
            if table is None:
                try:
                    table = LeverageTiers.default(position.exchange, position.symbol)
                except RiskInputError as exc:
                    raise RiskInputError(f"tiers: none given for {position.exchange} {position.symbol} "
                                         f"and no bundled table ({exc})") from None
            tiers = table
        elif not isinstance(tiers, LeverageTiers):
            raise RiskInputError(f"tiers: expected LeverageTiers, got {type(tiers).__name__}")
        # checks the leverage against the tier; the price does not depend on the mark
        liq = liquidation_price(position, tiers)   # None for "liquidated at any price": scored as the worst
        return _Entry(key, position, tiers, sg, mk, liq.price)

    def _check_served(self, market: tuple[str, str]) -> None:
        """RiskInputError when the monitor has sources and none serves the market's price."""
        if self.feed is None and self.market_data is None:
            return
        if self.feed is not None and market in self.feed.pairs:
            return
        if self.market_data is not None and any(
                (s.exchange, s.symbol) == market and s.kind in ("mark", "funding") for s in self.market_data.streams):
            return
        raise RiskInputError(f"market: {market[0]} {market[1]} is served by neither the feed's books nor "
                             "the market data's mark/funding streams")

    def _install(self, entry: _Entry) -> None:
        old = self._entries.get(entry.key)
        if old is not None:
            # a replaced position keeps its threshold state and last score (a resize is not a new alert)
            entry.level, entry.snapshot = old.level, old.snapshot
            self._detach(old)
        self._entries[entry.key] = entry
        m = self._markets.setdefault(entry.market, _Market())
        m.entries[entry.key] = entry
        if self._started and not self._closing:
            self._watch_book(entry.market)
            self._seed_records(entry.market)
        entry.dirty = True
        self._wake.set()

    def _detach(self, entry: _Entry) -> None:
        """Take ``entry`` off its market; the last one off a market ends its book subscription."""
        m = self._markets[entry.market]
        m.entries.pop(entry.key, None)
        if not m.entries:
            unsub = self._feed_unsubs.pop(entry.market, None)
            if unsub is not None:
                unsub()

    def _find(self, key: Hashable) -> _Entry:
        try:
            entry = self._entries.get(key)
        except TypeError:
            entry = None
        if entry is None and isinstance(key, Position):
            entry = next((e for e in self._entries.values() if e.position == key), None)
        if entry is None:
            raise RiskInputError(f"key: {key!r} is not monitored")
        return entry

    def _watch_book(self, market: tuple[str, str]) -> None:
        """Subscribe to the feed's book of ``market`` (once), and take it as it is now."""
        feed = self.feed
        if feed is None or market in self._feed_unsubs or market not in feed.pairs or \
                not self._markets[market].entries:
            return
        try:
            live = feed.live_book(*market)
            self._feed_unsubs[market] = feed.subscribe(self._on_live, *market)
        except FeedConfigError:          # the feed failed to start this book
            log.warning("the feed has no book for %s %s", *market)
            return
        self._markets[market].live = live
        self._touch(self._markets[market])

    def _seed_records(self, market: tuple[str, str]) -> None:
        """Take the market data's latest mark and funding of ``market`` (a position added late)."""
        md = self.market_data
        if md is None:
            return
        for s in md.streams:
            if (s.exchange, s.symbol) == market and s.kind in ("funding", "mark") and s.last is not None:
                self.on_record(s.last)

    def _on_live(self, live: LiveBook) -> None:
        # in the feed's receive path: O(positions of the market), no computation
        m = self._markets.get((live.exchange, live.symbol))
        if m is not None:
            m.live = live
            self._stats["book_updates"] += 1
            self._touch(m)

    def _touch(self, m: _Market) -> None:
        if m.entries:
            for e in m.entries.values():
                e.dirty = True
            self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                self.update()
            except Exception:           # never reached by design (update catches); keep the task alive
                log.exception("risk monitor cycle failed")
            if self.min_interval > 0:
                await asyncio.sleep(self.min_interval)

    def _recompute(self, entry: _Entry, now_ns: int) -> list[RiskEvent] | None:
        """Score ``entry`` from its market's state, move its threshold level (hysteresis on the
        way down), store the snapshot; the events of the thresholds crossed, in crossing order.
        None when no price is known yet (nothing stored)."""
        m = self._markets[entry.market]
        book, book_live = None, None
        src = m.live
        if src is not None:
            if isinstance(src, OrderBook):
                book_live, book = True, src
            else:                            # a LiveBook: its current book (replaced on rescale), while live
                book_live = bool(src.is_live)
                book = src.book if book_live else None
        mid = book.mid if book is not None else math.nan
        has_mid = math.isfinite(mid) and mid > 0
        if m.mark is not None and (self._mark_stream_live(m, entry.market) or not has_mid):
            mark, source, mark_ts = m.mark, "mark", m.mark_ts_ms
        elif has_mid:
            mark, source, mark_ts = float(mid), "mid", None
        else:
            return None
        interval_ms = m.funding_interval_ms or self.funding_interval_ms
        rate = m.funding if m.funding is not None else 0.0
        risk = liquidation_risk(entry.position, sigma=entry.sigma, tiers=entry.tiers, liq_price=entry.liq_price,
                                book=book, mark=mark, horizon=self.horizon, monitoring=self.monitoring,
                                funding_rate=rate,
                                funding_intervals=self.horizon * DAYS_PER_YEAR * _MS_PER_DAY / interval_ms,
                                weights=self.weights)
        score, t, level = risk.score, self.thresholds, entry.level
        crossed: list[tuple[float, str]] = []
        while level < len(t) and score >= t[level]:
            crossed.append((t[level], "up"))
            level += 1
        while level > 0 and score < t[level - 1] - self.hysteresis:
            crossed.append((t[level - 1], "down"))
            level -= 1
        old = entry.snapshot
        snap = RiskSnapshot(entry.key, entry.position, risk, source, mark_ts, rate, m.funding_ts_ms, book_live,
                            level, now_ns)
        entry.level, entry.snapshot = level, snap
        if not crossed or (old is None and not self.notify_initial):
            return []
        old_score = None if old is None else old.score
        return [RiskEvent(entry.key, entry.position, old_score, score, th, d, risk, snap, now_ns) for th, d in crossed]

    def _mark_stream_live(self, m: _Market, market: tuple[str, str]) -> bool:
        """Whether the mark can be trusted as current: True without market data (a replay), else
        while one of the market's mark-carrying streams is live (retrying or failed: it is not)."""
        if self.market_data is None:
            return True
        if m.mark_streams is None:
            m.mark_streams = [s for s in self.market_data.streams
                              if (s.exchange, s.symbol) == market and s.kind in ("mark", "funding")]
        return not m.mark_streams or any(s.state == "live" for s in m.mark_streams)

    def _dispatch(self, event: RiskEvent) -> None:
        for cb in list(self._callbacks):
            try:
                result = cb(event)
            except Exception:
                self._stats["callback_errors"] += 1
                log.exception("risk monitor callback failed")
                continue
            if inspect.isawaitable(result):
                self._spawn(result)

    def _spawn(self, awaitable: Any) -> None:
        try:
            task = asyncio.ensure_future(awaitable)
        except RuntimeError:             # update() called without a running loop
            self._stats["callback_errors"] += 1
            log.error("risk monitor callback returned an awaitable but no event loop runs")
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            return
        self._callback_tasks.add(task)
        task.add_done_callback(self._callback_done)

    def _callback_done(self, task: asyncio.Task[Any]) -> None:
        self._callback_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._stats["callback_errors"] += 1
            log.error("risk monitor callback task failed", exc_info=task.exception())


def _thresholds(values: Iterable[float]) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise RiskInputError(f"thresholds: expected an iterable of numbers, got {values!r}")
    out = sorted(number(f"thresholds[{i}]", v, low=0.0, low_open=False, high=100.0) for i, v in enumerate(values))
    if not out:
        raise RiskInputError("thresholds: at least one")
    if len(set(out)) != len(out):
        raise RiskInputError(f"thresholds: must be distinct, got {out}")
    return tuple(out)
