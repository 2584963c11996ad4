"""liqcore.flowstats.spreads: worked example of shared/research/analytics.md §4.1, a time-weighted
example by hand, properties against a direct reference, and bad input.

§4.1 example (re-derived): bid 100.00, ask 100.10 -> M = 100.05; buy at 100.06; mid 5 min later
100.09.
  quoted    = 0.10 / 100.05            = 9.995 bps
  effective = 2 (100.06 - 100.05) / 100.05 = 1.999 bps
  realized  = 2 (100.06 - 100.09) / 100.05 = -5.997 bps
  impact    = 2 (100.09 - 100.05) / 100.05 = 7.996 bps      (1.999 = -5.997 + 7.996)

Time-weighted example: quotes at t = 0, 10, 20 with spreads 0.1, 0.2, 0.3 (bid 100); windows
[5, 15), [15, 25), [25, 30), [-10, 5):
  [5, 15):  0.1 for 5 + 0.2 for 5        -> 0.15
  [15, 25): 0.2 for 5 + 0.3 for 5        -> 0.25
  [25, 30): 0.3 (the last quote holds)   -> 0.30
  [-10, 5): only [0, 5) covered, 0.1     -> 0.10, covered 5
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.errors import InvalidSeriesError, LiqError
from liqcore.flowstats import quoted_spread, time_weighted_spread, trade_spreads


def test_quoted_spread_worked_example():
    q = quoted_spread([100.00, 99.5], [100.10, 100.0])
    assert q.bps[0] == pytest.approx(9.995, abs=5e-4)
    assert q.bps[0] == pytest.approx(0.10 / 100.05 * 1e4, rel=1e-12)
    assert q.spread == pytest.approx([0.10, 0.5])
    assert q.mid == pytest.approx([100.05, 99.75])
    # BOOK-A: spread 0.5 = 50.125 bps of mid 99.75
    assert q.bps[1] == pytest.approx(50.125, abs=5e-4)


def test_trade_spreads_worked_example():
    # quote at t=0 (100.00/100.10); the trade at t=1; 5 min (300 s) later the mid is 100.09
    s = trade_spreads(t=[1.0], price=[100.06], size=[2.0], side=[1],
                      quote_t=[0.0, 150.0, 301.0], bid=[100.00, 100.04, 100.08],
                      ask=[100.10, 100.12, 100.10], horizons=[300.0])
    assert s.mid[0] == pytest.approx(100.05)
    assert s.quoted_bps[0] == pytest.approx(9.995, abs=5e-4)
    assert s.effective_bps[0] == pytest.approx(1.999, abs=5e-4)
    assert s.mid_after[0, 0] == pytest.approx(100.09)  # t + 300 = 301: the quote at 301 counts
    # a quote after t + 300 does not count; the last quote holds to quote_end
    s5 = trade_spreads([1.0], [100.06], [2.0], [1], [0.0, 300.0, 302.0], [100.00, 100.08, 100.0],
                       [100.10, 100.10, 100.2], 300.0)
    assert s5.mid_after[0, 0] == pytest.approx(100.09)
    s5 = trade_spreads([1.0], [100.06], [2.0], [1], [0.0, 300.0], [100.00, 100.08],
                       [100.10, 100.10], 300.0, quote_end=400.0)
    assert s5.mid_after[0, 0] == pytest.approx(100.09)
    assert s5.realized_bps[0, 0] == pytest.approx(-5.997, abs=5e-4)
    assert s5.impact_bps[0, 0] == pytest.approx(7.996, abs=5e-4)
    assert s5.effective_bps[0] == pytest.approx(s5.realized_bps[0, 0] + s5.impact_bps[0, 0], rel=1e-14)
    assert s5.effective_bps_mean == pytest.approx(1.999, abs=5e-4)
    assert s5.effective_over_quoted == pytest.approx(1.999 / 9.995, rel=1e-3)


def test_trade_spreads_sell_and_weighting_and_several_horizons():
    # mid 100 throughout [0, 10), then 101 from t = 10
    qt, bid, ask = [0.0, 10.0], [99.9, 100.9], [100.1, 101.1]
    s = trade_spreads([1.0, 2.0], [100.05, 99.98], [1.0, 3.0], [1, -1], qt, bid, ask, [1.0, 9.0],
                      quote_end=20.0)
    assert s.effective_bps == pytest.approx([10.0, 4.0])  # 2*0.05/100, 2*0.02/100
    # horizon 1: mid unchanged -> realized = effective, impact 0
    assert s.realized_bps[:, 0] == pytest.approx([10.0, 4.0])
    assert s.impact_bps[:, 0] == pytest.approx([0.0, 0.0], abs=1e-12)
    # horizon 9: t+9 = 10 (trade 0, mid 100 -> 101 counted) and 11 (trade 1)
    assert s.impact_bps[:, 1] == pytest.approx([200.0, -200.0])
    assert s.realized_bps[:, 1] == pytest.approx([-190.0, 204.0])
    # size weighting 1 : 3
    assert s.effective_bps_mean == pytest.approx((10.0 + 3 * 4.0) / 4)
    assert s.impact_bps_mean == pytest.approx([0.0, (200.0 - 600.0) / 4])


def test_trade_without_prior_quote_or_horizon_beyond_data_is_nan_and_excluded():
    s = trade_spreads([0.0, 1.0, 5.0], [100.0, 100.05, 100.05], [1.0, 1.0, 1.0], [1, 1, 1],
                      [0.0, 2.0], [99.9, 99.9], [100.1, 100.1], [1.0, 10.0])
    # the trade at t=0 has no quote stamped strictly before it
    assert np.isnan(s.mid[0]) and np.isnan(s.effective_bps[0]) and np.isnan(s.realized_bps[0]).all()
    assert s.effective_bps[1:] == pytest.approx([10.0, 10.0])
    # t + 10 is after the last quote (t = 2): unknown
    assert np.isnan(s.mid_after[1:, 1]).all()
    assert np.isnan(s.mid_after[2, 0]) and s.mid_after[1, 0] == pytest.approx(100.0)
    assert np.isnan(s.realized_bps_mean[1]) and s.realized_bps_mean[0] == pytest.approx(10.0)


def test_integer_nanosecond_times():
    ns = 1_700_000_000_000_000_000
    s = trade_spreads(np.array([ns + 1], dtype=np.int64), [100.06], [1.0], [1],
                      np.array([ns, ns + 300_000_000_000], dtype=np.int64), [100.0, 100.08],
                      [100.1, 100.1], np.array([300_000_000_000]), quote_end=ns + 10**12)
    assert s.realized_bps[0, 0] == pytest.approx(-5.997, abs=5e-4)
    tw = time_weighted_spread(np.array([ns, ns + 10], dtype=np.int64), [100.0, 100.0], [100.1, 100.3],
                              np.array([ns + 5, ns + 15], dtype=np.int64))
    assert tw.spread[0] == pytest.approx(0.2)  # 0.1 for 5 ns, 0.3 for 5 ns


def test_time_weighted_worked_example():
    tw = time_weighted_spread([0.0, 10.0, 20.0], [100.0, 100.0, 100.0], [100.1, 100.2, 100.3],
                              [-10.0, 5.0, 15.0, 25.0, 30.0])
    assert tw.spread == pytest.approx([0.1, 0.15, 0.25, 0.3])
    assert tw.covered == pytest.approx([5.0, 10.0, 10.0, 5.0])
    assert tw.bps[1] == pytest.approx((0.1 / 100.05 + 0.2 / 100.1) / 2 * 1e4)
    none = time_weighted_spread([10.0], [1.0], [2.0], [0.0, 10.0])
    assert np.isnan(none.spread[0]) and none.covered[0] == 0.0


def _reference_tw(t, s, a, b):
    """Integral of the step function by brute force over all breakpoints."""
    pts = sorted({a, b, *[x for x in t if a < x < b]})
    num = cov = 0.0
    for lo, hi in zip(pts[:-1], pts[1:]):
        idx = [i for i, x in enumerate(t) if x <= lo]
        if idx:
            num += s[idx[-1]] * (hi - lo)
            cov += hi - lo
    return (num / cov if cov else float("nan")), cov


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=30),
       st.lists(st.integers(-10, 70), min_size=2, max_size=8, unique=True),
       st.randoms(use_true_random=False))
def test_time_weighted_matches_brute_force(ts, edges, rnd):
    t = sorted(float(x) for x in ts)
    spread = [rnd.randint(1, 9) / 10 for _ in t]
    e = sorted(float(x) for x in edges)
    tw = time_weighted_spread(t, [100.0] * len(t), [100.0 + x for x in spread], e)
    for w in range(len(e) - 1):
        ref, cov = _reference_tw(t, spread, e[w], e[w + 1])
        assert tw.covered[w] == pytest.approx(cov)
        if cov:
            assert tw.spread[w] == pytest.approx(ref)
        else:
            assert np.isnan(tw.spread[w])


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_effective_equals_realized_plus_impact(n, seed):
    rng = np.random.default_rng(seed)
    qt = np.sort(rng.uniform(0, 100, 50))
    mid = 100 + np.cumsum(rng.normal(0, 0.05, 50))
    half = rng.uniform(0.005, 0.05, 50)
    t = np.sort(rng.uniform(0, 100, n))
    s = trade_spreads(t, mid[0] + rng.normal(0, 0.1, n), rng.uniform(0.1, 2, n),
                      rng.choice([-1, 1], n), qt, mid - half, mid + half, [0.0, 0.5, 5.0, 50.0])
    ok = np.isfinite(s.realized_bps)
    total = (s.realized_bps + s.impact_bps)[ok]
    eff = np.broadcast_to(s.effective_bps[:, None], ok.shape)[ok]
    scale = np.maximum(np.abs(s.realized_bps[ok]), np.abs(s.impact_bps[ok])) + 1.0
    assert (np.abs(total - eff) <= 8 * np.finfo(float).eps * scale).all()


@pytest.mark.parametrize("kwargs, match", [
    (dict(bid=[], ask=[]), "empty"),
    (dict(bid=[100.0, np.nan], ask=[101.0, 101.0]), r"bid\[1\] is nan"),
    (dict(bid=[100.0, 100.0], ask=[101.0]), "length mismatch"),
    (dict(bid=[100.0], ask=[99.0]), "crossed quote at index 0"),
    (dict(bid=[0.0], ask=[1.0]), "must be > 0"),
    (dict(bid=[[1.0]], ask=[[2.0]]), "1-D"),
    (dict(bid=["a"], ask=["b"]), "numeric"),
])
def test_quoted_bad_input(kwargs, match):
    with pytest.raises(InvalidSeriesError, match=match) as ei:
        quoted_spread(**kwargs)
    assert isinstance(ei.value, ValueError) and isinstance(ei.value, LiqError)


def test_time_and_trade_bad_input():
    with pytest.raises(InvalidSeriesError, match=r"t must be non-decreasing: t\[2\]"):
        time_weighted_spread([0, 2, 1], [1, 1, 1], [2, 2, 2], [0, 5])
    with pytest.raises(InvalidSeriesError, match="edges must be increasing"):
        time_weighted_spread([0], [1], [2], [0, 0])
    with pytest.raises(InvalidSeriesError, match="at least 2 boundaries"):
        time_weighted_spread([0], [1], [2], [0])
    q = dict(quote_t=[0.0], bid=[99.0], ask=[101.0])
    with pytest.raises(InvalidSeriesError, match=r"side\[0\] is 0.0"):
        trade_spreads([1.0], [100.0], [1.0], [0], horizons=[1.0], **q)
    with pytest.raises(InvalidSeriesError, match=r"horizons\[0\] is -1.0"):
        trade_spreads([1.0], [100.0], [1.0], [1], horizons=[-1.0], **q)
    with pytest.raises(InvalidSeriesError, match="length mismatch: t has 1 elements, size has 2"):
        trade_spreads([1.0], [100.0], [1.0, 2.0], [1], horizons=1.0, **q)
    with pytest.raises(InvalidSeriesError, match=r"quote_t must be non-decreasing"):
        trade_spreads([1.0], [100.0], [1.0], [1], [1.0, 0.0], [99, 99], [101, 101], 1.0)
    with pytest.raises(InvalidSeriesError, match="quote_end -1.0 is before the last quote time 0.0"):
        trade_spreads([1.0], [100.0], [1.0], [1], horizons=1.0, quote_end=-1.0, **q)
    with pytest.raises(InvalidSeriesError, match=r"price\[0\] is inf"):
        trade_spreads([1.0], [np.inf], [1.0], [1], horizons=1.0, **q)
