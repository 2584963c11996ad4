"""LiquidityTracker: capture reports and top-N snapshots into a real SQLite store, read them back,
baselines over a lookback, and detect_anomalies against them (known answers); alerts round trip
through the store's alerts table."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from liqcore import OrderBook
from liqcore.alerts import LiquidityTracker, alerts_from_rows, baseline_stats
from liqcore.errors import AlertInputError
from liqcore.store import open_store

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
EX, SYM = "binance", "BTC/USDT"


def book(spread_ticks: int = 1, bid_size: str = "2", ask_size: str = "2") -> OrderBook:
    b = OrderBook(tick_size="0.5", lot_size="0.001", exchange=EX, symbol=SYM)
    b.apply_snapshot([["60000", bid_size], ["59999.5", "1"]],
                     [[f"{60000 + 0.5 * spread_ticks}", ask_size], [f"{60000.5 + 0.5 * spread_ticks}", "1"]])
    return b


@pytest.fixture()
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/history.db") as s:
        yield s


def test_capture_reports_and_snapshots_at_their_intervals(store) -> None:
    b = book()
    tracker = LiquidityTracker(store, books={(EX, SYM): b}, interval_s=1, snapshot_interval_s=10, snapshot_levels=1)
    for i in range(60):
        assert len(tracker.capture_snapshot(ts=T0 + i * NS)) == 1
    store.flush()
    reports = tracker.get_snapshots(EX, SYM, hours=1, now=T0 + 59 * NS)
    assert len(reports) == 60 and (np.diff(reports["ts"]) == NS).all()
    assert reports["spread_bps"][0] == b.liquidity_report().spread_bps
    snaps = tracker.get_snapshots(EX, SYM, hours=1, table="book_snapshots", now=T0 + 59 * NS)
    assert snaps["ts"].tolist() == [T0 + i * NS for i in range(0, 60, 10)]
    assert snaps["n_bids"].tolist() == [1] * 6 and snaps["bids"][0][0].tolist() == [60000.0, 2.0]
    assert tracker.stats() | {} == {"captures": 60, "reports": 60, "snapshots": 6, "not_live": 0, "dropped": 0}
    # the lookback is a window ending now
    assert len(tracker.get_snapshots(EX, SYM, hours=10 / 3600, now=T0 + 59 * NS)) == 11


def test_books_given_as_a_function_are_asked_at_every_capture(store) -> None:
    """A service's books come and go: books=callable is read at each capture."""
    held: dict = {}
    tracker = LiquidityTracker(store, books=lambda: held, interval_s=1, snapshot_interval_s=None)
    assert tracker.capture_snapshot(ts=T0) == [] and tracker.markets() == []
    held[(EX, SYM)] = book()
    assert len(tracker.capture_snapshot(ts=T0 + NS)) == 1 and tracker.markets() == [(EX, SYM)]
    other = OrderBook(tick_size="0.5", lot_size="0.001", exchange="okx", symbol=SYM)
    other.apply_snapshot([["60000", "1"]], [["60001", "1"]])
    held[("okx", SYM)] = other
    assert len(tracker.capture_snapshot(ts=T0 + 2 * NS)) == 2
    store.flush()
    assert len(tracker.get_snapshots(EX, SYM, hours=1, now=T0 + 2 * NS)) == 2
    assert len(tracker.get_snapshots("okx", SYM, hours=1, now=T0 + 2 * NS)) == 1


def test_baseline_metrics_are_the_stats_of_the_window(store) -> None:
    tracker = LiquidityTracker(store, books={(EX, SYM): book()})
    spreads = []
    for i in range(30):
        b = book(spread_ticks=1 + i % 4)
        spreads.append(b.spread_bps)
        store.write("liquidity_reports", b.liquidity_report(), ts=T0 + i * NS)
    store.flush()
    base = tracker.get_baseline_metrics(EX, SYM, hours=1, now=T0 + 29 * NS)
    assert base["spread_bps"] == baseline_stats(spreads) and base["spread_bps"].count == 30
    assert set(base) >= {"mid", "spread_bps", "liquidity_1pct", "weighted_imbalance"}


def history(store, n: int = 100) -> None:
    for i in range(n):
        store.write("liquidity_reports", book(bid_size="2" if i % 2 else "2.2").liquidity_report(), ts=T0 + i * NS)


def levels(bids, asks) -> OrderBook:
    b = OrderBook(tick_size="0.5", lot_size="0.001", exchange=EX, symbol=SYM)
    b.apply_snapshot(bids, asks)
    return b


# The history alternates bids of 2 and 2.2 at 60,000 (+1 at 59,999.5) against asks of 2 at 60,000.5 (+1
# at 60,001): medians bid 1% liquidity 185,999.5, ask 180,002, spread 0.0833 bps, linear imbalance
# (weights 1, 0.9) 0.0167. Deviations over the threshold (30): MEDIUM from 2x, HIGH from 3x.
@pytest.mark.parametrize("last, want", [
    # the spread triples: +200% -> 6.7x: HIGH
    (book(spread_ticks=3), {("SPREAD_WIDENING", "HIGH", "spread_bps")}),
    # ask 2 -> 0.6: ask liquidity 96,001.3 (-46.7%: 1.56x, LOW); imbalance (2.9 - 1.5)/4.4 = 0.318, +30.2 points: LOW
    (book(ask_size="0.6"), {("DEPTH_DROP", "LOW", "depth_1pct"), ("IMBALANCE", "LOW", "imbalance")}),
    # both asks to 0.05: 6,000.1 (-96.7%: 3.2x, HIGH); imbalance (2.9 - 0.095)/2.995 = 0.937: +92 points, HIGH
    (levels([["60000", "2"], ["59999.5", "1"]], [["60000.5", "0.05"], ["60001", "0.05"]]),
     {("DEPTH_DROP", "HIGH", "depth_1pct"), ("IMBALANCE", "HIGH", "imbalance")}),
    # bids of 40: (40.9 - 2.9)/43.8 = 0.868, +85 points: 2.8x, MEDIUM (no drop: the bids grew)
    (book(bid_size="40"), {("IMBALANCE", "MEDIUM", "imbalance")}),
])
def test_detect_anomalies_flags_the_latest_report_against_its_lookback(store, last, want) -> None:
    history(store)
    store.write("liquidity_reports", last.liquidity_report(), ts=T0 + 100 * NS)
    store.flush()
    tracker = LiquidityTracker(store, books={(EX, SYM): last})
    alerts = tracker.detect_anomalies(threshold_pct=30, lookback_hours=1, now=T0 + 100 * NS)
    assert {(a.type, a.severity, a.metric) for a in alerts} == want and len(alerts) == len(want)
    for a in alerts:
        assert a.ts == T0 + 100 * NS and a.baseline_values["count"] == 100
        assert a.requires_action == (a.severity == "HIGH")
    depth = [a for a in alerts if a.type == "DEPTH_DROP"]
    if depth:
        assert depth[0].baseline == 180_002.0 and depth[0].baseline_values["side"] == "ask"
    # recorded in the store, and read back as the same records
    store.flush()
    assert sorted(alerts_from_rows(store.read("alerts", EX, SYM)), key=lambda a: a.id) == sorted(alerts, key=lambda a: a.id)


def test_a_calm_history_has_no_anomaly_and_a_price_move_is_one(store) -> None:
    history(store)
    store.flush()
    tracker = LiquidityTracker(store)
    assert tracker.detect_anomalies(30, 1, now=T0 + 99 * NS) == []
    moved = OrderBook(tick_size="0.5", lot_size="0.001", exchange=EX, symbol=SYM)
    moved.apply_snapshot([["64200", "2"], ["64199.5", "1"]], [["64200.5", "2"], ["64201", "1"]])   # +7%
    store.write("liquidity_reports", moved.liquidity_report(), ts=T0 + 100 * NS)
    store.flush()
    (a,) = tracker.detect_anomalies(30, 1, now=T0 + 100 * NS, record=False)
    # +7% against a threshold of 30 / 10 = 3%: 2.3x, MEDIUM
    assert (a.type, a.severity) == ("PRICE_ANOMALY", "MEDIUM") and a.deviation_pct == pytest.approx(7.0, abs=0.01)
    assert len(store.read("alerts", EX, SYM)) == 0


def test_continuous_tracking_in_a_task(store) -> None:
    tracker = LiquidityTracker(store, books={(EX, SYM): book()}, interval_s=0.02, snapshot_interval_s=None)

    async def main() -> None:
        await tracker.start_continuous_tracking()
        await tracker.start_continuous_tracking()          # idempotent
        await asyncio.sleep(0.3)
        await tracker.close()
    asyncio.run(main())
    n = tracker.stats()["reports"]
    store.flush()
    assert 5 <= n <= 16 and len(store.read("liquidity_reports", EX, SYM)) == n and tracker.stats()["snapshots"] == 0


def test_alert_rows_keep_the_baseline_as_json(store) -> None:
    history(store)
    store.write("liquidity_reports", book(spread_ticks=4).liquidity_report(), ts=T0 + 100 * NS)
    store.flush()
    (a,) = LiquidityTracker(store).detect_anomalies(30, 1, now=T0 + 100 * NS)
    store.flush()
    row = store.read("alerts", EX, SYM)
    assert json.loads(row["baseline_values"][0]) == a.baseline_values and row["metric"][0] == "spread_bps"


@pytest.mark.parametrize("kw, match", [
    (dict(store=object()), "store"), (dict(interval_s=0), "interval_s"),
    (dict(interval_s=5, snapshot_interval_s=1), "snapshot_interval_s"), (dict(snapshot_levels=0), "snapshot_levels"),
    (dict(feed=object(), books={}), "feed/books"),
])
def test_bad_settings_are_refused(store, kw, match) -> None:
    args = {"store": store, **kw}
    with pytest.raises(AlertInputError, match=match):
        LiquidityTracker(args.pop("store"), **args)


def test_bad_reads_are_refused(store) -> None:
    tracker = LiquidityTracker(store)
    with pytest.raises(AlertInputError, match="hours"):
        tracker.get_snapshots(EX, SYM, hours=-1)
    with pytest.raises(AlertInputError, match="threshold_pct"):
        tracker.detect_anomalies(threshold_pct=0)
