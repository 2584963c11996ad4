"""liqcore.flowstats.toxicity: the VPIN worked example of shared/research/analytics.md §3
(re-derived below with the standard library's NormalDist, not with our kernel), the tick-rule
example, properties, bad input, and that numba stays out of ``import liqcore``.

VPIN example [CALC]: twelve 1-min bars, ΔP = [0.5, -0.2, 0.1, 0.8, -1.0, 0.3, -0.4, 0.6, -0.1, 0.2,
0.9, -0.7], V = [40, 60, 30, 70, 90, 20, 50, 40, 60, 30, 80, 30]; σ (ddof 1) = 0.5890413, bar 1 buy
fraction Φ(0.5/σ) = 0.802014; VBS 100 -> 6 buckets, OI = [8.2135, 61.8348, 78.0442, 6.4137, 8.6200,
38.1831]; VPIN (n = 3) = 0.493642, 0.487642, 0.310259, 0.177389.
"""

from __future__ import annotations

import os
import subprocess
import sys
from statistics import NormalDist, stdev

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.errors import InvalidSeriesError
from liqcore.flowstats import tick_rule, time_bars, vpin

DP = [0.5, -0.2, 0.1, 0.8, -1.0, 0.3, -0.4, 0.6, -0.1, 0.2, 0.9, -0.7]
VOL = [40, 60, 30, 70, 90, 20, 50, 40, 60, 30, 80, 30]


def _reference_buckets(vol, frac, vbs):
    """Plain-Python bucket filling (split bars keep their buy fraction)."""
    buckets, b, s, fill = [], 0.0, 0.0, 0.0
    for v, f in zip(vol, frac):
        while v > 0:
            take = min(v, vbs - fill)
            b, s, fill, v = b + take * f, s + take * (1 - f), fill + take, v - take
            if fill >= vbs:
                buckets.append((b, s))
                b, s, fill = 0.0, 0.0, 0.0
    return buckets


def test_vpin_worked_example():
    sigma = stdev(DP)
    assert sigma == pytest.approx(0.5890413, abs=5e-8)
    frac = [NormalDist().cdf(x / sigma) for x in DP]
    assert frac[0] == pytest.approx(0.802014, abs=5e-7)
    ref = _reference_buckets(VOL, frac, 100)
    ref_oi = [abs(b - s) for b, s in ref]

    r = vpin(np.arange(1, 13) * 60, VOL, 100, 3, price_change=DP)
    assert r.sigma == pytest.approx(sigma, rel=1e-14)
    assert r.buy_volume == pytest.approx([54.1068, 80.9174, 10.9779, 53.2068, 54.3100, 69.0916], abs=5e-5)
    assert r.sell_volume == pytest.approx([45.8932, 19.0826, 89.0221, 46.7932, 45.6900, 30.9084], abs=5e-5)
    assert r.order_imbalance == pytest.approx([8.2135, 61.8348, 78.0442, 6.4137, 8.6200, 38.1831], abs=5e-5)
    assert r.order_imbalance == pytest.approx(ref_oi, rel=1e-12)
    assert np.isnan(r.vpin[:2]).all()
    assert r.vpin[2:] == pytest.approx([0.493642, 0.487642, 0.310259, 0.177389], abs=5e-7)
    assert r.vpin[2:] == pytest.approx([sum(ref_oi[j - 2:j + 1]) / 300 for j in range(2, 6)], rel=1e-12)
    # bucket 1 is completed by bar 2, bucket 2 by bar 4 (30 + 70 after 0 left), ... bucket 6 by bar 12
    assert r.bucket_end_t.tolist() == [120, 240, 360, 480, 660, 720]
    assert r.pending_volume == 0.0


def test_vpin_exact_sides_and_partial_bucket():
    # VBS 50: buy 30 + sell 20 | sell 30 + buy 20 (of 100) | buy 50 | buy 30 + sell 20 (of 25) -> 5 pending
    r = vpin([1, 2, 3, 4], [30, 50, 100, 25], 50, 2, side=[1, -1, 1, -1])
    assert r.buy_volume.tolist() == [30, 20, 50, 30]
    assert r.sell_volume.tolist() == [20, 30, 0, 20]
    assert r.order_imbalance.tolist() == [10, 10, 50, 10]
    assert r.bucket_end_t.tolist() == [2, 3, 3, 4]
    assert r.vpin[1:].tolist() == [0.2, 0.6, 0.6]
    assert r.pending_volume == 5.0 and np.isnan(r.sigma)


def test_tick_rule_worked_example():
    assert tick_rule([100, 100.1, 100.1, 100.0, 100.0, 100.2]).tolist() == [0, 1, 1, -1, -1, 1]
    assert tick_rule([5.0, 5.0, 5.0, 4.0]).tolist() == [0, 0, 0, -1]


def test_time_bars():
    # 60 s bars from t = 0: [0,60): trades at 0, 10, 59; [120, 180): 130
    b = time_bars([0, 10, 59, 130], [100.0, 100.5, 99.0, 101.0], [1.0, 2.0, 3.0, 4.0], 60,
                  side=[1, -1, 1, 1])
    assert b.start.tolist() == [0, 120]
    assert b.t.tolist() == [59, 130]
    assert b.price_change.tolist() == [-1.0, 0.0]
    assert b.volume.tolist() == [6.0, 4.0]
    assert b.buy_volume.tolist() == [4.0, 4.0]
    # bars from a float origin
    b2 = time_bars([0.5, 1.5, 2.6], [1.0, 2.0, 3.0], [1.0, 1.0, 1.0], 1.0, origin=0.0)
    assert b2.start.tolist() == [0.0, 1.0, 2.0] and b2.buy_volume is None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.sampled_from([-1, 1])), min_size=1, max_size=80),
       st.integers(1, 400), st.integers(1, 6))
def test_bvc_with_saturated_fractions_equals_exact_path(trades, vbs, n):
    vol = [float(v) for v, _ in trades]
    side = [s for _, s in trades]
    t = np.arange(len(vol))
    exact = vpin(t, vol, vbs, n, side=side)
    # Φ(±1000) is exactly 1.0 / 0.0 in float64: BVC with these price changes classifies as the sides do
    bvc = vpin(t, vol, vbs, n, price_change=[1000.0 * s for s in side], sigma=1.0)
    for a, b in [(exact.buy_volume, bvc.buy_volume), (exact.sell_volume, bvc.sell_volume),
                 (exact.order_imbalance, bvc.order_imbalance), (exact.bucket_end_t, bvc.bucket_end_t)]:
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(exact.vpin, bvc.vpin)
    ref = _reference_buckets(vol, [1.0 if s > 0 else 0.0 for s in side], vbs)
    assert len(ref) == exact.buy_volume.size
    assert exact.buy_volume.tolist() == [b for b, _ in ref]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 500), st.floats(0.5, 500.0), st.integers(1, 20))
def test_vpin_bounds_and_volume_conservation(seed, n_trades, vbs, window):
    rng = np.random.default_rng(seed)
    vol = rng.exponential(10.0, n_trades)
    r = vpin(np.sort(rng.uniform(0, 1e4, n_trades)), vol, vbs, window,
             price_change=rng.normal(0, 1, n_trades))
    v = r.vpin[np.isfinite(r.vpin)]
    assert ((v >= 0) & (v <= 1)).all()
    assert np.isnan(r.vpin[:window - 1]).all()
    assert v.size == max(0, r.order_imbalance.size - window + 1)
    np.testing.assert_allclose(r.buy_volume + r.sell_volume, vbs, rtol=1e-9)
    assert r.buy_volume.size * vbs + r.pending_volume == pytest.approx(vol.sum(), rel=1e-9)
    assert (np.diff(r.bucket_end_t) >= 0).all()


def test_vpin_bad_input():
    with pytest.raises(InvalidSeriesError, match="exactly one of side"):
        vpin([1, 2], [1.0, 1.0], 1.0, 1)
    with pytest.raises(InvalidSeriesError, match="exactly one of side"):
        vpin([1, 2], [1.0, 1.0], 1.0, 1, side=[1, 1], price_change=[0.1, 0.2])
    with pytest.raises(InvalidSeriesError, match="bucket_volume is 0"):
        vpin([1, 2], [1.0, 1.0], 0, 1, side=[1, 1])
    with pytest.raises(InvalidSeriesError, match="window is 0"):
        vpin([1, 2], [1.0, 1.0], 1.0, 0, side=[1, 1])
    with pytest.raises(InvalidSeriesError, match=r"volume\[1\] is -1.0"):
        vpin([1, 2], [1.0, -1.0], 1.0, 1, side=[1, 1])
    with pytest.raises(InvalidSeriesError, match="sigma is 0"):
        vpin([1, 2], [1.0, 1.0], 1.0, 1, price_change=[0.1, 0.1])
    with pytest.raises(InvalidSeriesError, match=r"price_change\[0\] is nan"):
        vpin([1, 2], [1.0, 1.0], 1.0, 1, price_change=[np.nan, 0.1])
    with pytest.raises(InvalidSeriesError, match="t must be non-decreasing"):
        vpin([2, 1], [1.0, 1.0], 1.0, 1, side=[1, 1])
    with pytest.raises(InvalidSeriesError, match="length mismatch"):
        vpin([1, 2], [1.0, 1.0], 1.0, 1, side=[1])
    with pytest.raises(InvalidSeriesError, match="empty"):
        vpin([], [], 1.0, 1, side=[])
    with pytest.raises(InvalidSeriesError, match="bar is 0"):
        time_bars([1], [1.0], [1.0], 0)
    with pytest.raises(InvalidSeriesError, match="origin 5 is after"):
        time_bars([1], [1.0], [1.0], 1, origin=5)


def test_import_liqcore_does_not_import_numba():
    code = ("import sys, liqcore, liqcore.flowstats; assert 'numba' not in sys.modules, 'numba imported'; "
            "liqcore.flowstats.vpin([1], [1.0], 1.0, 1, side=[1]); "
            "assert 'numba' in sys.modules, 'kernel did not use numba'")
    res = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True,
                         timeout=300, cwd=os.path.dirname(__file__) + "/..")
    assert res.returncode == 0, res.stderr
