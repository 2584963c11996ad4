"""liqcore.alerts.baselines: the worked examples of analytics.md §8 to the printed digits, the
properties of the robust z and the EWMA, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore.alerts import (MAD_TO_SIGMA, EwmaBaseline, baseline_stats, ewma_control_factor, half_life_lambda,
                            median_mad, robust_z)
from liqcore.errors import AlertInputError, LiqError

SPREADS = [1.0, 1.1, 0.9, 1.0, 1.2, 1.0, 0.95, 1.05, 1.1]   # analytics.md §8, the spread baseline


def test_robust_z_worked_example() -> None:
    """median 1.0, MAD 0.05; a print of 4.0 is M = 40.47 (1.4826-scaled 40.469)."""
    assert median_mad(SPREADS) == pytest.approx((1.0, 0.05))
    r = robust_z(4.0, SPREADS)
    assert (r.median, round(r.mad, 10), r.method) == (1.0, 0.05, "mad")
    assert round(r.z, 2) == 40.47
    assert round((4.0 - r.median) / (MAD_TO_SIGMA * r.mad), 3) == 40.469


def test_robust_z_with_the_outlier_in_its_own_baseline() -> None:
    """median 1.025, MAD 0.075, M = 26.755: the outlier widens the scale that judges it."""
    r = robust_z(4.0, SPREADS, include_current=True)
    assert (round(r.median, 10), round(r.mad, 10), round(r.z, 3)) == (1.025, 0.075, 26.755)


def test_mad_zero_falls_back_to_the_mean_absolute_deviation_then_the_floor() -> None:
    base = [1.0] * 6 + [1.5, 2.0, 0.5]            # over half identical: MAD 0
    r = robust_z(3.0, base)
    mean_ad = np.mean(np.abs(np.array(base) - 1.0))
    assert r.method == "mean_ad" and r.mad == 0.0 and r.z == pytest.approx(2.0 / (mean_ad * 1.2533))
    flat = robust_z(1.0 + 1e-9, [1.0] * 5, floor=1e-6)
    assert flat.method == "floor" and flat.z == pytest.approx(1e-3)
    assert robust_z(1.0, [1.0] * 5).z == 0.0


def test_ewma_worked_example() -> None:
    """λ = 0.94, μ₀ = 1.0 (the first value), σ₀² = 0.01: the 1.2 print scores 2.06; before the 4.0
    print μ = 1.01529 and σ = 0.09810, so z = (4 − 1.01529)/0.09810 = 30.43 as printed (the
    unrounded quotient is 30.4246)."""
    b = EwmaBaseline(0.94, mean=SPREADS[0], var=0.01)
    zs = [b.update(x) for x in SPREADS[1:]]
    assert round(zs[3], 2) == 2.06 and max(abs(z) for z in zs) < 3       # the 1.2 print: no alert at 3
    assert (round(b.mean, 5), round(b.std, 5)) == (1.01529, 0.09810)
    assert round((4.0 - round(b.mean, 5)) / round(b.std, 5), 2) == 30.43
    assert round(b.z(4.0), 4) == 30.4246 and b.update(4.0) == pytest.approx(30.4246, abs=1e-4)


def test_ewma_update_scores_against_the_baseline_before_the_value() -> None:
    b = EwmaBaseline(0.5, mean=10.0, var=4.0)
    assert b.update(14.0) == 2.0                      # (14 - 10) / 2, then folded in
    assert b.mean == 12.0 and b.var == pytest.approx(0.5 * 4 + 0.5 * 16)
    seeded = EwmaBaseline(half_life=10)
    assert seeded.update(5.0) is None and seeded.mean == 5.0 and seeded.z(6.0) is None   # no variance yet
    assert seeded.update(6.0) is None and seeded.var > 0 and seeded.z(6.0) is not None


def test_half_life_and_control_chart_factors() -> None:
    """λ = 0.2, L = 3: 0.600 (i = 1), 0.768 (i = 2), 0.945 (i = 5), 1.000 (steady state)."""
    assert [round(ewma_control_factor(0.2, 3, i), 3) for i in (1, 2, 5)] == [0.600, 0.768, 0.945]
    assert round(ewma_control_factor(0.2, 3), 3) == 1.000
    assert half_life_lambda(1) == 0.5 and half_life_lambda(10) ** 10 == pytest.approx(0.5)


def test_baseline_stats() -> None:
    s = baseline_stats(SPREADS)
    assert (s.count, s.median, round(s.mad, 10), s.low, s.high) == (9, 1.0, 0.05, 0.9, 1.2)
    assert s.mean == pytest.approx(np.mean(SPREADS)) and s.std == pytest.approx(np.std(SPREADS, ddof=1))
    assert baseline_stats([3.0]).std == 0.0


# multiples of 1/64 shifted by integers and scaled by powers of two stay exact in binary floating
# point, so the equivariance is checked without rounding (a shift of 1.0 would erase 1e-82)
_sixty_fourths = st.integers(-2**30, 2**30).map(lambda i: i / 64)


@settings(max_examples=200, deadline=None)
@given(st.lists(_sixty_fourths, min_size=1, max_size=50), _sixty_fourths, st.integers(-1000, 1000),
       st.sampled_from([0.25, 0.5, 2.0, 8.0, 1024.0]))
def test_robust_z_is_equivariant_and_monotone(base, x, shift, scale) -> None:
    """Shifting and scaling the data leaves z unchanged; a larger x never has a smaller z."""
    r = robust_z(x, base)
    moved = robust_z(x * scale + shift, [b * scale + shift for b in base], floor=1e-12 * scale)
    if r.method != "floor":
        assert moved.z == pytest.approx(r.z, rel=1e-12, abs=1e-12)
    assert robust_z(x + 1.0, base).z >= r.z


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=40), st.floats(0.01, 0.99))
def test_ewma_matches_the_closed_form_weights(values, lam) -> None:
    """The running mean equals λⁿμ₀ + (1−λ)Σλ^(n−k)x_k (a plain reference)."""
    b = EwmaBaseline(lam, mean=values[0], var=1.0)
    for v in values[1:]:
        b.update(v)
    n = len(values) - 1
    ref = lam ** n * values[0] + (1 - lam) * sum(lam ** (n - k) * v for k, v in enumerate(values[1:], 1))
    assert b.mean == pytest.approx(ref, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("call, match", [
    (lambda: robust_z(1.0, []), "baseline is empty"),
    (lambda: robust_z(1.0, [1.0, math.nan]), "baseline"),
    (lambda: robust_z(math.inf, [1.0]), "x"),
    (lambda: robust_z(1.0, [[1.0], [2.0]]), "baseline"),
    (lambda: robust_z(1.0, ["1", "2"]), "baseline"),
    (lambda: robust_z(1.0, [1.0], floor=0.0), "floor"),
    (lambda: EwmaBaseline(1.0), "lam"),
    (lambda: EwmaBaseline(0.0), "lam"),
    (lambda: EwmaBaseline(None), "lam"),
    (lambda: EwmaBaseline(half_life=0), "half_life"),
    (lambda: EwmaBaseline(0.9, var=-1.0), "var"),
    (lambda: EwmaBaseline(0.9, mean=math.nan), "mean"),
    (lambda: EwmaBaseline(0.9).update(math.nan), "x"),
    (lambda: EwmaBaseline(0.9).update("1"), "x"),
    (lambda: ewma_control_factor(0.2, 3, 0), "i"),
    (lambda: ewma_control_factor(1.5), "lam"),
    (lambda: half_life_lambda(-1), "half_life"),
])
def test_bad_input_is_refused_naming_it(call, match: str) -> None:
    with pytest.raises(AlertInputError, match=match) as e:
        call()
    assert isinstance(e.value, LiqError) and isinstance(e.value, ValueError)


def test_a_refused_value_leaves_the_baseline_unchanged() -> None:
    b = EwmaBaseline(0.9, mean=1.0, var=1.0)
    with pytest.raises(AlertInputError):
        b.update(math.inf)
    assert (b.mean, b.var, b.count) == (1.0, 1.0, 0)
