"""Book shape from Python: walls, clusters, depth profile and pressure, the liquidity score,
the liquidity report, and walls tracked over time (src/liquidity.c, liqcore/liquidity.py).

Worked examples: shared/research/analytics.md §5 (12 bids from 100.0 down in 0.5 steps,
sizes [1.2, 0.8, 1.0, 9.5, 1.1, 0.9, 1.3, 7.8, 8.4, 1.0, 0.7, 1.2]: median 1.15, MAD 0.20;
walls 98.5 / 96.5 / 96.0 with ratios 8.26 / 6.78 / 7.30 and robust z 28.16 / 22.43 /
24.45; clusters {98.5} and {96.5, 96.0} of size 16.2 at 96.2407) and §4.5 (score 0.64088).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore import Cluster, LiquidityReport, OrderBook, Wall, liquidity_score
from liqcore.errors import LiqError
from liqcore.liquidity import WallTracker

SIZES = [1.2, 0.8, 1.0, 9.5, 1.1, 0.9, 1.3, 7.8, 8.4, 1.0, 0.7, 1.2]


@pytest.fixture
def example():
    b = OrderBook("0.5", "0.1", symbol="X/Y")
    b.apply_snapshot([[f"{100.0 - 0.5 * i:.1f}", f"{s}"] for i, s in enumerate(SIZES)], [["100.5", "1.0"]])
    return b


def test_walls_worked_example(example):
    walls = example.walls(600)
    assert [w.price for w in walls] == [98.5, 96.5, 96.0]
    assert all(isinstance(w, Wall) and w.side == "bid" for w in walls)
    assert [round(w.strength, 2) for w in walls] == [8.26, 6.78, 7.30]
    assert [round(w.z, 2) for w in walls] == [28.16, 22.43, 24.45]
    assert [w.rank for w in walls] == [3, 7, 8]
    assert walls[0].distance_bps == pytest.approx((100.25 - 98.5) / 100.25 * 1e4)
    assert walls[0].confidence == pytest.approx(1 - math.exp(-walls[0].z / 3.5))
    med, mad, n, band = example.wall_baseline(600)["bid"]
    assert (med, mad, n) == (pytest.approx(1.15), pytest.approx(0.20), 12) and band == pytest.approx(34.9)
    # the mean/SD rule misses all three (classic z 1.4-1.9): the regression the robust baseline fixes
    z = (np.array(SIZES) - np.mean(SIZES)) / np.std(SIZES, ddof=1)
    assert z.max() < 3
    assert [w.price for w in example.walls(600, ratio=8, z=0)] == [98.5]
    assert [w.price for w in example.walls(600, side="bid", ratio=0, z=25)] == [98.5]
    assert example.walls(100) == []                                   # 1% of the mid sees 100.0 and 99.5 only
    assert len(example.walls(600, limit=2)) == 2
    with pytest.raises(LiqError):
        example.walls(600, ratio=0, z=0)
    with pytest.raises(ValueError):
        example.walls(-1)


def test_clusters_worked_example(example):
    c = example.clusters(600)
    assert [(x.price_best, x.price_worst, x.levels) for x in c] == [(98.5, 98.5, 1), (96.5, 96.0, 2)]
    assert all(isinstance(x, Cluster) for x in c)
    assert c[1].size == pytest.approx(16.2) and c[1].vwap == pytest.approx(96.2407407)
    assert c[1].share == pytest.approx(16.2 / 34.9) and c[1].span_bps == pytest.approx(0.5 / 100.25 * 1e4)
    joined = example.clusters(600, gap_ticks=4)
    assert len(joined) == 1 and joined[0].size == pytest.approx(25.7)
    # by bps of the mid (100.25): 2.0 apart (98.5 -> 96.5) is 199.5 bps
    assert len(example.clusters(600, gap_bps=199.6)) == 1 and len(example.clusters(600, gap_bps=199.4)) == 2
    with pytest.raises(ValueError):
        example.clusters(600, gap_bps=-1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 400), st.integers(1, 50)), min_size=1, max_size=60, unique_by=lambda t: t[0]),
       st.lists(st.floats(0, 500, allow_nan=False), min_size=1, max_size=6))
def test_profile_equals_depth_band_by_band(levels, bands):
    b = OrderBook("1", "1")
    bids = [[1000 - off, q] for off, q in levels]
    asks = [[1001 + off, q] for off, q in levels]
    b.apply_snapshot(bids, asks)
    bands = sorted(bands)
    for ref in ("mid", "touch"):
        prof = b.depth_profile(bands, reference=ref)
        for k, x in enumerate(bands):
            d = b.depth(x, reference=ref)
            for key in ("bid_base", "bid_quote", "ask_base", "ask_quote"):
                assert prof[key][k] == d[key]
    pr = b.pressure(bands)
    tot = pr["bid_quote"] + pr["ask_quote"]
    ok = tot > 0
    assert np.allclose(pr["pressure"][ok], (pr["bid_quote"][ok] - pr["ask_quote"][ok]) / tot[ok])
    assert np.all(np.isnan(pr["pressure"][~ok]))
    assert np.all((pr["pressure"][ok] >= -1) & (pr["pressure"][ok] <= 1))


def test_profile_rejects_unsorted_bands(example):
    with pytest.raises(ValueError):
        example.depth_profile([100, 50])


def test_score_worked_example_and_monotone():
    assert liquidity_score(3, 750_000, 12, 15) == pytest.approx(0.64088, abs=5e-6)
    assert math.isnan(liquidity_score(-1, 1, 1))
    base = (5.0, 1e6, 10.0, 20.0)
    s0 = liquidity_score(*base)
    assert liquidity_score(6.0, 1e6, 10.0, 20.0) < s0       # wider spread
    assert liquidity_score(5.0, 2e6, 10.0, 20.0) > s0       # deeper
    assert liquidity_score(5.0, 1e6, 20.0, 20.0) < s0       # more slippage
    assert liquidity_score(5.0, 1e6, 10.0, 40.0) < s0       # slower recovery
    assert 0 <= liquidity_score(5.0, 1e6, 10.0) <= 1        # resilience unknown: renormalised


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 200), st.floats(0, 1e8), st.floats(0, 500), st.floats(0, 600), st.floats(0.01, 50))
def test_score_is_monotone_in_each_input(spread, depth, slip, hl, step):
    s = liquidity_score(spread, depth, slip, hl)
    assert 0 <= s <= 1
    assert liquidity_score(spread + step, depth, slip, hl) <= s
    assert liquidity_score(spread, depth + step * 1e4, slip, hl) >= s
    assert liquidity_score(spread, depth, slip + step, hl) <= s
    assert liquidity_score(spread, depth, slip, hl + step) <= s


def test_report(example):
    r = example.liquidity_report(levels=5, notional=500, band_bps=600)
    assert isinstance(r, LiquidityReport) and r.symbol == "X/Y"
    assert (r.best_bid, r.best_bid_size, r.best_ask, r.best_ask_size) == (100.0, 1.2, 100.5, 1.0)
    assert r.mid == 100.25 and r.spread == 0.5 and r.spread_bps == pytest.approx(0.5 / 100.25 * 1e4)
    assert r.spread_pct == pytest.approx(r.spread_bps / 100)
    assert r.bid_volume == pytest.approx(sum(SIZES[:5])) and r.ask_volume == 1.0
    assert r.total_volume == pytest.approx(r.bid_volume + 1.0) and r.imbalance_ratio == pytest.approx(r.bid_volume)
    d1, d2 = example.depth(100), example.depth(200)
    assert r.liquidity_1pct == pytest.approx(d1["bid_quote"] + d1["ask_quote"])
    assert r.bid_liquidity_2pct == d2["bid_quote"] and r.ask_liquidity_2pct == d2["ask_quote"]
    assert r.imbalance == pytest.approx(example.imbalance(5)) and r.weighted_imbalance == pytest.approx(
        example.imbalance(5, weighting="linear"))
    buy, sell = example.walk("buy", notional=500), example.walk("sell", notional=500)
    assert r.slippage_bps == pytest.approx((buy.slippage_mid_bps + sell.slippage_mid_bps) / 2)
    assert [w.price for w in r.walls] == [98.5, 96.5, 96.0] and len(r.clusters) == 2
    assert r.score == pytest.approx(liquidity_score(r.spread_bps, r.liquidity_1pct, r.slippage_bps))
    d = r.to_dict()
    assert json.loads(json.dumps(d))["walls"][0]["price"] == 98.5
    row = r.to_numpy()
    assert row.dtype == LiquidityReport.DTYPE and row["walls"] == 3 and row["mid"] == 100.25
    with pytest.raises(TypeError):
        LiquidityReport()


def test_walls_and_clusters_arrays_hold_the_records_fields(example):
    """walls_array()/clusters_array(): the same numbers as the Wall/Cluster records, side as
    +1/-1, one row each, in the same order; empty arrays of the dtype when there are none."""
    r = example.liquidity_report(levels=5, notional=500, band_bps=600)
    for arr, recs, dtype in ((r.walls_array(), r.walls, LiquidityReport.WALL_DTYPE),
                             (r.clusters_array(), r.clusters, LiquidityReport.CLUSTER_DTYPE)):
        assert arr.dtype == dtype and arr.shape == (len(recs),) and len(recs) > 0
        for row, rec in zip(arr, recs):
            want = rec._asdict()
            want["side"] = 1.0 if want["side"] == "bid" else -1.0
            assert {n: row[n] for n in dtype.names} == pytest.approx(want, rel=0, abs=0)
    both = OrderBook("1", "1")
    both.update("bid", "1", "5")
    sides = both.liquidity_report(band_bps=1e4).walls_array()["side"].tolist()
    assert sides == [1.0] * len(sides)
    empty = OrderBook("1", "1").liquidity_report()
    assert empty.walls_array().shape == (0,) and empty.clusters_array().dtype == LiquidityReport.CLUSTER_DTYPE


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from([20.0, 200.0, 600.0]), st.booleans())
def test_report_is_its_parts_on_busy_books(seed, band, wire_decimals):
    """liq_book_report in one C call equals the methods it replaces, on books with holes, a
    sparse tail and more walls and clusters than a report keeps: the 1%/2% liquidity to the
    bit (the walls' pass sums the dense region without products), the first 16 walls and
    clusters, the volumes, imbalances and slippage. ``wire_decimals``: the book is kept at 8
    decimals with a tick of 1e-8 (as a Binance book at its wire precision), so its dense region
    steps by a learned stride of 0.1, not by the tick."""
    rng = np.random.default_rng(seed)
    b = OrderBook(price_decimals=8, size_decimals=8) if wire_decimals else OrderBook("0.1", "0.001")
    n = int(rng.integers(0, 600))
    offs = np.unique(np.concatenate([np.arange(1, n + 1), rng.integers(1, 3000, n // 5)]))
    sizes = lambda: np.round(np.where(rng.random(len(offs)) < 0.15, rng.random(len(offs)) * 30, rng.random(len(offs))), 3) + 0.001
    b.apply_snapshot(np.column_stack([6000.0 - offs * 0.1, sizes()]), np.column_stack([6000.1 + offs * 0.1, sizes()]))
    for off in rng.integers(1, 400, 100):             # holes near the touch
        b.update(int(off % 2), float(6000.0 - off * 0.1) if off % 2 == 0 else float(6000.1 + off * 0.1), 0.0)
    r = b.liquidity_report(levels=7, notional=50_000.0, band_bps=band)
    d1, d2 = b.depth(100), b.depth(200)
    assert (r.bid_liquidity_1pct, r.ask_liquidity_1pct) == (d1["bid_quote"], d1["ask_quote"])
    assert (r.bid_liquidity_2pct, r.ask_liquidity_2pct) == (d2["bid_quote"], d2["ask_quote"])
    assert [w._asdict() for w in r.walls] == [w._asdict() for w in b.walls(band, limit=16)]
    assert [c._asdict() for c in r.clusters] == [c._asdict() for c in b.clusters(band, limit=16)]
    assert r.bid_volume == pytest.approx(b.bids(7)[:, 1].sum()) and r.ask_volume == pytest.approx(b.asks(7)[:, 1].sum())
    if b.bid_count and b.ask_count:
        assert r.imbalance == b.imbalance(7) and r.weighted_imbalance == b.imbalance(7, weighting="linear")
        buy, sell = b.walk("buy", notional=50_000.0), b.walk("sell", notional=50_000.0)
        assert r.slippage_bps == (buy.slippage_mid_bps + sell.slippage_mid_bps) / 2
        assert (r.mid, r.spread, r.spread_bps) == (b.mid, b.spread, b.spread_bps)


def test_report_on_an_empty_side():
    b = OrderBook("1", "1")
    b.apply_snapshot([["100", "2"]], [])
    r = b.liquidity_report()
    assert math.isnan(r.best_ask) and math.isnan(r.spread) and math.isnan(r.score) and r.walls == ()


def test_wall_tracker_persistence_and_flash(example):
    t = WallTracker(min_updates=3, min_seconds=10, flash_seconds=5)
    walls = example.walls(600)
    t.update(walls, now=0.0)
    assert [e for e, _ in t.drain_events()] == ["appeared"] * 3
    t.update(walls, now=6.0)
    cur = t.update(walls, now=12.0)
    assert all(w.persistent for w in cur) and cur[0].confidence > walls[0].confidence
    # 96.5 is pulled: removed after 12 s (persistent); a new wall flashes for 2 s
    example.update("bid", "96.5", "1.0")
    example.update("bid", "99.0", "30")
    t.update(example.walls(600), now=13.0)
    example.update("bid", "99.0", "0.9")
    t.update(example.walls(600), now=15.0)
    ev = [(e, w.price) for e, w in t.drain_events()]
    assert ("removed", 96.5) in ev and ("appeared", 99.0) in ev and ("flash", 99.0) in ev
