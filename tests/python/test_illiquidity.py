"""liqcore.flowstats.illiquidity: worked examples of shared/research/analytics.md §4.2-4.4,
re-derived, properties, bad input.

Kyle's lambda [CALC]: S = [120, -80, 50, -200, 10, 150, -60, 30] BTC, r = [6.1, -3.9, 2.2, -10.3, 0.8,
7.4, -2.7, 1.6] bps -> α = 0.0244 bps, λ = 0.050238 bps/BTC, R² = 0.9983; through the origin
λ₀ = Σ S r / Σ S² = 4,542 / 90,400 = 0.050243 (all re-derived below with plain sums).

Amihud [CALC]: R = [1.2%, -0.8%, 2.0%, -1.5%, 0.5%], DVOL = [2.0, 1.5, 3.0, 2.5, 1.0] $bn ->
|R|/DVOL = [6, 5.333, 6.667, 6, 5] e-12 -> mean 5.8e-12 per $ (5.8e-6 per $1M).

Resiliency [CALC]: depth 100 shocked to 40; x = [61.0, 74.6, 88.8, 98.0] at t = [5, 10, 20, 40] s;
y = ln((100 - x)/60); κ = -Σ t y / Σ t² = 0.084878 /s; half-life ln 2/κ = 8.166 s.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.errors import InvalidSeriesError
from liqcore.flowstats import amihud, intervals, kyle_lambda, resiliency

S = [120, -80, 50, -200, 10, 150, -60, 30]
R = [6.1, -3.9, 2.2, -10.3, 0.8, 7.4, -2.7, 1.6]


def test_kyle_lambda_worked_example():
    k = kyle_lambda(R, S)
    assert k.lam == pytest.approx(0.050238, abs=5e-7)
    assert k.alpha == pytest.approx(0.0244, abs=5e-5)
    assert k.r2 == pytest.approx(0.9983, abs=5e-5)
    assert k.lam_origin == pytest.approx(0.050243, abs=5e-7)
    # re-derived with plain sums
    n = len(S)
    sm, rm = sum(S) / n, sum(R) / n
    sxy = sum((s - sm) * (r - rm) for s, r in zip(S, R))
    sxx = sum((s - sm) ** 2 for s in S)
    assert k.lam == pytest.approx(sxy / sxx, rel=1e-12)
    assert k.lam_origin == pytest.approx(sum(s * r for s, r in zip(S, R)) / sum(s * s for s in S), rel=1e-12)
    assert k.n == 8 and 0 < k.lam_stderr < 0.01


def test_amihud_worked_example():
    a = amihud([0.012, -0.008, 0.020, -0.015, 0.005], np.array([2.0, 1.5, 3.0, 2.5, 1.0]) * 1e9)
    assert a.illiq == pytest.approx(5.8e-12, rel=1e-12)
    assert a.illiq_per_million == pytest.approx(5.8e-6, rel=1e-12)
    assert a.n == 5 and a.n_zero_volume == 0
    z = amihud([0.01, 0.02], [0.0, 1e6])
    assert z.illiq == pytest.approx(2e-8) and z.n == 1 and z.n_zero_volume == 1
    assert math.isnan(amihud([0.01], [0.0]).illiq)


def test_resiliency_worked_example():
    r = resiliency([5, 10, 20, 40], [61.0, 74.6, 88.8, 98.0], baseline=100, shocked=40)
    assert r.kappa == pytest.approx(0.084878, abs=5e-7)
    assert r.half_life == pytest.approx(8.166, abs=5e-4)
    assert r.half_life == pytest.approx(math.log(2) / r.kappa)
    assert r.n == 4 and r.n_recovered == 0
    # a spread shock recovers downwards; an overshoot past the baseline is left out
    up = resiliency([1, 2, 3], [6.0, 3.5, 0.9], baseline=1.0, shocked=11.0)
    assert up.n == 2 and up.n_recovered == 1
    y = [math.log(0.5), math.log(0.25)]
    assert up.kappa == pytest.approx(-(1 * y[0] + 2 * y[1]) / 5)


@settings(max_examples=60, deadline=None)
@given(st.floats(-5, 5), st.floats(1e-4, 1.0), st.integers(0, 2**32 - 1))
def test_kyle_lambda_recovers_planted_slope(alpha, lam, seed):
    rng = np.random.default_rng(seed)
    s = rng.normal(0, 100, 2000)
    r = alpha + lam * s + rng.normal(0, 0.01, 2000)
    k = kyle_lambda(r, s)
    assert k.lam == pytest.approx(lam, abs=6 * k.lam_stderr + 1e-12)
    assert k.lam_stderr < 1e-4
    assert k.alpha == pytest.approx(alpha, abs=1e-3)
    assert k.r2 > 0.9 or lam < 1e-3


def test_intervals_from_trades():
    # edges 0, 10, 20, 30; trades: t=1 100 buy 2; t=5 101 sell 1; t=12 102 buy 4; t=25 99 sell 1
    iv = intervals([1, 5, 12, 25], [100.0, 101.0, 102.0, 99.0], [2.0, 1.0, 4.0, 1.0], [0, 10, 20, 30],
                   side=[1, -1, 1, -1])
    assert iv.n_trades.tolist() == [2, 1, 1]
    assert iv.net_volume.tolist() == [1.0, 4.0, -1.0]
    assert iv.dollar_volume.tolist() == [301.0, 408.0, 99.0]
    assert iv.signed_root_dollar == pytest.approx([math.sqrt(200) - math.sqrt(101), math.sqrt(408), -math.sqrt(99)])
    # P before 0: none -> NaN; P before 10 = 101, before 20 = 102, before 30 = 99
    assert math.isnan(iv.returns_bps[0])
    assert iv.returns_bps[1:] == pytest.approx([(102 / 101 - 1) * 1e4, (99 / 102 - 1) * 1e4])
    k = kyle_lambda(iv.returns_bps[1:], iv.net_volume[1:])
    assert k.n == 2 and math.isnan(k.lam_stderr)
    assert intervals([1], [1.0], [1.0], [0, 1]).net_volume is None


def test_bad_input():
    with pytest.raises(InvalidSeriesError, match="signed_flow is constant"):
        kyle_lambda([1.0, 2.0, 3.0], [5.0, 5.0, 5.0])
    with pytest.raises(InvalidSeriesError, match="at least 2 intervals"):
        kyle_lambda([1.0], [1.0])
    with pytest.raises(InvalidSeriesError, match=r"returns\[1\] is nan"):
        kyle_lambda([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(InvalidSeriesError, match="length mismatch"):
        amihud([0.1, 0.2], [1.0])
    with pytest.raises(InvalidSeriesError, match=r"dollar_volume\[0\] is -1.0"):
        amihud([0.1], [-1.0])
    with pytest.raises(InvalidSeriesError, match="no shock"):
        resiliency([1.0], [50.0], 100, 100)
    with pytest.raises(InvalidSeriesError, match="no observation strictly between"):
        resiliency([1.0], [100.0], 100, 40)
    with pytest.raises(InvalidSeriesError, match=r"t\[0\] is 0.0: must be > 0"):
        resiliency([0.0], [50.0], 100, 40)
    with pytest.raises(InvalidSeriesError, match="edges must be increasing"):
        intervals([1], [1.0], [1.0], [2, 1])
    with pytest.raises(InvalidSeriesError, match="baseline: expected a finite number"):
        resiliency([1.0], [50.0], float("nan"), 40)
