"""Liquidity history: capture reports of live books into a store, read them back, summarise a
lookback into baselines, and flag what deviates from them.

::

    store = open_store()                                   # SQLite under the data directory
    async with LiveFeed([("binance", "BTC/USDT"), ("okx", "BTC/USDT")]) as feed:
        tracker = LiquidityTracker(store, feed, interval_s=1.0, snapshot_interval_s=60.0)
        await tracker.start_continuous_tracking()          # a report a second, the top 20 levels a minute
        ...
        tracker.get_snapshots("binance", "BTC/USDT", hours=1)          # numpy structured array
        tracker.get_baseline_metrics("binance", "BTC/USDT", hours=24)  # {metric: BaselineStats}
        tracker.detect_anomalies(threshold_pct=30, lookback_hours=24)  # [LiquidityAlert]
        await tracker.close()

What a capture writes, per live book: its :meth:`OrderBook.liquidity_report` to
``liquidity_reports`` (every field) and, every ``snapshot_interval_s``, its top
``snapshot_levels`` levels per side to ``book_snapshots``. Writes go through the store's bounded
buffer: they never block (what a full buffer drops is counted by the store). Books that are not
live (syncing, resyncing, failed) are skipped and counted, never recorded while known wrong.

:meth:`detect_anomalies` compares each market's latest report with the median of its lookback
(the latest report excluded), metric by metric:

=================  ==========================================================================
SPREAD_WIDENING    spread (bps) above the median by ``threshold_pct`` percent or more
DEPTH_DROP         the ±1% liquidity of a side below its median by ``threshold_pct`` percent
IMBALANCE          weighted imbalance away from its median by ``threshold_pct`` points of the
                   -100..100 scale (30: 0.30)
PRICE_ANOMALY      mid away from its median by ``threshold_pct / 10`` percent (30: 3%)
=================  ==========================================================================

Severity by the deviation over its threshold: MEDIUM from 2x, HIGH from 3x. The alerts returned
are also written to the store's ``alerts`` table (``record=False`` does not). This is the
on-demand check over stored history; :class:`~liqcore.alerts.monitor.LiveLiquidityMonitor` is
the per-update one.

Ownership: the tracker never closes the store or the feed. Not thread-safe: one owner (the event
loop).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import numpy.typing as npt

from liqcore.alerts.baselines import BaselineStats, baseline_stats
from liqcore.alerts.records import LiquidityAlert
from liqcore.alerts.rules import SUGGESTED_ACTIONS
from liqcore.errors import AlertInputError
from liqcore.risk.checks import number

__all__ = ["LiquidityTracker", "DEFAULT_METRICS"]

log = logging.getLogger("liqcore.alerts.tracker")

_NS_PER_HOUR = 3_600 * 1_000_000_000
#: the report fields :meth:`LiquidityTracker.get_baseline_metrics` summarises by default
DEFAULT_METRICS = ("mid", "spread_bps", "bid_liquidity_1pct", "ask_liquidity_1pct", "liquidity_1pct",
                   "weighted_imbalance", "slippage_bps", "score")
#: what detect_anomalies reads of each report
_ANOMALY_COLUMNS = ["ts", "mid", "spread_bps", "bid_liquidity_1pct", "ask_liquidity_1pct", "weighted_imbalance"]


class LiquidityTracker:
    """Capture liquidity history from live books into a store (module docstring).

    ``store``: a :mod:`liqcore.store` store (``write``/``read``/``series``); ``feed``: a
    :class:`liqcore.feed.LiveFeed`, or ``books``: ``{(exchange, symbol): OrderBook}`` to capture
    from books you keep yourself (or a function returning it, asked at every capture, for a set of
    books that changes); ``interval_s`` (> 0): seconds between reports;
    ``snapshot_interval_s`` (>= interval, or None: no snapshots) and ``snapshot_levels`` (>= 1):
    the top-N snapshots; ``report_options``: keyword arguments of ``liquidity_report``;
    ``clock``: ns since the epoch.
    """

    def __init__(self, store: Any, feed: Any | None = None, *,
                 books: Mapping[tuple[str, str], Any] | Callable[[], Mapping[tuple[str, str], Any]] | None = None,
                 interval_s: float = 1.0, snapshot_interval_s: float | None = 60.0, snapshot_levels: int = 20,
                 report_options: Mapping[str, Any] | None = None, clock: Callable[[], int] = time.time_ns) -> None:
        for method in ("write", "read", "series"):
            if not callable(getattr(store, method, None)):
                raise AlertInputError(f"store: expected a liqcore.store store (no {method}())")
        if feed is not None and books is not None:
            raise AlertInputError("feed/books: capture from a feed or from books, not both")
        self.store = store
        self.feed = feed
        # a callable is asked at every capture (the books a service holds change over time)
        self._books = books if books is None or callable(books) else dict(books)
        self.interval = number("interval_s", interval_s, low=0.0, error=AlertInputError)
        self.snapshot_interval = (None if snapshot_interval_s is None else
                                  number("snapshot_interval_s", snapshot_interval_s, low=self.interval,
                                         low_open=False, error=AlertInputError))
        if isinstance(snapshot_levels, bool) or not isinstance(snapshot_levels, int) or snapshot_levels < 1:
            raise AlertInputError(f"snapshot_levels must be an int >= 1, got {snapshot_levels!r}")
        self.snapshot_levels = snapshot_levels
        self._report_options = dict(report_options or {})
        self._clock = clock
        self._last_snapshot: dict[tuple[str, str], int] = {}
        self._task: asyncio.Task[None] | None = None
        self._stats = {"captures": 0, "reports": 0, "snapshots": 0, "not_live": 0, "dropped": 0}

    # ------------------------------------------------------------------ capture
    def markets(self) -> list[tuple[str, str]]:
        """The (exchange, symbol) pairs captured."""
        if self._books is not None:
            return list(self._book_map())
        return [] if self.feed is None else list(self.feed.books)

    def _book_map(self) -> Mapping[tuple[str, str], Any]:
        """The books given, asked again when given as a function."""
        assert self._books is not None
        return self._books() if callable(self._books) else self._books

    def _live_books(self) -> Iterable[tuple[str, str, Any]]:
        if self._books is not None:
            for (ex, sym), book in self._book_map().items():
                yield ex, sym, book
        elif self.feed is not None:
            for (ex, sym), live in self.feed.books.items():
                if live.is_live:
                    yield ex, sym, live.book
                else:
                    self._stats["not_live"] += 1

    def capture_snapshot(self, exchange: str | None = None, symbol: str | None = None, *, ts: int | None = None,
                         levels: bool | None = None) -> list[Any]:
        """Capture the books now (those matching ``exchange``/``symbol``; all by default): a
        liquidity report each, and the top levels when ``levels`` (default: when the snapshot
        interval has passed for that book). Returns the reports. O(books x levels)."""
        now = self._clock() if ts is None else int(ts)
        out = []
        self._stats["captures"] += 1
        for ex, sym, book in self._live_books():
            if (exchange is not None and ex != exchange) or (symbol is not None and sym != symbol):
                continue
            report = book.liquidity_report(**self._report_options)
            self._write("liquidity_reports", report, now, ex, sym)
            self._stats["reports"] += 1
            out.append(report)
            due = levels
            if due is None:
                last = self._last_snapshot.get((ex, sym))
                due = self.snapshot_interval is not None and (
                    last is None or now - last >= self.snapshot_interval * 1e9)
            if due:
                self._last_snapshot[(ex, sym)] = now
                row = {"bids": book.bids(self.snapshot_levels), "asks": book.asks(self.snapshot_levels),
                       "update_id": -1 if book.last_update_id is None else book.last_update_id}
                self._write("book_snapshots", row, now, ex, sym)
                self._stats["snapshots"] += 1
        return out

    def _write(self, table: str, rows: Any, ts: int, exchange: str, symbol: str) -> None:
        if not self.store.write(table, rows, ts=ts, exchange=exchange, symbol=symbol):
            self._stats["dropped"] += 1          # the store counted it too; say it here as well

    async def start_continuous_tracking(self, interval: float | None = None) -> None:
        """Capture every ``interval`` seconds (default ``interval_s``) in a task until
        :meth:`close`. Starts the feed if it is not started. Idempotent."""
        if interval is not None:
            self.interval = number("interval", interval, low=0.0, error=AlertInputError)
        if self._task is not None:
            return
        if self.feed is not None:
            await self.feed.start()
        self._task = asyncio.create_task(self._run(), name="liqcore-liquidity-tracker")

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                self.capture_snapshot()
            except Exception:                      # a capture failing must not end the tracking
                log.exception("liquidity capture failed")
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    async def close(self) -> None:
        """Stop the tracking task (the store and the feed stay open)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def __aenter__(self) -> LiquidityTracker:
        await self.start_continuous_tracking()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def stats(self) -> dict[str, int]:
        """Captures run, reports and snapshots written, books skipped because not live, rows the
        store's buffer refused."""
        return dict(self._stats)

    # ------------------------------------------------------------------ reads
    def _window(self, hours: float, now: int | None) -> tuple[int, int]:
        h = number("hours", hours, low=0.0, error=AlertInputError)
        end = (self._clock() if now is None else int(now)) + 1
        return end - 1 - int(h * _NS_PER_HOUR), end

    def get_snapshots(self, exchange: str, symbol: str, hours: float = 24.0, *, table: str = "liquidity_reports",
                      columns: list[str] | None = None, frame: bool = False, now: int | None = None) -> Any:
        """The last ``hours`` of ``table`` for one market (the store's ``read``: a numpy
        structured array in time order, a DataFrame with ``frame``)."""
        start, end = self._window(hours, now)
        return self.store.read(table, exchange, symbol, start, end, columns=columns, frame=frame)

    def get_baseline_metrics(self, exchange: str, symbol: str, hours: float = 24.0, *,
                             metrics: Iterable[str] = DEFAULT_METRICS,
                             now: int | None = None) -> dict[str, BaselineStats]:
        """Mean/std and median/MAD of each metric (a liquidity-report field) over the last
        ``hours``; metrics with no finite value in the window are left out. O(rows)."""
        names = list(metrics)
        rows = self.get_snapshots(exchange, symbol, hours, columns=["ts", *names], now=now)
        out = {}
        for name in names:
            values = np.asarray(rows[name], dtype=np.float64)
            values = values[np.isfinite(values)]
            if len(values):
                out[name] = baseline_stats(values)
        return out

    def detect_anomalies(self, threshold_pct: float = 30.0, lookback_hours: float = 24.0, *,
                         now: int | None = None, record: bool = True) -> list[LiquidityAlert]:
        """Each market's latest report against the median of its lookback (module docstring).
        Markets are those of the store's ``liquidity_reports`` (every series, not only the
        captured books). O(rows in the lookback)."""
        t = number("threshold_pct", threshold_pct, low=0.0, error=AlertInputError)
        start, end = self._window(lookback_hours, now)
        alerts = []
        for ex, sym, *_ in self.store.series("liquidity_reports"):
            rows = self.store.read("liquidity_reports", ex, sym, start, end, columns=_ANOMALY_COLUMNS)
            if len(rows) < 2:
                continue
            alerts += _anomalies(ex, sym, rows, t, lookback_hours)
        if record:
            for a in alerts:
                self.store.write("alerts", [a])
        return alerts


def _median(col: npt.NDArray[Any]) -> float:
    v = col[np.isfinite(col)]
    return float(np.median(v)) if len(v) else math.nan


def _anomalies(ex: str, sym: str, rows: npt.NDArray[Any], t: float, hours: float) -> list[LiquidityAlert]:
    cur, past = rows[-1], rows[:-1]
    ts_ms = int(cur["ts"]) // 1_000_000
    # (type, metric, current, baseline, deviation %, deviation over its threshold, extra baseline values)
    found: list[tuple[str, str, float, float, float, float, dict[str, Any]]] = []
    spread, med = float(cur["spread_bps"]), _median(past["spread_bps"])
    if med > 0 and spread / med - 1.0 >= t / 100.0:
        dev = 100.0 * (spread / med - 1.0)
        found.append(("SPREAD_WIDENING", "spread_bps", spread, med, dev, dev / t, {}))
    drops = []
    for side in ("bid", "ask"):
        name = f"{side}_liquidity_1pct"
        value, base = float(cur[name]), _median(past[name])
        if base > 0 and math.isfinite(value):           # NaN: not measurable (no mid), not a drop
            drops.append((100.0 * (1.0 - value / base), side, value, base))
    if drops:
        drop, side, value, base = max(drops)
        if drop >= t:
            found.append(("DEPTH_DROP", "depth_1pct", value, base, -drop, drop / t, {"side": side}))
    imb, med_i = float(cur["weighted_imbalance"]), _median(past["weighted_imbalance"])
    if math.isfinite(imb) and math.isfinite(med_i) and 100.0 * abs(imb - med_i) >= t:
        points = 100.0 * abs(imb - med_i)
        found.append(("IMBALANCE", "imbalance", imb, med_i, 100.0 * (imb - med_i), points / t, {"scale": "points"}))
    mid, med_m = float(cur["mid"]), _median(past["mid"])
    if med_m > 0 and math.isfinite(mid) and 100.0 * abs(mid / med_m - 1.0) >= t / 10.0:
        dev = 100.0 * (mid / med_m - 1.0)
        found.append(("PRICE_ANOMALY", "mid", mid, med_m, dev, abs(dev) / (t / 10.0), {}))
    out = []
    for kind, metric, current, baseline, dev, ratio, extra in found:
        severity = "HIGH" if ratio >= 3.0 else "MEDIUM" if ratio >= 2.0 else "LOW"
        out.append(LiquidityAlert(
            id=f"{ex}:{sym}:{kind}:{ts_ms}", ts_ms=ts_ms, exchange=ex, symbol=sym, type=kind, severity=severity,
            metric=metric, current=current, baseline=baseline, deviation_pct=dev, z=None,
            message=f"{kind.replace('_', ' ').lower()} on {ex} {sym}: {metric} {current:.6g} vs a "
                    f"{hours:g} h median of {baseline:.6g} ({dev:+.1f}%)",
            suggested_action=SUGGESTED_ACTIONS[kind], requires_action=severity == "HIGH",
            baseline_values={"median": baseline, "count": len(past), "lookback_hours": hours,
                             "threshold_pct": t, **extra}))
    return out
